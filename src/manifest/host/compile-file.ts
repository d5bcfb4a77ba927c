// The manifest compiler for the Node command line: a manifest file on disk,
// tags from flags and the environment, programs from the build directory.
// `capos manifest` and `capos boot` call these.
import { dirname, join } from "node:path";
import { compileManifest, evaluateManifest, type CompiledManifest, type EvaluatedManifest, type ManifestInput } from "../compile.js";
import { parseTag, parseTagList } from "../cue/evaluate.js";
import { BuildDirBinaries, type BuildHook } from "./build-dir.js";
import { loadCueModule } from "./cue-wasm.js";
import { readDefaultsPackage } from "./defaults-files.js";
import { caposInstallDir, findRepoRoot, locateManifest } from "./locate.js";
import { NodeSourceTree } from "./node-tree.js";

/** The environment variable holding tags for every manifest: `key=value,key=value`. */
export const TAGS_ENV = "CAPOS_CUE_TAGS";

export interface ManifestFileOptions {
  /** The manifest as the user named it (see locateManifest). */
  file: string;
  /** The directory relative names and messages are taken from; default process.cwd(). */
  cwd?: string;
  /** `key=value` tags for `--inject`. */
  tags?: readonly string[];
  /** Where CAPOS_CUE_TAGS is read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The build output directory; default build/ of the capos checkout around cwd, the manifest, or this program. */
  buildDir?: string;
  /** Builds missing or stale programs before they are read (the `capos build` pipeline). */
  build?: BuildHook | null;
}

async function input(opts: ManifestFileOptions): Promise<ManifestInput & { file: string }> {
  const cwd = opts.cwd ?? process.cwd();
  const file = locateManifest(opts.file, cwd);
  const env = opts.env ?? process.env;
  return {
    cueModule: await loadCueModule(),
    tree: new NodeSourceTree(cwd),
    file,
    tags: (opts.tags ?? []).map(parseTag),
    ambientTags: parseTagList(env[TAGS_ENV] ?? ""),
    defaults: readDefaultsPackage(),
  };
}

export function defaultBuildDir(cwd: string, manifestFile: string): string {
  const root = findRepoRoot(cwd) ?? findRepoRoot(dirname(manifestFile)) ?? caposInstallDir();
  return join(root, "build");
}

/** Evaluates and checks a manifest file; its programs are not read. */
export async function evaluateManifestFile(opts: ManifestFileOptions): Promise<EvaluatedManifest & { file: string }> {
  const inp = await input(opts);
  return { ...(await evaluateManifest(inp)), file: inp.file };
}

/** Compiles a manifest file into the boot package bytes. */
export async function compileManifestFile(opts: ManifestFileOptions): Promise<CompiledManifest & { file: string; buildDir: string }> {
  const cwd = opts.cwd ?? process.cwd();
  const inp = await input(opts);
  const buildDir = opts.buildDir ?? defaultBuildDir(cwd, inp.file);
  const compiled = await compileManifest(inp, new BuildDirBinaries(buildDir, opts.build ?? null, cwd));
  return { ...compiled, file: inp.file, buildDir };
}
