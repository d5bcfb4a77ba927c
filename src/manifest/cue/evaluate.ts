// Evaluates a manifest with the real CUE evaluator and exports it to JSON.
// A file that declares `package p` is evaluated in package mode: every file of
// package p in its folder is unified with it (so a git-ignored system.local.cue
// overlay extends system.cue). Tags are injected with `--inject key=value`.
import type { SourceTree } from "../source-tree.js";
import { basename, dirname, join, resolve } from "../posix-path.js";
import { runCue } from "./cue-runner.js";

/** One `--inject` tag: `key=value`, or a bare `key` for an `@if(key)` build constraint. */
export interface CueTag {
  key: string;
  value: string | null;
}

export interface EvaluateOptions {
  /** The compiled cue.wasm. */
  cueModule: WebAssembly.Module;
  tree: SourceTree;
  /** Absolute path of the manifest file inside `tree`. */
  file: string;
  /** Tags the user asked for: CUE rejects any the manifest package does not declare. */
  tags?: readonly CueTag[];
  /**
   * Tags from the environment (CAPOS_CUE_TAGS): applied only to packages that
   * declare them, so one setting serves every manifest. A tag in `tags` wins.
   */
  ambientTags?: readonly CueTag[];
}

export interface CueEvaluation {
  /** The exported JSON value. */
  value: unknown;
  /** The package evaluated, or null for a file without a package clause. */
  packageName: string | null;
  /** Every file unified into the result (absolute paths in the tree). */
  files: string[];
  /** The tags passed to CUE. */
  tags: CueTag[];
}

/** CUE rejected the manifest; `message` carries CUE's diagnostics with file:line:col. */
export class CueEvaluationError extends Error {
  override readonly name = "CueEvaluationError";
}

const TAG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `key=value` (or a bare `key`) as given to `--inject`. */
export function parseTag(text: string): CueTag {
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq);
  if (!TAG_KEY.test(key)) throw new Error(`bad tag '${text}': expected key=value with key a CUE identifier`);
  return { key, value: eq < 0 ? null : text.slice(eq + 1) };
}

/** Parses CAPOS_CUE_TAGS: comma-separated `key=value` items; empty items are skipped. */
export function parseTagList(text: string): CueTag[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(parseTag);
}

export function formatTag(tag: CueTag): string {
  return tag.value === null ? tag.key : `${tag.key}=${tag.value}`;
}

const utf8 = new TextDecoder("utf-8");

export async function evaluateCue(opts: EvaluateOptions): Promise<CueEvaluation> {
  const { tree, file } = opts;
  const st = tree.stat(file);
  if (st === null) throw new CueEvaluationError(`${tree.displayPath(file)}: no such file`);
  if (st.kind !== "file") throw new CueEvaluationError(`${tree.displayPath(file)}: not a file`);
  const name = basename(file);
  if (!name.endsWith(".cue")) throw new CueEvaluationError(`${tree.displayPath(file)}: expected a .cue file`);
  if (name.startsWith(".") || name.startsWith("_")) {
    throw new CueEvaluationError(`${tree.displayPath(file)}: CUE ignores files whose names start with '.' or '_'; rename it`);
  }
  const dir = dirname(file);
  const packageName = packageClause(utf8.decode(tree.readFile(file)));
  const files = packageName === null ? [file] : packageFiles(tree, dir, packageName);

  const declared = new Set<string>();
  for (const f of files) for (const key of declaredTags(utf8.decode(tree.readFile(f)))) declared.add(key);
  const explicit = opts.tags ?? [];
  const explicitKeys = new Set(explicit.map((t) => t.key));
  const tags = [...explicit, ...(opts.ambientTags ?? []).filter((t) => declared.has(t.key) && !explicitKeys.has(t.key))];

  const target = packageName === null ? `./${name}` : `.:${packageName}`;
  const args = ["export", target, "--out", "json"];
  for (const tag of tags) args.push("--inject", formatTag(tag));
  const run = await runCue(opts.cueModule, tree, dir, args);
  if (run.exitCode !== 0) {
    const diagnostics = showPaths(run.stderr.trim() || `cue exited with status ${run.exitCode}`, dir, tree);
    throw new CueEvaluationError(diagnostics);
  }
  let value: unknown;
  try {
    value = JSON.parse(run.stdout);
  } catch (e) {
    throw new CueEvaluationError(`cue export produced output that is not JSON: ${(e as Error).message}`);
  }
  return { value, packageName, files, tags };
}

/**
 * The package a CUE file declares, or null. The clause must come before any
 * declaration; comments and file attributes (`@if(...)`) may precede it.
 */
export function packageClause(source: string): string | null {
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("//") || line.startsWith("@")) continue;
    const m = /^package\s+([A-Za-z_#$][A-Za-z0-9_$]*)\s*(\/\/.*)?$/.exec(line);
    return m === null ? null : m[1]!;
  }
  return null;
}

/** The files CUE unifies for `.:pkg` in `dir`: non-hidden .cue files declaring that package. */
function packageFiles(tree: SourceTree, dir: string, pkg: string): string[] {
  const out: string[] = [];
  for (const entry of tree.readDir(dir)) {
    if (!entry.endsWith(".cue") || entry.startsWith(".") || entry.startsWith("_")) continue;
    const path = join(dir, entry);
    if (tree.stat(path)?.kind !== "file") continue;
    if (packageClause(utf8.decode(tree.readFile(path))) === pkg) out.push(path);
  }
  return out;
}

/** Tag names a file declares through `@tag(name…)` and `@if(expr)` attributes. */
export function declaredTags(source: string): string[] {
  const keys: string[] = [];
  for (const m of source.matchAll(/@tag\(\s*([A-Za-z_][A-Za-z0-9_]*)/g)) keys.push(m[1]!);
  for (const m of source.matchAll(/@if\(([^)]*)\)/g)) {
    for (const id of m[1]!.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) keys.push(id[0]);
  }
  return keys;
}

/** Rewrites the file positions in CUE's diagnostics (relative to `dir`) into paths a person can open. */
function showPaths(text: string, dir: string, tree: SourceTree): string {
  return text.replace(/(^|[\s(])((?:\.{1,2}\/|\/)[^\s:()]*\.cue)(?=:\d+:\d+|[\s:)]|$)/gm, (_all, lead: string, path: string) => {
    return lead + tree.displayPath(resolve(dir, path));
  });
}
