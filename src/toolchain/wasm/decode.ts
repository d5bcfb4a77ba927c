// Reads a WebAssembly binary with wasmparser's streaming BinaryReader into a
// WasmModule (types.ts). Function bodies are handed, still streaming, to a
// callback (the compiler) so each is read exactly once; without a callback they
// are skipped. Features outside capos's scope are refused here with a clear
// WasmCompileError("unsupported"); spec validity is checked in validate.ts.
import { BinaryReader, type IOperatorInformation, type Int64 } from "wasmparser";
import { canonicalizeElementFlags } from "./elem-flags.js";
import { WasmCompileError, hexOffset } from "./errors.js";
import {
  F32, F64, I32, I64, makeFuncType,
  type ConstExpr, type DataSegment, type ElemSegment, type ExternKind, type FuncType, type Limits, type ValType, type WasmModule,
} from "./types.js";

// wasmparser's BinaryReaderState values (declared as an ambient const enum there).
const S_ERROR = -1;
const S_END_WASM = 2;
const S_BEGIN_SECTION = 3;
const S_TYPE_SECTION_ENTRY = 11;
const S_IMPORT_SECTION_ENTRY = 12;
const S_FUNCTION_SECTION_ENTRY = 13;
const S_TABLE_SECTION_ENTRY = 14;
const S_MEMORY_SECTION_ENTRY = 15;
const S_EXPORT_SECTION_ENTRY = 17;
const S_DATA_SECTION_ENTRY_BODY = 37;
const S_NAME_SECTION_ENTRY = 19;
const S_START_SECTION_ENTRY = 22;
const S_TAG_SECTION_ENTRY = 23;
const S_INIT_EXPRESSION_OPERATOR = 26;
const S_BEGIN_FUNCTION_BODY = 28;
const S_END_FUNCTION_BODY = 31;
const S_BEGIN_ELEMENT_SECTION_ENTRY = 33;
const S_ELEMENT_SECTION_ENTRY_BODY = 34;
const S_END_ELEMENT_SECTION_ENTRY = 35;
const S_BEGIN_DATA_SECTION_ENTRY = 36;
const S_END_DATA_SECTION_ENTRY = 38;
const S_BEGIN_GLOBAL_SECTION_ENTRY = 39;
const S_END_GLOBAL_SECTION_ENTRY = 40;
const S_OFFSET_EXPRESSION_OPERATOR = 45;
const S_BEGIN_INIT_EXPRESSION_BODY = 25;
const S_END_INIT_EXPRESSION_BODY = 27;
const S_BEGIN_OFFSET_EXPRESSION_BODY = 44;
const S_END_OFFSET_EXPRESSION_BODY = 46;
const S_BEGIN_REC_GROUP = 47;

const SECTION_CUSTOM = 0;

// Opcodes that may appear in constant expressions.
const OP_END = 0x0b;
const OP_GLOBAL_GET = 0x23;
const OP_I32_CONST = 0x41;
const OP_I64_CONST = 0x42;
const OP_F32_CONST = 0x43;
const OP_F64_CONST = 0x44;
const OP_REF_NULL = 0xd0;
const OP_REF_FUNC = 0xd2;

const KIND_NAMES: ExternKind[] = ["func", "table", "memory", "global"];

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Called at the start of each defined function's body; must read the reader up to END_FUNCTION_BODY. */
export type BodyHandler = (reader: BinaryReader, funcIndex: number, locals: readonly { count: number; type: ValType }[]) => void;

/** The end-of-body state, for body handlers that drive the reader. */
export const READER_END_FUNCTION_BODY = S_END_FUNCTION_BODY;
/** The operator state, for body handlers. */
export const READER_CODE_OPERATOR = 30;
export const READER_ERROR = S_ERROR;

export function valTypeOf(t: { code: number } | undefined | null, where: string): ValType {
  switch (t?.code) {
    case -1: return I32;
    case -2: return I64;
    case -3: return F32;
    case -4: return F64;
    case -5: throw new WasmCompileError("unsupported", `${where}: v128 (SIMD) is outside capos's wasm feature set`);
    default: throw new WasmCompileError("unsupported", `${where}: reference and GC value types are outside capos's wasm feature set`);
  }
}

