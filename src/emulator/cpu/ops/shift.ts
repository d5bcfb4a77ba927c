// Shifts and rotates: rol ror rcl rcr shl shr sar (D0-D3, C0/C1 groups; count 1,
// CL or imm8) and the double-precision shifts shld/shrd, at 8/16/32/64 bits.
// Flags are computed eagerly here: each operation defines CF/OF its own way.
import type { Cpu } from "../cpu.js";
import { CF, getCF, OF, PARITY, setArithFlags, SF, updateFlags, ZF } from "../flags.js";
import type { ExecFn, Insn } from "../insn.js";
import { bit64, shl64, shr64, sar64, wide } from "../int64.js";
import { defineRows, type RowSpec } from "../table.js";
import { readEForWrite, sizeMask, writeBackE } from "./operands.js";

/** Group-2 operations in ModRM /digit order (/6 is an undocumented alias of SHL). */
const ROL = 0;
const ROR = 1;
const RCL = 2;
const RCR = 3;
const SHL = 4;
const SHR = 5;
const SHL_ALIAS = 6;
const SAR = 7;
const GROUP2_NAMES = ["rol", "ror", "rcl", "rcr", "shl", "shr", "shl", "sar"];

/** Where the count comes from. */
const COUNT_ONE = 0;
const COUNT_CL = 1;
const COUNT_IMM = 2;

/** Slot of CL in the register file (r[2n] is the low half of GPR n). */
const RCX = 2;

function rawCount(cpu: Cpu, i: Insn, source: number): number {
  return source === COUNT_ONE ? 1 : source === COUNT_CL ? cpu.r[RCX]! : i.immLo;
}

/** CF|PF|ZF|SF|OF for a shift result of `size` bytes (AF, undefined, is cleared). */
function shiftFlags(cpu: Cpu, cf: number, of: number, r: number, size: number): void {
  const sign = (r >>> (size * 8 - 1)) & 1;
  setArithFlags(cpu, cf | (PARITY[r & 0xff]! << 2) | (r === 0 ? ZF : 0) | (sign << 7) | (of << 11));
}

function shiftFlags64(cpu: Cpu, cf: number, of: number, lo: number, hi: number): void {
  setArithFlags(cpu, cf | (PARITY[lo & 0xff]! << 2) | ((lo | hi) === 0 ? ZF : 0) | (hi < 0 ? SF : 0) | (of << 11));
}

/** Rotates change only CF and OF. */
function rotateFlags(cpu: Cpu, cf: number, of: number): void {
  updateFlags(cpu, CF | OF, cf | (of << 11));
}

/**
 * One group-2 operation on an 8/16/32-bit value (zero-extended) with a masked,
 * non-zero count; sets the flags and returns the result.
 */
function group2(cpu: Cpu, op: number, size: number, a: number, c: number): number {
  const w = size * 8;
  const mask = sizeMask(size);
  const top = w - 1;
  switch (op) {
    case ROL: {
      const k = c & top;
      const r = k === 0 ? a : ((a << k) | (a >>> (w - k))) & mask;
      const cf = r & 1;
      rotateFlags(cpu, cf, ((r >>> top) & 1) ^ cf);
      return r;
    }
    case ROR: {
      const k = c & top;
      const r = k === 0 ? a : ((a >>> k) | (a << (w - k))) & mask;
      const cf = (r >>> top) & 1;
      rotateFlags(cpu, cf, cf ^ ((r >>> (top - 1)) & 1));
      return r;
    }
    case RCL: {
      // Rotation through CF is a (w+1)-bit rotation: modulo 9/17 for bytes/words.
      const k = w === 32 ? c : c % (w + 1);
      if (k === 0) return a;
      const r = ((a << k) | (getCF(cpu) << (k - 1)) | (k > 1 ? a >>> (w + 1 - k) : 0)) & mask;
      const cf = (a >>> (w - k)) & 1;
      rotateFlags(cpu, cf, ((r >>> top) & 1) ^ cf);
      return r;
    }
    case RCR: {
      const k = w === 32 ? c : c % (w + 1);
      if (k === 0) return a;
      const r = ((a >>> k) | (getCF(cpu) << (w - k)) | (k > 1 ? a << (w + 1 - k) : 0)) & mask;
      const cf = (a >>> (k - 1)) & 1;
      rotateFlags(cpu, cf, ((r >>> top) ^ (r >>> (top - 1))) & 1);
      return r;
    }
    case SHR: {
      const r = a >>> c;
      shiftFlags(cpu, (a >>> (c - 1)) & 1, (a >>> top) & 1, r, size);
      return r;
    }
    case SAR: {
      const sa = (a << (32 - w)) >> (32 - w);
      const r = (sa >> c) & mask;
      shiftFlags(cpu, (sa >> (c - 1)) & 1, 0, r, size);
      return r;
    }
    default: { // SHL
      const r = (a << c) & mask;
      const cf = c <= w ? (a >>> (w - c)) & 1 : 0;
      shiftFlags(cpu, cf, ((r >>> top) & 1) ^ cf, r, size);
      return r;
    }
  }
}

