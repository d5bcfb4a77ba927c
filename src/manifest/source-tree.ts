// The read-only file view the CUE evaluator reads manifests through: absolute
// POSIX paths to bytes and directory listings. Browsers back it with a map of
// files; Node backs it with the disk (host/node-tree.ts). Nothing here writes.
import { dirname, normalize } from "./posix-path.js";

export type SourceStat = { kind: "file"; size: number } | { kind: "dir" };

export interface SourceTree {
  /** What is at `path` (absolute, normalized), or null if nothing is. */
  stat(path: string): SourceStat | null;
  /** The bytes of the file at `path`; only called where stat said "file". */
  readFile(path: string): Uint8Array;
  /** The entry names of the directory at `path`; only called where stat said "dir". */
  readDir(path: string): string[];
  /** The path to show a person for `path` in error messages (e.g. relative to their shell's directory). */
  displayPath(path: string): string;
}

const utf8 = new TextEncoder();

/** A tree held in memory: the given files, and every directory above them. */
export class MapSourceTree implements SourceTree {
  private readonly files = new Map<string, Uint8Array>();
  private readonly dirs = new Map<string, Set<string>>([["/", new Set()]]);

  constructor(files: Iterable<readonly [string, string | Uint8Array]>) {
    for (const [rawPath, contents] of files) {
      const path = normalize(rawPath);
      if (!path.startsWith("/") || path === "/") throw new Error(`source tree paths must be absolute files: ${rawPath}`);
      this.files.set(path, typeof contents === "string" ? utf8.encode(contents) : contents);
      let child = path;
      for (let dir = dirname(path); ; dir = dirname(dir)) {
        let entries = this.dirs.get(dir);
        if (entries === undefined) {
          entries = new Set();
          this.dirs.set(dir, entries);
        }
        entries.add(child.slice(child.lastIndexOf("/") + 1));
        if (dir === "/") break;
        child = dir;
      }
    }
  }

  stat(path: string): SourceStat | null {
    const file = this.files.get(path);
    if (file !== undefined) return { kind: "file", size: file.length };
    return this.dirs.has(path) ? { kind: "dir" } : null;
  }

  readFile(path: string): Uint8Array {
    const file = this.files.get(path);
    if (file === undefined) throw new Error(`no file ${path}`);
    return file;
  }

  readDir(path: string): string[] {
    return [...(this.dirs.get(path) ?? [])].sort();
  }

  displayPath(path: string): string {
    return path;
  }
}

/**
 * `extra` laid over `base`: extra files shadow base files, and their folders
 * merge with the base's. Used to lend the capos defaults package to manifests
 * that live outside any CUE module. `origins` maps a grafted path back to the
 * file it was copied from, for error messages.
 */
export class OverlayTree implements SourceTree {
  constructor(
    private readonly base: SourceTree,
    private readonly extra: MapSourceTree,
    private readonly origins: ReadonlyMap<string, string> = new Map(),
  ) {}

  stat(path: string): SourceStat | null {
    const own = this.extra.stat(path);
    if (own?.kind === "file") return own;
    const under = this.base.stat(path);
    if (own?.kind === "dir" && under?.kind === "file") return own;
    return under ?? own;
  }

  readFile(path: string): Uint8Array {
    return this.extra.stat(path)?.kind === "file" ? this.extra.readFile(path) : this.base.readFile(path);
  }

  readDir(path: string): string[] {
    const names = new Set<string>();
    if (this.extra.stat(path)?.kind === "dir") for (const n of this.extra.readDir(path)) names.add(n);
    if (this.base.stat(path)?.kind === "dir") for (const n of this.base.readDir(path)) names.add(n);
    return [...names].sort();
  }

  displayPath(path: string): string {
    return this.base.displayPath(this.origins.get(path) ?? path);
  }
}
