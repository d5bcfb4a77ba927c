// SSE data movement and state management: movd/movq, movss/movsd, the aligned
// and unaligned 128-bit moves, half-register moves (movlps movhps movlpd movhpd
// movhlps movlhps), SSE3 duplicating loads, non-temporal moves, movmskps/pd,
// maskmovdqu, and MXCSR / FXSAVE state (ldmxcsr stmxcsr fxsave fxrstor).
import type { Cpu } from "../cpu.js";
import type { ExecFn, Insn } from "../insn.js";
import { NO_REG } from "../insn.js";
import { defineRows, type RowSpec } from "../table.js";
import { checkAligned16, fxGuard, fxsrEnabled, sseGuard, strictPrefixes } from "../sse/guard.js";
import { MXCSR_WRITABLE } from "../sse/mxcsr.js";
import { vectorOp } from "../sse/handlers.js";
import { A, Ab, B, Bb, R, readW, readX, storeX, writeX } from "../sse/xmm.js";

const rows: RowSpec[] = [];

// ---- whole-register moves -------------------------------------------------------------

/** Load form (V <- W): `aligned` for movaps/movapd/movdqa/movntdqa. */
function load128(aligned: boolean): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, R, 16, aligned);
    writeX(cpu, i.reg, R);
  };
}

/** Store form (W <- V): register destination, or 16 bytes of memory. */
function store128(aligned: boolean): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    if (i.isMem) storeX(cpu, i, i.reg, 16, aligned);
    else {
      readX(cpu, i.reg, R);
      writeX(cpu, i.rm, R);
    }
  };
}

const loadA = load128(true);
const loadU = load128(false);
const storeA = store128(true);
const storeU = store128(false);
rows.push(
  { m: "movups", op: "0F 10 /r", args: "Vps,Wps", exec: loadU, feature: "sse" },
  { m: "movups", op: "0F 11 /r", args: "Wps,Vps", exec: storeU, feature: "sse" },
  { m: "movupd", op: "66 0F 10 /r", args: "Vpd,Wpd", exec: loadU, feature: "sse2" },
  { m: "movupd", op: "66 0F 11 /r", args: "Wpd,Vpd", exec: storeU, feature: "sse2" },
  { m: "movaps", op: "0F 28 /r", args: "Vps,Wps", exec: loadA, feature: "sse" },
  { m: "movaps", op: "0F 29 /r", args: "Wps,Vps", exec: storeA, feature: "sse" },
  { m: "movapd", op: "66 0F 28 /r", args: "Vpd,Wpd", exec: loadA, feature: "sse2" },
  { m: "movapd", op: "66 0F 29 /r", args: "Wpd,Vpd", exec: storeA, feature: "sse2" },
  { m: "movdqa", op: "66 0F 6F /r", args: "Vdq,Wdq", exec: loadA, feature: "sse2" },
  { m: "movdqa", op: "66 0F 7F /r", args: "Wdq,Vdq", exec: storeA, feature: "sse2" },
  { m: "movdqu", op: "F3 0F 6F /r", args: "Vdq,Wdq", exec: loadU, feature: "sse2" },
  { m: "movdqu", op: "F3 0F 7F /r", args: "Wdq,Vdq", exec: storeU, feature: "sse2" },
  { m: "lddqu", op: "F2 0F F0 /r mem", args: "Vdq,Mdq", exec: loadU, feature: "sse3" },
  { m: "movntps", op: "0F 2B /r mem", args: "Mps,Vps", exec: storeA, feature: "sse" },
  { m: "movntpd", op: "66 0F 2B /r mem", args: "Mpd,Vpd", exec: storeA, feature: "sse2" },
  { m: "movntdq", op: "66 0F E7 /r mem", args: "Mdq,Vdq", exec: storeA, feature: "sse2" },
  { m: "movntdqa", op: "66 0F 38 2A /r mem", args: "Vdq,Mdq", exec: loadA, feature: "sse4.1" },
);

// ---- scalar moves: movss / movsd ---------------------------------------------------------

/** MOVSS/MOVSD load: register source merges the low lane(s); memory zeroes the rest. */
function scalarLoad(dwords: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    const d = i.reg << 2;
    if (i.isMem) {
      readW(cpu, i, R, dwords * 4, false);
      writeX(cpu, i.reg, R);
      return;
    }
    const s = i.rm << 2;
    cpu.xmm[d] = cpu.xmm[s]!;
    if (dwords === 2) cpu.xmm[d + 1] = cpu.xmm[s + 1]!;
  };
}

