// SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic on XMM registers: add sub mul
// div min max sqrt (ps/pd/ss/sd), rcp/rsqrt approximations, the bitwise and/andn/or/xor forms, compares
// (cmpxx, comis, ucomis), round, shuffles and unpacks, horizontal and addsub,
// blends, dot products, insertps/extractps. IEEE details live in ../sse/.
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { setArithFlags } from "../flags.js";
import { defineRows, type RowSpec } from "../table.js";
import {
  approxReciprocal32, arith32, arith64, comi32, comi64, compare32, compare64, minMax32, minMax64, OP_ADD, OP_DIV, OP_MUL, OP_SUB,
  roundInt32, roundInt64, sqrt32, sqrt64,
} from "../sse/arith.js";
import { out } from "../sse/ieee.js";
import { beginFp, commitFp, fp } from "../sse/mxcsr.js";
import { sseGuard, strictPrefixes } from "../sse/guard.js";
import { cur, packed32, packed64, scalar32, scalar64, vectorOp, vectorOpXmm0 } from "../sse/handlers.js";
import { A, B, R, readW, readX, writeX } from "../sse/xmm.js";

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const rows: RowSpec[] = [];

// ---- add mul sub div min max sqrt: one opcode, four prefixes -------------------------------

function arithRows(name: string, opcode: number, lane32: (a: number, b: number) => number,
  lane64: (alo: number, ahi: number, blo: number, bhi: number) => number): void {
  const o = hex(opcode);
  rows.push(
    { m: `${name}ps`, op: `0F ${o} /r`, args: "Vps,Wps", exec: packed32(lane32), feature: "sse" },
    { m: `${name}pd`, op: `66 0F ${o} /r`, args: "Vpd,Wpd", exec: packed64(lane64), feature: "sse2" },
    { m: `${name}ss`, op: `F3 0F ${o} /r`, args: "Vss,Wss", exec: scalar32(lane32), feature: "sse" },
    { m: `${name}sd`, op: `F2 0F ${o} /r`, args: "Vsd,Wsd", exec: scalar64(lane64), feature: "sse2" },
  );
}

for (const [name, opcode, op] of [["add", 0x58, OP_ADD], ["mul", 0x59, OP_MUL], ["sub", 0x5c, OP_SUB], ["div", 0x5e, OP_DIV]] as const) {
  arithRows(name, opcode, (a, b) => arith32(op, a, b), (alo, ahi, blo, bhi) => arith64(op, alo, ahi, blo, bhi));
}
arithRows("min", 0x5d, (a, b) => minMax32(false, a, b), (alo, ahi, blo, bhi) => minMax64(false, alo, ahi, blo, bhi));
arithRows("max", 0x5f, (a, b) => minMax32(true, a, b), (alo, ahi, blo, bhi) => minMax64(true, alo, ahi, blo, bhi));
arithRows("sqrt", 0x51, (_a, b) => sqrt32(b), (_alo, _ahi, blo, bhi) => sqrt64(blo, bhi));

// ---- RCPPS/RCPSS/RSQRTPS/RSQRTSS: approximations (no exceptions, see approxReciprocal32) --------

const rcp = (_a: number, b: number) => approxReciprocal32(b, false);
const rsqrt = (_a: number, b: number) => approxReciprocal32(b, true);
rows.push(
  { m: "rsqrtps", op: "0F 52 /r", args: "Vps,Wps", exec: packed32(rsqrt), feature: "sse" },
  { m: "rsqrtss", op: "F3 0F 52 /r", args: "Vss,Wss", exec: scalar32(rsqrt), feature: "sse" },
  { m: "rcpps", op: "0F 53 /r", args: "Vps,Wps", exec: packed32(rcp), feature: "sse" },
  { m: "rcpss", op: "F3 0F 53 /r", args: "Vss,Wss", exec: scalar32(rcp), feature: "sse" },
);

// ---- bitwise: the ps and pd forms are the same operation --------------------------------

function andOp(): void { R[0] = A[0]! & B[0]!; R[1] = A[1]! & B[1]!; R[2] = A[2]! & B[2]!; R[3] = A[3]! & B[3]!; }
function andnOp(): void { R[0] = ~A[0]! & B[0]!; R[1] = ~A[1]! & B[1]!; R[2] = ~A[2]! & B[2]!; R[3] = ~A[3]! & B[3]!; }
function orOp(): void { R[0] = A[0]! | B[0]!; R[1] = A[1]! | B[1]!; R[2] = A[2]! | B[2]!; R[3] = A[3]! | B[3]!; }
function xorOp(): void { R[0] = A[0]! ^ B[0]!; R[1] = A[1]! ^ B[1]!; R[2] = A[2]! ^ B[2]!; R[3] = A[3]! ^ B[3]!; }
for (const [name, opcode, op] of [["and", 0x54, andOp], ["andn", 0x55, andnOp], ["or", 0x56, orOp], ["xor", 0x57, xorOp]] as const) {
  rows.push(
    { m: `${name}ps`, op: `0F ${hex(opcode)} /r`, args: "Vps,Wps", exec: vectorOp(op), feature: "sse" },
    { m: `${name}pd`, op: `66 0F ${hex(opcode)} /r`, args: "Vpd,Wpd", exec: vectorOp(op), feature: "sse2" },
  );
}

