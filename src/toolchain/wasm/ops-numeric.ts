// Numeric operators: integer and float arithmetic, comparisons (left pending in
// the flags for their consumer), bit counting, and every conversion. Each
// operator reads its operands from the abstract stack in whatever form they are
// (register, local, slot, constant) and folds constants into immediates.
import { XMM_TEMP, TRAP_INT_DIVIDE_BY_ZERO, TRAP_INT_OVERFLOW, TRAP_INVALID_CONVERSION } from "./abi.js";
import type { FunctionCompiler } from "./compile-function.js";
import {
  CC_A, CC_AE, CC_B, CC_BE, CC_E, CC_FEQ, CC_FNE, CC_G, CC_GE, CC_L, CC_LE, CC_NE,
  K_CONST, K_FLAGS, K_LOCAL, K_REG, K_SLOT, L_GPR, L_XMM, sizeOf,
} from "./func-state.js";
import { OP } from "./opcodes.js";
import { F32, F64, I32, I64, type ValType } from "./types.js";
import { NONE, R11, RAX, RBP, RCX, RDX } from "./x64-writer.js";

// Float bit patterns used by the sequences below.
const F32_ABS = 0x7fffffff, F32_SIGN = 0x80000000 | 0;
const F64_ABS_HI = 0x7fffffff, F64_SIGN_HI = 0x80000000 | 0;

function f32bits(v: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v, true);
  return b.getInt32(0, true);
}

function f64bits(v: number): { lo: number; hi: number } {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v, true);
  return { lo: b.getInt32(0, true), hi: b.getInt32(4, true) };
}

