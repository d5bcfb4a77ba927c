// Stack instructions: push/pop (registers, immediates, memory), pushf/popf with
// their privilege rules, enter/leave, and pusha/popa outside 64-bit mode.
// Segment-register pushes and pops belong to system.ts. Every instruction here
// either completes or faults with RSP and the registers unchanged.
import type { Cpu } from "../cpu.js";
import { EXC_SS } from "../fault.js";
import { AC, ID, IF, IOPL, RF, TF, VIF, VIP, VM } from "../flags.js";
import { SEG_SS, type Insn } from "../insn.js";
import { defineRows, type RowSpec } from "../table.js";
import { readAt, readE, writeAt } from "./operands.js";

const TWO32 = 4294967296;
const CR0_PE = 1;
const CR4_VME = 1;
const RSP = 4;
const RBP = 5;

// ---------------------------------------------------------------------------
// A stack cursor: a private copy of rSP that multi-access instructions move and
// access through, committing it to RSP only once every access has succeeded.
// Module-level so that no instruction allocates.
// ---------------------------------------------------------------------------

let curLo = 0;
let curHi = 0;

function cursorFromRsp(cpu: Cpu): void {
  curLo = cpu.r[RSP << 1]!;
  curHi = cpu.r[(RSP << 1) + 1]!;
}

/** The cursor starts at rBP as the stack address size sees it (16-bit stacks keep RSP's upper bits). */
function cursorFromRbp(cpu: Cpu): void {
  const r = cpu.r;
  const size = cpu.stackSize;
  if (size === 8) { curLo = r[RBP << 1]!; curHi = r[(RBP << 1) + 1]!; }
  else if (size === 4) { curLo = r[RBP << 1]!; curHi = 0; }
  else { curLo = (r[RSP << 1]! & ~0xffff) | (r[RBP << 1]! & 0xffff); curHi = r[(RSP << 1) + 1]!; }
}

/** Moves the cursor by delta bytes, wrapping at the stack address size. */
function cursorMove(cpu: Cpu, delta: number): void {
  const size = cpu.stackSize;
  if (size === 8) {
    const lo = (curLo >>> 0) + delta;
    curLo = lo | 0;
    if (lo >= TWO32) curHi = (curHi + 1) | 0;
    else if (lo < 0) curHi = (curHi - 1) | 0;
  } else if (size === 4) {
    curLo = (curLo + delta) | 0;
    curHi = 0;
  } else {
    curLo = (curLo & ~0xffff) | ((curLo + delta) & 0xffff);
  }
}

/** Linear address of SS:cursor for `size` bytes into cpu.eaLo/eaHi (#SS when non-canonical or past the limit). */
function cursorLinear(cpu: Cpu, size: number): void {
  const stack = cpu.stackSize;
  if (stack === 8) {
    if (((curHi << 16) >> 16) !== curHi) cpu.fault(EXC_SS, 0);
    cpu.eaLo = curLo;
    cpu.eaHi = curHi;
    return;
  }
  cpu.segmentLinear(SEG_SS, stack === 4 ? curLo >>> 0 : curLo & 0xffff, size);
}

/** Pushes through the cursor (memory written, RSP not yet). */
function cursorPush(cpu: Cpu, size: number, lo: number, hi: number): void {
  cursorMove(cpu, -size);
  cursorLinear(cpu, size);
  writeAt(cpu, size, lo, hi);
}

/** Reads `size` bytes at the cursor (high half in rhi for 8). */
function cursorRead(cpu: Cpu, size: number): number {
  cursorLinear(cpu, size);
  return readAt(cpu, size);
}

function cursorCommit(cpu: Cpu): void {
  cpu.r[RSP << 1] = curLo;
  cpu.r[(RSP << 1) + 1] = curHi;
}

// ---------------------------------------------------------------------------
// push / pop
// ---------------------------------------------------------------------------

/** push r (50+r): the value is read first, so "push rsp" pushes the old RSP. */
function pushReg(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const k = i.reg << 1;
  cpu.push(size, cpu.r[k]!, cpu.r[k + 1]!);
}

/** pop r (58+r): the register is written after RSP moves, so "pop rsp" loads the popped value. */
function popReg(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const lo = cpu.pop(size);
  cpu.setReg(i.reg, size, lo, cpu.rhi);
}

