// Port I/O: in/out (immediate and DX ports, 8/16/32-bit) and ins/outs with REP.
// Protected mode with CPL > IOPL consults the TSS I/O permission bitmap
// (#GP(0) when any bit of the accessed ports is set or lies past the TSS limit).
// Ports go to cpu.io (the machine's port bus).
import type { Cpu } from "../cpu.js";
import { CR0_PE } from "../cpu.js";
import { EXC_GP, EXC_SS } from "../fault.js";
import { DF } from "../flags.js";
import { SEG_ES, SEG_FS, SEG_SS, type Insn } from "../insn.js";
import { SYS_TSS_AVAIL, SYS_TSS_BUSY, sysRead16 } from "../modes.js";
import { defineRows, type RowSpec } from "../table.js";
import { readAt, writeAt } from "./operands.js";

const TWO32 = 4294967296;
const RCX = 1;
const RSI = 6;
const RDI = 7;
/** Offset of the I/O map base field in a 32/64-bit TSS. */
const TSS_IOMAP_BASE = 0x66;
/** Most elements one execution of REP INS/OUTS moves before leaving RIP at the instruction (the run loop gets a turn). */
const IO_REP_SLICE = 4096;

/** IOPL / I/O-permission-bitmap check for `size` bytes at `port`. */
export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if ((cpu.cr0 & CR0_PE) === 0 || cpu.cpl <= ((cpu.flags >> 12) & 3)) return;
  const type = cpu.trAttr & 0xf;
  if ((type !== SYS_TSS_AVAIL && type !== SYS_TSS_BUSY) || cpu.trLimit < TSS_IOMAP_BASE + 1) cpu.fault(EXC_GP, 0);
  const mapBase = sysRead16(cpu, cpu.trBase, TSS_IOMAP_BASE);
  const off = mapBase + (port >>> 3);
  // Two bytes are always read (an access may straddle a byte of the bitmap).
  if (off + 1 > cpu.trLimit) cpu.fault(EXC_GP, 0);
  const bits = sysRead16(cpu, cpu.trBase, off);
  if ((bits & (((1 << size) - 1) << (port & 7))) !== 0) cpu.fault(EXC_GP, 0);
}

/** IN/OUT data size: AL (1), AX (2), EAX (4); REX.W does not widen port I/O beyond 32 bits. */
function ioSize(i: Insn): number {
  return i.opsize === 1 ? 1 : i.opsize === 2 ? 2 : 4;
}

function portIn(cpu: Cpu, port: number, size: number): number {
  checkIoPermission(cpu, port, size);
  const v = cpu.io.in(port, size);
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0;
}

function portOut(cpu: Cpu, port: number, size: number, v: number): void {
  checkIoPermission(cpu, port, size);
  cpu.io.out(port, size, size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0);
}

function inImm(cpu: Cpu, i: Insn): void {
  const size = ioSize(i);
  cpu.setReg(0, size, portIn(cpu, i.immLo & 0xff, size));
}

function inDx(cpu: Cpu, i: Insn): void {
  const size = ioSize(i);
  cpu.setReg(0, size, portIn(cpu, cpu.r[4]! & 0xffff, size));
}

function outImm(cpu: Cpu, i: Insn): void {
  const size = ioSize(i);
  portOut(cpu, i.immLo & 0xff, size, cpu.r[0]!);
}

function outDx(cpu: Cpu, i: Insn): void {
  const size = ioSize(i);
  portOut(cpu, cpu.r[4]! & 0xffff, size, cpu.r[0]!);
}

// ---------------------------------------------------------------------------
// INS / OUTS
// ---------------------------------------------------------------------------

/** Linear address of seg:[rSI/rDI] at the address size into cpu.eaLo/eaHi. */
function stringAddress(cpu: Cpu, seg: number, n: number, adsize: number, size: number): void {
  const k = n << 1;
  if (adsize === 8) {
    let lo = cpu.r[k]! >>> 0;
    let hi = cpu.r[k + 1]!;
    if (seg >= SEG_FS) {
      lo += cpu.segBaseLo[seg]! >>> 0;
      hi = (hi + cpu.segBaseHi[seg]! + (lo >= TWO32 ? 1 : 0)) | 0;
    }
    cpu.eaLo = lo | 0;
    cpu.eaHi = hi;
    if (((hi << 16) >> 16) !== hi) cpu.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    return;
  }
  cpu.segmentLinear(seg, adsize === 4 ? cpu.r[k]! >>> 0 : cpu.r[k]! & 0xffff, size);
}

