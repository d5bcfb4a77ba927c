// The x86 instruction table: one row per instruction form, written in the
// notation of the Intel SDM opcode column plus the AMD/Intel opcode-map operand
// codes (Ev, Gv, Ib, ...). The decoder, the disassembler, the assembler's
// encoder and the conformance runner are all derived from these rows; adding an
// instruction is adding a row (in its family's file under ops/) and its semantics.
//
// VEX-encoded rows (BMI1/BMI2, AVX) write the VEX prefix as the SDM opcode column
// does, as one token before the opcode byte: "VEX.<L>.<pp>.<map>[.<W>]", e.g.
// { m: "pdep", op: "VEX.LZ.F2.0F38 F5 /r", args: "Gy,By,Ey" }. The parts:
//   L    LZ / L0 / 128 (VEX.L must be 0), L1 / 256 (must be 1), LIG (either)
//   pp   absent (no implied prefix), 66, F3 or F2
//   map  0F, 0F38 or 0F3A (VEX.mmmmm; there is no one-byte map)
//   W    W0 / W1 (required value of VEX.W), WIG or absent (not checked). With y-sized
//        operands VEX.W plays REX.W's part: W1 makes them 64-bit in 64-bit mode;
//        outside 64-bit mode W is ignored for operand size and y is 32-bit.
// Operand "B" (AMD opcode-map notation) is the general register named by VEX.vvvv.
// A row with no vvvv operand requires VEX.vvvv = 1111b, otherwise #UD; a VEX L or W
// that no row of the opcode accepts is #UD too. VEX rows form their own opcode space:
// "VEX.0F38 F2" never collides with a legacy "0F 38 F2" row.
import type { ExecFn, Insn } from "./insn.js";

/** Opcode maps. */
export const MAP_1 = 0; // one-byte opcodes
export const MAP_0F = 1;
export const MAP_0F38 = 2;
export const MAP_0F3A = 3;

/** Mandatory-prefix classes (SSE-style rows). NP = none. */
export const PFX_NP = 0;
export const PFX_66 = 1;
export const PFX_F3 = 2;
export const PFX_F2 = 3;

/** ModRM usage of a row. */
export const MODRM_NONE = 0; // no ModRM byte
export const MODRM_R = 1; // "/r": reg field is an operand
export const MODRM_DIGIT = 2; // "/0".."/7": reg field selects the row

/** Which ModRM.mod forms a row accepts. */
export const FORM_ANY = 0;
export const FORM_REG = 1; // mod == 3 only
export const FORM_MEM = 2; // mod != 3 only

/**
 * Operand addressing methods (AMD/Intel opcode-map notation):
 * E r/m GPR-or-memory, G ModRM.reg GPR, M memory only, R ModRM.rm GPR only,
 * I immediate, J relative offset, O absolute moffs, Z register in opcode low bits,
 * V xmm in ModRM.reg, W xmm-or-memory in r/m, U xmm in r/m only,
 * C control register in reg, D debug register in reg, S segment register in reg,
 * X memory DS:rSI, Y memory ES:rDI, A far pointer immediate,
 * B general register in VEX.vvvv (VEX rows only),
 * and fixed operands: a named register ("AL", "rAX", "CL", "DX", "ES"...) or the constant "1".
 */
export type AddrMethod =
  | "E" | "G" | "M" | "R" | "I" | "J" | "O" | "Z" | "V" | "W" | "U"
  | "C" | "D" | "S" | "X" | "Y" | "A" | "B" | "fixed";

/**
 * Operand sizes: b byte, w word, d dword, q qword, v 16/32/64 by operand size,
 * z 16 or 32 (immediate of a v operation), y 32 or 64 (REX.W), dq 128-bit,
 * ss/sd/ps/pd SSE scalar/packed (memory sizes 4/8/16/16), p far pointer,
 * s pseudo-descriptor (6 or 10 bytes), x no access (lea, nop, prefetch),
 * e 512-byte FXSAVE area.
 */
export type SizeCode =
  | "b" | "w" | "d" | "q" | "v" | "z" | "y" | "dq" | "ss" | "sd" | "ps" | "pd" | "p" | "s" | "x" | "e";

export interface OperandSpec {
  method: AddrMethod;
  size: SizeCode;
  /** For fixed operands: the register or constant name as written ("AL", "rAX", "CL", "1", ...). */
  fixed?: string;
}

