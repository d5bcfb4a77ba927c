// Segmentation and operating modes: descriptor-table reads, segment-register
// loads with every protected-mode check, the hidden descriptor caches, CS loads
// that switch the decode mode, and the CR0/CR3/CR4/CR8/EFER transitions an OS
// performs. Real-mode loads (base = selector * 16) live here too, so a BIOS boot
// can be added without touching this file's callers. Never used on a hot path.
//
// Exported functions are `function` declarations on purpose: this module sits in
// an import cycle with cpu.ts (cpu.ts → ops → here → cpu.ts), and declarations are
// usable before the cycle finishes evaluating; cpu.ts constants are only read
// inside function bodies for the same reason.
import type { Cpu } from "./cpu.js";
import {
  CR0_CD, CR0_NW, CR0_PE, CR0_PG, CR0_WP, CR0_ET, CR0_MP, CR0_EM, CR0_TS, CR0_NE, CR0_AM,
  CR4_DE, CR4_MCE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, CR4_PCE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP, CR4_TSD,
  EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE,
} from "./cpu.js";
import { EXC_GP, EXC_NP, EXC_SS } from "./fault.js";
import { MODE_16, MODE_32, MODE_64, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, type Insn } from "./insn.js";
import { MAX_PHYS_BITS } from "../mmu/paging.js";
import { P_RS, P_WS } from "../mmu/tlb.js";

const TWO32 = 4294967296;

// ---------------------------------------------------------------------------
// Descriptor attribute bits as cached in cpu.segAttr (descriptor bits 40..55).
// ---------------------------------------------------------------------------
export const ATTR_ACCESSED = 0x1;
export const ATTR_RW = 0x2; // data: writable; code: readable
export const ATTR_DC = 0x4; // data: expand-down; code: conforming
export const ATTR_CODE = 0x8;
export const ATTR_S = 0x10; // code/data (1) or system (0)
export const ATTR_P = 0x80;
export const ATTR_L = 0x2000;
export const ATTR_DB = 0x4000;
export const ATTR_G = 0x8000;

/** System descriptor types (S = 0). */
export const SYS_TSS16_AVAIL = 0x1;
export const SYS_LDT = 0x2;
export const SYS_TSS16_BUSY = 0x3;
export const SYS_CALL_GATE16 = 0x4;
export const SYS_TASK_GATE = 0x5;
export const SYS_INT_GATE16 = 0x6;
export const SYS_TRAP_GATE16 = 0x7;
export const SYS_TSS_AVAIL = 0x9; // 32-bit, or 64-bit in long mode
export const SYS_TSS_BUSY = 0xb;
export const SYS_CALL_GATE = 0xc;
export const SYS_INT_GATE = 0xe;
export const SYS_TRAP_GATE = 0xf;

/** Cached attributes of the flat segments SYSCALL/SYSRET/SYSENTER/SYSEXIT install. */
export const FLAT_CODE64_DPL0 = 0xa09b;
export const FLAT_CODE32_DPL0 = 0xc09b;
export const FLAT_DATA_DPL0 = 0xc093;
export const FLAT_CODE64_DPL3 = 0xa0fb;
export const FLAT_CODE32_DPL3 = 0xc0fb;
export const FLAT_DATA_DPL3 = 0xc0f3;

// ---------------------------------------------------------------------------
// 64-bit values held as doubles (descriptor-table bases, RIP-like addresses).
// ---------------------------------------------------------------------------

/** Low 32 bits (as int32) of an integral double. */
export function lo32(x: number): number {
  return x | 0;
}

/** High 32 bits (as int32) of an integral double. */
export function hi32(x: number): number {
  return Math.floor(x / TWO32) | 0;
}

/** Signed double from halves: exact for canonical addresses. */
export function joinSigned(lo: number, hi: number): number {
  return hi * TWO32 + (lo >>> 0);
}

