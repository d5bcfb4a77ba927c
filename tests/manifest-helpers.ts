// Shared fixtures of the manifest compiler tests: the compiled CUE evaluator,
// the defaults package, and small fixture ELF64 programs.
import { join, resolve } from "node:path";
import { BinaryNotFoundError, type BinarySource, type ResolvedBinary } from "../src/manifest/binaries.js";
import { loadCueModule } from "../src/manifest/host/cue-wasm.js";
import { readDefaultsPackage } from "../src/manifest/host/defaults-files.js";

export const REPO = resolve(__dirname, "..");
export const MANIFESTS = join(REPO, "manifests");
export const FIXTURES = join(REPO, "tests", "fixtures", "manifests");

export const cueModule = (): Promise<WebAssembly.Module> => loadCueModule();
export const defaults = readDefaultsPackage(join(MANIFESTS, "defaults"));

/**
 * A minimal ELF64 x86-64 executable header (64 bytes, no program headers)
 * followed by the program's name, so each fixture program's bytes differ.
 */
export function fixtureElf(name: string): Uint8Array {
  const tail = new TextEncoder().encode(name);
  const b = new Uint8Array(64 + tail.length);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, ELFCLASS64, little-endian, version 1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 0x3e, true); // EM_X86_64
  v.setUint32(20, 1, true); // EV_CURRENT
  v.setBigUint64(24, 0x400000n, true); // e_entry
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  b.set(tail, 64);
  return b;
}

/** Serves fixtureElf(name) for any name, except "empty" (0 bytes) and "missing" (none). */
export class FixturePrograms implements BinarySource {
  readonly prepared: string[][] = [];

  async prepare(names: readonly string[]): Promise<void> {
    this.prepared.push([...names]);
  }

  async resolve(name: string): Promise<ResolvedBinary> {
    if (name === "missing") throw new BinaryNotFoundError(name, `a program named '${name}'`, "add it to the program map");
    return { bytes: name === "empty" ? new Uint8Array(0) : fixtureElf(name), origin: `program map entry '${name}'` };
  }
}
