// System instructions: descriptor-table registers (lgdt lidt lldt ltr sgdt sidt
// sldt str), CR0/CR2/CR3/CR4/CR8 and DR0-7 moves, smsw lmsw clts, rdmsr wrmsr,
// cpuid, rdtsc rdtscp, hlt, cli sti, invlpg invd wbinvd, swapgs, syscall sysret
// sysenter sysexit, lar lsl verr verw, stac clac. The mode and segment rules they
// rely on live in ../modes.ts; MSRs in ../msr.ts; CPUID in ../cpuid.ts.
import type { Cpu } from "../cpu.js";
import { CR0_PE, CR0_TS, CR4_DE, CR4_TSD, EFER_LMA, EFER_SCE } from "../cpu.js";
import { executeCpuid } from "../cpuid.js";
import { CPU_FAULT, EXC_GP, EXC_NP } from "../fault.js";
import { AC, IF, RF, VM, ZF, updateFlags } from "../flags.js";
import { MODE_64, SEG_CS, SEG_GS, SEG_SS, type Insn } from "../insn.js";
import {
  ATTR_CODE, ATTR_DC, ATTR_P, ATTR_RW, ATTR_S, FLAT_CODE32_DPL0, FLAT_CODE32_DPL3, FLAT_CODE64_DPL0, FLAT_CODE64_DPL3,
  FLAT_DATA_DPL0, FLAT_DATA_DPL3, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS_AVAIL,
  attrDpl, desc, descAttr, descBase, descLimit, fetchDescriptor, fetchSystemDescriptor, hi32, isCanonicalHi, joinSigned,
  loadCacheFlat, setCpl, sysWrite32, updateMode, vOperandSize, writeCr0, writeCr3, writeCr4, writeCr8,
} from "../modes.js";
import { readMsr, tscValue, writeMsr } from "../msr.js";
import { defineRows, type RowSpec } from "../table.js";
import { readE } from "./operands.js";

const TWO32 = 4294967296;

/** Instructions that do not exist in real mode (the 0F 00 group, LAR, LSL, ARPL) raise #UD there. */
function requireProtected(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_PE) === 0) cpu.ud();
}

function requireCpl0(cpu: Cpu): void {
  if (cpu.cpl !== 0) cpu.fault(EXC_GP, 0);
}

// Linear address of the memory operand plus a small offset (pseudo-descriptor fields).
let fieldLo = 0;
let fieldHi = 0;
function field(cpu: Cpu, off: number): void {
  const lo = (cpu.eaLo >>> 0) + off;
  fieldLo = lo | 0;
  fieldHi = cpu.mode === MODE_64 ? (cpu.eaHi + (lo >= TWO32 ? 1 : 0)) | 0 : 0;
}

// ---------------------------------------------------------------------------
// GDTR / IDTR / LDTR / TR
// ---------------------------------------------------------------------------

/** LGDT / LIDT: 6-byte (limit, 32-bit base; 24-bit with a 16-bit operand) or 10-byte pseudo-descriptor in 64-bit mode. */
function loadTableRegister(idt: boolean) {
  return (cpu: Cpu, i: Insn): void => {
    const is64 = i.mode === MODE_64;
    cpu.ea(i, is64 ? 10 : 6);
    const limit = cpu.read16(cpu.eaLo, cpu.eaHi);
    field(cpu, 2);
    const lo = cpu.read32(fieldLo, fieldHi);
    let base: number;
    if (is64) {
      field(cpu, 6);
      const hi = cpu.read32(fieldLo, fieldHi);
      if (!isCanonicalHi(hi)) cpu.fault(EXC_GP, 0);
      base = joinSigned(lo, hi);
    } else {
      base = i.opsize === 2 ? lo & 0xffffff : lo >>> 0;
    }
    if (idt) { cpu.idtBase = base; cpu.idtLimit = limit; }
    else { cpu.gdtBase = base; cpu.gdtLimit = limit; }
  };
}

/** SGDT / SIDT: stores limit and base (32 bits, or 64 in 64-bit mode). */
function storeTableRegister(idt: boolean) {
  return (cpu: Cpu, i: Insn): void => {
    const is64 = i.mode === MODE_64;
    const size = is64 ? 10 : 6;
    cpu.ea(i, size);
    cpu.probeWrite(cpu.eaLo, cpu.eaHi, size);
    const base = idt ? cpu.idtBase : cpu.gdtBase;
    cpu.write16(cpu.eaLo, cpu.eaHi, idt ? cpu.idtLimit : cpu.gdtLimit);
    field(cpu, 2);
    cpu.write32(fieldLo, fieldHi, base | 0);
    if (is64) {
      field(cpu, 6);
      cpu.write32(fieldLo, fieldHi, hi32(base));
    }
  };
}