/** MOVSS/MOVSD store: to memory, or merged into the low lane(s) of the r/m register. */
function scalarStore(dwords: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    const s = i.reg << 2;
    if (i.isMem) {
      storeX(cpu, i, i.reg, dwords * 4, false);
      return;
    }
    const d = i.rm << 2;
    cpu.xmm[d] = cpu.xmm[s]!;
    if (dwords === 2) cpu.xmm[d + 1] = cpu.xmm[s + 1]!;
  };
}
rows.push(
  { m: "movss", op: "F3 0F 10 /r", args: "Vss,Wss", exec: scalarLoad(1), feature: "sse" },
  { m: "movss", op: "F3 0F 11 /r", args: "Wss,Vss", exec: scalarStore(1), feature: "sse" },
  { m: "movsd", op: "F2 0F 10 /r", args: "Vsd,Wsd", exec: scalarLoad(2), feature: "sse2" },
  { m: "movsd", op: "F2 0F 11 /r", args: "Wsd,Vsd", exec: scalarStore(2), feature: "sse2" },
);

// ---- movd / movq -----------------------------------------------------------------------

/** MOVD/MOVQ xmm, r/m32|r/m64: zero-extends into the whole register. */
function movdToXmm(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  const size = i.opsize;
  let lo: number;
  let hi = 0;
  if (i.isMem) {
    cpu.ea(i, size);
    if (size === 8) { lo = cpu.read64(cpu.eaLo, cpu.eaHi); hi = cpu.rhi; }
    else lo = cpu.read32(cpu.eaLo, cpu.eaHi);
  } else {
    lo = cpu.r[i.rm << 1]!;
    if (size === 8) hi = cpu.r[(i.rm << 1) + 1]!;
  }
  const k = i.reg << 2;
  cpu.xmm[k] = lo;
  cpu.xmm[k + 1] = hi;
  cpu.xmm[k + 2] = 0;
  cpu.xmm[k + 3] = 0;
}

/** MOVD/MOVQ r/m32|r/m64, xmm: the low dword/qword (a 32-bit register destination zero-extends). */
function movdFromXmm(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  const size = i.opsize;
  const k = i.reg << 2;
  const lo = cpu.xmm[k]!;
  const hi = cpu.xmm[k + 1]!;
  if (i.isMem) {
    cpu.ea(i, size);
    if (size === 8) cpu.write64(cpu.eaLo, cpu.eaHi, lo, hi);
    else cpu.write32(cpu.eaLo, cpu.eaHi, lo);
  } else cpu.setReg(i.rm, size, lo, hi);
}

/** MOVQ xmm, xmm/m64 (F3 0F 7E): the low qword, upper qword zeroed. */
function movqLoad(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  readW(cpu, i, R, 8, false);
  R[2] = 0;
  R[3] = 0;
  writeX(cpu, i.reg, R);
}

/** MOVQ xmm/m64, xmm (66 0F D6): to memory, or into a register with the upper qword zeroed. */
function movqStore(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  if (i.isMem) { storeX(cpu, i, i.reg, 8, false); return; }
  readX(cpu, i.reg, R);
  R[2] = 0;
  R[3] = 0;
  writeX(cpu, i.rm, R);
}
rows.push(
  { m: "movd", op: "66 0F 6E /r", args: "Vy,Ey", exec: movdToXmm, feature: "sse2", note: "movq with REX.W" },
  { m: "movd", op: "66 0F 7E /r", args: "Ey,Vy", exec: movdFromXmm, feature: "sse2", note: "movq with REX.W" },
  { m: "movq", op: "F3 0F 7E /r", args: "Vq,Wq", exec: movqLoad, feature: "sse2" },
  { m: "movq", op: "66 0F D6 /r", args: "Wq,Vq", exec: movqStore, feature: "sse2" },
);

// ---- half-register moves -------------------------------------------------------------------

/** Loads 8 bytes into the low (half 0) or high (half 1) qword of V, keeping the other half. */
function loadHalf(half: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    cpu.ea(i, 8);
    const lo = cpu.read64(cpu.eaLo, cpu.eaHi);
    const k = (i.reg << 2) + half * 2;
    cpu.xmm[k] = lo;
    cpu.xmm[k + 1] = cpu.rhi;
  };
}

/** Stores the low (half 0) or high (half 1) qword of V to m64. */
function storeHalf(half: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    const k = (i.reg << 2) + half * 2;
    cpu.ea(i, 8);
    cpu.write64(cpu.eaLo, cpu.eaHi, cpu.xmm[k]!, cpu.xmm[k + 1]!);
  };
}

/** MOVHLPS (high qword of U -> low of V) and MOVLHPS (low of U -> high of V). */
function moveQword(fromHalf: number, toHalf: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    const s = (i.rm << 2) + fromHalf * 2;
    const d = (i.reg << 2) + toHalf * 2;
    const lo = cpu.xmm[s]!;
    const hi = cpu.xmm[s + 1]!;
    cpu.xmm[d] = lo;
    cpu.xmm[d + 1] = hi;
  };
}

