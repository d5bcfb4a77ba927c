// Compiles AssemblyScript programs in memory with the programmatic asc API
// and instantiates them in V8. Programs follow the guest test ABI: no
// imports (abort is compiled to a trap), an exported `alloc(size): usize`,
// and entry points that take and return plain integers, so the same
// programs can later run as x86-64 code in the emulator.
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

export interface CompileOptions {
  /** Binaryen optimization level (default 1: fast to compile, still representative). */
  optimizeLevel?: number;
  /** In-memory sources by absolute path; they may import files on disk and vice versa. */
  virtualFiles?: Map<string, string>;
}

/** Compiles `entry` (absolute path or relative to the repository root) to a wasm binary. */
export async function compileAssemblyScript(entry: string, options: CompileOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const entryPath = isAbsolute(entry) ? entry : join(REPO_ROOT, entry);
  const outputs = new Map<string, Uint8Array>();
  const virtual = options.virtualFiles ?? new Map<string, string>();
  const stderr: string[] = [];
  const result = await asc.main(
    [
      entryPath,
      "--outFile", "out.wasm",
      "--runtime", "stub",
      "--optimizeLevel", String(options.optimizeLevel ?? 1),
      "--use", "abort=",
      "--noColors",
    ],
    {
      async readFile(name: string, baseDir: string): Promise<string | null> {
        const full = isAbsolute(name) ? name : resolve(baseDir, name);
        const v = virtual.get(full);
        if (v !== undefined) return v;
        try {
          return await readFile(full, "utf8");
        } catch {
          return null;
        }
      },
      writeFile(name: string, contents: Uint8Array | string): void {
        outputs.set(name, typeof contents === "string" ? new TextEncoder().encode(contents) : contents);
      },
      listFiles(): string[] {
        return [];
      },
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => (stderr.push(String(s)), true) } as never,
    },
  );
  const binary = outputs.get("out.wasm");
  if (result.error !== null || binary === undefined) {
    throw new Error(`asc failed for ${entry}: ${result.error?.message ?? "no output"}\n${stderr.join("")}`);
  }
  return new Uint8Array(binary);
}

/** An instantiated guest program with helpers to move bytes in and out of its memory. */
export class Guest {
  private readonly regions = new Map<string, { at: number; size: number }>();

  constructor(readonly instance: WebAssembly.Instance) {}

  get memory(): WebAssembly.Memory {
    return this.instance.exports["memory"] as WebAssembly.Memory;
  }

  /** An exported function by name. */
  fn<T extends (...args: never[]) => unknown>(name: string): T {
    const f = this.instance.exports[name];
    if (typeof f !== "function") throw new Error(`guest exports no function ${name}`);
    return f as T;
  }

  /** Allocates `size` bytes in guest memory (the program's `alloc` export). */
  alloc(size: number): number {
    return this.fn<(n: number) => number>("alloc")(size) >>> 0;
  }

  /** Copies `bytes` into freshly allocated guest memory and returns the address. */
  put(bytes: Uint8Array): number {
    const at = this.alloc(Math.max(bytes.length, 1));
    new Uint8Array(this.memory.buffer, at, bytes.length).set(bytes);
    return at;
  }

  /**
   * A reusable region of at least `size` bytes named `slot`: repeated calls
   * (fuzzing, many round trips) reuse memory instead of growing the heap.
   */
  region(slot: string, size: number): number {
    const known = this.regions.get(slot);
    if (known !== undefined && known.size >= size) return known.at;
    const at = this.alloc(Math.max(size, 1));
    this.regions.set(slot, { at, size });
    return at;
  }

  /** Copies `bytes` into the reusable region `slot` and returns its address. */
  putIn(slot: string, bytes: Uint8Array): number {
    const at = this.region(slot, bytes.length);
    new Uint8Array(this.memory.buffer, at, bytes.length).set(bytes);
    return at;
  }

  /** A copy of `length` bytes of guest memory at `at`. */
  get(at: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, at, length).slice();
  }
}

/** Compiled programs from disk, by entry: a test file that instantiates one program twice compiles it once. */
const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles and instantiates a fresh instance of a guest program. The program must import nothing. */
export async function loadGuest(entry: string, options: CompileOptions = {}): Promise<Guest> {
  const key = options.virtualFiles === undefined ? `${entry}@${options.optimizeLevel ?? 1}` : null;
  let pending = key === null ? undefined : compiled.get(key);
  if (pending === undefined) {
    pending = compileAssemblyScript(entry, options).then((binary) => WebAssembly.compile(binary));
    if (key !== null) compiled.set(key, pending);
  }
  const module = await pending;
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    throw new Error(`guest program ${entry} imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}`);
  }
  return new Guest(await WebAssembly.instantiate(module, {}));
}
