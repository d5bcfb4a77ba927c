// Single-bit and bit-scan instructions: bt bts btr btc (register or imm8 bit
// offset; with a register offset a memory operand is a bit string reaching outside
// the addressed word), bsf bsr, and the F3-prefixed tzcnt lzcnt popcnt. BSWAP is in move.ts.
import type { Cpu } from "../cpu.js";
import { EXC_GP, EXC_SS } from "../fault.js";
import { CF, setArithFlags, updateFlags, ZF } from "../flags.js";
import { NO_REG, SEG_SS, type ExecFn, type Insn } from "../insn.js";
import { defineRows } from "../table.js";
import { readAt, readE, writeAt } from "./operands.js";

/** What BTx does to the selected bit after copying it to CF. */
const BIT_TEST = 0;
const BIT_SET = 1;
const BIT_RESET = 2;
const BIT_COMPLEMENT = 3;

/**
 * Linear address of the word holding the bit selected by a register bit offset:
 * the operand's effective address plus the signed byte displacement (dlo, dhi),
 * computed at the address size (a 32/16-bit offset wraps before the segment base is
 * added). Leaves the address in cpu.eaLo/eaHi like cpu.ea().
 */
function bitStringAddress(cpu: Cpu, i: Insn, size: number, dlo: number, dhi: number): void {
  if (i.adsize === 8) {
    cpu.ea(i, size);
    const lo = (cpu.eaLo >>> 0) + (dlo >>> 0);
    const hi = (cpu.eaHi + dhi + (lo > 0xffffffff ? 1 : 0)) | 0;
    cpu.eaLo = lo | 0;
    cpu.eaHi = hi;
    if (((hi << 16) >> 16) !== hi) cpu.fault(i.seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    return;
  }
  // The same offset arithmetic as cpu.ea() for 32/16-bit addressing, plus the displacement.
  const r = cpu.r;
  let off = i.dispLo + dlo;
  if (i.base !== NO_REG) off += r[i.base << 1]!;
  else if (i.ripRel) off += cpu.nextRip;
  if (i.index !== NO_REG) off += r[i.index << 1]! << i.scale;
  off = i.adsize === 2 ? off & 0xffff : off >>> 0;
  cpu.segmentLinear(i.seg, off, size);
}

/**
 * BT/BTS/BTR/BTC. CF receives the selected bit; OF SF AF PF are undefined and,
 * like ZF, left unchanged. BT never writes its destination (no zero-extension).
 */
function bitExec(kind: number, immediateOffset: boolean): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    const n = (immediateOffset ? i.immLo : cpu.r[i.reg << 1]!) & (size * 8 - 1);
    let lo: number, hi = 0;
    if (!i.isMem) {
      lo = cpu.getReg(i.rm, size);
      if (size === 8) hi = cpu.rhi;
    } else {
      if (immediateOffset) {
        cpu.ea(i, size);
      } else if (size === 8) {
        // Byte displacement = (offset >> 6) * 8 = (offset >> 3) & ~7, offset signed 64-bit.
        const olo = cpu.r[i.reg << 1]!, ohi = cpu.r[(i.reg << 1) + 1]!;
        bitStringAddress(cpu, i, 8, ((olo >>> 3) | (ohi << 29)) & ~7, ohi >> 3);
      } else {
        const off = size === 2 ? (cpu.r[i.reg << 1]! << 16) >> 16 : cpu.r[i.reg << 1]!;
        const d = (off >> 3) & ~(size - 1);
        bitStringAddress(cpu, i, size, d, d >> 31);
      }
      if (kind !== BIT_TEST) cpu.probeWrite(cpu.eaLo, cpu.eaHi, size);
      lo = readAt(cpu, size);
      if (size === 8) hi = cpu.rhi;
    }
    const inHigh = n >= 32;
    const m = 1 << (n & 31);
    const old = ((inHigh ? hi : lo) & m) !== 0 ? 1 : 0;
    updateFlags(cpu, CF, old);
    if (kind === BIT_TEST) return;
    let word = inHigh ? hi : lo;
    word = kind === BIT_SET ? word | m : kind === BIT_RESET ? word & ~m : word ^ m;
    if (inHigh) hi = word; else lo = word;
    if (i.isMem) writeAt(cpu, size, lo, hi);
    else cpu.setReg(i.rm, size, lo, hi);
  };
}

// ---- Scans and counts (source r/m, destination G) -----------------------------------

/** Trailing zeros of a non-zero 32-bit value. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Reads the source as (lo, hi) with hi = 0 below 64 bits; returns lo, hi in cpu.rhi. */
function readSource(cpu: Cpu, i: Insn, size: number): number {
  const lo = readE(cpu, i, size);
  if (size !== 8) cpu.rhi = 0;
  return lo;
}

