// Linear-memory operators: loads, stores, memory.size/grow and the bulk-memory
// operators. Addressing follows the memory model: user (wasm address = virtual
// address, bounded by unmapped guard pages), kernel (R15 + address), checked
// (kernel addressing plus an explicit bound check against the memory descriptor).
import type { IOperatorInformation } from "wasmparser";
import { MEMDESC_BYTES, MEMDESC_PAGES, MEMORY_BASE_REG, SYM_MEMORY_GROW, TRAP_OUT_OF_BOUNDS_MEMORY } from "./abi.js";
import type { FunctionCompiler } from "./compile-function.js";
import { WasmCompileError } from "./errors.js";
import { K_CONST, K_REG, L_GPR } from "./func-state.js";
import { OP } from "./opcodes.js";
import { F32, F64, I32, I64, isFloat, type ValType } from "./types.js";
import { NONE, R11, RAX, RCX, RDI, RSI } from "./x64-writer.js";

interface LoadDesc { t: ValType; size: number; mn: string; dsize: number }
interface StoreDesc { t: ValType; size: number }

const LOADS: Record<number, LoadDesc> = {
  [OP.i32_load]: { t: I32, size: 4, mn: "mov", dsize: 4 },
  [OP.i64_load]: { t: I64, size: 8, mn: "mov", dsize: 8 },
  [OP.f32_load]: { t: F32, size: 4, mn: "movss", dsize: 0 },
  [OP.f64_load]: { t: F64, size: 8, mn: "movsd", dsize: 0 },
  [OP.i32_load8_s]: { t: I32, size: 1, mn: "movsx", dsize: 4 },
  [OP.i32_load8_u]: { t: I32, size: 1, mn: "movzx", dsize: 4 },
  [OP.i32_load16_s]: { t: I32, size: 2, mn: "movsx", dsize: 4 },
  [OP.i32_load16_u]: { t: I32, size: 2, mn: "movzx", dsize: 4 },
  [OP.i64_load8_s]: { t: I64, size: 1, mn: "movsx", dsize: 8 },
  [OP.i64_load8_u]: { t: I64, size: 1, mn: "movzx", dsize: 4 },
  [OP.i64_load16_s]: { t: I64, size: 2, mn: "movsx", dsize: 8 },
  [OP.i64_load16_u]: { t: I64, size: 2, mn: "movzx", dsize: 4 },
  [OP.i64_load32_s]: { t: I64, size: 4, mn: "movsxd", dsize: 8 },
  [OP.i64_load32_u]: { t: I64, size: 4, mn: "mov", dsize: 4 },
};

const STORES: Record<number, StoreDesc> = {
  [OP.i32_store]: { t: I32, size: 4 },
  [OP.i64_store]: { t: I64, size: 8 },
  [OP.f32_store]: { t: F32, size: 4 },
  [OP.f64_store]: { t: F64, size: 8 },
  [OP.i32_store8]: { t: I32, size: 1 },
  [OP.i32_store16]: { t: I32, size: 2 },
  [OP.i64_store8]: { t: I64, size: 1 },
  [OP.i64_store16]: { t: I64, size: 2 },
  [OP.i64_store32]: { t: I64, size: 4 },
};

const MAX_DISP = 0x7fffffff;

/** A memory operand's parts. */
interface Addr { base: number; index: number; disp: number }

function memSym(fc: FunctionCompiler): string {
  if (fc.mc.m.memories.length === 0) throw new WasmCompileError("invalid", `function ${fc.funcIndex}: memory access without a memory`);
  return fc.mc.sym.memory(0);
}

/**
 * Checked model: traps unless address entry i + offset + size <= the memory's
 * byte size (all in 64-bit arithmetic, so nothing wraps).
 */
