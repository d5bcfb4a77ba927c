// SSE2/SSSE3/SSE4.1/SSE4.2 integer operations on XMM registers (66-prefixed
// forms): add/sub (wrapping and saturating), multiplies, logic, compares,
// min/max, averages, sums of differences, abs/sign, unpack/pack, shuffles,
// shifts, blends, ptest, insert/extract, zero/sign extension, pmovmskb, and the
// SSE4.2 string compares (pcmpestri/pcmpestrm/pcmpistri/pcmpistrm).
// The MMX-register forms of these opcodes (no 66 prefix) have no rows until the x87/MMX issue, so they raise #UD.
import type { Cpu } from "../cpu.js";
import type { ExecFn, Insn } from "../insn.js";
import { CF, OF, SF, ZF, setArithFlags } from "../flags.js";
import { defineRows, type RowSpec } from "../table.js";
import { sseGuard, strictPrefixes } from "../sse/guard.js";
import { cur, vectorOp, vectorOpXmm0 } from "../sse/handlers.js";
import {
  A, Ab, Asb, Asw, Aw, B, Bb, Bsb, Bsw, Bw, R, Rb, Rsb, Rsw, Rw, readW, readX, writeX,
} from "../sse/xmm.js";

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const rows: RowSpec[] = [];

/** Adds a 66-prefixed "V,W" row in map 0F, 0F 38 or 0F 3A running `op` on the scratch registers. */
function vrow(m: string, map: string, opcode: number, op: () => void, feature: string, args = "Vdq,Wdq"): void {
  rows.push({ m, op: `66 ${map} ${hex(opcode)} /r`, args, exec: vectorOp(op), feature });
}

const sat8s = (v: number) => (v < -128 ? -128 : v > 127 ? 127 : v);
const sat8u = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const sat16s = (v: number) => (v < -32768 ? -32768 : v > 32767 ? 32767 : v);
const sat16u = (v: number) => (v < 0 ? 0 : v > 65535 ? 65535 : v);

// ---- add / subtract ------------------------------------------------------------------------

function paddb(): void { for (let k = 0; k < 16; k++) Rb[k] = Ab[k]! + Bb[k]!; }
function paddw(): void { for (let k = 0; k < 8; k++) Rw[k] = Aw[k]! + Bw[k]!; }
function paddd(): void { for (let k = 0; k < 4; k++) R[k] = (A[k]! + B[k]!) | 0; }
function paddq(): void {
  for (let k = 0; k < 4; k += 2) {
    const lo = (A[k]! >>> 0) + (B[k]! >>> 0);
    R[k] = lo | 0;
    R[k + 1] = (A[k + 1]! + B[k + 1]! + (lo > 0xffffffff ? 1 : 0)) | 0;
  }
}
function psubb(): void { for (let k = 0; k < 16; k++) Rb[k] = Ab[k]! - Bb[k]!; }
function psubw(): void { for (let k = 0; k < 8; k++) Rw[k] = Aw[k]! - Bw[k]!; }
function psubd(): void { for (let k = 0; k < 4; k++) R[k] = (A[k]! - B[k]!) | 0; }
function psubq(): void {
  for (let k = 0; k < 4; k += 2) {
    const lo = (A[k]! >>> 0) - (B[k]! >>> 0);
    R[k] = lo | 0;
    R[k + 1] = (A[k + 1]! - B[k + 1]! - (lo < 0 ? 1 : 0)) | 0;
  }
}
function paddsb(): void { for (let k = 0; k < 16; k++) Rsb[k] = sat8s(Asb[k]! + Bsb[k]!); }
function paddsw(): void { for (let k = 0; k < 8; k++) Rsw[k] = sat16s(Asw[k]! + Bsw[k]!); }
function paddusb(): void { for (let k = 0; k < 16; k++) Rb[k] = sat8u(Ab[k]! + Bb[k]!); }
function paddusw(): void { for (let k = 0; k < 8; k++) Rw[k] = sat16u(Aw[k]! + Bw[k]!); }
function psubsb(): void { for (let k = 0; k < 16; k++) Rsb[k] = sat8s(Asb[k]! - Bsb[k]!); }
function psubsw(): void { for (let k = 0; k < 8; k++) Rsw[k] = sat16s(Asw[k]! - Bsw[k]!); }
function psubusb(): void { for (let k = 0; k < 16; k++) Rb[k] = sat8u(Ab[k]! - Bb[k]!); }
function psubusw(): void { for (let k = 0; k < 8; k++) Rw[k] = sat16u(Aw[k]! - Bw[k]!); }

// ---- multiplies ----------------------------------------------------------------------------

function pmullw(): void { for (let k = 0; k < 8; k++) Rw[k] = Math.imul(Asw[k]!, Bsw[k]!); }
function pmulhw(): void { for (let k = 0; k < 8; k++) Rw[k] = (Asw[k]! * Bsw[k]!) >> 16; }
function pmulhuw(): void { for (let k = 0; k < 8; k++) Rw[k] = (Aw[k]! * Bw[k]!) >>> 16; }
function pmulld(): void { for (let k = 0; k < 4; k++) R[k] = Math.imul(A[k]!, B[k]!); }
function pmulhrsw(): void { for (let k = 0; k < 8; k++) Rw[k] = (((Asw[k]! * Bsw[k]!) >> 14) + 1) >> 1; }

