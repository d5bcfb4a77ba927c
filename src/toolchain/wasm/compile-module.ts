// Compiles a whole module: validates it, streams every function body through
// the function compiler into one text section, and lays out the module's data
// (globals, table, memory descriptor, data-segment cells, constant pool) as a
// relocatable LinkObject plus the facts an embedding needs to instantiate it.
import type { LinkObject, LinkReloc, LinkSymbol } from "../link/object.js";
import { GLOBAL_CELL, MEMDESC_SIZE, SYM_SIG_PREFIX, TABLE_ENTRY, TABLE_HEADER, WASM_PAGE } from "./abi.js";
import { FunctionCompiler } from "./compile-function.js";
import { ModuleSymbols, resolveOptions, type CompileOptions, type IntrinsicDef, type ModuleContext, type ResolvedOptions } from "./context.js";
import { decodeModule } from "./decode.js";
import { WasmCompileError } from "./errors.js";
import type { ConstPool } from "./func-state.js";
import { CPU_MODULE, cpuIntrinsic } from "./intrinsics.js";
import { F64, I64, VALTYPE_NAMES, type FuncType, type WasmModule } from "./types.js";
import { validateModule } from "./validate.js";
import { RAX, X64Writer } from "./x64-writer.js";

export interface CompiledModule {
  readonly module: WasmModule;
  readonly object: LinkObject;
  readonly symbols: ModuleSymbols;
  readonly options: ResolvedOptions;
  /** Byte offset of each defined function in the text section (index = function index; -1 for imports). */
  readonly funcOffsets: number[];
  /** Pairs (text offset, wasm byte offset) of every linear-memory access (also in rodata at the pcmap symbol). */
  readonly pcMap: readonly number[];
  /** Size of the wasm input, and of the machine code produced. */
  readonly stats: { wasmBytes: number; codeBytes: number; functions: number };
}

const SECTION_TEXT = 0, SECTION_RODATA = 1, SECTION_DATA = 2;

class Pool implements ConstPool {
  bytes: number[] = [];
  private index = new Map<string, number>();
  constructor(private readonly symbol: string) {}

  floatConst(lo: number, hi: number, size: 4 | 8 | 16): { symbol: string; addend: number } {
    const key = `${size}:${lo}:${hi}`;
    let off = this.index.get(key);
    if (off === undefined) {
      while (this.bytes.length % size !== 0) this.bytes.push(0);
      off = this.bytes.length;
      const words = size === 4 ? [lo] : size === 8 ? [lo, hi] : [lo, hi, lo, hi];
      for (const v of words) this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
      this.index.set(key, off);
    }
    return { symbol: this.symbol, addend: off };
  }
}

/** The `cpu` intrinsic for each imported function (null for ordinary imports), checking signatures. */
function bindIntrinsics(m: WasmModule): (IntrinsicDef | null)[] {
  return m.funcs.map((f) => {
    if (f.import === null || f.import.module !== CPU_MODULE) return null;
    const def = cpuIntrinsic(f.import.field);
    if (def === undefined) throw new WasmCompileError("invalid", `link error: import "${CPU_MODULE}" "${f.import.field}" is not a cpu intrinsic (see docs/toolchain.md)`);
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, k) => x === b[k]);
    if (!same(def.params, f.type.params) || !same(def.results, f.type.results)) {
      const sig = (p: readonly number[], r: readonly number[]) =>
        `(${p.map((t) => VALTYPE_NAMES[t]).join(", ")}) -> (${r.map((t) => VALTYPE_NAMES[t]).join(", ")})`;
      throw new WasmCompileError("invalid",
        `link error: import "${CPU_MODULE}" "${f.import.field}" has type ${sig(f.type.params, f.type.results)}; the intrinsic is ${sig(def.params, def.results)}`);
    }
    return def;
  });
}

export function sigSymbol(t: FuncType): string {
  return SYM_SIG_PREFIX + t.key;
}

