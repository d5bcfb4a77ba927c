// Where the sources and the build directory are: the capos checkout around a
// directory (package.json named "capos"), and the default build directory in
// it. The build pipeline builds only from a source tree it can find this way.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

function isCaposRoot(dir: string): boolean {
  const pkg = join(dir, "package.json");
  if (!existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "capos";
  } catch {
    return false;
  }
}

/** The nearest capos checkout at or above `from`, or null. */
export function findSourceRoot(from: string): string | null {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (isCaposRoot(d)) return d;
    if (dirname(d) === d) return null;
  }
}

/** The default build directory of a source tree. */
export function defaultBuildDir(root: string): string {
  return join(root, "build");
}
