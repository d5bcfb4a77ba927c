// Writes build outputs so a reader sees the old file or the new one, never a
// partial one: each file goes to a temporary name beside its destination and
// is renamed over it. A batch is written completely before any rename, so a
// failure while writing leaves every destination as it was.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface OutputFile {
  path: string;
  bytes: Uint8Array;
}

let counter = 0;

function tempPath(path: string): string {
  counter++;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
}

function writeTemp(path: string, bytes: Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPath(path);
  const fd = openSync(tmp, "wx", 0o644);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/**
 * Writes every file to a temporary name, then renames them into place in
 * order. If any write fails, the temporaries are removed and no destination
 * changes. (Renames themselves do not fail short of a broken file system; the
 * order puts the cache record last, so a crash between renames only costs a
 * rebuild.)
 */
export function writeFilesAtomically(files: readonly OutputFile[]): void {
  const temps: string[] = [];
  try {
    for (const f of files) temps.push(writeTemp(f.path, f.bytes));
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    throw e;
  }
  files.forEach((f, k) => renameSync(temps[k]!, f.path));
}
