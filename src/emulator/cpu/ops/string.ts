// String instructions: movs stos lods cmps scas (b/w/d/q) with REP/REPE/REPNE,
// DF, 16/32/64-bit address sizes and a segment override on the source (ins/outs
// are io.ts's). REP movs/stos copy page-chunk by page-chunk through physical RAM.
//
// Restartability: RSI/RDI/RCX are updated after every completed element (or
// bulk chunk), and RIP only moves past the instruction once RCX reaches 0 (or
// REPE/REPNE stops). A fault mid-way therefore leaves the registers describing
// the finished iterations with RIP at the instruction, as the SDM requires. An
// execution also stops after REP_SLICE iterations with RIP left at the
// instruction, so the run loop (and its interrupts and virtual clock) gets in
// between slices of a long REP, exactly as hardware takes interrupts between
// iterations.
import type { Cpu } from "../cpu.js";
import { EXC_GP, EXC_SS } from "../fault.js";
import { DF } from "../flags.js";
import { MODE_64, REP_E, REP_NONE, SEG_ES, SEG_FS, SEG_SS, type ExecFn, type Insn } from "../insn.js";
import { ACC_READ, ACC_WRITE } from "../../mmu/tlb.js";
import { defineRows, type RowSpec } from "../table.js";
import { alu, alu64, ALU_CMP } from "./alu.js";
import { readAt, writeAt } from "./operands.js";

const TWO32 = 4294967296;
const RCX = 1;
const RSI = 6;
const RDI = 7;

/** Most iterations one execution of a REP instruction performs before RIP is left at it for a re-run. */
export const REP_SLICE = 65536;

// ---------------------------------------------------------------------------
// Addressing through rSI / rDI / rCX at the address size
// ---------------------------------------------------------------------------

/** Linear address of seg:[index register n] for `size` bytes into cpu.eaLo/eaHi (canonical/limit checked). */
function indexLinear(cpu: Cpu, seg: number, n: number, adsize: number, size: number): void {
  const r = cpu.r;
  const k = n << 1;
  if (adsize === 8) {
    let lo = r[k]! >>> 0;
    let hi = r[k + 1]!;
    if (seg >= SEG_FS) {
      lo += cpu.segBaseLo[seg]! >>> 0;
      hi = (hi + cpu.segBaseHi[seg]! + (lo >= TWO32 ? 1 : 0)) | 0;
    }
    cpu.eaLo = lo | 0;
    cpu.eaHi = hi;
    if (((hi << 16) >> 16) !== hi) cpu.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    return;
  }
  cpu.segmentLinear(seg, adsize === 4 ? r[k]! >>> 0 : r[k]! & 0xffff, size);
}

/** Adds delta (|delta| < 2^32) to register n at the address size; a 32-bit update zero-extends. */
function advance(cpu: Cpu, n: number, adsize: number, delta: number): void {
  const r = cpu.r;
  const k = n << 1;
  if (adsize === 8) {
    const lo = (r[k]! >>> 0) + delta;
    r[k] = lo | 0;
    if (lo >= TWO32) r[k + 1] = (r[k + 1]! + 1) | 0;
    else if (lo < 0) r[k + 1] = (r[k + 1]! - 1) | 0;
  } else if (adsize === 4) {
    r[k] = (r[k]! + delta) | 0;
    r[k + 1] = 0;
  } else {
    r[k] = (r[k]! & ~0xffff) | ((r[k]! + delta) & 0xffff);
  }
}

/** The count register at the address size, capped at 2^32 (more than any slice needs). */
function countOf(cpu: Cpu, adsize: number): number {
  const r = cpu.r;
  if (adsize === 8) return r[3] !== 0 ? TWO32 : r[2]! >>> 0;
  if (adsize === 4) return r[2]! >>> 0;
  return r[2]! & 0xffff;
}

/**
 * How many whole elements fit between register n's offset and the end of the
 * segment or the address-size wrap (the bulk path must stop there; the element
 * path then faults or wraps exactly as one element would). 0 for expand-down
 * segments, which only the element path handles.
 */