/** BSF/BSR: a zero source sets ZF and leaves the destination unchanged (AMD; Intel: undefined). */
function bsf(cpu: Cpu, i: Insn): void {
  const lo = readSource(cpu, i, i.opsize), hi = cpu.rhi;
  if ((lo | hi) === 0) { updateFlags(cpu, ZF, ZF); return; }
  cpu.setReg(i.reg, i.opsize, lo !== 0 ? ctz32(lo) : 32 + ctz32(hi), 0);
  updateFlags(cpu, ZF, 0);
}

function bsr(cpu: Cpu, i: Insn): void {
  const lo = readSource(cpu, i, i.opsize), hi = cpu.rhi;
  if ((lo | hi) === 0) { updateFlags(cpu, ZF, ZF); return; }
  cpu.setReg(i.reg, i.opsize, hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo), 0);
  updateFlags(cpu, ZF, 0);
}

/** TZCNT/LZCNT: CF = source was zero (count = operand width), ZF = count is zero. */
function tzcnt(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const lo = readSource(cpu, i, size), hi = cpu.rhi;
  const count = lo !== 0 ? ctz32(lo) : hi !== 0 ? 32 + ctz32(hi) : size * 8;
  cpu.setReg(i.reg, size, count, 0);
  updateFlags(cpu, CF | ZF, (count === size * 8 ? CF : 0) | (count === 0 ? ZF : 0));
}

function lzcnt(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const lo = readSource(cpu, i, size), hi = cpu.rhi;
  // Below 64 bits the value sits in the low bits of lo: discount the unused high bits.
  const count = size === 8 ? (hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo)) : Math.clz32(lo) - (32 - size * 8);
  cpu.setReg(i.reg, size, count, 0);
  updateFlags(cpu, CF | ZF, (count === size * 8 ? CF : 0) | (count === 0 ? ZF : 0));
}

/** POPCNT clears OF SF AF CF PF and sets ZF for a zero source. */
function popcnt(cpu: Cpu, i: Insn): void {
  const lo = readSource(cpu, i, i.opsize), hi = cpu.rhi;
  cpu.setReg(i.reg, i.opsize, popcount32(lo) + popcount32(hi), 0);
  setArithFlags(cpu, (lo | hi) === 0 ? ZF : 0);
}

const BT_FLAGS = "w:c u:ospa";
defineRows("bits", [
  { m: "bt", op: "0F A3 /r", args: "Ev,Gv", exec: bitExec(BIT_TEST, false), flags: BT_FLAGS },
  { m: "bts", op: "0F AB /r", args: "Ev,Gv", exec: bitExec(BIT_SET, false), lock: true, flags: BT_FLAGS },
  { m: "btr", op: "0F B3 /r", args: "Ev,Gv", exec: bitExec(BIT_RESET, false), lock: true, flags: BT_FLAGS },
  { m: "btc", op: "0F BB /r", args: "Ev,Gv", exec: bitExec(BIT_COMPLEMENT, false), lock: true, flags: BT_FLAGS },
  { m: "bt", op: "0F BA /4", args: "Ev,Ib", exec: bitExec(BIT_TEST, true), flags: BT_FLAGS },
  { m: "bts", op: "0F BA /5", args: "Ev,Ib", exec: bitExec(BIT_SET, true), lock: true, flags: BT_FLAGS },
  { m: "btr", op: "0F BA /6", args: "Ev,Ib", exec: bitExec(BIT_RESET, true), lock: true, flags: BT_FLAGS },
  { m: "btc", op: "0F BA /7", args: "Ev,Ib", exec: bitExec(BIT_COMPLEMENT, true), lock: true, flags: BT_FLAGS },
  { m: "bsf", op: "0F BC /r", args: "Gv,Ev", exec: bsf, flags: "w:z u:ocspa" },
  { m: "bsr", op: "0F BD /r", args: "Gv,Ev", exec: bsr, flags: "w:z u:ocspa" },
  { m: "tzcnt", op: "F3 0F BC /r", args: "Gv,Ev", exec: tzcnt, feature: "bmi1", flags: "w:zc u:ospa" },
  { m: "lzcnt", op: "F3 0F BD /r", args: "Gv,Ev", exec: lzcnt, feature: "abm", flags: "w:zc u:ospa" },
  { m: "popcnt", op: "F3 0F B8 /r", args: "Gv,Ev", exec: popcnt, feature: "popcnt", flags: "w:oszapc" },
]);