/** The 64-bit group-2 operation (count 1..63); returns the low half, high half in cpu.rhi. */
function group2x64(cpu: Cpu, op: number, alo: number, ahi: number, c: number): number {
  let lo: number, hi: number;
  switch (op) {
    case ROL: {
      lo = shl64(alo, ahi, c); hi = wide.hi;
      lo |= shr64(alo, ahi, 64 - c); hi |= wide.hi;
      const cf = lo & 1;
      rotateFlags(cpu, cf, (hi >>> 31) ^ cf);
      break;
    }
    case ROR: {
      lo = shr64(alo, ahi, c); hi = wide.hi;
      lo |= shl64(alo, ahi, 64 - c); hi |= wide.hi;
      const cf = hi >>> 31;
      rotateFlags(cpu, cf, cf ^ ((hi >>> 30) & 1));
      break;
    }
    case RCL: {
      const cfIn = getCF(cpu);
      lo = shl64(alo, ahi, c); hi = wide.hi;
      lo |= shr64(alo, ahi, 65 - c); hi |= wide.hi; // c = 1 shifts by 64: nothing
      if (c <= 32) lo |= cfIn << (c - 1); else hi |= cfIn << (c - 33);
      const cf = bit64(alo, ahi, 64 - c);
      rotateFlags(cpu, cf, (hi >>> 31) ^ cf);
      break;
    }
    case RCR: {
      const cfIn = getCF(cpu);
      lo = shr64(alo, ahi, c); hi = wide.hi;
      lo |= shl64(alo, ahi, 65 - c); hi |= wide.hi;
      if (c <= 32) hi |= cfIn << (32 - c); else lo |= cfIn << (64 - c);
      const cf = bit64(alo, ahi, c - 1);
      rotateFlags(cpu, cf, ((hi >>> 31) ^ (hi >>> 30)) & 1);
      break;
    }
    case SHR: {
      lo = shr64(alo, ahi, c); hi = wide.hi;
      shiftFlags64(cpu, bit64(alo, ahi, c - 1), ahi >>> 31, lo, hi);
      break;
    }
    case SAR: {
      lo = sar64(alo, ahi, c); hi = wide.hi;
      shiftFlags64(cpu, bit64(alo, ahi, c - 1), 0, lo, hi);
      break;
    }
    default: {
      lo = shl64(alo, ahi, c); hi = wide.hi;
      const cf = bit64(alo, ahi, 64 - c);
      shiftFlags64(cpu, cf, (hi >>> 31) ^ cf, lo, hi);
      break;
    }
  }
  cpu.rhi = hi;
  return lo;
}

/**
 * Group-2 handler for one operation and count source. A masked count of 0 changes
 * no flags, but the operand is still written back (a 32-bit register zero-extends).
 */
function group2Exec(digit: number, source: number): ExecFn {
  const op = digit === SHL_ALIAS ? SHL : digit;
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    if (size === 8) {
      const c = rawCount(cpu, i, source) & 63;
      const alo = readEForWrite(cpu, i, 8), ahi = cpu.rhi;
      if (c === 0) { writeBackE(cpu, i, 8, alo, ahi); return; }
      const lo = group2x64(cpu, op, alo, ahi, c);
      writeBackE(cpu, i, 8, lo, cpu.rhi);
      return;
    }
    const c = rawCount(cpu, i, source) & 31;
    const a = readEForWrite(cpu, i, size);
    writeBackE(cpu, i, size, c === 0 ? a : group2(cpu, op, size, a, c));
  };
}

// ---- SHLD / SHRD: shift E, filling from G -------------------------------------------