/** Unsigned 32x32 -> 64 product of a and b into R[k], R[k+1] (exact, via 16-bit halves). */
function mulU32(k: number, a: number, b: number): void {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl;
  const mid = al * bh + ah * bl; // < 2^33
  const lo = ll + (mid % 65536) * 65536; // < 2^49
  const hi = ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296);
  R[k] = lo | 0;
  R[k + 1] = hi | 0;
}
function pmuludq(): void {
  mulU32(0, A[0]! >>> 0, B[0]! >>> 0);
  mulU32(2, A[2]! >>> 0, B[2]! >>> 0);
}
/** Signed 32x32 -> 64: the unsigned product of the magnitudes, negated when the signs differ. */
function mulS32(k: number, a: number, b: number): void {
  mulU32(k, Math.abs(a), Math.abs(b));
  if ((a ^ b) < 0) {
    const lo = (~R[k]! + 1) | 0;
    R[k + 1] = (~R[k + 1]! + (lo === 0 ? 1 : 0)) | 0;
    R[k] = lo;
  }
}
function pmuldq(): void {
  const a0 = A[0]!, b0 = B[0]!, a2 = A[2]!, b2 = B[2]!;
  mulS32(0, a0, b0);
  mulS32(2, a2, b2);
}
function pmaddwd(): void {
  for (let k = 0; k < 4; k++) R[k] = (Asw[2 * k]! * Bsw[2 * k]! + Asw[2 * k + 1]! * Bsw[2 * k + 1]!) | 0;
}
function pmaddubsw(): void {
  for (let k = 0; k < 8; k++) Rsw[k] = sat16s(Ab[2 * k]! * Bsb[2 * k]! + Ab[2 * k + 1]! * Bsb[2 * k + 1]!);
}

// ---- logic, compares, min/max ------------------------------------------------------------------

function pand(): void { for (let k = 0; k < 4; k++) R[k] = A[k]! & B[k]!; }
function pandn(): void { for (let k = 0; k < 4; k++) R[k] = ~A[k]! & B[k]!; }
function por(): void { for (let k = 0; k < 4; k++) R[k] = A[k]! | B[k]!; }
function pxor(): void { for (let k = 0; k < 4; k++) R[k] = A[k]! ^ B[k]!; }

function pcmpeqb(): void { for (let k = 0; k < 16; k++) Rb[k] = Ab[k] === Bb[k] ? 0xff : 0; }
function pcmpeqw(): void { for (let k = 0; k < 8; k++) Rw[k] = Aw[k] === Bw[k] ? 0xffff : 0; }
function pcmpeqd(): void { for (let k = 0; k < 4; k++) R[k] = A[k] === B[k] ? -1 : 0; }
function pcmpeqq(): void {
  for (let k = 0; k < 4; k += 2) R[k] = R[k + 1] = A[k] === B[k] && A[k + 1] === B[k + 1] ? -1 : 0;
}
function pcmpgtb(): void { for (let k = 0; k < 16; k++) Rb[k] = Asb[k]! > Bsb[k]! ? 0xff : 0; }
function pcmpgtw(): void { for (let k = 0; k < 8; k++) Rw[k] = Asw[k]! > Bsw[k]! ? 0xffff : 0; }
function pcmpgtd(): void { for (let k = 0; k < 4; k++) R[k] = A[k]! > B[k]! ? -1 : 0; }
function pcmpgtq(): void {
  for (let k = 0; k < 4; k += 2) {
    const ah = A[k + 1]!, bh = B[k + 1]!;
    const gt = ah > bh || (ah === bh && A[k]! >>> 0 > B[k]! >>> 0);
    R[k] = R[k + 1] = gt ? -1 : 0;
  }
}

function pminsb(): void { for (let k = 0; k < 16; k++) Rsb[k] = Math.min(Asb[k]!, Bsb[k]!); }
function pminub(): void { for (let k = 0; k < 16; k++) Rb[k] = Math.min(Ab[k]!, Bb[k]!); }
function pminsw(): void { for (let k = 0; k < 8; k++) Rsw[k] = Math.min(Asw[k]!, Bsw[k]!); }
function pminuw(): void { for (let k = 0; k < 8; k++) Rw[k] = Math.min(Aw[k]!, Bw[k]!); }
function pminsd(): void { for (let k = 0; k < 4; k++) R[k] = Math.min(A[k]!, B[k]!); }
function pminud(): void { for (let k = 0; k < 4; k++) R[k] = A[k]! >>> 0 < B[k]! >>> 0 ? A[k]! : B[k]!; }
function pmaxsb(): void { for (let k = 0; k < 16; k++) Rsb[k] = Math.max(Asb[k]!, Bsb[k]!); }
function pmaxub(): void { for (let k = 0; k < 16; k++) Rb[k] = Math.max(Ab[k]!, Bb[k]!); }
function pmaxsw(): void { for (let k = 0; k < 8; k++) Rsw[k] = Math.max(Asw[k]!, Bsw[k]!); }
function pmaxuw(): void { for (let k = 0; k < 8; k++) Rw[k] = Math.max(Aw[k]!, Bw[k]!); }
function pmaxsd(): void { for (let k = 0; k < 4; k++) R[k] = Math.max(A[k]!, B[k]!); }
function pmaxud(): void { for (let k = 0; k < 4; k++) R[k] = A[k]! >>> 0 > B[k]! >>> 0 ? A[k]! : B[k]!; }

