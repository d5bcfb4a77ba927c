// Content hashes for the build cache: SHA-256 in hex, of bytes, of text, of
// files (null for a file that does not exist, which is itself a fact the cache
// records: a file appearing where asc once looked changes the build).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export function hashBytes(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A hash of several labelled parts, unambiguous in how the parts are split. */
export function hashParts(parts: readonly (readonly [string, string])[]): string {
  const h = createHash("sha256");
  for (const [label, value] of parts) h.update(`${label.length}:${label}${value.length}:${value}`);
  return h.digest("hex");
}

/** The hash of a file's contents, or null when there is no such file. */
export function hashFile(path: string): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return null;
    throw e;
  }
  return hashBytes(bytes);
}
