// Scalar IEEE operations on one SSE lane, binary32 or binary64, with x86's
// exception rules: NaN propagation (first source's NaN, quieted), invalid
// operations (default NaN), divide by zero, denormal operands, then exact
// arithmetic handed to the rounding core. Operands and results are encodings
// (binary64 as lo/hi dwords, result high dword in out.hi); flags go to fp.
import {
  DEFAULT_NAN32, DEFAULT_NAN64_HI, F32, F64, QNAN_BIT32, QNAN_BIT64_HI, exponentOf, f32Bits, f32Value, f64Bits,
  f64Value, isNaN32, isNaN64, isSNaN32, isSNaN64, out, pow2, split,
} from "./ieee.js";
import { fp, MX_DE, MX_IE, MX_PE, MX_ZE, RC_DOWN, RC_ZERO } from "./mxcsr.js";
import { infOf, roundDouble, roundIntegral, roundToFormat, zeroOf } from "./round.js";

export const OP_ADD = 0;
export const OP_SUB = 1;
export const OP_MUL = 2;
export const OP_DIV = 3;

/** Set by the operand readers when an operand was a denormal (and DAZ is off). */
let sawDenormal = false;

/** Value of a non-NaN binary32 operand, DAZ applied. */
function val32(b: number): number {
  if ((b & 0x7f800000) === 0 && (b & 0x007fffff) !== 0) {
    if (fp.daz) return b < 0 ? -0 : 0;
    sawDenormal = true;
  }
  return f32Value(b);
}

/** Value of a non-NaN binary64 operand, DAZ applied. */
function val64(lo: number, hi: number): number {
  if ((hi & 0x7ff00000) === 0 && ((hi & 0x000fffff) !== 0 || lo !== 0)) {
    if (fp.daz) return hi < 0 ? -0 : 0;
    sawDenormal = true;
  }
  return f64Value(lo, hi);
}

/** A denormal operand is reported only when no higher-priority condition (NaN, invalid, divide by zero) ended the operation. */
function noteDenormal(): void {
  if (sawDenormal) fp.pre |= MX_DE;
}

function isNeg(x: number): boolean {
  return x < 0 || (x === 0 && 1 / x < 0);
}

function isInf(x: number): boolean {
  return x === Infinity || x === -Infinity;
}

/** Invalid operation: IE and the default NaN. */
function invalid(fmt: number): number {
  fp.pre |= MX_IE;
  if (fmt === F32) return DEFAULT_NAN32;
  out.hi = DEFAULT_NAN64_HI;
  return 0;
}

/** NaN operand(s) of a two-operand arithmetic operation: the first NaN, quieted; IE for an SNaN. */
function nanResult32(a: number, b: number): number {
  if (isSNaN32(a) || isSNaN32(b)) fp.pre |= MX_IE;
  return (isNaN32(a) ? a : b) | QNAN_BIT32;
}

function nanResult64(alo: number, ahi: number, blo: number, bhi: number): number {
  if (isSNaN64(alo, ahi) || isSNaN64(blo, bhi)) fp.pre |= MX_IE;
  if (isNaN64(alo, ahi)) {
    out.hi = ahi | QNAN_BIT64_HI;
    return alo;
  }
  out.hi = bhi | QNAN_BIT64_HI;
  return blo;
}

// ---- error-free transformations -------------------------------------------------------

/** Error of the product p = RN(a*b) for 1 <= |a|, |b| < 4 (Dekker/Veltkamp; exact in that range). */
function productError(a: number, b: number, p: number): number {
  let c = 134217729 * a; // 2^27 + 1
  const ah = c - (c - a);
  const al = a - ah;
  c = 134217729 * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

function signNum(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

// ---- the four basic operations and square root ------------------------------------------

/** a OP b on binary32 encodings. */
export function arith32(op: number, a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) return nanResult32(a, b);
  sawDenormal = false;
  return arithCore(op, val32(a), val32(b), F32);
}

/** a OP b on binary64 encodings (returns lo, hi in out.hi). */
export function arith64(op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) return nanResult64(alo, ahi, blo, bhi);
  sawDenormal = false;
  return arithCore(op, val64(alo, ahi), val64(blo, bhi), F64);
}

