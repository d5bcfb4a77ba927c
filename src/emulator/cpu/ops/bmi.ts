// BMI1/BMI2 general-register instructions (VEX-encoded, 32/64-bit by VEX.W):
// andn bextr blsi blsmsk blsr bzhi pdep pext rorx sarx shlx shrx mulx.
// "B" operands are the register in VEX.vvvv (insn.vvvv); see table.ts for the row format.
import type { Cpu } from "../cpu.js";
import { CF, setArithFlags, SF, ZF } from "../flags.js";
import type { ExecFn, Insn } from "../insn.js";
import { mulU32, mulU64, shl64, shr64, sar64, wide } from "../int64.js";
import { defineRows } from "../table.js";
import { popcount32 } from "./bits.js";
import { readE } from "./operands.js";

/** Register-file slot of RDX (MULX's implicit multiplicand). */
const RDX = 4;

/** ZF and SF of a result (lo, hi); hi is the sign word (lo itself for 32-bit results). */
function zs(lo: number, hi: number): number {
  return ((lo | hi) === 0 ? ZF : 0) | (hi < 0 ? SF : 0);
}

/** Reads the VEX.vvvv register; 64-bit reads leave the high half in cpu.rhi. */
function readB(cpu: Cpu, i: Insn, size: number): number {
  return cpu.getReg(i.vvvv, size);
}

/** Reads the r/m source as (lo, hi), hi = 0 for 32-bit operands; returns lo, hi in cpu.rhi. */
function readSrc(cpu: Cpu, i: Insn, size: number): number {
  const lo = readE(cpu, i, size);
  if (size === 4) cpu.rhi = 0;
  return lo;
}

// ---- BMI1 ---------------------------------------------------------------------------

/** ANDN: G = ~B & E. SF ZF from the result, CF = OF = 0, AF PF undefined (cleared). */
function andn(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const blo = readB(cpu, i, size), bhi = size === 8 ? cpu.rhi : 0;
  const slo = readSrc(cpu, i, size), shi = cpu.rhi;
  const lo = ~blo & slo, hi = ~bhi & shi;
  cpu.setReg(i.reg, size, lo, hi);
  setArithFlags(cpu, zs(lo, size === 8 ? hi : lo));
}

/** BEXTR: G = bit field of E starting at B[7:0], B[15:8] bits long. ZF; CF = OF = 0. */
function bextr(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const ctl = readB(cpu, i, size);
  const slo = readSrc(cpu, i, size), shi = cpu.rhi;
  const start = ctl & 0xff;
  const len = (ctl >> 8) & 0xff;
  let lo = shr64(slo, shi, start), hi = wide.hi;
  if (len < 32) { lo &= (1 << len) - 1; hi = 0; } // 1 << 0 - 1 = 0: an empty field
  else if (len < 64) hi &= len === 32 ? 0 : (1 << (len - 32)) - 1;
  cpu.setReg(i.reg, size, lo, hi);
  setArithFlags(cpu, (lo | hi) === 0 ? ZF : 0);
}

/** The BLS* group: B = f(E). CF as the SDM defines per instruction, SF ZF from the result, OF = 0. */
const BLSI = 0;
const BLSMSK = 1;
const BLSR = 2;
function blsExec(kind: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    const slo = readSrc(cpu, i, size), shi = cpu.rhi;
    // src - 1 and -src over 64 bits (for 32-bit operands hi is 0 and ignored).
    const mlo = (slo - 1) | 0, mhi = (shi - (slo === 0 ? 1 : 0)) | 0;
    const zero = (slo | shi) === 0;
    let lo: number, hi: number, cf: number;
    if (kind === BLSI) {
      const nlo = -slo | 0, nhi = (~shi + (slo === 0 ? 1 : 0)) | 0;
      lo = nlo & slo; hi = nhi & shi; cf = zero ? 0 : CF;
    } else if (kind === BLSMSK) {
      lo = mlo ^ slo; hi = mhi ^ shi; cf = zero ? CF : 0;
    } else {
      lo = mlo & slo; hi = mhi & shi; cf = zero ? CF : 0;
    }
    cpu.setReg(i.vvvv, size, lo, hi);
    setArithFlags(cpu, cf | zs(lo, size === 8 ? hi : lo));
  };
}

// ---- BMI2 ---------------------------------------------------------------------------

/** BZHI: G = E with bits from index B[7:0] up cleared; CF = index beyond the operand. */
function bzhi(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const n = readB(cpu, i, size) & 0xff;
  let lo = readSrc(cpu, i, size), hi = cpu.rhi;
  const width = size * 8;
  if (n < 32) { lo &= (1 << n) - 1; hi = 0; }
  else if (n < 64) hi &= n === 32 ? 0 : (1 << (n - 32)) - 1;
  cpu.setReg(i.reg, size, lo, hi);
  setArithFlags(cpu, (n >= width ? CF : 0) | zs(lo, size === 8 ? hi : lo));
}

/** Deposits the low bits of src at the set bits of mask (32 bits). */
function pdep32(src: number, mask: number): number {
  let r = 0;
  while (mask !== 0) {
    const low = mask & -mask;
    if (src & 1) r |= low;
    src >>>= 1;
    mask ^= low;
  }
  return r;
}

/** Gathers the bits of src at the set bits of mask into the low bits (32 bits). */
function pext32(src: number, mask: number): number {
  let r = 0;
  let k = 0;
  while (mask !== 0) {
    const low = mask & -mask;
    if (src & low) r |= 1 << k;
    k++;
    mask ^= low;
  }
  return r;
}

