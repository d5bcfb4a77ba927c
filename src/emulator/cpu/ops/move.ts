// Data movement: mov (ModRM, immediate, movabs and moffs forms), movzx, movsx,
// movsxd, lea, xchg, cmpxchg, cmpxchg8b/16b, xadd, bswap, movbe, the accumulator
// extensions cbw..cqo, and xlat. Only cmpxchg*, xadd change flags.
import type { Cpu } from "../cpu.js";
import { EXC_GP, EXC_SS } from "../fault.js";
import { updateFlags, ZF } from "../flags.js";
import { REP_NONE, SEG_FS, SEG_SS, type ExecFn, type Insn } from "../insn.js";
import { defineRows, type RowSpec } from "../table.js";
import { alu, alu64, ALU_ADD, ALU_CMP } from "./alu.js";
import {
  imm, readAt, readE, readEForWrite, readG, sizeMask, writeAt, writeBackE, writeE, writeG,
} from "./operands.js";

const TWO32 = 4294967296;

function undefinedOpcode(cpu: Cpu): void {
  cpu.ud();
}

// ---------------------------------------------------------------------------
// mov
// ---------------------------------------------------------------------------

/** E ← G (88, 89, and the moffs stores A2/A3, whose register is always 0 = AL/rAX). */
function movEG(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) writeE(cpu, i, 8, cpu.r[i.reg << 1]!, cpu.r[(i.reg << 1) + 1]!);
  else writeE(cpu, i, size, readG(cpu, i, size));
}

/** G ← E (8A, 8B, and the moffs loads A0/A1). */
function movGE(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const lo = readE(cpu, i, size);
  writeG(cpu, i, size, lo, cpu.rhi);
}

// ---- MOV fast paths for 32/64-bit operands, chosen at decode time: the same
// semantics as movEG/movGE without the operand-kind and size dispatch.

function movStore64(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 8);
  const k = i.reg << 1;
  cpu.write64(cpu.eaLo, cpu.eaHi, cpu.r[k]!, cpu.r[k + 1]!);
}

function movStore32(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 4);
  cpu.write32(cpu.eaLo, cpu.eaHi, cpu.r[i.reg << 1]!);
}

function movLoad64(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 8);
  const lo = cpu.read64(cpu.eaLo, cpu.eaHi);
  const k = i.reg << 1;
  cpu.r[k] = lo;
  cpu.r[k + 1] = cpu.rhi;
}

function movLoad32(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 4);
  const v = cpu.read32(cpu.eaLo, cpu.eaHi);
  const k = i.reg << 1;
  cpu.r[k] = v;
  cpu.r[k + 1] = 0;
}

/** Register-to-register copy from `src` to `dst` (Ev,Gv: rm ← reg; Gv,Ev: reg ← rm). */
function movRR64(cpu: Cpu, dst: number, src: number): void {
  const r = cpu.r;
  r[dst << 1] = r[src << 1]!;
  r[(dst << 1) + 1] = r[(src << 1) + 1]!;
}

function movRR32(cpu: Cpu, dst: number, src: number): void {
  const r = cpu.r;
  r[dst << 1] = r[src << 1]!;
  r[(dst << 1) + 1] = 0;
}

const movEGrr64: ExecFn = (cpu, i) => movRR64(cpu, i.rm, i.reg);
const movEGrr32: ExecFn = (cpu, i) => movRR32(cpu, i.rm, i.reg);
const movGErr64: ExecFn = (cpu, i) => movRR64(cpu, i.reg, i.rm);
const movGErr32: ExecFn = (cpu, i) => movRR32(cpu, i.reg, i.rm);

function pickMovEG(i: Insn): ExecFn {
  if (i.opsize === 8) return i.isMem ? movStore64 : movEGrr64;
  if (i.opsize === 4) return i.isMem ? movStore32 : movEGrr32;
  return movEG;
}

function pickMovGE(i: Insn): ExecFn {
  if (i.opsize === 8) return i.isMem ? movLoad64 : movGErr64;
  if (i.opsize === 4) return i.isMem ? movLoad32 : movGErr32;
  return movGE;
}