// ---- averages, sums of absolute differences, abs, sign -----------------------------------------------

function pavgb(): void { for (let k = 0; k < 16; k++) Rb[k] = (Ab[k]! + Bb[k]! + 1) >> 1; }
function pavgw(): void { for (let k = 0; k < 8; k++) Rw[k] = (Aw[k]! + Bw[k]! + 1) >> 1; }
function psadbw(): void {
  for (let h = 0; h < 2; h++) {
    let s = 0;
    for (let k = 8 * h; k < 8 * h + 8; k++) s += Math.abs(Ab[k]! - Bb[k]!);
    R[2 * h] = s;
    R[2 * h + 1] = 0;
  }
}
/** MPSADBW: eight sums of absolute differences of a sliding 4-byte window of A against one 4-byte block of B. */
function mpsadbw(): void {
  const a0 = ((cur.imm >> 2) & 1) * 4;
  const b0 = (cur.imm & 3) * 4;
  for (let k = 0; k < 8; k++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += Math.abs(Ab[a0 + k + j]! - Bb[b0 + j]!);
    Rw[k] = s;
  }
}
function pabsb(): void { for (let k = 0; k < 16; k++) Rb[k] = Math.abs(Bsb[k]!); }
function pabsw(): void { for (let k = 0; k < 8; k++) Rw[k] = Math.abs(Bsw[k]!); }
function pabsd(): void { for (let k = 0; k < 4; k++) R[k] = Math.abs(B[k]!) | 0; }
function psignb(): void { for (let k = 0; k < 16; k++) Rsb[k] = Bsb[k]! < 0 ? -Asb[k]! : Bsb[k] === 0 ? 0 : Asb[k]!; }
function psignw(): void { for (let k = 0; k < 8; k++) Rsw[k] = Bsw[k]! < 0 ? -Asw[k]! : Bsw[k] === 0 ? 0 : Asw[k]!; }
function psignd(): void { for (let k = 0; k < 4; k++) R[k] = B[k]! < 0 ? -A[k]! | 0 : B[k] === 0 ? 0 : A[k]!; }

// ---- horizontal add / subtract (SSSE3), phminposuw ----------------------------------------------

function phaddw(): void { for (let k = 0; k < 4; k++) { Rw[k] = Aw[2 * k]! + Aw[2 * k + 1]!; Rw[k + 4] = Bw[2 * k]! + Bw[2 * k + 1]!; } }
function phsubw(): void { for (let k = 0; k < 4; k++) { Rw[k] = Aw[2 * k]! - Aw[2 * k + 1]!; Rw[k + 4] = Bw[2 * k]! - Bw[2 * k + 1]!; } }
function phaddsw(): void {
  for (let k = 0; k < 4; k++) { Rsw[k] = sat16s(Asw[2 * k]! + Asw[2 * k + 1]!); Rsw[k + 4] = sat16s(Bsw[2 * k]! + Bsw[2 * k + 1]!); }
}
function phsubsw(): void {
  for (let k = 0; k < 4; k++) { Rsw[k] = sat16s(Asw[2 * k]! - Asw[2 * k + 1]!); Rsw[k + 4] = sat16s(Bsw[2 * k]! - Bsw[2 * k + 1]!); }
}
function phaddd(): void { R[0] = (A[0]! + A[1]!) | 0; R[1] = (A[2]! + A[3]!) | 0; R[2] = (B[0]! + B[1]!) | 0; R[3] = (B[2]! + B[3]!) | 0; }
function phsubd(): void { R[0] = (A[0]! - A[1]!) | 0; R[1] = (A[2]! - A[3]!) | 0; R[2] = (B[0]! - B[1]!) | 0; R[3] = (B[2]! - B[3]!) | 0; }
/** PHMINPOSUW: the smallest unsigned word of the source and its (lowest) index; the rest zero. */
function phminposuw(): void {
  let min = Bw[0]!;
  let at = 0;
  for (let k = 1; k < 8; k++) if (Bw[k]! < min) { min = Bw[k]!; at = k; }
  R[0] = min | (at << 16);
  R[1] = 0;
  R[2] = 0;
  R[3] = 0;
}

// ---- unpack / pack ---------------------------------------------------------------------------------

function punpcklbw(): void { for (let k = 0; k < 8; k++) { Rb[2 * k] = Ab[k]!; Rb[2 * k + 1] = Bb[k]!; } }
function punpckhbw(): void { for (let k = 0; k < 8; k++) { Rb[2 * k] = Ab[k + 8]!; Rb[2 * k + 1] = Bb[k + 8]!; } }
function punpcklwd(): void { for (let k = 0; k < 4; k++) { Rw[2 * k] = Aw[k]!; Rw[2 * k + 1] = Bw[k]!; } }
function punpckhwd(): void { for (let k = 0; k < 4; k++) { Rw[2 * k] = Aw[k + 4]!; Rw[2 * k + 1] = Bw[k + 4]!; } }
function punpckldq(): void { R[0] = A[0]!; R[1] = B[0]!; R[2] = A[1]!; R[3] = B[1]!; }
function punpckhdq(): void { R[0] = A[2]!; R[1] = B[2]!; R[2] = A[3]!; R[3] = B[3]!; }
function punpcklqdq(): void { R[0] = A[0]!; R[1] = A[1]!; R[2] = B[0]!; R[3] = B[1]!; }
function punpckhqdq(): void { R[0] = A[2]!; R[1] = A[3]!; R[2] = B[2]!; R[3] = B[3]!; }
function packsswb(): void { for (let k = 0; k < 8; k++) { Rsb[k] = sat8s(Asw[k]!); Rsb[k + 8] = sat8s(Bsw[k]!); } }
function packuswb(): void { for (let k = 0; k < 8; k++) { Rb[k] = sat8u(Asw[k]!); Rb[k + 8] = sat8u(Bsw[k]!); } }
function packssdw(): void { for (let k = 0; k < 4; k++) { Rsw[k] = sat16s(A[k]!); Rsw[k + 4] = sat16s(B[k]!); } }
function packusdw(): void { for (let k = 0; k < 4; k++) { Rw[k] = sat16u(A[k]!); Rw[k + 4] = sat16u(B[k]!); } }

