// `capos build`: every target from source to image, through the cache.
// For each target: up to date (nothing runs) → else asc, unless its recorded
// inputs are unchanged and its wasm is cached → else compile and link, unless
// the wasm and the assembly are what the recorded images were made from →
// write the images, the wasm and the record atomically, the record last.
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { compileWithAsc, type SourceInput } from "./asc.js";
import { encodeRecord, inputsUnchanged, outputsIntact, readRecord, recordPath, sameInputs, wasmCachePath, type CacheRecord } from "./cache.js";
import { BuildError, type Diagnostic } from "./diagnostics.js";
import { toolchainFingerprint } from "./fingerprint.js";
import { hashBytes, hashParts } from "./hash.js";
import { buildImage, type AsmSource } from "./image.js";
import { listTargets, resolveTarget, targetIdOf, type TargetRef, type TargetSpec } from "./targets.js";
import { writeFilesAtomically, type OutputFile } from "./write-files.js";

/** The work a target can go through, in order (timed separately; reported as "asc", then "x86-64" for compiling and linking). */
export type WorkStage = "asc" | "x86-64" | "link";

export type TargetStatus =
  /** Nothing ran: inputs, toolchain and images are as recorded. */
  | "up-to-date"
  /** asc ran (a source changed) but produced the same wasm: the images stand. */
  | "unchanged"
  /** Compiled and linked; new images written. */
  | "built"
  | "failed";

export interface TargetOutcome {
  target: string;
  status: TargetStatus;
  /** The image, relative to the build directory. */
  output: string;
  /** Bytes of the image (0 when failed). */
  bytes: number;
  ms: number;
  stageMs: Partial<Record<WorkStage, number>>;
  /** asc warnings from this run (none when asc did not run). */
  warnings: readonly Diagnostic[];
  error: BuildError | null;
}

export interface BuildSummary {
  buildDir: string;
  outcomes: TargetOutcome[];
  ms: number;
  ok: boolean;
}

/** Progress events, in the order a build produces them. */
export interface BuildReporter {
  begin(targets: readonly string[], buildDir: string): void;
  stage(target: string, stage: WorkStage): void;
  done(outcome: TargetOutcome): void;
  end(summary: BuildSummary): void;
}

export interface BuildOptions {
  /** The source tree (holding kernel/ and user/). */
  root: string;
  /** Where images go (build/ of the source tree by default in the CLI). */
  buildDir: string;
  /** Target names ("kernel", "user/shell" or "shell"); all targets when absent. */
  targets?: readonly string[];
  /** Rebuild even what the cache says is current. */
  force?: boolean;
  reporter?: BuildReporter;
}

const SILENT: BuildReporter = { begin() {}, stage() {}, done() {}, end() {} };

/**
 * The cache key of a target: the toolchain and everything in its description
 * (generated sources included) except the assembly list, which the record
 * tracks file by file so that assembly changes only relink.
 */
function targetKey(spec: TargetSpec, fingerprint: string): string {
  return hashParts([
    ["toolchain", fingerprint],
    ["spec", JSON.stringify({ ...spec, asm: null, generated: [...spec.generated.entries()] })],
  ]);
}

function mapPath(output: string): string {
  return output.replace(/\.elf$/, "") + ".map";
}

function readAsm(root: string, spec: TargetSpec): { sources: AsmSource[]; inputs: SourceInput[] } {
  const sources: AsmSource[] = [];
  const inputs: SourceInput[] = [];
  for (const path of spec.asm) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(root, path));
    } catch (e) {
      throw new BuildError(spec.id, "assemble", [{ severity: "error", file: path, line: 0, column: 0, code: "", message: `cannot read: ${(e as Error).message}` }]);
    }
    sources.push({ path, text: bytes.toString("utf8") });
    inputs.push({ path, hash: hashBytes(bytes) });
  }
  return { sources, inputs };
}

function readCachedWasm(buildDir: string, id: string, hash: string): Uint8Array | null {
  try {
    const bytes = readFileSync(wasmCachePath(buildDir, id));
    return hashBytes(bytes) === hash ? new Uint8Array(bytes) : null;
  } catch {
    return null;
  }
}

