// 64-bit integer arithmetic on 32-bit halves, without BigInt: shifts, the
// 64x64→128 multiply and the 128/64 divide the CPU's MUL/IMUL/DIV/IDIV/MULX need.
// Pure functions over numbers; results that do not fit a return value go to `wide`.
//
// Values are (lo, hi) pairs of int32 (the CPU's register representation). Products
// and quotients are computed with doubles only where every intermediate stays below
// 2^53, so each step is exact.

const TWO16 = 65536;
const TWO32 = 4294967296;

/**
 * Scratch results. Shifts leave the high half in `hi`; multiplies leave the 128-bit
 * product in w0..w3 (w0 least significant); divides leave the quotient in w0/w1
 * and the remainder in w2/w3. Never hold on to these across calls.
 */
export const wide = { hi: 0, w0: 0, w1: 0, w2: 0, w3: 0 };

// ---------------------------------------------------------------------------
// Shifts (count 0..64; counts of 64 or more shift everything out)
// ---------------------------------------------------------------------------

/** (hi:lo) << c; returns the low half, high half in wide.hi. */
export function shl64(lo: number, hi: number, c: number): number {
  if (c === 0) { wide.hi = hi; return lo; }
  if (c < 32) { wide.hi = (hi << c) | (lo >>> (32 - c)); return lo << c; }
  wide.hi = c < 64 ? lo << (c - 32) : 0;
  return 0;
}

/** (hi:lo) >>> c (logical); returns the low half, high half in wide.hi. */
export function shr64(lo: number, hi: number, c: number): number {
  if (c === 0) { wide.hi = hi; return lo; }
  if (c < 32) { wide.hi = hi >>> c | 0; return (lo >>> c) | (hi << (32 - c)); }
  wide.hi = 0;
  return c < 64 ? (hi >>> (c - 32)) | 0 : 0;
}

/** (hi:lo) >> c (arithmetic); counts of 64 or more give all sign bits. */
export function sar64(lo: number, hi: number, c: number): number {
  if (c === 0) { wide.hi = hi; return lo; }
  if (c < 32) { wide.hi = hi >> c; return (lo >>> c) | (hi << (32 - c)); }
  wide.hi = hi >> 31;
  return c < 64 ? hi >> (c - 32) : hi >> 31;
}

/** Bit n (0..63) of (hi:lo). */
export function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

// ---------------------------------------------------------------------------
// Multiplication
// ---------------------------------------------------------------------------

/** Unsigned 32x32 → 64; returns the low half (int32), high half in wide.hi. */
export function mulU32(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const al = a & 0xffff, ah = a >>> 16;
  const bl = b & 0xffff, bh = b >>> 16;
  const mid = ah * bl + al * bh; // < 2^33
  const low = al * bl + (mid % TWO16) * TWO16; // < 2^33
  wide.hi = (ah * bh + Math.floor(mid / TWO16) + Math.floor(low / TWO32)) | 0;
  return low | 0;
}

/** Signed 32x32 → 64; returns the low half, high half in wide.hi. */
export function mulS32(a: number, b: number): number {
  const lo = mulU32(a, b);
  // Two's complement correction of the unsigned high half.
  wide.hi = (wide.hi - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
  return lo;
}

/** Unsigned 64x64 → 128 into wide.w0..w3. */
export function mulU64(alo: number, ahi: number, blo: number, bhi: number): void {
  const p00l = mulU32(alo, blo) >>> 0, p00h = wide.hi >>> 0;
  const p01l = mulU32(alo, bhi) >>> 0, p01h = wide.hi >>> 0;
  const p10l = mulU32(ahi, blo) >>> 0, p10h = wide.hi >>> 0;
  const p11l = mulU32(ahi, bhi) >>> 0, p11h = wide.hi >>> 0;
  const w1 = p00h + p01l + p10l; // < 3 * 2^32
  const c1 = Math.floor(w1 / TWO32);
  const w2 = p01h + p10h + p11l + c1;
  const c2 = Math.floor(w2 / TWO32);
  wide.w0 = p00l | 0;
  wide.w1 = w1 | 0;
  wide.w2 = w2 | 0;
  wide.w3 = (p11h + c2) | 0;
}

/** Signed 64x64 → 128 into wide.w0..w3. */
export function mulS64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulU64(alo, ahi, blo, bhi);
  // high128 -= (a < 0 ? b : 0) + (b < 0 ? a : 0), modulo 2^64.
  if (ahi < 0) subHigh(blo, bhi);
  if (bhi < 0) subHigh(alo, ahi);
}

function subHigh(lo: number, hi: number): void {
  const d = (wide.w2 >>> 0) - (lo >>> 0);
  wide.w2 = d | 0;
  wide.w3 = (wide.w3 - hi - (d < 0 ? 1 : 0)) | 0;
}

// ---------------------------------------------------------------------------
// Division
// ---------------------------------------------------------------------------

/**
 * Unsigned 128/64 division of (n3:n2:n1:n0) by (dhi:dlo). Returns false, leaving
 * `wide` unspecified, when the divisor is zero or the quotient does not fit in 64
 * bits (the #DE cases of DIV); otherwise the quotient is in w0/w1, the remainder
 * in w2/w3.
 */
