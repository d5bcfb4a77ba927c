// Operand access shared by the instruction families: the ModRM r/m operand
// (register or memory) at an operand size, read-modify-write with the write
// permission checked before anything changes, and immediates.
// 64-bit values: functions return the low half and leave the high half in cpu.rhi.
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";

/** Reads the r/m operand. */
export function readE(cpu: Cpu, i: Insn, size: number): number {
  if (!i.isMem) return cpu.getReg(i.rm, size);
  cpu.ea(i, size);
  return readAt(cpu, size);
}

/** Reads `size` bytes at the linear address in cpu.eaLo/eaHi. */
export function readAt(cpu: Cpu, size: number): number {
  switch (size) {
    case 1: return cpu.read8(cpu.eaLo, cpu.eaHi);
    case 2: return cpu.read16(cpu.eaLo, cpu.eaHi);
    case 4: return cpu.read32(cpu.eaLo, cpu.eaHi);
    default: return cpu.read64(cpu.eaLo, cpu.eaHi);
  }
}

/** Writes `size` bytes at the linear address in cpu.eaLo/eaHi. */
export function writeAt(cpu: Cpu, size: number, lo: number, hi: number): void {
  switch (size) {
    case 1: cpu.write8(cpu.eaLo, cpu.eaHi, lo); return;
    case 2: cpu.write16(cpu.eaLo, cpu.eaHi, lo); return;
    case 4: cpu.write32(cpu.eaLo, cpu.eaHi, lo); return;
    default: cpu.write64(cpu.eaLo, cpu.eaHi, lo, hi); return;
  }
}

/** Writes the r/m operand (computes the address). */
export function writeE(cpu: Cpu, i: Insn, size: number, lo: number, hi = 0): void {
  if (!i.isMem) { cpu.setReg(i.rm, size, lo, hi); return; }
  cpu.ea(i, size);
  writeAt(cpu, size, lo, hi);
}

/**
 * Reads the r/m operand of a read-modify-write instruction. For memory the
 * destination is checked for write access first (a fault then reports a write
 * and nothing has changed); the address stays in eaLo/eaHi for writeBackE.
 */
export function readEForWrite(cpu: Cpu, i: Insn, size: number): number {
  if (!i.isMem) return cpu.getReg(i.rm, size);
  cpu.ea(i, size);
  cpu.probeWrite(cpu.eaLo, cpu.eaHi, size);
  return readAt(cpu, size);
}

/** Completes a read-modify-write started by readEForWrite. */
export function writeBackE(cpu: Cpu, i: Insn, size: number, lo: number, hi = 0): void {
  if (!i.isMem) { cpu.setReg(i.rm, size, lo, hi); return; }
  writeAt(cpu, size, lo, hi);
}

/** Reads the ModRM.reg GPR operand. */
export function readG(cpu: Cpu, i: Insn, size: number): number {
  return cpu.getReg(i.reg, size);
}

/** Writes the ModRM.reg GPR operand. */
export function writeG(cpu: Cpu, i: Insn, size: number, lo: number, hi = 0): void {
  cpu.setReg(i.reg, size, lo, hi);
}

/** The first immediate at an operand size (sign-extended as decoded); sets rhi for 8. */
export function imm(cpu: Cpu, i: Insn, size: number): number {
  switch (size) {
    case 1: return i.immLo & 0xff;
    case 2: return i.immLo & 0xffff;
    case 4: return i.immLo;
    default: cpu.rhi = i.immHi; return i.immLo;
  }
}

/** Mask of an operand size's value bits (for 8 the low half is all bits). */
export function sizeMask(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
}
