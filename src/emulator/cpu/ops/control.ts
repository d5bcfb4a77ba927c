// Far control flow and segment-register moves: jmp/call far (direct and m16:16/32/64),
// retf (same and outer privilege), iret/iretd/iretq, int n / int3 / into / int1,
// mov to/from Sreg, push/pop of segment registers, lds les lfs lgs lss, arpl.
// Descriptor checks are ../modes.ts's; event delivery is ../interrupts.ts's.
// Every handler validates and reads everything before it changes any state.
import type { Cpu } from "../cpu.js";
import { CR0_PE, DELIVER_SOFTWARE, DELIVER_SOFTWARE_EXC, EFER_LMA } from "../cpu.js";
import { EXC_GP } from "../fault.js";
import { AC, AF, CF, DF, ID, IF, IOPL, NT, OF, PF, RF, SF, TF, VIF, VIP, VM, ZF, getOF, updateFlags } from "../flags.js";
import { DELIVER_ICEBP, softwareInterrupt } from "../interrupts.js";
import { MODE_64, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, type ExecFn, type Insn } from "../insn.js";
import {
  checkFarCodeTarget, checkReturnCode, checkReturnStack, desc, descIs64, descLimit, hi32, isCanonicalHi, joinSigned,
  loadCacheFromDesc, loadCs, loadNull, loadRealCs, loadSegment, markAccessed, nullifyInnerSegments, stackOperandSize,
} from "../modes.js";
import { defineRows, type RowSpec } from "../table.js";
import { readE, readEForWrite, writeBackE } from "./operands.js";

const TWO32 = 4294967296;

function isReal(cpu: Cpu): boolean {
  return (cpu.cr0 & CR0_PE) === 0;
}

// ---------------------------------------------------------------------------
// Far pointers and targets
// ---------------------------------------------------------------------------

let farOffLo = 0;
let farOffHi = 0;
let farSel = 0;

/** Reads an m16:16 / m16:32 / m16:64 operand: the offset (os bytes), then the selector. */
function readFarPointer(cpu: Cpu, i: Insn, os: number): void {
  cpu.ea(i, os + 2);
  const lo = cpu.eaLo;
  const hi = cpu.eaHi;
  if (os === 8) { farOffLo = cpu.read64(lo, hi); farOffHi = cpu.rhi; }
  else if (os === 4) { farOffLo = cpu.read32(lo, hi); farOffHi = 0; }
  else { farOffLo = cpu.read16(lo, hi); farOffHi = 0; }
  const a = (lo >>> 0) + os;
  farSel = cpu.read16(a | 0, i.mode === MODE_64 ? (hi + (a >= TWO32 ? 1 : 0)) | 0 : 0);
}

/**
 * The new RIP for a far transfer to the code segment in `desc`: canonical for
 * 64-bit code, within the segment limit otherwise (#GP(0) if not).
 */
function farTargetRip(cpu: Cpu, lo: number, hi: number, os: number): number {
  if (os === 2) { lo &= 0xffff; hi = 0; }
  else if (os === 4) hi = 0;
  if (descIs64(cpu)) {
    if (!isCanonicalHi(hi)) cpu.fault(EXC_GP, 0);
    return joinSigned(lo, hi);
  }
  const off = lo >>> 0;
  if (hi !== 0 || off > descLimit(desc.lo, desc.hi)) cpu.fault(EXC_GP, 0);
  return off;
}

/** Pushes CS and the return RIP at operand size os; RSP is restored if the second push faults. */
function pushReturn(cpu: Cpu, os: number): void {
  const spLo = cpu.r[8]!;
  const spHi = cpu.r[9]!;
  const ret = cpu.nextRip;
  try {
    cpu.push(os, cpu.segSel[SEG_CS]!, 0);
    cpu.push(os, ret | 0, os === 8 ? hi32(ret) : 0);
  } catch (e) {
    cpu.r[8] = spLo;
    cpu.r[9] = spHi;
    throw e;
  }
}

/** JMP/CALL far to sel:offset. Call gates, task gates and TSS targets are not followed (#GP(sel)). */
function farTransfer(cpu: Cpu, sel: number, offLo: number, offHi: number, os: number, call: boolean): void {
  sel &= 0xffff;
  if (isReal(cpu)) {
    const target = os === 2 ? offLo & 0xffff : offLo >>> 0;
    if (call) pushReturn(cpu, os);
    loadRealCs(cpu, sel);
    cpu.nextRip = target;
    return;
  }
  checkFarCodeTarget(cpu, sel);
  const target = farTargetRip(cpu, offLo, offHi, os);
  if (call) pushReturn(cpu, os);
  markAccessed(cpu);
  loadCs(cpu, sel, cpu.cpl);
  cpu.nextRip = target;
}