/** Returns true when `code` was a numeric operator and has been compiled. */
export function emitNumericOp(fc: FunctionCompiler, code: number): boolean {
  switch (code) {
    // ---- i32 / i64 arithmetic
    case OP.i32_add: intBinary(fc, I32, "add", true); return true;
    case OP.i32_sub: intBinary(fc, I32, "sub", false); return true;
    case OP.i32_mul: intBinary(fc, I32, "imul", true); return true;
    case OP.i32_and: intBinary(fc, I32, "and", true); return true;
    case OP.i32_or: intBinary(fc, I32, "or", true); return true;
    case OP.i32_xor: intBinary(fc, I32, "xor", true); return true;
    case OP.i64_add: intBinary(fc, I64, "add", true); return true;
    case OP.i64_sub: intBinary(fc, I64, "sub", false); return true;
    case OP.i64_mul: intBinary(fc, I64, "imul", true); return true;
    case OP.i64_and: intBinary(fc, I64, "and", true); return true;
    case OP.i64_or: intBinary(fc, I64, "or", true); return true;
    case OP.i64_xor: intBinary(fc, I64, "xor", true); return true;
    case OP.i32_shl: shift(fc, I32, "shl"); return true;
    case OP.i32_shr_s: shift(fc, I32, "sar"); return true;
    case OP.i32_shr_u: shift(fc, I32, "shr"); return true;
    case OP.i32_rotl: shift(fc, I32, "rol"); return true;
    case OP.i32_rotr: shift(fc, I32, "ror"); return true;
    case OP.i64_shl: shift(fc, I64, "shl"); return true;
    case OP.i64_shr_s: shift(fc, I64, "sar"); return true;
    case OP.i64_shr_u: shift(fc, I64, "shr"); return true;
    case OP.i64_rotl: shift(fc, I64, "rol"); return true;
    case OP.i64_rotr: shift(fc, I64, "ror"); return true;
    case OP.i32_div_s: divRem(fc, I32, true, false); return true;
    case OP.i32_div_u: divRem(fc, I32, false, false); return true;
    case OP.i32_rem_s: divRem(fc, I32, true, true); return true;
    case OP.i32_rem_u: divRem(fc, I32, false, true); return true;
    case OP.i64_div_s: divRem(fc, I64, true, false); return true;
    case OP.i64_div_u: divRem(fc, I64, false, false); return true;
    case OP.i64_rem_s: divRem(fc, I64, true, true); return true;
    case OP.i64_rem_u: divRem(fc, I64, false, true); return true;
    case OP.i32_clz: bitCount(fc, I32, "clz"); return true;
    case OP.i32_ctz: bitCount(fc, I32, "ctz"); return true;
    case OP.i32_popcnt: bitCount(fc, I32, "popcnt"); return true;
    case OP.i64_clz: bitCount(fc, I64, "clz"); return true;
    case OP.i64_ctz: bitCount(fc, I64, "ctz"); return true;
    case OP.i64_popcnt: bitCount(fc, I64, "popcnt"); return true;
    // ---- integer comparisons
    case OP.i32_eqz: eqz(fc, I32); return true;
    case OP.i64_eqz: eqz(fc, I64); return true;
    case OP.i32_eq: intCompare(fc, I32, CC_E); return true;
    case OP.i32_ne: intCompare(fc, I32, CC_NE); return true;
    case OP.i32_lt_s: intCompare(fc, I32, CC_L); return true;
    case OP.i32_lt_u: intCompare(fc, I32, CC_B); return true;
    case OP.i32_gt_s: intCompare(fc, I32, CC_G); return true;
    case OP.i32_gt_u: intCompare(fc, I32, CC_A); return true;
    case OP.i32_le_s: intCompare(fc, I32, CC_LE); return true;
    case OP.i32_le_u: intCompare(fc, I32, CC_BE); return true;
    case OP.i32_ge_s: intCompare(fc, I32, CC_GE); return true;
    case OP.i32_ge_u: intCompare(fc, I32, CC_AE); return true;
    case OP.i64_eq: intCompare(fc, I64, CC_E); return true;
    case OP.i64_ne: intCompare(fc, I64, CC_NE); return true;
    case OP.i64_lt_s: intCompare(fc, I64, CC_L); return true;
    case OP.i64_lt_u: intCompare(fc, I64, CC_B); return true;
    case OP.i64_gt_s: intCompare(fc, I64, CC_G); return true;
    case OP.i64_gt_u: intCompare(fc, I64, CC_A); return true;
    case OP.i64_le_s: intCompare(fc, I64, CC_LE); return true;
    case OP.i64_le_u: intCompare(fc, I64, CC_BE); return true;
    case OP.i64_ge_s: intCompare(fc, I64, CC_GE); return true;
    case OP.i64_ge_u: intCompare(fc, I64, CC_AE); return true;
    // ---- float arithmetic
    case OP.f32_add: floatBinary(fc, F32, "add", true); return true;
    case OP.f32_sub: floatBinary(fc, F32, "sub", false); return true;
    case OP.f32_mul: floatBinary(fc, F32, "mul", true); return true;
    case OP.f32_div: floatBinary(fc, F32, "div", false); return true;
    case OP.f64_add: floatBinary(fc, F64, "add", true); return true;
    case OP.f64_sub: floatBinary(fc, F64, "sub", false); return true;
    case OP.f64_mul: floatBinary(fc, F64, "mul", true); return true;
    case OP.f64_div: floatBinary(fc, F64, "div", false); return true;
    case OP.f32_min: minMax(fc, F32, true); return true;
    case OP.f32_max: minMax(fc, F32, false); return true;
    case OP.f64_min: minMax(fc, F64, true); return true;
    case OP.f64_max: minMax(fc, F64, false); return true;
    case OP.f32_sqrt: floatUnary(fc, F32, "sqrtss"); return true;
    case OP.f64_sqrt: floatUnary(fc, F64, "sqrtsd"); return true;
    case OP.f32_abs: signOp(fc, F32, "abs"); return true;
    case OP.f32_neg: signOp(fc, F32, "neg"); return true;
    case OP.f64_abs: signOp(fc, F64, "abs"); return true;
    case OP.f64_neg: signOp(fc, F64, "neg"); return true;
    case OP.f32_copysign: copysign(fc, F32); return true;
    case OP.f64_copysign: copysign(fc, F64); return true;
    case OP.f32_ceil: round(fc, F32, 2); return true;
    case OP.f32_floor: round(fc, F32, 1); return true;
    case OP.f32_trunc: round(fc, F32, 3); return true;
    case OP.f32_nearest: round(fc, F32, 0); return true;
    case OP.f64_ceil: round(fc, F64, 2); return true;
    case OP.f64_floor: round(fc, F64, 1); return true;
    case OP.f64_trunc: round(fc, F64, 3); return true;
    case OP.f64_nearest: round(fc, F64, 0); return true;
    // ---- float comparisons: ucomis sets CF/ZF/PF; "above" conditions are false for NaN.
    case OP.f32_eq: floatCompare(fc, false, CC_FEQ); return true;
    case OP.f32_ne: floatCompare(fc, false, CC_FNE); return true;
    case OP.f32_lt: floatCompare(fc, true, CC_A); return true;
    case OP.f32_gt: floatCompare(fc, false, CC_A); return true;
    case OP.f32_le: floatCompare(fc, true, CC_AE); return true;
    case OP.f32_ge: floatCompare(fc, false, CC_AE); return true;
    case OP.f64_eq: floatCompare(fc, false, CC_FEQ); return true;
    case OP.f64_ne: floatCompare(fc, false, CC_FNE); return true;
    case OP.f64_lt: floatCompare(fc, true, CC_A); return true;
    case OP.f64_gt: floatCompare(fc, false, CC_A); return true;
    case OP.f64_le: floatCompare(fc, true, CC_AE); return true;
    case OP.f64_ge: floatCompare(fc, false, CC_AE); return true;
    // ---- integer width changes
    case OP.i32_wrap_i64: wrap(fc); return true;
    case OP.i64_extend_i32_u: extendU(fc); return true;
    case OP.i64_extend_i32_s: signExtend(fc, I64, 4); return true;
    case OP.i32_extend8_s: signExtend(fc, I32, 1); return true;
    case OP.i32_extend16_s: signExtend(fc, I32, 2); return true;
    case OP.i64_extend8_s: signExtend(fc, I64, 1); return true;
    case OP.i64_extend16_s: signExtend(fc, I64, 2); return true;
    case OP.i64_extend32_s: signExtend(fc, I64, 4); return true;
    // ---- reinterpretations
    case OP.i32_reinterpret_f32: reinterpret(fc, I32); return true;
    case OP.i64_reinterpret_f64: reinterpret(fc, I64); return true;
    case OP.f32_reinterpret_i32: reinterpret(fc, F32); return true;
    case OP.f64_reinterpret_i64: reinterpret(fc, F64); return true;
    // ---- float <-> float
    case OP.f32_demote_f64: floatUnary(fc, F32, "cvtsd2ss"); return true;
    case OP.f64_promote_f32: floatUnary(fc, F64, "cvtss2sd"); return true;
    // ---- int -> float
    case OP.f32_convert_i32_s: convertToFloat(fc, F32, I32, true); return true;
    case OP.f32_convert_i32_u: convertToFloat(fc, F32, I32, false); return true;
    case OP.f32_convert_i64_s: convertToFloat(fc, F32, I64, true); return true;
    case OP.f32_convert_i64_u: convertToFloat(fc, F32, I64, false); return true;
    case OP.f64_convert_i32_s: convertToFloat(fc, F64, I32, true); return true;
    case OP.f64_convert_i32_u: convertToFloat(fc, F64, I32, false); return true;
    case OP.f64_convert_i64_s: convertToFloat(fc, F64, I64, true); return true;
    case OP.f64_convert_i64_u: convertToFloat(fc, F64, I64, false); return true;
    // ---- float -> int (trapping and saturating)
    case OP.i32_trunc_f32_s: truncToInt(fc, I32, true, false); return true;
    case OP.i32_trunc_f32_u: truncToInt(fc, I32, false, false); return true;
    case OP.i32_trunc_f64_s: truncToInt(fc, I32, true, false); return true;
    case OP.i32_trunc_f64_u: truncToInt(fc, I32, false, false); return true;
    case OP.i64_trunc_f32_s: truncToInt(fc, I64, true, false); return true;
    case OP.i64_trunc_f32_u: truncToInt(fc, I64, false, false); return true;
    case OP.i64_trunc_f64_s: truncToInt(fc, I64, true, false); return true;
    case OP.i64_trunc_f64_u: truncToInt(fc, I64, false, false); return true;
    case OP.i32_trunc_sat_f32_s: truncToInt(fc, I32, true, true); return true;
    case OP.i32_trunc_sat_f32_u: truncToInt(fc, I32, false, true); return true;
    case OP.i32_trunc_sat_f64_s: truncToInt(fc, I32, true, true); return true;
    case OP.i32_trunc_sat_f64_u: truncToInt(fc, I32, false, true); return true;
    case OP.i64_trunc_sat_f32_s: truncToInt(fc, I64, true, true); return true;
    case OP.i64_trunc_sat_f32_u: truncToInt(fc, I64, false, true); return true;
    case OP.i64_trunc_sat_f64_s: truncToInt(fc, I64, true, true); return true;
    case OP.i64_trunc_sat_f64_u: truncToInt(fc, I64, false, true); return true;
    default:
      return false;
  }
}