function offsetRoom(cpu: Cpu, seg: number, n: number, adsize: number, size: number): number {
  if (adsize === 8) return TWO32;
  const v = cpu.r[n << 1]!;
  const off = adsize === 4 ? v >>> 0 : v & 0xffff;
  let room = (adsize === 4 ? TWO32 : 0x10000) - off;
  if (cpu.mode !== MODE_64) {
    if ((cpu.segAttr[seg]! & 0x1c) === 0x14) return 0;
    room = Math.min(room, cpu.segLimit[seg]! + 1 - off);
  }
  return Math.floor(room / size);
}

/** Physical address p lies in plain RAM (not MMIO), so typed-array copies may touch it. */
function isRam(cpu: Cpu, p: number): boolean {
  return p < cpu.mem.size && cpu.mem.isRamPage(p >>> 12);
}

// ---------------------------------------------------------------------------
// One element (the general path: any DF, MMIO, page-straddling elements)
// ---------------------------------------------------------------------------

function movsOne(cpu: Cpu, i: Insn, size: number, delta: number): void {
  const ad = i.adsize;
  indexLinear(cpu, i.seg, RSI, ad, size);
  const lo = readAt(cpu, size), hi = cpu.rhi;
  indexLinear(cpu, SEG_ES, RDI, ad, size);
  writeAt(cpu, size, lo, hi);
  advance(cpu, RSI, ad, delta);
  advance(cpu, RDI, ad, delta);
}

function stosOne(cpu: Cpu, i: Insn, size: number, delta: number): void {
  const ad = i.adsize;
  indexLinear(cpu, SEG_ES, RDI, ad, size);
  writeAt(cpu, size, cpu.r[0]!, cpu.r[1]!);
  advance(cpu, RDI, ad, delta);
}

function lodsOne(cpu: Cpu, i: Insn, size: number, delta: number): void {
  const ad = i.adsize;
  indexLinear(cpu, i.seg, RSI, ad, size);
  const lo = readAt(cpu, size);
  cpu.setReg(0, size, lo, cpu.rhi);
  advance(cpu, RSI, ad, delta);
}

/** cmps: flags of [seg:rSI] - [ES:rDI]; returns true when equal. */
function cmpsOne(cpu: Cpu, i: Insn, size: number, delta: number): boolean {
  const ad = i.adsize;
  indexLinear(cpu, i.seg, RSI, ad, size);
  const alo = readAt(cpu, size), ahi = cpu.rhi;
  indexLinear(cpu, SEG_ES, RDI, ad, size);
  const blo = readAt(cpu, size), bhi = cpu.rhi;
  advance(cpu, RSI, ad, delta);
  advance(cpu, RDI, ad, delta);
  if (size === 8) {
    alu64(cpu, ALU_CMP, alo, ahi, blo, bhi);
    return alo === blo && ahi === bhi;
  }
  alu(cpu, ALU_CMP, size, alo, blo);
  return alo === blo;
}

/** scas: flags of accumulator - [ES:rDI]; returns true when equal. */
function scasOne(cpu: Cpu, i: Insn, size: number, delta: number): boolean {
  const ad = i.adsize;
  indexLinear(cpu, SEG_ES, RDI, ad, size);
  const blo = readAt(cpu, size), bhi = cpu.rhi;
  advance(cpu, RDI, ad, delta);
  if (size === 8) {
    const alo = cpu.r[0]!, ahi = cpu.r[1]!;
    alu64(cpu, ALU_CMP, alo, ahi, blo, bhi);
    return alo === blo && ahi === bhi;
  }
  const a = cpu.getReg(0, size);
  alu(cpu, ALU_CMP, size, a, blo);
  return a === blo;
}

// ---------------------------------------------------------------------------
// Bulk chunks (DF = 0, RAM only): at most one page on each side per chunk
// ---------------------------------------------------------------------------

/**
 * Copies `bytes` bytes from physical sp to dp with the result of copying
 * size-byte elements one after another in ascending order. That equals
 * memmove unless the destination starts inside the source ahead of it; then
 * each element may read bytes an earlier element wrote.
 */
