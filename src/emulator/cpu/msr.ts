// The model-specific registers RDMSR/WRMSR reach, as one table: index, name,
// read handler (returns the low half, high half in cpu.rhi) and write handler
// (raises #GP(0) for reserved bits or non-canonical addresses). An index that is
// not in the table raises #GP(0). Values mirror QEMU's defaults for qemu64.
import type { Cpu } from "./cpu.js";
import { EXC_GP } from "./fault.js";
import { SEG_FS, SEG_GS } from "./insn.js";
import { hi32, isCanonicalHi, joinSigned, writeEfer } from "./modes.js";
import { MAX_PHYS_BITS } from "../mmu/paging.js";

const TWO32 = 4294967296;

export interface MsrRow {
  index: number;
  name: string;
  /** Returns bits 31:0; bits 63:32 go to cpu.rhi. */
  read(cpu: Cpu): number;
  /** Raises #GP(0) for values the MSR does not accept. */
  write(cpu: Cpu, lo: number, hi: number): void;
}

/** Bits of a high dword above MAXPHYADDR (reserved in physical-address MSRs). */
const PHYS_HI_RESERVED = ~((1 << (MAX_PHYS_BITS - 32)) - 1);

/** Memory types valid in PAT entries and MTRRs: UC WC WT WP WB (PAT also UC-). */
function validPatType(t: number): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6 || t === 7;
}
function validMtrrType(t: number): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6;
}

/** Every byte of a 64-bit value holds a valid memory type. */
function allBytesValid(lo: number, hi: number, ok: (t: number) => boolean): boolean {
  for (let k = 0; k < 4; k++) {
    if (!ok((lo >>> (8 * k)) & 0xff) || !ok((hi >>> (8 * k)) & 0xff)) return false;
  }
  return true;
}

/** The 64-bit time-stamp counter as a double (exact below 2^53): virtual clock plus the guest's offset. */
export function tscValue(cpu: Cpu): number {
  return cpu.readTsc() + cpu.tscOffset;
}

// ---- MSRs stored in cpu.msrStore (no behaviour beyond their value).

function stored(cpu: Cpu, index: number, defLo: number, defHi: number): number {
  const v = cpu.msrStore.get(index);
  if (v === undefined) {
    cpu.rhi = defHi;
    return defLo;
  }
  cpu.rhi = v[1];
  return v[0];
}

function store(cpu: Cpu, index: number, lo: number, hi: number): void {
  cpu.msrStore.set(index, [lo | 0, hi | 0]);
}

function storageMsr(index: number, name: string, defLo: number, defHi: number, check: (lo: number, hi: number) => boolean): MsrRow {
  return {
    index,
    name,
    read: (cpu) => stored(cpu, index, defLo, defHi),
    write: (cpu, lo, hi) => {
      if (!check(lo, hi)) cpu.fault(EXC_GP, 0);
      store(cpu, index, lo, hi);
    },
  };
}

/** An address MSR kept as a canonical signed double (get/set through accessors on the CPU). */
function canonicalMsr(index: number, name: string, get: (cpu: Cpu) => number, set: (cpu: Cpu, v: number) => void): MsrRow {
  return {
    index,
    name,
    read: (cpu) => {
      const v = get(cpu);
      cpu.rhi = hi32(v);
      return v | 0;
    },
    write: (cpu, lo, hi) => {
      if (!isCanonicalHi(hi)) cpu.fault(EXC_GP, 0);
      set(cpu, joinSigned(lo, hi));
    },
  };
}

function segBaseMsr(index: number, name: string, seg: number): MsrRow {
  return {
    index,
    name,
    read: (cpu) => {
      cpu.rhi = cpu.segBaseHi[seg]!;
      return cpu.segBaseLo[seg]!;
    },
    write: (cpu, lo, hi) => {
      if (!isCanonicalHi(hi)) cpu.fault(EXC_GP, 0);
      cpu.segBaseLo[seg] = lo;
      cpu.segBaseHi[seg] = hi;
    },
  };
}

const readOnly = (cpu: Cpu): void => cpu.fault(EXC_GP, 0);

const MTRR_VARIABLE_PAIRS = 8;

function mtrrRows(): MsrRow[] {
  const rows: MsrRow[] = [];
  for (let n = 0; n < MTRR_VARIABLE_PAIRS; n++) {
    rows.push(storageMsr(0x200 + 2 * n, `MTRR_PHYSBASE${n}`, 0, 0,
      (lo, hi) => validMtrrType(lo & 0xff) && (lo & 0xf00) === 0 && (hi & PHYS_HI_RESERVED) === 0));
    rows.push(storageMsr(0x201 + 2 * n, `MTRR_PHYSMASK${n}`, 0, 0,
      (lo, hi) => (lo & 0x7ff) === 0 && (hi & PHYS_HI_RESERVED) === 0));
  }
  const fixed: [number, string][] = [
    [0x250, "MTRR_FIX64K_00000"], [0x258, "MTRR_FIX16K_80000"], [0x259, "MTRR_FIX16K_A0000"],
    [0x268, "MTRR_FIX4K_C0000"], [0x269, "MTRR_FIX4K_C8000"], [0x26a, "MTRR_FIX4K_D0000"], [0x26b, "MTRR_FIX4K_D8000"],
    [0x26c, "MTRR_FIX4K_E0000"], [0x26d, "MTRR_FIX4K_E8000"], [0x26e, "MTRR_FIX4K_F0000"], [0x26f, "MTRR_FIX4K_F8000"],
  ];
  for (const [index, name] of fixed) rows.push(storageMsr(index, name, 0, 0, (lo, hi) => allBytesValid(lo, hi, validMtrrType)));
  return rows;
}