function boundsCheck(fc: FunctionCompiler, i: number, offset: number, size: number): void {
  const st = fc.st;
  const w = fc.w;
  const sym = memSym(fc);
  const end = offset + size;
  if (st.kind[i] === K_CONST) {
    const e = (st.lo[i]! >>> 0) + end;
    w.op("mov", w.R(8, R11), w.I(8, e | 0, Math.floor(e / 4294967296)));
  } else {
    const r = st.gprOf(i);
    if (r >= 0 && end <= MAX_DISP) {
      w.op("lea", w.R(8, R11), w.M(0, r, NONE, 0, end));
    } else if (r >= 0) {
      w.op("mov", w.R(8, R11), w.I(8, end | 0, Math.floor(end / 4294967296)));
      w.op("add", w.R(8, R11), w.R(8, r));
    } else {
      w.op("mov", w.R(4, R11), st.intSrc(i, 4));
      w.op("add", w.R(8, R11), w.I(8, end));
    }
  }
  w.op("cmp", w.R(8, R11), w.MS(8, sym, MEMDESC_BYTES));
  w.branch("ja", fc.trapLabel(TRAP_OUT_OF_BOUNDS_MEMORY));
}

/**
 * Emits whatever setup the address of entry i + offset needs (R11 at most) and
 * returns the operand parts. An address in memory with an offset beyond 2^31
 * must have been put in a register by the caller.
 */
function address(fc: FunctionCompiler, i: number, offset: number): Addr {
  const st = fc.st;
  const w = fc.w;
  const based = fc.memoryModel !== "user";
  const base = based ? MEMORY_BASE_REG : NONE;
  if (st.kind[i] === K_CONST) {
    const ea = (st.lo[i]! >>> 0) + offset;
    if (ea <= MAX_DISP) return { base, index: NONE, disp: ea };
    w.op("mov", w.R(8, R11), w.I(8, ea | 0, Math.floor(ea / 4294967296)));
    return based ? { base, index: R11, disp: 0 } : { base: R11, index: NONE, disp: 0 };
  }
  let r = st.gprOf(i);
  if (r < 0) {
    if (offset > MAX_DISP) throw new Error("wasm compiler: large offset from a memory operand");
    w.op("mov", w.R(4, R11), st.intSrc(i, 4));
    r = R11;
  }
  if (offset <= MAX_DISP) return based ? { base, index: r, disp: offset } : { base: r, index: NONE, disp: offset };
  // A large offset goes to R11 (zero-extended by the 32-bit move).
  w.op("mov", w.R(4, R11), w.I(4, offset | 0));
  if (based) {
    w.op("add", w.R(8, R11), w.R(8, r));
    return { base, index: R11, disp: 0 };
  }
  return { base: r, index: R11, disp: 0 };
}

/** Large offsets need the address in a register (R11 then holds the offset). */
function prepareAddress(fc: FunctionCompiler, i: number, offset: number): void {
  const st = fc.st;
  if (offset > MAX_DISP && st.kind[i] !== K_CONST && st.gprOf(i) < 0) st.toReg(i);
}

function load(fc: FunctionCompiler, d: LoadDesc, offset: number): void {
  const st = fc.st;
  const w = fc.w;
  const i = st.sp - 1;
  const fl = isFloat(d.t);
  prepareAddress(fc, i, offset);
  const dst = !fl && st.kind[i] === K_REG ? st.reg[i]! : st.allocFor(d.t);
  if (fc.memoryModel === "checked") boundsCheck(fc, i, offset, d.size);
  const a = address(fc, i, offset);
  const m = w.M(d.size, a.base, a.index, 0, a.disp);
  fc.notePc();
  if (fl) w.op(d.mn, w.X(dst), m);
  else w.op(d.mn, w.R(d.dsize, dst), m);
  st.drop(1);
  st.pushReg(d.t, dst);
}