function arithCore(op: number, x: number, y: number, fmt: number): number {
  switch (op) {
    case OP_ADD: return addCore(x, y, fmt);
    case OP_SUB: return addCore(x, -y, fmt);
    case OP_MUL: return mulCore(x, y, fmt);
    default: return divCore(x, y, fmt);
  }
}

function addCore(x: number, y: number, fmt: number): number {
  const xInf = isInf(x);
  const yInf = isInf(y);
  if (xInf || yInf) {
    if (xInf && yInf && (x > 0) !== (y > 0)) return invalid(fmt);
    noteDenormal();
    return infOf(xInf ? x < 0 : y < 0, fmt);
  }
  noteDenormal();
  if (x === 0 && y === 0) {
    const nx = isNeg(x);
    return zeroOf(nx === isNeg(y) ? nx : fp.rc === RC_DOWN, fmt);
  }
  if (x === 0) return roundDouble(y, fmt);
  if (y === 0) return roundDouble(x, fmt);
  let ex = exponentOf(x);
  let mx = x < 0 ? -split.mant : split.mant;
  let ey = exponentOf(y);
  let my = y < 0 ? -split.mant : split.mant;
  if (ey > ex) {
    const t = ex; ex = ey; ey = t;
    const u = mx; mx = my; my = u;
  }
  const d = ex - ey;
  if (d > 60) {
    // The smaller operand lies far below half an ulp of the larger: it only decides the direction.
    return roundToFormat(mx < 0, mx < 0 ? -mx : mx, (mx < 0) === (my < 0) ? 1 : -1, ex, fmt);
  }
  const b = my * pow2(-d);
  const s = mx + b; // TwoSum: s + err == mx + b exactly
  const bv = s - mx;
  const err = (mx - (s - bv)) + (b - bv);
  if (s === 0) return zeroOf(fp.rc === RC_DOWN, fmt);
  const neg = s < 0;
  return roundToFormat(neg, neg ? -s : s, neg ? -signNum(err) : signNum(err), ex, fmt);
}

function mulCore(x: number, y: number, fmt: number): number {
  const neg = isNeg(x) !== isNeg(y);
  const xInf = isInf(x);
  const yInf = isInf(y);
  if (xInf || yInf) {
    if (x === 0 || y === 0) return invalid(fmt);
    noteDenormal();
    return infOf(neg, fmt);
  }
  noteDenormal();
  if (x === 0 || y === 0) return zeroOf(neg, fmt);
  const ex = exponentOf(x);
  const mx = split.mant;
  const ey = exponentOf(y);
  const my = split.mant;
  const p = mx * my;
  return roundToFormat(neg, p, signNum(productError(mx, my, p)), ex + ey, fmt);
}

function divCore(x: number, y: number, fmt: number): number {
  const neg = isNeg(x) !== isNeg(y);
  const xInf = isInf(x);
  const yInf = isInf(y);
  if ((xInf && yInf) || (x === 0 && y === 0)) return invalid(fmt);
  if (xInf) { noteDenormal(); return infOf(neg, fmt); }
  if (yInf) { noteDenormal(); return zeroOf(neg, fmt); }
  if (y === 0) { fp.pre |= MX_ZE; return infOf(neg, fmt); }
  noteDenormal();
  if (x === 0) return zeroOf(neg, fmt);
  const ex = exponentOf(x);
  const mx = split.mant;
  const ey = exponentOf(y);
  const my = split.mant;
  const q = mx / my;
  const ph = q * my;
  const rem = (mx - ph) - productError(q, my, ph); // exact remainder mx - q*my
  return roundToFormat(neg, q, signNum(rem), ex - ey, fmt);
}

