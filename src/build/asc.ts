// Runs the AssemblyScript compiler in memory through its programmatic API:
// one entry module, options from the target, sources from disk or generated
// in memory. Reports every path asc looked at (found or not: the cache's
// inputs) and turns asc's diagnostics into file:line:col diagnostics.
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { BuildError, locate, type Diagnostic } from "./diagnostics.js";
import { hashBytes } from "./hash.js";

export interface AscOptions {
  /** "stub": no garbage collector, a bump allocator that never frees (docs/build.md says why). */
  runtime: "stub";
  optimizeLevel: number;
  shrinkLevel: number;
  /** `--use` aliases, e.g. "abort=user/rt/abort/rtAbort" (or "abort=" to make aborts traps). */
  use: readonly string[];
  /** Linear memory limits in 64 KiB pages (0 = asc's default). */
  initialMemory: number;
  maximumMemory: number;
  /** Where static data starts in linear memory (0 = asc's default); the kernel's must lie above its image. */
  memoryBase: number;
  noAssert: boolean;
}

export interface AscJob {
  /** Absolute source root: asc's base directory; every path below is relative to it (posix). */
  root: string;
  /** The entry module. */
  entry: string;
  /** Sources that exist only in memory (a generated program entry), by path. */
  generated?: ReadonlyMap<string, string>;
  options: AscOptions;
  /** Target name for messages. */
  target: string;
}

/** A path on disk asc looked at: the hash of what it read, or null when nothing was there. */
export interface SourceInput {
  path: string;
  hash: string | null;
}

export interface AscResult {
  wasm: Uint8Array;
  inputs: SourceInput[];
  warnings: Diagnostic[];
}

const CATEGORY_WARNING = 2;
const CATEGORY_ERROR = 3;

type Asc = (typeof import("assemblyscript/asc"))["default"];
let ascModule: Promise<Asc> | null = null;

/** The compiler, loaded on first use: loading it (Binaryen included) is most of a cold start, and a warm build never needs it. */
export function loadAsc(): Promise<Asc> {
  ascModule ??= import("assemblyscript/asc").then((m) => m.default);
  return ascModule;
}

/** The command-line form of the options (what `asc` would be run with). */
export function ascArguments(entry: string, o: AscOptions): string[] {
  const args = [
    entry,
    "--outFile", "out.wasm",
    "--runtime", o.runtime,
    "--optimizeLevel", String(o.optimizeLevel),
    "--shrinkLevel", String(o.shrinkLevel),
    "--noColors",
    // Keep the name section: the compiler turns it into the symbol map that
    // `capos disasm`, traces and kernel backtraces name functions with.
    "--debug",
  ];
  for (const u of o.use) args.push("--use", u);
  if (o.initialMemory > 0) args.push("--initialMemory", String(o.initialMemory));
  if (o.maximumMemory > 0) args.push("--maximumMemory", String(o.maximumMemory));
  if (o.memoryBase > 0) args.push("--memoryBase", String(o.memoryBase));
  if (o.noAssert) args.push("--noAssert");
  return args;
}

function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

/** asc ended the process (it calls process.exit(1) when it crashes); turned into an error instead. */
class AscCrash extends Error {}

/** The crash guard is installed once however many asc runs overlap; the count says when to take it down. */
let guarded = 0;
let realExit: typeof process.exit = process.exit;
let realConsoleError: typeof console.error = console.error;
const crashReport: string[] = [];

/**
 * Runs asc with process.exit and console.error taken over: when asc crashes
 * on some input it prints a report and exits the whole process, which would
 * take the build (or a test run) down with no word about the target.
 */
async function guardCrash<T>(target: string, run: () => Promise<T>): Promise<T> {
  if (guarded++ === 0) {
    realExit = process.exit;
    realConsoleError = console.error;
    crashReport.length = 0;
    process.exit = ((code?: number) => {
      throw new AscCrash(`asc exited with status ${code ?? 0}`);
    }) as typeof process.exit;
    console.error = (...args: unknown[]) => {
      crashReport.push(args.map(String).join(" "));
    };
  }
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof AscCrash)) throw e;
    // The report's first lines say what crashed; the rest is asc's stack trace.
    const text = crashReport.join("\n").split("\n").map((l) => l.replace(/^\s*\u258C\s?/, "").trim()).filter((l) => l !== "");
    const what = text.find((l) => /Error/.test(l)) ?? e.message;
    const where = text.find((l) => l.startsWith("Whoops")) ?? "the AssemblyScript compiler crashed";
    throw new BuildError(target, "asc", [{ severity: "error", file: null, line: 0, column: 0, code: "", message: `${where.replace(/ :-\($/, "")}: ${what}` }]);
  } finally {
    if (--guarded === 0) {
      process.exit = realExit;
      console.error = realConsoleError;
    }
  }
}