function name(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new WasmCompileError("malformed", `${where}: name is not valid UTF-8`);
  }
}

/** The reader's state, read fresh (TypeScript narrows the property across read() calls otherwise). */
function stateOf(r: BinaryReader): number {
  return r.state as number;
}

function limitsOf(l: { initial: number; maximum?: number }): Limits {
  return { initial: l.initial, maximum: l.maximum ?? null };
}

/** Raw little-endian bytes just before the reader's position (bit-exact float literals). */
export function literalBits(reader: BinaryReader, width: 4 | 8): { lo: number; hi: number } {
  const d = reader.data;
  const p = reader.position - width;
  const lo = d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24);
  const hi = width === 8 ? d[p + 4]! | (d[p + 5]! << 8) | (d[p + 6]! << 16) | (d[p + 7]! << 24) : 0;
  return { lo, hi };
}

/** (lo, hi) halves of a wasmparser Int64 literal. */
export function int64Halves(v: Int64): { lo: number; hi: number } {
  const b = v.data;
  return {
    lo: b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24),
    hi: b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24),
  };
}

class ModuleReader {
  readonly m: WasmModule = {
    types: [], funcs: [], tables: [], memories: [], globals: [], exports: [], elems: [], datas: [],
    start: null, importedFuncs: 0, name: null,
  };
  private readonly reader = new BinaryReader();
  private definedFuncsSeen = 0;
  private dataCount: number | null = null;
  private inNameSection = false;