function copyAscending(cpu: Cpu, sp: number, dp: number, bytes: number, size: number): void {
  const ram = cpu.ram;
  if (dp <= sp || dp >= sp + bytes) {
    ram.copyWithin(dp, sp, sp + bytes);
    return;
  }
  const dist = dp - sp;
  if (dist >= size) {
    // Whole elements never read their own destination, so this is a byte-wise
    // ascending copy, whose result repeats the first `dist` source bytes:
    // copy them once, then double the filled part.
    ram.copyWithin(dp, sp, sp + dist);
    for (let done = dist; done < bytes; done *= 2) ram.copyWithin(dp + done, dp, dp + Math.min(done, bytes - done));
    return;
  }
  // Each element is read whole before it is written.
  const dv = cpu.dv;
  for (let k = 0; k < bytes; k += size) {
    if (size === 2) dv.setUint16(dp + k, dv.getUint16(sp + k, true), true);
    else if (size === 4) dv.setInt32(dp + k, dv.getInt32(sp + k, true), true);
    else {
      const lo = dv.getInt32(sp + k, true), hi = dv.getInt32(sp + k + 4, true);
      dv.setInt32(dp + k, lo, true);
      dv.setInt32(dp + k + 4, hi, true);
    }
  }
}

/** Fills count elements of `size` bytes at physical p with the accumulator's low bytes. */
function fillElements(cpu: Cpu, p: number, count: number, size: number): void {
  const ram = cpu.ram;
  const r = cpu.r;
  if (size === 1) {
    ram.fill(r[0]! & 0xff, p, p + count);
    return;
  }
  const dv = cpu.dv;
  if (size === 2) dv.setUint16(p, r[0]!, true);
  else {
    dv.setInt32(p, r[0]!, true);
    if (size === 8) dv.setInt32(p + 4, r[1]!, true);
  }
  const total = count * size;
  for (let done = size; done < total; done *= 2) ram.copyWithin(p + done, p, p + Math.min(done, total - done));
}

/** Drops decoded code cached for a physical page that a bulk write is about to change. */
function noteWrite(cpu: Cpu, p: number): void {
  const page = p >>> 12;
  if (cpu.codePage[page] !== 0) cpu.invalidateCode(page);
}

/** One bulk movs chunk of at most max elements; returns how many were copied (0: use the element path). */
function movsChunk(cpu: Cpu, i: Insn, size: number, max: number): number {
  const ad = i.adsize;
  let n = Math.min(max, offsetRoom(cpu, i.seg, RSI, ad, size), offsetRoom(cpu, SEG_ES, RDI, ad, size));
  if (n < 2) return 0;
  indexLinear(cpu, i.seg, RSI, ad, size);
  const sLo = cpu.eaLo, sHi = cpu.eaHi;
  indexLinear(cpu, SEG_ES, RDI, ad, size);
  const dLo = cpu.eaLo, dHi = cpu.eaHi;
  n = Math.min(n, ((0x1000 - (sLo & 0xfff)) / size) | 0, ((0x1000 - (dLo & 0xfff)) / size) | 0);
  if (n < 2) return 0;
  const sp = cpu.translate(sLo, sHi, ACC_READ, cpu.needR);
  const dp = cpu.translate(dLo, dHi, ACC_WRITE, cpu.needW);
  if (!isRam(cpu, sp) || !isRam(cpu, dp)) return 0;
  noteWrite(cpu, dp);
  const bytes = n * size;
  copyAscending(cpu, sp, dp, bytes, size);
  advance(cpu, RSI, ad, bytes);
  advance(cpu, RDI, ad, bytes);
  return n;
}

/** One bulk stos chunk; returns how many elements were stored (0: use the element path). */
function stosChunk(cpu: Cpu, i: Insn, size: number, max: number): number {
  const ad = i.adsize;
  let n = Math.min(max, offsetRoom(cpu, SEG_ES, RDI, ad, size));
  if (n < 2) return 0;
  indexLinear(cpu, SEG_ES, RDI, ad, size);
  const dLo = cpu.eaLo, dHi = cpu.eaHi;
  n = Math.min(n, ((0x1000 - (dLo & 0xfff)) / size) | 0);
  if (n < 2) return 0;
  const dp = cpu.translate(dLo, dHi, ACC_WRITE, cpu.needW);
  if (!isRam(cpu, dp)) return 0;
  noteWrite(cpu, dp);
  fillElements(cpu, dp, n, size);
  advance(cpu, RDI, ad, n * size);
  return n;
}

// ---------------------------------------------------------------------------
// Handlers (one per operation and element size, built at module load)
// ---------------------------------------------------------------------------