/** SLDT / STR / SMSW destination: 16 bits to memory, the full operand size (zero-extended) to a register. */
function storeWord(cpu: Cpu, i: Insn, v: number): void {
  if (i.isMem) {
    cpu.ea(i, 2);
    cpu.write16(cpu.eaLo, cpu.eaHi, v & 0xffff);
  } else {
    cpu.setReg(i.rm, vOperandSize(i), v, 0);
  }
}

function sldt(cpu: Cpu, i: Insn): void {
  requireProtected(cpu);
  storeWord(cpu, i, cpu.ldtSel);
}

function str(cpu: Cpu, i: Insn): void {
  requireProtected(cpu);
  storeWord(cpu, i, cpu.trSel);
}

/** Base of the system descriptor in `desc` (with bits 63:32 in long mode; non-canonical → #GP(sel)). */
function systemBase(cpu: Cpu, sel: number): number {
  const lo = descBase(desc.lo, desc.hi);
  if ((cpu.efer & EFER_LMA) === 0) return lo;
  if (!isCanonicalHi(desc.upper)) cpu.fault(EXC_GP, sel & 0xfffc);
  return joinSigned(lo, desc.upper);
}

function lldt(cpu: Cpu, i: Insn): void {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = readE(cpu, i, 2);
  if ((sel & 0xfffc) === 0) {
    cpu.ldtSel = sel;
    cpu.ldtBase = 0;
    cpu.ldtLimit = 0;
    return;
  }
  if ((sel & 4) !== 0) cpu.fault(EXC_GP, sel & 0xfffc);
  fetchSystemDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  if ((attr & 0x1f) !== SYS_LDT) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  cpu.ldtBase = systemBase(cpu, sel);
  cpu.ldtLimit = descLimit(desc.lo, desc.hi);
  cpu.ldtSel = sel;
}

function ltr(cpu: Cpu, i: Insn): void {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = readE(cpu, i, 2);
  if ((sel & 0xfffc) === 0) cpu.fault(EXC_GP, 0);
  if ((sel & 4) !== 0) cpu.fault(EXC_GP, sel & 0xfffc);
  fetchSystemDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  const type = attr & 0x1f;
  const ok = type === SYS_TSS_AVAIL || (type === SYS_TSS16_AVAIL && (cpu.efer & EFER_LMA) === 0);
  if (!ok) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  const base = systemBase(cpu, sel);
  // Mark the TSS busy in the GDT.
  desc.hi |= 0x200;
  sysWrite32(cpu, desc.tableBase, desc.offset + 4, desc.hi);
  cpu.trSel = sel;
  cpu.trBase = base;
  cpu.trLimit = descLimit(desc.lo, desc.hi);
  cpu.trAttr = descAttr(desc.hi);
}

// ---------------------------------------------------------------------------
// LAR / LSL / VERR / VERW: never fault on a bad selector, they report it in ZF
// ---------------------------------------------------------------------------

/** Reads sel's descriptor into `desc`; false for a null selector or one beyond its table. */
function probeDescriptor(cpu: Cpu, sel: number): boolean {
  if ((sel & 0xfffc) === 0) return false;
  const limit = (sel & 4) !== 0 ? ((cpu.ldtSel & 0xfffc) !== 0 ? cpu.ldtLimit : -1) : cpu.gdtLimit;
  if ((sel & 0xfff8) + 7 > limit) return false;
  fetchDescriptor(cpu, sel, EXC_GP, 0);
  return true;
}

/** Conforming code is visible from anywhere; everything else needs DPL ≥ CPL and DPL ≥ RPL. */
function privilegeVisible(cpu: Cpu, sel: number, attr: number): boolean {
  if ((attr & (ATTR_S | ATTR_CODE | ATTR_DC)) === (ATTR_S | ATTR_CODE | ATTR_DC)) return true;
  const dpl = attrDpl(attr);
  return dpl >= cpu.cpl && dpl >= (sel & 3);
}

