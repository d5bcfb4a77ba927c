// Operands of the assembler: registers (registers.ts), memory references,
// immediates and link-time expressions over symbols. The typed API builds these
// with the helpers below; the text front end parses into the same objects.
import { isRegister, type Register } from "./registers.js";

/** A link-time expression tree; symbols are resolved after layout (or become relocations). */
export type Expr =
  | { readonly op: "num"; readonly v: bigint }
  | { readonly op: "sym"; readonly name: string }
  | { readonly op: "neg" | "not"; readonly a: Expr }
  | { readonly op: "+" | "-" | "*" | "/" | "%" | "<<" | ">>" | "&" | "|" | "^"; readonly a: Expr; readonly b: Expr };

/** A memory reference. size 0 means "not written" (the other operands or the form decide). */
export interface Mem {
  readonly kind: "mem";
  readonly size: number;
  readonly seg: Register | null;
  /** A general-purpose register, or rip/eip for RIP-relative addressing. */
  readonly base: Register | null;
  readonly index: Register | null;
  readonly scale: 1 | 2 | 4 | 8;
  readonly disp: Expr;
}

/** An immediate or a symbolic address used as a value (`offset label`, a branch target). */
export interface Imm {
  readonly kind: "imm";
  readonly expr: Expr;
}

/** A far pointer `sel:offset` (jmp/call ptr16:16/32). */
export interface FarPtr {
  readonly kind: "far";
  readonly sel: Expr;
  readonly off: Expr;
}

export type Operand = Register | Mem | Imm | FarPtr;

/** What the typed API accepts: numbers and bigints become immediates, strings name labels. */
export type OperandInput = Operand | number | bigint | string;

export function num(v: number | bigint): Expr {
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`not an integer: ${v}`);
  return { op: "num", v: BigInt(v) };
}

export function symExpr(name: string, addend: number | bigint = 0): Expr {
  const s: Expr = { op: "sym", name };
  return addend === 0 || addend === 0n ? s : { op: "+", a: s, b: num(addend) };
}

/** An immediate holding a symbol's address plus an addend (Intel syntax `offset name+addend`). */
export function sym(name: string, addend: number | bigint = 0): Imm {
  return { kind: "imm", expr: symExpr(name, addend) };
}

export function imm(v: number | bigint | Expr): Imm {
  return { kind: "imm", expr: typeof v === "object" ? v : num(v) };
}

export function far(sel: number | bigint, off: number | bigint | string): FarPtr {
  return { kind: "far", sel: num(sel), off: typeof off === "string" ? symExpr(off) : num(off) };
}

/** The constant value of an expression without symbols, or null. */
export function constValue(e: Expr): bigint | null {
  switch (e.op) {
    case "num": return e.v;
    case "sym": return null;
    case "neg": case "not": {
      const a = constValue(e.a);
      if (a === null) return null;
      return e.op === "neg" ? -a : ~a;
    }
    default: {
      const a = constValue(e.a);
      const b = constValue(e.b);
      if (a === null || b === null) return null;
      return binop(e.op, a, b);
    }
  }
}

export function binop(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case "+": return a + b;
    case "-": return a - b;
    case "*": return a * b;
    case "/": if (b === 0n) throw new Error("division by zero in expression"); return a / b;
    case "%": if (b === 0n) throw new Error("division by zero in expression"); return a % b;
    case "<<": return a << b;
    case ">>": return a >> b;
    case "&": return a & b;
    case "|": return a | b;
    case "^": return a ^ b;
  }
  throw new Error(`unknown operator ${op}`);
}

export const SIZE_NAMES: Record<number, string> = {
  1: "byte", 2: "word", 4: "dword", 6: "fword", 8: "qword", 10: "tbyte", 16: "xmmword",
};

export const SIZE_BY_NAME: Record<string, number> = {
  byte: 1, word: 2, dword: 4, fword: 6, qword: 8, tbyte: 10, xmmword: 16, oword: 16,
};

/** Address parts accepted by the memory helpers. */
export interface Address {
  base?: Register | null;
  index?: Register | null;
  scale?: 1 | 2 | 4 | 8;
  disp?: number | bigint | Expr;
  seg?: Register | null;
  /** A label: with base rip, RIP-relative to it; otherwise its absolute address as displacement. */
  label?: string;
}

