// XMM operand transfer for the SSE families: copies the V (ModRM.reg), W
// (xmm or memory) and U (xmm only) operands into preallocated 128-bit scratch
// lanes, and results back. Every memory operand is read completely before an
// instruction changes state, and 16-byte stores probe both halves first, so a
// fault never leaves a half-done instruction behind.
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { checkAligned16 } from "./guard.js";

/** 128-bit scratch registers: A = destination/first source, B = second source, R = result. */
export const A = new Int32Array(4);
export const B = new Int32Array(4);
export const R = new Int32Array(4);
/** Narrow-lane views of the scratch registers (the host is little-endian, checked in ieee.ts). */
export const Ab = new Uint8Array(A.buffer);
export const Bb = new Uint8Array(B.buffer);
export const Rb = new Uint8Array(R.buffer);
export const Asb = new Int8Array(A.buffer);
export const Bsb = new Int8Array(B.buffer);
export const Rsb = new Int8Array(R.buffer);
export const Aw = new Uint16Array(A.buffer);
export const Bw = new Uint16Array(B.buffer);
export const Rw = new Uint16Array(R.buffer);
export const Asw = new Int16Array(A.buffer);
export const Bsw = new Int16Array(B.buffer);
export const Rsw = new Int16Array(R.buffer);

/** Copies XMM[n] into a scratch register. */
export function readX(cpu: Cpu, n: number, dst: Int32Array): void {
  const x = cpu.xmm;
  const k = n << 2;
  dst[0] = x[k]!;
  dst[1] = x[k + 1]!;
  dst[2] = x[k + 2]!;
  dst[3] = x[k + 3]!;
}

/** Copies a scratch register into XMM[n]. */
export function writeX(cpu: Cpu, n: number, src: Int32Array): void {
  const x = cpu.xmm;
  const k = n << 2;
  x[k] = src[0]!;
  x[k + 1] = src[1]!;
  x[k + 2] = src[2]!;
  x[k + 3] = src[3]!;
}

/**
 * Reads the W operand: XMM[rm], or `bytes` (2, 4, 8 or 16) of memory into the low
 * lanes with the rest zeroed. `aligned`: a 16-byte memory operand must be 16-byte
 * aligned (#GP(0)), the legacy-SSE rule for everything but the explicit unaligned forms.
 */
export function readW(cpu: Cpu, i: Insn, dst: Int32Array, bytes: number, aligned: boolean): void {
  if (!i.isMem) {
    readX(cpu, i.rm, dst);
    return;
  }
  cpu.ea(i, bytes);
  readMem(cpu, dst, bytes, aligned);
}

/** Reads `bytes` at the linear address in cpu.eaLo/eaHi into dst (see readW). */
export function readMem(cpu: Cpu, dst: Int32Array, bytes: number, aligned: boolean): void {
  const lo = cpu.eaLo;
  const hi = cpu.eaHi;
  if (bytes <= 4) {
    dst[0] = bytes === 4 ? cpu.read32(lo, hi) : cpu.read16(lo, hi);
    dst[1] = 0;
    dst[2] = 0;
    dst[3] = 0;
    return;
  }
  if (bytes === 8) {
    dst[0] = cpu.read64(lo, hi);
    dst[1] = cpu.rhi;
    dst[2] = 0;
    dst[3] = 0;
    return;
  }
  if (aligned) checkAligned16(cpu);
  const w0 = cpu.read64(lo, hi);
  const w1 = cpu.rhi;
  const lo8 = (lo + 8) | 0;
  const w2 = cpu.read64(lo8, (lo >>> 0) > 0xfffffff7 ? (hi + 1) | 0 : hi);
  dst[0] = w0;
  dst[1] = w1;
  dst[2] = w2;
  dst[3] = cpu.rhi;
}

/** Stores the low `bytes` (4, 8 or 16) of src to the memory operand; `aligned` as in readW. */
export function writeM(cpu: Cpu, i: Insn, src: Int32Array, bytes: number, aligned: boolean): void {
  cpu.ea(i, bytes);
  writeMem(cpu, src, bytes, aligned);
}

/** Stores src at the linear address in cpu.eaLo/eaHi (see writeM). */
export function writeMem(cpu: Cpu, src: Int32Array, bytes: number, aligned: boolean): void {
  const lo = cpu.eaLo;
  const hi = cpu.eaHi;
  if (bytes === 4) { cpu.write32(lo, hi, src[0]!); return; }
  if (bytes === 8) { cpu.write64(lo, hi, src[0]!, src[1]!); return; }
  if (aligned) checkAligned16(cpu);
  cpu.probeWrite(lo, hi, 16);
  cpu.write64(lo, hi, src[0]!, src[1]!);
  cpu.write64((lo + 8) | 0, (lo >>> 0) > 0xfffffff7 ? (hi + 1) | 0 : hi, src[2]!, src[3]!);
}

/** Stores XMM[n]'s low `bytes` to the memory operand (stores straight from the register file). */
export function storeX(cpu: Cpu, i: Insn, n: number, bytes: number, aligned: boolean): void {
  readX(cpu, n, R);
  writeM(cpu, i, R, bytes, aligned);
}
