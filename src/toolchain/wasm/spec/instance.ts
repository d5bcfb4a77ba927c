// Instantiating compiled modules in the spec harness: import resolution with
// the spec's type rules (unknown / incompatible imports are link errors),
// cross-instance calls through thunks that switch to the callee's memory,
// element and data segments applied in order with bounds checks, and the start
// function. Also provides the `spectest` host module of the test suite.
import { LinkError, type PlacedObject } from "../../link/linker.js";
import { GLOBAL_CELL, TABLE_HEADER, TABLE_ENTRY, TABLE_MAX, TABLE_SIZE, ENTRY_CODE, ENTRY_SIG, TRAP_OUT_OF_BOUNDS_MEMORY } from "../abi.js";
import { compileModule, type CompiledModule } from "../compile-module.js";
import { CPU_MODULE } from "../intrinsics.js";
import type { CompileOptions, MemoryModel } from "../context.js";
import { F32, F64, I32, I64, makeFuncType, type ConstExpr, type FuncType, type ValType } from "../types.js";
import { X64Writer, RAX, R10, R11 } from "../x64-writer.js";
import { HarnessMemory, SpecMachine, SYM_NOP, SYM_SAVE_SP, type InvokeOutcome } from "./machine.js";
import type { Bits } from "./values.js";

export type ExternVal =
  | { kind: "func"; type: FuncType; symbol: string; memory: HarnessMemory | null }
  | { kind: "global"; type: ValType; mutable: boolean; symbol: string }
  | { kind: "table"; symbol: string }
  | { kind: "memory"; mem: HarnessMemory; symbol: string };

export interface Instance {
  readonly exports: Map<string, ExternVal>;
  readonly memory: HarnessMemory | null;
  readonly compiled: CompiledModule | null;
}

/** Thrown when instantiation traps (a segment out of bounds, or the start function). */
export class InstantiationTrap extends Error {
  constructor(readonly outcome: InvokeOutcome | { kind: "segment"; what: string }) {
    super("instantiation trapped");
  }
}

const TWO32 = 4294967296;

function f32Bits(v: number): number {
  const d = new DataView(new ArrayBuffer(4));
  d.setFloat32(0, v, true);
  return d.getInt32(0, true);
}

function f64Bits(v: number): Bits {
  const d = new DataView(new ArrayBuffer(8));
  d.setFloat64(0, v, true);
  return { lo: d.getInt32(0, true), hi: d.getInt32(4, true) };
}

export class Instantiator {
  private count = 0;
  readonly registry = new Map<string, Instance>();
  private thunks = new Map<string, string>();

  constructor(readonly machine: SpecMachine, readonly memoryModel: MemoryModel) {}

  /** A fresh script: new machine state and a new spectest module. */
  reset(): void {
    this.machine.reset();
    this.registry.clear();
    this.thunks.clear();
    this.count = 0;
    this.registry.set("spectest", this.spectest());
  }

  private spectest(): Instance {
    const m = this.machine;
    const exports = new Map<string, ExternVal>();
    const fn = (name: string, params: ValType[]) => exports.set(name, { kind: "func", type: makeFuncType(params, []), symbol: SYM_NOP, memory: null });
    fn("print", []);
    fn("print_i32", [I32]);
    fn("print_i64", [I64]);
    fn("print_f32", [F32]);
    fn("print_f64", [F64]);
    fn("print_i32_f32", [I32, F32]);
    fn("print_f64_f64", [F64, F64]);
    const global = (name: string, type: ValType, lo: number, hi: number) => {
      const cell = m.hostCell(GLOBAL_CELL);
      m.writeShared32(cell, lo);
      m.writeShared32(cell + 4, hi);
      m.space.define(`spectest.${name}`, cell, "spectest");
      exports.set(name, { kind: "global", type, mutable: false, symbol: `spectest.${name}` });
    };
    global("global_i32", I32, 666, 0);
    global("global_i64", I64, 666, 0);
    global("global_f32", F32, f32Bits(666.6), 0);
    const d = f64Bits(666.6);
    global("global_f64", F64, d.lo, d.hi);
    const table = m.hostCell(TABLE_HEADER + 10 * TABLE_ENTRY);
    m.writeShared32(table + TABLE_SIZE, 10);
    m.writeShared32(table + TABLE_MAX, 20);
    m.space.define("spectest.table", table, "spectest");
    exports.set("table", { kind: "table", symbol: "spectest.table" });
    const mem = m.newMemory(1, 2);
    const desc = m.hostCell(16);
    m.bindDescriptor(mem, desc);
    m.space.define("spectest.memory", desc, "spectest");
    exports.set("memory", { kind: "memory", mem, symbol: "spectest.memory" });
    return { exports, memory: null, compiled: null };
  }

