// The toolchain's identity for the build cache: asc and Binaryen plus capos's
// own compiler, linker and pipeline code. Any change to them must rebuild
// everything, so the code is hashed rather than trusted to bump a version
// constant: the source files (and the installed asc version) when capos runs
// from its source tree, the bundle itself when it runs from dist/.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ascVersions } from "./asc.js";
import { hashBytes, hashParts } from "./hash.js";

/** Bumped when the cache record format or the meaning of its fields changes. */
export const CACHE_FORMAT = "capos-build-cache 1";

function listTs(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (e.isFile() && e.name.endsWith(".ts")) out.push(p);
  }
}

/**
 * A hash of the code that turns sources into images. From the source tree:
 * capos's compiler, linker, assembler and pipeline sources plus the installed
 * asc and Binaryen versions. From a bundle: the bundle itself, which contains
 * all of them (asc and Binaryen included).
 */
async function codeFingerprint(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return hashParts([["bundle", hashBytes(readFileSync(here))]]);
  const src = resolve(dirname(here), "..");
  const files: string[] = [];
  for (const part of ["toolchain", "build"]) listTs(join(src, part), files);
  files.sort();
  return hashParts([["asc", await ascVersions()], ...files.map((f) => [relative(src, f), hashBytes(readFileSync(f))] as const)]);
}

let fingerprint: Promise<string> | null = null;

/** The toolchain fingerprint (computed once per process). */
export function toolchainFingerprint(): Promise<string> {
  fingerprint ??= codeFingerprint().then((code) => hashParts([["format", CACHE_FORMAT], ["code", code]]));
  return fingerprint;
}