const LAR_SYSTEM_LEGACY = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 0xb) | (1 << 0xc);
const LAR_SYSTEM_LONG = (1 << 2) | (1 << 9) | (1 << 0xb) | (1 << 0xc);
const LSL_SYSTEM_LEGACY = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 0xb);
const LSL_SYSTEM_LONG = (1 << 2) | (1 << 9) | (1 << 0xb);

function larLslValid(cpu: Cpu, sel: number, lsl: boolean): boolean {
  if (!probeDescriptor(cpu, sel)) return false;
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) === 0) {
    const long = (cpu.efer & EFER_LMA) !== 0;
    const ok = lsl ? (long ? LSL_SYSTEM_LONG : LSL_SYSTEM_LEGACY) : long ? LAR_SYSTEM_LONG : LAR_SYSTEM_LEGACY;
    if (((ok >> (attr & 0xf)) & 1) === 0) return false;
  }
  return privilegeVisible(cpu, sel, attr);
}

function lar(cpu: Cpu, i: Insn): void {
  requireProtected(cpu);
  const sel = readE(cpu, i, 2);
  if (!larLslValid(cpu, sel, false)) { updateFlags(cpu, ZF, 0); return; }
  const size = i.opsize;
  cpu.setReg(i.reg, size, desc.hi & (size === 2 ? 0xff00 : 0x00f0ff00), 0);
  updateFlags(cpu, ZF, ZF);
}

function lsl(cpu: Cpu, i: Insn): void {
  requireProtected(cpu);
  const sel = readE(cpu, i, 2);
  if (!larLslValid(cpu, sel, true)) { updateFlags(cpu, ZF, 0); return; }
  cpu.setReg(i.reg, i.opsize, descLimit(desc.lo, desc.hi) | 0, 0);
  updateFlags(cpu, ZF, ZF);
}

function verify(write: boolean) {
  return (cpu: Cpu, i: Insn): void => {
    requireProtected(cpu);
    const sel = readE(cpu, i, 2);
    let ok = probeDescriptor(cpu, sel);
    if (ok) {
      const attr = descAttr(desc.hi);
      if ((attr & ATTR_S) === 0) ok = false;
      else if (write) ok = (attr & (ATTR_CODE | ATTR_RW)) === ATTR_RW && privilegeVisible(cpu, sel, attr);
      else ok = (attr & (ATTR_CODE | ATTR_RW)) !== ATTR_CODE && privilegeVisible(cpu, sel, attr);
    }
    updateFlags(cpu, ZF, ok ? ZF : 0);
  };
}

// ---------------------------------------------------------------------------
// Control and debug registers
// ---------------------------------------------------------------------------

/** CR number of a MOV CR instruction: 0, 2, 3, 4 and (64-bit mode) 8; anything else is #UD. */
function crNumber(cpu: Cpu, i: Insn): number {
  const n = i.reg;
  if (n !== 0 && n !== 2 && n !== 3 && n !== 4 && n !== 8) cpu.ud();
  requireCpl0(cpu);
  return n;
}

function movFromCr(cpu: Cpu, i: Insn): void {
  const n = crNumber(cpu, i);
  let lo = 0;
  let hi = 0;
  switch (n) {
    case 0: lo = cpu.cr0 | 0; break;
    case 2: lo = cpu.cr2 | 0; hi = hi32(cpu.cr2); break;
    case 3: lo = cpu.cr3 | 0; hi = hi32(cpu.cr3); break;
    case 4: lo = cpu.cr4; break;
    default: lo = cpu.cr8; break;
  }
  if (i.mode === MODE_64) cpu.setReg(i.rm, 8, lo, hi);
  else cpu.setReg(i.rm, 4, lo);
}

function movToCr(cpu: Cpu, i: Insn): void {
  const n = crNumber(cpu, i);
  const lo = cpu.r[i.rm << 1]!;
  const hi = i.mode === MODE_64 ? cpu.r[(i.rm << 1) + 1]! : 0;
  switch (n) {
    case 0: writeCr0(cpu, lo, hi); break;
    case 2: cpu.cr2 = i.mode === MODE_64 ? joinSigned(lo, hi) : lo >>> 0; break;
    case 3: writeCr3(cpu, lo, hi); break;
    case 4: writeCr4(cpu, lo, hi); break;
    default: writeCr8(cpu, lo, hi); break;
  }
}