// ---- compares ----------------------------------------------------------------------

rows.push(
  { m: "cmpps", op: "0F C2 /r", args: "Vps,Wps,Ib", exec: packed32((a, b) => compare32(cur.imm, a, b)), feature: "sse" },
  { m: "cmppd", op: "66 0F C2 /r", args: "Vpd,Wpd,Ib", exec: packed64(cmpLane64), feature: "sse2" },
  { m: "cmpss", op: "F3 0F C2 /r", args: "Vss,Wss,Ib", exec: scalar32((a, b) => compare32(cur.imm, a, b)), feature: "sse" },
  { m: "cmpsd", op: "F2 0F C2 /r", args: "Vsd,Wsd,Ib", exec: scalar64(cmpLane64), feature: "sse2" },
);

function cmpLane64(alo: number, ahi: number, blo: number, bhi: number): number {
  const m = compare64(cur.imm, alo, ahi, blo, bhi);
  out.hi = m;
  return m;
}

/** COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF from the comparison, OF SF AF cleared. */
function comi(double: boolean, signalQuiet: boolean) {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, double ? 8 : 4, false);
    readX(cpu, i.reg, A);
    beginFp(cpu);
    const f = double ? comi64(signalQuiet, A[0]!, A[1]!, B[0]!, B[1]!) : comi32(signalQuiet, A[0]!, B[0]!);
    commitFp(cpu);
    setArithFlags(cpu, f);
  };
}
rows.push(
  { m: "ucomiss", op: "0F 2E /r", args: "Vss,Wss", exec: comi(false, false), feature: "sse", flags: "w:oszapc" },
  { m: "ucomisd", op: "66 0F 2E /r", args: "Vsd,Wsd", exec: comi(true, false), feature: "sse2", flags: "w:oszapc" },
  { m: "comiss", op: "0F 2F /r", args: "Vss,Wss", exec: comi(false, true), feature: "sse", flags: "w:oszapc" },
  { m: "comisd", op: "66 0F 2F /r", args: "Vsd,Wsd", exec: comi(true, true), feature: "sse2", flags: "w:oszapc" },
);

// ---- ROUNDPS/PD/SS/SD (SSE4.1): imm8[1:0] mode, imm8[2] use MXCSR.RC, imm8[3] no PE ---------

function roundMode(): number {
  return (cur.imm & 4) !== 0 ? fp.rc : cur.imm & 3;
}
const round32 = (_a: number, b: number) => roundInt32(b, roundMode(), (cur.imm & 8) !== 0);
const round64 = (_alo: number, _ahi: number, blo: number, bhi: number) => roundInt64(blo, bhi, roundMode(), (cur.imm & 8) !== 0);
rows.push(
  { m: "roundps", op: "66 0F 3A 08 /r", args: "Vps,Wps,Ib", exec: packed32(round32), feature: "sse4.1" },
  { m: "roundpd", op: "66 0F 3A 09 /r", args: "Vpd,Wpd,Ib", exec: packed64(round64), feature: "sse4.1" },
  { m: "roundss", op: "66 0F 3A 0A /r", args: "Vss,Wss,Ib", exec: scalar32(round32), feature: "sse4.1" },
  { m: "roundsd", op: "66 0F 3A 0B /r", args: "Vsd,Wsd,Ib", exec: scalar64(round64), feature: "sse4.1" },
);

// ---- shuffles and unpacks ---------------------------------------------------------------

