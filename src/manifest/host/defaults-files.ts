// Reads the shared CUE defaults package (manifests/defaults) of the running
// capos installation, to lend to manifests kept outside the repository.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DefaultsFile } from "../cue/defaults-graft.js";
import { caposInstallDir } from "./locate.js";

export function readDefaultsPackage(dir: string = join(caposInstallDir(), "manifests", "defaults")): DefaultsFile[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".cue") && !n.startsWith(".") && !n.startsWith("_"))
    .sort()
    .map((name) => ({ name, contents: readFileSync(join(dir, name)), origin: join(dir, name) }));
}