// ---- shuffles, alignment, blends -----------------------------------------------------------------

function pshufb(): void { for (let k = 0; k < 16; k++) { const s = Bb[k]!; Rb[k] = s & 0x80 ? 0 : Ab[s & 15]!; } }
function pshufd(): void { const m = cur.imm; for (let k = 0; k < 4; k++) R[k] = B[(m >> (2 * k)) & 3]!; }
function pshuflw(): void {
  const m = cur.imm;
  for (let k = 0; k < 4; k++) Rw[k] = Bw[(m >> (2 * k)) & 3]!;
  R[2] = B[2]!;
  R[3] = B[3]!;
}
function pshufhw(): void {
  const m = cur.imm;
  R[0] = B[0]!;
  R[1] = B[1]!;
  for (let k = 0; k < 4; k++) Rw[4 + k] = Bw[4 + ((m >> (2 * k)) & 3)]!;
}
/** PALIGNR: bytes imm.. of the 32-byte concatenation A:B (A high), zero past its end. */
function palignr(): void {
  const n = cur.imm;
  for (let k = 0; k < 16; k++) {
    const j = k + n;
    Rb[k] = j < 16 ? Bb[j]! : j < 32 ? Ab[j - 16]! : 0;
  }
}
function pblendw(): void { for (let k = 0; k < 8; k++) Rw[k] = (cur.imm >> k) & 1 ? Bw[k]! : Aw[k]!; }
const X0 = new Int32Array(4);
const X0b = new Uint8Array(X0.buffer);
function pblendvb(): void { for (let k = 0; k < 16; k++) Rb[k] = X0b[k]! & 0x80 ? Bb[k]! : Ab[k]!; }

// ---- shifts ----------------------------------------------------------------------------------

/** Shift count of the xmm/m128 form: the low qword of B, saturated (anything >= 2^32 is "too big"). */
function countFromB(): number {
  return B[1] !== 0 ? 0xffffffff : B[0]! >>> 0;
}

function shlW(n: number): void { for (let k = 0; k < 8; k++) Rw[k] = n > 15 ? 0 : Aw[k]! << n; }
function shrW(n: number): void { for (let k = 0; k < 8; k++) Rw[k] = n > 15 ? 0 : Aw[k]! >>> n; }
function sarW(n: number): void { const s = n > 15 ? 15 : n; for (let k = 0; k < 8; k++) Rsw[k] = Asw[k]! >> s; }
function shlD(n: number): void { for (let k = 0; k < 4; k++) R[k] = n > 31 ? 0 : A[k]! << n; }
function shrD(n: number): void { for (let k = 0; k < 4; k++) R[k] = n > 31 ? 0 : A[k]! >>> n; }
function sarD(n: number): void { const s = n > 31 ? 31 : n; for (let k = 0; k < 4; k++) R[k] = A[k]! >> s; }
function shlQ(n: number): void {
  for (let k = 0; k < 4; k += 2) {
    const lo = A[k]!, hi = A[k + 1]!;
    if (n > 63) { R[k] = 0; R[k + 1] = 0; }
    else if (n >= 32) { R[k] = 0; R[k + 1] = lo << (n - 32); }
    else if (n === 0) { R[k] = lo; R[k + 1] = hi; }
    else { R[k] = lo << n; R[k + 1] = (hi << n) | (lo >>> (32 - n)); }
  }
}
function shrQ(n: number): void {
  for (let k = 0; k < 4; k += 2) {
    const lo = A[k]!, hi = A[k + 1]!;
    if (n > 63) { R[k] = 0; R[k + 1] = 0; }
    else if (n >= 32) { R[k] = hi >>> (n - 32); R[k + 1] = 0; }
    else if (n === 0) { R[k] = lo; R[k + 1] = hi; }
    else { R[k] = (lo >>> n) | (hi << (32 - n)); R[k + 1] = hi >>> n; }
  }
}
/** Byte shifts of the whole register (PSLLDQ/PSRLDQ), count above 15 clears it. */
function shlBytes(n: number): void { for (let k = 0; k < 16; k++) Rb[k] = k >= n ? Ab[k - n]! : 0; }
function shrBytes(n: number): void { for (let k = 0; k < 16; k++) Rb[k] = k + n < 16 ? Ab[k + n]! : 0; }

type Shift = (n: number) => void;

/** PSxx xmm, xmm/m128: count from the source's low qword. */
function shiftByXmm(shift: Shift): () => void {
  return () => shift(countFromB());
}