/** Attributes that change decoding in 64-bit mode. */
export type Mode64Rule =
  | "" // nothing special
  | "o64" // only valid in 64-bit mode
  | "i64" // invalid in 64-bit mode
  | "d64" // default operand size 64 in 64-bit mode (66 gives 16)
  | "f64"; // operand size forced to 64 in 64-bit mode

export interface RowSpec {
  /** Mnemonic as written in Intel syntax ("add", "movzx", "cmovcc" rows expand to real names). */
  m: string;
  /** Encoding in SDM notation, e.g. "01 /r", "REX.W 0F C7 /1 mem", "F3 0F 10 /r", "B8+r", "0F 01 F8". */
  op: string;
  /** Operands in opcode-map notation, comma separated: "Ev,Gv", "AL,Ib", "Zv,Iv", "" for none. */
  args: string;
  /** Semantics. Either a fixed handler or a picker that specialises at decode time. */
  exec?: ExecFn;
  pick?: (insn: Insn) => ExecFn;
  mode64?: Mode64Rule;
  /** Accepts LOCK (with a memory destination). */
  lock?: boolean;
  /** String instruction: "rep" (F3 repeats) or "repe" (F3/F2 are REPE/REPNE). */
  rep?: "rep" | "repe";
  /** CPUID feature the instruction belongs to (documentation, CPUID model). */
  feature?: string;
  /** Requires CPL 0 (checked at execution; #GP(0) otherwise). */
  cpl0?: boolean;
  /** Flags: e.g. "w:oszapc" written, "r:c" read, "u:a" undefined. Documentation and tests. */
  flags?: string;
  /** Disassembly-only alias rows (e.g. the second reg,reg encoding) still execute; no effect on decode. */
  note?: string;
}

/** A row parsed into the fields the decoder and encoder use. */
export interface OpRow extends RowSpec {
  prefix: number; // PFX_*
  map: number; // MAP_*
  opcode: number;
  plusReg: boolean; // opcode low 3 bits hold a register ("+r")
  modrm: number; // MODRM_*
  digit: number; // for MODRM_DIGIT
  form: number; // FORM_*
  fixedModrm: number; // full ModRM byte required (-1 when not fixed)
  rexW: -1 | 0 | 1; // required REX.W (-1: any); VEX rows: required VEX.W
  vex: boolean; // VEX-encoded row (prefix = pp, map = mmmmm)
  vexL: -1 | 0 | 1; // required VEX.L (-1: any)
  operands: OperandSpec[];
  index: number; // position in the table
}

const FIXED_NAMES = new Set([
  "AL", "CL", "DL", "BL", "AH", "CH", "DH", "BH",
  "AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI",
  "eAX", "rAX", "eCX", "rCX", "eDX", "rDX", "eBX", "rBX", "eSP", "rSP", "eBP", "rBP", "eSI", "rSI", "eDI", "rDI",
  "ES", "CS", "SS", "DS", "FS", "GS", "1", "XMM0",
]);

const METHODS = new Set(["E", "G", "M", "R", "I", "J", "O", "Z", "V", "W", "U", "C", "D", "S", "X", "Y", "A", "B"]);
const SIZES = new Set(["b", "w", "d", "q", "v", "z", "y", "dq", "ss", "sd", "ps", "pd", "p", "s", "x", "e"]);

export function parseOperands(args: string, where: string): OperandSpec[] {
  if (args.trim() === "") return [];
  return args.split(",").map((raw) => {
    const t = raw.trim();
    if (FIXED_NAMES.has(t)) {
      // Fixed register operand; its size follows the register name (eAX/rAX are v-sized).
      const size: SizeCode = t === "1" ? "b" : /^[re]/.test(t) ? "v" : /^[A-D][LH]$/.test(t) ? "b" : t === "XMM0" ? "dq" : "w";
      return { method: "fixed", size, fixed: t } as OperandSpec;
    }
    const method = t[0]!;
    const size = t.slice(1);
    if (!METHODS.has(method) || !SIZES.has(size)) throw new Error(`instruction table: bad operand "${t}" in ${where}`);
    return { method: method as AddrMethod, size: size as SizeCode };
  });
}