/** push imm (6A sign-extends imm8, 68 takes imm16/imm32 sign-extended to the operand size). */
function pushImm(cpu: Cpu, i: Insn): void {
  cpu.push(i.opsize, i.immLo, i.immHi);
}

/** push r/m (FF /6): a memory operand is addressed with RSP before the push. */
function pushE(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const lo = readE(cpu, i, size);
  cpu.push(size, lo, cpu.rhi);
}

/**
 * pop r/m (8F /0): the destination address is computed with RSP already
 * incremented ("pop [rsp+8]"), but RSP is only committed once the store is
 * known to succeed.
 */
function popE(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  cursorFromRsp(cpu);
  const lo = cursorRead(cpu, size), hi = cpu.rhi;
  cursorMove(cpu, size);
  if (!i.isMem) {
    cursorCommit(cpu);
    cpu.setReg(i.rm, size, lo, hi);
    return;
  }
  const r = cpu.r;
  const oldLo = r[RSP << 1]!, oldHi = r[(RSP << 1) + 1]!;
  cursorCommit(cpu);
  try {
    cpu.ea(i, size);
    cpu.probeWrite(cpu.eaLo, cpu.eaHi, size);
  } catch (e) {
    r[RSP << 1] = oldLo;
    r[(RSP << 1) + 1] = oldHi;
    throw e;
  }
  writeAt(cpu, size, lo, hi);
}

// ---------------------------------------------------------------------------
// pushf / popf
// ---------------------------------------------------------------------------

/** Flags POPF may load: the low word's defined bits (CF PF AF ZF SF TF IF DF OF IOPL NT). */
const LOW_WORD_FLAGS = 0x7fd5;

/**
 * pushf: RFLAGS with VM and RF cleared. In virtual-8086 mode with IOPL < 3 it
 * faults, unless CR4.VME allows the 16-bit form, which shows VIF as IF and IOPL 3.
 */
function pushf(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const f = cpu.getFlags();
  if ((f & VM) !== 0 && (f & IOPL) !== IOPL) {
    if (size !== 2 || (cpu.cr4 & CR4_VME) === 0) cpu.gp(0);
    cpu.push(2, (f & ~IF & 0xffff) | IOPL | ((f & VIF) !== 0 ? IF : 0), 0);
    return;
  }
  cpu.push(size, size === 2 ? f & 0xffff : f & ~(VM | RF), 0);
}

/**
 * popf (SDM POPF): VM, VIP, VIF and reserved bits never change; RF is cleared
 * by the 32/64-bit forms. Outside CPL 0 (in protected mode) IOPL is kept, and
 * with CPL > IOPL IF is kept too. In virtual-8086 mode with IOPL 3, IOPL is kept;
 * with IOPL < 3 only the CR4.VME 16-bit form works, and it loads IF into VIF.
 */
function popf(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const old = cpu.getFlags();
  const iopl = (old & IOPL) >> 12;
  if ((old & VM) !== 0 && iopl < 3) {
    if (size !== 2 || (cpu.cr4 & CR4_VME) === 0) cpu.gp(0);
    const t = cpu.peek(2);
    if (((old & VIP) !== 0 && (t & IF) !== 0) || (t & TF) !== 0) cpu.gp(0);
    cpu.adjustSp(2);
    const keep = IF | IOPL;
    const nf = (old & ~(LOW_WORD_FLAGS | VIF)) | (old & keep) | (t & LOW_WORD_FLAGS & ~keep) | ((t & IF) !== 0 ? VIF : 0);
    cpu.setFlags(nf);
    return;
  }
  const v = cpu.pop(size);
  let writable = size === 2 ? LOW_WORD_FLAGS : LOW_WORD_FLAGS | AC | ID;
  if ((old & VM) !== 0) writable &= ~IOPL;
  else if ((cpu.cr0 & CR0_PE) !== 0 && cpu.cpl > 0) {
    writable &= ~IOPL;
    if (cpu.cpl > iopl) writable &= ~IF;
  }
  let nf = (old & ~writable) | (v & writable);
  if (size !== 2) nf &= ~RF;
  cpu.setFlags(nf);
}

// ---------------------------------------------------------------------------
// enter / leave
// ---------------------------------------------------------------------------