// =====================================================================
// Helpers
// =====================================================================

/** Replaces the top `n` entries with a register result. */
function result(fc: FunctionCompiler, n: number, t: ValType, reg: number): void {
  const st = fc.st;
  // Detach reg from whichever consumed entry owns it, then drop them and re-own.
  st.drop(n);
  st.pushReg(t, reg);
}

function isConst(fc: FunctionCompiler, i: number): boolean {
  return fc.st.kind[i] === K_CONST;
}

function fold32(mn: string, a: number, b: number): number | null {
  switch (mn) {
    case "add": return (a + b) | 0;
    case "sub": return (a - b) | 0;
    case "imul": return Math.imul(a, b);
    case "and": return a & b;
    case "or": return a | b;
    case "xor": return a ^ b;
    case "shl": return a << (b & 31);
    case "sar": return a >> (b & 31);
    case "shr": return (a >>> (b & 31)) | 0;
    case "rol": { const c = b & 31; return c === 0 ? a : (a << c) | (a >>> (32 - c)); }
    case "ror": { const c = b & 31; return c === 0 ? a : (a >>> c) | (a << (32 - c)); }
    default: return null;
  }
}

/**
 * Constant folding of an i32 binary operator: when both operands on top of the
 * abstract stack are constants, replaces them with `fold(a, b)` and returns true.
 */
function foldConstPair(fc: FunctionCompiler, t: ValType, fold: (a: number, b: number) => number): boolean {
  const st = fc.st;
  const a = st.sp - 2;
  const b = st.sp - 1;
  if (t !== I32 || !isConst(fc, a) || !isConst(fc, b)) return false;
  const v = fold(st.lo[a]!, st.lo[b]!);
  st.drop(2);
  st.pushConst(I32, v, 0);
  return true;
}

function fitsImm32(fc: FunctionCompiler, i: number): boolean {
  const st = fc.st;
  return st.kind[i] === K_CONST && (st.type(i) === I32 || st.hi[i] === (st.lo[i]! >> 31));
}

// =====================================================================
// Integer arithmetic
// =====================================================================

function intBinary(fc: FunctionCompiler, t: ValType, mn: string, commutative: boolean): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  let a = st.sp - 2;
  let b = st.sp - 1;
  if (foldConstPair(fc, t, (x, y) => fold32(mn, x, y)!)) return;
  // add of two non-register operands (locals, constants): one lea into a fresh register.
  if (mn === "add" && st.kind[a] !== K_REG && st.kind[b] !== K_REG) {
    let ra = st.gprOf(a), rb = st.gprOf(b);
    if (ra < 0 && rb >= 0 && fitsImm32(fc, a)) { [a, b] = [b, a]; [ra, rb] = [rb, ra]; }
    if (ra >= 0 && (rb >= 0 || fitsImm32(fc, b))) {
      const r = st.allocGpr();
      if (rb >= 0) w.op("lea", w.R(s, r), w.M(0, ra, rb, 0, 0));
      else w.op("lea", w.R(s, r), w.M(0, ra, NONE, 0, st.lo[b]!));
      result(fc, 2, t, r);
      return;
    }
  }
  if (commutative && st.kind[a] !== K_REG && st.kind[b] === K_REG) [a, b] = [b, a];
  const dst = st.toReg(a);
  if (mn === "imul" && st.kind[b] === K_CONST) {
    if (fitsImm32(fc, b)) w.op("imul", w.R(s, dst), w.R(s, dst), w.I(s, st.lo[b]!, st.hi[b]!));
    else w.op("imul", w.R(s, dst), st.intSrc(b, s));
  } else {
    const src = st.intSrc(b, s);
    w.op(mn, w.R(s, dst), src);
  }
  result(fc, 2, t, dst);
}

function shift(fc: FunctionCompiler, t: ValType, mn: string): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  const a = st.sp - 2;
  const b = st.sp - 1;
  if (foldConstPair(fc, t, (x, y) => fold32(mn, x, y)!)) return;
  if (isConst(fc, b)) {
    const count = st.lo[b]! & (s * 8 - 1);
    const dst = st.toReg(a);
    if (count !== 0) w.op(mn, w.R(s, dst), w.U8(count));
    result(fc, 2, t, dst);
    return;
  }
  st.toSpecificGpr(b, RCX);
  const dst = st.toReg(a, 1 << RCX);
  w.op(mn, w.R(s, dst), w.R(1, RCX));
  result(fc, 2, t, dst);
}