function sqrtCore(x: number, fmt: number): number {
  if (x === 0) return zeroOf(isNeg(x), fmt);
  if (x < 0) return invalid(fmt);
  if (x === Infinity) return infOf(false, fmt);
  noteDenormal();
  let e = exponentOf(x);
  let m = split.mant;
  if ((e & 1) !== 0) { m *= 2; e -= 1; }
  const r = Math.sqrt(m); // correctly rounded (IEEE sqrt)
  const ph = r * r;
  const rem = (m - ph) - productError(r, r, ph);
  return roundToFormat(false, r, signNum(rem), e / 2, fmt);
}

export function sqrt32(a: number): number {
  if (isNaN32(a)) return nanResult32(a, a);
  sawDenormal = false;
  return sqrtCore(val32(a), F32);
}

export function sqrt64(lo: number, hi: number): number {
  if (isNaN64(lo, hi)) return nanResult64(lo, hi, lo, hi);
  sawDenormal = false;
  return sqrtCore(val64(lo, hi), F64);
}

// ---- min / max ----------------------------------------------------------------------

/**
 * MIN/MAX: the second operand when either is a NaN (IE for any NaN, the NaN is
 * not quieted) or both are zeros of either sign; otherwise the smaller/larger.
 * Under DAZ a denormal operand is delivered as the signed zero it was read as.
 */
export function minMax32(isMax: boolean, a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) {
    fp.pre |= MX_IE;
    return fp.daz && (b & 0x7f800000) === 0 ? b & 0x80000000 : b; // DAZ zeroes a denormal second operand
  }
  sawDenormal = false;
  const x = val32(a);
  const y = val32(b);
  noteDenormal();
  const pickA = isMax ? x > y : x < y;
  if (fp.daz) return f32Bits(pickA ? x : y); // a denormal operand is delivered as the zero it was read as
  return pickA ? a : b;
}

export function minMax64(isMax: boolean, alo: number, ahi: number, blo: number, bhi: number): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
    fp.pre |= MX_IE;
    if (fp.daz && (bhi & 0x7ff00000) === 0) { out.hi = bhi & 0x80000000; return 0; }
    out.hi = bhi;
    return blo;
  }
  sawDenormal = false;
  const x = val64(alo, ahi);
  const y = val64(blo, bhi);
  noteDenormal();
  const pickA = isMax ? x > y : x < y;
  if (fp.daz) return f64Bits(pickA ? x : y);
  if (pickA) { out.hi = ahi; return alo; }
  out.hi = bhi;
  return blo;
}

// ---- comparisons ----------------------------------------------------------------------

/** CMPPS/CMPSS predicates 0..7 (EQ LT LE UNORD NEQ NLT NLE ORD); LT LE NLT NLE signal on QNaN. */
function predicate(pred: number, unordered: boolean, x: number, y: number): number {
  let r: boolean;
  switch (pred & 7) {
    case 0: r = !unordered && x === y; break;
    case 1: r = !unordered && x < y; break;
    case 2: r = !unordered && x <= y; break;
    case 3: r = unordered; break;
    case 4: r = unordered || x !== y; break;
    case 5: r = unordered || !(x < y); break;
    case 6: r = unordered || !(x <= y); break;
    default: r = !unordered; break;
  }
  return r ? -1 : 0;
}

function signalingPredicate(pred: number): boolean {
  const p = pred & 3;
  return p === 1 || p === 2;
}

/** All-ones or zero mask for binary32 a PRED b. */
export function compare32(pred: number, a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b) || signalingPredicate(pred)) fp.pre |= MX_IE;
    return predicate(pred, true, 0, 0);
  }
  sawDenormal = false;
  const x = val32(a);
  const y = val32(b);
  noteDenormal();
  return predicate(pred, false, x, y);
}

export function compare64(pred: number, alo: number, ahi: number, blo: number, bhi: number): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
    if (isSNaN64(alo, ahi) || isSNaN64(blo, bhi) || signalingPredicate(pred)) fp.pre |= MX_IE;
    return predicate(pred, true, 0, 0);
  }
  sawDenormal = false;
  const x = val64(alo, ahi);
  const y = val64(blo, bhi);
  noteDenormal();
  return predicate(pred, false, x, y);
}