async function buildTarget(spec: TargetSpec, opts: BuildOptions, fingerprint: string, reporter: BuildReporter): Promise<TargetOutcome> {
  const started = performance.now();
  const root = resolve(opts.root);
  const buildDir = resolve(opts.buildDir);
  const outcome = (status: TargetStatus, bytes: number, stageMs: TargetOutcome["stageMs"], warnings: readonly Diagnostic[] = []): TargetOutcome =>
    ({ target: spec.id, status, output: spec.output, bytes, ms: performance.now() - started, stageMs, warnings, error: null });

  const key = targetKey(spec, fingerprint);
  const record = opts.force === true ? null : readRecord(buildDir, spec.id);
  const current = record !== null && record.key === key ? record : null;
  const sourcesSame = current !== null && inputsUnchanged(root, current.sources);
  const asm = readAsm(root, spec);
  const asmSame = current !== null && sameInputs(current.asm, asm.inputs);
  const outputsSame = current !== null && outputsIntact(buildDir, current.outputs);
  if (current !== null && sourcesSame && asmSame && outputsSame) {
    return outcome("up-to-date", statSync(join(buildDir, spec.output)).size, {});
  }

  const stageMs: TargetOutcome["stageMs"] = {};
  let wasm = current !== null && sourcesSame ? readCachedWasm(buildDir, spec.id, current.wasm) : null;
  let sources = current?.sources ?? [];
  let warnings: readonly Diagnostic[] = [];
  if (wasm === null) {
    reporter.stage(spec.id, "asc");
    const t = performance.now();
    const r = await compileWithAsc({ root, entry: spec.entry, generated: spec.generated, options: spec.asc, target: spec.id });
    stageMs.asc = performance.now() - t;
    wasm = r.wasm;
    sources = r.inputs;
    warnings = r.warnings;
  }
  const wasmHash = hashBytes(wasm);
  const files: OutputFile[] = [];
  let outputs = current?.outputs ?? {};
  let status: TargetStatus = "unchanged";
  if (current === null || current.wasm !== wasmHash || !asmSame || !outputsSame) {
    reporter.stage(spec.id, "x86-64");
    const image = buildImage(spec, wasm, asm.sources);
    stageMs["x86-64"] = image.ms["x86-64"];
    stageMs.link = image.ms.link;
    const map = new TextEncoder().encode(image.symbolMap);
    files.push({ path: join(buildDir, spec.output), bytes: image.elf }, { path: join(buildDir, mapPath(spec.output)), bytes: map });
    outputs = { [spec.output]: hashBytes(image.elf), [mapPath(spec.output)]: hashBytes(map) };
    status = "built";
  }
  if (stageMs.asc !== undefined) files.push({ path: wasmCachePath(buildDir, spec.id), bytes: wasm });
  const next: CacheRecord = { target: spec.id, key, sources, asm: asm.inputs, wasm: wasmHash, outputs };
  files.push({ path: recordPath(buildDir, spec.id), bytes: encodeRecord(next) });
  try {
    writeFilesAtomically(files);
  } catch (e) {
    throw new BuildError(spec.id, "write", [{ severity: "error", file: null, line: 0, column: 0, code: "", message: `cannot write the build output: ${(e as Error).message}` }]);
  }
  return outcome(status, statSync(join(buildDir, spec.output)).size, stageMs, warnings);
}

/** The targets `names` select from `all`; an unknown name is a BuildError listing what exists. */
export function selectTargets(all: readonly TargetRef[], names: readonly string[] | undefined): TargetRef[] {
  if (names === undefined || names.length === 0) return [...all];
  const out: TargetRef[] = [];
  for (const name of names) {
    const id = targetIdOf(name);
    const ref = all.find((t) => t.id === id);
    if (ref === undefined) {
      const known = all.map((t) => t.id).join(", ") || "none";
      throw new BuildError(name, "config", [{ severity: "error", file: null, line: 0, column: 0, code: "", message: `no target named '${name}' (targets: ${known})` }]);
    }
    if (!out.includes(ref)) out.push(ref);
  }
  return out;
}

/**
 * Builds the selected targets one after another. A failed target does not
 * stop the others; its previous images stay untouched. The summary's `ok` is
 * false when any failed. An unknown target name throws BuildError before
 * anything is built.
 */
export async function build(opts: BuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const reporter = opts.reporter ?? SILENT;
  const root = resolve(opts.root);
  const buildDir = resolve(opts.buildDir);
  const refs = selectTargets(listTargets(root), opts.targets);
  reporter.begin(refs.map((r) => r.id), buildDir);
  const fingerprint = await toolchainFingerprint();
  const outcomes: TargetOutcome[] = [];
  for (const ref of refs) {
    const t = performance.now();
    let o: TargetOutcome;
    try {
      o = await buildTarget(resolveTarget(root, ref), opts, fingerprint, reporter);
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      const output = ref.kind === "kernel" ? "kernel.elf" : `${ref.dir}.elf`;
      o = { target: ref.id, status: "failed", output, bytes: 0, ms: performance.now() - t, stageMs: {}, warnings: [], error: e };
    }
    outcomes.push(o);
    reporter.done(o);
  }
  const summary: BuildSummary = { buildDir, outcomes, ms: performance.now() - started, ok: outcomes.every((o) => o.status !== "failed") };
  reporter.end(summary);
  return summary;
}
