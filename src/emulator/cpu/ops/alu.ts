// Integer arithmetic and logic: add or adc sbb and sub xor cmp (all encodings),
// inc dec neg not test. Flags are recorded lazily (flags.ts).
import type { Cpu } from "../cpu.js";
import type { ExecFn, Insn } from "../insn.js";
import { FOP_ADD, FOP_DEC, FOP_INC, FOP_LOGIC, FOP_SUB, getCF, setLazy, setLazy64 } from "../flags.js";
import { defineRows, type RowSpec } from "../table.js";
import { imm, readE, readEForWrite, readG, sizeMask, writeBackE, writeG } from "./operands.js";

/** ALU operations in ModRM /digit order (also opcode order 00..3F). */
export const ALU_ADD = 0;
export const ALU_OR = 1;
export const ALU_ADC = 2;
export const ALU_SBB = 3;
export const ALU_AND = 4;
export const ALU_SUB = 5;
export const ALU_XOR = 6;
export const ALU_CMP = 7;
const ALU_NAMES = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];

/** a OP b for 8/16/32-bit operands; records flags. */
export function alu(cpu: Cpu, op: number, size: number, a: number, b: number): number {
  const m = sizeMask(size);
  let r: number;
  switch (op) {
    case ALU_ADD: r = (a + b) & m; setLazy(cpu, FOP_ADD, size, a, b, r); return r;
    case ALU_OR: r = (a | b) & m; setLazy(cpu, FOP_LOGIC, size, a, b, r); return r;
    case ALU_ADC: r = (a + b + getCF(cpu)) & m; setLazy(cpu, FOP_ADD, size, a, b, r); return r;
    case ALU_SBB: r = (a - b - getCF(cpu)) & m; setLazy(cpu, FOP_SUB, size, a, b, r); return r;
    case ALU_AND: r = a & b & m; setLazy(cpu, FOP_LOGIC, size, a, b, r); return r;
    case ALU_SUB: case ALU_CMP: r = (a - b) & m; setLazy(cpu, FOP_SUB, size, a, b, r); return r;
    default: r = (a ^ b) & m; setLazy(cpu, FOP_LOGIC, size, a, b, r); return r;
  }
}

/** 64-bit a OP b from halves; returns the low half, high half in cpu.rhi. */
export function alu64(cpu: Cpu, op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  let lo: number, hi: number;
  switch (op) {
    case ALU_ADD: case ALU_ADC: {
      const c = op === ALU_ADC ? getCF(cpu) : 0;
      const s = (alo >>> 0) + (blo >>> 0) + c;
      lo = s | 0;
      hi = (ahi + bhi + (s > 0xffffffff ? 1 : 0)) | 0;
      setLazy64(cpu, FOP_ADD, alo, ahi, blo, bhi, lo, hi);
      break;
    }
    case ALU_SUB: case ALU_CMP: case ALU_SBB: {
      const c = op === ALU_SBB ? getCF(cpu) : 0;
      const d = (alo >>> 0) - (blo >>> 0) - c;
      lo = d | 0;
      hi = (ahi - bhi - (d < 0 ? 1 : 0)) | 0;
      setLazy64(cpu, FOP_SUB, alo, ahi, blo, bhi, lo, hi);
      break;
    }
    case ALU_OR: lo = alo | blo; hi = ahi | bhi; setLazy64(cpu, FOP_LOGIC, alo, ahi, blo, bhi, lo, hi); break;
    case ALU_AND: lo = alo & blo; hi = ahi & bhi; setLazy64(cpu, FOP_LOGIC, alo, ahi, blo, bhi, lo, hi); break;
    default: lo = alo ^ blo; hi = ahi ^ bhi; setLazy64(cpu, FOP_LOGIC, alo, ahi, blo, bhi, lo, hi); break;
  }
  cpu.rhi = hi;
  return lo;
}

// ---- Fast paths: register-register and register-immediate forms at 32 and 64
// bits, chosen at decode time. They do exactly what the general handlers do,
// minus the operand-kind and size dispatch.

function rr64(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const d = i.rm << 1;
    const s = i.reg << 1;
    const lo = alu64(cpu, op, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!);
    if (op !== ALU_CMP) { r[d] = lo; r[d + 1] = cpu.rhi; }
  };
}

function rr32(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const d = i.rm << 1;
    const v = alu(cpu, op, 4, r[d]!, r[i.reg << 1]!);
    if (op !== ALU_CMP) { r[d] = v; r[d + 1] = 0; }
  };
}

function ri64(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const d = i.rm << 1;
    const lo = alu64(cpu, op, r[d]!, r[d + 1]!, i.immLo, i.immHi);
    if (op !== ALU_CMP) { r[d] = lo; r[d + 1] = cpu.rhi; }
  };
}

function ri32(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const d = i.rm << 1;
    const v = alu(cpu, op, 4, r[d]!, i.immLo);
    if (op !== ALU_CMP) { r[d] = v; r[d + 1] = 0; }
  };
}

