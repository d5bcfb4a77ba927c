// `capos selftest wasm`, `capos wasm2elf` and `capos bench wasm`: the
// WebAssembly → x86-64 toolchain on the command line.
import type { Command } from "commander";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { wasmToKernelElf } from "../toolchain/link/kernel-image.js";
import { wasmToUserElf } from "../toolchain/link/user-image.js";
import { BASELINE_FEATURES, FULL_FEATURES, type MemoryModel, type TargetFeatures } from "../toolchain/wasm/context.js";
import { SpecRunner, specSummary, type SpecFileResult } from "../toolchain/wasm/spec/runner.js";

function features(name: string | undefined): TargetFeatures {
  if (name === undefined || name === "baseline") return BASELINE_FEATURES;
  if (name === "full") return FULL_FEATURES;
  throw new Error(`unknown feature set "${name}" (baseline or full)`);
}

/** Spec script names in a directory (folders holding <name>/<name>.json). */
export function specScripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, `${d.name}.json`)))
    .map((d) => d.name)
    .sort();
}

/** Runs spec scripts from `dir`; returns per-file results. */
export function runSpecDir(dir: string, names: string[], model: MemoryModel): SpecFileResult[] {
  const runner = new SpecRunner({ memoryModel: model });
  return names.map((name) => {
    const script = JSON.parse(readFileSync(join(dir, name, `${name}.json`), "utf8"));
    return runner.run(script, name, (f) => new Uint8Array(readFileSync(join(dir, name, f))));
  });
}

function selftestWasm(opts: { spec?: string; model: string; filter?: string; maxFailures: string; verbose?: boolean }): number {
  const dir = resolve(opts.spec ?? "../shared/wasm-spec");
  if (!existsSync(dir)) throw new Error(`spec directory ${dir} not found (use --spec <dir>)`);
  const model = opts.model as MemoryModel;
  if (model !== "user" && model !== "kernel" && model !== "checked") throw new Error(`unknown memory model "${opts.model}"`);
  let names = specScripts(dir);
  if (opts.filter !== undefined) {
    const wanted = new Set(opts.filter.split(","));
    names = names.filter((n) => wanted.has(n));
  }
  const start = performance.now();
  const results = runSpecDir(dir, names, model);
  let shown = 0;
  const limit = opts.verbose ? Infinity : Number(opts.maxFailures);
  for (const r of results) {
    process.stdout.write(`${r.file}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} text-format modules skipped` : ""}\n`);
    for (const f of r.failures) {
      if (shown++ < limit) process.stdout.write(`  ${f}\n`);
    }
  }
  process.stderr.write(`(${names.length} files, memory model ${model}, ${((performance.now() - start) / 1000).toFixed(1)} s)\n`);
  process.stdout.write(`${specSummary(results)}\n`);
  return results.some((r) => r.failed > 0) ? 1 : 0;
}

function wasm2elf(input: string, opts: { output: string; kernel?: boolean; user?: boolean; entry?: string; map?: string; features?: string }): void {
  if (opts.kernel && opts.user) throw new Error("choose one of --kernel and --user");
  const wasm = new Uint8Array(readFileSync(input));
  const f = features(opts.features);
  const out = opts.kernel
    ? wasmToKernelElf(wasm, { features: f, ...(opts.entry !== undefined ? { entry: opts.entry } : {}) })
    : wasmToUserElf(wasm, { features: f, ...(opts.entry !== undefined ? { entry: opts.entry } : {}) });
  writeFileSync(opts.output, out.elf);
  const mapFile = opts.map ?? `${opts.output}.map`;
  writeFileSync(mapFile, out.symbolMap);
  process.stdout.write(`${opts.output}: ${out.elf.length} bytes, entry 0x${out.entry.toString(16)}; symbol map ${mapFile}\n`);
}

export function registerWasmCommands(program: Command, selftest: Command, bench: Command): void {
  selftest
    .command("wasm")
    .description("run the WebAssembly spec tests (wast2json format) through compile + emulate")
    .option("--spec <dir>", "spec test directory (default: ../shared/wasm-spec)")
    .option("--model <model>", "linear-memory model: user, kernel or checked", "user")
    .option("--filter <names>", "comma-separated script names")
    .option("--max-failures <n>", "how many failures to print in detail", "30")
    .option("-v, --verbose", "print every failure")
    .action((opts) => {
      process.exitCode = selftestWasm(opts);
    });
  program
    .command("wasm2elf")
    .description("compile a wasm module and link it into an ELF64 executable (user program or Multiboot kernel)")
    .argument("<in.wasm>")
    .requiredOption("-o, --output <out.elf>", "output file")
    .option("--kernel", "a Multiboot kernel image (kernel memory model, identity-mapped code at 1 MiB)")
    .option("--user", "a user program (default: linear memory at virtual address 0)")
    .option("--entry <export>", "export called after initialisation (user default _start; kernel default kmain)")
    .option("--map <file>", "symbol map output (default <out.elf>.map)")
    .option("--features <set>", "CPU features the code may use: baseline (SSE2) or full", "baseline")
    .action((input: string, opts) => wasm2elf(input, opts));
  bench
    .command("wasm")
    .description("compile and run the AssemblyScript benchmarks: compile speed, x86 instructions per wasm instruction, time vs V8")
    .option("--only <names>", "comma-separated benchmark names")
    .option("--features <set>", "baseline or full", "baseline")
    .action(async (opts) => {
      const { benchWasm } = await import("./bench-wasm.js");
      await benchWasm({ only: opts.only, features: features(opts.features) });
    });
}