  // ---- Imports ----------------------------------------------------------------------

  private resolveImport(module: string, field: string): ExternVal {
    const inst = this.registry.get(module);
    const v = inst?.exports.get(field);
    if (v === undefined) throw new LinkError(`unknown import "${module}" "${field}"`);
    return v;
  }

  private tableLimits(symbol: string): { size: number; max: number } {
    const addr = this.machine.space.lookup(symbol)!;
    return { size: this.machine.readShared32(addr + TABLE_SIZE) >>> 0, max: this.machine.readShared32(addr + TABLE_MAX) >>> 0 };
  }

  /** The symbol a call from `caller`'s memory should use to reach function `f`. */
  private callable(f: { symbol: string; memory: HarnessMemory | null; type: FuncType }, callerMemory: HarnessMemory | null | "any"): string {
    if (f.memory === null || f.memory === callerMemory) return f.symbol;
    const key = f.symbol;
    const have = this.thunks.get(key);
    if (have !== undefined) return have;
    const name = `${f.symbol}.thunk`;
    this.buildThunk(name, f.symbol, f.memory.pml4);
    this.thunks.set(key, name);
    return name;
  }

  /**
   * A thunk that runs `target` in another memory's address space. It swaps the
   * return address for its own (so stack arguments stay where the callee expects
   * them), saves it with the caller's CR3 on a side stack, and restores both after.
   */
  private buildThunk(name: string, target: string, cr3: number): void {
    const w = new X64Writer();
    w.op("mov", w.R(8, R11), w.MS(8, SYM_SAVE_SP));
    w.op("pop", w.R(8, RAX));
    w.op("mov", w.M(8, R11, -1, 0, 0), w.R(8, RAX));
    w.op("mov", w.R(8, RAX), w.CR(3));
    w.op("mov", w.M(8, R11, -1, 0, 8), w.R(8, RAX));
    w.op("add", w.R(8, R11), w.I(8, 16));
    w.op("mov", w.MS(8, SYM_SAVE_SP), w.R(8, R11));
    w.op("mov", w.R(8, RAX), w.I(8, cr3));
    w.op("mov", w.CR(3), w.R(8, RAX));
    w.branchSym("call", target);
    w.op("mov", w.R(8, R11), w.MS(8, SYM_SAVE_SP));
    w.op("sub", w.R(8, R11), w.I(8, 16));
    w.op("mov", w.MS(8, SYM_SAVE_SP), w.R(8, R11));
    w.op("mov", w.R(8, R10), w.M(8, R11, -1, 0, 8));
    w.op("mov", w.CR(3), w.R(8, R10));
    w.op("push", w.M(8, R11, -1, 0, 0));
    w.op("ret");
    const bytes = w.finish();
    const obj = {
      name, sections: [{ kind: "text" as const, bytes, size: bytes.length, align: 16, relocs: w.relocs.map((r) => ({ ...r })) }],
      symbols: [{ name, section: 0, value: 0, size: bytes.length, kind: "func" as const }],
    };
    const p = this.machine.place(obj);
    this.machine.space.define(name, p.addr[0]!, name);
    this.machine.load(p);
  }

  // ---- Instantiation -----------------------------------------------------------------

  /** Compiles with this harness's memory model and a fresh symbol prefix (plus any extra options). */
  compile(bytes: Uint8Array, extra: Omit<CompileOptions, "prefix" | "memoryModel"> = {}): CompiledModule {
    return compileModule(bytes, { ...extra, prefix: `m${this.count++}.`, memoryModel: this.memoryModel });
  }