/** Ordered-compare outcome as ZF/PF/CF (unordered 111, less 001, equal 100, greater 000). */
export const CMP_UNORDERED = 0x45;
export const CMP_LESS = 0x01;
export const CMP_EQUAL = 0x40;
export const CMP_GREATER = 0x00;

/** (U)COMISS: `signalQuiet` (COMISS) makes a QNaN operand invalid too. */
export function comi32(signalQuiet: boolean, a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) {
    if (signalQuiet || isSNaN32(a) || isSNaN32(b)) fp.pre |= MX_IE;
    return CMP_UNORDERED;
  }
  sawDenormal = false;
  const x = val32(a);
  const y = val32(b);
  noteDenormal();
  return x < y ? CMP_LESS : x > y ? CMP_GREATER : CMP_EQUAL;
}

export function comi64(signalQuiet: boolean, alo: number, ahi: number, blo: number, bhi: number): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
    if (signalQuiet || isSNaN64(alo, ahi) || isSNaN64(blo, bhi)) fp.pre |= MX_IE;
    return CMP_UNORDERED;
  }
  sawDenormal = false;
  const x = val64(alo, ahi);
  const y = val64(blo, bhi);
  noteDenormal();
  return x < y ? CMP_LESS : x > y ? CMP_GREATER : CMP_EQUAL;
}

// ---- RCP/RSQRT approximations ------------------------------------------------------------------

const TINY32 = 1.1754943508222875e-38; // 2^-126

/**
 * RCPPS/RSQRTPS lane. The architecture only bounds the relative error (1.5 * 2^-12)
 * and vendors differ in the exact bits, so this delivers the binary32 rounding of
 * the true value, well inside the bound. No MXCSR flags: ±0 and denormal inputs
 * give ±infinity, tiny results flush to ±0, RSQRT of a negative number is the
 * default NaN, a NaN input is returned quieted.
 */
export function approxReciprocal32(b: number, root: boolean): number {
  if (isNaN32(b)) return b | QNAN_BIT32;
  const sign = b & 0x80000000;
  const mag = b & 0x7fffffff;
  if (mag < 0x00800000) return sign | 0x7f800000;
  if (root && sign !== 0) return DEFAULT_NAN32;
  if (mag === 0x7f800000) return sign;
  const x = f32Value(b);
  const r = Math.fround(root ? 1 / Math.sqrt(x) : 1 / x);
  if (r < TINY32 && r > -TINY32) return sign;
  return f32Bits(r);
}

// ---- round to integral (ROUNDSS/SD/PS/PD) -------------------------------------------------

/** Rounds a binary32 to an integral value under rc; `quietPE` is imm8 bit 3 (no precision exception). */
export function roundInt32(a: number, rc: number, quietPE: boolean): number {
  if (isNaN32(a)) return nanResult32(a, a);
  sawDenormal = false;
  const x = val32(a);
  const r = roundIntegral(x, rc);
  if (r !== x && !quietPE) fp.post |= MX_PE;
  return f32Bits(r);
}

export function roundInt64(lo: number, hi: number, rc: number, quietPE: boolean): number {
  if (isNaN64(lo, hi)) return nanResult64(lo, hi, lo, hi);
  sawDenormal = false;
  const x = val64(lo, hi);
  const r = roundIntegral(x, rc);
  if (r !== x && !quietPE) fp.post |= MX_PE;
  return f64Bits(r);
}

// ---- conversions between the two formats ----------------------------------------------------

/** binary32 -> binary64 (exact; SNaN quieted with IE, denormal operand DE). */
export function f32ToF64(a: number): number {
  if (isNaN32(a)) {
    if ((a & QNAN_BIT32) === 0) fp.pre |= MX_IE;
    out.hi = (a & 0x80000000) | 0x7ff80000 | ((a & 0x003fffff) >>> 3);
    return (a & 7) << 29;
  }
  sawDenormal = false;
  const x = val32(a);
  noteDenormal();
  return f64Bits(x);
}

