// A SourceTree over the real file system, read-only, for the Node command line.
// Error messages show paths relative to the directory the user ran capos in.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import type { SourceStat, SourceTree } from "../source-tree.js";

export class NodeSourceTree implements SourceTree {
  /** `shellDir` is the directory paths are shown relative to. */
  constructor(private readonly shellDir: string = process.cwd()) {}

  stat(path: string): SourceStat | null {
    try {
      const st = statSync(path);
      if (st.isDirectory()) return { kind: "dir" };
      if (st.isFile()) return { kind: "file", size: st.size };
      return null;
    } catch {
      return null;
    }
  }

  readFile(path: string): Uint8Array {
    return readFileSync(path);
  }

  readDir(path: string): string[] {
    return readdirSync(path).sort();
  }

  displayPath(path: string): string {
    const rel = relative(this.shellDir, path);
    if (rel === "") return ".";
    return rel.startsWith("..") || rel.startsWith(sep) ? path : rel;
  }
}