  instantiate(compiled: CompiledModule): Instance {
    const machine = this.machine;
    const space = machine.space;
    const m = compiled.module;
    const sym = compiled.symbols;
    // 1. Imports, with the spec's matching rules.
    const imports: (ExternVal | null)[] = [];
    const importCheck = (what: string, ok: boolean) => {
      if (!ok) throw new LinkError(`incompatible import type for ${what}`);
    };
    let memory: HarnessMemory | null = null;
    for (let i = 0; i < m.funcs.length; i++) {
      const f = m.funcs[i]!;
      if (f.import === null || f.import.module === CPU_MODULE) continue; // cpu intrinsics compile inline
      const v = this.resolveImport(f.import.module, f.import.field);
      importCheck(`"${f.import.module}" "${f.import.field}"`, v.kind === "func" && v.type.key === f.type.key);
      imports.push(v);
    }
    for (const g of m.globals) {
      if (g.import === null) continue;
      const v = this.resolveImport(g.import.module, g.import.field);
      importCheck(`"${g.import.module}" "${g.import.field}"`, v.kind === "global" && v.type === g.type && v.mutable === g.mutable);
    }
    for (const t of m.tables) {
      if (t.import === null) continue;
      const v = this.resolveImport(t.import.module, t.import.field);
      let ok = v.kind === "table";
      if (ok && v.kind === "table") {
        const lim = this.tableLimits(v.symbol);
        ok = lim.size >= t.limits.initial && (t.limits.maximum === null || (lim.max !== 0xffffffff && lim.max <= t.limits.maximum));
      }
      importCheck(`"${t.import.module}" "${t.import.field}"`, ok);
    }
    for (const mm of m.memories) {
      if (mm.import === null) continue;
      const v = this.resolveImport(mm.import.module, mm.import.field);
      let ok = v.kind === "memory";
      if (ok && v.kind === "memory") {
        ok = v.mem.pages >= mm.limits.initial && (mm.limits.maximum === null || (v.mem.max <= mm.limits.maximum && v.mem.hasDeclaredMax));
        memory = v.mem;
      }
      importCheck(`"${mm.import.module}" "${mm.import.field}"`, ok);
    }
    // 2. Own memory; place the object; bind import symbols.
    const ownMemory = m.memories.length > 0 && m.memories[0]!.import === null;
    if (ownMemory) memory = machine.newMemory(m.memories[0]!.limits.initial, m.memories[0]!.limits.maximum);
    const placed: PlacedObject = machine.place(compiled.object);
    for (const s of compiled.object.symbols) space.define(s.name, s.section < 0 ? s.value : placed.addr[s.section]! + s.value, compiled.object.name);
    let k = 0;
    for (let i = 0; i < m.funcs.length; i++) {
      const f = m.funcs[i]!;
      if (f.import === null || f.import.module === CPU_MODULE) continue;
      const v = imports[k++]! as Extract<ExternVal, { kind: "func" }>;
      space.alias(sym.func(i), this.callable(v, memory));
    }
    m.globals.forEach((g, i) => {
      if (g.import !== null) space.alias(sym.global(i), (this.resolveImport(g.import.module, g.import.field) as { symbol: string }).symbol);
    });
    m.tables.forEach((t, i) => {
      if (t.import !== null) space.alias(sym.table(i), (this.resolveImport(t.import.module, t.import.field) as { symbol: string }).symbol);
    });
    m.memories.forEach((mm, i) => {
      if (mm.import !== null) space.alias(sym.memory(i), (this.resolveImport(mm.import.module, mm.import.field) as { symbol: string }).symbol);
    });
    machine.load(placed);
    if (ownMemory) machine.bindDescriptor(memory!, space.lookup(sym.memory(0))!);

    // Exports (built now: segments may reference this instance's functions through tables).
    const exports = new Map<string, ExternVal>();
    const funcVal = (i: number): Extract<ExternVal, { kind: "func" }> => {
      const f = m.funcs[i]!;
      if (f.import !== null) return this.resolveImport(f.import.module, f.import.field) as Extract<ExternVal, { kind: "func" }>;
      return { kind: "func", type: f.type, symbol: sym.func(i), memory };
    };
    for (const e of m.exports) {
      switch (e.kind) {
        case "func": exports.set(e.name, funcVal(e.index)); break;
        case "global": {
          const g = m.globals[e.index]!;
          exports.set(e.name, { kind: "global", type: g.type, mutable: g.mutable, symbol: sym.global(e.index) });
          break;
        }
        case "table": exports.set(e.name, { kind: "table", symbol: sym.table(e.index) }); break;
        case "memory": exports.set(e.name, { kind: "memory", mem: memory!, symbol: sym.memory(e.index) }); break;
      }
    }
    const inst: Instance = { exports, memory, compiled };

    // 3. Globals initialised from other globals.
    m.globals.forEach((g, i) => {
      if (g.init?.op !== "global.get") return;
      const src = space.lookup(sym.global(g.init.index))!;
      const dst = space.lookup(sym.global(i))!;
      machine.writeShared32(dst, machine.readShared32(src));
      machine.writeShared32(dst + 4, machine.readShared32(src + 4));
    });
    const evalOffset = (e: ConstExpr): number => {
      if (e.op === "const") return e.lo >>> 0;
      return machine.readShared32(space.lookup(sym.global(e.index))!) >>> 0;
    };
    // 4. Element segments, in order; the first out of bounds traps (earlier writes stay).
    for (const seg of m.elems) {
      const tsym = sym.table(seg.table);
      const taddr = space.lookup(tsym)!;
      const size = machine.readShared32(taddr + TABLE_SIZE) >>> 0;
      const off = evalOffset(seg.offset);
      if (off + seg.funcs.length > size) throw new InstantiationTrap({ kind: "segment", what: "out of bounds table access" });
      seg.funcs.forEach((fi, j) => {
        const e = taddr + TABLE_HEADER + TABLE_ENTRY * (off + j);
        if (fi < 0) {
          machine.writeShared32(e + ENTRY_CODE, 0); machine.writeShared32(e + ENTRY_CODE + 4, 0); machine.writeShared32(e + ENTRY_SIG, 0);
          return;
        }
        const fv = funcVal(fi);
        const target = space.lookup(this.callable(fv, "any"))!;
        machine.writeShared32(e + ENTRY_CODE, target | 0);
        machine.writeShared32(e + ENTRY_CODE + 4, Math.floor(target / TWO32));
        machine.writeShared32(e + ENTRY_SIG, space.sigId(fv.type.key));
      });
    }
    // 5. Data segments.
    for (const seg of m.datas) {
      if (!seg.active) continue;
      const off = evalOffset(seg.offset!);
      if (memory === null || off + seg.bytes.length > memory.bytes) {
        throw new InstantiationTrap({ kind: "trap", trap: TRAP_OUT_OF_BOUNDS_MEMORY, func: -1, offset: 0 });
      }
      memory.write(off, seg.bytes);
    }
    // 6. The start function.
    if (m.start !== null) {
      const fv = funcVal(m.start);
      const addr = space.lookup(this.callable(fv, memory))!;
      const out = machine.invoke(addr, memory?.pml4 ?? machine.noMemoryCr3, fv.type, []);
      if (out.kind !== "return") throw new InstantiationTrap(out);
    }
    return inst;
  }

  /** Invokes an exported function. */
  invoke(inst: Instance, field: string, args: readonly Bits[]): InvokeOutcome {
    const v = inst.exports.get(field);
    if (v === undefined || v.kind !== "func") return { kind: "crash", message: `no exported function "${field}"` };
    const addr = this.machine.space.lookup(v.symbol)!;
    return this.machine.invoke(addr, v.memory?.pml4 ?? this.machine.noMemoryCr3, v.type, args);
  }

  /** Reads an exported global. */
  getGlobal(inst: Instance, field: string): { type: ValType; bits: Bits } | null {
    const v = inst.exports.get(field);
    if (v === undefined || v.kind !== "global") return null;
    const cell = this.machine.space.lookup(v.symbol)!;
    return { type: v.type, bits: { lo: this.machine.readShared32(cell), hi: this.machine.readShared32(cell + 4) } };
  }
}