/** Steps rSI/rDI by ±size at the address size (a 32-bit update zero-extends). */
function stepIndex(cpu: Cpu, n: number, adsize: number, delta: number): void {
  const k = n << 1;
  if (adsize === 8) {
    const lo = (cpu.r[k]! >>> 0) + delta;
    cpu.r[k] = lo | 0;
    if (lo >= TWO32) cpu.r[k + 1] = (cpu.r[k + 1]! + 1) | 0;
    else if (lo < 0) cpu.r[k + 1] = (cpu.r[k + 1]! - 1) | 0;
  } else if (adsize === 4) {
    cpu.r[k] = (cpu.r[k]! + delta) | 0;
    cpu.r[k + 1] = 0;
  } else {
    cpu.r[k] = (cpu.r[k]! & ~0xffff) | ((cpu.r[k]! + delta) & 0xffff);
  }
}

/** rCX at the address size is zero. */
function countIsZero(cpu: Cpu, adsize: number): boolean {
  if (adsize === 8) return cpu.r[2] === 0 && cpu.r[3] === 0;
  if (adsize === 4) return cpu.r[2] === 0;
  return (cpu.r[2]! & 0xffff) === 0;
}

/** INS: ES:[rDI] ← port DX. The destination is checked writable before the port is read. */
function insOne(cpu: Cpu, i: Insn, size: number, port: number): void {
  stringAddress(cpu, SEG_ES, RDI, i.adsize, size);
  cpu.probeWrite(cpu.eaLo, cpu.eaHi, size);
  const v = portIn(cpu, port, size);
  writeAt(cpu, size, v, 0);
  stepIndex(cpu, RDI, i.adsize, (cpu.flags & DF) !== 0 ? -size : size);
}

/** OUTS: port DX ← seg:[rSI] (DS unless overridden). */
function outsOne(cpu: Cpu, i: Insn, size: number, port: number): void {
  stringAddress(cpu, i.seg, RSI, i.adsize, size);
  const v = readAt(cpu, size);
  portOut(cpu, port, size, v);
  stepIndex(cpu, RSI, i.adsize, (cpu.flags & DF) !== 0 ? -size : size);
}

/**
 * Runs one string I/O element, or with REP up to IO_REP_SLICE elements: rCX
 * and the index register describe the completed elements after every step, and
 * RIP stays at the instruction until rCX reaches zero, so a fault or a slice
 * boundary restarts it correctly.
 */
function stringIo(one: (cpu: Cpu, i: Insn, size: number, port: number) => void) {
  return (cpu: Cpu, i: Insn): void => {
    const size = ioSize(i);
    const port = cpu.r[4]! & 0xffff;
    if (i.rep === 0) {
      one(cpu, i, size, port);
      return;
    }
    const ad = i.adsize;
    for (let n = 0; n < IO_REP_SLICE; n++) {
      if (countIsZero(cpu, ad)) return;
      one(cpu, i, size, port);
      stepIndex(cpu, RCX, ad, -1);
    }
    if (!countIsZero(cpu, ad)) cpu.nextRip = cpu.rip;
  };
}

/** Byte forms whose first operand is DX (the table would size them by DX): the data is one byte. */
function byteData(exec: (cpu: Cpu, i: Insn) => void) {
  return (i: Insn) => {
    i.opsize = 1;
    return exec;
  };
}

const rows: RowSpec[] = [
  { m: "in", op: "E4", args: "AL,Ib", exec: inImm },
  { m: "in", op: "E5", args: "eAX,Ib", exec: inImm },
  { m: "out", op: "E6", args: "Ib,AL", exec: outImm },
  { m: "out", op: "E7", args: "Ib,eAX", exec: outImm },
  { m: "in", op: "EC", args: "AL,DX", exec: inDx },
  { m: "in", op: "ED", args: "eAX,DX", exec: inDx },
  { m: "out", op: "EE", args: "DX,AL", pick: byteData(outDx) },
  { m: "out", op: "EF", args: "DX,eAX", exec: outDx },
  { m: "insb", op: "6C", args: "Yb,DX", exec: stringIo(insOne), rep: "rep" },
  { m: "ins", op: "6D", args: "Yz,DX", exec: stringIo(insOne), rep: "rep", note: "insw/insd" },
  { m: "outsb", op: "6E", args: "DX,Xb", pick: byteData(stringIo(outsOne)), rep: "rep" },
  { m: "outs", op: "6F", args: "DX,Xz", exec: stringIo(outsOne), rep: "rep", note: "outsw/outsd" },
];

defineRows("io", rows);
