// What a function compiler needs from the module around it: options (memory
// model, target CPU features), the shared code writer, symbol names for the
// module's entities, the constant pool and the `cpu` intrinsics bound to imports.
import type { ConstPool } from "./func-state.js";
import type { FuncType, WasmModule } from "./types.js";
import type { X64Writer } from "./x64-writer.js";

/**
 * Linear-memory models. user: wasm address = virtual address (no base register;
 * the MMU and unmapped guard pages bound accesses). kernel: R15 holds the base of
 * the direct map, so a wasm address is a physical address (no bounds checks).
 * checked: like kernel, plus an explicit bounds check before every access (tests).
 */
export type MemoryModel = "user" | "kernel" | "checked";

/** Optional x86-64 extensions the generated code may use (baseline x86-64 = SSE2 only). */
export interface TargetFeatures {
  /** roundss/roundsd for ceil/floor/trunc/nearest. */
  sse41: boolean;
  popcnt: boolean;
  /** lzcnt for clz (ABM). */
  lzcnt: boolean;
  /** tzcnt for ctz. */
  bmi1: boolean;
}

/** Runs on any x86-64 (QEMU's default CPU model included). */
export const BASELINE_FEATURES: TargetFeatures = { sse41: false, popcnt: false, lzcnt: false, bmi1: false };
/** Everything capos's emulator implements. */
export const FULL_FEATURES: TargetFeatures = { sse41: true, popcnt: true, lzcnt: true, bmi1: true };

export interface CompileOptions {
  memoryModel?: MemoryModel;
  /** Prefix of every symbol the module defines or references for its own entities. */
  prefix?: string;
  features?: TargetFeatures;
  /**
   * Benchmark instrumentation: when set, the name of an 8-byte counter symbol to
   * which each straight-line run of wasm instructions adds its length.
   */
  countOpsSymbol?: string | null;
}

export interface ResolvedOptions {
  memoryModel: MemoryModel;
  prefix: string;
  features: TargetFeatures;
  countOpsSymbol: string | null;
}

export function resolveOptions(o: CompileOptions = {}): ResolvedOptions {
  return {
    memoryModel: o.memoryModel ?? "user",
    prefix: o.prefix ?? "",
    features: o.features ?? BASELINE_FEATURES,
    countOpsSymbol: o.countOpsSymbol ?? null,
  };
}

/** Symbol names of a module's entities (imports included: the embedding defines those). */
export class ModuleSymbols {
  constructor(readonly prefix: string) {}
  func(i: number): string { return `${this.prefix}f${i}`; }
  global(i: number): string { return `${this.prefix}g${i}`; }
  table(i: number): string { return `${this.prefix}table${i}`; }
  memory(i: number): string { return `${this.prefix}memory${i}`; }
  data(k: number): string { return `${this.prefix}data${k}`; }
  dataLen(k: number): string { return `${this.prefix}datalen${k}`; }
  get rodata(): string { return `${this.prefix}rodata`; }
  /** Start of the module's code. */
  get text(): string { return `${this.prefix}text`; }
  /** The PC map: u32 count, then count pairs of u32 (text offset, wasm byte offset), by text offset. */
  get pcMap(): string { return `${this.prefix}pcmap`; }
  get init(): string { return `${this.prefix}init`; }
}

export interface ModuleContext {
  readonly m: WasmModule;
  readonly w: X64Writer;
  readonly opts: ResolvedOptions;
  readonly pool: ConstPool;
  readonly sym: ModuleSymbols;
  /** Absolute symbol whose value is the linker-assigned id of a signature. */
  sigSymbol(t: FuncType): string;
  /** The intrinsic bound to an imported function (module "cpu"), or null. */
  intrinsic(funcIndex: number): IntrinsicDef | null;
  /** Pairs (text offset of a memory-accessing instruction, wasm byte offset of its operator). */
  readonly pcMap: number[];
}

export interface IntrinsicDef {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
  /** Memory models it is allowed in ("any", or a list). */
  readonly doc: string;
  /** Consumes its arguments from the compiler's stack and pushes its results. */
  emit(fc: IntrinsicHost): void;
}

/** The part of the function compiler intrinsics use (declared here to keep the import graph acyclic). */
export interface IntrinsicHost {
  readonly w: X64Writer;
  readonly memoryModel: MemoryModel;
  /**
   * Pops the top regs.length arguments into the given general registers, in
   * order bottom-up, after moving other values out of those and of `clobbers`.
   */
  argsToGprs(regs: readonly number[], clobbers?: readonly number[]): void;
  /** Spills every live value (the intrinsic clobbers caller-saved registers, like a call). */
  spillAll(): void;
  /** Pushes a result that the emitted code left in a general register. */
  pushGprResult(t: number, reg: number): void;
  /** Pops an i32 wasm address and leaves its effective virtual address in R11. */
  wasmAddressToR11(): void;
}
