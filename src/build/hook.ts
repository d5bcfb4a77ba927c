// The build hook the manifest compiler calls before it reads programs
// (`capos manifest`, `capos boot`): builds the user programs the manifest
// names, when the build directory belongs to a capos source tree that has
// them. Programs it cannot build are left for the manifest to report missing.
import { dirname } from "node:path";
import { findSourceRoot } from "./locate.js";
import { build, type BuildReporter } from "./pipeline.js";
import { autoReporter } from "./progress.js";
import { userProgramNames } from "./targets.js";

export interface BuildHookOptions {
  /** The source tree; by default the capos checkout containing the build directory. */
  root?: string;
  /** Progress output; by default on stderr (terminal or plain lines). */
  reporter?: BuildReporter;
}

/** `(names, buildDir) => Promise<void>`: the shape of src/manifest's BuildHook. Throws BuildError if a program fails to build. */
export function createBuildHook(options: BuildHookOptions = {}): (names: readonly string[], buildDir: string) => Promise<void> {
  return async (names, buildDir) => {
    const root = options.root ?? findSourceRoot(dirname(buildDir));
    if (root === null) return;
    const available = new Set(userProgramNames(root));
    const wanted = [...new Set(names)].filter((n) => available.has(n));
    if (wanted.length === 0) return;
    const summary = await build({ root, buildDir, targets: wanted.map((n) => `user/${n}`), reporter: options.reporter ?? autoReporter(process.stderr) });
    const failed = summary.outcomes.find((o) => o.error !== null);
    if (failed?.error) throw failed.error;
  };
}