/** Register ← immediate (B0+r, B8+r; with REX.W B8+r carries a full imm64). */
function movZI(cpu: Cpu, i: Insn): void {
  cpu.setReg(i.reg, i.opsize, i.immLo, i.immHi);
}

/** E ← immediate (C6 /0, C7 /0; the 64-bit form sign-extends imm32). */
function movEI(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  writeE(cpu, i, size, imm(cpu, i, size), i.immHi);
}

// ---------------------------------------------------------------------------
// movzx, movsx, movsxd
// ---------------------------------------------------------------------------

function extend(srcSize: number, signed: boolean): ExecFn {
  const shift = 32 - srcSize * 8;
  return (cpu: Cpu, i: Insn) => {
    const v = readE(cpu, i, srcSize);
    const lo = signed ? (v << shift) >> shift : srcSize === 4 ? v : v & sizeMask(srcSize);
    writeG(cpu, i, i.opsize, lo, signed ? lo >> 31 : 0);
  };
}

const movzxByte = extend(1, false);
const movzxWord = extend(2, false);
const movsxByte = extend(1, true);
const movsxWord = extend(2, true);
const movsxDword = extend(4, true);

/** MOVSXD without REX.W reads only as many bytes as the operand size and copies them. */
function pickMovsxd(i: Insn): ExecFn {
  return i.opsize === 8 ? movsxDword : movGE;
}

// ---------------------------------------------------------------------------
// lea: the effective address (no segment base, no canonical check, no access)
// ---------------------------------------------------------------------------

function lea(cpu: Cpu, i: Insn): void {
  // The address arithmetic is the CPU's (no segment, no canonical check); the
  // result is then cut to the operand size (32-bit results zero-extend).
  const lo = cpu.effectiveAddress(i);
  cpu.setReg(i.reg, i.opsize, lo, cpu.rhi);
}

// ---------------------------------------------------------------------------
// xchg
// ---------------------------------------------------------------------------

/** xchg E, G. With memory the exchange is atomic (implicitly locked); the write is checked before anything changes. */
function xchgEG(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const k = i.reg << 1;
  if (size === 8) {
    const glo = cpu.r[k]!, ghi = cpu.r[k + 1]!;
    const elo = readEForWrite(cpu, i, 8), ehi = cpu.rhi;
    writeBackE(cpu, i, 8, glo, ghi);
    cpu.setReg(i.reg, 8, elo, ehi);
    return;
  }
  const g = readG(cpu, i, size);
  const e = readEForWrite(cpu, i, size);
  writeBackE(cpu, i, size, g);
  writeG(cpu, i, size, e);
}

/** xchg r, rAX (90+r with a register other than rAX). */
function xchgAccumulator(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const k = i.reg << 1;
  const lo = cpu.r[k]!, hi = cpu.r[k + 1]!;
  cpu.setReg(i.reg, size, cpu.r[0]!, cpu.r[1]!);
  cpu.setReg(0, size, lo, hi);
}

/**
 * 90 without REX.B is the architectural NOP, not "xchg eax, eax": it does not
 * zero-extend RAX (87 C0 does). The same holds for 66 90 and REX.W 90.
 */
function nop(): void {}

function pickXchgAccumulator(i: Insn): ExecFn {
  return i.reg === 0 ? nop : xchgAccumulator;
}

/** The handler for 90+r with REX.B (r8..r15), for the pause row (F3 REX.B 90 is xchg, not pause). */
export const xchgWithAccumulator: ExecFn = xchgAccumulator;

// ---------------------------------------------------------------------------
// cmpxchg, xadd
// ---------------------------------------------------------------------------

/**
 * cmpxchg E, G: compare the accumulator with E (flags as CMP acc, E). Equal: E ← G.
 * Not equal: acc ← E; a memory destination is written back unchanged (the
 * access is a locked read-modify-write either way), a register destination is
 * left untouched (so a 32-bit one is not zero-extended, as on AMD).
 */