function divRem(fc: FunctionCompiler, t: ValType, signed: boolean, rem: boolean): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  const a = st.sp - 2;
  const b = st.sp - 1;
  const bConst = isConst(fc, b);
  const bLo = st.lo[b]!, bHi = t === I64 ? st.hi[b]! : (st.lo[b]! >> 31);
  // Unsigned division by a power of two: a shift or a mask.
  if (bConst && !signed) {
    const pow = powerOfTwo(t, bLo, bHi);
    if (pow >= 0) {
      const dst = st.toReg(a);
      if (rem) {
        if (pow < 31 || (t === I32 && pow <= 31)) {
          if (t === I32) w.op("and", w.R(4, dst), w.I(4, pow === 31 ? 0x7fffffff : (1 << pow) - 1));
          else w.op("and", w.R(8, dst), w.I(8, (1 << pow) - 1, 0));
        } else {
          // 64-bit mask wider than an imm32: shift left then right.
          w.op("shl", w.R(8, dst), w.U8(64 - pow));
          w.op("shr", w.R(8, dst), w.U8(64 - pow));
        }
      } else if (pow > 0) {
        w.op("shr", w.R(s, dst), w.U8(pow));
      }
      result(fc, 2, t, dst);
      return;
    }
  }
  st.toSpecificGpr(a, RAX);
  st.evictGpr(RDX, (1 << RAX) | (st.kind[b] === K_REG ? 1 << st.reg[b]! : 0));
  // The divisor: a register other than RAX/RDX, or memory.
  let divisor: () => number;
  if (bConst) {
    w.op("mov", w.R(s, R11), w.I(s, bLo, bHi));
    divisor = () => w.R(s, R11);
  } else {
    divisor = () => st.intSrc(b, s);
  }
  const offset = fc.opOffset;
  if (!bConst) {
    const rb = st.gprOf(b);
    if (rb >= 0) w.op("test", w.R(s, rb), w.R(s, rb));
    else w.op("cmp", st.intSrc(b, s), w.I(s, 0));
    w.branch("je", fc.trapLabel(TRAP_INT_DIVIDE_BY_ZERO, offset));
  } else if (bLo === 0 && bHi === 0) {
    w.branch("jmp", fc.trapLabel(TRAP_INT_DIVIDE_BY_ZERO, offset));
  }
  const done = w.newLabel();
  if (signed && (!bConst || (bLo === -1 && bHi === -1))) {
    const normal = w.newLabel();
    if (!bConst) {
      w.op("cmp", divisor(), w.I(s, -1));
      w.branch("jne", normal, true);
    }
    if (rem) {
      w.op("xor", w.R(4, RDX), w.R(4, RDX));
      w.branch("jmp", done);
    } else {
      // INT_MIN / -1 overflows: cmp x, 1 sets OF exactly when x is INT_MIN.
      w.op("cmp", w.R(s, RAX), w.I(s, 1));
      w.branch("jo", fc.trapLabel(TRAP_INT_OVERFLOW, offset));
    }
    w.bind(normal);
  }
  if (signed) {
    w.op(s === 4 ? "cdq" : "cqo");
    w.op("idiv", divisor());
  } else {
    w.op("xor", w.R(4, RDX), w.R(4, RDX));
    w.op("div", divisor());
  }
  w.bind(done);
  st.drop(2);
  st.pushReg(t, rem ? RDX : RAX);
}

function powerOfTwo(t: ValType, lo: number, hi: number): number {
  if (t === I32 || hi === 0) {
    if (t === I64 && hi !== 0) return -1;
    const u = lo >>> 0;
    if (u === 0 || (u & (u - 1)) !== 0) return -1;
    return 31 - Math.clz32(u);
  }
  if (lo !== 0) return -1;
  const u = hi >>> 0;
  if ((u & (u - 1)) !== 0) return -1;
  return 63 - Math.clz32(u);
}

function bitCount(fc: FunctionCompiler, t: ValType, what: "clz" | "ctz" | "popcnt"): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  const a = st.sp - 1;
  const feats = fc.mc.opts.features;
  const bits = s * 8;
  if (what === "popcnt" && !feats.popcnt) { popcountSoft(fc, t); return; }
  const dst = st.allocGpr(st.kind[a] === K_REG ? 1 << st.reg[a]! : 0);
  const src = () => st.kind[a] === K_CONST ? constToR11(fc, a, s) : st.intSrc(a, s);
  if (what === "clz") {
    if (feats.lzcnt) w.op("lzcnt", w.R(s, dst), src());
    else {
      w.op("bsr", w.R(s, dst), src());
      w.op("mov", w.R(4, R11), w.I(4, 2 * bits - 1));
      w.op("cmovz", w.R(s, dst), w.R(s, R11));
      w.op("xor", w.R(s, dst), w.I(s, bits - 1));
    }
  } else if (what === "ctz") {
    if (feats.bmi1) w.op("tzcnt", w.R(s, dst), src());
    else {
      w.op("bsf", w.R(s, dst), src());
      w.op("mov", w.R(4, R11), w.I(4, bits));
      w.op("cmovz", w.R(s, dst), w.R(s, R11));
    }
  } else {
    w.op("popcnt", w.R(s, dst), src());
  }
  result(fc, 1, t, dst);
}

function constToR11(fc: FunctionCompiler, i: number, s: number): number {
  const w = fc.w;
  w.op("mov", w.R(s, R11), w.I(s, fc.st.lo[i]!, fc.st.hi[i]!));
  return w.R(s, R11);
}

