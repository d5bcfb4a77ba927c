// The rounding core: turns an exactly known real result into a binary32 or
// binary64 encoding under MXCSR's rounding control, with the IEEE exception
// facts x86 reports — inexact (PE), overflow (OE), underflow (UE: tiny after
// rounding, and inexact when masked) and flush-to-zero. When OE/UE are unmasked
// the instruction faults and PE tells whether the p-bit result (before any
// denormalisation) was inexact, as silicon does. Callers describe the exact value
// as sign * (hi + lo) * 2^scale with hi = RN53(hi + lo) and only lo's sign known,
// which error-free transformations (TwoSum, Dekker products, division and
// square-root residuals) deliver.
import { F32, out, pow2, exponentOf, split } from "./ieee.js";
import { fp, MX_OE, MX_PE, MX_UE, RC_DOWN, RC_NEAREST, RC_UP } from "./mxcsr.js";

const PREC = [24, 53];
const EMIN = [-126, -1022];
const BIAS = [127, 1023];
const MAX_BIASED = [255, 2047];
const TWO32 = 4294967296;
const TWO52 = 4503599627370496;

// Where the dropped part of a significand lies, in units of the kept last place.
const EXACT = 0;
const BELOW_HALF = 1;
const HALF = 2;
const ABOVE_HALF = 3;

/** Results of roundSignificand (module state: no allocation per call). */
let rI = 0; // kept significand, an integer number of quanta
let rQe = 0; // exponent of one quantum
let rInexact = false;

/**
 * Rounds M * 2^(E-52) + lo (M a 53-bit integer with its top bit set, |lo| below
 * half a unit of M's last place, sign loSign) to p bits, or to the fixed quantum
 * 2^(emin-p+1) below 2^emin (pass emin = -Infinity for an unbounded exponent).
 */
function roundSignificand(M: number, E: number, loSign: number, neg: boolean, p: number, emin: number, rc: number): void {
  const k = 53 - p + (E < emin ? emin - E : 0); // low bits of M that fall below the kept quantum
  let qe = E - 52 + k;
  let I: number;
  let where: number;
  if (k >= 54) {
    I = 0; // all of M lies below half a quantum
    where = BELOW_HALF;
  } else {
    const unit = pow2(k);
    I = Math.floor(M / unit);
    const rem = M - I * unit;
    const half = unit / 2;
    if (rem === 0) {
      if (loSign === 0) where = EXACT;
      else if (loSign > 0) where = BELOW_HALF;
      else {
        // Just below a kept value: step down one quantum. Below a power of two in
        // the normal range the quantum halves, so the step is to 2^p - 1 half-quanta.
        where = ABOVE_HALF;
        if (I === pow2(p - 1) && k === 53 - p && E > emin) {
          I = pow2(p) - 1;
          qe -= 1;
        } else I -= 1;
      }
    } else if (rem < half) where = BELOW_HALF;
    else if (rem > half) where = ABOVE_HALF;
    else where = loSign > 0 ? ABOVE_HALF : loSign < 0 ? BELOW_HALF : HALF;
  }
  rInexact = where !== EXACT;
  let up: boolean;
  if (rc === RC_NEAREST) up = where === ABOVE_HALF || (where === HALF && I % 2 === 1);
  else if (rc === RC_DOWN) up = neg && where !== EXACT;
  else if (rc === RC_UP) up = !neg && where !== EXACT;
  else up = false;
  if (up) {
    I += 1;
    if (I === pow2(p)) {
      I = pow2(p - 1);
      qe += 1;
    }
  }
  rI = I;
  rQe = qe;
}

/**
 * Rounds sign * (hi + lo) * 2^scale to fmt and returns the encoding (binary64:
 * low dword, high dword in out.hi). hi must be a positive normal double; loSign
 * is -1, 0 or 1. Raises PE/UE/OE in fp.post and applies FTZ.
 */