function shufps(): void {
  const m = cur.imm;
  R[0] = A[m & 3]!;
  R[1] = A[(m >> 2) & 3]!;
  R[2] = B[(m >> 4) & 3]!;
  R[3] = B[(m >> 6) & 3]!;
}
function shufpd(): void {
  const a = (cur.imm & 1) << 1;
  const b = cur.imm & 2;
  R[0] = A[a]!;
  R[1] = A[a + 1]!;
  R[2] = B[b]!;
  R[3] = B[b + 1]!;
}
function unpcklps(): void { R[0] = A[0]!; R[1] = B[0]!; R[2] = A[1]!; R[3] = B[1]!; }
function unpckhps(): void { R[0] = A[2]!; R[1] = B[2]!; R[2] = A[3]!; R[3] = B[3]!; }
function unpcklpd(): void { R[0] = A[0]!; R[1] = A[1]!; R[2] = B[0]!; R[3] = B[1]!; }
function unpckhpd(): void { R[0] = A[2]!; R[1] = A[3]!; R[2] = B[2]!; R[3] = B[3]!; }
rows.push(
  { m: "shufps", op: "0F C6 /r", args: "Vps,Wps,Ib", exec: vectorOp(shufps), feature: "sse" },
  { m: "shufpd", op: "66 0F C6 /r", args: "Vpd,Wpd,Ib", exec: vectorOp(shufpd), feature: "sse2" },
  { m: "unpcklps", op: "0F 14 /r", args: "Vps,Wps", exec: vectorOp(unpcklps), feature: "sse" },
  { m: "unpcklpd", op: "66 0F 14 /r", args: "Vpd,Wpd", exec: vectorOp(unpcklpd), feature: "sse2" },
  { m: "unpckhps", op: "0F 15 /r", args: "Vps,Wps", exec: vectorOp(unpckhps), feature: "sse" },
  { m: "unpckhpd", op: "66 0F 15 /r", args: "Vpd,Wpd", exec: vectorOp(unpckhpd), feature: "sse2" },
);

// ---- SSE3: addsub, horizontal add/sub ---------------------------------------------------------

/** A floating-point handler whose `plan` combines lanes of A and B freely into R (horizontal and mixed ops). */
function fpVector(plan: () => void) {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, true);
    readX(cpu, i.reg, A);
    cur.imm = i.immLo & 0xff;
    beginFp(cpu);
    plan();
    commitFp(cpu);
    writeX(cpu, i.reg, R);
  };
}
function lane64(k: number, op: number, alo: number, ahi: number, blo: number, bhi: number): void {
  R[k] = arith64(op, alo, ahi, blo, bhi);
  R[k + 1] = out.hi;
}
rows.push(
  {
    m: "addsubps", op: "F2 0F D0 /r", args: "Vps,Wps", feature: "sse3",
    exec: fpVector(() => {
      R[0] = arith32(OP_SUB, A[0]!, B[0]!);
      R[1] = arith32(OP_ADD, A[1]!, B[1]!);
      R[2] = arith32(OP_SUB, A[2]!, B[2]!);
      R[3] = arith32(OP_ADD, A[3]!, B[3]!);
    }),
  },
  {
    m: "addsubpd", op: "66 0F D0 /r", args: "Vpd,Wpd", feature: "sse3",
    exec: fpVector(() => {
      lane64(0, OP_SUB, A[0]!, A[1]!, B[0]!, B[1]!);
      lane64(2, OP_ADD, A[2]!, A[3]!, B[2]!, B[3]!);
    }),
  },
);
for (const [name, opcode, op] of [["hadd", 0x7c, OP_ADD], ["hsub", 0x7d, OP_SUB]] as const) {
  rows.push(
    {
      m: `${name}ps`, op: `F2 0F ${hex(opcode)} /r`, args: "Vps,Wps", feature: "sse3",
      exec: fpVector(() => {
        R[0] = arith32(op, A[0]!, A[1]!);
        R[1] = arith32(op, A[2]!, A[3]!);
        R[2] = arith32(op, B[0]!, B[1]!);
        R[3] = arith32(op, B[2]!, B[3]!);
      }),
    },
    {
      m: `${name}pd`, op: `66 0F ${hex(opcode)} /r`, args: "Vpd,Wpd", feature: "sse3",
      exec: fpVector(() => {
        lane64(0, op, A[0]!, A[1]!, A[2]!, A[3]!);
        lane64(2, op, B[0]!, B[1]!, B[2]!, B[3]!);
      }),
    },
  );
}

// ---- SSE4.1: blends, dot products, insertps, extractps ------------------------------------------

function blendps(): void {
  for (let k = 0; k < 4; k++) R[k] = (cur.imm >> k) & 1 ? B[k]! : A[k]!;
}
function blendpd(): void {
  for (let k = 0; k < 4; k++) R[k] = (cur.imm >> (k >> 1)) & 1 ? B[k]! : A[k]!;
}
const X0 = new Int32Array(4);
function blendvps(): void {
  for (let k = 0; k < 4; k++) R[k] = X0[k]! < 0 ? B[k]! : A[k]!;
}
function blendvpd(): void {
  for (let k = 0; k < 4; k++) R[k] = X0[k | 1]! < 0 ? B[k]! : A[k]!;
}