/** binary64 -> binary32 under MXCSR rounding (NaN payload keeps its top bits). */
export function f64ToF32(lo: number, hi: number): number {
  if (isNaN64(lo, hi)) {
    if ((hi & QNAN_BIT64_HI) === 0) fp.pre |= MX_IE;
    return ((hi & 0x80000000) | 0x7fc00000 | ((hi & 0x0007ffff) << 3) | (lo >>> 29)) | 0;
  }
  sawDenormal = false;
  const x = val64(lo, hi);
  noteDenormal();
  if (isInf(x)) return infOf(x < 0, F32);
  if (x === 0) return zeroOf(isNeg(x), F32);
  return roundDouble(x, F32);
}

// ---- integers <-> floating point ----------------------------------------------------------

/** Signed 32-bit integer -> fmt under MXCSR rounding (binary64 is always exact). */
export function fromInt32(v: number, fmt: number): number {
  if (v === 0) return zeroOf(false, fmt);
  if (fmt === F64) return f64Bits(v);
  return roundDouble(v, F32);
}

/** Signed 64-bit integer (lo, hi) -> fmt under MXCSR rounding. */
export function fromInt64(lo: number, hi: number, fmt: number): number {
  if ((lo | hi) === 0) return zeroOf(false, fmt);
  const neg = hi < 0;
  let mlo = lo >>> 0;
  let mhi = hi >>> 0;
  if (neg) {
    // Two's-complement magnitude (2^63 for the most negative value, still exact as a double).
    mlo = (~lo + 1) >>> 0;
    mhi = (~hi + (mlo === 0 ? 1 : 0)) >>> 0;
  }
  const a = mhi * 4294967296;
  const s = a + mlo; // TwoSum of the two exact halves
  const bv = s - a;
  const err = (a - (s - bv)) + (mlo - bv);
  return roundToFormat(neg, s, signNum(err), 0, fmt);
}

/** Integer indefinite results of out-of-range conversions. */
export const INDEFINITE32 = 0x80000000 | 0;

/**
 * Converts a finite or infinite double (a binary32/64 operand's value, DAZ
 * applied) to a signed integer of 32 or 64 bits, rounding under rc. Returns the
 * low dword (high dword in out.hi); out of range gives the integer indefinite with IE.
 */
function toInt(x: number, rc: number, bits: number): number {
  const r = roundIntegral(x, rc);
  const limit = bits === 32 ? 2147483648 : 9223372036854775808;
  if (!(r >= -limit && r < limit)) {
    fp.pre |= MX_IE;
    out.hi = INDEFINITE32;
    return bits === 32 ? INDEFINITE32 : 0;
  }
  if (r !== x) fp.post |= MX_PE;
  const h = Math.floor(r / 4294967296);
  out.hi = h | 0;
  return (r - h * 4294967296) | 0;
}

/** binary32 -> int32/int64 (`truncate` for the CVTT forms, else MXCSR.RC). */
export function f32ToInt(a: number, truncate: boolean, bits: number): number {
  if (isNaN32(a)) {
    fp.pre |= MX_IE;
    out.hi = INDEFINITE32;
    return bits === 32 ? INDEFINITE32 : 0;
  }
  sawDenormal = false;
  return toInt(val32(a), truncate ? RC_ZERO : fp.rc, bits);
}

export function f64ToInt(lo: number, hi: number, truncate: boolean, bits: number): number {
  if (isNaN64(lo, hi)) {
    fp.pre |= MX_IE;
    out.hi = INDEFINITE32;
    return bits === 32 ? INDEFINITE32 : 0;
  }
  sawDenormal = false;
  return toInt(val64(lo, hi), truncate ? RC_ZERO : fp.rc, bits);
}