/** PDEP: G = B deposited under mask E. No flags. */
function pdep(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const slo = readB(cpu, i, size), shi = size === 8 ? cpu.rhi : 0;
  const mlo = readSrc(cpu, i, size), mhi = cpu.rhi;
  const lo = pdep32(slo, mlo);
  // The high mask half takes the source bits after those the low half consumed.
  const hi = mhi === 0 ? 0 : pdep32(shr64(slo, shi, popcount32(mlo)), mhi);
  cpu.setReg(i.reg, size, lo, hi);
}

/** PEXT: G = bits of B selected by mask E, packed low. No flags. */
function pext(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const slo = readB(cpu, i, size), shi = size === 8 ? cpu.rhi : 0;
  const mlo = readSrc(cpu, i, size), mhi = cpu.rhi;
  let lo = pext32(slo, mlo), hi = 0;
  if (mhi !== 0) {
    const k = popcount32(mlo);
    lo |= shl64(pext32(shi, mhi), 0, k);
    hi = wide.hi;
  }
  cpu.setReg(i.reg, size, lo, hi);
}

/** RORX: G = E rotated right by imm8 (mod the width). No flags. */
function rorx(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const slo = readSrc(cpu, i, size), shi = cpu.rhi;
  if (size === 4) {
    const c = i.immLo & 31;
    cpu.setReg(i.reg, 4, c === 0 ? slo : (slo >>> c) | (slo << (32 - c)));
    return;
  }
  const c = i.immLo & 63;
  let lo = shr64(slo, shi, c), hi = wide.hi;
  lo |= shl64(slo, shi, 64 - c); hi |= wide.hi;
  cpu.setReg(i.reg, 8, lo, hi);
}

/** SARX/SHLX/SHRX: G = E shifted by B (mod the width). No flags. */
const SHIFT_SAR = 0;
const SHIFT_SHL = 1;
const SHIFT_SHR = 2;
function shiftxExec(kind: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    const count = readB(cpu, i, size) & (size * 8 - 1);
    const slo = readE(cpu, i, size);
    if (size === 4) {
      cpu.setReg(i.reg, 4, kind === SHIFT_SAR ? slo >> count : kind === SHIFT_SHL ? slo << count : slo >>> count);
      return;
    }
    const shi = cpu.rhi;
    const lo = kind === SHIFT_SAR ? sar64(slo, shi, count) : kind === SHIFT_SHL ? shl64(slo, shi, count) : shr64(slo, shi, count);
    cpu.setReg(i.reg, 8, lo, wide.hi);
  };
}

/**
 * MULX: G:B = rDX * E, unsigned, flags untouched. The low half is written first,
 * so when G and B name the same register it ends up holding the high half.
 */
function mulx(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const slo = readE(cpu, i, size), shi = cpu.rhi;
  if (size === 4) {
    const lo = mulU32(cpu.r[RDX]!, slo);
    const hi = wide.hi;
    cpu.setReg(i.vvvv, 4, lo);
    cpu.setReg(i.reg, 4, hi);
    return;
  }
  mulU64(cpu.r[RDX]!, cpu.r[RDX + 1]!, slo, shi);
  cpu.setReg(i.vvvv, 8, wide.w0, wide.w1);
  cpu.setReg(i.reg, 8, wide.w2, wide.w3);
}

const ZSC_FLAGS = "w:szoc u:ap";
defineRows("bmi", [
  { m: "andn", op: "VEX.LZ.0F38 F2 /r", args: "Gy,By,Ey", exec: andn, feature: "bmi1", flags: ZSC_FLAGS },
  { m: "bextr", op: "VEX.LZ.0F38 F7 /r", args: "Gy,Ey,By", exec: bextr, feature: "bmi1", flags: "w:zoc u:sap" },
  { m: "blsr", op: "VEX.LZ.0F38 F3 /1", args: "By,Ey", exec: blsExec(BLSR), feature: "bmi1", flags: ZSC_FLAGS },
  { m: "blsmsk", op: "VEX.LZ.0F38 F3 /2", args: "By,Ey", exec: blsExec(BLSMSK), feature: "bmi1", flags: ZSC_FLAGS },
  { m: "blsi", op: "VEX.LZ.0F38 F3 /3", args: "By,Ey", exec: blsExec(BLSI), feature: "bmi1", flags: ZSC_FLAGS },
  { m: "bzhi", op: "VEX.LZ.0F38 F5 /r", args: "Gy,Ey,By", exec: bzhi, feature: "bmi2", flags: ZSC_FLAGS },
  { m: "pdep", op: "VEX.LZ.F2.0F38 F5 /r", args: "Gy,By,Ey", exec: pdep, feature: "bmi2" },
  { m: "pext", op: "VEX.LZ.F3.0F38 F5 /r", args: "Gy,By,Ey", exec: pext, feature: "bmi2" },
  { m: "mulx", op: "VEX.LZ.F2.0F38 F6 /r", args: "Gy,By,Ey", exec: mulx, feature: "bmi2" },
  { m: "rorx", op: "VEX.LZ.F2.0F3A F0 /r", args: "Gy,Ey,Ib", exec: rorx, feature: "bmi2" },
  { m: "sarx", op: "VEX.LZ.F3.0F38 F7 /r", args: "Gy,Ey,By", exec: shiftxExec(SHIFT_SAR), feature: "bmi2" },
  { m: "shlx", op: "VEX.LZ.66.0F38 F7 /r", args: "Gy,Ey,By", exec: shiftxExec(SHIFT_SHL), feature: "bmi2" },
  { m: "shrx", op: "VEX.LZ.F2.0F38 F7 /r", args: "Gy,Ey,By", exec: shiftxExec(SHIFT_SHR), feature: "bmi2" },
]);
