// `capos bench wasm`: compiles the AssemblyScript benchmarks under bench/wasm
// with asc, then reports (1) compile speed of the wasm → x86-64 compiler in MB
// of wasm per second, (2) guest x86 instructions retired per wasm instruction
// executed, (3) emulator run time next to V8 running the same wasm.
// Counting: the x86 figure is the CPU's retired-instruction counter over the
// call; the wasm figure comes from a second, instrumented compile that adds
// each straight-line run's length to a counter (same results are checked).
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compileModule } from "../toolchain/wasm/compile-module.js";
import type { TargetFeatures } from "../toolchain/wasm/context.js";
import { Instantiator } from "../toolchain/wasm/spec/instance.js";
import { SpecMachine } from "../toolchain/wasm/spec/machine.js";
import { templateCount } from "../toolchain/wasm/x64-writer.js";

/** The benchmarks and the argument each is run with (sized for ~1 s in the emulator). */
export const WASM_BENCHMARKS: readonly { name: string; what: string; n: number }[] = [
  { name: "loops", what: "integer loops", n: 30000 },
  { name: "memcopy", what: "memory copies", n: 100 },
  { name: "hash", what: "hashing (FNV-1a, 64-bit mix)", n: 60 },
  { name: "interp", what: "a small bytecode interpreter", n: 3000 },
  { name: "sort", what: "sorting (quicksort)", n: 16384 },
  { name: "floats", what: "float math (Mandelbrot, integration, Math library)", n: 300 },
  { name: "ints", what: "64-bit integer arithmetic and mixed-width memory access", n: 3000 },
];

const COUNTER = "__wasm_op_count";

export async function compileBenchmark(name: string, root = resolve("bench/wasm")): Promise<Uint8Array> {
  const src = readFileSync(join(root, `${name}.ts`), "utf8");
  const r = await asc.compileString({ [`${name}.ts`]: src }, { optimizeLevel: 3, shrinkLevel: 0, runtime: "stub", noAssert: true, use: ["abort="] } as never);
  if (r.error || r.binary === null) throw new Error(`asc failed for ${name}: ${r.stderr.toString()}`);
  return r.binary;
}

export interface BenchRow {
  name: string;
  wasmBytes: number;
  x86: number;
  wasmOps: number;
  emuMs: number;
  v8Ms: number;
  result: number;
}

/** Runs one benchmark in the emulator (plain, then instrumented) and in V8. */
export function runBenchmark(machine: SpecMachine, bytes: Uint8Array, n: number, features: TargetFeatures): BenchRow & { agree: boolean } {
  const inst = new Instantiator(machine, "user");
  // Plain run: x86 instructions and time.
  inst.reset();
  const plain = inst.instantiate(inst.compile(bytes, { features }));
  const before = machine.cpu.icount;
  const t0 = performance.now();
  const out = inst.invoke(plain, "run", [{ lo: n, hi: 0 }]);
  const emuMs = performance.now() - t0;
  const x86 = machine.cpu.icount - before;
  if (out.kind !== "return") throw new Error(`benchmark did not return: ${JSON.stringify(out)}`);
  // Instrumented run: wasm instructions.
  inst.reset();
  machine.space.define(COUNTER, machine.hostCell(8), "bench");
  const counted = inst.instantiate(inst.compile(bytes, { features, countOpsSymbol: COUNTER }));
  const out2 = inst.invoke(counted, "run", [{ lo: n, hi: 0 }]);
  const cell = machine.space.lookup(COUNTER)!;
  const wasmOps = (machine.readShared32(cell) >>> 0) + (machine.readShared32(cell + 4) >>> 0) * 4294967296;
  // V8.
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
  const run = v8.exports.run as (n: number) => number;
  run(Math.min(n, 10));
  const t1 = performance.now();
  const v8Result = run(n);
  const v8Ms = performance.now() - t1;
  const result = out.results[0]!.lo;
  const agree = out2.kind === "return" && out2.results[0]!.lo === result && (v8Result | 0) === result;
  return { name: "", wasmBytes: bytes.length, x86, wasmOps, emuMs, v8Ms, result, agree };
}

/** Compile speed over a set of modules: MB of wasm per second (after a warm-up pass). */
export function compileSpeed(modules: Uint8Array[], features: TargetFeatures, minMs = 1000): { mbPerSec: number; codeBytes: number; wasmBytes: number } {
  for (const m of modules) compileModule(m, { features });
  let bytes = 0, code = 0, rounds = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || rounds === 0) {
    for (const m of modules) {
      const c = compileModule(m, { features });
      bytes += m.length;
      code += c.stats.codeBytes;
    }
    rounds++;
  }
  const sec = (performance.now() - t0) / 1000;
  return { mbPerSec: bytes / sec / 1e6, codeBytes: code / rounds, wasmBytes: bytes / rounds };
}

export async function benchWasm(opts: { only?: string; features: TargetFeatures }): Promise<void> {
  const wanted = opts.only === undefined ? null : new Set(opts.only.split(","));
  const list = WASM_BENCHMARKS.filter((b) => wanted === null || wanted.has(b.name));
  const out = (s: string) => process.stdout.write(s + "\n");
  const binaries: Uint8Array[] = [];
  for (const b of list) binaries.push(await compileBenchmark(b.name));
  // The spec suite's modules make a larger, more varied corpus for compile speed when present.
  const speed = compileSpeed(binaries, opts.features);
  out(`compile speed: ${speed.mbPerSec.toFixed(2)} MB of wasm/s (benchmark modules, ${speed.wasmBytes} bytes of wasm → ${speed.codeBytes} bytes of x86; ${templateCount()} instruction shapes cached)`);
  out("");
  out("benchmark   wasm ops       x86 insns      x86/wasm   emulator ms   V8 ms    result");
  const machine = new SpecMachine();
  let sumRatio = 0, totalX86 = 0, totalOps = 0, totalMs = 0, totalV8 = 0;
  for (let k = 0; k < list.length; k++) {
    const b = list[k]!;
    const row = runBenchmark(machine, binaries[k]!, b.n, opts.features);
    const ratio = row.x86 / row.wasmOps;
    sumRatio += ratio;
    totalX86 += row.x86;
    totalOps += row.wasmOps;
    totalMs += row.emuMs;
    totalV8 += row.v8Ms;
    out(`${b.name.padEnd(10)} ${String(row.wasmOps).padStart(12)} ${String(row.x86).padStart(14)} ${ratio.toFixed(2).padStart(10)} ${row.emuMs.toFixed(0).padStart(13)} ${row.v8Ms.toFixed(1).padStart(7)}    ${row.result}${row.agree ? "" : "  MISMATCH with V8"}`);
  }
  out("");
  out(`x86 instructions per wasm instruction: ${(sumRatio / list.length).toFixed(2)} (mean of benchmarks), ${(totalX86 / totalOps).toFixed(2)} (overall)`);
  out(`emulator: ${(totalMs / 1000).toFixed(2)} s at ${(totalX86 / 1000 / totalMs).toFixed(1)} MIPS; V8: ${(totalV8 / 1000).toFixed(3)} s (${(totalMs / totalV8).toFixed(0)}x faster)`);
}
