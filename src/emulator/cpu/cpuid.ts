// CPUID, table-driven and modelled on QEMU's `qemu64` CPU model: the same vendor
// ("AuthenticAMD"), maximum leaves (0xD, 0x8000000A), family/model/stepping
// (15/107/1) and brand string, but feature bits for exactly what capos
// implements. The feature list below is the single source of truth for the bits
// (docs/emulator/system.md prints it as a table).
import type { Cpu } from "./cpu.js";
import { MAX_PHYS_BITS } from "../mmu/paging.js";

export type CpuidRegister = "eax" | "ebx" | "ecx" | "edx";

export interface CpuidFeature {
  /** Linux /proc/cpuinfo spelling. */
  name: string;
  leaf: number;
  reg: CpuidRegister;
  bit: number;
}

/** Feature bits presented (every one is implemented; see the docs for what qemu64 sets and we clear). */
export const CPUID_FEATURES: readonly CpuidFeature[] = [
  // Leaf 1 EDX. FPU (0), VME (1), MCA (14) and MMX (23) are clear: x87/MMX raise #UD,
  // virtual-8086 mode and machine-check banks do not exist.
  { name: "de", leaf: 1, reg: "edx", bit: 2 },
  { name: "pse", leaf: 1, reg: "edx", bit: 3 },
  { name: "tsc", leaf: 1, reg: "edx", bit: 4 },
  { name: "msr", leaf: 1, reg: "edx", bit: 5 },
  { name: "pae", leaf: 1, reg: "edx", bit: 6 },
  { name: "mce", leaf: 1, reg: "edx", bit: 7 },
  { name: "cx8", leaf: 1, reg: "edx", bit: 8 },
  { name: "apic", leaf: 1, reg: "edx", bit: 9 },
  { name: "sep", leaf: 1, reg: "edx", bit: 11 },
  { name: "mtrr", leaf: 1, reg: "edx", bit: 12 },
  { name: "pge", leaf: 1, reg: "edx", bit: 13 },
  { name: "cmov", leaf: 1, reg: "edx", bit: 15 },
  { name: "pat", leaf: 1, reg: "edx", bit: 16 },
  { name: "pse36", leaf: 1, reg: "edx", bit: 17 },
  { name: "clflush", leaf: 1, reg: "edx", bit: 19 },
  { name: "fxsr", leaf: 1, reg: "edx", bit: 24 },
  { name: "sse", leaf: 1, reg: "edx", bit: 25 },
  { name: "sse2", leaf: 1, reg: "edx", bit: 26 },
  // Leaf 1 ECX.
  { name: "pni", leaf: 1, reg: "ecx", bit: 0 }, // SSE3
  { name: "ssse3", leaf: 1, reg: "ecx", bit: 9 },
  { name: "cx16", leaf: 1, reg: "ecx", bit: 13 },
  { name: "sse4_1", leaf: 1, reg: "ecx", bit: 19 },
  { name: "sse4_2", leaf: 1, reg: "ecx", bit: 20 },
  { name: "movbe", leaf: 1, reg: "ecx", bit: 22 },
  { name: "popcnt", leaf: 1, reg: "ecx", bit: 23 },
  { name: "hypervisor", leaf: 1, reg: "ecx", bit: 31 },
  // Leaf 7 subleaf 0 EBX.
  { name: "bmi1", leaf: 7, reg: "ebx", bit: 3 },
  { name: "smep", leaf: 7, reg: "ebx", bit: 7 },
  { name: "bmi2", leaf: 7, reg: "ebx", bit: 8 },
  { name: "smap", leaf: 7, reg: "ebx", bit: 20 },
  // Leaf 0x80000001 ECX. SVM (2), set by qemu64, is clear: there is no virtualization support.
  { name: "lahf_lm", leaf: 0x80000001, reg: "ecx", bit: 0 },
  { name: "abm", leaf: 0x80000001, reg: "ecx", bit: 5 }, // LZCNT
  { name: "3dnowprefetch", leaf: 0x80000001, reg: "ecx", bit: 8 }, // PREFETCHW
  // Leaf 0x80000001 EDX (besides the AMD copies of leaf 1 EDX bits, added below).
  { name: "syscall", leaf: 0x80000001, reg: "edx", bit: 11 },
  { name: "nx", leaf: 0x80000001, reg: "edx", bit: 20 },
  { name: "pdpe1gb", leaf: 0x80000001, reg: "edx", bit: 26 },
  { name: "rdtscp", leaf: 0x80000001, reg: "edx", bit: 27 },
  { name: "lm", leaf: 0x80000001, reg: "edx", bit: 29 },
];

/** Leaf 1 EDX bits that AMD processors repeat in leaf 0x80000001 EDX (QEMU does the same for AMD models). */
const AMD_EDX_ALIASES = 0x0183f3ff;

export const CPUID_VENDOR = "AuthenticAMD";
export const CPUID_BRAND = "QEMU Virtual CPU version 2.5+";
export const CPUID_MAX_BASIC = 0xd;
export const CPUID_MAX_EXTENDED = 0x8000000a;
export const CPUID_FAMILY = 15;
export const CPUID_MODEL = 107;
export const CPUID_STEPPING = 1;
/** Linear-address width reported in 0x80000008 (physical width comes from the page walker). */
export const VIRTUAL_ADDRESS_BITS = 48;