/** True when the high half of a 64-bit address makes it canonical (48-bit). */
export function isCanonicalHi(hi: number): boolean {
  return ((hi << 16) >> 16) === hi;
}

// ---------------------------------------------------------------------------
// Implicit supervisor accesses (descriptor tables, TSS, IDT): always with
// supervisor rights and SMAP enforced, whatever the CPL and RFLAGS.AC.
// ---------------------------------------------------------------------------

let linLo = 0;
let linHi = 0;

/** Linear address base + off; outside long mode it wraps at 4 GiB. */
function linear(cpu: Cpu, base: number, off: number): void {
  const a = base + off;
  linLo = a | 0;
  linHi = (cpu.efer & EFER_LMA) === 0 ? 0 : Math.floor(a / TWO32) | 0;
}

export function sysRead32(cpu: Cpu, base: number, off: number): number {
  linear(cpu, base, off);
  return cpu.readSlow(linLo, linHi, 4, P_RS);
}

export function sysRead16(cpu: Cpu, base: number, off: number): number {
  linear(cpu, base, off);
  return cpu.readSlow(linLo, linHi, 2, P_RS);
}

export function sysWrite32(cpu: Cpu, base: number, off: number, v: number): void {
  linear(cpu, base, off);
  cpu.writeSlow(linLo, linHi, 4, v, P_WS);
}

// ---------------------------------------------------------------------------
// Descriptor fetch
// ---------------------------------------------------------------------------

/** The last descriptor read by fetchDescriptor (module-level: no allocation). */
export const desc = {
  lo: 0,
  hi: 0,
  /** Bits 95:64 of a 16-byte system descriptor (long mode), when fetchSystemDescriptor read it. */
  upper: 0,
  /** Table base and byte offset of the descriptor (to set the accessed / busy bit). */
  tableBase: 0,
  offset: 0,
};

/**
 * Reads the GDT/LDT descriptor of `sel` into `desc`. A selector beyond the
 * table limit (or into a null LDT) raises `vector` with the selector error code
 * (plus `ext`, the EXT bit for events external to the program).
 */
export function fetchDescriptor(cpu: Cpu, sel: number, vector: number, ext: number): void {
  const index = sel & 0xfff8;
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    base = cpu.ldtBase;
    limit = (cpu.ldtSel & 0xfffc) === 0 ? -1 : cpu.ldtLimit;
  } else {
    base = cpu.gdtBase;
    limit = cpu.gdtLimit;
  }
  if (index + 7 > limit) cpu.fault(vector, (sel & 0xfffc) | ext);
  desc.tableBase = base;
  desc.offset = index;
  desc.lo = sysRead32(cpu, base, index);
  desc.hi = sysRead32(cpu, base, index + 4);
  desc.upper = 0;
}

/** Like fetchDescriptor for GDT system descriptors, reading the upper 8 bytes in long mode. */
export function fetchSystemDescriptor(cpu: Cpu, sel: number, vector: number, ext: number): void {
  fetchDescriptor(cpu, sel, vector, ext);
  if ((cpu.efer & EFER_LMA) !== 0) {
    const limit = (sel & 4) !== 0 ? cpu.ldtLimit : cpu.gdtLimit;
    if ((sel & 0xfff8) + 15 > limit) cpu.fault(vector, (sel & 0xfffc) | ext);
    desc.upper = sysRead32(cpu, desc.tableBase, desc.offset + 8);
    // The type field of the upper half must be zero (SDM Vol. 3 §7.2.3).
    if ((sysRead32(cpu, desc.tableBase, desc.offset + 12) & 0x1f00) !== 0) cpu.fault(vector, (sel & 0xfffc) | ext);
  }
}

export function descAttr(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** Byte-granular limit (G scales by 4 KiB and fills the low 12 bits). */
export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & 0x800000) !== 0 ? raw * 4096 + 0xfff : raw;
}