export function divU128(n0: number, n1: number, n2: number, n3: number, dlo: number, dhi: number): boolean {
  if ((dlo | dhi) === 0) return false;
  // The quotient fits in 64 bits exactly when the high half is below the divisor.
  if (!lessU64(n2, n3, dlo, dhi)) return false;
  if (dhi === 0) {
    divBySmall(n0, n1, n2, dlo >>> 0);
    return true;
  }
  // Divisor of 33..64 bits: restoring binary division, 64 quotient bits. The
  // running remainder (rhi:rlo) starts as the high half and stays below the divisor.
  let rlo = n2 >>> 0, rhi = n3 >>> 0;
  let qlo = n0 >>> 0, qhi = n1 >>> 0; // dividend low half shifts out as quotient bits shift in
  const dl = dlo >>> 0, dh = dhi >>> 0;
  for (let k = 0; k < 64; k++) {
    // (carry:rhi:rlo:qhi:qlo) <<= 1
    const carry = rhi >>> 31;
    rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0;
    rlo = ((rlo << 1) | (qhi >>> 31)) >>> 0;
    qhi = ((qhi << 1) | (qlo >>> 31)) >>> 0;
    qlo = (qlo << 1) >>> 0;
    if (carry !== 0 || rhi > dh || (rhi === dh && rlo >= dl)) {
      const s = rlo - dl;
      rlo = s < 0 ? s + TWO32 : s;
      rhi = (rhi - dh - (s < 0 ? 1 : 0)) >>> 0;
      qlo |= 1;
    }
  }
  wide.w0 = qlo | 0;
  wide.w1 = qhi | 0;
  wide.w2 = rlo | 0;
  wide.w3 = rhi | 0;
  return true;
}

/**
 * Long division by a divisor below 2^32 whose quotient fits in 64 bits (so n3 is 0
 * and n2 < d), one 16-bit digit at a time: the partial dividend (remainder * 2^16 +
 * digit) stays below 2^48, so floating-point division followed by floor is exact,
 * and each quotient digit is below 2^16 because the remainder stays below d.
 */
function divBySmall(n0: number, n1: number, n2: number, d: number): void {
  let r = n2 >>> 0;
  let x = r * TWO16 + (n1 >>> 16);
  let q = Math.floor(x / d);
  r = x - q * d;
  x = r * TWO16 + (n1 & 0xffff);
  let digit = Math.floor(x / d);
  r = x - digit * d;
  wide.w1 = (q * TWO16 + digit) | 0;
  x = r * TWO16 + (n0 >>> 16);
  q = Math.floor(x / d);
  r = x - q * d;
  x = r * TWO16 + (n0 & 0xffff);
  digit = Math.floor(x / d);
  r = x - digit * d;
  wide.w0 = (q * TWO16 + digit) | 0;
  wide.w2 = r | 0;
  wide.w3 = 0;
}

/**
 * Signed 128/64 division (IDIV r/m64): quotient truncated toward zero, remainder
 * with the dividend's sign. Returns false on a zero divisor or a quotient outside
 * [-2^63, 2^63 - 1].
 */
export function divS128(n0: number, n1: number, n2: number, n3: number, dlo: number, dhi: number): boolean {
  const negN = n3 < 0;
  const negD = dhi < 0;
  if (negN) {
    // 128-bit two's complement negation.
    n0 = ~n0; n1 = ~n1; n2 = ~n2; n3 = ~n3;
    if ((n0 = (n0 + 1) | 0) === 0 && (n1 = (n1 + 1) | 0) === 0 && (n2 = (n2 + 1) | 0) === 0) n3 = (n3 + 1) | 0;
  }
  if (negD) {
    dlo = ~dlo; dhi = ~dhi;
    if ((dlo = (dlo + 1) | 0) === 0) dhi = (dhi + 1) | 0;
  }
  if (!divU128(n0, n1, n2, n3, dlo, dhi)) return false;
  const negQ = negN !== negD;
  // Magnitude limits: 2^63 - 1 for a positive quotient, 2^63 for a negative one.
  if (wide.w1 < 0 && !(negQ && wide.w1 === (0x80000000 | 0) && wide.w0 === 0)) return false;
  if (negQ) negate(0);
  if (negN) negate(2);
  return true;
}

/** Negates the 64-bit value in wide.w0/w1 (at = 0) or w2/w3 (at = 2). */
function negate(at: 0 | 2): void {
  let lo = at === 0 ? wide.w0 : wide.w2;
  let hi = at === 0 ? wide.w1 : wide.w3;
  lo = (~lo + 1) | 0;
  hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
  if (at === 0) { wide.w0 = lo; wide.w1 = hi; } else { wide.w2 = lo; wide.w3 = hi; }
}

/** Unsigned (ahi:alo) < (bhi:blo). */
export function lessU64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  const ah = ahi >>> 0, bh = bhi >>> 0;
  return ah < bh || (ah === bh && alo >>> 0 < blo >>> 0);
}