function jmpFarDirect(cpu: Cpu, i: Insn): void {
  farTransfer(cpu, i.imm2, i.immLo, 0, i.opsize, false);
}

function callFarDirect(cpu: Cpu, i: Insn): void {
  farTransfer(cpu, i.imm2, i.immLo, 0, i.opsize, true);
}

function jmpFarIndirect(cpu: Cpu, i: Insn): void {
  readFarPointer(cpu, i, i.opsize);
  farTransfer(cpu, farSel, farOffLo, farOffHi, i.opsize, false);
}

function callFarIndirect(cpu: Cpu, i: Insn): void {
  readFarPointer(cpu, i, i.opsize);
  farTransfer(cpu, farSel, farOffLo, farOffHi, i.opsize, true);
}

// ---------------------------------------------------------------------------
// RETF and IRET
// ---------------------------------------------------------------------------

/** Loads rSP after a return that switched stacks: the popped value at the new stack width. */
function setReturnStack(cpu: Cpu, lo: number, hi: number, os: number): void {
  if (os === 2) { lo &= 0xffff; hi = 0; }
  else if (os === 4) hi = 0;
  if (cpu.stackSize === 8) { cpu.r[8] = lo; cpu.r[9] = hi; }
  else if (cpu.stackSize === 4) { cpu.r[8] = lo; cpu.r[9] = 0; }
  else cpu.r[8] = (cpu.r[8]! & ~0xffff) | (lo & 0xffff);
}

/**
 * Commits a protected-mode return: CS from csLo/csHi with RPL as the new CPL,
 * and, when popStack, SS:rSP (ssValid false = a null SS that 64-bit mode allows).
 */
function commitReturn(
  cpu: Cpu, sel: number, csLo: number, csHi: number,
  popStack: boolean, ssSel: number, ssValid: boolean, ssLo: number, ssHi: number,
  spLo: number, spHi: number, os: number,
): void {
  const rpl = sel & 3;
  const outer = rpl > cpu.cpl;
  if (popStack) {
    if (ssValid) {
      desc.lo = ssLo;
      desc.hi = ssHi;
      loadCacheFromDesc(cpu, SEG_SS, ssSel);
    } else {
      loadNull(cpu, SEG_SS, ssSel);
    }
  }
  desc.lo = csLo;
  desc.hi = csHi;
  loadCs(cpu, sel, rpl);
  if (popStack) setReturnStack(cpu, spLo, spHi, os);
  if (outer) nullifyInnerSegments(cpu);
}

function retFar(cpu: Cpu, i: Insn): void {
  const os = i.opsize;
  const imm = i.immLo & 0xffff;
  const ripLo = cpu.peek(os, 0);
  const ripHi = os === 8 ? cpu.rhi : 0;
  const sel = cpu.peek(os, os) & 0xffff;
  if (isReal(cpu)) {
    const ip = os === 2 ? ripLo & 0xffff : ripLo >>> 0;
    loadRealCs(cpu, sel);
    cpu.adjustSp(2 * os + imm);
    cpu.nextRip = ip;
    return;
  }
  checkReturnCode(cpu, sel);
  const target = farTargetRip(cpu, ripLo, ripHi, os);
  const csLo = desc.lo;
  const csHi = desc.hi;
  const rpl = sel & 3;
  if (rpl === cpu.cpl) {
    loadCs(cpu, sel, rpl);
    cpu.adjustSp(2 * os + imm);
    cpu.nextRip = target;
    return;
  }
  // Return to an outer privilege level: SS:rSP follow the immediate-adjusted frame.
  const target64 = (cpu.efer & EFER_LMA) !== 0 && (csHi & 0x200000) !== 0;
  const spLo = cpu.peek(os, 2 * os + imm);
  const spHi = os === 8 ? cpu.rhi : 0;
  const ssSel = cpu.peek(os, 3 * os + imm) & 0xffff;
  const ssValid = checkReturnStack(cpu, ssSel, rpl, target64);
  commitReturn(cpu, sel, csLo, csHi, true, ssSel, ssValid, desc.lo, desc.hi, spLo, spHi, os);
  cpu.adjustSp(imm);
  cpu.nextRip = target;
}

/** RFLAGS bits IRET may load: always the status/control set; IF when CPL ≤ IOPL; IOPL, VIF, VIP only at CPL 0. */
function iretFlags(old: number, popped: number, os: number, cpl: number): number {
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT | RF | AC | ID;
  if (cpl <= ((old >> 12) & 3)) mask |= IF;
  if (cpl === 0) mask |= IOPL | VIF | VIP;
  if (os === 2) mask &= 0xffff;
  return (old & ~mask) | (popped & mask);
}

