// Near control flow: jcc, jmp, call, ret, loop/loope/loopne, jrcxz/jecxz/jcxz.
// Far transfers (EA, 9A, FF /3, FF /5, CA, CB, iret) are system.ts's. Every
// target is checked (canonical in 64-bit mode, CS limit elsewhere) before any
// state changes; a branch is taken by assigning cpu.nextRip.
//
// Operand size: in 64-bit mode near branches are 64-bit whatever the prefixes
// (the Intel rule, "f64"; AMD honours 66 there, which no compiler emits).
import type { Cpu } from "../cpu.js";
import { getZF, testCondition } from "../flags.js";
import { MODE_16, MODE_64, SEG_CS, type ExecFn, type Insn } from "../insn.js";
import { CONDITION_NAMES, defineRows, type RowSpec } from "../table.js";
import { readE } from "./operands.js";

const TWO32 = 4294967296;
/** Canonical addresses are [-2^47, 2^47) as signed values. */
const CANONICAL_LIMIT = 0x800000000000;

/**
 * The validated address of a near branch target (a double). In 64-bit mode a
 * non-canonical target raises #GP(0); otherwise the target wraps to the operand
 * size (IP/EIP) and must lie within the CS limit.
 */
function nearTarget(cpu: Cpu, opsize: number, target: number): number {
  if (cpu.mode === MODE_64) {
    if (target < -CANONICAL_LIMIT || target >= CANONICAL_LIMIT) cpu.gp(0);
    return target;
  }
  const t = opsize === 2 ? target & 0xffff : target >>> 0;
  if (t > cpu.segLimit[SEG_CS]!) cpu.gp(0);
  return t;
}

/** The r/m operand of an indirect branch as an address (64-bit values as signed doubles). */
function readTarget(cpu: Cpu, i: Insn): number {
  const size = i.opsize;
  const lo = readE(cpu, i, size);
  if (size === 8) return cpu.rhi * TWO32 + (lo >>> 0);
  return size === 4 ? lo >>> 0 : lo & 0xffff;
}

/** Pushes the return address (the next instruction) at the operand size. */
function pushReturn(cpu: Cpu, size: number): void {
  const next = cpu.nextRip;
  cpu.push(size, next | 0, Math.floor(next / TWO32) | 0);
}

function jcc(cc: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    if (testCondition(cpu, cc)) cpu.nextRip = nearTarget(cpu, i.opsize, cpu.nextRip + i.immLo);
  };
}

function jmpRel(cpu: Cpu, i: Insn): void {
  cpu.nextRip = nearTarget(cpu, i.opsize, cpu.nextRip + i.immLo);
}

function jmpE(cpu: Cpu, i: Insn): void {
  cpu.nextRip = nearTarget(cpu, i.opsize, readTarget(cpu, i));
}

function callRel(cpu: Cpu, i: Insn): void {
  const target = nearTarget(cpu, i.opsize, cpu.nextRip + i.immLo);
  pushReturn(cpu, i.opsize);
  cpu.nextRip = target;
}

/** call r/m: the operand is read before the push ("call [rsp]" uses the old RSP). */
function callE(cpu: Cpu, i: Insn): void {
  const target = nearTarget(cpu, i.opsize, readTarget(cpu, i));
  pushReturn(cpu, i.opsize);
  cpu.nextRip = target;
}

/** ret / ret imm16: the return address is checked before RSP moves. */
function ret(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const lo = cpu.peek(size);
  const raw = size === 8 ? cpu.rhi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo & 0xffff;
  const target = nearTarget(cpu, size, raw);
  cpu.adjustSp(size + (i.immLo & 0xffff));
  cpu.nextRip = target;
}

// loop kinds
const LOOP = 0;
const LOOPE = 1;
const LOOPNE = 2;

/**
 * loop/loope/loopne: decrement the count register (RCX, ECX with 0x67, CX with
 * a 16-bit address size) without touching flags, then branch while it is
 * non-zero (and ZF agrees). The count is written only after the target passed
 * its checks.
 */
