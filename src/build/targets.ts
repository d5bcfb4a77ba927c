// What there is to build: the kernel (kernel/main.ts, its assembly under
// kernel/arch/x86_64, one Multiboot image) and each user program (user/<name>/
// main.ts linked with user/rt, one static ELF). The rules are conventions plus
// an optional build.json in the target's directory that overrides them; the
// resolved description of a target is plain data, hashed into the cache key.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import type { AscOptions } from "./asc.js";
import { BuildError } from "./diagnostics.js";
import { USER_ENTRY_FILE, userEntrySource } from "./user-entry.js";

export type TargetKind = "kernel" | "user";

/** Options for the image writer (src/toolchain/link). */
export interface LinkSpec {
  /** The exported function the image's entry stub calls (kernel default: the linker's, "kmain"; user: "_start"). */
  entry?: string;
  /** Stack bytes of the entry stub. */
  stackSize?: number;
}

export interface TargetSpec {
  /** "kernel" or "user/<name>": what `capos build <target>` and messages call it. */
  id: string;
  kind: TargetKind;
  /** The target's directory, relative to the source root (posix). */
  dir: string;
  /** The module asc compiles (a generated one for user programs). */
  entry: string;
  /** Modules that exist only in memory, by path. */
  generated: ReadonlyMap<string, string>;
  /** Assembly sources linked in (the project assembler's syntax). */
  asm: readonly string[];
  asc: AscOptions;
  link: LinkSpec;
  /** The image, relative to the build directory. */
  output: string;
  /** The build.json that shaped this description, if any. */
  buildFile: string | null;
}

/** Where the user runtime library lives (relative to the source root). */
export const USER_RT_DIR = "user/rt";
export const KERNEL_DIR = "kernel";
export const USER_DIR = "user";
export const BUILD_FILE = "build.json";

/**
 * User linear memory ends where the ABI's reserved window begins
 * (USER_RESERVED_BASE = 0xC000_0000, docs/abi.md), so memory.grow fails
 * before wasm addresses could reach the stack, ring or CapSet pages.
 */
export const USER_MAX_MEMORY_PAGES = 0xc000_0000 / 65536;

const KERNEL_DEFAULTS = {
  main: "main.ts",
  asm: ["arch/x86_64/*.s"],
  asc: { runtime: "stub", optimizeLevel: 3, shrinkLevel: 0, use: ["abort="], initialMemory: 0, maximumMemory: 0, memoryBase: 0, noAssert: false } as AscOptions,
  link: {} as LinkSpec,
};

const USER_DEFAULTS = {
  main: "main.ts",
  asm: [] as string[],
  asc: {
    runtime: "stub", optimizeLevel: 3, shrinkLevel: 0, use: ["abort=user/rt/abort/rtAbort"],
    initialMemory: 0, maximumMemory: USER_MAX_MEMORY_PAGES, memoryBase: 0, noAssert: false,
  } as AscOptions,
  link: { entry: "_start" } as LinkSpec,
};

/** The asc options a target of this kind gets without a build.json (a copy the caller may change). */
export function defaultAscOptions(kind: TargetKind): AscOptions {
  const d = kind === "kernel" ? KERNEL_DEFAULTS.asc : USER_DEFAULTS.asc;
  return { ...d, use: [...d.use] };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function fail(target: string, file: string, message: string): never {
  throw new BuildError(target, "config", [{ severity: "error", file, line: 0, column: 0, code: "", message }]);
}

/** Expands `dir/*.s`-style patterns (a `*` only in the last component), sorted; plain paths must exist. */
function expandAsm(root: string, dir: string, patterns: readonly string[], target: string, file: string): string[] {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const full = posix.normalize(posix.join(dir, pattern));
    const base = posix.basename(full);
    if (!base.includes("*")) {
      if (!isFile(join(root, full))) fail(target, file, `assembly source ${full} does not exist`);
      out.add(full);
      continue;
    }
    const parent = posix.dirname(full);
    const re = new RegExp(`^${base.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")}$`);
    let names: string[] = [];
    try {
      names = readdirSync(join(root, parent));
    } catch {
      names = [];
    }
    for (const n of names) if (re.test(n) && isFile(join(root, parent, n))) out.add(posix.join(parent, n));
  }
  return [...out].sort();
}

type Json = Record<string, unknown>;

