// Unit tests of the wasm → x86-64 compiler: the template-caching writer
// against the assembler's encoder, input checking (invalid, malformed, out of
// scope), the trap ABI, and the `cpu` intrinsics executed at CPL 0.
import { describe, expect, it } from "vitest";
import binaryen from "binaryen";
import { encodeAll, type EncodeContext } from "../src/toolchain/x64/encode.js";
import { constValue, memOf, imm } from "../src/toolchain/x64/operands.js";
import { gpr, xmmReg } from "../src/toolchain/x64/registers.js";
import { X64Writer, NONE } from "../src/toolchain/wasm/x64-writer.js";
import { compileModule, wasmOffsetAt } from "../src/toolchain/wasm/compile-module.js";
import { WasmCompileError } from "../src/toolchain/wasm/errors.js";
import { CPU_INTRINSICS } from "../src/toolchain/wasm/intrinsics.js";
import { TRAP_INT_DIVIDE_BY_ZERO, TRAP_STACK_EXHAUSTED, TRAP_UNREACHABLE } from "../src/toolchain/wasm/abi.js";
import { Instantiator } from "../src/toolchain/wasm/spec/instance.js";
import { SpecMachine } from "../src/toolchain/wasm/spec/machine.js";
import { VALTYPE_NAMES } from "../src/toolchain/wasm/types.js";

