// Integer multiply and divide: mul, imul (one-, two- and three-operand forms),
// div, idiv at 8/16/32/64 bits. Divide faults (#DE) are raised before any register
// changes. 64-bit products and quotients come from int64.ts (no BigInt).
import type { Cpu } from "../cpu.js";
import { EXC_DE } from "../fault.js";
import { CF, FOP_IMUL64, OF, PARITY, setArithFlags, setLazy64, SF, ZF } from "../flags.js";
import type { ExecFn, Insn } from "../insn.js";
import { divS128, divU128, mulS32, mulS64, mulU32, mulU64, wide } from "../int64.js";
import { defineRows } from "../table.js";
import { readE } from "./operands.js";

// Register-file slots of the implicit operands (r[2n] = low half, r[2n+1] = high half).
const RAX = 0;
const RDX = 4;

/**
 * MUL/IMUL flags: CF = OF = "the result did not fit the low half". SF, ZF, AF and
 * PF are architecturally undefined; they are derived from the low half (what
 * Intel's recent cores do) so that the value is at least deterministic.
 */
function mulFlags(cpu: Cpu, overflow: boolean, low: number, signBit: number): void {
  let f = overflow ? CF | OF : 0;
  if (low === 0) f |= ZF;
  if (signBit !== 0) f |= SF;
  f |= PARITY[low & 0xff]! << 2;
  setArithFlags(cpu, f);
}

// ---- One-operand MUL / IMUL: rDX:rAX (AX for bytes) = rAX * r/m -------------------

function mul8(cpu: Cpu, i: Insn): void {
  const p = (cpu.r[RAX]! & 0xff) * readE(cpu, i, 1);
  cpu.setReg(0, 2, p);
  mulFlags(cpu, p > 0xff, p & 0xff, p & 0x80);
}

function imul8(cpu: Cpu, i: Insn): void {
  const p = ((cpu.r[RAX]! << 24) >> 24) * ((readE(cpu, i, 1) << 24) >> 24);
  cpu.setReg(0, 2, p);
  mulFlags(cpu, p !== (p << 24) >> 24, p & 0xff, p & 0x80);
}

function mul16(cpu: Cpu, i: Insn): void {
  const p = (cpu.r[RAX]! & 0xffff) * readE(cpu, i, 2); // < 2^32, exact
  cpu.setReg(0, 2, p);
  cpu.setReg(2, 2, p >>> 16);
  mulFlags(cpu, p > 0xffff, p & 0xffff, p & 0x8000);
}

function imul16(cpu: Cpu, i: Insn): void {
  const p = ((cpu.r[RAX]! << 16) >> 16) * ((readE(cpu, i, 2) << 16) >> 16);
  cpu.setReg(0, 2, p);
  cpu.setReg(2, 2, p >> 16);
  mulFlags(cpu, p !== (p << 16) >> 16, p & 0xffff, p & 0x8000);
}

function mul32(cpu: Cpu, i: Insn): void {
  const lo = mulU32(cpu.r[RAX]!, readE(cpu, i, 4));
  const hi = wide.hi;
  cpu.setReg(0, 4, lo);
  cpu.setReg(2, 4, hi);
  mulFlags(cpu, hi !== 0, lo, lo >>> 31);
}

function imul32(cpu: Cpu, i: Insn): void {
  const lo = mulS32(cpu.r[RAX]!, readE(cpu, i, 4));
  const hi = wide.hi;
  cpu.setReg(0, 4, lo);
  cpu.setReg(2, 4, hi);
  mulFlags(cpu, hi !== lo >> 31, lo, lo >>> 31);
}

function mul64(cpu: Cpu, i: Insn): void {
  const blo = readE(cpu, i, 8), bhi = cpu.rhi;
  mulU64(cpu.r[RAX]!, cpu.r[RAX + 1]!, blo, bhi);
  writeWideProduct(cpu);
  mulFlags(cpu, (wide.w2 | wide.w3) !== 0, wide.w0 | wide.w1, wide.w1 >>> 31);
}

function imul64(cpu: Cpu, i: Insn): void {
  const blo = readE(cpu, i, 8), bhi = cpu.rhi;
  mulS64(cpu.r[RAX]!, cpu.r[RAX + 1]!, blo, bhi);
  writeWideProduct(cpu);
  const sign = wide.w1 >> 31;
  mulFlags(cpu, wide.w2 !== sign || wide.w3 !== sign, wide.w0 | wide.w1, wide.w1 >>> 31);
}

