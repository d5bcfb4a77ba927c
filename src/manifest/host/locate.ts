// Finds things on disk for the Node command line: the capos installation (for
// the defaults package), the repository root (for build/), and the manifest a
// user names (`capos boot system.cue` from the repository root finds
// manifests/system.cue).
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function isCaposRoot(dir: string): boolean {
  const pkg = join(dir, "package.json");
  if (!existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "capos";
  } catch {
    return false;
  }
}

/** The nearest directory at or above `from` that is a capos checkout (package.json named capos). */
export function findRepoRoot(from: string): string | null {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (isCaposRoot(d)) return d;
    if (dirname(d) === d) return null;
  }
}

/** The directory this capos program runs from (source tree or installed package). */
export function caposInstallDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findRepoRoot(here);
  if (root === null) throw new Error(`cannot find the capos installation above ${here}`);
  return root;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The manifest file `arg` names: the path itself (relative to `cwd`), else the
 * same name under manifests/ of the current directory or of the capos checkout
 * containing it.
 */
export function locateManifest(arg: string, cwd: string): string {
  const direct = resolve(cwd, arg);
  if (isFile(direct) || isAbsolute(arg)) return direct;
  const tried = [direct];
  const candidates = [join(cwd, "manifests", arg)];
  const root = findRepoRoot(cwd);
  if (root !== null) candidates.push(join(root, "manifests", arg));
  for (const c of candidates) {
    if (isFile(c)) return c;
    if (!tried.includes(c)) tried.push(c);
  }
  throw new Error(`manifest '${arg}' not found: looked at ${tried.join(", ")}`);
}
