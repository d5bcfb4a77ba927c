// Handler shapes shared by the SSE families, built once per row at module load:
// packed/scalar floating-point lane loops (availability check, operands read in
// full, MXCSR context, lane results collected in scratch, exceptions committed,
// then the destination written) and whole-register integer operations.
import type { Cpu } from "../cpu.js";
import type { ExecFn, Insn } from "../insn.js";
import { out } from "./ieee.js";
import { beginFp, commitFp } from "./mxcsr.js";
import { sseGuard } from "./guard.js";
import { A, B, R, readW, readX, writeX } from "./xmm.js";

/** One binary32 lane: (destination lane, source lane) -> result encoding. */
export type Lane32 = (a: number, b: number) => number;
/** One binary64 lane from dword halves; returns the low dword, high dword in out.hi. */
export type Lane64 = (alo: number, ahi: number, blo: number, bhi: number) => number;

/** The executing instruction's imm8 (zero-extended), for lane functions that take one. */
export const cur = { imm: 0 };

/** Packed single: four binary32 lanes; a 16-byte memory source must be aligned. */
export function packed32(lane: Lane32): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, true);
    readX(cpu, i.reg, A);
    cur.imm = i.immLo & 0xff;
    beginFp(cpu);
    R[0] = lane(A[0]!, B[0]!);
    R[1] = lane(A[1]!, B[1]!);
    R[2] = lane(A[2]!, B[2]!);
    R[3] = lane(A[3]!, B[3]!);
    commitFp(cpu);
    writeX(cpu, i.reg, R);
  };
}

/** Scalar single: lane 0 only (a 4-byte memory source), lanes 1-3 of the destination kept. */
export function scalar32(lane: Lane32): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 4, false);
    readX(cpu, i.reg, A);
    cur.imm = i.immLo & 0xff;
    beginFp(cpu);
    const r = lane(A[0]!, B[0]!);
    commitFp(cpu);
    cpu.xmm[i.reg << 2] = r;
  };
}

/** Packed double: two binary64 lanes. */
export function packed64(lane: Lane64): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, true);
    readX(cpu, i.reg, A);
    cur.imm = i.immLo & 0xff;
    beginFp(cpu);
    R[0] = lane(A[0]!, A[1]!, B[0]!, B[1]!);
    R[1] = out.hi;
    R[2] = lane(A[2]!, A[3]!, B[2]!, B[3]!);
    R[3] = out.hi;
    commitFp(cpu);
    writeX(cpu, i.reg, R);
  };
}

/** Scalar double: the low qword only (an 8-byte memory source), the high qword kept. */
export function scalar64(lane: Lane64): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 8, false);
    readX(cpu, i.reg, A);
    cur.imm = i.immLo & 0xff;
    beginFp(cpu);
    const lo = lane(A[0]!, A[1]!, B[0]!, B[1]!);
    const hi = out.hi;
    commitFp(cpu);
    const k = i.reg << 2;
    cpu.xmm[k] = lo;
    cpu.xmm[k + 1] = hi;
  };
}

/**
 * A whole-register operation without floating-point exceptions: reads V into A
 * and W (16 bytes, aligned) into B, runs `op` (which fills R
 * from A, B and cur.imm), writes R to V.
 */
export function vectorOp(op: () => void): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, true);
    readX(cpu, i.reg, A);
    cur.imm = i.immLo & 0xff;
    op();
    writeX(cpu, i.reg, R);
  };
}

/** As vectorOp, with the implicit XMM0 operand (BLENDV*) copied into `x0`. */
export function vectorOpXmm0(op: () => void, x0: Int32Array): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, true);
    readX(cpu, i.reg, A);
    readX(cpu, 0, x0);
    op();
    writeX(cpu, i.reg, R);
  };
}