/** Population count without the POPCNT instruction (SWAR: pairs, nibbles, bytes, then a multiply). */
function popcountSoft(fc: FunctionCompiler, t: ValType): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  const x = st.toReg(st.sp - 1);
  const k = st.allocGpr(1 << x);
  const mask = (m32: number) => {
    if (s === 4) return w.I(4, m32);
    w.op("mov", w.R(8, k), w.I(8, m32, m32));
    return w.R(8, k);
  };
  w.op("mov", w.R(s, R11), w.R(s, x));
  w.op("shr", w.R(s, R11), w.U8(1));
  w.op("and", w.R(s, R11), mask(0x55555555));
  w.op("sub", w.R(s, x), w.R(s, R11));
  w.op("mov", w.R(s, R11), w.R(s, x));
  w.op("shr", w.R(s, R11), w.U8(2));
  w.op("and", w.R(s, R11), mask(0x33333333));
  w.op("and", w.R(s, x), mask(0x33333333));
  w.op("add", w.R(s, x), w.R(s, R11));
  w.op("mov", w.R(s, R11), w.R(s, x));
  w.op("shr", w.R(s, R11), w.U8(4));
  w.op("add", w.R(s, x), w.R(s, R11));
  w.op("and", w.R(s, x), mask(0x0f0f0f0f));
  if (s === 4) w.op("imul", w.R(4, x), w.R(4, x), w.I(4, 0x01010101));
  else { w.op("mov", w.R(8, k), w.I(8, 0x01010101, 0x01010101)); w.op("imul", w.R(8, x), w.R(8, k)); }
  w.op("shr", w.R(s, x), w.U8(s * 8 - 8));
  result(fc, 1, t, x);
}

// =====================================================================
// Integer comparisons
// =====================================================================

const SWAP_CC: Record<number, number> = {
  [CC_E]: CC_E, [CC_NE]: CC_NE, [CC_L]: CC_G, [CC_G]: CC_L, [CC_LE]: CC_GE, [CC_GE]: CC_LE,
  [CC_B]: CC_A, [CC_A]: CC_B, [CC_BE]: CC_AE, [CC_AE]: CC_BE,
};

function evalCC(cc: number, a: number, b: number): boolean {
  const ua = a >>> 0, ub = b >>> 0;
  switch (cc) {
    case CC_E: return a === b;
    case CC_NE: return a !== b;
    case CC_L: return a < b;
    case CC_G: return a > b;
    case CC_LE: return a <= b;
    case CC_GE: return a >= b;
    case CC_B: return ua < ub;
    case CC_A: return ua > ub;
    case CC_BE: return ua <= ub;
    default: return ua >= ub;
  }
}

function intCompare(fc: FunctionCompiler, t: ValType, cc: number): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  let a = st.sp - 2;
  let b = st.sp - 1;
  if (foldConstPair(fc, t, (x, y) => (evalCC(cc, x, y) ? 1 : 0))) return;
  if (isConst(fc, a) && !isConst(fc, b)) { [a, b] = [b, a]; cc = SWAP_CC[cc]!; }
  let ra = st.gprOf(a);
  // The first operand must be a register or memory; two memory operands are not encodable.
  if (ra < 0 && (st.kind[a] === K_CONST || (st.kind[b] !== K_CONST && st.gprOf(b) < 0))) ra = st.toReg(a);
  if (ra >= 0) {
    const src = st.intSrc(b, s);
    w.op("cmp", w.R(s, ra), src);
  } else if (st.kind[b] === K_CONST && !fitsImm32(fc, b)) {
    const src = st.intSrc(b, s); // via R11
    w.op("cmp", st.intSrc(a, s), src);
  } else {
    const src = st.intSrc(b, s);
    const dst = st.intSrc(a, s);
    w.op("cmp", dst, src);
  }
  st.drop(2);
  st.pushFlags(cc);
}

function eqz(fc: FunctionCompiler, t: ValType): void {
  const st = fc.st;
  const w = fc.w;
  const s = sizeOf(t);
  const i = st.sp - 1;
  if (st.kind[i] === K_FLAGS) {
    st.lo[i] = st.lo[i]! ^ 1;
    return;
  }
  if (st.kind[i] === K_CONST) {
    const v = st.lo[i] === 0 && (t === I32 || st.hi[i] === 0) ? 1 : 0;
    st.drop(1);
    st.pushConst(I32, v, 0);
    return;
  }
  const r = st.gprOf(i);
  if (r >= 0) w.op("test", w.R(s, r), w.R(s, r));
  else w.op("cmp", st.intSrc(i, s), w.I(s, 0));
  st.drop(1);
  st.pushFlags(CC_E);
}

// =====================================================================
// Float arithmetic
// =====================================================================

function sfx(t: ValType): string {
  return t === F32 ? "ss" : "sd";
}

function floatBinary(fc: FunctionCompiler, t: ValType, op: string, commutative: boolean): void {
  const st = fc.st;
  const w = fc.w;
  let a = st.sp - 2;
  let b = st.sp - 1;
  if (commutative && st.kind[a] !== K_REG && st.kind[b] === K_REG) [a, b] = [b, a];
  const dst = st.toReg(a);
  w.op(op + sfx(t), w.X(dst), st.floatSrc(b));
  result(fc, 2, t, dst);
}

/** dst = op(src) for single-operand float instructions (sqrt, demote, promote). */
function floatUnary(fc: FunctionCompiler, t: ValType, mn: string): void {
  const st = fc.st;
  const w = fc.w;
  const i = st.sp - 1;
  const dst = st.kind[i] === K_REG ? st.reg[i]! : st.allocXmm();
  w.op(mn, w.X(dst), st.floatSrc(i));
  if (st.kind[i] === K_REG) { st.drop(1); st.pushReg(t, dst); }
  else result(fc, 1, t, dst);
}

