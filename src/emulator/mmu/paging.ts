// The page walker: 32-bit, PAE and 4-level paging with 4 KiB / 2-4 MiB / 1 GiB
// pages, accessed/dirty updates, U/S, R/W (CR0.WP), NX (EFER.NXE), SMEP/SMAP and
// reserved-bit checks. It fills the TLB and raises #PF with the exact error code.
import type { Cpu } from "../cpu/cpu.js";
import { PF_P, PF_RSVD } from "../cpu/fault.js";
import {
  ACC_EXEC, ACC_WRITE, P_ALL, P_RS, P_RS_AC, P_RU, P_WRITE_BITS, P_WS, P_WS_AC, P_WU, P_XS, P_XU, TLB_MASK,
} from "./tlb.js";

const TWO32 = 4294967296;
const CR0_PG = 1 << 31;
const CR0_WP = 1 << 16;
const CR4_PSE = 1 << 4;
const CR4_PAE = 1 << 5;
const CR4_PGE = 1 << 7;
const CR4_SMEP = 1 << 20;
const CR4_SMAP = 1 << 21;
const EFER_LMA = 1 << 10;
const EFER_NXE = 1 << 11;

/** Physical address width reported by CPUID 0x80000008 (as QEMU's default). */
export const MAX_PHYS_BITS = 40;
/** Bits 51:MAXPHYADDR of an entry's high dword that must be zero. */
const RSVD_HI = ((1 << (52 - 32)) - 1) & ~((1 << (MAX_PHYS_BITS - 32)) - 1);

// Walk results shared between helpers (no allocation per walk).
let entryLo = 0;
let entryHi = 0;

function readEntry64(cpu: Cpu, addr: number): void {
  if (addr + 8 <= cpu.mem.size) {
    entryLo = cpu.dv.getInt32(addr, true);
    entryHi = cpu.dv.getInt32(addr + 4, true);
  } else {
    entryLo = cpu.mem.read(addr, 4);
    entryHi = cpu.mem.read(addr + 4, 4);
  }
}

function writeEntryLo(cpu: Cpu, addr: number, lo: number): void {
  cpu.physWrite(addr, 4, lo);
}