/** Leaf 1 EAX: stepping, model, family with the extended fields (family 15 → base 0xF, extended 0). */
export function signature(): number {
  const baseFamily = CPUID_FAMILY > 15 ? 15 : CPUID_FAMILY;
  const extFamily = CPUID_FAMILY > 15 ? CPUID_FAMILY - 15 : 0;
  return (extFamily << 20) | ((CPUID_MODEL >> 4) << 16) | (baseFamily << 8) | ((CPUID_MODEL & 0xf) << 4) | CPUID_STEPPING;
}

export interface CpuidLeaf {
  leaf: number;
  /** Only for leaves with subleaves: the subleaf this row answers (others give zeros). */
  subleaf?: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

function featureBits(leaf: number, reg: CpuidRegister): number {
  let v = 0;
  for (const f of CPUID_FEATURES) if (f.leaf === leaf && f.reg === reg) v |= 1 << f.bit;
  return v;
}

/** Four little-endian ASCII bytes of s starting at k, as a register value. */
function chars(s: string, k: number): number {
  let v = 0;
  for (let j = 0; j < 4; j++) v |= (k + j < s.length ? s.charCodeAt(k + j) : 0) << (8 * j);
  return v;
}

function brandLeaf(n: number): CpuidLeaf {
  const k = n * 16;
  return { leaf: 0x80000002 + n, eax: chars(CPUID_BRAND, k), ebx: chars(CPUID_BRAND, k + 4), ecx: chars(CPUID_BRAND, k + 8), edx: chars(CPUID_BRAND, k + 12) };
}

/** The leaves with non-zero content; every other leaf up to the maxima reads as zeros. */
export const CPUID_TABLE: readonly CpuidLeaf[] = [
  { leaf: 0, eax: CPUID_MAX_BASIC, ebx: chars(CPUID_VENDOR, 0), ecx: chars(CPUID_VENDOR, 8), edx: chars(CPUID_VENDOR, 4) },
  // EBX: CLFLUSH line size 8 × 8 = 64 bytes; one logical processor; initial APIC ID 0.
  { leaf: 1, eax: signature(), ebx: 8 << 8, ecx: featureBits(1, "ecx"), edx: featureBits(1, "edx") },
  { leaf: 7, subleaf: 0, eax: 0, ebx: featureBits(7, "ebx"), ecx: 0, edx: 0 },
  { leaf: 0x80000000, eax: CPUID_MAX_EXTENDED, ebx: chars(CPUID_VENDOR, 0), ecx: chars(CPUID_VENDOR, 8), edx: chars(CPUID_VENDOR, 4) },
  {
    leaf: 0x80000001,
    eax: signature(),
    ebx: 0,
    ecx: featureBits(0x80000001, "ecx"),
    edx: featureBits(0x80000001, "edx") | (featureBits(1, "edx") & AMD_EDX_ALIASES),
  },
  brandLeaf(0),
  brandLeaf(1),
  brandLeaf(2),
  { leaf: 0x80000008, eax: (VIRTUAL_ADDRESS_BITS << 8) | MAX_PHYS_BITS, ebx: 0, ecx: 0, edx: 0 },
];

const byLeaf = new Map<number, CpuidLeaf>();
for (const row of CPUID_TABLE) byLeaf.set(row.leaf >>> 0, row);

/** Result registers of the last lookup (module-level: no allocation). */
export const cpuidOut = { eax: 0, ebx: 0, ecx: 0, edx: 0 };

/**
 * Looks up (leaf, subleaf). Leaves above the basic or extended maximum answer
 * as the highest basic leaf, as QEMU (and Intel) do.
 */
export function cpuidLookup(leaf: number, subleaf: number): void {
  let l = leaf >>> 0;
  if (l >= 0x80000000 ? l > CPUID_MAX_EXTENDED : l > CPUID_MAX_BASIC) l = CPUID_MAX_BASIC;
  const row = byLeaf.get(l);
  if (row === undefined || (row.subleaf !== undefined && row.subleaf !== subleaf >>> 0)) {
    cpuidOut.eax = cpuidOut.ebx = cpuidOut.ecx = cpuidOut.edx = 0;
    return;
  }
  cpuidOut.eax = row.eax | 0;
  cpuidOut.ebx = row.ebx | 0;
  cpuidOut.ecx = row.ecx | 0;
  cpuidOut.edx = row.edx | 0;
}

/** CPUID: EAX = leaf, ECX = subleaf; writes EAX EBX ECX EDX (zero-extended into the 64-bit registers). */
export function executeCpuid(cpu: Cpu): void {
  cpuidLookup(cpu.r[0]!, cpu.r[2]!);
  cpu.setReg(0, 4, cpuidOut.eax);
  cpu.setReg(3, 4, cpuidOut.ebx);
  cpu.setReg(1, 4, cpuidOut.ecx);
  cpu.setReg(2, 4, cpuidOut.edx);
}