function maskConst(fc: FunctionCompiler, t: ValType, kind: "abs" | "sign"): number {
  const w = fc.w;
  const c = t === F32
    ? fc.mc.pool.floatConst(kind === "abs" ? F32_ABS : F32_SIGN, kind === "abs" ? F32_ABS : F32_SIGN, 16)
    : fc.mc.pool.floatConst(kind === "abs" ? -1 : 0, kind === "abs" ? F64_ABS_HI : F64_SIGN_HI, 16);
  return w.MS(16, c.symbol, c.addend);
}

function signOp(fc: FunctionCompiler, t: ValType, what: "abs" | "neg"): void {
  const st = fc.st;
  const w = fc.w;
  const dst = st.toReg(st.sp - 1);
  w.op(what === "abs" ? "andps" : "xorps", w.X(dst), maskConst(fc, t, what === "abs" ? "abs" : "sign"));
  result(fc, 1, t, dst);
}

function copysign(fc: FunctionCompiler, t: ValType): void {
  const st = fc.st;
  const w = fc.w;
  const a = st.sp - 2;
  const b = st.sp - 1;
  const dst = st.toReg(a);
  // XMM15 = sign of b.
  if (st.kind[b] === K_REG) w.op("movaps", w.X(XMM_TEMP), w.X(st.reg[b]!));
  else st.move(t, { k: L_XMM, r: XMM_TEMP, lo: 0, hi: 0 }, st.loc(b));
  w.op("andps", w.X(XMM_TEMP), maskConst(fc, t, "sign"));
  w.op("andps", w.X(dst), maskConst(fc, t, "abs"));
  w.op("orps", w.X(dst), w.X(XMM_TEMP));
  result(fc, 2, t, dst);
}

/** min/max with wasm semantics: NaN if either is NaN; -0 < +0. */
function minMax(fc: FunctionCompiler, t: ValType, isMin: boolean): void {
  const st = fc.st;
  const w = fc.w;
  const a = st.sp - 2;
  const b = st.sp - 1;
  const dst = st.toReg(a);
  const xb = st.kind[b] === K_REG ? st.reg[b]! : st.floatInXmm(b);
  const s = sfx(t);
  const done = w.newLabel();
  const nan = fc.outOfLineCode(() => {
    w.op(`add${s}`, w.X(dst), w.X(xb));
    w.branch("jmp", done);
  });
  w.op(`ucomi${s}`, w.X(dst), w.X(xb));
  w.branch("jp", nan);
  const notEqual = w.newLabel();
  w.branch("jne", notEqual, true);
  // Equal (possibly +0 and -0): the sign bits decide.
  w.op(isMin ? "orps" : "andps", w.X(dst), w.X(xb));
  w.branch("jmp", done, true);
  w.bind(notEqual);
  w.op(`${isMin ? "min" : "max"}${s}`, w.X(dst), w.X(xb));
  w.bind(done);
  result(fc, 2, t, dst);
}

/** ceil (2), floor (1), trunc (3), nearest (0): roundss/roundsd, or an SSE2 sequence. */
function round(fc: FunctionCompiler, t: ValType, mode: number): void {
  const st = fc.st;
  const w = fc.w;
  const s = sfx(t);
  if (fc.mc.opts.features.sse41) {
    const i = st.sp - 1;
    const dst = st.kind[i] === K_REG ? st.reg[i]! : st.allocXmm();
    w.op(`round${s}`, w.X(dst), st.floatSrc(i), w.U8(mode | 8));
    if (st.kind[i] === K_REG) { st.drop(1); st.pushReg(t, dst); } else result(fc, 1, t, dst);
    return;
  }
  const x = st.toReg(st.sp - 1);
  const pool = fc.mc.pool;
  const size = t === F32 ? 4 : 8;
  const cst = (v: number) => {
    const c = t === F32 ? pool.floatConst(f32bits(v), 0, 4) : pool.floatConst(f64bits(v).lo, f64bits(v).hi, 8);
    return w.MS(size, c.symbol, c.addend);
  };
  const big = t === F32 ? 8388608 : 4503599627370496; // 2^23, 2^52: every float this large is an integer
  const done = w.newLabel();
  // |x| >= big or NaN: x itself (NaN quieted by x + x).
  w.op("movaps", w.X(XMM_TEMP), w.X(x));
  w.op("andps", w.X(XMM_TEMP), maskConst(fc, t, "abs"));
  w.op(`ucomi${s}`, w.X(XMM_TEMP), cst(big));
  const large = fc.outOfLineCode(() => {
    w.op(`add${s}`, w.X(x), w.X(x));
    w.branch("jmp", done);
  });
  w.branch("jp", large);
  w.branch("jae", done);
  if (mode === 0) {
    // Round |x| to an integer in the current mode (nearest even) by adding and removing 2^23/2^52.
    w.op(`add${s}`, w.X(XMM_TEMP), cst(big));
    w.op(`sub${s}`, w.X(XMM_TEMP), cst(big));
  } else {
    const gs = t === F32 ? 4 : 8;
    w.op(`cvtt${s}2si`, w.R(gs, R11), w.X(x));
    w.op(`cvtsi2${s}`, w.X(XMM_TEMP), w.R(gs, R11));
    if (mode !== 3) {
      const ok = w.newLabel();
      if (mode === 1) {
        w.op(`ucomi${s}`, w.X(XMM_TEMP), w.X(x));
        w.branch("jbe", ok, true);
        w.op(`sub${s}`, w.X(XMM_TEMP), cst(1));
      } else {
        w.op(`ucomi${s}`, w.X(x), w.X(XMM_TEMP));
        w.branch("jbe", ok, true);
        w.op(`add${s}`, w.X(XMM_TEMP), cst(1));
      }
      w.bind(ok);
    }
  }
  // Result = the rounded magnitude with x's sign (keeps -0 and negative results below 1 in magnitude).
  w.op("andps", w.X(x), maskConst(fc, t, "sign"));
  w.op("andps", w.X(XMM_TEMP), maskConst(fc, t, "abs"));
  w.op("orps", w.X(x), w.X(XMM_TEMP));
  w.bind(done);
  result(fc, 1, t, x);
}