function iretReal(cpu: Cpu, os: number): void {
  const ipRaw = cpu.peek(os, 0);
  const sel = cpu.peek(os, os) & 0xffff;
  const fl = cpu.peek(os, 2 * os);
  const ip = os === 2 ? ipRaw & 0xffff : ipRaw >>> 0;
  if (ip > 0xffff) cpu.fault(EXC_GP, 0);
  const old = cpu.getFlags();
  const mask = os === 2 ? 0x7fd5 : 0x257fd5;
  loadRealCs(cpu, sel);
  cpu.adjustSp(3 * os);
  cpu.setFlags((old & ~mask) | (fl & mask));
  cpu.nextRip = ip;
}

/**
 * IRET/IRETD/IRETQ in protected and long mode. 64-bit mode always pops SS:RSP;
 * other modes only on a return to an outer privilege level. NT=1 (a nested-task
 * return) and a return to virtual-8086 mode are not supported: #GP(0).
 */
function iret(cpu: Cpu, i: Insn): void {
  const os = i.opsize;
  if (isReal(cpu)) {
    iretReal(cpu, os);
    return;
  }
  const oldFlags = cpu.getFlags();
  if ((oldFlags & NT) !== 0) cpu.fault(EXC_GP, 0);
  const ripLo = cpu.peek(os, 0);
  const ripHi = os === 8 ? cpu.rhi : 0;
  const sel = cpu.peek(os, os) & 0xffff;
  const fl = cpu.peek(os, 2 * os);
  if ((fl & VM) !== 0 && os === 4 && cpu.cpl === 0 && (cpu.efer & EFER_LMA) === 0) cpu.fault(EXC_GP, 0);
  checkReturnCode(cpu, sel);
  const target = farTargetRip(cpu, ripLo, ripHi, os);
  const csLo = desc.lo;
  const csHi = desc.hi;
  const rpl = sel & 3;
  const target64 = (cpu.efer & EFER_LMA) !== 0 && (csHi & 0x200000) !== 0;
  const popStack = rpl > cpu.cpl || cpu.mode === MODE_64;
  let spLo = 0, spHi = 0, ssSel = 0, ssValid = false, ssLo = 0, ssHi = 0;
  if (popStack) {
    spLo = cpu.peek(os, 3 * os);
    spHi = os === 8 ? cpu.rhi : 0;
    ssSel = cpu.peek(os, 4 * os) & 0xffff;
    ssValid = checkReturnStack(cpu, ssSel, rpl, target64);
    ssLo = desc.lo;
    ssHi = desc.hi;
  }
  const newFlags = iretFlags(oldFlags, fl, os, cpu.cpl);
  if (!popStack) cpu.adjustSp(3 * os);
  commitReturn(cpu, sel, csLo, csHi, popStack, ssSel, ssValid, ssLo, ssHi, spLo, spHi, os);
  cpu.setFlags(newFlags & ~VM);
  cpu.nextRip = target;
}

// ---------------------------------------------------------------------------
// Software interrupts
// ---------------------------------------------------------------------------

function intN(cpu: Cpu, i: Insn): void {
  softwareInterrupt(cpu, i.immLo & 0xff, DELIVER_SOFTWARE);
}

function int3(cpu: Cpu): void {
  softwareInterrupt(cpu, 3, DELIVER_SOFTWARE_EXC);
}

function into(cpu: Cpu): void {
  if (getOF(cpu) !== 0) softwareInterrupt(cpu, 4, DELIVER_SOFTWARE_EXC);
}

function int1(cpu: Cpu): void {
  softwareInterrupt(cpu, 1, DELIVER_ICEBP);
}

// ---------------------------------------------------------------------------
// Segment registers
// ---------------------------------------------------------------------------

/** MOV SS and POP SS block interrupts until the next instruction has run (so SS:rSP can be set as a pair). */
function stackShadow(cpu: Cpu): void {
  cpu.inhibitUntil = cpu.icount + 2;
}

function movToSreg(cpu: Cpu, i: Insn): void {
  const s = i.reg & 7;
  if (s === SEG_CS || s > SEG_GS) cpu.ud();
  const v = readE(cpu, i, 2);
  loadSegment(cpu, s, v);
  if (s === SEG_SS) stackShadow(cpu);
}

function movFromSreg(cpu: Cpu, i: Insn): void {
  const s = i.reg & 7;
  if (s > SEG_GS) cpu.ud();
  const v = cpu.segSel[s]!;
  if (i.isMem) {
    cpu.ea(i, 2);
    cpu.write16(cpu.eaLo, cpu.eaHi, v);
  } else {
    cpu.setReg(i.rm, i.opsize, v, 0);
  }
}

function pushSreg(seg: number): ExecFn {
  return (cpu: Cpu, i: Insn) => cpu.push(i.opsize, cpu.segSel[seg]!, 0);
}

function popSreg(seg: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const v = cpu.peek(i.opsize) & 0xffff;
    loadSegment(cpu, seg, v);
    cpu.adjustSp(i.opsize);
    if (seg === SEG_SS) stackShadow(cpu);
  };
}

