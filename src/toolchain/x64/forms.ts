// Assembler forms derived from the CPU's instruction table: every row becomes
// one form per Intel mnemonic that names it (its own name, and condition-code,
// size and other aliases from facts.ts). Nothing here lists opcodes; adding a row
// to the table adds its forms. The index is rebuilt when rows are added.
import "../../emulator/cpu/ops/index.js";
import { allRows, CONDITION_NAMES, type OpRow, type OperandSpec } from "../../emulator/cpu/table.js";
import {
  ADDRESS_NAMED, CONDITION_ALIASES, CONDITION_PREFIXES, CONTROL_MOVE_METHODS, GD_ACCEPTS_R64, MNEMONIC_ALIASES, MOVABS,
  NO_16BIT_OPERANDS, NON_CANONICAL, SIGN_EXTENDED_IMM8, SIZE_NAMED, SIZE_SUFFIXED, SPLIT_WIDTH_OPERANDS, XCHG_ACCUMULATOR_ROW,
} from "./facts.js";

export interface Form {
  readonly row: OpRow;
  /** The mnemonic this form answers to. */
  readonly name: string;
  /** Operands in Intel order (the row's order). */
  readonly ops: readonly OperandSpec[];
  /** The Ib operand is sign-extended to the operand size (83, 6B, 6A). */
  readonly sxImm8: boolean;
  /** Operand size fixed by the name (cwde, pushw, movabs r64): 0 when the operands decide. */
  readonly fixedSize: number;
  /** Address size fixed by the name (jecxz): 0 when the operands decide. */
  readonly fixedAdsize: number;
  /** The movabs spelling: moffs with a full-width address, or an imm64. */
  readonly movabs: boolean;
  /** "v": operand size 16/32/64 by 66/REX.W (or VEX.W); "y": 32/64 by REX.W; "": fixed by the row. */
  readonly sizeKind: "v" | "y" | "";
  /** Operand size limited to 16/32 (eAX-style fixed operands, z-sized string operands). */
  readonly max32: boolean;
  /** The operands may be left out: string instructions (movsb) and nop (xchg eax, eax at 90). */
  readonly implicit: boolean;
  /** This is `nop` assembled as the accumulator xchg with register 0. */
  readonly xchgNop: boolean;
  /** This is the accumulator xchg row (register 0 there means nop). */
  readonly accumulatorXchg: boolean;
  /** An operand whose register is a 32/64-bit GPR but whose memory is narrower (pextrb ...). */
  readonly split: readonly [number, readonly number[], number, boolean] | null;
  /** Gd also accepts a 64-bit register (movmskps rax, xmm0). */
  readonly gdR64: boolean;
  /** Control/debug register moves: 64-bit GPRs without REX.W in 64-bit mode. */
  readonly ctrl64: boolean;
}

/** `${mnemonic} ${opcode column}`: how facts.ts names a row. */
export function rowKey(row: OpRow): string {
  return `${row.m} ${row.op}`;
}

let index: Map<string, Form[]> | null = null;
let indexedRowCount = -1;

const CC_SET = new Set<string>(CONDITION_NAMES);

function sizeKindOf(row: OpRow): { kind: "v" | "y" | ""; max32: boolean } {
  let kind: "v" | "y" | "" = "";
  let max32 = false;
  let zOnly = true;
  let any = false;
  for (const o of row.operands) {
    if (o.size === "v" || o.size === "z" || o.size === "p") {
      kind = "v";
      any = true;
      if (o.size !== "z" || o.method === "I" || o.method === "J") zOnly = false;
    } else if (o.size === "y" && kind === "") kind = "y";
    if (o.method === "fixed" && o.fixed !== undefined && /^e[A-D]X|^e[SDB]P|^e[SD]I/.test(o.fixed)) max32 = true;
  }
  if (any && zOnly) max32 = true;
  // Size-named rows, stack operations (d64: push imm8, enter, push fs) and sign-extended
  // imm8 forms depend on the operand size even without a v-sized operand.
  const sx = !row.vex && SIGN_EXTENDED_IMM8.has(row.map * 256 + row.opcode);
  // Relative branches too: outside 64-bit code a 16-bit operand size truncates the target to 16 bits.
  const branch = row.operands.some((o) => o.method === "J");
  if ((SIZE_NAMED[row.m] !== undefined || row.mode64 === "d64" || sx || branch) && kind === "") kind = "v";
  return { kind, max32 };
}

