// Values of the spec-test JSON format (wast2json): typed bit patterns as
// unsigned decimal strings, plus the NaN classes nan:canonical and
// nan:arithmetic that results may be matched against. Values are (lo, hi)
// 32-bit halves so no precision is lost and no BigInt is needed per value.
import { F32, F64, I32, I64, VALTYPE_NAMES, type ValType } from "../types.js";

export interface SpecValue {
  type: string;
  value?: string;
}

export interface Bits {
  lo: number;
  hi: number;
}

export function specType(t: string): ValType {
  switch (t) {
    case "i32": return I32;
    case "i64": return I64;
    case "f32": return F32;
    case "f64": return F64;
    default: throw new Error(`spec value type ${t} is outside capos's wasm feature set`);
  }
}

/** An unsigned decimal string as (lo, hi) halves (exact up to 2^64). */
export function parseBits(s: string): Bits {
  // Split the decimal string into a high and a low part without losing precision.
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < s.length; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) throw new Error(`bad number "${s}"`);
    // (hi, lo) = (hi, lo) * 10 + d, with lo kept below 2^32.
    const l = lo * 10 + d;
    const carry = Math.floor(l / 4294967296);
    lo = l - carry * 4294967296;
    hi = (hi * 10 + carry) % 4294967296;
  }
  return { lo: lo | 0, hi: hi | 0 };
}

export function formatBits(t: ValType, b: Bits): string {
  const lo = b.lo >>> 0;
  const hi = b.hi >>> 0;
  if (t === I32) return `${VALTYPE_NAMES[t]}:${lo} (0x${lo.toString(16)})`;
  if (t === F32) {
    const v = new DataView(new ArrayBuffer(4));
    v.setUint32(0, lo, true);
    return `f32:0x${lo.toString(16).padStart(8, "0")} (${v.getFloat32(0, true)})`;
  }
  const hex = hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
  if (t === I64) return `i64:0x${hex}`;
  const v = new DataView(new ArrayBuffer(8));
  v.setUint32(0, lo, true);
  v.setUint32(4, hi, true);
  return `f64:0x${hex} (${v.getFloat64(0, true)})`;
}

/** Argument bits of a spec value (NaN patterns are not arguments). */
export function argBits(v: SpecValue): Bits {
  if (v.value === undefined) throw new Error(`argument of type ${v.type} without a value`);
  return parseBits(v.value);
}

/** Does a result match an expected spec value (bit-exact, or a NaN class)? */
export function matches(expected: SpecValue, t: ValType, got: Bits): boolean {
  const e = expected.value;
  if (e === undefined) return true;
  if (e === "nan:canonical") {
    if (t === F32) return (got.lo & 0x7fffffff) === 0x7fc00000;
    return got.lo === 0 && (got.hi & 0x7fffffff) === 0x7ff80000;
  }
  if (e === "nan:arithmetic") {
    if (t === F32) return (got.lo & 0x7fc00000) === 0x7fc00000;
    return (got.hi & 0x7ff80000) === 0x7ff80000;
  }
  const b = parseBits(e);
  if (t === I32 || t === F32) return (b.lo | 0) === (got.lo | 0);
  return (b.lo | 0) === (got.lo | 0) && (b.hi | 0) === (got.hi | 0);
}