  constructor(private readonly bytes: Uint8Array, private readonly onBody: BodyHandler | undefined, private readonly readNames: boolean) {
    // The reader addresses the whole buffer from 0 (positions are module offsets): give it one of its own.
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) this.bytes = bytes = new Uint8Array(bytes);
    this.reader.setData(bytes.buffer as ArrayBuffer, 0, bytes.byteLength, true);
  }

  run(): WasmModule {
    const r = this.reader;
    for (;;) {
      if (!r.read()) {
        if (r.state === S_END_WASM || r.position >= this.bytes.byteLength) break;
        throw new WasmCompileError("malformed", `unexpected end of module at offset ${hexOffset(r.position)}`);
      }
      if (r.state === S_END_WASM) break;
      this.step();
    }
    return this.m;
  }

  private fail(kind: "malformed" | "unsupported" | "invalid", msg: string): never {
    throw new WasmCompileError(kind, msg);
  }

  private step(): void {
    const r = this.reader;
    const res = r.result as unknown;
    switch (r.state) {
      case S_ERROR:
        if (this.inNameSection) throw new NameSectionError();
        this.fail("malformed", `${r.error?.message ?? "decoding failed"} (offset ${hexOffset(r.position)})`);
        break;
      case S_BEGIN_SECTION: {
        const s = res as { id: number; name: Uint8Array };
        this.inNameSection = s.id === SECTION_CUSTOM && name(s.name, "custom section") === "name";
        if (s.id === SECTION_CUSTOM && (!this.inNameSection || !this.readNames)) {
          this.inNameSection = false;
          r.skipSection();
        }
        if (s.id === 13) this.fail("unsupported", "the tag section (exception handling) is outside capos's wasm feature set");
        break;
      }
      case S_BEGIN_REC_GROUP:
        this.fail("unsupported", "recursive type groups (GC) are outside capos's wasm feature set");
        break;
      case S_TYPE_SECTION_ENTRY: {
        const t = res as { form: number; params?: { code: number }[]; returns?: { code: number }[] };
        if (t.form !== -32) this.fail("unsupported", "only function types are supported in the type section");
        const where = `type ${this.m.types.length}`;
        this.m.types.push(makeFuncType(
          (t.params ?? []).map((p) => valTypeOf(p, where)),
          (t.returns ?? []).map((p) => valTypeOf(p, where)),
        ));
        break;
      }
      case S_IMPORT_SECTION_ENTRY: this.importEntry(res as ImportResult); break;
      case S_FUNCTION_SECTION_ENTRY: {
        const idx = (res as { typeIndex: number }).typeIndex;
        this.m.funcs.push({ typeIndex: idx, type: this.funcType(idx, `function ${this.m.funcs.length}`), import: null, name: null });
        break;
      }
      case S_TABLE_SECTION_ENTRY: {
        const t = res as { elementType: { code: number }; limits: { initial: number; maximum?: number } };
        this.checkTable(t.elementType, `table ${this.m.tables.length}`);
        this.m.tables.push({ limits: limitsOf(t.limits), import: null });
        break;
      }
      case S_MEMORY_SECTION_ENTRY: {
        const t = res as { limits: { initial: number; maximum?: number }; shared: boolean };
        this.checkMemory(t.shared);
        this.m.memories.push({ limits: limitsOf(t.limits), import: null });
        break;
      }
      case S_TAG_SECTION_ENTRY:
        this.fail("unsupported", "tags (exception handling) are outside capos's wasm feature set");
        break;
      case S_BEGIN_GLOBAL_SECTION_ENTRY: {
        const g = res as { type: { contentType: { code: number }; mutability: number } };
        const where = `global ${this.m.globals.length}`;
        const type = valTypeOf(g.type.contentType, where);
        const init = this.constExpr(where);
        if (stateOf(r) !== S_END_GLOBAL_SECTION_ENTRY) this.fail("malformed", `${where}: initialiser not terminated`);
        this.m.globals.push({ type, mutable: g.type.mutability === 1, init, import: null });
        break;
      }
      case S_EXPORT_SECTION_ENTRY: {
        const e = res as { field: Uint8Array; kind: number; index: number };
        const kind = KIND_NAMES[e.kind];
        if (kind === undefined) this.fail("unsupported", "tag exports are outside capos's wasm feature set");
        this.m.exports.push({ name: name(e.field, "export"), kind, index: e.index });
        break;
      }
      case S_START_SECTION_ENTRY:
        this.m.start = (res as { index: number }).index;
        break;
      case S_BEGIN_ELEMENT_SECTION_ENTRY: this.elemEntry(res as { mode: number; tableIndex?: number }); break;
      case S_BEGIN_DATA_SECTION_ENTRY: this.dataEntry(res as { mode: number; memoryIndex?: number }); break;
      case 49: // DATA_COUNT_SECTION_ENTRY
        this.dataCount = res as number;
        break;
      case S_BEGIN_FUNCTION_BODY: {
        const funcIndex = this.m.importedFuncs + this.definedFuncsSeen++;
        const info = res as { locals: { count: number; type: { code: number } }[] };
        const locals = info.locals.map((l) => ({ count: l.count, type: valTypeOf(l.type, `function ${funcIndex} locals`) }));
        if (this.onBody) {
          this.onBody(r, funcIndex, locals);
          if (stateOf(r) !== S_END_FUNCTION_BODY) this.fail("malformed", `function ${funcIndex}: body not read to its end`);
        } else {
          r.skipFunctionBody();
        }
        break;
      }
      case S_NAME_SECTION_ENTRY: this.nameEntry(res as { type: number; names?: { index: number; name: Uint8Array }[]; moduleName?: Uint8Array }); break;
      default:
        break;
    }
  }

  private funcType(idx: number, where: string): FuncType {
    const t = this.m.types[idx];
    if (t === undefined) this.fail("invalid", `${where}: unknown type ${idx}`);
    return t;
  }

  private checkTable(elementType: { code: number }, where: string): void {
    if (elementType.code !== -16) this.fail("unsupported", `${where}: only funcref tables are supported`);
    if (this.m.tables.length >= 1) this.fail("unsupported", `${where}: more than one table (reference types) is outside capos's wasm feature set`);
  }

  private checkMemory(shared: boolean): void {
    if (shared) this.fail("unsupported", "shared memory (threads) is outside capos's wasm feature set");
    if (this.m.memories.length >= 1) this.fail("unsupported", "more than one memory (multi-memory) is outside capos's wasm feature set");
  }

  private importEntry(e: ImportResult): void {
    const ref = { module: name(e.module, "import module"), field: name(e.field, "import field") };
    const where = `import "${ref.module}" "${ref.field}"`;
    switch (e.kind) {
      case 0: {
        const idx = e.funcTypeIndex!;
        this.m.funcs.push({ typeIndex: idx, type: this.funcType(idx, where), import: ref, name: null });
        this.m.importedFuncs++;
        break;
      }
      case 1: {
        const t = e.type as { elementType: { code: number }; limits: { initial: number; maximum?: number } };
        this.checkTable(t.elementType, where);
        this.m.tables.push({ limits: limitsOf(t.limits), import: ref });
        break;
      }
      case 2: {
        const t = e.type as { limits: { initial: number; maximum?: number }; shared: boolean };
        this.checkMemory(t.shared);
        this.m.memories.push({ limits: limitsOf(t.limits), import: ref });
        break;
      }
      case 3: {
        const t = e.type as { contentType: { code: number }; mutability: number };
        this.m.globals.push({ type: valTypeOf(t.contentType, where), mutable: t.mutability === 1, init: null, import: ref });
        break;
      }
      default:
        this.fail("unsupported", `${where}: tag imports are outside capos's wasm feature set`);
    }
  }

  /** Reads an init or offset expression to its end, and the reader one state past it; returns the expression. */
  private constExpr(where: string): ConstExpr {
    const r = this.reader;
    let expr: ConstExpr | null = null;
    let count = 0;
    for (;;) {
      if (!r.read()) this.fail("malformed", `${where}: constant expression runs past the end of the module`);
      const state = stateOf(r);
      if (state === S_ERROR) this.fail("malformed", `${where}: ${r.error?.message ?? "bad constant expression"}`);
      if (state === S_BEGIN_INIT_EXPRESSION_BODY || state === S_BEGIN_OFFSET_EXPRESSION_BODY) continue;
      if (state === S_END_INIT_EXPRESSION_BODY || state === S_END_OFFSET_EXPRESSION_BODY) {
        if (!r.read()) this.fail("malformed", `${where}: runs past the end of the module`);
        break;
      }
      if (state !== S_INIT_EXPRESSION_OPERATOR && state !== S_OFFSET_EXPRESSION_OPERATOR) {
        this.fail("malformed", `${where}: unexpected reader state ${state} in a constant expression`);
      }
      const op = r.result as IOperatorInformation;
      if (op.code === OP_END) continue;
      count++;
      switch (op.code) {
        case OP_I32_CONST: expr = { op: "const", type: I32, lo: op.literal as number, hi: 0 }; break;
        case OP_I64_CONST: { const h = int64Halves(op.literal as Int64); expr = { op: "const", type: I64, lo: h.lo, hi: h.hi }; break; }
        case OP_F32_CONST: { const b = literalBits(r, 4); expr = { op: "const", type: F32, lo: b.lo, hi: 0 }; break; }
        case OP_F64_CONST: { const b = literalBits(r, 8); expr = { op: "const", type: F64, lo: b.lo, hi: b.hi }; break; }
        case OP_GLOBAL_GET: expr = { op: "global.get", index: op.globalIndex! }; break;
        default:
          this.fail(op.code === OP_REF_FUNC || op.code === OP_REF_NULL ? "unsupported" : "invalid",
            `${where}: operator 0x${op.code.toString(16)} in a constant expression is outside capos's wasm feature set`);
      }
    }
    if (expr === null || count !== 1) this.fail("invalid", `${where}: a constant expression must be exactly one constant or global.get`);
    return expr;
  }

  private elemEntry(seg: { mode: number; tableIndex?: number }): void {
    const r = this.reader;
    const where = `element segment ${this.m.elems.length}`;
    if (seg.mode !== 0) this.fail("unsupported", `${where}: passive and declarative element segments are outside capos's wasm feature set`);
    const offset = this.constExpr(where);
    // The reader is now at ELEMENT_SECTION_ENTRY_BODY (element type) or already at the end.
    const funcs: number[] = [];
    if (r.state === S_ELEMENT_SECTION_ENTRY_BODY) {
      const body = r.result as { elementType: { code: number } } | null;
      if (body && body.elementType.code !== -16) this.fail("unsupported", `${where}: only funcref elements are supported`);
      for (;;) {
        if (!r.read()) this.fail("malformed", `${where}: runs past the end of the module`);
        const state = stateOf(r);
        if (state === S_ERROR) this.fail("malformed", `${where}: ${r.error?.message ?? "bad element"}`);
        if (state === S_END_ELEMENT_SECTION_ENTRY) break;
        if (state !== S_INIT_EXPRESSION_OPERATOR) continue;
        const op = r.result as IOperatorInformation;
        if (op.code === OP_END) continue;
        if (op.code === OP_REF_FUNC) funcs.push(op.funcIndex!);
        else if (op.code === OP_REF_NULL) funcs.push(-1);
        else this.fail("unsupported", `${where}: element expressions other than ref.func are outside capos's wasm feature set`);
      }
    }
    if (stateOf(r) !== S_END_ELEMENT_SECTION_ENTRY) this.fail("malformed", `${where}: not terminated`);
    this.m.elems.push({ table: seg.tableIndex ?? 0, offset, funcs } satisfies ElemSegment);
  }

  private dataEntry(seg: { mode: number; memoryIndex?: number }): void {
    const r = this.reader;
    const where = `data segment ${this.m.datas.length}`;
    const active = seg.mode === 0;
    const offset = active ? this.constExpr(where) : (r.read(), null);
    if (stateOf(r) !== S_DATA_SECTION_ENTRY_BODY) this.fail("malformed", `${where}: missing contents`);
    const bytes = (r.result as { data: Uint8Array }).data;
    r.read();
    if (stateOf(r) !== S_END_DATA_SECTION_ENTRY) this.fail("malformed", `${where}: not terminated`);
    this.m.datas.push({ active, memory: seg.memoryIndex ?? 0, offset, bytes } satisfies DataSegment);
  }

  private nameEntry(e: { type: number; names?: { index: number; name: Uint8Array }[]; moduleName?: Uint8Array }): void {
    if (e.type === 0 && e.moduleName) this.m.name = utf8Lenient(e.moduleName);
    if (e.type === 1 && e.names) {
      for (const n of e.names) {
        const f = this.m.funcs[n.index];
        if (f !== undefined) f.name = utf8Lenient(n.name);
      }
    }
  }

  get declaredDataCount(): number | null {
    return this.dataCount;
  }
}