export function attrDpl(attr: number): number {
  return (attr >> 5) & 3;
}

/** Sets the descriptor's accessed bit in memory (as the processor does on a load). */
export function markAccessed(cpu: Cpu): void {
  if ((desc.hi & 0x100) === 0 && (desc.hi & 0x1000) !== 0) {
    desc.hi |= 0x100;
    sysWrite32(cpu, desc.tableBase, desc.offset + 4, desc.hi);
  }
}

/** Loads a segment's hidden cache from the descriptor in `desc`. */
export function loadCacheFromDesc(cpu: Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBaseLo[seg] = descBase(desc.lo, desc.hi) | 0;
  cpu.segBaseHi[seg] = 0;
  cpu.segLimit[seg] = descLimit(desc.lo, desc.hi);
  cpu.segAttr[seg] = descAttr(desc.hi);
}

/** Loads a segment's hidden cache with explicit values (SYSCALL and friends). */
export function loadCacheFlat(cpu: Cpu, seg: number, sel: number, attr: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBaseLo[seg] = 0;
  cpu.segBaseHi[seg] = 0;
  cpu.segLimit[seg] = 0xffffffff;
  cpu.segAttr[seg] = attr;
}

/** A null selector: unusable outside 64-bit mode (P = 0), base 0. DPL keeps the RPL for SS. */
export function loadNull(cpu: Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBaseLo[seg] = 0;
  cpu.segBaseHi[seg] = 0;
  cpu.segLimit[seg] = 0;
  cpu.segAttr[seg] = (sel & 3) << 5;
}

// ---------------------------------------------------------------------------
// Mode bookkeeping
// ---------------------------------------------------------------------------

export function isProtected(cpu: Cpu): boolean {
  return (cpu.cr0 & CR0_PE) !== 0;
}

export function isLongActive(cpu: Cpu): boolean {
  return (cpu.efer & EFER_LMA) !== 0;
}

/**
 * Recomputes the decode mode and stack width from CS, SS and EFER.LMA, and
 * makes the run loop leave its fast path (it re-fetches in the new mode).
 * Outside 64-bit mode the decode mode follows CS.D even in real mode, as the
 * hardware does between MOV CR0 and the far jump that reloads CS.
 */
export function updateMode(cpu: Cpu): void {
  const cs = cpu.segAttr[SEG_CS]!;
  if ((cpu.efer & EFER_LMA) !== 0 && (cs & ATTR_L) !== 0) {
    cpu.mode = MODE_64;
    cpu.stackSize = 8;
  } else {
    cpu.mode = (cs & ATTR_DB) !== 0 ? MODE_32 : MODE_16;
    cpu.stackSize = (cpu.segAttr[SEG_SS]! & ATTR_DB) !== 0 ? 4 : 2;
  }
  cpu.eventFlag = 1;
}

/** Changes the current privilege level (TLB permission masks follow it). */
export function setCpl(cpu: Cpu, cpl: number): void {
  if (cpu.cpl !== cpl) {
    cpu.cpl = cpl;
    cpu.updateAccessRights();
  }
  cpu.eventFlag = 1;
}

/** Loads CS from `desc` with RPL = cpl and switches CPL and mode accordingly. */
export function loadCs(cpu: Cpu, sel: number, cpl: number): void {
  loadCacheFromDesc(cpu, SEG_CS, (sel & 0xfffc) | cpl);
  setCpl(cpu, cpl);
  updateMode(cpu);
}

/** Real-mode CS load: base = selector * 16, a 16-bit code segment with a 64 KiB limit. */
export function loadRealCs(cpu: Cpu, sel: number): void {
  sel &= 0xffff;
  cpu.segSel[SEG_CS] = sel;
  cpu.segBaseLo[SEG_CS] = sel << 4;
  cpu.segBaseHi[SEG_CS] = 0;
  cpu.segLimit[SEG_CS] = 0xffff;
  cpu.segAttr[SEG_CS] = 0x9b;
  setCpl(cpu, 0);
  updateMode(cpu);
}