/** Translates on a TLB miss or permission miss: walks, checks, updates A/D, fills the TLB. */
export function translateSlow(cpu: Cpu, lo: number, hi: number, access: number, need: number): number {
  if ((cpu.cr0 & CR0_PG) === 0) {
    const phys = lo >>> 0;
    fill(cpu, lo, hi, phys - (phys & 0xfff), P_ALL, true, false, false);
    return phys;
  }
  const isUserAccess = (need & (P_RU | P_WU | P_XU)) !== 0;
  const nxe = (cpu.efer & EFER_NXE) !== 0;
  let user = true;
  let writable = true;
  let nx = false;
  let dirty = false;
  let global = false;
  let large = false;
  let pageBase: number; // physical base of the 4 KiB page containing the address
  const rsvdFault = (): never => cpu.pageFault(lo, hi, PF_P | PF_RSVD | cpu.pfBits(access, need));
  const notPresent = (): never => cpu.pageFault(lo, hi, cpu.pfBits(access, need));

  if ((cpu.cr4 & CR4_PAE) === 0) {
    // 32-bit paging: 2 levels of 32-bit entries, optional 4 MiB pages (PSE).
    const pdeAddr = (cpu.cr3 & 0xfffff000) + ((lo >>> 22) << 2);
    const pde = cpu.mem.read(pdeAddr, 4);
    if ((pde & 1) === 0) notPresent();
    user = (pde & 4) !== 0;
    writable = (pde & 2) !== 0;
    if ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
      large = true;
      if ((pde & 0x20) === 0) cpu.physWrite(pdeAddr, 4, pde | 0x20);
      checkAccess(cpu, lo, hi, access, need, isUserAccess, user, writable, false);
      dirty = (pde & 0x40) !== 0;
      if (access === ACC_WRITE && !dirty) { cpu.physWrite(pdeAddr, 4, pde | 0x60); dirty = true; }
      global = (pde & 0x100) !== 0;
      // PSE-36: bits 20:13 give physical bits 39:32.
      pageBase = ((pde & 0xffc00000) >>> 0) + ((pde >>> 13) & 0xff) * TWO32 + (lo & 0x3ff000);
    } else {
      if ((pde & 0x20) === 0) cpu.physWrite(pdeAddr, 4, pde | 0x20);
      const pteAddr = (pde & 0xfffff000) + (((lo >>> 12) & 0x3ff) << 2);
      const pte = cpu.mem.read(pteAddr >>> 0, 4);
      if ((pte & 1) === 0) notPresent();
      user = user && (pte & 4) !== 0;
      writable = writable && (pte & 2) !== 0;
      checkAccess(cpu, lo, hi, access, need, isUserAccess, user, writable, false);
      if ((pte & 0x20) === 0) cpu.physWrite(pteAddr >>> 0, 4, pte | 0x20);
      dirty = (pte & 0x40) !== 0;
      if (access === ACC_WRITE && !dirty) { cpu.physWrite(pteAddr >>> 0, 4, pte | 0x60); dirty = true; }
      global = (pte & 0x100) !== 0;
      pageBase = (pte & 0xfffff000) >>> 0;
    }
  } else {
    // PAE (3 levels) or, with EFER.LMA, 4-level paging; 64-bit entries.
    const longMode = (cpu.efer & EFER_LMA) !== 0;
    let table: number;
    let level: number;
    if (longMode) {
      table = cr3Base(cpu.cr3, 0xfffff000);
      level = 4;
    } else {
      // PDPTE registers: read at walk time from CR3 (32-byte aligned table of 4).
      const pdpteAddr = cr3Base(cpu.cr3, 0xffffffe0) + (lo >>> 30) * 8;
      readEntry64(cpu, pdpteAddr);
      if ((entryLo & 1) === 0) notPresent();
      if ((entryLo & 0x1e6) !== 0 || (entryHi & RSVD_HI) !== 0 || entryHi < 0) rsvdFault();
      table = entryBase();
      level = 2;
    }
    for (;;) {
      const idx = levelIndex(lo, hi, level);
      const addr = table + idx * 8;
      readEntry64(cpu, addr);
      const elo = entryLo;
      const ehi = entryHi;
      if ((elo & 1) === 0) notPresent();
      if ((ehi & RSVD_HI) !== 0 || (!nxe && ehi < 0)) rsvdFault();
      const ps = (elo & 0x80) !== 0;
      if (level === 4 && ps) rsvdFault();
      if (level === 3 && ps && !longMode) rsvdFault();
      user = user && (elo & 4) !== 0;
      writable = writable && (elo & 2) !== 0;
      nx = nx || (nxe && ehi < 0);
      if (level === 1 || ps) {
        // Final entry.
        if (ps && level === 3 && (elo & 0x3fffe000) !== 0) rsvdFault();
        if (ps && level === 2 && (elo & 0x1fe000) !== 0) rsvdFault();
        checkAccess(cpu, lo, hi, access, need, isUserAccess, user, writable, nx);
        let newLo = elo | 0x20;
        dirty = (elo & 0x40) !== 0;
        if (access === ACC_WRITE) { newLo |= 0x40; dirty = true; }
        if (newLo !== elo) writeEntryLo(cpu, addr, newLo);
        global = (elo & 0x100) !== 0;
        const base = entryBaseOf(elo, ehi);
        if (level === 3) { large = true; pageBase = base - (base % 0x40000000) + ((lo & 0x3ffff000) >>> 0); }
        else if (level === 2) { large = true; pageBase = base - (base % 0x200000) + (lo & 0x1ff000); }
        else pageBase = base;
        break;
      }
      if ((elo & 0x20) === 0) writeEntryLo(cpu, addr, elo | 0x20);
      table = entryBaseOf(elo, ehi);
      level--;
    }
  }

  // Combine rights into TLB permission bits.
  const smap = (cpu.cr4 & CR4_SMAP) !== 0;
  const smep = (cpu.cr4 & CR4_SMEP) !== 0;
  const wp = (cpu.cr0 & CR0_WP) !== 0;
  const supWrite = writable || !wp;
  let perm: number;
  if (user) {
    perm = P_RU | P_RS_AC | (writable ? P_WU : 0) | (supWrite ? P_WS_AC : 0) | (nx ? 0 : P_XU);
    if (!smap) perm |= P_RS | (supWrite ? P_WS : 0);
    if (!smep && !nx) perm |= P_XS;
  } else {
    perm = P_RS | P_RS_AC | (supWrite ? P_WS | P_WS_AC : 0) | (nx ? 0 : P_XS);
  }
  fill(cpu, lo, hi, pageBase, perm, dirty, global && (cpu.cr4 & CR4_PGE) !== 0, large);
  return pageBase + (lo & 0xfff);
}