/** DR number: DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD); DR8-15 are #UD. */
function drNumber(cpu: Cpu, i: Insn): number {
  let n = i.reg;
  if (n > 7) cpu.ud();
  if (n === 4 || n === 5) {
    if ((cpu.cr4 & CR4_DE) !== 0) cpu.ud();
    n += 2;
  }
  requireCpl0(cpu);
  return n;
}

/** DR6 bits that read as 1 (4-11, 16-31) and DR7's fixed bit 10. */
const DR6_FIXED_ONES = 0xffff0ff0 | 0;
const DR6_WRITABLE = 0xe00f; // B0-B3, BD, BS, BT
const DR7_FIXED_ONES = 0x400;
const DR7_RESERVED = 0xd800; // bits 11, 12, 14, 15

function movFromDr(cpu: Cpu, i: Insn): void {
  const n = drNumber(cpu, i);
  let lo: number, hi = 0;
  if (n === 6) lo = (cpu.dr[6]! & DR6_WRITABLE) | DR6_FIXED_ONES;
  else if (n === 7) lo = (cpu.dr[7]! | DR7_FIXED_ONES) | 0;
  else { lo = cpu.dr[n]! | 0; hi = hi32(cpu.dr[n]!); }
  if (i.mode === MODE_64) cpu.setReg(i.rm, 8, lo, hi);
  else cpu.setReg(i.rm, 4, lo);
}

function movToDr(cpu: Cpu, i: Insn): void {
  const n = drNumber(cpu, i);
  const lo = cpu.r[i.rm << 1]!;
  const hi = i.mode === MODE_64 ? cpu.r[(i.rm << 1) + 1]! : 0;
  if (n >= 6) {
    if (hi !== 0) cpu.fault(EXC_GP, 0);
    cpu.dr[n] = n === 6 ? lo & DR6_WRITABLE : ((lo & ~DR7_RESERVED) | DR7_FIXED_ONES) >>> 0;
  } else {
    cpu.dr[n] = i.mode === MODE_64 ? joinSigned(lo, hi) : lo >>> 0;
  }
}

function smsw(cpu: Cpu, i: Insn): void {
  storeWord(cpu, i, cpu.cr0 | 0);
}

/** LMSW: loads CR0 bits 0-3; PE can be set but not cleared. */
function lmsw(cpu: Cpu, i: Insn): void {
  const v = readE(cpu, i, 2);
  writeCr0(cpu, (cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & CR0_PE), 0);
}

function clts(cpu: Cpu): void {
  cpu.cr0 = (cpu.cr0 & ~CR0_TS) >>> 0;
}

// ---------------------------------------------------------------------------
// MSRs, CPUID, time stamp
// ---------------------------------------------------------------------------

function rdmsr(cpu: Cpu): void {
  const lo = readMsr(cpu, cpu.r[2]!);
  const hi = cpu.rhi;
  cpu.setReg(0, 4, lo);
  cpu.setReg(2, 4, hi);
}

function wrmsr(cpu: Cpu): void {
  writeMsr(cpu, cpu.r[2]!, cpu.r[0]!, cpu.r[4]!);
}

function checkTsd(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_TSD) !== 0 && cpu.cpl !== 0 && (cpu.cr0 & CR0_PE) !== 0) cpu.fault(EXC_GP, 0);
}

function rdtsc(cpu: Cpu): void {
  checkTsd(cpu);
  const t = tscValue(cpu);
  cpu.setReg(0, 4, t | 0);
  cpu.setReg(2, 4, Math.floor(t / TWO32) | 0);
}

function rdtscp(cpu: Cpu): void {
  rdtsc(cpu);
  cpu.setReg(1, 4, cpu.tscAux);
}

function cpuid(cpu: Cpu): void {
  executeCpuid(cpu);
}

// ---------------------------------------------------------------------------
// HLT, interrupt flag, caches and TLB, SMAP
// ---------------------------------------------------------------------------

function hlt(cpu: Cpu): void {
  cpu.halted = true;
  cpu.eventFlag = 1;
}

/** CLI/STI are allowed in real mode and when CPL ≤ IOPL (no VME/PVI). */
function checkIopl(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_PE) !== 0 && cpu.cpl > ((cpu.flags >> 12) & 3)) cpu.fault(EXC_GP, 0);
}

function cli(cpu: Cpu): void {
  checkIopl(cpu);
  cpu.flags &= ~IF;
}