function floatCompare(fc: FunctionCompiler, swap: boolean, cc: number): void {
  const st = fc.st;
  const w = fc.w;
  const t = st.type(st.sp - 1);
  let a = st.sp - 2;
  let b = st.sp - 1;
  if (swap) [a, b] = [b, a];
  const xa = st.kind[a] === K_REG ? st.reg[a]! : st.floatInXmm(a);
  w.op(`ucomi${sfx(t)}`, w.X(xa), st.floatSrc(b));
  st.drop(2);
  st.pushFlags(cc);
}

// =====================================================================
// Width changes and reinterpretation
// =====================================================================

function wrap(fc: FunctionCompiler): void {
  const st = fc.st;
  const w = fc.w;
  const i = st.sp - 1;
  switch (st.kind[i]) {
    case K_CONST: st.hi[i] = 0; st.vtype[i] = I32; return;
    case K_SLOT: st.vtype[i] = I32; return;
    case K_REG: w.op("mov", w.R(4, st.reg[i]!), w.R(4, st.reg[i]!)); st.vtype[i] = I32; return;
    default: {
      const r = st.allocGpr();
      w.op("mov", w.R(4, r), st.intSrc(i, 4));
      result(fc, 1, I32, r);
    }
  }
}

function extendU(fc: FunctionCompiler): void {
  const st = fc.st;
  const w = fc.w;
  const i = st.sp - 1;
  if (st.kind[i] === K_CONST) { st.hi[i] = 0; st.vtype[i] = I64; return; }
  if (st.kind[i] === K_REG) { st.vtype[i] = I64; return; } // i32 registers are kept zero-extended
  const r = st.allocGpr();
  w.op("mov", w.R(4, r), st.intSrc(i, 4));
  result(fc, 1, I64, r);
}

/** movsx/movsxd from `from` bytes of the operand to the result type. */
function signExtend(fc: FunctionCompiler, t: ValType, from: number): void {
  const st = fc.st;
  const w = fc.w;
  const i = st.sp - 1;
  const s = sizeOf(t);
  if (st.kind[i] === K_CONST) {
    let lo = st.lo[i]!;
    lo = from === 1 ? (lo << 24) >> 24 : from === 2 ? (lo << 16) >> 16 : lo;
    st.drop(1);
    st.pushConst(t, lo, t === I64 ? lo >> 31 : 0);
    return;
  }
  const dst = st.kind[i] === K_REG ? st.reg[i]! : st.allocGpr();
  const srcOp = st.kind[i] === K_REG || (st.kind[i] === K_LOCAL && st.gprOf(i) >= 0)
    ? w.R(from, st.gprOf(i))
    : w.M(from, RBP, NONE, 0, st.kind[i] === K_SLOT ? st.slotDisp(i) : st.localDisp[st.lo[i]!]!);
  w.op(from === 4 ? "movsxd" : "movsx", w.R(s, dst), srcOp);
  if (st.kind[i] === K_REG) { st.drop(1); st.pushReg(t, dst); } else result(fc, 1, t, dst);
}

function reinterpret(fc: FunctionCompiler, to: ValType): void {
  const st = fc.st;
  const i = st.sp - 1;
  const k = st.kind[i];
  if (k === K_CONST || k === K_SLOT) { st.vtype[i] = to; return; }
  const toFloat = to === F32 || to === F64;
  const r = toFloat ? st.allocXmm() : st.allocGpr();
  st.move(to, { k: toFloat ? L_XMM : L_GPR, r, lo: 0, hi: 0 }, st.loc(i));
  result(fc, 1, to, r);
}

// =====================================================================
// Conversions between integers and floats
// =====================================================================

function convertToFloat(fc: FunctionCompiler, t: ValType, from: ValType, signed: boolean): void {
  const st = fc.st;
  const w = fc.w;
  const s = sfx(t);
  const i = st.sp - 1;
  if (from === I32) {
    const d = st.allocXmm();
    if (signed) w.op(`cvtsi2${s}`, w.X(d), st.kind[i] === K_CONST ? constToR11(fc, i, 4) : st.intSrc(i, 4));
    else {
      // Zero-extended to 64 bits, then a signed 64-bit conversion.
      let r = st.gprOf(i);
      if (r < 0) { w.op("mov", w.R(4, R11), st.intSrc(i, 4)); r = R11; }
      w.op(`cvtsi2${s}`, w.X(d), w.R(8, r));
    }
    result(fc, 1, t, d);
    return;
  }
  if (signed) {
    const d = st.allocXmm();
    const src = st.kind[i] === K_CONST ? constToR11(fc, i, 8) : st.intSrc(i, 8);
    w.op(`cvtsi2${s}`, w.X(d), src);
    result(fc, 1, t, d);
    return;
  }
  // Unsigned 64-bit: values with the top bit set are halved (keeping the low bit sticky), converted, doubled.
  const r = st.toReg(i);
  const d = st.allocXmm();
  const done = w.newLabel();
  const big = fc.outOfLineCode(() => {
    w.op("mov", w.R(8, R11), w.R(8, r));
    w.op("shr", w.R(8, R11), w.U8(1));
    w.op("and", w.R(4, r), w.I(4, 1));
    w.op("or", w.R(8, R11), w.R(8, r));
    w.op(`cvtsi2${s}`, w.X(d), w.R(8, R11));
    w.op(`add${s}`, w.X(d), w.X(d));
    w.branch("jmp", done);
  });
  w.op("test", w.R(8, r), w.R(8, r));
  w.branch("js", big);
  w.op(`cvtsi2${s}`, w.X(d), w.R(8, r));
  w.bind(done);
  result(fc, 1, t, d);
}

