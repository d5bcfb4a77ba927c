// Differential tests: the same wasm run by V8 (Node's WebAssembly) and by
// compile + emulate must agree on results, traps, memory and globals. Inputs
// are randomly generated modules (tests/helpers/wasm-gen.ts) and AssemblyScript
// programs (the benchmarks and tests/wasm-fixtures), compiled by asc.
import { describe, expect, it } from "vitest";
import { generateModule, randomArgs } from "./helpers/wasm-gen.js";
import { Instantiator } from "../src/toolchain/wasm/spec/instance.js";
import { SpecMachine } from "../src/toolchain/wasm/spec/machine.js";
import { BASELINE_FEATURES, FULL_FEATURES, type MemoryModel } from "../src/toolchain/wasm/context.js";
import { compileBenchmark, runBenchmark, WASM_BENCHMARKS } from "../src/cli/bench-wasm.js";
import { resolve } from "node:path";

const machine = new SpecMachine();

function toUnsigned(v: unknown): string {
  if (typeof v === "bigint") return BigInt.asUintN(64, v).toString();
  if (typeof v === "number") return (v >>> 0).toString();
  if (Array.isArray(v)) return v.map(toUnsigned).join(",");
  return String(v);
}

/** Runs every entry of one generated module in both engines; returns the first difference, or null. */
function compareModule(seed: number, model: MemoryModel): { calls: number; traps: number; diff: string | null } {
  const g = generateModule(seed);
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(g.bytes as Uint8Array<ArrayBuffer>), {});
  const inst = new Instantiator(machine, model);
  inst.reset();
  const ours = inst.instantiate(inst.compile(g.bytes));
  let calls = 0, traps = 0;
  for (const [k, e] of g.entries.entries()) {
    const a = randomArgs(seed * 100 + k, e.params);
    let expected: string;
    try {
      expected = `returns ${toUnsigned((v8.exports[e.name] as (...x: unknown[]) => unknown)(...a.js))}`;
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      expected = "traps";
      traps++;
    }
    calls++;
    const o = inst.invoke(ours, e.name, a.bits);
    let got: string;
    if (o.kind === "return") {
      const vals = o.results.map((b, j) => (e.results[j] === 0x7e ? ((BigInt(b.hi >>> 0) << 32n) | BigInt(b.lo >>> 0)).toString() : (b.lo >>> 0).toString()));
      got = `returns ${vals.length === 0 ? "undefined" : vals.join(",")}`;
    } else if (o.kind === "trap" || o.kind === "oob") {
      got = "traps";
    } else {
      got = `crashes (${o.message})`;
    }
    if (got !== expected) return { calls, traps, diff: `seed ${seed} ${e.name}: V8 ${expected}, emulator ${got}` };
    const m1 = new Uint8Array((v8.exports.memory as WebAssembly.Memory).buffer);
    const m2 = ours.memory!.read(0, m1.length);
    for (let i = 0; i < m1.length; i++) {
      if (m1[i] !== m2[i]) return { calls, traps, diff: `seed ${seed} ${e.name}: memory differs at ${i} (${m1[i]} vs ${m2[i]})` };
    }
    for (let gi = 0; gi < 5; gi++) {
      const want = (v8.exports[`g${gi}`] as WebAssembly.Global).value as number | bigint;
      const have = inst.getGlobal(ours, `g${gi}`)!;
      const d = new DataView(new ArrayBuffer(8));
      d.setInt32(0, have.bits.lo, true);
      d.setInt32(4, have.bits.hi, true);
      const value = have.type === 0 ? have.bits.lo : have.type === 1 ? d.getBigInt64(0, true) : have.type === 2 ? d.getFloat32(0, true) : d.getFloat64(0, true);
      const same = typeof want === "bigint" ? want === value : Object.is(want, value) || (Number.isNaN(want) && Number.isNaN(value as number));
      if (!same) return { calls, traps, diff: `seed ${seed} ${e.name}: global g${gi} is ${String(want)} in V8, ${String(value)} emulated` };
    }
  }
  return { calls, traps, diff: null };
}

describe("random wasm modules agree with V8", () => {
  const plan: [MemoryModel, number, number][] = [["user", 1, 400], ["checked", 5001, 100], ["kernel", 9001, 100]];
  for (const [model, first, count] of plan) {
    it(`${count} modules, ${model} memory model`, () => {
      let calls = 0, traps = 0;
      for (let seed = first; seed < first + count; seed++) {
        const r = compareModule(seed, model);
        calls += r.calls;
        traps += r.traps;
        expect(r.diff).toBeNull();
      }
      // The generator must exercise both paths.
      expect(calls).toBeGreaterThan(count * 2);
      expect(traps).toBeGreaterThan(0);
      expect(traps).toBeLessThan(calls);
    });
  }
});

describe("AssemblyScript programs agree with V8", () => {
  const programs = WASM_BENCHMARKS.map((b) => ({ name: b.name, dir: resolve("bench/wasm"), args: [0, 1, 5, 37] }));
  for (const p of programs) {
    it(p.name, async () => {
      const wasm = await compileBenchmark(p.name, p.dir);
      for (const features of [BASELINE_FEATURES, FULL_FEATURES]) {
        for (const n of p.args) {
          const r = runBenchmark(machine, wasm, n, features);
          expect(r.agree, `${p.name}(${n}) with ${features.sse41 ? "full" : "baseline"} features: emulator ${r.result}`).toBe(true);
        }
      }
    });
  }
});