/** Compiles one entry to wasm. Throws BuildError (stage "asc") with every error asc reported. */
export async function compileWithAsc(job: AscJob): Promise<AscResult> {
  const asc = await loadAsc();
  const root = resolve(job.root);
  const generated = job.generated ?? new Map<string, string>();
  const seen = new Map<string, string | null>();
  const texts = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const stderr: string[] = [];
  let wasm: Uint8Array | null = null;

  const rel = (name: string, baseDir: string): string => toPosix(relative(root, isAbsolute(name) ? name : resolve(baseDir, name)));

  const result = await guardCrash(job.target, () => asc.main(ascArguments(job.entry, job.options).concat(["--baseDir", root]), {
    async readFile(name: string, baseDir: string): Promise<string | null> {
      // Options come from the target description only: an asconfig.json must not change a build.
      if (name === "asconfig.json") return null;
      const path = rel(name, baseDir);
      const virtual = generated.get(path);
      if (virtual !== undefined) {
        // Not an input on disk: the caller's cache key holds generated sources.
        texts.set(path, virtual);
        return virtual;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(resolve(root, path));
      } catch {
        if (!seen.has(path)) seen.set(path, null);
        return null;
      }
      const text = bytes.toString("utf8");
      seen.set(path, hashBytes(bytes));
      texts.set(path, text);
      return text;
    },
    writeFile(name: string, contents: Uint8Array | string): void {
      if (name === "out.wasm" && typeof contents !== "string") wasm = contents;
    },
    listFiles(): string[] {
      return [];
    },
    stdout: { write: () => true } as never,
    stderr: { write: (s: string | Uint8Array) => (stderr.push(typeof s === "string" ? s : new TextDecoder().decode(s)), true) } as never,
    reportDiagnostic(d) {
      if (d.category !== CATEGORY_ERROR && d.category !== CATEGORY_WARNING) return;
      const source = d.range?.source.normalizedPath ?? null;
      let file: string | null = null;
      let place = { line: 0, column: 0, lineText: undefined as string | undefined };
      if (source !== null) {
        const path = source.startsWith(asc.libraryPrefix) ? source : source.replace(/^\.\//, "");
        file = path;
        const text = path.startsWith(asc.libraryPrefix)
          ? asc.libraryFiles[path.slice(asc.libraryPrefix.length).replace(/\.ts$/, "")]
          : texts.get(path);
        if (text !== undefined && d.range !== null) place = locate(text, d.range.start);
      }
      diagnostics.push({
        severity: d.category === CATEGORY_ERROR ? "error" : "warning",
        file, line: place.line, column: place.column,
        code: `TS${d.code}`, message: d.message,
        ...(place.lineText === undefined ? {} : { lineText: place.lineText }),
      });
    },
  }));

  const errors = diagnostics.filter((d) => d.severity === "error");
  const out = wasm as Uint8Array | null;
  if (result.error !== null || errors.length > 0 || out === null) {
    if (errors.length === 0) {
      // A failure asc reports without a diagnostic (a missing entry file, a crash): its own words.
      const text = stderr.join("").replace(/^FAILURE\s*/m, "").trim();
      errors.push({ severity: "error", file: null, line: 0, column: 0, code: "", message: text || (result.error?.message ?? "asc produced no output") });
    }
    throw new BuildError(job.target, "asc", [...errors, ...diagnostics.filter((d) => d.severity === "warning")]);
  }
  const inputs = [...seen.entries()].map(([path, hash]) => ({ path, hash })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { wasm: out, inputs, warnings: diagnostics.filter((d) => d.severity === "warning") };
}

/** The versions of asc and Binaryen, read without loading either (a warm build checks them). */
export async function ascVersions(): Promise<string> {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const version = (pkg: string): string => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return "unknown";
    }
  };
  return `assemblyscript ${version("assemblyscript")}, binaryen ${version("binaryen")}`;
}