/** STI: interrupts stay blocked for one more instruction when IF was clear (the STI shadow). */
function sti(cpu: Cpu): void {
  checkIopl(cpu);
  if ((cpu.flags & IF) === 0) {
    cpu.flags |= IF;
    cpu.inhibitUntil = cpu.icount + 2;
    cpu.eventFlag = 1;
  }
}

/** INVLPG: computes the linear address without accessing memory; a non-canonical address makes it a no-op. */
function invlpg(cpu: Cpu, i: Insn): void {
  try {
    cpu.ea(i, 1);
  } catch (e) {
    if (e !== CPU_FAULT) throw e;
    cpu.excVector = -1;
    return;
  }
  cpu.invalidatePage(cpu.eaLo, cpu.eaHi);
}

function noCacheEffect(): void {
  // INVD / WBINVD: there are no caches to write back or drop.
}

function setAc(on: boolean) {
  return (cpu: Cpu): void => {
    if (cpu.cpl !== 0) cpu.ud();
    cpu.flags = on ? cpu.flags | AC : cpu.flags & ~AC;
    cpu.updateAccessRights();
  };
}

function swapgs(cpu: Cpu): void {
  const lo = cpu.segBaseLo[SEG_GS]!;
  const hi = cpu.segBaseHi[SEG_GS]!;
  cpu.segBaseLo[SEG_GS] = cpu.kernelGsBaseLo;
  cpu.segBaseHi[SEG_GS] = cpu.kernelGsBaseHi;
  cpu.kernelGsBaseLo = lo;
  cpu.kernelGsBaseHi = hi;
}

// ---------------------------------------------------------------------------
// Fast system calls
// ---------------------------------------------------------------------------

/**
 * SYSCALL: RCX = return RIP, R11 = RFLAGS (RF clear), RFLAGS &= ~SFMASK, flat
 * ring-0 CS = STAR[47:32] and SS = CS + 8, RIP = LSTAR (64-bit caller) or CSTAR
 * (compatibility-mode caller). Outside long mode: the legacy (AMD) form,
 * ECX = EIP, EIP = STAR[31:0], IF/VM/RF cleared.
 */
function syscall(cpu: Cpu): void {
  if ((cpu.efer & EFER_SCE) === 0) cpu.ud();
  const sel = cpu.starHi & 0xfffc;
  const flags = cpu.getFlags();
  const ret = cpu.nextRip;
  if ((cpu.efer & EFER_LMA) !== 0) {
    const from64 = cpu.mode === MODE_64;
    cpu.setReg(1, 8, ret | 0, hi32(ret));
    cpu.setReg(11, 8, flags & ~RF, 0);
    loadCacheFlat(cpu, SEG_CS, sel, FLAT_CODE64_DPL0);
    loadCacheFlat(cpu, SEG_SS, sel + 8, FLAT_DATA_DPL0);
    setCpl(cpu, 0);
    updateMode(cpu);
    cpu.setFlags(flags & ~cpu.sfmask & ~RF);
    cpu.nextRip = from64 ? cpu.lstar : cpu.cstar;
  } else {
    cpu.setReg(1, 4, ret | 0);
    loadCacheFlat(cpu, SEG_CS, sel, FLAT_CODE32_DPL0);
    loadCacheFlat(cpu, SEG_SS, sel + 8, FLAT_DATA_DPL0);
    setCpl(cpu, 0);
    updateMode(cpu);
    cpu.setFlags(flags & ~(IF | VM | RF));
    cpu.nextRip = cpu.star >>> 0;
  }
}

/**
 * SYSRET: back to ring 3 with CS/SS caches set to fixed flat values (SDM).
 * REX.W: 64-bit CS = STAR[63:48] + 16, RIP = RCX (non-canonical → #GP(0) while
 * still in ring 0); otherwise 32-bit CS = STAR[63:48], EIP = ECX. SS = STAR[63:48] + 8.
 * RFLAGS = R11 (RF, VM cleared); legacy mode only sets IF.
 */
