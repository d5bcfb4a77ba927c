// `capos selftest asm --vectors <file|dir>`: checks the assembler and the
// disassembler against conformance vectors (see toolchain/x64/selftest.ts) and
// ends with "N passed, M failed".
import type { Command } from "commander";
import { join } from "node:path";
import { checkAsmVector, summarize, type AsmVectorCheck } from "../toolchain/x64/selftest.js";
import { loadVectorFiles, sharedDir } from "./vectors.js";

export interface SelftestAsmOptions {
  vectors?: string;
  filter?: string;
  maxFailures?: string;
  verbose?: boolean;
}

export function selftestAsm(opts: SelftestAsmOptions, write: (s: string) => void = (s) => process.stdout.write(s)): number {
  let path = opts.vectors;
  if (!path) {
    const shared = sharedDir();
    if (!shared) {
      process.stderr.write("capos selftest asm: no --vectors given and ../shared/conformance/x86-64 not found\n");
      return 2;
    }
    path = join(shared, "conformance/x86-64");
  }
  const maxShown = Number(opts.maxFailures ?? "20");
  const all: AsmVectorCheck[] = [];
  let shown = 0;
  for (const file of loadVectorFiles(path)) {
    const checks: AsmVectorCheck[] = [];
    for (const v of file.vectors) {
      if (opts.filter && !v.id.startsWith(opts.filter)) continue;
      const c = checkAsmVector(v);
      checks.push(c);
      if (!(c.asmPass && c.disasmPass) && (opts.verbose || shown < maxShown)) {
        shown++;
        write(`FAIL ${c.id}  ${v.asm}  [${v.code}]\n    ${c.problems.join("\n    ")}\n`);
      }
    }
    const s = summarize(checks);
    write(`${file.name}: ${s.passed} passed, ${s.failed} failed (byte-identical ${s.identical}/${s.total})\n`);
    all.push(...checks);
  }
  const s = summarize(all);
  const share = s.total === 0 ? 0 : (100 * s.identical) / s.total;
  write(`assembler: ${s.total - s.asmFailures}/${s.total} same instruction, ${s.identical} byte-identical (${share.toFixed(1)}%); disassembler: ${s.total - s.disasmFailures}/${s.total} match the vector text\n`);
  write(`${s.passed} passed, ${s.failed} failed\n`);
  return s.failed === 0 ? 0 : 1;
}

export function registerSelftestAsmCommand(selftest: Command): void {
  selftest
    .command("asm")
    .description("check the assembler and disassembler on x86-64 conformance vectors (JSONL file or directory)")
    .option("--vectors <path>", "vector file or directory (default: ../shared/conformance/x86-64)")
    .option("--filter <prefix>", "only vectors whose id starts with this prefix")
    .option("--max-failures <n>", "how many failures to print in detail", "20")
    .option("-v, --verbose", "print every failure")
    .action((opts: SelftestAsmOptions) => {
      process.exitCode = selftestAsm(opts);
    });
}
