// The decoded form of a WebAssembly module as the compiler and linker see it:
// value and function types, the four index spaces (functions, tables, memories,
// globals) with imports first, exports, segments and the start function.
// Function bodies are not stored: the compiler consumes them as they stream by.

/** Value types, numbered for table lookups. */
export const I32 = 0;
export const I64 = 1;
export const F32 = 2;
export const F64 = 3;
export type ValType = 0 | 1 | 2 | 3;

export const VALTYPE_NAMES = ["i32", "i64", "f32", "f64"] as const;

export function isFloat(t: ValType): boolean {
  return t >= F32;
}

/** Bytes a value of the type occupies in memory. */
export function valSize(t: ValType): number {
  return t === I32 || t === F32 ? 4 : 8;
}

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  /** Canonical text, e.g. "i32 i64 -> f64": structurally equal types have equal keys. */
  readonly key: string;
}

export function funcTypeKey(params: readonly ValType[], results: readonly ValType[]): string {
  return `${params.map((t) => VALTYPE_NAMES[t]).join(" ")} -> ${results.map((t) => VALTYPE_NAMES[t]).join(" ")}`;
}

export function makeFuncType(params: ValType[], results: ValType[]): FuncType {
  return { params, results, key: funcTypeKey(params, results) };
}

export type ExternKind = "func" | "table" | "memory" | "global";

export interface Limits {
  initial: number;
  maximum: number | null;
}

/** A constant expression (global initialisers and segment offsets). */
export type ConstExpr =
  | { readonly op: "const"; readonly type: ValType; readonly lo: number; readonly hi: number }
  | { readonly op: "global.get"; readonly index: number };

export interface ImportRef {
  readonly module: string;
  readonly field: string;
}

export interface FuncDecl {
  readonly typeIndex: number;
  readonly type: FuncType;
  readonly import: ImportRef | null;
  /** From the name section, when present. */
  name: string | null;
}

export interface TableDecl {
  readonly limits: Limits;
  readonly import: ImportRef | null;
}

export interface MemoryDecl {
  readonly limits: Limits;
  readonly import: ImportRef | null;
}

export interface GlobalDecl {
  readonly type: ValType;
  readonly mutable: boolean;
  /** Null for imported globals. */
  readonly init: ConstExpr | null;
  readonly import: ImportRef | null;
}

export interface ExportDecl {
  readonly name: string;
  readonly kind: ExternKind;
  readonly index: number;
}

/** An active element segment (MVP encoding: table 0, function indices). */
export interface ElemSegment {
  readonly table: number;
  readonly offset: ConstExpr;
  readonly funcs: readonly number[];
}

export interface DataSegment {
  readonly active: boolean;
  readonly memory: number;
  /** Null for passive segments. */
  readonly offset: ConstExpr | null;
  readonly bytes: Uint8Array;
}

export interface WasmModule {
  readonly types: FuncType[];
  readonly funcs: FuncDecl[];
  readonly tables: TableDecl[];
  readonly memories: MemoryDecl[];
  readonly globals: GlobalDecl[];
  readonly exports: ExportDecl[];
  readonly elems: ElemSegment[];
  readonly datas: DataSegment[];
  start: number | null;
  /** Number of imported functions (they come first in the function index space). */
  importedFuncs: number;
  /** The module name from the name section, if any. */
  name: string | null;
}