/** G = G op E with E a register (the 02/03 direction). */
function rrG64(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const d = i.reg << 1;
    const s = i.rm << 1;
    const lo = alu64(cpu, op, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!);
    if (op !== ALU_CMP) { r[d] = lo; r[d + 1] = cpu.rhi; }
  };
}

function rrG32(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const d = i.reg << 1;
    const v = alu(cpu, op, 4, r[d]!, r[i.rm << 1]!);
    if (op !== ALU_CMP) { r[d] = v; r[d + 1] = 0; }
  };
}

/** Picks the register fast path for 32/64-bit register forms, else the general handler. */
function pickFast(general: ExecFn, fast64: ExecFn, fast32: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => (i.isMem ? general : i.opsize === 8 ? fast64 : i.opsize === 4 ? fast32 : general);
}

/** E = E op G */
function aluEG(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    if (size === 8) {
      const blo = cpu.r[i.reg << 1]!, bhi = cpu.r[(i.reg << 1) + 1]!;
      const alo = op === ALU_CMP ? readE(cpu, i, 8) : readEForWrite(cpu, i, 8);
      const r = alu64(cpu, op, alo, cpu.rhi, blo, bhi);
      if (op !== ALU_CMP) writeBackE(cpu, i, 8, r, cpu.rhi);
      return;
    }
    const b = readG(cpu, i, size);
    const a = op === ALU_CMP ? readE(cpu, i, size) : readEForWrite(cpu, i, size);
    const r = alu(cpu, op, size, a, b);
    if (op !== ALU_CMP) writeBackE(cpu, i, size, r);
  };
}

/** G = G op E */
function aluGE(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    if (size === 8) {
      const blo = readE(cpu, i, 8), bhi = cpu.rhi;
      const r = alu64(cpu, op, cpu.r[i.reg << 1]!, cpu.r[(i.reg << 1) + 1]!, blo, bhi);
      if (op !== ALU_CMP) writeG(cpu, i, 8, r, cpu.rhi);
      return;
    }
    const b = readE(cpu, i, size);
    const r = alu(cpu, op, size, readG(cpu, i, size), b);
    if (op !== ALU_CMP) writeG(cpu, i, size, r);
  };
}

/** E = E op imm (also AL/rAX forms, which decode with rm = 0). */
function aluEI(op: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    if (size === 8) {
      const alo = op === ALU_CMP ? readE(cpu, i, 8) : readEForWrite(cpu, i, 8);
      const r = alu64(cpu, op, alo, cpu.rhi, i.immLo, i.immHi);
      if (op !== ALU_CMP) writeBackE(cpu, i, 8, r, cpu.rhi);
      return;
    }
    const a = op === ALU_CMP ? readE(cpu, i, size) : readEForWrite(cpu, i, size);
    const r = alu(cpu, op, size, a, imm(cpu, i, size));
    if (op !== ALU_CMP) writeBackE(cpu, i, size, r);
  };
}

/** Accumulator forms (AL/AX/EAX/RAX op imm) run as the r/m form with the accumulator as r/m. */
function accumulator(exec: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => {
    i.isMem = false;
    i.rm = 0;
    return exec;
  };
}

function testEG(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) {
    const alo = readE(cpu, i, 8);
    alu64(cpu, ALU_AND, alo, cpu.rhi, cpu.r[i.reg << 1]!, cpu.r[(i.reg << 1) + 1]!);
    return;
  }
  alu(cpu, ALU_AND, size, readE(cpu, i, size), readG(cpu, i, size));
}

function testEI(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) {
    const alo = readE(cpu, i, 8);
    alu64(cpu, ALU_AND, alo, cpu.rhi, i.immLo, i.immHi);
    return;
  }
  alu(cpu, ALU_AND, size, readE(cpu, i, size), imm(cpu, i, size));
}


function incDec(delta: 1 | -1): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    const cf = getCF(cpu);
    if (size === 8) {
      const alo = readEForWrite(cpu, i, 8), ahi = cpu.rhi;
      const s = (alo >>> 0) + delta;
      const lo = s | 0;
      const hi = (ahi + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
      setLazy64(cpu, delta === 1 ? FOP_INC : FOP_DEC, alo, ahi, 1, 0, lo, hi);
      cpu.fcf = cf;
      writeBackE(cpu, i, 8, lo, hi);
      return;
    }
    const a = readEForWrite(cpu, i, size);
    const r = (a + delta) & sizeMask(size);
    setLazy(cpu, delta === 1 ? FOP_INC : FOP_DEC, size, a, 1, r);
    cpu.fcf = cf;
    writeBackE(cpu, i, size, r);
  };
}

/** INC/DEC r16/r32 with the register in the opcode (40+r / 48+r, outside 64-bit mode): the r/m form. */
function opcodeRegAsRm(exec: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => {
    i.isMem = false;
    i.rm = i.reg;
    return exec;
  };
}