function cmpxchg(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) {
    const dlo = readEForWrite(cpu, i, 8), dhi = cpu.rhi;
    const alo = cpu.r[0]!, ahi = cpu.r[1]!;
    alu64(cpu, ALU_CMP, alo, ahi, dlo, dhi);
    if (alo === dlo && ahi === dhi) {
      writeBackE(cpu, i, 8, cpu.r[i.reg << 1]!, cpu.r[(i.reg << 1) + 1]!);
    } else {
      if (i.isMem) writeAt(cpu, 8, dlo, dhi);
      cpu.r[0] = dlo;
      cpu.r[1] = dhi;
    }
    return;
  }
  const d = readEForWrite(cpu, i, size);
  const a = cpu.getReg(0, size);
  alu(cpu, ALU_CMP, size, a, d);
  if (a === d) {
    writeBackE(cpu, i, size, readG(cpu, i, size));
  } else {
    if (i.isMem) writeAt(cpu, size, d, 0);
    cpu.setReg(0, size, d);
  }
}

/** xadd E, G: G ← E, E ← E + G (E written last, so "xadd eax, eax" leaves the sum). */
function xadd(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) {
    const glo = cpu.r[i.reg << 1]!, ghi = cpu.r[(i.reg << 1) + 1]!;
    const elo = readEForWrite(cpu, i, 8), ehi = cpu.rhi;
    const slo = alu64(cpu, ALU_ADD, elo, ehi, glo, ghi), shi = cpu.rhi;
    cpu.setReg(i.reg, 8, elo, ehi);
    writeBackE(cpu, i, 8, slo, shi);
    return;
  }
  const g = readG(cpu, i, size);
  const e = readEForWrite(cpu, i, size);
  const s = alu(cpu, ALU_ADD, size, e, g);
  writeG(cpu, i, size, e);
  writeBackE(cpu, i, size, s);
}

/**
 * cmpxchg8b m64: EDX:EAX = m64 ? (ZF=1, m64 ← ECX:EBX) : (ZF=0, EDX:EAX ← m64,
 * each zero-extended). The memory is written in both cases; only ZF changes.
 */
function cmpxchg8b(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 8);
  cpu.probeWrite(cpu.eaLo, cpu.eaHi, 8);
  const lo = cpu.read64(cpu.eaLo, cpu.eaHi), hi = cpu.rhi;
  const r = cpu.r;
  if (lo === r[0] && hi === r[4]) {
    cpu.write64(cpu.eaLo, cpu.eaHi, r[6]!, r[2]!); // ECX:EBX
    updateFlags(cpu, ZF, ZF);
  } else {
    cpu.write64(cpu.eaLo, cpu.eaHi, lo, hi);
    cpu.setReg(0, 4, lo);
    cpu.setReg(2, 4, hi);
    updateFlags(cpu, ZF, 0);
  }
}

/** cmpxchg16b m128 (REX.W): as cmpxchg8b with RDX:RAX and RCX:RBX; the operand must be 16-byte aligned. */
function cmpxchg16b(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 16);
  const lo = cpu.eaLo, hi = cpu.eaHi;
  if ((lo & 15) !== 0) cpu.gp(0);
  cpu.probeWrite(lo, hi, 16);
  const a0 = cpu.read64(lo, hi), a1 = cpu.rhi;
  const hiLo = (lo + 8) | 0; // aligned: never crosses the 2^32 boundary
  const b0 = cpu.read64(hiLo, hi), b1 = cpu.rhi;
  const r = cpu.r;
  if (a0 === r[0] && a1 === r[1] && b0 === r[4] && b1 === r[5]) {
    cpu.write64(lo, hi, r[6]!, r[7]!); // RBX
    cpu.write64(hiLo, hi, r[2]!, r[3]!); // RCX
    updateFlags(cpu, ZF, ZF);
  } else {
    cpu.write64(lo, hi, a0, a1);
    cpu.write64(hiLo, hi, b0, b1);
    r[0] = a0; r[1] = a1;
    r[4] = b0; r[5] = b1;
    updateFlags(cpu, ZF, 0);
  }
}