/** PSxx xmm, imm8 (groups 71/72/73): the destination is the ModRM.rm register. */
function shiftByImm(shift: Shift): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readX(cpu, i.rm, A);
    shift(i.immLo & 0xff);
    writeX(cpu, i.rm, R);
  };
}

// ---- zero / sign extension (PMOVZX/PMOVSX): memory source is only as wide as consumed --------------

function pmovRow(m: string, opcode: number, bytes: number, body: () => void): void {
  const exec = (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, bytes, false);
    body();
    writeX(cpu, i.reg, R);
  };
  rows.push({ m, op: `66 0F 38 ${hex(opcode)} /r`, args: bytes === 8 ? "Vdq,Wq" : bytes === 4 ? "Vdq,Wd" : "Vdq,Ww", exec, feature: "sse4.1" });
}
pmovRow("pmovsxbw", 0x20, 8, () => { for (let k = 7; k >= 0; k--) Rsw[k] = Bsb[k]!; });
pmovRow("pmovsxbd", 0x21, 4, () => { for (let k = 3; k >= 0; k--) R[k] = Bsb[k]!; });
pmovRow("pmovsxbq", 0x22, 2, () => { const b0 = Bsb[0]!, b1 = Bsb[1]!; R[0] = b0; R[1] = b0 >> 31; R[2] = b1; R[3] = b1 >> 31; });
pmovRow("pmovsxwd", 0x23, 8, () => { for (let k = 3; k >= 0; k--) R[k] = Bsw[k]!; });
pmovRow("pmovsxwq", 0x24, 4, () => { const w0 = Bsw[0]!, w1 = Bsw[1]!; R[0] = w0; R[1] = w0 >> 31; R[2] = w1; R[3] = w1 >> 31; });
pmovRow("pmovsxdq", 0x25, 8, () => { const d0 = B[0]!, d1 = B[1]!; R[0] = d0; R[1] = d0 >> 31; R[2] = d1; R[3] = d1 >> 31; });
pmovRow("pmovzxbw", 0x30, 8, () => { for (let k = 7; k >= 0; k--) Rw[k] = Bb[k]!; });
pmovRow("pmovzxbd", 0x31, 4, () => { for (let k = 3; k >= 0; k--) R[k] = Bb[k]!; });
pmovRow("pmovzxbq", 0x32, 2, () => { const b0 = Bb[0]!, b1 = Bb[1]!; R[0] = b0; R[1] = 0; R[2] = b1; R[3] = 0; });
pmovRow("pmovzxwd", 0x33, 8, () => { for (let k = 3; k >= 0; k--) R[k] = Bw[k]!; });
pmovRow("pmovzxwq", 0x34, 4, () => { const w0 = Bw[0]!, w1 = Bw[1]!; R[0] = w0; R[1] = 0; R[2] = w1; R[3] = 0; });
pmovRow("pmovzxdq", 0x35, 8, () => { const d0 = B[0]!, d1 = B[1]!; R[0] = d0; R[1] = 0; R[2] = d1; R[3] = 0; });

// ---- ptest, pmovmskb, insert / extract ----------------------------------------------------------------

/** PTEST: ZF = (V AND W) == 0, CF = (NOT V AND W) == 0; OF SF AF PF cleared. */
function ptest(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  readW(cpu, i, B, 16, true);
  readX(cpu, i.reg, A);
  let and = 0;
  let andn = 0;
  for (let k = 0; k < 4; k++) {
    and |= A[k]! & B[k]!;
    andn |= ~A[k]! & B[k]!;
  }
  setArithFlags(cpu, (and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
}

function pmovmskb(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  readX(cpu, i.rm, A);
  let m = 0;
  for (let k = 0; k < 16; k++) m |= (Ab[k]! >> 7) << k;
  cpu.setReg(i.reg, 4, m);
}

/**
 * PEXTRB/PEXTRW/PEXTRD/PEXTRQ: element imm of V to a GPR (zero-extended to the
 * whole 32/64-bit register) or to memory of the element's size.
 */
function pextr(bytes: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readX(cpu, i.reg, A);
    const n = i.immLo;
    let lo: number;
    let hi = 0;
    switch (bytes) {
      case 1: lo = Ab[n & 15]!; break;
      case 2: lo = Aw[n & 7]!; break;
      case 4: lo = A[n & 3]!; break;
      default: lo = A[(n & 1) * 2]!; hi = A[(n & 1) * 2 + 1]!; break;
    }
    if (!i.isMem) { cpu.setReg(i.rm, bytes === 8 ? 8 : 4, lo, hi); return; }
    cpu.ea(i, bytes);
    switch (bytes) {
      case 1: cpu.write8(cpu.eaLo, cpu.eaHi, lo); break;
      case 2: cpu.write16(cpu.eaLo, cpu.eaHi, lo); break;
      case 4: cpu.write32(cpu.eaLo, cpu.eaHi, lo); break;
      default: cpu.write64(cpu.eaLo, cpu.eaHi, lo, hi); break;
    }
  };
}

/** PEXTRW r32, xmm, imm8 (66 0F C5): register source and destination only. */
function pextrwLegacy(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  readX(cpu, i.rm, A);
  cpu.setReg(i.reg, 4, Aw[i.immLo & 7]!);
}

/** PINSRB/PINSRW/PINSRD/PINSRQ: the low element of a GPR, or memory of the element's size, into lane imm of V. */
function pinsr(bytes: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    let lo: number;
    let hi = 0;
    if (i.isMem) {
      cpu.ea(i, bytes);
      switch (bytes) {
        case 1: lo = cpu.read8(cpu.eaLo, cpu.eaHi); break;
        case 2: lo = cpu.read16(cpu.eaLo, cpu.eaHi); break;
        case 4: lo = cpu.read32(cpu.eaLo, cpu.eaHi); break;
        default: lo = cpu.read64(cpu.eaLo, cpu.eaHi); hi = cpu.rhi; break;
      }
    } else {
      lo = cpu.r[i.rm << 1]!;
      hi = cpu.r[(i.rm << 1) + 1]!;
    }
    readX(cpu, i.reg, R);
    const n = i.immLo;
    switch (bytes) {
      case 1: Rb[n & 15] = lo; break;
      case 2: Rw[n & 7] = lo; break;
      case 4: R[n & 3] = lo; break;
      default: R[(n & 1) * 2] = lo; R[(n & 1) * 2 + 1] = hi; break;
    }
    writeX(cpu, i.reg, R);
  };
}

