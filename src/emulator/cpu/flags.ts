// Lazy arithmetic flags. ALU instructions record (operation kind, size, operands,
// result) on the CPU instead of computing six flags; a flag is derived only when
// something reads it. Everything else about RFLAGS lives eagerly in cpu.flags.
import type { Cpu } from "./cpu.js";
import { mulS64, wide } from "./int64.js";

export const CF = 0x0001;
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const TF = 0x0100;
export const IF = 0x0200;
export const DF = 0x0400;
export const OF = 0x0800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const VIF = 0x80000;
export const VIP = 0x100000;
export const ID = 0x200000;

/** The six arithmetic status flags. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** Lazy operation kinds (cpu.fop). FOP_NONE: cpu.flags holds the arithmetic flags. */
export const FOP_NONE = 0;
export const FOP_ADD = 1; // add, adc: CF = carry out, OF = signed overflow
export const FOP_SUB = 2; // sub, sbb, cmp, neg: CF = borrow
export const FOP_LOGIC = 3; // and, or, xor, test: CF = OF = AF = 0
export const FOP_INC = 4; // like ADD with b = 1, CF preserved in cpu.fcf
export const FOP_DEC = 5; // like SUB with b = 1, CF preserved in cpu.fcf
export const FOP_IMUL64 = 6; // truncating 64-bit IMUL: CF = OF = the signed product overflowed 64 bits

/**
 * CF/OF of a truncating 64-bit IMUL, from the saved operands: the 128-bit
 * product is computed only when a flag is actually read (compiled code almost
 * never reads them after i64.mul).
 */
function imul64Overflow(cpu: Cpu): number {
  mulS64(cpu.fa, cpu.fah, cpu.fb, cpu.fbh);
  const sign = wide.w1 >> 31;
  return wide.w2 !== sign || wide.w3 !== sign ? 1 : 0;
}

/** PF lookup: 1 when the byte has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) ^ 1;
}

/** Sign-bit index within the top word for an operand size in bytes. */
function topShift(size: number): number {
  return size === 8 ? 31 : size * 8 - 1;
}

export function getCF(cpu: Cpu): number {
  switch (cpu.fop) {
    case FOP_NONE: return cpu.flags & CF;
    case FOP_ADD: {
      const sh = topShift(cpu.fsz);
      const a = cpu.fsz === 8 ? cpu.fah : cpu.fa;
      const b = cpu.fsz === 8 ? cpu.fbh : cpu.fb;
      const r = cpu.fsz === 8 ? cpu.frh : cpu.fr;
      return (((a & b) | ((a | b) & ~r)) >>> sh) & 1;
    }
    case FOP_SUB: {
      const sh = topShift(cpu.fsz);
      const a = cpu.fsz === 8 ? cpu.fah : cpu.fa;
      const b = cpu.fsz === 8 ? cpu.fbh : cpu.fb;
      const r = cpu.fsz === 8 ? cpu.frh : cpu.fr;
      return (((~a & b) | ((~a | b) & r)) >>> sh) & 1;
    }
    case FOP_LOGIC: return 0;
    case FOP_IMUL64: return imul64Overflow(cpu);
    default: return cpu.fcf;
  }
}

export function getZF(cpu: Cpu): number {
  if (cpu.fop === FOP_NONE) return (cpu.flags >> 6) & 1;
  if (cpu.fsz === 8) return (cpu.fr | cpu.frh) === 0 ? 1 : 0;
  return cpu.fr === 0 ? 1 : 0;
}

export function getSF(cpu: Cpu): number {
  if (cpu.fop === FOP_NONE) return (cpu.flags >> 7) & 1;
  if (cpu.fsz === 8) return cpu.frh >>> 31;
  return (cpu.fr >>> (cpu.fsz * 8 - 1)) & 1;
}