// ---------------------------------------------------------------------------
// bswap, movbe
// ---------------------------------------------------------------------------

function swap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** bswap r32/r64. With a 16-bit operand size the result is undefined; hardware clears the word, and so do we. */
function bswap(cpu: Cpu, i: Insn): void {
  const k = i.reg << 1;
  const size = i.opsize;
  if (size === 8) {
    const lo = cpu.r[k]!, hi = cpu.r[k + 1]!;
    cpu.r[k] = swap32(hi);
    cpu.r[k + 1] = swap32(lo);
  } else if (size === 4) {
    cpu.setReg(i.reg, 4, swap32(cpu.r[k]!));
  } else {
    cpu.setReg(i.reg, 2, 0);
  }
}

/** movbe G, M: a load with the byte order reversed. */
function movbeLoad(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const v = readE(cpu, i, size);
  if (size === 8) cpu.setReg(i.reg, 8, swap32(cpu.rhi), swap32(v));
  else cpu.setReg(i.reg, size, size === 4 ? swap32(v) : swap16(v));
}

/** movbe M, G: a store with the byte order reversed. */
function movbeStore(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const k = i.reg << 1;
  if (size === 8) writeE(cpu, i, 8, swap32(cpu.r[k + 1]!), swap32(cpu.r[k]!));
  else writeE(cpu, i, size, size === 4 ? swap32(cpu.r[k]!) : swap16(cpu.r[k]!));
}

/** F2 0F 38 F0/F1 is CRC32 (its own row when present); F3 is undefined: movbe takes neither. */
function pickMovbe(exec: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => (i.rep !== REP_NONE ? undefinedOpcode : exec);
}

// ---------------------------------------------------------------------------
// cbw/cwde/cdqe, cwd/cdq/cqo
// ---------------------------------------------------------------------------

/** 98: the accumulator's low half sign-extended into the whole accumulator. */
function cbw(cpu: Cpu, i: Insn): void {
  const r = cpu.r;
  switch (i.opsize) {
    case 2: cpu.setReg(0, 2, (r[0]! << 24) >> 24); return;
    case 4: cpu.setReg(0, 4, (r[0]! << 16) >> 16); return;
    default: r[1] = r[0]! >> 31; return;
  }
}

/** 99: rDX ← the sign of rAX, replicated. */
function cwd(cpu: Cpu, i: Insn): void {
  const r = cpu.r;
  switch (i.opsize) {
    case 2: cpu.setReg(2, 2, (r[0]! << 16) >> 31); return;
    case 4: cpu.setReg(2, 4, r[0]! >> 31); return;
    default: { const s = r[1]! >> 31; r[4] = s; r[5] = s; return; }
  }
}

// ---------------------------------------------------------------------------
// xlat
// ---------------------------------------------------------------------------