/**
 * Float to integer, truncating toward zero. cvtt* produces the "integer
 * indefinite" value (the minimum) on NaN or overflow; a slow path out of line
 * tells a genuine minimum from an error and traps (or saturates).
 */
function truncToInt(fc: FunctionCompiler, t: ValType, signed: boolean, sat: boolean): void {
  const st = fc.st;
  const w = fc.w;
  const src = st.sp - 1;
  const ft = st.type(src);
  const s = sfx(ft);
  const fsize = ft === F32 ? 4 : 8;
  const pool = fc.mc.pool;
  const cst = (v: number) => {
    const c = ft === F32 ? pool.floatConst(f32bits(v), 0, 4) : pool.floatConst(f64bits(v).lo, f64bits(v).hi, 8);
    return w.MS(fsize, c.symbol, c.addend);
  };
  const x = st.kind[src] === K_REG ? st.reg[src]! : st.floatInXmm(src);
  const r = st.allocGpr();
  const offset = fc.opOffset;
  const done = w.newLabel();
  const trapInvalid = () => fc.trapLabel(TRAP_INVALID_CONVERSION, offset);
  const trapOverflow = () => fc.trapLabel(TRAP_INT_OVERFLOW, offset);

  if (t === I32 && signed) {
    w.op(`cvtt${s}2si`, w.R(4, r), w.X(x));
    const slow = fc.outOfLineCode(() => {
      if (sat) {
        const zero = w.newLabel();
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", zero, true);
        w.op(`ucomi${s}`, w.X(x), cst(0));
        w.branch("jb", done);
        w.op("mov", w.R(4, r), w.I(4, 0x7fffffff));
        w.branch("jmp", done);
        w.bind(zero);
        w.op("mov", w.R(4, r), w.I(4, 0));
        w.branch("jmp", done);
      } else {
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", trapInvalid());
        // Genuine INT32_MIN only for -2^31 - 1 < x < 2^31.
        w.op(`ucomi${s}`, w.X(x), cst(ft === F32 ? -2147483648 : -2147483649));
        w.branch(ft === F32 ? "jb" : "jbe", trapOverflow());
        w.op(`ucomi${s}`, w.X(x), cst(2147483648));
        w.branch("jae", trapOverflow());
        w.branch("jmp", done);
      }
    });
    w.op("cmp", w.R(4, r), w.I(4, 1));
    w.branch("jo", slow);
  } else if (t === I32) {
    // Unsigned 32: convert as 64-bit; any result outside [0, 2^32) is an error or saturates.
    w.op(`cvtt${s}2si`, w.R(8, r), w.X(x));
    const slow = fc.outOfLineCode(() => {
      if (sat) {
        const zero = w.newLabel();
        w.op(`ucomi${s}`, w.X(x), cst(0));
        w.branch("jbe", zero, true);
        w.op("mov", w.R(4, r), w.I(4, -1));
        w.branch("jmp", done);
        w.bind(zero);
        w.op("mov", w.R(4, r), w.I(4, 0));
        w.branch("jmp", done);
      } else {
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", trapInvalid());
        w.branch("jmp", trapOverflow());
      }
    });
    w.op("mov", w.R(8, R11), w.R(8, r));
    w.op("shr", w.R(8, R11), w.U8(32));
    w.branch("jne", slow);
  } else if (signed) {
    w.op(`cvtt${s}2si`, w.R(8, r), w.X(x));
    const slow = fc.outOfLineCode(() => {
      if (sat) {
        const zero = w.newLabel();
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", zero, true);
        w.op(`ucomi${s}`, w.X(x), cst(0));
        w.branch("jb", done);
        w.op("mov", w.R(8, r), w.I(8, -1, 0x7fffffff));
        w.branch("jmp", done);
        w.bind(zero);
        w.op("mov", w.R(4, r), w.I(4, 0));
        w.branch("jmp", done);
      } else {
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", trapInvalid());
        // Genuine INT64_MIN only for x = -2^63 (no float lies strictly between -2^63 - 1 and -2^63).
        w.op(`ucomi${s}`, w.X(x), cst(-9223372036854775808));
        w.branch("je", done);
        w.branch("jmp", trapOverflow());
      }
    });
    w.op("cmp", w.R(8, r), w.I(8, 1));
    w.branch("jo", slow);
  } else {
    // Unsigned 64: below 2^63 convert directly; above, subtract 2^63 first and set the top bit.
    const big = fc.outOfLineCode(() => {
      if (!sat) {
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", trapInvalid());
      }
      const satMax = w.newLabel();
      if (x !== XMM_TEMP) w.op("movaps", w.X(XMM_TEMP), w.X(x));
      w.op(`sub${s}`, w.X(XMM_TEMP), cst(9223372036854775808));
      w.op(`cvtt${s}2si`, w.R(8, r), w.X(XMM_TEMP));
      w.op("test", w.R(8, r), w.R(8, r));
      w.branch("js", sat ? satMax : trapOverflow(), sat);
      w.op("btc", w.R(8, r), w.U8(63));
      w.branch("jmp", done);
      if (sat) {
        w.bind(satMax);
        w.op("mov", w.R(8, r), w.I(8, -1, -1));
        w.branch("jmp", done);
      }
    });
    const negative = fc.outOfLineCode(() => {
      if (sat) {
        w.op("mov", w.R(4, r), w.I(4, 0));
        w.branch("jmp", done);
      } else {
        w.op(`ucomi${s}`, w.X(x), w.X(x));
        w.branch("jp", trapInvalid());
        w.branch("jmp", trapOverflow());
      }
    });
    w.op(`ucomi${s}`, w.X(x), cst(9223372036854775808));
    w.branch("jae", big);
    w.op(`cvtt${s}2si`, w.R(8, r), w.X(x));
    w.op("test", w.R(8, r), w.R(8, r));
    w.branch("js", negative);
  }
  w.bind(done);
  result(fc, 1, t, r);
}