/** Segment push/pop rows name the register as their operand; the stack operand size comes from the prefixes. */
function stackSized(exec: ExecFn) {
  return (i: Insn) => {
    i.opsize = stackOperandSize(i);
    return exec;
  };
}

/** LDS LES LFS LGS LSS: the segment is loaded (and checked) before the offset register is written. */
function loadFarPointer(seg: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const os = i.opsize;
    readFarPointer(cpu, i, os);
    loadSegment(cpu, seg, farSel);
    cpu.setReg(i.reg, os, farOffLo, farOffHi);
  };
}

/** ARPL: raises the destination selector's RPL to the source's; ZF says whether it changed. */
function arpl(cpu: Cpu, i: Insn): void {
  if (isReal(cpu)) cpu.ud();
  const dst = readEForWrite(cpu, i, 2);
  const src = cpu.getReg(i.reg, 2);
  if ((dst & 3) < (src & 3)) {
    writeBackE(cpu, i, 2, (dst & ~3) | (src & 3));
    updateFlags(cpu, ZF, ZF);
  } else {
    updateFlags(cpu, ZF, 0);
  }
}

const rows: RowSpec[] = [
  { m: "jmp", op: "EA", args: "Ap", exec: jmpFarDirect, mode64: "i64", note: "jmp far ptr16:16/32" },
  { m: "call", op: "9A", args: "Ap", exec: callFarDirect, mode64: "i64", note: "call far ptr16:16/32" },
  { m: "call", op: "FF /3 mem", args: "Mp", exec: callFarIndirect, note: "call far m16:16/32/64" },
  { m: "jmp", op: "FF /5 mem", args: "Mp", exec: jmpFarIndirect, note: "jmp far m16:16/32/64" },
  { m: "retf", op: "CA", args: "Iw", exec: retFar },
  { m: "retf", op: "CB", args: "", exec: retFar },
  { m: "iret", op: "CF", args: "", exec: iret, flags: "w:all", note: "iretd; iretq with REX.W" },
  { m: "int3", op: "CC", args: "", exec: int3 },
  { m: "int", op: "CD", args: "Ib", exec: intN },
  { m: "into", op: "CE", args: "", exec: into, mode64: "i64", flags: "r:o" },
  { m: "int1", op: "F1", args: "", exec: int1 },
  { m: "mov", op: "8C /r", args: "Ev,Sw", exec: movFromSreg },
  { m: "mov", op: "8E /r", args: "Sw,Ew", exec: movToSreg },
  { m: "push", op: "06", args: "ES", pick: stackSized(pushSreg(SEG_ES)), mode64: "i64" },
  { m: "pop", op: "07", args: "ES", pick: stackSized(popSreg(SEG_ES)), mode64: "i64" },
  { m: "push", op: "0E", args: "CS", pick: stackSized(pushSreg(SEG_CS)), mode64: "i64" },
  { m: "push", op: "16", args: "SS", pick: stackSized(pushSreg(SEG_SS)), mode64: "i64" },
  { m: "pop", op: "17", args: "SS", pick: stackSized(popSreg(SEG_SS)), mode64: "i64" },
  { m: "push", op: "1E", args: "DS", pick: stackSized(pushSreg(SEG_DS)), mode64: "i64" },
  { m: "pop", op: "1F", args: "DS", pick: stackSized(popSreg(SEG_DS)), mode64: "i64" },
  { m: "push", op: "0F A0", args: "FS", pick: stackSized(pushSreg(SEG_FS)), mode64: "d64" },
  { m: "pop", op: "0F A1", args: "FS", pick: stackSized(popSreg(SEG_FS)), mode64: "d64" },
  { m: "push", op: "0F A8", args: "GS", pick: stackSized(pushSreg(SEG_GS)), mode64: "d64" },
  { m: "pop", op: "0F A9", args: "GS", pick: stackSized(popSreg(SEG_GS)), mode64: "d64" },
  { m: "les", op: "C4 /r mem", args: "Gv,Mp", exec: loadFarPointer(SEG_ES), mode64: "i64" },
  { m: "lds", op: "C5 /r mem", args: "Gv,Mp", exec: loadFarPointer(SEG_DS), mode64: "i64" },
  { m: "lss", op: "0F B2 /r mem", args: "Gv,Mp", exec: loadFarPointer(SEG_SS) },
  { m: "lfs", op: "0F B4 /r mem", args: "Gv,Mp", exec: loadFarPointer(SEG_FS) },
  { m: "lgs", op: "0F B5 /r mem", args: "Gv,Mp", exec: loadFarPointer(SEG_GS) },
  { m: "arpl", op: "63 /r", args: "Ew,Gw", exec: arpl, mode64: "i64", flags: "w:z" },
];

defineRows("control", rows);