/** AL ← [seg:rBX + AL] (AL zero-extended; the sum wraps at the address size). */
function xlat(cpu: Cpu, i: Insn): void {
  const r = cpu.r;
  const al = r[0]! & 0xff;
  if (i.adsize === 8) {
    let lo = (r[6]! >>> 0) + al;
    let hi = r[7]!;
    if (i.seg >= SEG_FS) {
      lo += cpu.segBaseLo[i.seg]! >>> 0;
      hi += cpu.segBaseHi[i.seg]!;
    }
    hi = (hi + Math.floor(lo / TWO32)) | 0;
    if (((hi << 16) >> 16) !== hi) cpu.fault(i.seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    cpu.eaLo = lo | 0;
    cpu.eaHi = hi;
  } else {
    const off = r[6]! + al;
    cpu.segmentLinear(i.seg, i.adsize === 4 ? off >>> 0 : off & 0xffff, 1);
  }
  cpu.setR8(0, readAt(cpu, 1));
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

const rows: RowSpec[] = [
  { m: "mov", op: "88 /r", args: "Eb,Gb", exec: movEG },
  { m: "mov", op: "89 /r", args: "Ev,Gv", pick: pickMovEG },
  { m: "mov", op: "8A /r", args: "Gb,Eb", exec: movGE },
  { m: "mov", op: "8B /r", args: "Gv,Ev", pick: pickMovGE },
  { m: "mov", op: "A0", args: "AL,Ob", exec: movGE },
  { m: "mov", op: "A1", args: "rAX,Ov", exec: movGE },
  { m: "mov", op: "A2", args: "Ob,AL", exec: movEG },
  { m: "mov", op: "A3", args: "Ov,rAX", exec: movEG },
  { m: "mov", op: "B0+r", args: "Zb,Ib", exec: movZI },
  { m: "mov", op: "B8+r", args: "Zv,Iv", exec: movZI },
  { m: "mov", op: "C6 /0", args: "Eb,Ib", exec: movEI },
  { m: "mov", op: "C7 /0", args: "Ev,Iz", exec: movEI },

  { m: "movzx", op: "0F B6 /r", args: "Gv,Eb", exec: movzxByte },
  { m: "movzx", op: "0F B7 /r", args: "Gv,Ew", exec: movzxWord },
  { m: "movsx", op: "0F BE /r", args: "Gv,Eb", exec: movsxByte },
  { m: "movsx", op: "0F BF /r", args: "Gv,Ew", exec: movsxWord },
  // In 32-bit mode 63 is ARPL (system.ts).
  { m: "movsxd", op: "63 /r", args: "Gv,Ed", pick: pickMovsxd, mode64: "o64" },

  // LEA with a register operand has no row: the decoder raises #UD.
  { m: "lea", op: "8D /r mem", args: "Gv,Mx", exec: lea },

  { m: "xchg", op: "86 /r", args: "Eb,Gb", exec: xchgEG, lock: true },
  { m: "xchg", op: "87 /r", args: "Ev,Gv", exec: xchgEG, lock: true },
  { m: "xchg", op: "90+r", args: "Zv,rAX", pick: pickXchgAccumulator, note: "90 (no REX.B) is nop" },

  { m: "cmpxchg", op: "0F B0 /r", args: "Eb,Gb", exec: cmpxchg, lock: true, flags: "w:oszapc" },
  { m: "cmpxchg", op: "0F B1 /r", args: "Ev,Gv", exec: cmpxchg, lock: true, flags: "w:oszapc" },
  { m: "cmpxchg8b", op: "W0 0F C7 /1 mem", args: "Mq", exec: cmpxchg8b, lock: true, feature: "cx8", flags: "w:z" },
  { m: "cmpxchg16b", op: "REX.W 0F C7 /1 mem", args: "Mdq", exec: cmpxchg16b, lock: true, feature: "cx16", flags: "w:z" },
  { m: "xadd", op: "0F C0 /r", args: "Eb,Gb", exec: xadd, lock: true, flags: "w:oszapc" },
  { m: "xadd", op: "0F C1 /r", args: "Ev,Gv", exec: xadd, lock: true, flags: "w:oszapc" },

  { m: "bswap", op: "0F C8+r", args: "Zv", exec: bswap },
  // MOVNTI: a store with a non-temporal hint; without caches it is a plain store.
  { m: "movnti", op: "0F C3 /r mem", args: "My,Gy", exec: movEG, feature: "sse2" },
  { m: "movbe", op: "0F 38 F0 /r mem", args: "Gv,Mv", pick: pickMovbe(movbeLoad), feature: "movbe" },
  { m: "movbe", op: "0F 38 F1 /r mem", args: "Mv,Gv", pick: pickMovbe(movbeStore), feature: "movbe" },

  { m: "cbw", op: "98", args: "", exec: cbw, note: "cwde with 32-bit, cdqe with 64-bit operand size" },
  { m: "cwd", op: "99", args: "", exec: cwd, note: "cdq with 32-bit, cqo with 64-bit operand size" },
  { m: "xlat", op: "D7", args: "", exec: xlat },
];
defineRows("move", rows);