/** Chooses the dword or qword form of PEXTRD/PINSRD by REX.W at decode time. */
function byRexW(d: ExecFn, q: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => (i.opsize === 8 ? q : d);
}

// ---- SSE4.2 string compares: PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM -----------------------------

/**
 * Element k of a scratch register under imm8[1:0] (unsigned/signed bytes/words).
 * A = ModRM.reg (the set or pattern), B = ModRM.rm (the string being searched).
 */
function strElement(src: number, k: number, format: number): number {
  switch (format) {
    case 0: return src === 0 ? Ab[k]! : Bb[k]!;
    case 1: return src === 0 ? Aw[k]! : Bw[k]!;
    case 2: return src === 0 ? Asb[k]! : Bsb[k]!;
    default: return src === 0 ? Asw[k]! : Bsw[k]!;
  }
}

/** Length of a zero-terminated string of n elements (PCMPISTRx). */
function implicitLength(src: number, n: number, format: number): number {
  for (let k = 0; k < n; k++) if (strElement(src, k, format) === 0) return k;
  return n;
}

/** Length from rAX/rDX (PCMPESTRx): |value| saturated to n; 64-bit with REX.W. */
function explicitLength(cpu: Cpu, reg: number, wide: boolean, n: number): number {
  const lo = cpu.r[reg << 1]!;
  if (wide) {
    const hi = cpu.r[(reg << 1) + 1]!;
    if (hi === 0) return lo >>> 0 > n ? n : lo;
    if (hi === -1) return -lo >>> 0 > n || lo === 0 ? n : -lo;
    return n;
  }
  const mag = lo < 0 ? -lo >>> 0 : lo;
  return mag > n ? n : mag;
}

/** The string-compare core: returns IntRes2 (bit j for element j of B) and sets the flags. */
function stringCompare(cpu: Cpu, imm: number, len1: number, len2: number, n: number): number {
  const format = imm & 3;
  const agg = (imm >> 2) & 3;
  let res = 0;
  if (agg === 0 || agg === 1) {
    // Equal any / ranges: invalid elements never match.
    for (let j = 0; j < len2; j++) {
      const b = strElement(1, j, format);
      let hit = false;
      if (agg === 0) {
        for (let i = 0; i < len1 && !hit; i++) hit = strElement(0, i, format) === b;
      } else {
        for (let i = 0; i + 1 < len1 && !hit; i += 2) hit = strElement(0, i, format) <= b && b <= strElement(0, i + 1, format);
      }
      if (hit) res |= 1 << j;
    }
  } else if (agg === 2) {
    // Equal each: both invalid count as a match, one invalid as a mismatch.
    for (let j = 0; j < n; j++) {
      const v1 = j < len1;
      const v2 = j < len2;
      const eq = v1 && v2 ? strElement(0, j, format) === strElement(1, j, format) : !v1 && !v2;
      if (eq) res |= 1 << j;
    }
  } else {
    // Equal ordered: the pattern (A) occurs at position j of B; past the pattern's end everything matches.
    for (let j = 0; j < n; j++) {
      let all = true;
      for (let i = 0, k = j; i < n - j && all; i++, k++) {
        if (i >= len1) break; // an invalid pattern element matches anything
        all = k < len2 && strElement(0, i, format) === strElement(1, k, format);
      }
      if (all) res |= 1 << j;
    }
  }
  const full = (1 << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: res ^= full; break; // negative
    case 3: res ^= (1 << len2) - 1; break; // masked negative: only valid elements of B
  }
  setArithFlags(cpu, (res !== 0 ? CF : 0) | (len2 < n ? ZF : 0) | (len1 < n ? SF : 0) | ((res & 1) !== 0 ? OF : 0));
  return res;
}