/**
 * Double shift of 16/32-bit d (destination) with bits from s, count 1..31. For
 * 16-bit operands a count above 16 is undefined; it is computed on the 48-bit
 * concatenation d:s:d (Intel's behaviour).
 */
function doubleShift(cpu: Cpu, left: boolean, size: number, d: number, s: number, c: number): number {
  let r: number, cf: number;
  if (size === 2) {
    if (left) {
      const t = (d << 16) | s;
      r = ((t << c) | (c > 16 ? d << (c - 16) : 0)) >>> 16;
      cf = (t >>> (32 - c)) & 1;
    } else {
      const t = (s << 16) | d;
      r = ((t >>> c) | (c > 16 ? d << (32 - c) : 0)) & 0xffff;
      cf = (t >>> (c - 1)) & 1;
    }
  } else if (left) {
    r = (d << c) | (s >>> (32 - c));
    cf = (d >>> (32 - c)) & 1;
  } else {
    r = (d >>> c) | (s << (32 - c));
    cf = (d >>> (c - 1)) & 1;
  }
  const top = size * 8 - 1;
  shiftFlags(cpu, cf, ((r ^ d) >>> top) & 1, r, size);
  return r;
}

function doubleShiftExec(left: boolean, source: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    const k = i.reg << 1;
    if (size === 8) {
      const c = rawCount(cpu, i, source) & 63;
      const dlo = readEForWrite(cpu, i, 8), dhi = cpu.rhi;
      if (c === 0) { writeBackE(cpu, i, 8, dlo, dhi); return; }
      const slo = cpu.r[k]!, shi = cpu.r[k + 1]!;
      let lo: number, hi: number, cf: number;
      if (left) {
        lo = shl64(dlo, dhi, c); hi = wide.hi;
        lo |= shr64(slo, shi, 64 - c); hi |= wide.hi;
        cf = bit64(dlo, dhi, 64 - c);
      } else {
        lo = shr64(dlo, dhi, c); hi = wide.hi;
        lo |= shl64(slo, shi, 64 - c); hi |= wide.hi;
        cf = bit64(dlo, dhi, c - 1);
      }
      shiftFlags64(cpu, cf, (hi ^ dhi) >>> 31, lo, hi);
      writeBackE(cpu, i, 8, lo, hi);
      return;
    }
    const c = rawCount(cpu, i, source) & 31;
    const d = readEForWrite(cpu, i, size);
    const s = cpu.getReg(i.reg, size);
    writeBackE(cpu, i, size, c === 0 ? d : doubleShift(cpu, left, size, d, s, c));
  };
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const rows: RowSpec[] = [];
GROUP2_NAMES.forEach((m, op) => {
  const flags = op <= ROR ? "w:oc" : op <= RCR ? "r:c w:oc" : "w:oszpc u:a";
  const note = op === SHL_ALIAS ? "undocumented alias of /4" : undefined;
  const one = group2Exec(op, COUNT_ONE), cl = group2Exec(op, COUNT_CL), ib = group2Exec(op, COUNT_IMM);
  const forms: [number, string, ExecFn][] = [
    [0xd0, "Eb,1", one], [0xd1, "Ev,1", one], [0xd2, "Eb,CL", cl], [0xd3, "Ev,CL", cl], [0xc0, "Eb,Ib", ib], [0xc1, "Ev,Ib", ib],
  ];
  for (const [opcode, args, exec] of forms) {
    const row: RowSpec = { m, op: `${hex(opcode)} /${op}`, args, exec, flags };
    if (note !== undefined) row.note = note;
    rows.push(row);
  }
});
rows.push(
  { m: "shld", op: "0F A4 /r", args: "Ev,Gv,Ib", exec: doubleShiftExec(true, COUNT_IMM), flags: "w:oszpc u:a" },
  { m: "shld", op: "0F A5 /r", args: "Ev,Gv,CL", exec: doubleShiftExec(true, COUNT_CL), flags: "w:oszpc u:a" },
  { m: "shrd", op: "0F AC /r", args: "Ev,Gv,Ib", exec: doubleShiftExec(false, COUNT_IMM), flags: "w:oszpc u:a" },
  { m: "shrd", op: "0F AD /r", args: "Ev,Gv,CL", exec: doubleShiftExec(false, COUNT_CL), flags: "w:oszpc u:a" },
);
defineRows("shift", rows);