function movsldup(): void { R[0] = B[0]!; R[1] = B[0]!; R[2] = B[2]!; R[3] = B[2]!; }
function movshdup(): void { R[0] = B[1]!; R[1] = B[1]!; R[2] = B[3]!; R[3] = B[3]!; }

/** MOVDDUP: the low qword of the source (xmm or m64, no alignment rule) in both halves. */
function movddup(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  readW(cpu, i, B, 8, false);
  R[0] = B[0]!;
  R[1] = B[1]!;
  R[2] = B[0]!;
  R[3] = B[1]!;
  writeX(cpu, i.reg, R);
}

rows.push(
  { m: "movlps", op: "0F 12 /r mem", args: "Vq,Mq", exec: loadHalf(0), feature: "sse" },
  { m: "movhlps", op: "0F 12 /r reg", args: "Vq,Uq", exec: moveQword(1, 0), feature: "sse" },
  { m: "movlpd", op: "66 0F 12 /r mem", args: "Vq,Mq", exec: loadHalf(0), feature: "sse2" },
  { m: "movlps", op: "0F 13 /r mem", args: "Mq,Vq", exec: storeHalf(0), feature: "sse" },
  { m: "movlpd", op: "66 0F 13 /r mem", args: "Mq,Vq", exec: storeHalf(0), feature: "sse2" },
  { m: "movhps", op: "0F 16 /r mem", args: "Vq,Mq", exec: loadHalf(1), feature: "sse" },
  { m: "movlhps", op: "0F 16 /r reg", args: "Vq,Uq", exec: moveQword(0, 1), feature: "sse" },
  { m: "movhpd", op: "66 0F 16 /r mem", args: "Vq,Mq", exec: loadHalf(1), feature: "sse2" },
  { m: "movhps", op: "0F 17 /r mem", args: "Mq,Vq", exec: storeHalf(1), feature: "sse" },
  { m: "movhpd", op: "66 0F 17 /r mem", args: "Mq,Vq", exec: storeHalf(1), feature: "sse2" },
  { m: "movsldup", op: "F3 0F 12 /r", args: "Vps,Wps", exec: vectorOp(movsldup), feature: "sse3" },
  { m: "movshdup", op: "F3 0F 16 /r", args: "Vps,Wps", exec: vectorOp(movshdup), feature: "sse3" },
  { m: "movddup", op: "F2 0F 12 /r", args: "Vpd,Wsd", exec: movddup, feature: "sse3" },
);

// ---- sign masks, masked store ------------------------------------------------------------

function movmskps(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  const k = i.rm << 2;
  const x = cpu.xmm;
  cpu.setReg(i.reg, 4, (x[k]! >>> 31) | ((x[k + 1]! >>> 31) << 1) | ((x[k + 2]! >>> 31) << 2) | ((x[k + 3]! >>> 31) << 3));
}

function movmskpd(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  const k = i.rm << 2;
  cpu.setReg(i.reg, 4, (cpu.xmm[k + 1]! >>> 31) | ((cpu.xmm[k + 3]! >>> 31) << 1));
}

/**
 * MASKMOVDQU: stores the bytes of V whose mask byte (in U) has its top bit set,
 * at DS:rDI (segment override allowed). The decoder's memory fields are pointed
 * at rDI once, at decode time, so cpu.ea applies the address size and segment.
 */
function maskmovdqu(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  readX(cpu, i.reg, A);
  readX(cpu, i.rm, B);
  cpu.ea(i, 16);
  const lo = cpu.eaLo;
  const hi = cpu.eaHi;
  cpu.probeWrite(lo, hi, 16);
  for (let k = 0; k < 16; k++) {
    if ((Bb[k]! & 0x80) !== 0) cpu.write8((lo + k) | 0, (lo >>> 0) + k > 0xffffffff ? (hi + 1) | 0 : hi, Ab[k]!);
  }
}

function pickMaskmov(i: Insn): ExecFn {
  i.base = 7; // rDI
  i.index = NO_REG;
  i.dispLo = 0;
  i.dispHi = 0;
  i.ripRel = false;
  return maskmovdqu;
}

rows.push(
  { m: "movmskps", op: "0F 50 /r reg", args: "Gd,Ups", exec: movmskps, feature: "sse" },
  { m: "movmskpd", op: "66 0F 50 /r reg", args: "Gd,Upd", exec: movmskpd, feature: "sse2" },
  { m: "maskmovdqu", op: "66 0F F7 /r reg", args: "Vdq,Udq", pick: pickMaskmov, feature: "sse2" },
);

// ---- MXCSR and FXSAVE/FXRSTOR ------------------------------------------------------------------