function writeWideProduct(cpu: Cpu): void {
  cpu.r[RAX] = wide.w0;
  cpu.r[RAX + 1] = wide.w1;
  cpu.r[RDX] = wide.w2;
  cpu.r[RDX + 1] = wide.w3;
}

// ---- Two- and three-operand IMUL: G = (G or r/m) * (r/m or immediate), truncated ---

/** The multiplier of an IMUL form: G for 0F AF, the sign-extended immediate for 69/6B. */
type Multiplier = (cpu: Cpu, i: Insn) => number;
const fromReg: Multiplier = (cpu, i) => { cpu.rhi = cpu.r[(i.reg << 1) + 1]!; return cpu.r[i.reg << 1]!; };
const fromImm: Multiplier = (cpu, i) => { cpu.rhi = i.immHi; return i.immLo; };

function imulTruncating(multiplier: Multiplier): [ExecFn, ExecFn, ExecFn] {
  const imulR16: ExecFn = (cpu, i) => {
    const a = (readE(cpu, i, 2) << 16) >> 16;
    const p = a * ((multiplier(cpu, i) << 16) >> 16); // < 2^31 in magnitude, exact
    cpu.setReg(i.reg, 2, p);
    mulFlags(cpu, p !== (p << 16) >> 16, p & 0xffff, p & 0x8000);
  };
  const imulR32: ExecFn = (cpu, i) => {
    const a = readE(cpu, i, 4);
    const b = multiplier(cpu, i);
    const lo = Math.imul(a, b);
    // The double product is exact whenever it is near the int32 range, so any
    // difference from the truncated product means overflow.
    cpu.setReg(i.reg, 4, lo);
    mulFlags(cpu, a * b !== lo, lo, lo >>> 31);
  };
  const imulR64: ExecFn = (cpu, i) => {
    const alo = readE(cpu, i, 8), ahi = cpu.rhi;
    const blo = multiplier(cpu, i), bhi = cpu.rhi;
    // Only the low 64 bits are needed for the result; CF/OF are derived lazily.
    const lo = mulU32(alo, blo);
    const hi = (wide.hi + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
    cpu.setReg(i.reg, 8, lo, hi);
    setLazy64(cpu, FOP_IMUL64, alo, ahi, blo, bhi, lo, hi);
  };
  return [imulR16, imulR32, imulR64];
}

// ---- DIV / IDIV: quotient to rAX (AL), remainder to rDX (AH) ----------------------

function div8(cpu: Cpu, i: Insn): void {
  const d = readE(cpu, i, 1);
  const n = cpu.r[RAX]! & 0xffff;
  if (d === 0) cpu.fault(EXC_DE);
  const q = Math.floor(n / d);
  if (q > 0xff) cpu.fault(EXC_DE);
  cpu.setReg(0, 2, ((n - q * d) << 8) | q);
}

function idiv8(cpu: Cpu, i: Insn): void {
  const d = (readE(cpu, i, 1) << 24) >> 24;
  const n = (cpu.r[RAX]! << 16) >> 16;
  if (d === 0) cpu.fault(EXC_DE);
  const q = Math.trunc(n / d);
  if (q > 127 || q < -128) cpu.fault(EXC_DE);
  cpu.setReg(0, 2, (((n - q * d) & 0xff) << 8) | (q & 0xff));
}

function div16(cpu: Cpu, i: Insn): void {
  const d = readE(cpu, i, 2);
  const n = (cpu.r[RDX]! & 0xffff) * 65536 + (cpu.r[RAX]! & 0xffff);
  if (d === 0) cpu.fault(EXC_DE);
  const q = Math.floor(n / d);
  if (q > 0xffff) cpu.fault(EXC_DE);
  cpu.setReg(0, 2, q);
  cpu.setReg(2, 2, n - q * d);
}

function idiv16(cpu: Cpu, i: Insn): void {
  const d = (readE(cpu, i, 2) << 16) >> 16;
  const n = (cpu.r[RDX]! << 16) | (cpu.r[RAX]! & 0xffff);
  if (d === 0) cpu.fault(EXC_DE);
  const q = Math.trunc(n / d);
  if (q > 32767 || q < -32768) cpu.fault(EXC_DE);
  cpu.setReg(0, 2, q);
  cpu.setReg(2, 2, n - q * d);
}

function div32(cpu: Cpu, i: Insn): void {
  const d = readE(cpu, i, 4);
  const nlo = cpu.r[RAX]!, nhi = cpu.r[RDX]!;
  // The upper 32 quotient bits must be zero; divU128 checks the 64-bit quotient only.
  if (!divU128(nlo, nhi, 0, 0, d, 0) || wide.w1 !== 0) cpu.fault(EXC_DE);
  cpu.setReg(0, 4, wide.w0);
  cpu.setReg(2, 4, wide.w2);
}

function idiv32(cpu: Cpu, i: Insn): void {
  const d = readE(cpu, i, 4);
  const nlo = cpu.r[RAX]!, nhi = cpu.r[RDX]!;
  const ext = nhi >> 31;
  if (!divS128(nlo, nhi, ext, ext, d, d >> 31) || wide.w1 !== wide.w0 >> 31) cpu.fault(EXC_DE);
  cpu.setReg(0, 4, wide.w0);
  cpu.setReg(2, 4, wide.w2);
}

function div64(cpu: Cpu, i: Insn): void {
  const dlo = readE(cpu, i, 8), dhi = cpu.rhi;
  if (!divU128(cpu.r[RAX]!, cpu.r[RAX + 1]!, cpu.r[RDX]!, cpu.r[RDX + 1]!, dlo, dhi)) cpu.fault(EXC_DE);
  writeWideProduct(cpu);
}

function idiv64(cpu: Cpu, i: Insn): void {
  const dlo = readE(cpu, i, 8), dhi = cpu.rhi;
  if (!divS128(cpu.r[RAX]!, cpu.r[RAX + 1]!, cpu.r[RDX]!, cpu.r[RDX + 1]!, dlo, dhi)) cpu.fault(EXC_DE);
  writeWideProduct(cpu);
}

/** Picks the handler for the decoded operand size (16/32/64; bytes have their own rows). */
function bySize(h16: ExecFn, h32: ExecFn, h64: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => (i.opsize === 2 ? h16 : i.opsize === 4 ? h32 : h64);
}

const [imulRegR16, imulRegR32, imulRegR64] = imulTruncating(fromReg);
const [imulImmR16, imulImmR32, imulImmR64] = imulTruncating(fromImm);
const MUL_FLAGS = "w:oc u:szap";
const DIV_FLAGS = "u:oszapc";

defineRows("muldiv", [
  { m: "mul", op: "F6 /4", args: "Eb", exec: mul8, flags: MUL_FLAGS },
  { m: "mul", op: "F7 /4", args: "Ev", pick: bySize(mul16, mul32, mul64), flags: MUL_FLAGS },
  { m: "imul", op: "F6 /5", args: "Eb", exec: imul8, flags: MUL_FLAGS },
  { m: "imul", op: "F7 /5", args: "Ev", pick: bySize(imul16, imul32, imul64), flags: MUL_FLAGS },
  { m: "imul", op: "0F AF /r", args: "Gv,Ev", pick: bySize(imulRegR16, imulRegR32, imulRegR64), flags: MUL_FLAGS },
  { m: "imul", op: "69 /r", args: "Gv,Ev,Iz", pick: bySize(imulImmR16, imulImmR32, imulImmR64), flags: MUL_FLAGS },
  { m: "imul", op: "6B /r", args: "Gv,Ev,Ib", pick: bySize(imulImmR16, imulImmR32, imulImmR64), flags: MUL_FLAGS },
  { m: "div", op: "F6 /6", args: "Eb", exec: div8, flags: DIV_FLAGS },
  { m: "div", op: "F7 /6", args: "Ev", pick: bySize(div16, div32, div64), flags: DIV_FLAGS },
  { m: "idiv", op: "F6 /7", args: "Eb", exec: idiv8, flags: DIV_FLAGS },
  { m: "idiv", op: "F7 /7", args: "Ev", pick: bySize(idiv16, idiv32, idiv64), flags: DIV_FLAGS },
]);
