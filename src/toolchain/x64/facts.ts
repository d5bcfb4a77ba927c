// Facts about Intel-syntax spelling that the CPU's instruction table does not
// carry, kept as data: mnemonic aliases, names that select an operand or address
// size, which imm8 encodings sign-extend, which rows are second encodings the
// assembler never picks, operand orders GNU as accepts both ways. Encodings
// themselves come only from the table (forms.ts); rows are named here by their
// mnemonic and SDM opcode column only to attach a fact to them.
import { CONDITION_NAMES, MAP_1 } from "../../emulator/cpu/table.js";

/**
 * Opcodes whose Ib operand is sign-extended to the operand size (the SDM's "imm8"
 * with "sign-extended"): group-1 arithmetic 83, IMUL 6B, PUSH 6A. Every other Ib
 * is a byte value or a count (shift counts, bit offsets, SSE control bytes, ports).
 * Key: map * 256 + opcode.
 */
export const SIGN_EXTENDED_IMM8 = new Set([MAP_1 * 256 + 0x83, MAP_1 * 256 + 0x6b, MAP_1 * 256 + 0x6a]);

/** Other spellings of the condition codes (Intel SDM names): alias → canonical cc. */
export const CONDITION_ALIASES: Record<string, (typeof CONDITION_NAMES)[number]> = {
  z: "e", nz: "ne", c: "b", nae: "b", nb: "ae", nc: "ae", na: "be", nbe: "a",
  pe: "p", po: "np", nge: "l", nl: "ge", ng: "le", nle: "g",
};

/** Mnemonic families that take a condition-code suffix. */
export const CONDITION_PREFIXES = ["j", "set", "cmov"] as const;

/** Plain mnemonic aliases: alias → the row mnemonic it assembles as. */
export const MNEMONIC_ALIASES: Record<string, string> = {
  sal: "shl",
  xlatb: "xlat",
};

/**
 * Rows whose Intel name depends on the operand size (the decoder sees one row;
 * the text has a name per size). Row mnemonic → name per operand size in bytes.
 * The disassembler prints these names; the assembler accepts each name as that
 * row at that size, and the row's own name (unless it is one of them) at any size.
 */
export const SIZE_NAMED: Record<string, Partial<Record<2 | 4 | 8, string>>> = {
  cbw: { 2: "cbw", 4: "cwde", 8: "cdqe" },
  cwd: { 2: "cwd", 4: "cdq", 8: "cqo" },
  movs: { 2: "movsw", 4: "movsd", 8: "movsq" },
  cmps: { 2: "cmpsw", 4: "cmpsd", 8: "cmpsq" },
  stos: { 2: "stosw", 4: "stosd", 8: "stosq" },
  lods: { 2: "lodsw", 4: "lodsd", 8: "lodsq" },
  scas: { 2: "scasw", 4: "scasd", 8: "scasq" },
  ins: { 2: "insw", 4: "insd" },
  outs: { 2: "outsw", 4: "outsd" },
  pushf: { 2: "pushfw", 4: "pushfd", 8: "pushfq" },
  popf: { 2: "popfw", 4: "popfd", 8: "popfq" },
  pusha: { 2: "pushaw", 4: "pushad" },
  popa: { 2: "popaw", 4: "popad" },
  iret: { 2: "iretw", 4: "iretd", 8: "iretq" },
  sysret: { 8: "sysretq" },
  sysexit: { 8: "sysexitq" },
  movd: { 4: "movd", 8: "movq" },
  pextrd: { 4: "pextrd", 8: "pextrq" },
  pinsrd: { 4: "pinsrd", 8: "pinsrq" },
  fxsave: { 8: "fxsave64" },
  fxrstor: { 8: "fxrstor64" },
};

/** Rows whose Intel name depends on the address size: row mnemonic → name per address size. */
export const ADDRESS_NAMED: Record<string, Partial<Record<2 | 4 | 8, string>>> = {
  jrcxz: { 2: "jcxz", 4: "jecxz", 8: "jrcxz" },
};

/**
 * Size-suffixed spellings of instructions whose operands do not fix the size
 * (GNU `pushw 0x8fc8`): name → [row mnemonic, operand size in bytes].
 */
export const SIZE_SUFFIXED: Record<string, [string, number]> = {
  pushw: ["push", 2], pushd: ["push", 4], pushq: ["push", 8],
  popw: ["pop", 2], popd: ["pop", 4], popq: ["pop", 8],
};