function store(fc: FunctionCompiler, d: StoreDesc, offset: number): void {
  const st = fc.st;
  const w = fc.w;
  const vi = st.sp - 1;
  const ai = st.sp - 2;
  const fl = isFloat(d.t);
  prepareAddress(fc, ai, offset);
  const ar = st.gprOf(ai);
  const avoid = ar >= 0 ? 1 << ar : 0;
  // The value: a register, or a constant that fits the store's immediate.
  let immLo = 0, immHi = 0, useImm = false, useImm64Split = false;
  if (st.kind[vi] === K_CONST) {
    immLo = st.lo[vi]!;
    immHi = d.size === 8 ? st.hi[vi]! : 0;
    useImm = true;
    if (d.size === 8 && immHi !== (immLo >> 31)) useImm64Split = true;
  } else if (fl || st.gprOf(vi) < 0) {
    st.toReg(vi, fl ? 0 : avoid);
  }
  if (fc.memoryModel === "checked") boundsCheck(fc, ai, offset, d.size);
  const a = address(fc, ai, offset);
  fc.notePc();
  if (useImm64Split) {
    w.op("mov", w.M(4, a.base, a.index, 0, a.disp), w.I(4, immLo));
    fc.notePc();
    w.op("mov", w.M(4, a.base, a.index, 0, a.disp + 4), w.I(4, immHi));
  } else if (useImm) {
    const s = d.size;
    const m = w.M(s, a.base, a.index, 0, a.disp);
    w.op("mov", m, w.I(s, immLo, immHi));
  } else if (fl) {
    const m = w.M(d.size, a.base, a.index, 0, a.disp);
    w.op(d.t === F32 ? "movss" : "movsd", m, w.X(st.reg[vi]!));
  } else {
    const r = st.gprOf(vi);
    const m = w.M(d.size, a.base, a.index, 0, a.disp);
    w.op("mov", m, w.R(d.size, r));
  }
  st.drop(2);
}

/** memory.size in pages, memory.grow through the embedding's hook. */
function memorySize(fc: FunctionCompiler): void {
  const st = fc.st;
  const w = fc.w;
  const r = st.allocGpr();
  w.op("mov", w.R(4, r), w.MS(4, memSym(fc), MEMDESC_PAGES));
  st.pushReg(I32, r);
}

function memoryGrow(fc: FunctionCompiler): void {
  const st = fc.st;
  const w = fc.w;
  const sym = memSym(fc);
  const i = st.sp - 1;
  st.spillAllBelow(i);
  st.move(I32, { k: L_GPR, r: RDI, lo: 0, hi: 0 }, st.loc(i));
  st.drop(1);
  w.op("lea", w.R(8, RSI), w.MS(0, sym));
  w.branchSym("call", SYM_MEMORY_GROW);
  st.pushReg(I32, RAX);
}

/** Traps unless reg + len <= the memory's byte size (reg and len zero-extended 32-bit values). */
function rangeCheck(fc: FunctionCompiler, reg: number, len: number, limit: () => number): void {
  const w = fc.w;
  w.op("lea", w.R(8, R11), w.M(0, reg, len, 0, 0));
  w.op("cmp", w.R(8, R11), limit());
  w.branch("ja", fc.trapLabel(TRAP_OUT_OF_BOUNDS_MEMORY));
}

function memoryFill(fc: FunctionCompiler): void {
  const w = fc.w;
  const sym = memSym(fc);
  fc.argsToGprs([RDI, RAX, RCX]);
  rangeCheck(fc, RDI, RCX, () => w.MS(8, sym, MEMDESC_BYTES));
  if (fc.memoryModel !== "user") w.op("add", w.R(8, RDI), w.R(8, MEMORY_BASE_REG));
  w.op("rep stosb", w.M(1, RDI, NONE, 0, 0), w.R(1, RAX));
}