/** Raises #PF (protection) when the walk's combined rights forbid the access. */
function checkAccess(
  cpu: Cpu, lo: number, hi: number, access: number, need: number, isUserAccess: boolean,
  user: boolean, writable: boolean, nx: boolean,
): void {
  let ok: boolean;
  if (isUserAccess) {
    ok = user && (access !== ACC_WRITE || writable) && (access !== ACC_EXEC || !nx);
  } else {
    const wp = (cpu.cr0 & CR0_WP) !== 0;
    if (access === ACC_EXEC) ok = !nx && !(user && (cpu.cr4 & CR4_SMEP) !== 0);
    else {
      const smapBlocks = user && (cpu.cr4 & CR4_SMAP) !== 0 && (need & (P_RS_AC | P_WS_AC)) === 0;
      ok = !smapBlocks && (access !== ACC_WRITE || writable || !wp);
    }
  }
  if (!ok) cpu.pageFault(lo, hi, PF_P | cpu.pfBits(access, need));
}

function cr3Base(cr3: number, mask: number): number {
  const lo = (cr3 >>> 0) % TWO32;
  const hi = Math.floor(cr3 / TWO32);
  return ((lo & mask) >>> 0) + (hi & 0xfffff) * TWO32;
}

function entryBase(): number {
  return entryBaseOf(entryLo, entryHi);
}

function entryBaseOf(elo: number, ehi: number): number {
  return ((elo & 0xfffff000) >>> 0) + (ehi & 0xfffff) * TWO32;
}

function levelIndex(lo: number, hi: number, level: number): number {
  switch (level) {
    case 4: return (hi >>> 7) & 0x1ff;
    case 3: return ((hi & 0x7f) << 2) | (lo >>> 30);
    case 2: return (lo >>> 21) & 0x1ff;
    default: return (lo >>> 12) & 0x1ff;
  }
}

function fill(cpu: Cpu, lo: number, hi: number, pageBase: number, perm: number, dirty: boolean, global: boolean, large: boolean): void {
  const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
  const page = pageBase / 4096;
  const ram = pageBase + 4096 <= cpu.mem.size && cpu.mem.isRamPage(page);
  if (!ram) {
    // Not plain RAM: keep it out of the fast path entirely.
    cpu.tlbTagLo[e] = 1;
    cpu.tlbPerm[e] = 0;
    return;
  }
  let p = perm;
  if (!dirty || cpu.codePage[page] !== 0) p &= ~P_WRITE_BITS;
  // Alignment checking: user data accesses must reach the slow path (Cpu.checkAlignment).
  if (cpu.alignCheck) p &= ~(P_RU | P_WU);
  cpu.tlbTagLo[e] = lo & -4096;
  cpu.tlbTagHi[e] = hi;
  cpu.tlbPhys[e] = pageBase;
  cpu.tlbPerm[e] = p;
  cpu.tlbGlobal[e] = global ? 1 : 0;
  if (large) cpu.tlbHasLarge = true;
}

export { P_RS, P_WS };