function loop(kind: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const r = cpu.r;
    const ad = i.adsize;
    let lo: number, hi: number, nonzero: boolean;
    if (ad === 8) {
      lo = (r[2]! - 1) | 0;
      hi = r[2] === 0 ? (r[3]! - 1) | 0 : r[3]!;
      nonzero = (lo | hi) !== 0;
    } else if (ad === 4) {
      lo = (r[2]! - 1) | 0;
      hi = 0;
      nonzero = lo !== 0;
    } else {
      lo = (r[2]! & ~0xffff) | ((r[2]! - 1) & 0xffff);
      hi = r[3]!;
      nonzero = (lo & 0xffff) !== 0;
    }
    let taken = nonzero;
    if (kind === LOOPE) taken = taken && getZF(cpu) !== 0;
    else if (kind === LOOPNE) taken = taken && getZF(cpu) === 0;
    const target = taken ? nearTarget(cpu, i.opsize, cpu.nextRip + i.immLo) : 0;
    r[2] = lo;
    r[3] = hi;
    if (taken) cpu.nextRip = target;
  };
}

/** jrcxz/jecxz/jcxz: branch when the count register at the address size is zero. */
function jrcxz(cpu: Cpu, i: Insn): void {
  const r = cpu.r;
  const ad = i.adsize;
  const zero = ad === 8 ? (r[2]! | r[3]!) === 0 : ad === 4 ? r[2] === 0 : (r[2]! & 0xffff) === 0;
  if (zero) cpu.nextRip = nearTarget(cpu, i.opsize, cpu.nextRip + i.immLo);
}

/**
 * Rel8 rows ("Jb") are sized by the decoder from their only operand, a byte;
 * the branch itself has the mode's operand size (66 toggles it outside 64-bit
 * mode), which decides how the target wraps.
 */
function rel8(exec: ExecFn): (i: Insn) => ExecFn {
  return (i: Insn) => {
    i.opsize = i.mode === MODE_64 ? 8 : (i.mode === MODE_16) !== i.prefix66 ? 2 : 4;
    return exec;
  };
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
/** Flags read by condition cc (documentation in the rows). */
const CONDITION_FLAGS = ["o", "o", "c", "c", "z", "z", "cz", "cz", "s", "s", "p", "p", "so", "so", "szo", "szo"];

const rows: RowSpec[] = [];
CONDITION_NAMES.forEach((name, cc) => {
  const flags = `r:${CONDITION_FLAGS[cc]}`;
  const exec = jcc(cc);
  rows.push({ m: `j${name}`, op: hex(0x70 + cc), args: "Jb", pick: rel8(exec), mode64: "f64", flags });
  rows.push({ m: `j${name}`, op: `0F ${hex(0x80 + cc)}`, args: "Jz", exec, mode64: "f64", flags });
});
rows.push(
  { m: "jmp", op: "EB", args: "Jb", pick: rel8(jmpRel), mode64: "f64" },
  { m: "jmp", op: "E9", args: "Jz", exec: jmpRel, mode64: "f64" },
  { m: "jmp", op: "FF /4", args: "Ev", exec: jmpE, mode64: "f64" },
  { m: "call", op: "E8", args: "Jz", exec: callRel, mode64: "f64" },
  { m: "call", op: "FF /2", args: "Ev", exec: callE, mode64: "f64" },
  { m: "ret", op: "C3", args: "", exec: ret, mode64: "f64" },
  { m: "ret", op: "C2", args: "Iw", exec: ret, mode64: "f64" },
  { m: "loopne", op: "E0", args: "Jb", pick: rel8(loop(LOOPNE)), mode64: "f64", flags: "r:z" },
  { m: "loope", op: "E1", args: "Jb", pick: rel8(loop(LOOPE)), mode64: "f64", flags: "r:z" },
  { m: "loop", op: "E2", args: "Jb", pick: rel8(loop(LOOP)), mode64: "f64" },
  { m: "jrcxz", op: "E3", args: "Jb", pick: rel8(jrcxz), mode64: "f64", note: "jecxz with 0x67 in 64-bit mode; jcxz/jecxz by address size elsewhere" },
);
defineRows("branch", rows);
