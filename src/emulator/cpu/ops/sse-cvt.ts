// SSE/SSE2 conversions: integer <-> scalar (cvtsi2ss/sd, cvt(t)ss2si, cvt(t)sd2si),
// single <-> double (cvtss2sd cvtsd2ss cvtps2pd cvtpd2ps) and packed dword <->
// float (cvtdq2ps cvt(t)ps2dq cvtdq2pd cvt(t)pd2dq). MXCSR.RC rounds, the cvtt
// forms truncate; out-of-range and NaN give the integer indefinite with IE.
// The MMX-register forms (cvtpi2ps, cvtps2pi, ...) have no rows until the x87/MMX issue, so they raise #UD.
import type { Cpu } from "../cpu.js";
import type { ExecFn, Insn } from "../insn.js";
import { defineRows, type RowSpec } from "../table.js";
import { f32ToF64, f32ToInt, f64ToF32, f64ToInt, fromInt32, fromInt64 } from "../sse/arith.js";
import { F32, F64, out } from "../sse/ieee.js";
import { beginFp, commitFp } from "../sse/mxcsr.js";
import { sseGuard, strictPrefixes } from "../sse/guard.js";
import { B, R, readW, readX, writeX } from "../sse/xmm.js";

const rows: RowSpec[] = [];

// ---- integer -> scalar ---------------------------------------------------------------------

/** CVTSI2SS/CVTSI2SD: r/m32 or r/m64 (REX.W) into the low lane, the rest of V kept. */
function cvtsi2(fmt: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
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
      hi = cpu.r[(i.rm << 1) + 1]!;
    }
    beginFp(cpu);
    const rlo = size === 8 ? fromInt64(lo, hi, fmt) : fromInt32(lo, fmt);
    const rhi = out.hi;
    commitFp(cpu);
    const k = i.reg << 2;
    cpu.xmm[k] = rlo;
    if (fmt === F64) cpu.xmm[k + 1] = rhi;
  };
}

// ---- scalar -> integer ---------------------------------------------------------------------

/** CVT(T)SS2SI / CVT(T)SD2SI into r32 (zero-extended) or r64 (REX.W). */
function cvt2si(fmt: number, truncate: boolean): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, fmt === F64 ? 8 : 4, false);
    const size = i.opsize;
    const bits = size === 8 ? 64 : 32;
    beginFp(cpu);
    const lo = fmt === F64 ? f64ToInt(B[0]!, B[1]!, truncate, bits) : f32ToInt(B[0]!, truncate, bits);
    const hi = out.hi;
    commitFp(cpu);
    cpu.setReg(i.reg, size, lo, hi);
  };
}

rows.push(
  { m: "cvtsi2ss", op: "F3 0F 2A /r", args: "Vss,Ey", exec: cvtsi2(F32), feature: "sse" },
  { m: "cvtsi2sd", op: "F2 0F 2A /r", args: "Vsd,Ey", exec: cvtsi2(F64), feature: "sse2" },
  { m: "cvttss2si", op: "F3 0F 2C /r", args: "Gy,Wss", exec: cvt2si(F32, true), feature: "sse" },
  { m: "cvttsd2si", op: "F2 0F 2C /r", args: "Gy,Wsd", exec: cvt2si(F64, true), feature: "sse2" },
  { m: "cvtss2si", op: "F3 0F 2D /r", args: "Gy,Wss", exec: cvt2si(F32, false), feature: "sse" },
  { m: "cvtsd2si", op: "F2 0F 2D /r", args: "Gy,Wsd", exec: cvt2si(F64, false), feature: "sse2" },
);

// ---- single <-> double -----------------------------------------------------------------------

/**
 * A conversion handler: reads W (`bytes` of memory; 16-byte sources aligned),
 * starts from V (for the scalar merges) and lets `body` fill R from B.
 */
function convert(bytes: number, body: () => void): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, bytes, true);
    readX(cpu, i.reg, R);
    beginFp(cpu);
    body();
    commitFp(cpu);
    writeX(cpu, i.reg, R);
  };
}

// R starts as a copy of V: the scalar forms keep its other lanes, the packed forms overwrite them.
rows.push(
  {
    m: "cvtss2sd", op: "F3 0F 5A /r", args: "Vsd,Wss", feature: "sse2",
    exec: convert(4, () => { R[0] = f32ToF64(B[0]!); R[1] = out.hi; }),
  },
  {
    m: "cvtsd2ss", op: "F2 0F 5A /r", args: "Vss,Wsd", feature: "sse2",
    exec: convert(8, () => { R[0] = f64ToF32(B[0]!, B[1]!); }),
  },
  {
    m: "cvtps2pd", op: "0F 5A /r", args: "Vpd,Wq", feature: "sse2",
    exec: convert(8, () => {
      const b1 = B[1]!;
      R[0] = f32ToF64(B[0]!); R[1] = out.hi;
      R[2] = f32ToF64(b1); R[3] = out.hi;
    }),
  },
  {
    m: "cvtpd2ps", op: "66 0F 5A /r", args: "Vps,Wpd", feature: "sse2",
    exec: convert(16, () => {
      R[0] = f64ToF32(B[0]!, B[1]!);
      R[1] = f64ToF32(B[2]!, B[3]!);
      R[2] = 0; R[3] = 0;
    }),
  },
);

// ---- packed dword <-> float ---------------------------------------------------------------------

rows.push(
  {
    m: "cvtdq2ps", op: "0F 5B /r", args: "Vps,Wdq", feature: "sse2",
    exec: convert(16, () => { for (let k = 0; k < 4; k++) R[k] = fromInt32(B[k]!, F32); }),
  },
  {
    m: "cvtps2dq", op: "66 0F 5B /r", args: "Vdq,Wps", feature: "sse2",
    exec: convert(16, () => { for (let k = 0; k < 4; k++) R[k] = f32ToInt(B[k]!, false, 32); }),
  },
  {
    m: "cvttps2dq", op: "F3 0F 5B /r", args: "Vdq,Wps", feature: "sse2",
    exec: convert(16, () => { for (let k = 0; k < 4; k++) R[k] = f32ToInt(B[k]!, true, 32); }),
  },
  {
    m: "cvtdq2pd", op: "F3 0F E6 /r", args: "Vpd,Wq", feature: "sse2",
    exec: convert(8, () => {
      const b1 = B[1]!;
      R[0] = fromInt32(B[0]!, F64); R[1] = out.hi;
      R[2] = fromInt32(b1, F64); R[3] = out.hi;
    }),
  },
  {
    m: "cvttpd2dq", op: "66 0F E6 /r", args: "Vdq,Wpd", feature: "sse2",
    exec: convert(16, () => {
      R[0] = f64ToInt(B[0]!, B[1]!, true, 32);
      R[1] = f64ToInt(B[2]!, B[3]!, true, 32);
      R[2] = 0; R[3] = 0;
    }),
  },
  {
    m: "cvtpd2dq", op: "F2 0F E6 /r", args: "Vdq,Wpd", feature: "sse2",
    exec: convert(16, () => {
      R[0] = f64ToInt(B[0]!, B[1]!, false, 32);
      R[1] = f64ToInt(B[2]!, B[3]!, false, 32);
      R[2] = 0; R[3] = 0;
    }),
  },
);

defineRows("sse-cvt", strictPrefixes(rows));
