// IEEE-754 binary32/binary64 at the bit level: classification, NaN quieting,
// special encodings and exact bits<->double conversion. NaNs never pass through
// a JS number here (engines and hosts may quiet or canonicalise them), so every
// NaN decision is made on the integer bits first.

/** Format ids used by the rounding core and the lane operations. */
export const F32 = 0;
export const F64 = 1;

/** Scratch views for exact bit conversion of non-NaN values (little-endian word order). */
const d64 = new Float64Array(1);
const d64w = new Int32Array(d64.buffer);
const d32 = new Float32Array(1);
const d32w = new Int32Array(d32.buffer);
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error("capos SSE: host must be little-endian");

/**
 * Second result word: functions producing a binary64 return its low dword and
 * leave the high dword here (one instruction runs at a time, so one slot suffices).
 */
export const out = { hi: 0 };

export const QNAN_BIT32 = 0x00400000;
export const QNAN_BIT64_HI = 0x00080000;
/** The default NaN ("real indefinite"): negative quiet NaN with an all-zero payload. */
export const DEFAULT_NAN32 = 0xffc00000 | 0;
export const DEFAULT_NAN64_HI = 0xfff80000 | 0;

// ---- binary32 ---------------------------------------------------------------

export function isNaN32(b: number): boolean {
  return (b & 0x7fffffff) > 0x7f800000;
}

export function isSNaN32(b: number): boolean {
  return (b & 0x7fffffff) > 0x7f800000 && (b & QNAN_BIT32) === 0;
}

/** Denormal (subnormal, non-zero) encoding. */
export function isDenormal32(b: number): boolean {
  return (b & 0x7f800000) === 0 && (b & 0x007fffff) !== 0;
}

export function isInf32(b: number): boolean {
  return (b & 0x7fffffff) === 0x7f800000;
}

/** Value of a non-NaN binary32 encoding (exact). */
export function f32Value(b: number): number {
  d32w[0] = b;
  return d32[0]!;
}

/** Encoding of a double that is exactly representable in binary32 (or ±inf/±0). */
export function f32Bits(x: number): number {
  d32[0] = x;
  return d32w[0]!;
}

// ---- binary64 (as lo, hi dwords) -----------------------------------------------

export function isNaN64(lo: number, hi: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}

export function isSNaN64(lo: number, hi: number): boolean {
  return isNaN64(lo, hi) && (hi & QNAN_BIT64_HI) === 0;
}

export function isDenormal64(lo: number, hi: number): boolean {
  return (hi & 0x7ff00000) === 0 && ((hi & 0x000fffff) !== 0 || lo !== 0);
}

export function isInf64(lo: number, hi: number): boolean {
  return (hi & 0x7fffffff) === 0x7ff00000 && lo === 0;
}

/** Value of a non-NaN binary64 encoding (exact). */
export function f64Value(lo: number, hi: number): number {
  d64w[0] = lo;
  d64w[1] = hi;
  return d64[0]!;
}

/** Encoding of a non-NaN double: returns the low dword, high dword in out.hi. */
export function f64Bits(x: number): number {
  d64[0] = x;
  out.hi = d64w[1]!;
  return d64w[0]!;
}

/** High dword of a non-NaN double's encoding. */
export function f64HiWord(x: number): number {
  d64[0] = x;
  return d64w[1]!;
}

/** Low dword of a non-NaN double's encoding. */
export function f64LoWord(x: number): number {
  d64[0] = x;
  return d64w[0]!;
}

// ---- powers of two and exact decomposition --------------------------------------

/** 2^k for -1074 <= k <= 1023 (exact; built from the exponent field, never Math.pow). */
export function pow2(k: number): number {
  if (k >= -1022) {
    d64w[0] = 0;
    d64w[1] = (k + 1023) << 20;
    return d64[0]!;
  }
  // Subnormal powers: 2^-1022 scaled down exactly.
  d64w[0] = 0;
  d64w[1] = 1 << 20;
  return d64[0]! / pow2(-1022 - k);
}

/** x * 2^k for a finite x, exact whenever the result is representable (two steps for large |k|). */
export function scaleB(x: number, k: number): number {
  if (k > 1000) return x * pow2(1000) * pow2(k - 1000);
  if (k < -1000) return x * pow2(-1000) * pow2(k + 1000);
  return x * pow2(k);
}

/** Mantissa of the last exponentOf() call: |x| = mant * 2^exponent, 1 <= mant < 2. */
export const split = { mant: 1 };

/** floor(log2|x|) for a finite non-zero x; leaves |x| / 2^e in split.mant. Exact. */
export function exponentOf(x: number): number {
  let a = x < 0 ? -x : x;
  let bias = 0;
  if (a < 2.2250738585072014e-308) {
    a *= 18446744073709551616; // 2^64: subnormal doubles become normal, exactly
    bias = 64;
  }
  d64[0] = a;
  const e = ((d64w[1]! >>> 20) & 0x7ff) - 1023;
  d64w[1] = (d64w[1]! & 0x000fffff) | 0x3ff00000;
  split.mant = d64[0]!;
  return e - bias;
}