function neg(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) {
    const alo = readEForWrite(cpu, i, 8), ahi = cpu.rhi;
    const r = alu64(cpu, ALU_SUB, 0, 0, alo, ahi);
    writeBackE(cpu, i, 8, r, cpu.rhi);
    return;
  }
  const a = readEForWrite(cpu, i, size);
  writeBackE(cpu, i, size, alu(cpu, ALU_SUB, size, 0, a));
}

function not(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  if (size === 8) {
    const alo = readEForWrite(cpu, i, 8), ahi = cpu.rhi;
    writeBackE(cpu, i, 8, ~alo, ~ahi);
    return;
  }
  const a = readEForWrite(cpu, i, size);
  writeBackE(cpu, i, size, ~a & sizeMask(size));
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const rows: RowSpec[] = [];
ALU_NAMES.forEach((m, op) => {
  const base = op * 8;
  const ei = aluEI(op);
  const eg = pickFast(aluEG(op), rr64(op), rr32(op));
  const eiFast = pickFast(ei, ri64(op), ri32(op));
  const ge = pickFast(aluGE(op), rrG64(op), rrG32(op));
  const lock = op !== ALU_CMP;
  const flags = op === ALU_ADC || op === ALU_SBB ? "r:c w:oszapc" : op === ALU_AND || op === ALU_OR || op === ALU_XOR ? "w:oszpc u:a" : "w:oszapc";
  rows.push(
    { m, op: `${hex(base)} /r`, args: "Eb,Gb", exec: aluEG(op), lock, flags },
    { m, op: `${hex(base + 1)} /r`, args: "Ev,Gv", pick: eg, lock, flags },
    { m, op: `${hex(base + 2)} /r`, args: "Gb,Eb", exec: aluGE(op), flags },
    { m, op: `${hex(base + 3)} /r`, args: "Gv,Ev", pick: ge, flags },
    { m, op: hex(base + 4), args: "AL,Ib", pick: accumulator(ei), flags },
    { m, op: hex(base + 5), args: "rAX,Iz", pick: accumulator(ei), flags },
    { m, op: `80 /${op}`, args: "Eb,Ib", exec: ei, lock, flags },
    { m, op: `81 /${op}`, args: "Ev,Iz", pick: eiFast, lock, flags },
    { m, op: `82 /${op}`, args: "Eb,Ib", exec: ei, lock, flags, mode64: "i64" },
    { m, op: `83 /${op}`, args: "Ev,Ib", pick: eiFast, lock, flags },
  );
});
rows.push(
  { m: "test", op: "84 /r", args: "Eb,Gb", exec: testEG, flags: "w:oszpc u:a" },
  { m: "test", op: "85 /r", args: "Ev,Gv", exec: testEG, flags: "w:oszpc u:a" },
  { m: "test", op: "A8", args: "AL,Ib", pick: accumulator(testEI), flags: "w:oszpc u:a" },
  { m: "test", op: "A9", args: "rAX,Iz", pick: accumulator(testEI), flags: "w:oszpc u:a" },
  { m: "test", op: "F6 /0", args: "Eb,Ib", exec: testEI, flags: "w:oszpc u:a" },
  { m: "test", op: "F6 /1", args: "Eb,Ib", exec: testEI, flags: "w:oszpc u:a", note: "undocumented alias of F6 /0" },
  { m: "test", op: "F7 /0", args: "Ev,Iz", exec: testEI, flags: "w:oszpc u:a" },
  { m: "test", op: "F7 /1", args: "Ev,Iz", exec: testEI, flags: "w:oszpc u:a", note: "undocumented alias of F7 /0" },
  { m: "not", op: "F6 /2", args: "Eb", exec: not, lock: true },
  { m: "not", op: "F7 /2", args: "Ev", exec: not, lock: true },
  { m: "neg", op: "F6 /3", args: "Eb", exec: neg, lock: true, flags: "w:oszapc" },
  { m: "neg", op: "F7 /3", args: "Ev", exec: neg, lock: true, flags: "w:oszapc" },
  { m: "inc", op: "FE /0", args: "Eb", exec: incDec(1), lock: true, flags: "w:oszap" },
  { m: "dec", op: "FE /1", args: "Eb", exec: incDec(-1), lock: true, flags: "w:oszap" },
  { m: "inc", op: "FF /0", args: "Ev", exec: incDec(1), lock: true, flags: "w:oszap" },
  { m: "dec", op: "FF /1", args: "Ev", exec: incDec(-1), lock: true, flags: "w:oszap" },
  { m: "inc", op: "40+r", args: "Zv", pick: opcodeRegAsRm(incDec(1)), mode64: "i64", flags: "w:oszap" },
  { m: "dec", op: "48+r", args: "Zv", pick: opcodeRegAsRm(incDec(-1)), mode64: "i64", flags: "w:oszap" },
);
defineRows("alu", rows);