/**
 * DPPS/DPPD run as dependent steps — the masked products, then the pairwise sums
 * — and each step finishes like an instruction of its own: its flags become
 * sticky, and an unmasked exception faults before the next step (the destination
 * is written only at the end).
 */
const DP = new Int32Array(4);
function dotProduct(double: boolean) {
  return (cpu: Cpu, i: Insn) => {
    sseGuard(cpu);
    readW(cpu, i, B, 16, true);
    readX(cpu, i.reg, A);
    const m = i.immLo & 0xff;
    beginFp(cpu);
    if (double) {
      for (let k = 0; k < 2; k++) {
        if ((m >> (4 + k)) & 1) {
          DP[2 * k] = arith64(OP_MUL, A[2 * k]!, A[2 * k + 1]!, B[2 * k]!, B[2 * k + 1]!);
          DP[2 * k + 1] = out.hi;
        } else DP[2 * k] = DP[2 * k + 1] = 0;
      }
      commitFp(cpu);
      beginFp(cpu);
      const slo = arith64(OP_ADD, DP[0]!, DP[1]!, DP[2]!, DP[3]!);
      const shi = out.hi;
      commitFp(cpu);
      for (let k = 0; k < 2; k++) {
        R[2 * k] = (m >> k) & 1 ? slo : 0;
        R[2 * k + 1] = (m >> k) & 1 ? shi : 0;
      }
    } else {
      for (let k = 0; k < 4; k++) DP[k] = (m >> (4 + k)) & 1 ? arith32(OP_MUL, A[k]!, B[k]!) : 0;
      commitFp(cpu);
      beginFp(cpu);
      const s01 = arith32(OP_ADD, DP[0]!, DP[1]!);
      const s23 = arith32(OP_ADD, DP[2]!, DP[3]!);
      commitFp(cpu);
      beginFp(cpu);
      const s = arith32(OP_ADD, s01, s23);
      commitFp(cpu);
      for (let k = 0; k < 4; k++) R[k] = (m >> k) & 1 ? s : 0;
    }
    writeX(cpu, i.reg, R);
  };
}

/** INSERTPS: source lane imm[7:6] (register) or the m32, into lane imm[5:4], then zero lanes by imm[3:0]. */
function insertps(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  const m = i.immLo & 0xff;
  let v: number;
  if (i.isMem) {
    cpu.ea(i, 4);
    v = cpu.read32(cpu.eaLo, cpu.eaHi);
  } else {
    v = cpu.xmm[(i.rm << 2) + ((m >> 6) & 3)]!;
  }
  readX(cpu, i.reg, R);
  R[(m >> 4) & 3] = v;
  for (let k = 0; k < 4; k++) if ((m >> k) & 1) R[k] = 0;
  writeX(cpu, i.reg, R);
}

/** EXTRACTPS: dword lane imm[1:0] to r32/r64 (zero-extended) or m32. */
function extractps(cpu: Cpu, i: Insn): void {
  sseGuard(cpu);
  const v = cpu.xmm[(i.reg << 2) + (i.immLo & 3)]!;
  if (i.isMem) {
    cpu.ea(i, 4);
    cpu.write32(cpu.eaLo, cpu.eaHi, v);
  } else cpu.setReg(i.rm, 4, v);
}

rows.push(
  { m: "blendps", op: "66 0F 3A 0C /r", args: "Vps,Wps,Ib", exec: vectorOp(blendps), feature: "sse4.1" },
  { m: "blendpd", op: "66 0F 3A 0D /r", args: "Vpd,Wpd,Ib", exec: vectorOp(blendpd), feature: "sse4.1" },
  { m: "blendvps", op: "66 0F 38 14 /r", args: "Vps,Wps,XMM0", exec: vectorOpXmm0(blendvps, X0), feature: "sse4.1" },
  { m: "blendvpd", op: "66 0F 38 15 /r", args: "Vpd,Wpd,XMM0", exec: vectorOpXmm0(blendvpd, X0), feature: "sse4.1" },
  { m: "dpps", op: "66 0F 3A 40 /r", args: "Vps,Wps,Ib", exec: dotProduct(false), feature: "sse4.1" },
  { m: "dppd", op: "66 0F 3A 41 /r", args: "Vpd,Wpd,Ib", exec: dotProduct(true), feature: "sse4.1" },
  { m: "insertps", op: "66 0F 3A 21 /r", args: "Vps,Wss,Ib", exec: insertps, feature: "sse4.1" },
  { m: "extractps", op: "66 0F 3A 17 /r", args: "Ed,Vps,Ib", exec: extractps, feature: "sse4.1" },
);

defineRows("sse-fp", strictPrefixes(rows));