function readBuildFile(root: string, path: string, target: string): Json | null {
  if (!isFile(join(root, path))) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(root, path), "utf8"));
  } catch (e) {
    fail(target, path, `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(target, path, "must be a JSON object");
  return value as Json;
}

const FIELDS: Record<string, readonly string[]> = {
  "": ["main", "asm", "asc", "link"],
  asc: ["optimizeLevel", "shrinkLevel", "use", "initialMemory", "maximumMemory", "memoryBase", "noAssert"],
  link: ["entry", "stackSize"],
};

function checkFields(obj: Json, section: string, target: string, file: string): void {
  const allowed = FIELDS[section]!;
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(target, file, `unknown field "${section === "" ? k : `${section}.${k}`}" (allowed: ${allowed.join(", ")})`);
  }
}

function num(v: unknown, name: string, min: number, max: number, target: string, file: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(target, file, `"${name}" must be an integer from ${min} to ${max}`);
  return v;
}

function strings(v: unknown, name: string, target: string, file: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) fail(target, file, `"${name}" must be a list of strings`);
  return v as string[];
}

/** Applies a build.json over the defaults of its kind. */
function resolveSpec(root: string, kind: TargetKind, dir: string, id: string): TargetSpec {
  const defaults = kind === "kernel" ? KERNEL_DEFAULTS : USER_DEFAULTS;
  const buildFile = posix.join(dir, BUILD_FILE);
  const json = readBuildFile(root, buildFile, id);
  const file = json === null ? null : buildFile;
  let main = defaults.main;
  let asmPatterns = defaults.asm;
  const asc: AscOptions = { ...defaults.asc, use: [...defaults.asc.use] };
  const link: LinkSpec = { ...defaults.link };
  if (json !== null) {
    checkFields(json, "", id, buildFile);
    if (json["main"] !== undefined) {
      if (typeof json["main"] !== "string" || !json["main"].endsWith(".ts")) fail(id, buildFile, `"main" must name a .ts module`);
      main = json["main"];
    }
    if (json["asm"] !== undefined) asmPatterns = strings(json["asm"], "asm", id, buildFile);
    const a = json["asc"];
    if (a !== undefined) {
      if (typeof a !== "object" || a === null || Array.isArray(a)) fail(id, buildFile, `"asc" must be an object`);
      const o = a as Json;
      checkFields(o, "asc", id, buildFile);
      if (o["optimizeLevel"] !== undefined) asc.optimizeLevel = num(o["optimizeLevel"], "asc.optimizeLevel", 0, 3, id, buildFile);
      if (o["shrinkLevel"] !== undefined) asc.shrinkLevel = num(o["shrinkLevel"], "asc.shrinkLevel", 0, 2, id, buildFile);
      if (o["use"] !== undefined) asc.use = strings(o["use"], "asc.use", id, buildFile);
      if (o["initialMemory"] !== undefined) asc.initialMemory = num(o["initialMemory"], "asc.initialMemory", 0, 65536, id, buildFile);
      if (o["maximumMemory"] !== undefined) asc.maximumMemory = num(o["maximumMemory"], "asc.maximumMemory", 0, 65536, id, buildFile);
      if (o["memoryBase"] !== undefined) asc.memoryBase = num(o["memoryBase"], "asc.memoryBase", 0, 0xffff_ffff, id, buildFile);
      if (o["noAssert"] !== undefined) {
        if (typeof o["noAssert"] !== "boolean") fail(id, buildFile, `"asc.noAssert" must be true or false`);
        asc.noAssert = o["noAssert"];
      }
    }
    const l = json["link"];
    if (l !== undefined) {
      if (typeof l !== "object" || l === null || Array.isArray(l)) fail(id, buildFile, `"link" must be an object`);
      const o = l as Json;
      checkFields(o, "link", id, buildFile);
      if (o["entry"] !== undefined) {
        if (typeof o["entry"] !== "string" || o["entry"] === "") fail(id, buildFile, `"link.entry" must be an export name`);
        link.entry = o["entry"];
      }
      if (o["stackSize"] !== undefined) link.stackSize = num(o["stackSize"], "link.stackSize", 4096, 64 * 1024 * 1024, id, buildFile);
    }
  }
  const mainPath = posix.join(dir, main);
  if (!isFile(join(root, mainPath))) fail(id, file ?? mainPath, `the target's main module ${mainPath} does not exist`);
  const asm = expandAsm(root, dir, asmPatterns, id, file ?? dir);
  if (kind === "kernel") {
    return { id, kind, dir, entry: mainPath, generated: new Map(), asm, asc, link, output: "kernel.elf", buildFile: file };
  }
  const entry = posix.join(dir, USER_ENTRY_FILE);
  const name = dir.slice(USER_DIR.length + 1);
  return {
    id, kind, dir, entry, generated: new Map([[entry, userEntrySource(mainPath, USER_RT_DIR)]]),
    asm, asc, link, output: `user/${name}.elf`, buildFile: file,
  };
}

/** User program names: directories under user/ with a main.ts or a build.json (user/rt is the library, not a program). */
export function userProgramNames(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(join(root, USER_DIR));
  } catch {
    return [];
  }
  return entries
    .filter((n) => posix.join(USER_DIR, n) !== USER_RT_DIR && !n.startsWith("."))
    .filter((n) => isFile(join(root, USER_DIR, n, "main.ts")) || isFile(join(root, USER_DIR, n, BUILD_FILE)))
    .sort();
}

/** A target before its description is resolved: enough to list and select it. */
export interface TargetRef {
  id: string;
  kind: TargetKind;
  dir: string;
}

/** Every target of the source tree at `root`: the kernel (when kernel/main.ts or kernel/build.json exists), then the user programs. */
export function listTargets(root: string): TargetRef[] {
  const out: TargetRef[] = [];
  if (isFile(join(root, KERNEL_DIR, "main.ts")) || isFile(join(root, KERNEL_DIR, BUILD_FILE))) out.push({ id: "kernel", kind: "kernel", dir: KERNEL_DIR });
  for (const name of userProgramNames(root)) out.push({ id: `user/${name}`, kind: "user", dir: posix.join(USER_DIR, name) });
  return out;
}

/** The full description of a target; a bad build.json or a missing main module is a BuildError (stage "config"). */
export function resolveTarget(root: string, ref: TargetRef): TargetSpec {
  return resolveSpec(root, ref.kind, ref.dir, ref.id);
}

/** The target ids a list of names selects ("kernel", "user/shell", or a bare program name "shell"). */
export function targetIdOf(name: string): string {
  if (name === "kernel" || name.startsWith(`${USER_DIR}/`)) return name.replace(/\/+$/, "");
  return `${USER_DIR}/${name}`;
}

/** Whether the source tree has a program for a manifest binary name. */
export function hasUserProgram(root: string, name: string): boolean {
  return existsSync(join(root, USER_DIR, name)) && userProgramNames(root).includes(name);
}