/**
 * enter alloc, level: push rBP; for level > 1 copy level-1 frame pointers from
 * the enclosing frame; for level > 0 push the new frame pointer; rBP ← frame,
 * rSP ← frame - (level words) - alloc. The final stack location is probed for
 * writing, so a fault there leaves everything unchanged.
 */
function enter(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const alloc = i.immLo & 0xffff;
  const level = i.imm2 & 31;
  const r = cpu.r;
  cursorFromRsp(cpu);
  cursorPush(cpu, size, r[RBP << 1]!, r[(RBP << 1) + 1]!);
  const frameLo = curLo, frameHi = curHi;
  if (level > 0) {
    // The enclosing frame pointers are read through rBP, stepped down by the
    // operand size at the stack address size; the cursor alternates between
    // that frame pointer and the stack pointer.
    cursorFromRbp(cpu);
    let bpLo = curLo, bpHi = curHi;
    curLo = frameLo;
    curHi = frameHi;
    for (let n = 1; n < level; n++) {
      const spLo = curLo, spHi = curHi;
      curLo = bpLo;
      curHi = bpHi;
      cursorMove(cpu, -size);
      bpLo = curLo;
      bpHi = curHi;
      const vlo = cursorRead(cpu, size), vhi = cpu.rhi;
      curLo = spLo;
      curHi = spHi;
      cursorPush(cpu, size, vlo, vhi);
    }
    cursorPush(cpu, size, frameLo, frameHi);
  }
  cursorMove(cpu, -alloc);
  cursorLinear(cpu, size);
  cpu.probeWrite(cpu.eaLo, cpu.eaHi, size);
  cursorCommit(cpu);
  cpu.setReg(RBP, size, frameLo, frameHi);
}

/** leave: rSP ← rBP (stack address size), then pop rBP (operand size). */
function leave(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  cursorFromRbp(cpu);
  const lo = cursorRead(cpu, size), hi = cpu.rhi;
  cursorMove(cpu, size);
  cursorCommit(cpu);
  cpu.setReg(RBP, size, lo, hi);
}

// ---------------------------------------------------------------------------
// pusha / popa (not in 64-bit mode)
// ---------------------------------------------------------------------------

/** pusha: EAX ECX EDX EBX (original ESP) EBP ESI EDI, in that order. */
function pusha(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  const r = cpu.r;
  cursorFromRsp(cpu);
  for (let n = 0; n < 8; n++) cursorPush(cpu, size, r[n << 1]!, 0);
  cursorCommit(cpu);
}

/** Values popped by popa, held until every read has succeeded. */
const popped = new Int32Array(8);

/** popa: EDI ESI EBP (skipped: ESP) EBX EDX ECX EAX. */
function popa(cpu: Cpu, i: Insn): void {
  const size = i.opsize;
  cursorFromRsp(cpu);
  for (let n = 7; n >= 0; n--) {
    popped[n] = cursorRead(cpu, size);
    cursorMove(cpu, size);
  }
  cursorCommit(cpu);
  for (let n = 0; n < 8; n++) if (n !== RSP) cpu.setReg(n, size, popped[n]!);
}

const rows: RowSpec[] = [
  { m: "push", op: "50+r", args: "Zv", exec: pushReg, mode64: "d64" },
  { m: "pop", op: "58+r", args: "Zv", exec: popReg, mode64: "d64" },
  { m: "push", op: "6A", args: "Ib", exec: pushImm, mode64: "d64" },
  { m: "push", op: "68", args: "Iz", exec: pushImm, mode64: "d64" },
  { m: "push", op: "FF /6", args: "Ev", exec: pushE, mode64: "d64" },
  { m: "pop", op: "8F /0", args: "Ev", exec: popE, mode64: "d64" },
  { m: "pushf", op: "9C", args: "", exec: pushf, mode64: "d64", flags: "r:all" },
  { m: "popf", op: "9D", args: "", exec: popf, mode64: "d64", flags: "w:all" },
  { m: "enter", op: "C8", args: "Iw,Ib", exec: enter, mode64: "d64" },
  { m: "leave", op: "C9", args: "", exec: leave, mode64: "d64" },
  { m: "pusha", op: "60", args: "", exec: pusha, mode64: "i64" },
  { m: "popa", op: "61", args: "", exec: popa, mode64: "i64" },
];
defineRows("stack", rows);