/**
 * Real-mode data-segment load: only the selector and base change; the cached
 * limit and attributes stay (this is what makes "unreal mode" work), except that
 * a segment left unusable by protected mode becomes a present 64 KiB data segment.
 */
function loadRealSegment(cpu: Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBaseLo[seg] = sel << 4;
  cpu.segBaseHi[seg] = 0;
  if ((cpu.segAttr[seg]! & ATTR_P) === 0) {
    cpu.segAttr[seg] = 0x93;
    cpu.segLimit[seg] = 0xffff;
  }
  if (seg === SEG_SS) updateMode(cpu);
}

// ---------------------------------------------------------------------------
// Segment-register loads (MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS)
// ---------------------------------------------------------------------------

/** Loads DS, ES, FS, GS or SS with all the checks of the current mode (CS is never loaded here). */
export function loadSegment(cpu: Cpu, seg: number, selector: number): void {
  const sel = selector & 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0) {
    loadRealSegment(cpu, seg, sel);
    return;
  }
  if (seg === SEG_SS) {
    loadStackSegment(cpu, sel);
    return;
  }
  if ((sel & 0xfffc) === 0) {
    loadNull(cpu, seg, sel);
    return;
  }
  fetchDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  // Data, or readable code.
  if ((attr & ATTR_S) === 0 || (attr & (ATTR_CODE | ATTR_RW)) === ATTR_CODE) cpu.fault(EXC_GP, sel & 0xfffc);
  // Data and non-conforming code: RPL and CPL must not be more privileged... than the DPL allows.
  if ((attr & (ATTR_CODE | ATTR_DC)) !== (ATTR_CODE | ATTR_DC)) {
    const dpl = attrDpl(attr);
    if ((sel & 3) > dpl || cpu.cpl > dpl) cpu.fault(EXC_GP, sel & 0xfffc);
  }
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  markAccessed(cpu);
  loadCacheFromDesc(cpu, seg, sel);
}

/** SS: RPL = DPL = CPL, writable data, present (#SS), or a null selector where 64-bit mode allows it. */
function loadStackSegment(cpu: Cpu, sel: number): void {
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (cpu.mode === MODE_64 && cpu.cpl !== 3 && rpl === cpu.cpl) {
      loadNull(cpu, SEG_SS, sel);
      updateMode(cpu);
      return;
    }
    cpu.fault(EXC_GP, 0);
  }
  fetchDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  if (rpl !== cpu.cpl) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) cpu.fault(EXC_GP, sel & 0xfffc);
  if (attrDpl(attr) !== cpu.cpl) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_SS, sel & 0xfffc);
  markAccessed(cpu);
  loadCacheFromDesc(cpu, SEG_SS, sel);
  updateMode(cpu);
}

/**
 * Validates a stack segment that a privilege change (IRET, RETF) is about to
 * load for `newCpl`, leaving its descriptor in `desc`. Returns false for a null
 * selector that 64-bit mode accepts (the caller loads it with loadNull).
 */
export function checkReturnStack(cpu: Cpu, sel: number, newCpl: number, target64: boolean): boolean {
  if ((sel & 0xfffc) === 0) {
    if (target64 && newCpl !== 3 && (sel & 3) === newCpl) return false;
    cpu.fault(EXC_GP, 0);
  }
  fetchDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  if ((sel & 3) !== newCpl) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) cpu.fault(EXC_GP, sel & 0xfffc);
  if (attrDpl(attr) !== newCpl) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_SS, sel & 0xfffc);
  return true;
}

/**
 * After a return to an outer (less privileged) level: data segments and
 * non-conforming code segments in ES, DS, FS, GS whose DPL is below the new CPL
 * become null, so the outer level cannot keep using inner-level segments.
 */