/** Compiles a wasm binary to a relocatable object. Throws WasmCompileError for bad input. */
export function compileModule(bytes: Uint8Array, options: CompileOptions = {}): CompiledModule {
  const opts = resolveOptions(options);
  validateModule(bytes);
  const sym = new ModuleSymbols(opts.prefix);
  const w = new X64Writer();
  const pool = new Pool(sym.rodata);
  // Pass 1 learns the module's structure (and its names); pass 2 streams the bodies into the compiler.
  const mod = decodeModule(bytes);
  const intrinsics = bindIntrinsics(mod);
  const pcMap: number[] = [];
  const ctx: ModuleContext = {
    m: mod, w, opts, pool, sym, sigSymbol, pcMap,
    intrinsic: (i: number) => intrinsics[i] ?? null,
  };
  const compiler = new FunctionCompiler(ctx);
  const funcOffsets: number[] = mod.funcs.map(() => -1);
  decodeModule(bytes, (reader, funcIndex, locals) => {
    w.alignCode(16);
    funcOffsets[funcIndex] = w.len;
    compiler.compile(reader, funcIndex, locals);
  });

  // Init code: globals initialised from other globals (imported ones, in a static image).
  w.alignCode(16);
  const initOffset = w.len;
  for (let g = 0; g < mod.globals.length; g++) {
    const init = mod.globals[g]!.init;
    if (init === null || init.op !== "global.get") continue;
    w.op("mov", w.R(8, RAX), w.MS(8, sym.global(init.index)));
    w.op("mov", w.MS(8, sym.global(g)), w.R(8, RAX));
  }
  w.op("ret");
  w.resolveTails();
  w.resolveLabelDiffs();
  const text = w.finish();

  // Read-only data: the constant pool, then data segment contents (for memory.init).
  const rodata = pool.bytes;
  const symbols: LinkSymbol[] = [];
  symbols.push({ name: sym.rodata, section: SECTION_RODATA, value: 0, size: 0, kind: "object" });
  symbols.push({ name: sym.text, section: SECTION_TEXT, value: 0, size: text.length, kind: "" });
  // The PC map (pairs are emitted in code order, so already sorted by text offset).
  while (rodata.length % 4 !== 0) rodata.push(0);
  symbols.push({ name: sym.pcMap, section: SECTION_RODATA, value: rodata.length, size: 4 + 4 * pcMap.length, kind: "object" });
  const put = (v: number) => rodata.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  put(pcMap.length / 2);
  for (const v of pcMap) put(v);
  for (let k = 0; k < mod.datas.length; k++) {
    const seg = mod.datas[k]!;
    while (rodata.length % 8 !== 0) rodata.push(0);
    symbols.push({ name: sym.data(k), section: SECTION_RODATA, value: rodata.length, size: seg.active ? 0 : seg.bytes.length, kind: "object" });
    if (!seg.active) for (const b of seg.bytes) rodata.push(b);
  }

  // Writable data: globals, memory descriptor, table, data-segment lengths.
  const data: number[] = [];
  const dataRelocs: LinkReloc[] = [];
  const put32 = (v: number) => data.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  for (let g = 0; g < mod.globals.length; g++) {
    const decl = mod.globals[g]!;
    if (decl.import !== null) continue;
    symbols.push({ name: sym.global(g), section: SECTION_DATA, value: data.length, size: GLOBAL_CELL, kind: "object" });
    const init = decl.init!;
    if (init.op === "const") {
      put32(init.lo);
      put32(decl.type === I64 || decl.type === F64 ? init.hi : 0);
    } else {
      put32(0); put32(0);
    }
  }
  for (let k = 0; k < mod.memories.length; k++) {
    const mem = mod.memories[k]!;
    if (mem.import !== null) continue;
    while (data.length % 16 !== 0) data.push(0);
    symbols.push({ name: sym.memory(k), section: SECTION_DATA, value: data.length, size: MEMDESC_SIZE, kind: "object" });
    const bytesLen = mem.limits.initial * WASM_PAGE;
    put32(mem.limits.initial);
    put32(mem.limits.maximum ?? 65536);
    put32(bytesLen | 0);
    put32(Math.floor(bytesLen / 4294967296));
  }
  for (let k = 0; k < mod.tables.length; k++) {
    const tab = mod.tables[k]!;
    if (tab.import !== null) continue;
    while (data.length % 16 !== 0) data.push(0);
    symbols.push({ name: sym.table(k), section: SECTION_DATA, value: data.length, size: TABLE_HEADER + TABLE_ENTRY * tab.limits.initial, kind: "object" });
    put32(tab.limits.initial);
    put32(tab.limits.maximum ?? 0xffffffff);
    put32(0); put32(0);
    for (let e = 0; e < tab.limits.initial * TABLE_ENTRY; e++) data.push(0);
  }
  for (let k = 0; k < mod.datas.length; k++) {
    while (data.length % 4 !== 0) data.push(0);
    symbols.push({ name: sym.dataLen(k), section: SECTION_DATA, value: data.length, size: 4, kind: "object" });
    const seg = mod.datas[k]!;
    put32(seg.active ? 0 : seg.bytes.length);
  }

  for (let i = mod.importedFuncs; i < mod.funcs.length; i++) {
    symbols.push({ name: sym.func(i), section: SECTION_TEXT, value: funcOffsets[i]!, size: 0, kind: "func" });
  }
  symbols.push({ name: sym.init, section: SECTION_TEXT, value: initOffset, size: text.length - initOffset, kind: "func" });
  // Function sizes: up to the next function (or the init code).
  const starts = symbols.filter((s) => s.section === SECTION_TEXT).map((s) => s.value).sort((a, b) => a - b);
  for (const s of symbols) {
    if (s.kind !== "func" || s.name === sym.init) continue;
    const next = starts.find((v) => v > s.value) ?? text.length;
    s.size = next - s.value;
  }

  const object: LinkObject = {
    name: mod.name ?? "wasm module",
    sections: [
      { kind: "text", bytes: text, size: text.length, align: 16, relocs: w.relocs.map((r) => ({ ...r })) },
      { kind: "rodata", bytes: Uint8Array.from(rodata), size: rodata.length, align: 16, relocs: [] },
      { kind: "data", bytes: Uint8Array.from(data), size: data.length, align: 16, relocs: dataRelocs },
    ],
    symbols,
  };
  return {
    module: mod, object, symbols: sym, options: opts, funcOffsets, pcMap,
    stats: { wasmBytes: bytes.length, codeBytes: text.length, functions: mod.funcs.length - mod.importedFuncs },
  };
}

/** The wasm byte offset of the memory access at `textOffset` in the module's code (from the PC map), or -1. */
export function wasmOffsetAt(c: CompiledModule, textOffset: number): number {
  const m = c.pcMap;
  let lo = 0, hi = m.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const pc = m[2 * mid]!;
    if (pc === textOffset) return m[2 * mid + 1]!;
    if (pc < textOffset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