function wat(text: string): Uint8Array {
  const m = binaryen.parseText(text);
  m.setFeatures(binaryen.Features.All);
  try {
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

const ctx: EncodeContext = { bits: 64, prefixes: [], rex: 0, pseudo: new Set(), constant: (e) => constValue(e) };

describe("the instruction writer", () => {
  it("produces exactly the assembler's encodings for every register, displacement and immediate it patches", () => {
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const disps = [0, 1, -1, 127, -128, 128, -129, 0x12345, -0x7fffffff, 0x7fffffff];
    const imms = [0, 1, -1, 127, -128, 128, 255, 0x7fff, -0x8000, 0x12345678, -0x80000000];
    for (let k = 0; k < 3000; k++) {
      const w = new X64Writer();
      const size = [1, 2, 4, 8][rnd(4)]!;
      const r1 = rnd(16), base = rnd(16), index = rnd(17) - 1, scale = rnd(4);
      const disp = disps[rnd(disps.length)]!;
      const v = imms[rnd(imms.length)]!;
      const mn = ["add", "sub", "and", "or", "xor", "cmp", "mov"][rnd(7)]!;
      const form = rnd(4);
      let ops;
      if (index === 4) continue; // rsp cannot be an index
      const m = memOf(size, { base: gpr(base, 8), index: index < 0 ? null : gpr(index, 8), scale: (1 << scale) as 1 | 2 | 4 | 8, disp: BigInt(disp) });
      const iv = size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v;
      switch (form) {
        case 0: w.op(mn, w.R(size, r1), w.R(size, base)); ops = [gpr(r1, size), gpr(base, size)]; break;
        case 1: w.op(mn, w.R(size, r1), w.M(size, base, index, scale, disp)); ops = [gpr(r1, size), m]; break;
        case 2: w.op(mn, w.M(size, base, index, scale, disp), w.I(size, v)); ops = [m, imm(BigInt(iv))]; break;
        default: w.op(mn, w.R(size, r1), w.I(size, v)); ops = [gpr(r1, size), imm(BigInt(iv))]; break;
      }
      const want = encodeAll(mn, ops, ctx)[0]!.bytes;
      expect(Buffer.from(w.finish()).toString("hex"), `${mn} form ${form} size ${size}`).toBe(Buffer.from(want).toString("hex"));
    }
    // SSE with memory operands.
    for (let k = 0; k < 200; k++) {
      const w = new X64Writer();
      const x = rnd(16), base = rnd(16), disp = disps[rnd(disps.length)]!;
      w.op("addsd", w.X(x), w.M(8, base, NONE, 0, disp));
      const want = encodeAll("addsd", [xmmReg(x), memOf(8, { base: gpr(base, 8), disp: BigInt(disp) })], ctx)[0]!.bytes;
      expect(Buffer.from(w.finish()).toString("hex")).toBe(Buffer.from(want).toString("hex"));
    }
  });

  it("resolves forward and backward branches", () => {
    const w = new X64Writer();
    const top = w.newLabel();
    const end = w.newLabel();
    w.bind(top);
    w.branch("je", end);
    w.branchAuto("jmp", top);
    w.bind(end);
    const b = w.finish();
    // je rel32 (6 bytes) over a short jmp back (2 bytes): je +2; jmp -8.
    expect(Buffer.from(b).toString("hex")).toBe("0f840200000" + "0" + "ebf8");
  });
});

describe("input checking", () => {
  it("rejects invalid modules with the validator's reason", () => {
    // i32.add of an i64 (type mismatch): valid encoding, invalid module.
    const bad = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 10, 9, 1, 7, 0, 66, 1, 65, 1, 106, 11]);
    try {
      compileModule(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WasmCompileError);
      expect((e as WasmCompileError).kind).toBe("invalid");
      expect((e as Error).message).toMatch(/^invalid module: /);
    }
    expect(() => compileModule(Uint8Array.from([0, 97, 115, 109, 2, 0, 0, 0]))).toThrow(WasmCompileError);
  });

  it("refuses features outside capos's scope by name", () => {
    const simd = wat(`(module (func (export "f") (result v128) (v128.const i32x4 1 2 3 4)))`);
    expect(() => compileModule(simd)).toThrow(/SIMD|outside capos's wasm feature set/);
    const refs = wat(`(module (table 1 externref) (func (export "f")))`);
    expect(() => compileModule(refs)).toThrow(/funcref|outside capos's/);
  });
});

describe("the trap ABI", () => {
  const machine = new SpecMachine();
  const inst = new Instantiator(machine, "user");

  it("reports the trap kind, the wasm function index and the operator's byte offset", () => {
    inst.reset();
    const bytes = wat(`(module
      (func $first (param i32) (result i32) (local.get 0))
      (func (export "boom") (param i32) (result i32) (if (local.get 0) (then unreachable)) (i32.const 1))
      (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func $deep (export "deep") (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1))))`);
    const i = inst.instantiate(inst.compile(bytes));
    const boom = inst.invoke(i, "boom", [{ lo: 1, hi: 0 }]);
    expect(boom.kind).toBe("trap");
    if (boom.kind !== "trap") return;
    expect(boom.trap).toBe(TRAP_UNREACHABLE);
    expect(boom.func).toBe(1);
    expect(bytes[boom.offset]).toBe(0x00); // the unreachable opcode
    const div = inst.invoke(i, "div", [{ lo: 5, hi: 0 }, { lo: 0, hi: 0 }]);
    expect(div.kind === "trap" && div.trap).toBe(TRAP_INT_DIVIDE_BY_ZERO);
    expect(div.kind === "trap" && bytes[div.offset]).toBe(0x6d); // i32.div_s
    const deep = inst.invoke(i, "deep", [{ lo: 0, hi: 0 }]);
    expect(deep.kind === "trap" && deep.trap).toBe(TRAP_STACK_EXHAUSTED);
    expect(inst.invoke(i, "boom", [{ lo: 0, hi: 0 }])).toEqual({ kind: "return", results: [{ lo: 1, hi: 0 }] });
  });

  it("maps a faulting memory access back to its wasm operator (the PC map)", () => {
    inst.reset();
    const bytes = wat(`(module (memory 1)
      (func (export "load") (param i32) (result i32) (i32.add (i32.const 1) (i32.load offset=4 (local.get 0)))))`);
    const compiled = inst.compile(bytes);
    const i = inst.instantiate(compiled);
    const o = inst.invoke(i, "load", [{ lo: 65534, hi: 0 }]);
    expect(o.kind).toBe("oob");
    if (o.kind !== "oob") return;
    const text = machine.space.lookup(compiled.symbols.text)!;
    const at = wasmOffsetAt(compiled, o.rip - text);
    expect(bytes[at]).toBe(0x28); // i32.load
  });
});

describe("cpu intrinsics", () => {
  const machine = new SpecMachine();
  const inst = new Instantiator(machine, "kernel");

  it("every intrinsic compiles in every memory model", () => {
    const imports = CPU_INTRINSICS.map((r, k) =>
      `(import "cpu" "${r.name}" (func $i${k} (param ${r.params.map((t) => VALTYPE_NAMES[t]).join(" ")}) (result ${r.results.map((t) => VALTYPE_NAMES[t]).join(" ")})))`).join("\n");
    const calls = CPU_INTRINSICS.map((r, k) => {
      const args = r.params.map((t) => `(${VALTYPE_NAMES[t]}.const 0)`).join(" ");
      return r.results.length > 0 ? `(drop (call $i${k} ${args}))` : `(call $i${k} ${args})`;
    }).join("\n");
    const bytes = wat(`(module ${imports} (memory 1) (func (export "all") ${calls}))`);
    for (const memoryModel of ["user", "kernel", "checked"] as const) {
      const c = compileModule(bytes, { memoryModel });
      expect(c.stats.codeBytes).toBeGreaterThan(CPU_INTRINSICS.length);
    }
  });

  it("run at CPL 0: control registers, MSRs, TSC, CPUID, ports, flags, absolute memory", () => {
    inst.reset();
    const cell = machine.hostCell(8);
    const i = inst.instantiate(inst.compile(wat(`(module
      (import "cpu" "readCr0" (func $cr0 (result i64)))
      (import "cpu" "readCr3" (func $cr3 (result i64)))
      (import "cpu" "writeCr3" (func $wcr3 (param i64)))
      (import "cpu" "rdmsr" (func $rdmsr (param i32) (result i64)))
      (import "cpu" "wrmsr" (func $wrmsr (param i32 i64)))
      (import "cpu" "rdtsc" (func $rdtsc (result i64)))
      (import "cpu" "cpuidEax" (func $cpuid (param i32 i32) (result i32)))
      (import "cpu" "inb" (func $inb (param i32) (result i32)))
      (import "cpu" "readFlags" (func $flags (result i64)))
      (import "cpu" "cli" (func $cli))
      (import "cpu" "sti" (func $sti))
      (import "cpu" "swapgs" (func $swapgs))
      (import "cpu" "invlpg" (func $invlpg (param i64)))
      (import "cpu" "peek64" (func $peek (param i64) (result i64)))
      (import "cpu" "poke32" (func $poke (param i64 i32)))
      (func (export "cr0") (result i64) (call $cr0))
      (func (export "cr3") (result i64) (call $wcr3 (call $cr3)) (call $cr3))
      (func (export "msr") (param i64) (result i64) (call $wrmsr (i32.const 0xc0000102) (local.get 0)) (call $swapgs) (call $swapgs) (call $rdmsr (i32.const 0xc0000102)))
      (func (export "tsc") (result i32) (i64.gt_u (call $rdtsc) (call $rdtsc)))
      (func (export "cpuid") (result i32) (call $cpuid (i32.const 0) (i32.const 0)))
      (func (export "inb") (result i32) (call $inb (i32.const 0x80)))
      (func (export "iflag") (result i64) (call $sti) (i64.and (call $flags) (i64.const 0x200)))
      (func (export "cliflag") (result i64) (call $cli) (i64.and (call $flags) (i64.const 0x200)))
      (func (export "poke") (param i64 i32) (result i64) (call $invlpg (local.get 0)) (call $poke (local.get 0) (local.get 1)) (call $peek (local.get 0))))`)));
    const r = (name: string, args: { lo: number; hi: number }[] = []) => {
      const o = inst.invoke(i, name, args);
      if (o.kind !== "return") throw new Error(`${name}: ${JSON.stringify(o)}`);
      return o.results[0]!;
    };
    expect(r("cr0").lo & 0x80000001).toBe(0x80000001 | 0); // PG and PE
    expect(r("cr3").lo).toBe(machine.cpu.cr3);
    expect(r("msr", [{ lo: 0x1234, hi: 0x5678 }])).toEqual({ lo: 0x1234, hi: 0x5678 });
    expect(r("tsc").lo).toBe(0);
    expect(r("cpuid").lo).toBeGreaterThan(0);
    expect(r("inb").lo).toBe(0xff);
    expect(r("iflag").lo).toBe(0x200);
    expect(r("cliflag").lo).toBe(0);
    expect(r("poke", [{ lo: cell | 0, hi: Math.floor(cell / 4294967296) }, { lo: 0x7eadbeef, hi: 0 }]).lo).toBe(0x7eadbeef);
  });
});

describe("benchmark instrumentation", () => {
  it("counts exactly the wasm operators executed", () => {
    const machine = new SpecMachine();
    const inst = new Instantiator(machine, "user");
    const bytes = wat(`(module (func (export "f") (param $n i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (if (i32.eqz (local.get $n)) (then (nop)) (else (nop) (nop)))))`);
    // loop + 8 per iteration + end; local.get, eqz, if; then: nop, else / else: nop, nop, end; the function's end.
    const expected = (n: number) => 1 + 8 * Math.max(n, 1) + 1 + 3 + (n === 0 ? 2 : 3) + 1;
    for (const n of [0, 1, 10, 1000]) {
      inst.reset();
      machine.space.define("ops", machine.hostCell(8));
      const i = inst.instantiate(inst.compile(bytes, { countOpsSymbol: "ops" }));
      expect(inst.invoke(i, "f", [{ lo: n, hi: 0 }]).kind).toBe("return");
      expect(machine.readShared32(machine.space.lookup("ops")!)).toBe(expected(n));
    }
  });
});
