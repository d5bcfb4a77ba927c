// Host-side helpers for testing the guest Cap'n Proto runtime: its status
// codes (read from the runtime source, the single definition), running a
// guest entry point over a message, and assembling raw messages word by word
// for the hostile-input corpus.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, type Guest } from "./asc.js";

/** Runtime status codes by name (OK, ERR_TRUNCATED, ...), parsed from schema/as/runtime/errors.ts. */
export const STATUS: Readonly<Record<string, number>> = (() => {
  const source = readFileSync(join(REPO_ROOT, "schema/as/runtime/errors.ts"), "utf8");
  const table: Record<string, number> = {};
  for (const m of source.matchAll(/export const (\w+): i32 = (-?\d+);/g)) table[m[1]!] = Number(m[2]);
  return table;
})();

/** The name of a status code, for readable assertion failures. */
export function statusName(code: number): string {
  for (const [name, value] of Object.entries(STATUS)) if (value === code) return name;
  return code >= 0 ? `length ${code}` : `unknown ${code}`;
}

export type CopyResult = { ok: true; bytes: Uint8Array } | { ok: false; status: string };

/**
 * Calls a guest entry point `(inPtr, inLen, outPtr, outCap, ...extra) -> i32`
 * that reads `input` and writes a message; returns the written bytes or the
 * status name.
 */
export function runCopy(guest: Guest, name: string, input: Uint8Array, outCap = input.length * 2 + 4096, ...extra: number[]): CopyResult {
  const inPtr = guest.putIn("input", input);
  const outPtr = guest.region("output", outCap);
  const r = guest.fn<(...a: number[]) => number>(name)(inPtr, input.length, outPtr, outCap, ...extra);
  return r >= 0 ? { ok: true, bytes: guest.get(outPtr, r) } : { ok: false, status: statusName(r) };
}

/** Calls a guest entry point `(outPtr, outCap) -> i32` that builds a message from scratch. */
export function runBuild(guest: Guest, name: string, outCap = 8192): CopyResult {
  const outPtr = guest.region("output", outCap);
  const r = guest.fn<(p: number, c: number) => number>(name)(outPtr, outCap);
  return r >= 0 ? { ok: true, bytes: guest.get(outPtr, r) } : { ok: false, status: statusName(r) };
}

// ---- Raw message assembly (for malformed and hand-encoded messages)

/** A struct pointer word: offset in words from the end of the pointer. */
export function structPtr(offset: number, dataWords: number, pointerCount: number): bigint {
  return (BigInt.asUintN(32, BigInt(offset) << 2n) | (BigInt(dataWords) << 32n) | (BigInt(pointerCount) << 48n));
}

/** A list pointer word; for composite lists `count` is the word count. */
export function listPtr(offset: number, elementSize: number, count: number): bigint {
  return BigInt.asUintN(32, (BigInt(offset) << 2n) | 1n) | (BigInt(elementSize) << 32n) | (BigInt(count) << 35n);
}

/** A far pointer to the landing pad at word `padOffset` of segment `segment`. */
export function farPtr(padOffset: number, segment: number, double = false): bigint {
  return BigInt(padOffset << 3) | (double ? 6n : 2n) | (BigInt(segment) << 32n);
}

/** Frames segments (arrays of 64-bit words) as a message: segment table then segments. */
export function frame(segments: bigint[][], tableOverride?: number[]): Uint8Array {
  const sizes = tableOverride ?? segments.map((s) => s.length);
  const count = tableOverride === undefined ? segments.length : sizes.length;
  const tableBytes = ((count + 2) >> 1) * 8;
  const words = segments.reduce((n, s) => n + s.length, 0);
  const out = new Uint8Array(tableBytes + words * 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, count - 1, true);
  sizes.forEach((n, i) => view.setUint32(4 + 4 * i, n, true));
  let at = tableBytes;
  for (const seg of segments) {
    for (const w of seg) {
      view.setBigUint64(at, BigInt.asUintN(64, w), true);
      at += 8;
    }
  }
  return out;
}

/** Eight bytes (little-endian) as one word. */
export function bytesWord(bytes: number[]): bigint {
  let w = 0n;
  bytes.forEach((b, i) => (w |= BigInt(b & 0xff) << BigInt(8 * i)));
  return w;
}