interface FormExtras {
  fixedSize?: number;
  fixedAdsize?: number;
  movabs?: boolean;
  xchgNop?: boolean;
}

function makeForm(row: OpRow, name: string, x: FormExtras = {}): Form {
  const key = rowKey(row);
  const split = SPLIT_WIDTH_OPERANDS[key] ?? null;
  const sk = sizeKindOf(row);
  // A register operand whose width is the operand size makes the form size-dependent.
  const kind = split !== null && split[3] ? "v" : sk.kind;
  const max32 = sk.max32;
  const hasString = row.operands.some((o) => o.method === "X" || o.method === "Y");
  // String instructions may leave their operands out when the name gives the size (movsb, movsd; not movs).
  const sizeKnown = (x.fixedSize ?? 0) !== 0 || kind === "";
  const implicit = x.xchgNop === true
    || (hasString && sizeKnown && row.operands.every((o) => o.method === "X" || o.method === "Y" || o.method === "fixed"));
  return {
    row, name, ops: row.operands, fixedSize: x.fixedSize ?? 0, fixedAdsize: x.fixedAdsize ?? 0, movabs: x.movabs ?? false,
    sizeKind: kind, max32, implicit, xchgNop: x.xchgNop ?? false, accumulatorXchg: key === XCHG_ACCUMULATOR_ROW,
    split, gdR64: GD_ACCEPTS_R64.has(row.m),
    ctrl64: row.operands.some((o) => CONTROL_MOVE_METHODS.has(o.method)),
    sxImm8: !row.vex && SIGN_EXTENDED_IMM8.has(row.map * 256 + row.opcode),
  };
}

function build(): Map<string, Form[]> {
  const map = new Map<string, Form[]>();
  const add = (f: Form) => {
    let list = map.get(f.name);
    if (!list) map.set(f.name, (list = []));
    list.push(f);
  };
  const reverseAliases = new Map<string, string[]>();
  for (const [alias, target] of Object.entries(MNEMONIC_ALIASES)) {
    reverseAliases.set(target, [...(reverseAliases.get(target) ?? []), alias]);
  }
  const suffixed = new Map<string, [string, number][]>();
  for (const [name, [target, size]] of Object.entries(SIZE_SUFFIXED)) {
    suffixed.set(target, [...(suffixed.get(target) ?? []), [name, size]]);
  }
  for (const row of allRows()) {
    if (NON_CANONICAL.has(rowKey(row))) continue;
    const sized = SIZE_NAMED[row.m];
    const addressed = ADDRESS_NAMED[row.m];
    if (sized !== undefined) {
      for (const [size, name] of Object.entries(sized)) add(makeForm(row, name!, { fixedSize: Number(size) }));
      if (!Object.values(sized).includes(row.m)) add(makeForm(row, row.m));
    } else if (addressed !== undefined) {
      for (const [size, name] of Object.entries(addressed)) add(makeForm(row, name!, { fixedAdsize: Number(size) }));
    } else {
      add(makeForm(row, row.m));
    }
    for (const alias of reverseAliases.get(row.m) ?? []) add(makeForm(row, alias));
    for (const [name, size] of suffixed.get(row.m) ?? []) add(makeForm(row, name, { fixedSize: size }));
    // Condition-code aliases: jz = je, setnae = setb, cmovpe = cmovp ...
    for (const p of CONDITION_PREFIXES) {
      if (!row.m.startsWith(p)) continue;
      const cc = row.m.slice(p.length);
      if (!CC_SET.has(cc)) continue;
      for (const [alias, canon] of Object.entries(CONDITION_ALIASES)) if (canon === cc) add(makeForm(row, p + alias));
    }
    if (row.m === "mov") {
      const hasMoffs = row.operands.some((o) => o.method === "O");
      const isImm64 = row.plusReg && row.operands.some((o) => o.method === "I" && o.size === "v");
      if (hasMoffs) add(makeForm(row, MOVABS, { movabs: true }));
      if (isImm64) add(makeForm(row, MOVABS, { fixedSize: 8, movabs: true }));
    }
    if (rowKey(row) === XCHG_ACCUMULATOR_ROW) add(makeForm(row, "nop", { xchgNop: true }));
  }
  return map;
}

