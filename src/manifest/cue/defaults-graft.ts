// Lends the capos defaults package (manifests/defaults) to a manifest that is
// not inside any CUE module, so `import "capos.local/defaults"` works for a
// system.cue kept anywhere. The package is grafted, in the evaluator's view
// only, as a vendored package under a cue.mod beside the manifest.
import { MapSourceTree, OverlayTree, type SourceTree } from "../source-tree.js";
import { dirname, join } from "../posix-path.js";

/** The import path of the shared defaults package. */
export const DEFAULTS_IMPORT_PATH = "capos.local/defaults";

/** One file of the defaults package: its bytes and where they came from (for messages). */
export interface DefaultsFile {
  name: string;
  contents: Uint8Array;
  origin: string;
}

/** The nearest directory at or above `dir` holding a cue.mod, or null. */
export function findModuleRoot(tree: SourceTree, dir: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    if (tree.stat(join(d, "cue.mod")) !== null) return d;
    if (d === "/") return null;
  }
}

/**
 * `tree` unchanged when `manifestDir` is inside a CUE module (that module
 * decides its imports); otherwise `tree` with a cue.mod in `manifestDir`
 * that vendors the defaults package.
 */
export function lendDefaults(tree: SourceTree, manifestDir: string, defaults: readonly DefaultsFile[]): SourceTree {
  if (findModuleRoot(tree, manifestDir) !== null) return tree;
  const modDir = join(manifestDir, "cue.mod");
  const pkgDir = join(modDir, "pkg", DEFAULTS_IMPORT_PATH);
  const files: [string, string | Uint8Array][] = [[join(modDir, "module.cue"), 'module: "manifest.local"\n']];
  const origins = new Map<string, string>();
  for (const f of defaults) {
    const path = join(pkgDir, f.name);
    files.push([path, f.contents]);
    origins.set(path, f.origin);
  }
  return new OverlayTree(tree, new MapSourceTree(files), origins);
}