function sysret(cpu: Cpu, i: Insn): void {
  if ((cpu.efer & EFER_SCE) === 0) cpu.ud();
  if ((cpu.cr0 & CR0_PE) === 0 || cpu.cpl !== 0) cpu.fault(EXC_GP, 0);
  const base = cpu.starHi >>> 16;
  if ((cpu.efer & EFER_LMA) !== 0) {
    let target: number;
    if (i.opsize === 8) {
      const hi = cpu.r[3]!;
      if (!isCanonicalHi(hi)) cpu.fault(EXC_GP, 0);
      target = joinSigned(cpu.r[2]!, hi);
      loadCacheFlat(cpu, SEG_CS, (base + 16) | 3, FLAT_CODE64_DPL3);
    } else {
      target = cpu.r[2]! >>> 0;
      loadCacheFlat(cpu, SEG_CS, base | 3, FLAT_CODE32_DPL3);
    }
    loadCacheFlat(cpu, SEG_SS, (base + 8) | 3, FLAT_DATA_DPL3);
    cpu.setFlags(cpu.r[22]! & ~(RF | VM));
    cpu.nextRip = target;
  } else {
    loadCacheFlat(cpu, SEG_CS, base | 3, FLAT_CODE32_DPL3);
    loadCacheFlat(cpu, SEG_SS, (base + 8) | 3, FLAT_DATA_DPL3);
    cpu.setFlags(cpu.getFlags() | IF);
    cpu.nextRip = cpu.r[2]! >>> 0;
  }
  setCpl(cpu, 3);
  updateMode(cpu);
}

/** SYSENTER: ring 0 at SYSENTER_CS (SS = CS + 8), RSP/RIP from SYSENTER_ESP/EIP; 64-bit CS when long mode is active. */
function sysenter(cpu: Cpu): void {
  const sel = cpu.sysenterCs & 0xfffc;
  if ((cpu.cr0 & CR0_PE) === 0 || sel === 0) cpu.fault(EXC_GP, 0);
  const long = (cpu.efer & EFER_LMA) !== 0;
  cpu.setFlags(cpu.getFlags() & ~(IF | VM | RF));
  loadCacheFlat(cpu, SEG_CS, sel, long ? FLAT_CODE64_DPL0 : FLAT_CODE32_DPL0);
  loadCacheFlat(cpu, SEG_SS, sel + 8, FLAT_DATA_DPL0);
  setCpl(cpu, 0);
  updateMode(cpu);
  if (long) {
    cpu.setReg(4, 8, cpu.sysenterEsp | 0, hi32(cpu.sysenterEsp));
    cpu.nextRip = cpu.sysenterEip;
  } else {
    cpu.setReg(4, 4, cpu.sysenterEsp | 0);
    cpu.nextRip = cpu.sysenterEip >>> 0;
  }
}

