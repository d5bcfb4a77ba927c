// The x86-64 register file as the assembler and disassembler name it: every
// register by name and width, with the facts encoding needs (number, REX rules).
// One object per register, so operands compare by identity.

export type RegKind = "gpr" | "seg" | "cr" | "dr" | "xmm" | "ip" | "zero";

export interface Register {
  readonly kind: "reg";
  /** Lower-case name as Intel syntax writes it ("rax", "r8d", "ah", "xmm3", "cr0"). */
  readonly name: string;
  readonly class: RegKind;
  /** Width in bytes (seg 2, cr/dr 8, xmm 16). */
  readonly size: number;
  /** Encoding number 0..15 (for AH..BH: 4..7, the ids they share with SPL..DIL). */
  readonly num: number;
  /** AH, CH, DH, BH: not encodable in an instruction that has a REX prefix. */
  readonly high8: boolean;
  /** SPL, BPL, SIL, DIL: encodable only with a REX prefix (without one, ids 4..7 mean AH..BH). */
  readonly needsRex: boolean;
}

function reg(name: string, cls: RegKind, size: number, num: number, high8 = false, needsRex = false): Register {
  return Object.freeze({ kind: "reg", name, class: cls, size, num, high8, needsRex });
}

const GPR64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
const GPR32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"];
const GPR16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"];
const GPR8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"];
const GPR8_HIGH = ["ah", "ch", "dh", "bh"];
const SEGS = ["es", "cs", "ss", "ds", "fs", "gs"];

/** General-purpose registers indexed [sizeIndex][num] with sizeIndex 0..3 = 1, 2, 4, 8 bytes. */
const gprTable: Register[][] = [
  GPR8.map((n, i) => reg(n, "gpr", 1, i, false, i >= 4 && i < 8)),
  GPR16.map((n, i) => reg(n, "gpr", 2, i)),
  GPR32.map((n, i) => reg(n, "gpr", 4, i)),
  GPR64.map((n, i) => reg(n, "gpr", 8, i)),
];
const highTable = GPR8_HIGH.map((n, i) => reg(n, "gpr", 1, 4 + i, true));
const segTable = SEGS.map((n, i) => reg(n, "seg", 2, i));
const crTable = Array.from({ length: 16 }, (_, i) => reg(`cr${i}`, "cr", 8, i));
const drTable = Array.from({ length: 16 }, (_, i) => reg(`dr${i}`, "dr", 8, i));
const xmmTable = Array.from({ length: 16 }, (_, i) => reg(`xmm${i}`, "xmm", 16, i));
const ipTable = [reg("ip", "ip", 2, 0), reg("eip", "ip", 4, 0), reg("rip", "ip", 8, 0)];
// GNU's "zero index" pseudo-registers: a SIB byte whose index field says "none" ([rax+riz*1]).
const zeroTable = [reg("eiz", "zero", 4, 4), reg("riz", "zero", 8, 4)];

const byName = new Map<string, Register>();
for (const r of [...gprTable.flat(), ...highTable, ...segTable, ...crTable, ...drTable, ...xmmTable, ...ipTable, ...zeroTable]) byName.set(r.name, r);
// Spellings GNU as also accepts.
for (let i = 8; i < 16; i++) byName.set(`r${i}l`, gprTable[0]![i]!);

/** Looks a register up by name (case-insensitive); undefined when the word is not a register. */
export function registerByName(name: string): Register | undefined {
  return byName.get(name.toLowerCase());
}

const SIZE_INDEX: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/** The general-purpose register `num` at `size` bytes (size 1 gives the REX-style low byte: spl, not ah). */
export function gpr(num: number, size: number): Register {
  const r = gprTable[SIZE_INDEX[size]!]?.[num];
  if (r === undefined) throw new Error(`no general-purpose register ${num} of ${size} bytes`);
  return r;
}

/** A byte register by the decoder's id (0..15 low bytes, 16..19 = AH, CH, DH, BH). */
export function byteRegById(id: number): Register {
  return id >= 16 ? highTable[id - 16]! : gprTable[0]![id]!;
}

export function segReg(num: number): Register {
  const r = segTable[num];
  if (r === undefined) throw new Error(`no segment register ${num}`);
  return r;
}

export function controlReg(num: number): Register {
  return crTable[num]!;
}

export function debugReg(num: number): Register {
  return drTable[num]!;
}

export function xmmReg(num: number): Register {
  return xmmTable[num]!;
}

export function ipReg(size: number): Register {
  return ipTable[SIZE_INDEX[size]! - 1]!;
}

/** The zero-index pseudo-register of an address size (eiz, riz). */
export function zeroIndex(adsize: number): Register {
  return zeroTable[adsize === 8 ? 1 : 0]!;
}

export function isRegister(x: unknown): x is Register {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "reg";
}

// Named exports for the typed API: `a.add(rax, qword(rbp, -8))`.
export const [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15] = gprTable[3]! as [
  Register, Register, Register, Register, Register, Register, Register, Register,
  Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [eax, ecx, edx, ebx, esp, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d] = gprTable[2]! as [
  Register, Register, Register, Register, Register, Register, Register, Register,
  Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [ax, cx, dx, bx, sp, bp, si, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w] = gprTable[1]! as [
  Register, Register, Register, Register, Register, Register, Register, Register,
  Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [al, cl, dl, bl, spl, bpl, sil, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b] = gprTable[0]! as [
  Register, Register, Register, Register, Register, Register, Register, Register,
  Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [ah, ch, dh, bh] = highTable as [Register, Register, Register, Register];
export const [es, cs, ss, ds, fs, gs] = segTable as [Register, Register, Register, Register, Register, Register];
export const [cr0, , cr2, cr3, cr4, , , , cr8] = crTable as Register[] as [
  Register, Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [dr0, dr1, dr2, dr3, , , dr6, dr7] = drTable as Register[] as [
  Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15] = xmmTable as [
  Register, Register, Register, Register, Register, Register, Register, Register,
  Register, Register, Register, Register, Register, Register, Register, Register,
];
export const [ip, eip, rip] = ipTable as [Register, Register, Register];
export const [eiz, riz] = zeroTable as [Register, Register];
