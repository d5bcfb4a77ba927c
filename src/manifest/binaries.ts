// Where the programs a manifest embeds come from. A BinarySource turns a
// binary name into its bytes; the Node one reads the build directory
// (host/build-dir.ts), a browser one serves a map. resolveBinaries checks the
// kernel's requirement that every payload resolves and is non-empty.
import type { Manifest, ManifestIssue } from "./model.js";
import { ManifestInvalidError } from "./model.js";

export interface ResolvedBinary {
  bytes: Uint8Array;
  /** Where the bytes came from, for messages ("build/user/init.elf"). */
  origin: string;
}

export interface BinarySource {
  /**
   * Called once, before any resolve, with every binary the manifest declares:
   * the place for a build pipeline to build what is missing or stale.
   */
  prepare?(names: readonly string[]): Promise<void>;
  /** The program's bytes; throws BinaryNotFoundError when there is none. */
  resolve(name: string): Promise<ResolvedBinary>;
}

/** No program exists for a binary name; `expected` says where one was looked for. */
export class BinaryNotFoundError extends Error {
  override readonly name = "BinaryNotFoundError";
  constructor(
    readonly binary: string,
    readonly expected: string,
    readonly hint: string,
  ) {
    super(`binary '${binary}' not found: expected ${expected}; ${hint}`);
  }
}

/** Programs held in memory by name (browsers, tests). */
export class MapBinarySource implements BinarySource {
  constructor(private readonly programs: ReadonlyMap<string, Uint8Array>) {}

  async resolve(name: string): Promise<ResolvedBinary> {
    const bytes = this.programs.get(name);
    if (bytes === undefined) throw new BinaryNotFoundError(name, `a program named '${name}'`, "add it to the program map");
    return { bytes, origin: `program map entry '${name}'` };
  }
}

/** Resolves every declared binary; throws ManifestInvalidError listing each one missing or empty. */
export async function resolveBinaries(m: Manifest, source: BinarySource): Promise<Map<string, ResolvedBinary>> {
  await source.prepare?.(m.binaries.map((b) => b.name));
  const out = new Map<string, ResolvedBinary>();
  const issues: ManifestIssue[] = [];
  for (const [i, b] of m.binaries.entries()) {
    const path = `binaries[${i}].name`;
    let resolved: ResolvedBinary;
    try {
      resolved = await source.resolve(b.name);
    } catch (e) {
      if (!(e instanceof BinaryNotFoundError)) throw e;
      issues.push({ path, found: `no program for binary '${b.name}'`, expected: `${e.expected} (${e.hint})` });
      continue;
    }
    if (resolved.bytes.length === 0) {
      issues.push({ path, found: `an empty program (0 bytes at ${resolved.origin})`, expected: "a non-empty program" });
      continue;
    }
    out.set(b.name, resolved);
  }
  if (issues.length > 0) throw new ManifestInvalidError(issues);
  return out;
}