type AddrArgs =
  | [Address]
  | [Register, (number | bigint)?]
  | [Register, Register, (1 | 2 | 4 | 8)?, (number | bigint)?]
  | [number | bigint]
  | [Expr];

function isExpr(x: unknown): x is Expr {
  return typeof x === "object" && x !== null && typeof (x as { op?: unknown }).op === "string";
}

/** Builds a memory operand of `size` bytes (0: unsized) from the helper argument forms. */
export function memOf(size: number, ...args: AddrArgs): Mem {
  let a: Address;
  const [x, y, z, w] = args as unknown[];
  if (isRegister(x)) {
    if (isRegister(y)) a = { base: x, index: y, scale: (z as 1 | 2 | 4 | 8 | undefined) ?? 1, disp: (w as number | bigint | undefined) ?? 0 };
    else a = { base: x, disp: (y as number | bigint | undefined) ?? 0 };
  } else if (typeof x === "number" || typeof x === "bigint") a = { disp: x };
  else if (isExpr(x)) a = { disp: x };
  else a = x as Address;
  let disp: Expr = a.disp === undefined ? num(0) : isExpr(a.disp) ? a.disp : num(a.disp);
  if (a.label !== undefined) disp = { op: "+", a: symExpr(a.label), b: disp };
  const scale = a.scale ?? 1;
  if (![1, 2, 4, 8].includes(scale)) throw new RangeError(`scale must be 1, 2, 4 or 8 (got ${scale})`);
  return { kind: "mem", size, seg: a.seg ?? null, base: a.base ?? null, index: a.index ?? null, scale, disp };
}

export const mem = (...a: AddrArgs): Mem => memOf(0, ...a);
export const byte = (...a: AddrArgs): Mem => memOf(1, ...a);
export const word = (...a: AddrArgs): Mem => memOf(2, ...a);
export const dword = (...a: AddrArgs): Mem => memOf(4, ...a);
export const fword = (...a: AddrArgs): Mem => memOf(6, ...a);
export const qword = (...a: AddrArgs): Mem => memOf(8, ...a);
export const tbyte = (...a: AddrArgs): Mem => memOf(10, ...a);
export const xmmword = (...a: AddrArgs): Mem => memOf(16, ...a);

/** Returns the memory operand with a segment override (`fs:[...]`). */
export function withSeg(m: Mem, seg: Register): Mem {
  return { ...m, seg };
}

/** Normalises a typed-API argument: numbers are immediates, strings are labels (symbol addresses). */
export function toOperand(x: OperandInput): Operand {
  if (typeof x === "number" || typeof x === "bigint") return imm(x);
  if (typeof x === "string") return sym(x);
  return x;
}

/** Intel-syntax text of an expression (for messages and the disassembler). */
export function exprText(e: Expr): string {
  switch (e.op) {
    case "num": return e.v < 0n ? `-0x${(-e.v).toString(16)}` : `0x${e.v.toString(16)}`;
    case "sym": return e.name;
    case "neg": return `-(${exprText(e.a)})`;
    case "not": return `~(${exprText(e.a)})`;
    default: return `(${exprText(e.a)}${e.op}${exprText(e.b)})`;
  }
}

/** Intel-syntax text of an operand, as the text front end reads it back. */
export function operandText(o: Operand): string {
  switch (o.kind) {
    case "reg": return o.name;
    case "imm": return exprText(o.expr);
    case "far": return `${exprText(o.sel)}:${exprText(o.off)}`;
    case "mem": {
      const size = o.size !== 0 ? `${SIZE_NAMES[o.size] ?? "?"} ptr ` : "";
      const seg = o.seg !== null ? `${o.seg.name}:` : "";
      const parts: string[] = [];
      if (o.base !== null) parts.push(o.base.name);
      // 16-bit addressing has no scale: [bx+si].
      if (o.index !== null) parts.push(o.index.size === 2 ? o.index.name : `${o.index.name}*${o.scale}`);
      let inner = parts.join("+");
      const d = constValue(o.disp);
      if (d === null) inner += `${inner === "" ? "" : "+"}${exprText(o.disp)}`;
      else if (d !== 0n || inner === "") inner += inner === "" ? exprText(o.disp) : d < 0n ? exprText(o.disp) : `+${exprText(o.disp)}`;
      return `${size}${seg}[${inner}]`;
    }
  }
}