export function roundToFormat(neg: boolean, hi: number, loSign: number, scale: number, fmt: number): number {
  const eh = exponentOf(hi);
  const M = split.mant * TWO52; // 53-bit integer significand (exact)
  const E = eh + scale;
  const p = PREC[fmt]!;
  const emin = EMIN[fmt]!;
  const rc = fp.rc;
  roundSignificand(M, E, loSign, neg, p, emin, rc);
  const I = rI;
  const qe = rQe;
  const inexact = rInexact;
  // Tininess is judged on the result rounded to p bits with an unbounded exponent.
  if (E < emin || (E === emin && M === TWO52 && loSign < 0)) {
    roundSignificand(M, E, loSign, neg, p, -Infinity, rc);
    if (rQe + p - 1 < emin) {
      if (!fp.underflowMasked) {
        // Unmasked: the instruction faults; PE reflects the p-bit result before denormalisation.
        fp.post |= MX_UE | (rInexact ? MX_PE : 0);
        return encode(neg, 0, 0, fmt);
      }
      if (fp.ftz) {
        fp.post |= MX_UE | MX_PE;
        return encode(neg, 0, 0, fmt);
      }
      if (inexact) fp.post |= MX_UE;
    }
  }
  if (I >= pow2(p - 1)) {
    const be = qe + p - 1 + BIAS[fmt]!;
    if (be >= MAX_BIASED[fmt]!) return overflow(neg, inexact, fmt);
    if (inexact) fp.post |= MX_PE;
    return encode(neg, be, I - pow2(p - 1), fmt);
  }
  if (inexact) fp.post |= MX_PE;
  return encode(neg, 0, I, fmt);
}

/**
 * Overflow. Unmasked, the instruction faults and PE says whether the p-bit
 * result itself was inexact; masked, the result is infinity or the largest
 * finite value (by rounding direction), always inexact.
 */
function overflow(neg: boolean, inexact: boolean, fmt: number): number {
  if (!fp.overflowMasked) {
    fp.post |= MX_OE | (inexact ? MX_PE : 0);
    return encode(neg, 0, 0, fmt);
  }
  fp.post |= MX_OE | MX_PE;
  const rc = fp.rc;
  const toInf = rc === RC_NEAREST || (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
  const maxBe = MAX_BIASED[fmt]!;
  if (toInf) return encode(neg, maxBe, 0, fmt);
  return encode(neg, maxBe - 1, pow2(PREC[fmt]! - 1) - 1, fmt);
}

/** Packs sign, biased exponent and fraction (an integer below 2^(p-1)). */
export function encode(neg: boolean, be: number, frac: number, fmt: number): number {
  const s = neg ? 0x80000000 : 0;
  if (fmt === F32) return (s | (be << 23) | frac) | 0;
  const fh = Math.floor(frac / TWO32);
  out.hi = (s | (be << 20) | fh) | 0;
  return (frac - fh * TWO32) | 0;
}

/** Signed zero (binary32 bits, or binary64 low dword with out.hi). */
export function zeroOf(neg: boolean, fmt: number): number {
  return encode(neg, 0, 0, fmt);
}

/** Signed infinity. */
export function infOf(neg: boolean, fmt: number): number {
  return encode(neg, MAX_BIASED[fmt]!, 0, fmt);
}

/**
 * Rounds a finite double x to fmt (exact value known as x itself): used for
 * values that are exact in binary64 but may need rounding to binary32, and to
 * pass exact results through the underflow/FTZ rules.
 */
export function roundDouble(x: number, fmt: number): number {
  if (x === 0) return zeroOf(1 / x < 0, fmt);
  const neg = x < 0;
  const e = exponentOf(x);
  return roundToFormat(neg, split.mant, 0, e, fmt);
}

// ---- integers -------------------------------------------------------------------

/** x rounded to an integral value under rc (x finite; keeps the sign of zero). */
export function roundIntegral(x: number, rc: number): number {
  if (!(x > -TWO52 && x < TWO52)) return x; // already integral
  let r: number;
  if (rc === RC_NEAREST) {
    const f = Math.floor(x);
    const d = x - f; // exact
    r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  } else if (rc === RC_DOWN) r = Math.floor(x);
  else if (rc === RC_UP) r = Math.ceil(x);
  else r = Math.trunc(x);
  if (r === 0) return x < 0 || 1 / x < 0 ? -0 : 0;
  return r;
}