/** SYSEXIT: ring 3 at SYSENTER_CS + 16 (32-bit) or + 32 (REX.W, 64-bit); RIP = RDX, RSP = RCX. */
function sysexit(cpu: Cpu, i: Insn): void {
  const sel = cpu.sysenterCs & 0xfffc;
  if ((cpu.cr0 & CR0_PE) === 0 || sel === 0 || cpu.cpl !== 0) cpu.fault(EXC_GP, 0);
  if (i.opsize === 8) {
    if (!isCanonicalHi(cpu.r[5]!) || !isCanonicalHi(cpu.r[3]!)) cpu.fault(EXC_GP, 0);
    loadCacheFlat(cpu, SEG_CS, (sel + 32) | 3, FLAT_CODE64_DPL3);
    loadCacheFlat(cpu, SEG_SS, (sel + 40) | 3, FLAT_DATA_DPL3);
    cpu.nextRip = joinSigned(cpu.r[4]!, cpu.r[5]!);
    cpu.setReg(4, 8, cpu.r[2]!, cpu.r[3]!);
  } else {
    loadCacheFlat(cpu, SEG_CS, (sel + 16) | 3, FLAT_CODE32_DPL3);
    loadCacheFlat(cpu, SEG_SS, (sel + 24) | 3, FLAT_DATA_DPL3);
    cpu.nextRip = cpu.r[4]! >>> 0;
    cpu.setReg(4, 4, cpu.r[2]!);
  }
  setCpl(cpu, 3);
  updateMode(cpu);
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

/** MOV CR/DR always moves 64 bits in 64-bit mode and 32 bits elsewhere (operand-size prefixes are ignored). */
function pickCrDr(exec: (cpu: Cpu, i: Insn) => void) {
  return (i: Insn) => {
    i.opsize = i.mode === MODE_64 ? 8 : 4;
    return exec;
  };
}

/** Register forms of SLDT/STR/SMSW use the full operand size. */
function pickStoreWord(exec: (cpu: Cpu, i: Insn) => void) {
  return (i: Insn) => {
    if (!i.isMem) i.opsize = vOperandSize(i);
    return exec;
  };
}

const rows: RowSpec[] = [
  { m: "sldt", op: "0F 00 /0", args: "Ew", pick: pickStoreWord(sldt) },
  { m: "str", op: "0F 00 /1", args: "Ew", pick: pickStoreWord(str) },
  { m: "lldt", op: "0F 00 /2", args: "Ew", exec: lldt },
  { m: "ltr", op: "0F 00 /3", args: "Ew", exec: ltr },
  { m: "verr", op: "0F 00 /4", args: "Ew", exec: verify(false), flags: "w:z" },
  { m: "verw", op: "0F 00 /5", args: "Ew", exec: verify(true), flags: "w:z" },
  { m: "sgdt", op: "0F 01 /0 mem", args: "Ms", exec: storeTableRegister(false) },
  { m: "sidt", op: "0F 01 /1 mem", args: "Ms", exec: storeTableRegister(true) },
  { m: "lgdt", op: "0F 01 /2 mem", args: "Ms", exec: loadTableRegister(false), cpl0: true },
  { m: "lidt", op: "0F 01 /3 mem", args: "Ms", exec: loadTableRegister(true), cpl0: true },
  { m: "smsw", op: "0F 01 /4", args: "Ew", pick: pickStoreWord(smsw) },
  { m: "lmsw", op: "0F 01 /6", args: "Ew", exec: lmsw, cpl0: true },
  { m: "invlpg", op: "0F 01 /7 mem", args: "Mb", exec: invlpg, cpl0: true },
  { m: "clac", op: "0F 01 CA", args: "", exec: setAc(false), feature: "smap", flags: "w:ac" },
  { m: "stac", op: "0F 01 CB", args: "", exec: setAc(true), feature: "smap", flags: "w:ac" },
  { m: "swapgs", op: "0F 01 F8", args: "", exec: swapgs, mode64: "o64", cpl0: true },
  { m: "rdtscp", op: "0F 01 F9", args: "", exec: rdtscp, feature: "rdtscp" },
  { m: "lar", op: "0F 02 /r", args: "Gv,Ew", exec: lar, flags: "w:z" },
  { m: "lsl", op: "0F 03 /r", args: "Gv,Ew", exec: lsl, flags: "w:z" },
  { m: "syscall", op: "0F 05", args: "", exec: syscall, feature: "syscall" },
  { m: "clts", op: "0F 06", args: "", exec: clts, cpl0: true },
  { m: "sysret", op: "0F 07", args: "", exec: sysret, feature: "syscall", note: "sysretq with REX.W" },
  { m: "invd", op: "0F 08", args: "", exec: noCacheEffect, cpl0: true },
  { m: "wbinvd", op: "0F 09", args: "", exec: noCacheEffect, cpl0: true },
  { m: "mov", op: "0F 20 /r reg", args: "Ry,Cy", pick: pickCrDr(movFromCr), note: "mov r, crN" },
  { m: "mov", op: "0F 21 /r reg", args: "Ry,Dy", pick: pickCrDr(movFromDr), note: "mov r, drN" },
  { m: "mov", op: "0F 22 /r reg", args: "Cy,Ry", pick: pickCrDr(movToCr), note: "mov crN, r" },
  { m: "mov", op: "0F 23 /r reg", args: "Dy,Ry", pick: pickCrDr(movToDr), note: "mov drN, r" },
  { m: "wrmsr", op: "0F 30", args: "", exec: wrmsr, cpl0: true, feature: "msr" },
  { m: "rdtsc", op: "0F 31", args: "", exec: rdtsc, feature: "tsc" },
  { m: "rdmsr", op: "0F 32", args: "", exec: rdmsr, cpl0: true, feature: "msr" },
  { m: "sysenter", op: "0F 34", args: "", exec: sysenter, feature: "sep" },
  { m: "sysexit", op: "0F 35", args: "", exec: sysexit, feature: "sep", note: "sysexitq with REX.W" },
  { m: "cpuid", op: "0F A2", args: "", exec: cpuid },
  { m: "hlt", op: "F4", args: "", exec: hlt, cpl0: true },
  { m: "cli", op: "FA", args: "", exec: cli, flags: "w:i" },
  { m: "sti", op: "FB", args: "", exec: sti, flags: "w:i" },
];

defineRows("system", rows);