/** PCMPxSTRI writes the index to ECX, PCMPxSTRM the mask to XMM0. */
function stringCompareOp(explicit: boolean, index: boolean): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, false);
    readX(cpu, i.reg, A);
    const imm = i.immLo & 0xff;
    const n = (imm & 1) !== 0 ? 8 : 16;
    const wide = i.opsize === 8;
    const len1 = explicit ? explicitLength(cpu, 0, wide, n) : implicitLength(0, n, imm & 3);
    const len2 = explicit ? explicitLength(cpu, 2, wide, n) : implicitLength(1, n, imm & 3);
    const res = stringCompare(cpu, imm, len1, len2, n);
    if (index) {
      let idx = n;
      if (res !== 0) idx = (imm & 0x40) !== 0 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
      cpu.setReg(1, 4, idx);
      return;
    }
    if ((imm & 0x40) === 0) {
      R[0] = res;
      R[1] = R[2] = R[3] = 0;
    } else if (n === 16) {
      for (let k = 0; k < 16; k++) Rb[k] = (res >> k) & 1 ? 0xff : 0;
    } else {
      for (let k = 0; k < 8; k++) Rw[k] = (res >> k) & 1 ? 0xffff : 0;
    }
    writeX(cpu, 0, R);
  };
}

// ---- the rows -----------------------------------------------------------------------------------

const map0F: [string, number, () => void][] = [
  ["punpcklbw", 0x60, punpcklbw], ["punpcklwd", 0x61, punpcklwd], ["punpckldq", 0x62, punpckldq],
  ["packsswb", 0x63, packsswb], ["pcmpgtb", 0x64, pcmpgtb], ["pcmpgtw", 0x65, pcmpgtw], ["pcmpgtd", 0x66, pcmpgtd],
  ["packuswb", 0x67, packuswb], ["punpckhbw", 0x68, punpckhbw], ["punpckhwd", 0x69, punpckhwd],
  ["punpckhdq", 0x6a, punpckhdq], ["packssdw", 0x6b, packssdw], ["punpcklqdq", 0x6c, punpcklqdq],
  ["punpckhqdq", 0x6d, punpckhqdq], ["pcmpeqb", 0x74, pcmpeqb], ["pcmpeqw", 0x75, pcmpeqw], ["pcmpeqd", 0x76, pcmpeqd],
  ["psrlw", 0xd1, shiftByXmm(shrW)], ["psrld", 0xd2, shiftByXmm(shrD)], ["psrlq", 0xd3, shiftByXmm(shrQ)],
  ["paddq", 0xd4, paddq], ["pmullw", 0xd5, pmullw], ["psubusb", 0xd8, psubusb], ["psubusw", 0xd9, psubusw],
  ["pminub", 0xda, pminub], ["pand", 0xdb, pand], ["paddusb", 0xdc, paddusb], ["paddusw", 0xdd, paddusw],
  ["pmaxub", 0xde, pmaxub], ["pandn", 0xdf, pandn], ["pavgb", 0xe0, pavgb], ["psraw", 0xe1, shiftByXmm(sarW)],
  ["psrad", 0xe2, shiftByXmm(sarD)], ["pavgw", 0xe3, pavgw], ["pmulhuw", 0xe4, pmulhuw], ["pmulhw", 0xe5, pmulhw],
  ["psubsb", 0xe8, psubsb], ["psubsw", 0xe9, psubsw], ["pminsw", 0xea, pminsw], ["por", 0xeb, por],
  ["paddsb", 0xec, paddsb], ["paddsw", 0xed, paddsw], ["pmaxsw", 0xee, pmaxsw], ["pxor", 0xef, pxor],
  ["psllw", 0xf1, shiftByXmm(shlW)], ["pslld", 0xf2, shiftByXmm(shlD)], ["psllq", 0xf3, shiftByXmm(shlQ)],
  ["pmuludq", 0xf4, pmuludq], ["pmaddwd", 0xf5, pmaddwd], ["psadbw", 0xf6, psadbw], ["psubb", 0xf8, psubb],
  ["psubw", 0xf9, psubw], ["psubd", 0xfa, psubd], ["psubq", 0xfb, psubq], ["paddb", 0xfc, paddb],
  ["paddw", 0xfd, paddw], ["paddd", 0xfe, paddd],
];
for (const [m, opcode, op] of map0F) vrow(m, "0F", opcode, op, "sse2");

const map0F38: [string, number, () => void, string][] = [
  ["pshufb", 0x00, pshufb, "ssse3"], ["phaddw", 0x01, phaddw, "ssse3"], ["phaddd", 0x02, phaddd, "ssse3"],
  ["phaddsw", 0x03, phaddsw, "ssse3"], ["pmaddubsw", 0x04, pmaddubsw, "ssse3"], ["phsubw", 0x05, phsubw, "ssse3"],
  ["phsubd", 0x06, phsubd, "ssse3"], ["phsubsw", 0x07, phsubsw, "ssse3"], ["psignb", 0x08, psignb, "ssse3"],
  ["psignw", 0x09, psignw, "ssse3"], ["psignd", 0x0a, psignd, "ssse3"], ["pmulhrsw", 0x0b, pmulhrsw, "ssse3"],
  ["pabsb", 0x1c, pabsb, "ssse3"], ["pabsw", 0x1d, pabsw, "ssse3"], ["pabsd", 0x1e, pabsd, "ssse3"],
  ["pmuldq", 0x28, pmuldq, "sse4.1"], ["pcmpeqq", 0x29, pcmpeqq, "sse4.1"], ["packusdw", 0x2b, packusdw, "sse4.1"],
  ["pcmpgtq", 0x37, pcmpgtq, "sse4.2"], ["pminsb", 0x38, pminsb, "sse4.1"], ["pminsd", 0x39, pminsd, "sse4.1"],
  ["pminuw", 0x3a, pminuw, "sse4.1"], ["pminud", 0x3b, pminud, "sse4.1"], ["pmaxsb", 0x3c, pmaxsb, "sse4.1"],
  ["pmaxsd", 0x3d, pmaxsd, "sse4.1"], ["pmaxuw", 0x3e, pmaxuw, "sse4.1"], ["pmaxud", 0x3f, pmaxud, "sse4.1"],
  ["pmulld", 0x40, pmulld, "sse4.1"], ["phminposuw", 0x41, phminposuw, "sse4.1"],
];
for (const [m, opcode, op, feature] of map0F38) vrow(m, "0F 38", opcode, op, feature);

