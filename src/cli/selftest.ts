// `capos selftest cpu`: runs conformance vectors and prints a line per file and a total.
import { ConformanceRunner, summaryLine } from "../emulator/cpu/conformance.js";
import { loadVectorFiles, sharedDir } from "./vectors.js";
import { join } from "node:path";

export interface SelftestOptions {
  vectors?: string;
  verbose?: boolean;
  filter?: string;
  maxFailures?: string;
}

export function selftestCpu(opts: SelftestOptions): number {
  let path = opts.vectors;
  if (!path) {
    const shared = sharedDir();
    if (!shared) {
      process.stderr.write("capos selftest cpu: no --vectors given and ../shared/conformance/x86-64 not found\n");
      return 2;
    }
    path = join(shared, "conformance/x86-64");
  }
  const runner = new ConformanceRunner();
  const maxShown = opts.maxFailures ? Number(opts.maxFailures) : 20;
  let passed = 0;
  let failed = 0;
  let shown = 0;
  for (const file of loadVectorFiles(path)) {
    let p = 0;
    let f = 0;
    for (const v of file.vectors) {
      if (opts.filter && !v.id.startsWith(opts.filter)) continue;
      const r = runner.run(v);
      if (r.pass) p++;
      else {
        f++;
        if (opts.verbose || shown < maxShown) {
          shown++;
          process.stdout.write(`FAIL ${v.id}  ${v.asm}  [${v.code}]\n    ${r.diffs.join("\n    ")}\n`);
        }
      }
    }
    passed += p;
    failed += f;
    process.stdout.write(`${file.name}: ${summaryLine(p, f)}\n`);
  }
  process.stdout.write(summaryLine(passed, failed) + "\n");
  return failed === 0 ? 0 : 1;
}