function memoryCopy(fc: FunctionCompiler): void {
  const w = fc.w;
  const sym = memSym(fc);
  fc.argsToGprs([RDI, RSI, RCX]);
  rangeCheck(fc, RDI, RCX, () => w.MS(8, sym, MEMDESC_BYTES));
  rangeCheck(fc, RSI, RCX, () => w.MS(8, sym, MEMDESC_BYTES));
  if (fc.memoryModel !== "user") {
    w.op("add", w.R(8, RDI), w.R(8, MEMORY_BASE_REG));
    w.op("add", w.R(8, RSI), w.R(8, MEMORY_BASE_REG));
  }
  // Overlapping with the destination above the source: copy backwards.
  const done = w.newLabel();
  const backward = fc.outOfLineCode(() => {
    w.op("lea", w.R(8, RSI), w.M(0, RSI, RCX, 0, -1));
    w.op("lea", w.R(8, RDI), w.M(0, RDI, RCX, 0, -1));
    w.op("std");
    w.op("rep movsb", w.M(1, RDI, NONE, 0, 0), w.M(1, RSI, NONE, 0, 0));
    w.op("cld");
    w.branch("jmp", done);
  });
  w.op("cmp", w.R(8, RDI), w.R(8, RSI));
  w.branch("ja", backward);
  w.op("rep movsb", w.M(1, RDI, NONE, 0, 0), w.M(1, RSI, NONE, 0, 0));
  w.bind(done);
}

function memoryInit(fc: FunctionCompiler, seg: number): void {
  const w = fc.w;
  const sym = memSym(fc);
  if (seg >= fc.mc.m.datas.length) throw new WasmCompileError("invalid", `function ${fc.funcIndex}: unknown data segment ${seg}`);
  fc.argsToGprs([RDI, RSI, RCX], [RAX]);
  // Source range within the segment's current length (0 once dropped), destination within memory.
  w.op("mov", w.R(4, RAX), w.MS(4, fc.mc.sym.dataLen(seg)));
  w.op("lea", w.R(8, R11), w.M(0, RSI, RCX, 0, 0));
  w.op("cmp", w.R(8, R11), w.R(8, RAX));
  w.branch("ja", fc.trapLabel(TRAP_OUT_OF_BOUNDS_MEMORY));
  rangeCheck(fc, RDI, RCX, () => w.MS(8, sym, MEMDESC_BYTES));
  w.op("lea", w.R(8, R11), w.MS(0, fc.mc.sym.data(seg)));
  w.op("add", w.R(8, RSI), w.R(8, R11));
  if (fc.memoryModel !== "user") w.op("add", w.R(8, RDI), w.R(8, MEMORY_BASE_REG));
  w.op("rep movsb", w.M(1, RDI, NONE, 0, 0), w.M(1, RSI, NONE, 0, 0));
}

function dataDrop(fc: FunctionCompiler, seg: number): void {
  const w = fc.w;
  if (seg >= fc.mc.m.datas.length) throw new WasmCompileError("invalid", `function ${fc.funcIndex}: unknown data segment ${seg}`);
  w.op("mov", w.MS(4, fc.mc.sym.dataLen(seg)), w.I(4, 0));
}

/** Returns true when `op` was a memory operator and has been compiled. */
export function emitMemoryOp(fc: FunctionCompiler, op: IOperatorInformation): boolean {
  const code = op.code;
  const ld = LOADS[code];
  if (ld !== undefined) { memSym(fc); load(fc, ld, op.memoryAddress!.offset >>> 0); return true; }
  const sd = STORES[code];
  if (sd !== undefined) { memSym(fc); store(fc, sd, op.memoryAddress!.offset >>> 0); return true; }
  switch (code) {
    case OP.memory_size: memorySize(fc); return true;
    case OP.memory_grow: memoryGrow(fc); return true;
    case OP.memory_fill: memoryFill(fc); return true;
    case OP.memory_copy: memoryCopy(fc); return true;
    case OP.memory_init: memoryInit(fc, op.segmentIndex!); return true;
    case OP.data_drop: dataDrop(fc, op.segmentIndex!); return true;
    default: return false;
  }
}
