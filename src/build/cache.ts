// The build cache: one record per target in <build>/.cache/<target>.json
// holding the key (toolchain fingerprint and target description), the hash of
// every input asc looked at and every assembly source, the wasm asc produced
// (kept beside the record) and the hashes of the images written. A target is
// up to date when all of them still hold; nothing is trusted by timestamp.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SourceInput } from "./asc.js";
import { hashFile } from "./hash.js";

export interface CacheRecord {
  target: string;
  key: string;
  /** What asc read (and looked for without finding) to produce `wasm`. */
  sources: SourceInput[];
  /** The assembly sources linked in. */
  asm: SourceInput[];
  /** Hash of the wasm module (stored at wasmCachePath). */
  wasm: string;
  /** Build-directory-relative path → hash of each file written for the target. */
  outputs: Record<string, string>;
}

export const CACHE_DIR = ".cache";

export function recordPath(buildDir: string, target: string): string {
  return join(buildDir, CACHE_DIR, `${target}.json`);
}

export function wasmCachePath(buildDir: string, target: string): string {
  return join(buildDir, CACHE_DIR, `${target}.wasm`);
}

function isInputList(v: unknown): v is SourceInput[] {
  return Array.isArray(v) && v.every((i) => typeof i === "object" && i !== null && typeof i.path === "string" && (i.hash === null || typeof i.hash === "string"));
}

/** The target's record, or null when there is none or it is unreadable (which only costs a rebuild). */
export function readRecord(buildDir: string, target: string): CacheRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(recordPath(buildDir, target), "utf8"));
  } catch {
    return null;
  }
  const r = value as Partial<CacheRecord>;
  if (typeof r !== "object" || r === null || r.target !== target || typeof r.key !== "string" || typeof r.wasm !== "string") return null;
  if (!isInputList(r.sources) || !isInputList(r.asm) || typeof r.outputs !== "object" || r.outputs === null) return null;
  return r as CacheRecord;
}

export function encodeRecord(r: CacheRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r, null, 1) + "\n");
}

/** Whether every recorded input still has the recorded contents (or is still absent). */
export function inputsUnchanged(root: string, inputs: readonly SourceInput[]): boolean {
  return inputs.every((i) => hashFile(join(root, i.path)) === i.hash);
}

/** Whether every recorded output still exists with the recorded contents. */
export function outputsIntact(buildDir: string, outputs: Record<string, string>): boolean {
  return Object.entries(outputs).every(([path, hash]) => hashFile(join(buildDir, path)) === hash);
}

/** Whether two input lists name the same paths with the same hashes. */
export function sameInputs(a: readonly SourceInput[], b: readonly SourceInput[]): boolean {
  return a.length === b.length && a.every((x, k) => x.path === b[k]!.path && x.hash === b[k]!.hash);
}