type Element = (cpu: Cpu, i: Insn, size: number, delta: number) => void;
type Chunk = (cpu: Cpu, i: Insn, size: number, max: number) => number;

/** movs/stos/lods: REP (F3, and F2 which these treat the same) repeats until rCX = 0. */
function repeating(size: number, one: Element, chunk: Chunk | null): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const delta = (cpu.flags & DF) !== 0 ? -size : size;
    if (i.rep === REP_NONE) {
      one(cpu, i, size, delta);
      return;
    }
    const ad = i.adsize;
    let budget = REP_SLICE;
    for (;;) {
      const count = countOf(cpu, ad);
      if (count === 0) return;
      if (budget === 0) { cpu.nextRip = cpu.rip; return; }
      let done = chunk !== null && delta > 0 ? chunk(cpu, i, size, Math.min(count, budget)) : 0;
      if (done === 0) {
        one(cpu, i, size, delta);
        done = 1;
      }
      advance(cpu, RCX, ad, -done);
      budget -= done;
    }
  };
}

type Compare = (cpu: Cpu, i: Insn, size: number, delta: number) => boolean;

/** cmps/scas: REPE (F3) repeats while equal, REPNE (F2) while not equal, both at most rCX times. */
function comparing(size: number, one: Compare): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const delta = (cpu.flags & DF) !== 0 ? -size : size;
    if (i.rep === REP_NONE) {
      one(cpu, i, size, delta);
      return;
    }
    const ad = i.adsize;
    const whileEqual = i.rep === REP_E;
    let budget = REP_SLICE;
    for (;;) {
      if (countOf(cpu, ad) === 0) return;
      if (budget === 0) { cpu.nextRip = cpu.rip; return; }
      const equal = one(cpu, i, size, delta);
      advance(cpu, RCX, ad, -1);
      budget--;
      if (equal !== whileEqual) return;
    }
  };
}

/** Handlers indexed by element size (1, 2, 4, 8). */
function bySize(make: (size: number) => ExecFn): ExecFn[] {
  const out: ExecFn[] = [];
  for (const s of [1, 2, 4, 8]) out[s] = make(s);
  return out;
}

const movs = bySize((s) => repeating(s, movsOne, movsChunk));
const stos = bySize((s) => repeating(s, stosOne, stosChunk));
const lods = bySize((s) => repeating(s, lodsOne, null));
const cmps = bySize((s) => comparing(s, cmpsOne));
const scas = bySize((s) => comparing(s, scasOne));

function pickBySize(table: ExecFn[]): (i: Insn) => ExecFn {
  return (i: Insn) => table[i.opsize]!;
}

const rows: RowSpec[] = [
  { m: "movsb", op: "A4", args: "Yb,Xb", exec: movs[1]!, rep: "rep" },
  { m: "movs", op: "A5", args: "Yv,Xv", pick: pickBySize(movs), rep: "rep", note: "movsw/movsd/movsq" },
  { m: "cmpsb", op: "A6", args: "Xb,Yb", exec: cmps[1]!, rep: "repe", flags: "r:d w:oszapc" },
  { m: "cmps", op: "A7", args: "Xv,Yv", pick: pickBySize(cmps), rep: "repe", flags: "r:d w:oszapc", note: "cmpsw/cmpsd/cmpsq" },
  { m: "stosb", op: "AA", args: "Yb,AL", exec: stos[1]!, rep: "rep" },
  { m: "stos", op: "AB", args: "Yv,rAX", pick: pickBySize(stos), rep: "rep", note: "stosw/stosd/stosq" },
  { m: "lodsb", op: "AC", args: "AL,Xb", exec: lods[1]!, rep: "rep" },
  { m: "lods", op: "AD", args: "rAX,Xv", pick: pickBySize(lods), rep: "rep", note: "lodsw/lodsd/lodsq" },
  { m: "scasb", op: "AE", args: "AL,Yb", exec: scas[1]!, rep: "repe", flags: "r:d w:oszapc" },
  { m: "scas", op: "AF", args: "rAX,Yv", pick: pickBySize(scas), rep: "repe", flags: "r:d w:oszapc", note: "scasw/scasd/scasq" },
];
defineRows("string", rows);