function ensureIndex(): Map<string, Form[]> {
  const n = allRows().length;
  if (index === null || n !== indexedRowCount) {
    index = build();
    indexedRowCount = n;
  }
  return index;
}

/** The forms a mnemonic (lower-case) may assemble to; empty when the mnemonic is unknown. */
export function formsFor(name: string): readonly Form[] {
  return ensureIndex().get(name) ?? [];
}

/** Every mnemonic the assembler accepts (row names and aliases). */
export function allMnemonics(): string[] {
  return [...ensureIndex().keys()].sort();
}

/** Every form (for property tests and coverage reports). */
export function allForms(): Form[] {
  return [...ensureIndex().values()].flat();
}

/** The mode's default operand size for a form (bytes). */
export function defaultOpSize(form: Form, bits: number): number {
  if (bits === 64) return form.row.mode64 === "d64" || form.row.mode64 === "f64" || form.ctrl64 ? 8 : 4;
  return bits === 32 ? 4 : 2;
}

const sizeCache = new WeakMap<Form, number[][]>();

/** Operand sizes a form can be encoded with in a mode, default first; empty when the form is invalid there. */
export function opSizes(form: Form, bits: number): number[] {
  let cached = sizeCache.get(form);
  if (cached === undefined) sizeCache.set(form, (cached = []));
  return (cached[bits] ??= computeOpSizes(form, bits));
}

function computeOpSizes(form: Form, bits: number): number[] {
  const row = form.row;
  if (row.mode64 === "o64" && bits !== 64) return [];
  if (row.mode64 === "i64" && bits === 64) return [];
  if (row.rexW === 1 && bits !== 64 && !row.vex) return [];
  if (form.movabs && bits !== 64) return [];
  if (form.fixedAdsize !== 0) {
    const ok = bits === 64 ? [8, 4] : bits === 32 ? [4, 2] : [2, 4];
    if (!ok.includes(form.fixedAdsize)) return [];
  }
  if (form.ctrl64) return [bits === 64 ? 8 : 4];
  let sizes: number[];
  if (form.sizeKind === "v") {
    if (bits === 64) sizes = row.mode64 === "f64" ? [8] : row.mode64 === "d64" ? [8, 2] : [4, 2, 8];
    else sizes = bits === 32 ? [4, 2] : [2, 4];
    if (form.max32) sizes = sizes.filter((s) => s !== 8);
  } else if (form.sizeKind === "y") {
    sizes = bits === 64 ? [4, 8] : [4];
  } else {
    sizes = [defaultOpSize(form, bits)];
  }
  if (row.rexW === 1 && form.sizeKind !== "") sizes = sizes.filter((s) => s === 8 || bits !== 64);
  if (row.rexW === 0 && form.sizeKind !== "") sizes = sizes.filter((s) => s !== 8);
  if (form.fixedSize !== 0) sizes = sizes.filter((s) => s === form.fixedSize);
  if (NO_16BIT_OPERANDS.has(rowKey(row))) sizes = sizes.filter((s) => s !== 2);
  return sizes;
}