/** The MSR table. */
export const MSR_TABLE: readonly MsrRow[] = [
  {
    index: 0x10,
    name: "TSC",
    read: (cpu) => {
      const t = tscValue(cpu);
      cpu.rhi = Math.floor(t / TWO32) | 0;
      return t | 0;
    },
    write: (cpu, lo, hi) => {
      cpu.tscOffset = (hi >>> 0) * TWO32 + (lo >>> 0) - cpu.readTsc();
    },
  },
  // Local APIC base: 0xFEE00000, enabled (bit 11), bootstrap processor (bit 8). x2APIC (bit 10) is not offered.
  storageMsr(0x1b, "APIC_BASE", 0xfee00900 | 0, 0, (lo, hi) => (lo & 0x6ff) === 0 && (hi & PHYS_HI_RESERVED) === 0),
  // MTRR capabilities: 8 variable ranges, fixed ranges, write-combining (read-only).
  { index: 0xfe, name: "MTRRCAP", read: (cpu) => { cpu.rhi = 0; return 0x508; }, write: readOnly },
  {
    index: 0x174,
    name: "SYSENTER_CS",
    read: (cpu) => { cpu.rhi = 0; return cpu.sysenterCs; },
    write: (cpu, lo) => { cpu.sysenterCs = lo & 0xffff; },
  },
  canonicalMsr(0x175, "SYSENTER_ESP", (cpu) => cpu.sysenterEsp, (cpu, v) => { cpu.sysenterEsp = v; }),
  canonicalMsr(0x176, "SYSENTER_EIP", (cpu) => cpu.sysenterEip, (cpu, v) => { cpu.sysenterEip = v; }),
  // Fast-string enable, as QEMU's default.
  storageMsr(0x1a0, "MISC_ENABLE", 1, 0, () => true),
  ...mtrrRows(),
  storageMsr(0x277, "PAT", 0x00070406, 0x00070406, (lo, hi) => allBytesValid(lo, hi, validPatType)),
  storageMsr(0x2ff, "MTRR_DEF_TYPE", 0, 0, (lo, hi) => hi === 0 && (lo & ~0xcff) === 0 && validMtrrType(lo & 0xff)),
  {
    index: 0xc0000080,
    name: "EFER",
    read: (cpu) => { cpu.rhi = 0; return cpu.efer; },
    write: (cpu, lo, hi) => writeEfer(cpu, lo, hi),
  },
  {
    index: 0xc0000081,
    name: "STAR",
    read: (cpu) => { cpu.rhi = cpu.starHi; return cpu.star; },
    write: (cpu, lo, hi) => { cpu.star = lo; cpu.starHi = hi; },
  },
  canonicalMsr(0xc0000082, "LSTAR", (cpu) => cpu.lstar, (cpu, v) => { cpu.lstar = v; }),
  canonicalMsr(0xc0000083, "CSTAR", (cpu) => cpu.cstar, (cpu, v) => { cpu.cstar = v; }),
  {
    // RFLAGS bits SYSCALL clears; bits 63:32 are reserved and read as zero.
    index: 0xc0000084,
    name: "SFMASK",
    read: (cpu) => { cpu.rhi = 0; return cpu.sfmask; },
    write: (cpu, lo) => { cpu.sfmask = lo; },
  },
  segBaseMsr(0xc0000100, "FS_BASE", SEG_FS),
  segBaseMsr(0xc0000101, "GS_BASE", SEG_GS),
  {
    index: 0xc0000102,
    name: "KERNEL_GS_BASE",
    read: (cpu) => { cpu.rhi = cpu.kernelGsBaseHi; return cpu.kernelGsBaseLo; },
    write: (cpu, lo, hi) => {
      if (!isCanonicalHi(hi)) cpu.fault(EXC_GP, 0);
      cpu.kernelGsBaseLo = lo;
      cpu.kernelGsBaseHi = hi;
    },
  },
  {
    index: 0xc0000103,
    name: "TSC_AUX",
    read: (cpu) => { cpu.rhi = 0; return cpu.tscAux; },
    write: (cpu, lo, hi) => {
      if (hi !== 0) cpu.fault(EXC_GP, 0);
      cpu.tscAux = lo;
    },
  },
];

const byIndex = new Map<number, MsrRow>();
for (const row of MSR_TABLE) {
  if (byIndex.has(row.index)) throw new Error(`MSR table: duplicate index 0x${row.index.toString(16)}`);
  byIndex.set(row.index, row);
}

/** RDMSR of `index` (ECX, unsigned): low half returned, high half in cpu.rhi; unknown → #GP(0). */
export function readMsr(cpu: Cpu, index: number): number {
  const row = byIndex.get(index >>> 0);
  if (row === undefined) return cpu.fault(EXC_GP, 0);
  return row.read(cpu);
}

/** WRMSR of `index`; unknown → #GP(0). */
export function writeMsr(cpu: Cpu, index: number, lo: number, hi: number): void {
  const row = byIndex.get(index >>> 0);
  if (row === undefined) cpu.fault(EXC_GP, 0);
  row.write(cpu, lo | 0, hi | 0);
}

/** The row for an index (documentation, tests). */
export function msrRow(index: number): MsrRow | undefined {
  return byIndex.get(index >>> 0);
}