function ldmxcsr(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  cpu.ea(i, 4);
  const v = cpu.read32(cpu.eaLo, cpu.eaHi);
  if ((v & ~MXCSR_WRITABLE) !== 0) cpu.gp(0);
  cpu.mxcsr = v;
}

function stmxcsr(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  cpu.ea(i, 4);
  cpu.write32(cpu.eaLo, cpu.eaHi, cpu.mxcsr);
}

/** FXSAVE image layout (byte offsets). */
const FX_FCW = 0;
const FX_MXCSR = 24;
const FX_MXCSR_MASK = 28;
const FX_XMM = 160;
/** FCW after FNINIT: all x87 exceptions masked, 64-bit precision, round to nearest. */
const FCW_INIT = 0x037f;
const FX_IMAGE = new Int32Array(128); // 512 bytes
const FX_XMM_IN = new Int32Array(64);

/** XMM registers in the image: all 16 in 64-bit mode, XMM0-7 elsewhere. */
function fxXmmCount(cpu: Cpu): number {
  return cpu.mode === 2 ? 16 : 8;
}

/**
 * FXSAVE (and FXSAVE64: the REX.W form differs only in the width of the x87
 * FIP/FDP fields, which are zero here). x87 is not emulated, so the x87 part is
 * the state FNINIT leaves: FCW 0x037F, FSW 0, abridged FTW 0 (all empty), no
 * last instruction/operand, registers zero. Bytes 416-511 are not written.
 */
function fxsave(cpu: Cpu, i: Insn): void {
  fxGuard(cpu);
  cpu.ea(i, 512);
  checkAligned16(cpu);
  const lo = cpu.eaLo;
  const hi = cpu.eaHi;
  cpu.probeWrite(lo, hi, 512);
  const withSse = fxsrEnabled(cpu);
  const n = withSse ? fxXmmCount(cpu) : 0;
  const img = FX_IMAGE;
  img.fill(0, 0, FX_XMM / 4);
  img[FX_FCW / 4] = FCW_INIT;
  if (withSse) {
    img[FX_MXCSR / 4] = cpu.mxcsr;
    img[FX_MXCSR_MASK / 4] = MXCSR_WRITABLE;
    for (let k = 0; k < n * 4; k++) img[FX_XMM / 4 + k] = cpu.xmm[k]!;
  }
  const dwords = FX_XMM / 4 + n * 4;
  for (let k = 0; k < dwords; k++) {
    if (!withSse && (k === FX_MXCSR / 4 || k === FX_MXCSR_MASK / 4)) continue;
    const off = k * 4;
    cpu.write32((lo + off) | 0, (lo >>> 0) + off > 0xffffffff ? (hi + 1) | 0 : hi, img[k]!);
  }
}

/** The dword at byte `off` of the image at linear lo/hi. */
function readAt(cpu: Cpu, lo: number, hi: number, off: number): number {
  return cpu.read32((lo + off) | 0, (lo >>> 0) + off > 0xffffffff ? (hi + 1) | 0 : hi);
}

/**
 * FXRSTOR: reads the whole image first (a reserved MXCSR bit is #GP(0)), then
 * loads MXCSR and the XMM registers. The x87 fields are read and dropped: x87
 * is not emulated.
 */
function fxrstor(cpu: Cpu, i: Insn): void {
  fxGuard(cpu);
  cpu.ea(i, 512);
  checkAligned16(cpu);
  const lo = cpu.eaLo;
  const hi = cpu.eaHi;
  if (!fxsrEnabled(cpu)) {
    readAt(cpu, lo, hi, 0); // the access (and its faults) still happens
    return;
  }
  const mx = readAt(cpu, lo, hi, FX_MXCSR);
  if ((mx & ~MXCSR_WRITABLE) !== 0) cpu.gp(0);
  const n = fxXmmCount(cpu);
  for (let k = 0; k < n * 4; k++) FX_XMM_IN[k] = readAt(cpu, lo, hi, FX_XMM + k * 4);
  cpu.mxcsr = mx;
  for (let k = 0; k < n * 4; k++) cpu.xmm[k] = FX_XMM_IN[k]!;
}

rows.push(
  { m: "fxsave", op: "0F AE /0 mem", args: "Me", exec: fxsave, feature: "fxsr", note: "fxsave64 with REX.W" },
  { m: "fxrstor", op: "0F AE /1 mem", args: "Me", exec: fxrstor, feature: "fxsr", note: "fxrstor64 with REX.W" },
  { m: "ldmxcsr", op: "0F AE /2 mem", args: "Md", exec: ldmxcsr, feature: "sse" },
  { m: "stmxcsr", op: "0F AE /3 mem", args: "Md", exec: stmxcsr, feature: "sse" },
);

defineRows("sse-move", strictPrefixes(rows));