vrow("pshufd", "0F", 0x70, pshufd, "sse2", "Vdq,Wdq,Ib");
rows.push(
  { m: "pshufhw", op: "F3 0F 70 /r", args: "Vdq,Wdq,Ib", exec: vectorOp(pshufhw), feature: "sse2" },
  { m: "pshuflw", op: "F2 0F 70 /r", args: "Vdq,Wdq,Ib", exec: vectorOp(pshuflw), feature: "sse2" },
);
vrow("palignr", "0F 3A", 0x0f, palignr, "ssse3", "Vdq,Wdq,Ib");
vrow("pblendw", "0F 3A", 0x0e, pblendw, "sse4.1", "Vdq,Wdq,Ib");
vrow("mpsadbw", "0F 3A", 0x42, mpsadbw, "sse4.1", "Vdq,Wdq,Ib");
rows.push({ m: "pblendvb", op: "66 0F 38 10 /r", args: "Vdq,Wdq,XMM0", exec: vectorOpXmm0(pblendvb, X0), feature: "sse4.1" });

for (const [m, opcode, digit, shift] of [
  ["psrlw", 0x71, 2, shrW], ["psraw", 0x71, 4, sarW], ["psllw", 0x71, 6, shlW],
  ["psrld", 0x72, 2, shrD], ["psrad", 0x72, 4, sarD], ["pslld", 0x72, 6, shlD],
  ["psrlq", 0x73, 2, shrQ], ["psrldq", 0x73, 3, shrBytes], ["psllq", 0x73, 6, shlQ], ["pslldq", 0x73, 7, shlBytes],
] as const) {
  rows.push({ m, op: `66 0F ${hex(opcode)} /${digit} reg`, args: "Udq,Ib", exec: shiftByImm(shift), feature: "sse2" });
}

rows.push(
  { m: "ptest", op: "66 0F 38 17 /r", args: "Vdq,Wdq", exec: ptest, feature: "sse4.1", flags: "w:oszapc" },
  { m: "pmovmskb", op: "66 0F D7 /r reg", args: "Gd,Udq", exec: pmovmskb, feature: "sse2" },
  { m: "pextrw", op: "66 0F C5 /r reg", args: "Gd,Udq,Ib", exec: pextrwLegacy, feature: "sse2" },
  { m: "pinsrw", op: "66 0F C4 /r", args: "Vdq,Ew,Ib", exec: pinsr(2), feature: "sse2", note: "r32 or m16 source" },
  { m: "pextrb", op: "66 0F 3A 14 /r", args: "Ed,Vdq,Ib", exec: pextr(1), feature: "sse4.1", note: "r32/r64 or m8 destination" },
  { m: "pextrw", op: "66 0F 3A 15 /r", args: "Ed,Vdq,Ib", exec: pextr(2), feature: "sse4.1", note: "r32/r64 or m16 destination" },
  { m: "pextrd", op: "66 0F 3A 16 /r", args: "Ey,Vdq,Ib", pick: byRexW(pextr(4), pextr(8)), feature: "sse4.1", note: "pextrq with REX.W" },
  { m: "pinsrb", op: "66 0F 3A 20 /r", args: "Vdq,Ed,Ib", exec: pinsr(1), feature: "sse4.1", note: "r32 or m8 source" },
  { m: "pinsrd", op: "66 0F 3A 22 /r", args: "Vdq,Ey,Ib", pick: byRexW(pinsr(4), pinsr(8)), feature: "sse4.1", note: "pinsrq with REX.W" },
  { m: "pcmpestrm", op: "66 0F 3A 60 /r", args: "Vdq,Wdq,Ib", exec: stringCompareOp(true, false), feature: "sse4.2", flags: "w:oszapc", note: "lengths in rAX/rDX (64-bit with REX.W); mask to XMM0" },
  { m: "pcmpestri", op: "66 0F 3A 61 /r", args: "Vdq,Wdq,Ib", exec: stringCompareOp(true, true), feature: "sse4.2", flags: "w:oszapc", note: "lengths in rAX/rDX (64-bit with REX.W); index to ECX" },
  { m: "pcmpistrm", op: "66 0F 3A 62 /r", args: "Vdq,Wdq,Ib", exec: stringCompareOp(false, false), feature: "sse4.2", flags: "w:oszapc", note: "mask to XMM0" },
  { m: "pcmpistri", op: "66 0F 3A 63 /r", args: "Vdq,Wdq,Ib", exec: stringCompareOp(false, true), feature: "sse4.2", flags: "w:oszapc", note: "index to ECX" },
);

defineRows("sse-int", strictPrefixes(rows));