/** Parses the SDM-style encoding column into row fields. */
export function parseEncoding(op: string, where: string): Omit<OpRow, keyof RowSpec | "operands" | "index"> {
  const toks = op.trim().split(/\s+/);
  let i = 0;
  let prefix = PFX_NP;
  let rexW: -1 | 0 | 1 = -1;
  let map = MAP_1;
  let vex = false;
  let vexL: -1 | 0 | 1 = -1;
  if (toks[0]!.startsWith("VEX.")) {
    // "VEX.<L>.<pp>.<map>[.<W>]" (see the header); the opcode byte follows.
    vex = true;
    map = -1;
    for (const part of toks[0]!.split(".").slice(1)) {
      if (part === "LZ" || part === "L0" || part === "128") vexL = 0;
      else if (part === "L1" || part === "256") vexL = 1;
      else if (part === "LIG") vexL = -1;
      else if (part === "66") prefix = PFX_66;
      else if (part === "F3") prefix = PFX_F3;
      else if (part === "F2") prefix = PFX_F2;
      else if (part === "0F") map = MAP_0F;
      else if (part === "0F38") map = MAP_0F38;
      else if (part === "0F3A") map = MAP_0F3A;
      else if (part === "W0") rexW = 0;
      else if (part === "W1") rexW = 1;
      else if (part !== "WIG") throw new Error(`instruction table: bad VEX field "${part}" in "${op}" (${where})`);
    }
    if (map < 0) throw new Error(`instruction table: VEX without an opcode map in "${op}" (${where})`);
    i = 1;
  } else {
    for (;;) {
      const t = toks[i];
      if (t === "REX.W" || t === "W1") { rexW = 1; i++; continue; }
      if (t === "W0") { rexW = 0; i++; continue; }
      if (t === "66" && prefix === PFX_NP && map === MAP_1 && toks[i + 1] !== undefined) { prefix = PFX_66; i++; continue; }
      if (t === "F3" && prefix === PFX_NP && map === MAP_1 && toks[i + 1] !== undefined) { prefix = PFX_F3; i++; continue; }
      if (t === "F2" && prefix === PFX_NP && map === MAP_1 && toks[i + 1] !== undefined) { prefix = PFX_F2; i++; continue; }
      break;
    }
    if (toks[i] === "0F") {
      i++;
      map = MAP_0F;
      if (toks[i] === "38" && toks.length > i + 1) { map = MAP_0F38; i++; }
      else if (toks[i] === "3A" && toks.length > i + 1) { map = MAP_0F3A; i++; }
    }
  }
  const opTok = toks[i++];
  if (opTok === undefined) throw new Error(`instruction table: no opcode in "${op}" (${where})`);
  let plusReg = false;
  let opHex = opTok;
  if (opTok.endsWith("+r")) { plusReg = true; opHex = opTok.slice(0, -2); }
  const opcode = parseInt(opHex, 16);
  if (!/^[0-9A-Fa-f]{2}$/.test(opHex)) throw new Error(`instruction table: bad opcode "${opTok}" in "${op}" (${where})`);
  let modrm = MODRM_NONE;
  let digit = 0;
  let form = FORM_ANY;
  let fixedModrm = -1;
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === "/r") modrm = MODRM_R;
    else if (/^\/[0-7]$/.test(t)) { modrm = MODRM_DIGIT; digit = +t[1]!; }
    else if (t === "reg") form = FORM_REG;
    else if (t === "mem") form = FORM_MEM;
    else if (/^[C-F][0-9A-F]$/i.test(t)) {
      fixedModrm = parseInt(t, 16);
      modrm = MODRM_DIGIT;
      digit = (fixedModrm >> 3) & 7;
      form = FORM_REG;
    } else throw new Error(`instruction table: bad token "${t}" in "${op}" (${where})`);
  }
  return { prefix, map, opcode, plusReg, modrm, digit, form, fixedModrm, rexW, vex, vexL };
}

const rows: OpRow[] = [];

/** Adds a family's rows to the table. Called once per family module at load. */
export function defineRows(family: string, specs: RowSpec[]): void {
  for (const s of specs) {
    const where = `${family}: ${s.m} ${s.op}`;
    if (!s.exec && !s.pick) throw new Error(`instruction table: row without semantics (${where})`);
    const enc = parseEncoding(s.op, where);
    const operands = parseOperands(s.args, where);
    rows.push({ ...s, ...enc, operands, index: rows.length });
  }
}

export function allRows(): readonly OpRow[] {
  return rows;
}

/** Expands a row template over the 16 condition codes (cc = o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g). */
export const CONDITION_NAMES = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"] as const;