export function getOF(cpu: Cpu): number {
  switch (cpu.fop) {
    case FOP_NONE: return (cpu.flags >> 11) & 1;
    case FOP_ADD: case FOP_INC: {
      const sh = topShift(cpu.fsz);
      const a = cpu.fsz === 8 ? cpu.fah : cpu.fa;
      const b = cpu.fsz === 8 ? cpu.fbh : cpu.fb;
      const r = cpu.fsz === 8 ? cpu.frh : cpu.fr;
      return (((a ^ r) & (b ^ r)) >>> sh) & 1;
    }
    case FOP_SUB: case FOP_DEC: {
      const sh = topShift(cpu.fsz);
      const a = cpu.fsz === 8 ? cpu.fah : cpu.fa;
      const b = cpu.fsz === 8 ? cpu.fbh : cpu.fb;
      const r = cpu.fsz === 8 ? cpu.frh : cpu.fr;
      return (((a ^ b) & (a ^ r)) >>> sh) & 1;
    }
    case FOP_IMUL64: return imul64Overflow(cpu);
    default: return 0;
  }
}

export function getPF(cpu: Cpu): number {
  if (cpu.fop === FOP_NONE) return (cpu.flags >> 2) & 1;
  return PARITY[cpu.fr & 0xff]!;
}

export function getAF(cpu: Cpu): number {
  if (cpu.fop === FOP_NONE) return (cpu.flags >> 4) & 1;
  if (cpu.fop === FOP_LOGIC || cpu.fop === FOP_IMUL64) return 0;
  return ((cpu.fa ^ cpu.fb ^ cpu.fr) >> 4) & 1;
}

/** Folds the lazy state into cpu.flags and returns the full RFLAGS value (bit 1 set). */
export function materializeFlags(cpu: Cpu): number {
  if (cpu.fop !== FOP_NONE) {
    const v =
      getCF(cpu) | (getPF(cpu) << 2) | (getAF(cpu) << 4) | (getZF(cpu) << 6) | (getSF(cpu) << 7) | (getOF(cpu) << 11);
    cpu.flags = (cpu.flags & ~ARITH_FLAGS) | v;
    cpu.fop = FOP_NONE;
  }
  return cpu.flags | 2;
}

/** Evaluates condition code cc (0..15, the Jcc/SETcc/CMOVcc encoding order). */
export function testCondition(cpu: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(cpu) !== 0; break;
    case 1: r = getCF(cpu) !== 0; break;
    case 2: r = getZF(cpu) !== 0; break;
    case 3: r = (getCF(cpu) | getZF(cpu)) !== 0; break;
    case 4: r = getSF(cpu) !== 0; break;
    case 5: r = getPF(cpu) !== 0; break;
    case 6: r = getSF(cpu) !== getOF(cpu); break;
    default: r = getZF(cpu) !== 0 || getSF(cpu) !== getOF(cpu); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}

/** Records a 8/16/32-bit lazy result (values already masked to size). */
export function setLazy(cpu: Cpu, op: number, size: number, a: number, b: number, r: number): void {
  cpu.fop = op;
  cpu.fsz = size;
  cpu.fa = a;
  cpu.fb = b;
  cpu.fr = r;
}

/** Records a 64-bit lazy result from 32-bit halves. */
export function setLazy64(cpu: Cpu, op: number, alo: number, ahi: number, blo: number, bhi: number, rlo: number, rhi: number): void {
  cpu.fop = op;
  cpu.fsz = 8;
  cpu.fa = alo;
  cpu.fb = blo;
  cpu.fr = rlo;
  cpu.fah = ahi;
  cpu.fbh = bhi;
  cpu.frh = rhi;
}

/** Replaces the arithmetic flags with explicit values (eagerly computed instructions). */
export function setArithFlags(cpu: Cpu, value: number): void {
  cpu.flags = (cpu.flags & ~ARITH_FLAGS) | (value & ARITH_FLAGS);
  cpu.fop = FOP_NONE;
}

/** Updates only the flags in mask (others, including lazy ones, keep their values). */
export function updateFlags(cpu: Cpu, mask: number, value: number): void {
  if (cpu.fop !== FOP_NONE) materializeFlags(cpu);
  cpu.flags = (cpu.flags & ~mask) | (value & mask);
}
