// Programs for the manifest from the build output directory. Layout:
//   <buildDir>/user/<name>.elf   a user program (static ELF64) built by `capos build`
// The build pipeline plugs in as the `build` hook, which runs before anything
// is read and builds what is missing or stale ("build it if needed").
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { BinaryNotFoundError, type BinarySource, type ResolvedBinary } from "../binaries.js";

/** Builds the named user programs into `buildDir` (the `capos build` pipeline). */
export type BuildHook = (names: readonly string[], buildDir: string) => Promise<void>;

export function userProgramPath(buildDir: string, name: string): string {
  return join(buildDir, "user", `${name}.elf`);
}

export class BuildDirBinaries implements BinarySource {
  constructor(
    private readonly buildDir: string,
    private readonly build: BuildHook | null = null,
    /** Paths in messages are shown relative to this directory. */
    private readonly shellDir: string = process.cwd(),
  ) {}

  async prepare(names: readonly string[]): Promise<void> {
    if (this.build !== null) await this.build(names, this.buildDir);
  }

  async resolve(name: string): Promise<ResolvedBinary> {
    const path = userProgramPath(this.buildDir, name);
    const shown = this.show(path);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new BinaryNotFoundError(name, shown, "run capos build");
      throw e;
    }
    return { bytes, origin: shown };
  }

  private show(path: string): string {
    const rel = relative(this.shellDir, path);
    return rel.startsWith("..") ? path : rel;
  }
}