interface ImportResult {
  module: Uint8Array;
  field: Uint8Array;
  kind: number;
  funcTypeIndex?: number;
  type?: unknown;
}

class NameSectionError extends Error {}

function utf8Lenient(b: Uint8Array): string {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(b);
}

/**
 * Decodes a module. `onBody` receives each defined function's body (streaming).
 * A malformed "name" custom section is ignored (custom sections carry no semantics):
 * decoding then restarts without reading names.
 */
export function decodeModule(bytes: Uint8Array, onBody?: BodyHandler): WasmModule & { dataCount: number | null } {
  try {
    return decodeWith(bytes, onBody);
  } catch (e) {
    // See elem-flags.ts: wasmparser rejects non-minimal element-segment flags.
    if (!(e instanceof Error) || !e.message.startsWith("Unsupported element segment type")) throw e;
    return decodeWith(canonicalizeElementFlags(bytes), onBody);
  }
}

function decodeWith(bytes: Uint8Array, onBody?: BodyHandler): WasmModule & { dataCount: number | null } {
  let mr = new ModuleReader(bytes, undefined, true);
  let m: WasmModule;
  try {
    m = mr.run();
  } catch (e) {
    if (!(e instanceof NameSectionError)) throw e;
    mr = new ModuleReader(bytes, undefined, false);
    m = mr.run();
  }
  if (onBody) {
    // Bodies stream in a second pass that skips everything it already knows... except
    // it needs the same section walk; keep the names read above.
    const names = m.funcs.map((f) => f.name);
    const modName = m.name;
    const body = new ModuleReader(bytes, onBody, false);
    m = body.run();
    m.funcs.forEach((f, k) => (f.name = names[k] ?? null));
    m.name = modName;
    mr = body;
  }
  return Object.assign(m, { dataCount: mr.declaredDataCount });
}