/**
 * Second encodings of an instruction that the assembler never chooses (they
 * still decode and execute): undocumented aliases and reserved hint NOPs.
 * Key: `${mnemonic} ${opcode column}`.
 */
export const NON_CANONICAL = new Set([
  "test F6 /1", "test F7 /1",
  "shl D0 /6", "shl D1 /6", "shl D2 /6", "shl D3 /6", "shl C0 /6", "shl C1 /6",
  "nop 0F 18 /r", "nop 0F 19 /r", "nop 0F 1A /r", "nop 0F 1B /r", "nop 0F 1C /r", "nop 0F 1D /r", "nop 0F 1E /r",
  "nop F3 0F 1E /r",
]);

/** Rows whose 16-bit operand size gives an undefined result (SDM: BSWAP r16): the assembler refuses it. */
export const NO_16BIT_OPERANDS = new Set(["bswap 0F C8+r"]);

/**
 * The accumulator form of xchg (90+r) with register 0 and no REX.B is NOP, as
 * its row notes: `nop` assembles to it, and in 64-bit code `xchg eax, eax` must
 * not (it zero-extends RAX; 87 C0 does that). Row key as in NON_CANONICAL.
 */
export const XCHG_ACCUMULATOR_ROW = "xchg 90+r";

/**
 * Operands whose register and memory widths differ (the SDM's r32/r64 or m8,
 * r/m16 with r32 ...). Key as in NON_CANONICAL → [operand index, register widths
 * accepted, memory width, whether the register's width is the operand size].
 * SSE insert/extract: a 32/64-bit GPR or memory of the element size. SLDT/STR/SMSW
 * and MOV r/m, Sreg: r16/r32/r64 (by operand size) or m16. MOV Sreg, r/m and
 * LAR/LSL sources: any GPR width (only the low 16 bits are used) or m16.
 */
export const SPLIT_WIDTH_OPERANDS: Record<string, [number, number[], number, boolean]> = {
  "pextrb 66 0F 3A 14 /r": [0, [4, 8], 1, false],
  "pextrw 66 0F 3A 15 /r": [0, [4, 8], 2, false],
  "pinsrb 66 0F 3A 20 /r": [1, [4], 1, false],
  "pinsrw 66 0F C4 /r": [1, [4], 2, false],
  "sldt 0F 00 /0": [0, [2, 4, 8], 2, true],
  "str 0F 00 /1": [0, [2, 4, 8], 2, true],
  "smsw 0F 01 /4": [0, [2, 4, 8], 2, true],
  "mov 8C /r": [0, [2, 4, 8], 2, true],
  "mov 8E /r": [1, [2, 4, 8], 2, false],
  "lar 0F 02 /r": [1, [2, 4, 8], 2, false],
  "lsl 0F 03 /r": [1, [2, 4, 8], 2, false],
};

/**
 * Gd operands that GNU as also accepts as a 64-bit register (the result is
 * zero-extended either way, and no REX.W is emitted).
 */
export const GD_ACCEPTS_R64 = new Set(["movmskps", "movmskpd", "pmovmskb", "pextrw"]);

/**
 * Moves to and from control and debug registers use 64-bit GPRs in 64-bit mode
 * without REX.W (SDM: "operand size is fixed at 64 bits"); the rows say y.
 */
export const CONTROL_MOVE_METHODS = new Set(["C", "D"]);

/** Two-operand spellings that repeat the destination as a source: `imul eax, 10` = `imul eax, eax, 10`. */
export const DUPLICATED_DESTINATION = new Set(["imul"]);

/** Instructions whose two operands GNU as accepts in either order (the encoding has one order). */
export const COMMUTATIVE = new Set(["xchg", "test"]);

/**
 * `movabs` (GNU) names the forms with a full-width address or immediate: the
 * moffs forms of mov (A0-A3, O operands) and mov r64, imm64 (B8+r with REX.W).
 */
export const MOVABS = "movabs";

/** Legacy prefix mnemonics written before an instruction, and their bytes. */
export const PREFIX_BYTES: Record<string, number> = {
  lock: 0xf0,
  rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2,
  data16: 0x66, data32: 0x66, addr16: 0x67, addr32: 0x67,
  es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65,
};
