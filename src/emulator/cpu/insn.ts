// A decoded instruction: everything execution needs, resolved once at decode
// time and cached by physical address. It must never hold per-execution state.
import type { Cpu } from "./cpu.js";
import type { OpRow } from "./table.js";

export type ExecFn = (cpu: Cpu, insn: Insn) => void;

/** Segment register indices (the encoding order of the ModRM sreg field). */
export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;

/** REP prefix kinds as seen by string instructions. */
export const REP_NONE = 0;
export const REP_E = 1; // F3: REP / REPE / REPZ
export const REP_NE = 2; // F2: REPNE / REPNZ

/** Decode modes: operand/address defaults are derived from these, never copied code. */
export const MODE_16 = 0;
export const MODE_32 = 1;
export const MODE_64 = 2;

/** Byte-register ids used for 8-bit operands: 0..15 = low byte of GPR n, 16..19 = AH, CH, DH, BH. */
export const R8_HIGH_BASE = 16;

/** No register (base/index absent). */
export const NO_REG = -1;

export class Insn {
  exec: ExecFn = noExec;
  row: OpRow | null = null;
  /** Instruction length in bytes. */
  len = 0;
  /** Decode mode the instruction was decoded in (MODE_*). */
  mode = MODE_64;
  /** Operand size in bytes for the row's "v"-sized operands (1, 2, 4, 8). */
  opsize = 4;
  /** Address size in bytes (2, 4, 8). */
  adsize = 8;
  /** ModRM.reg with REX.R (or the +r opcode register with REX.B); a byte-register id for 8-bit operands. */
  reg = 0;
  /** ModRM.rm with REX.B for register forms; a byte-register id for 8-bit operands. */
  rm = 0;
  /** True when the ModRM r/m operand is memory. */
  isMem = false;
  /** Memory operand: base and index GPR numbers (NO_REG when absent), scale as a shift count. */
  base = NO_REG;
  index = NO_REG;
  scale = 0;
  /** Displacement sign-extended to 64 bits as two 32-bit halves. */
  dispLo = 0;
  dispHi = 0;
  /** RIP-relative memory operand: the displacement is added to the next instruction's RIP. */
  ripRel = false;
  /** Effective segment for the memory operand (default or override). */
  seg = SEG_DS;
  /** True when a segment override prefix was present (the disassembler prints it). */
  segOverride = false;
  /** First immediate, extended per the row's rules, as two 32-bit halves. */
  immLo = 0;
  immHi = 0;
  /** Second immediate (ENTER's nesting level, far pointer selector). */
  imm2 = 0;
  /** REP_NONE / REP_E / REP_NE. */
  rep = REP_NONE;
  lock = false;
  /** Raw prefix facts kept for the disassembler. */
  rex = 0;
  prefix66 = false;
  prefix67 = false;
  /** VEX-encoded (C4/C5 prefix); then rex is 0 and R/X/B/W came from the VEX bytes. */
  vex = false;
  /** VEX.L (vector length: 0 = 128-bit or scalar, 1 = 256-bit). */
  vexL = 0;
  /** VEX.vvvv as a register number (un-inverted; 0..15, 0..7 outside 64-bit mode). */
  vvvv = 0;
  /** The raw ModRM byte (-1 when the row has none). */
  modrm = -1;
  /** Physical address the instruction was decoded from (block-cache chaining). */
  phys = 0;
  /** Next instruction in the same physical page, chained by the block cache. */
  next: Insn | null = null;
  /**
   * Last taken branch target within the same page (a one-entry branch-target
   * cache): followed when the next RIP equals jumpRip. Comparing the virtual
   * RIP keeps this correct when a physical page is mapped at several addresses.
   */
  jump: Insn | null = null;
  jumpRip = -1;
}

function noExec(): void {
  throw new Error("internal: executed an undecoded instruction");
}