export function nullifyInnerSegments(cpu: Cpu): void {
  const segs = [SEG_ES, SEG_DS, SEG_FS, SEG_GS];
  for (let k = 0; k < 4; k++) {
    const s = segs[k]!;
    const attr = cpu.segAttr[s]!;
    if ((attr & ATTR_S) === 0 || (attr & ATTR_P) === 0) continue;
    const conformingCode = (attr & (ATTR_CODE | ATTR_DC)) === (ATTR_CODE | ATTR_DC);
    if (!conformingCode && attrDpl(attr) < cpu.cpl) {
      cpu.segSel[s] = 0;
      cpu.segAttr[s] = 0;
    }
  }
}

/**
 * Validates a far-transfer target code segment (JMP/CALL far): leaves its
 * descriptor in `desc`. System descriptors (call gates, task gates, TSS) are
 * not followed (docs/emulator/system.md: known gaps) and raise #GP(selector).
 */
export function checkFarCodeTarget(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) cpu.fault(EXC_GP, 0);
  fetchDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) cpu.fault(EXC_GP, sel & 0xfffc);
  const dpl = attrDpl(attr);
  if ((attr & ATTR_DC) !== 0) {
    if (dpl > cpu.cpl) cpu.fault(EXC_GP, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) {
    cpu.fault(EXC_GP, sel & 0xfffc);
  }
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  checkCodeL(cpu, sel, attr);
}

/** In long mode, a code segment with both L and D set is reserved: #GP(selector). */
export function checkCodeL(cpu: Cpu, sel: number, attr: number): void {
  if ((cpu.efer & EFER_LMA) !== 0 && (attr & (ATTR_L | ATTR_DB)) === (ATTR_L | ATTR_DB)) cpu.fault(EXC_GP, sel & 0xfffc);
}

/**
 * Validates the code segment a return (RETF/IRET) goes to: `desc` holds it
 * afterwards. The new CPL is the selector's RPL, which must not be more
 * privileged than the current CPL.
 */
export function checkReturnCode(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) cpu.fault(EXC_GP, 0);
  fetchDescriptor(cpu, sel, EXC_GP, 0);
  const attr = descAttr(desc.hi);
  const rpl = sel & 3;
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) cpu.fault(EXC_GP, sel & 0xfffc);
  if (rpl < cpu.cpl) cpu.fault(EXC_GP, sel & 0xfffc);
  const dpl = attrDpl(attr);
  if ((attr & ATTR_DC) !== 0 ? dpl > rpl : dpl !== rpl) cpu.fault(EXC_GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  checkCodeL(cpu, sel, attr);
}

/** True when `desc` describes a 64-bit code segment and long mode is active. */
export function descIs64(cpu: Cpu): boolean {
  return (cpu.efer & EFER_LMA) !== 0 && (descAttr(desc.hi) & ATTR_L) !== 0;
}

// ---------------------------------------------------------------------------
// Control registers and EFER
// ---------------------------------------------------------------------------

/** CR0 bits that exist; the rest of bits 31:0 are ignored, bits 63:32 must be 0. */
function cr0Valid(): number {
  return CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
}

/** CR4 bits this CPU implements (anything else is reserved: #GP(0)). */
export function cr4Valid(): number {
  return CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_SMEP | CR4_SMAP;
}

/** MOV CR0 / LMSW / CLTS: reserved bits, paging/long-mode activation rules, TLB flushes. */
export function writeCr0(cpu: Cpu, lo: number, hi: number): void {
  if (hi !== 0) cpu.fault(EXC_GP, 0);
  const v = ((lo & cr0Valid()) | CR0_ET) >>> 0;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) cpu.fault(EXC_GP, 0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) cpu.fault(EXC_GP, 0);
  const old = cpu.cr0;
  const pgOn = (v & CR0_PG) !== 0 && (old & CR0_PG) === 0;
  const pgOff = (v & CR0_PG) === 0 && (old & CR0_PG) !== 0;
  if (pgOn && (cpu.efer & EFER_LME) !== 0) {
    // Activating IA-32e mode: needs PAE, a CS without L, and a 32-bit TSS in TR.
    if ((cpu.cr4 & CR4_PAE) === 0) cpu.fault(EXC_GP, 0);
    if ((cpu.segAttr[SEG_CS]! & ATTR_L) !== 0) cpu.fault(EXC_GP, 0);
    const trType = cpu.trAttr & 0xf;
    if ((cpu.trSel & 0xfffc) !== 0 && (trType === SYS_TSS16_AVAIL || trType === SYS_TSS16_BUSY)) cpu.fault(EXC_GP, 0);
  }
  // Paging cannot be turned off from 64-bit code (only from compatibility mode).
  if (pgOff && cpu.mode === MODE_64) cpu.fault(EXC_GP, 0);
  cpu.cr0 = v;
  if (pgOn && (cpu.efer & EFER_LME) !== 0) cpu.efer |= EFER_LMA;
  if (pgOff) cpu.efer &= ~EFER_LMA;
  if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) cpu.flushTlb(true);
  updateMode(cpu);
}

/** MOV CR3: reserved physical-address bits in long mode; flushes non-global translations. */
export function writeCr3(cpu: Cpu, lo: number, hi: number): void {
  if ((cpu.efer & EFER_LMA) === 0) hi = 0;
  else if ((hi >>> 0) >= 1 << (MAX_PHYS_BITS - 32)) cpu.fault(EXC_GP, 0);
  cpu.cr3 = (hi >>> 0) * TWO32 + (lo >>> 0);
  cpu.flushTlb(false);
}

/** MOV CR4: reserved bits, PAE may not be cleared in long mode; paging-mode bits flush the TLB. */
export function writeCr4(cpu: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~cr4Valid()) !== 0) cpu.fault(EXC_GP, 0);
  if ((cpu.efer & EFER_LMA) !== 0 && (lo & CR4_PAE) === 0) cpu.fault(EXC_GP, 0);
  const old = cpu.cr4;
  cpu.cr4 = lo;
  if (((old ^ lo) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP)) !== 0) cpu.flushTlb(true);
  cpu.eventFlag = 1;
}

/** MOV CR8 (task priority): bits 63:4 reserved. The machine has no local APIC to consult it. */
export function writeCr8(cpu: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~0xf) !== 0) cpu.fault(EXC_GP, 0);
  cpu.cr8 = lo;
}

/** WRMSR EFER: SCE LME NXE writable, LMA read-only (written values ignored), LME frozen while paging. */
export function writeEfer(cpu: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) !== 0) cpu.fault(EXC_GP, 0);
  const old = cpu.efer;
  if (((old ^ lo) & EFER_LME) !== 0 && (cpu.cr0 & CR0_PG) !== 0) cpu.fault(EXC_GP, 0);
  cpu.efer = (lo & ~EFER_LMA) | (old & EFER_LMA);
  if (((old ^ lo) & EFER_NXE) !== 0) cpu.flushTlb(true);
}

// ---------------------------------------------------------------------------
// Operand-size helpers for rows whose table operands do not carry the v size
// ---------------------------------------------------------------------------

/** The "v" operand size of an instruction from its mode and prefixes (REX.W, 66). */
export function vOperandSize(i: Insn): number {
  if (i.mode === MODE_64) return (i.rex & 8) !== 0 ? 8 : i.prefix66 ? 2 : 4;
  if (i.mode === MODE_32) return i.prefix66 ? 2 : 4;
  return i.prefix66 ? 4 : 2;
}

/** Stack operand size of a d64 row (push/pop of a segment register). */
export function stackOperandSize(i: Insn): number {
  if (i.mode === MODE_64) return i.prefix66 ? 2 : 8;
  return vOperandSize(i);
}
