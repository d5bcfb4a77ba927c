// Page walker and TLB: 4-level, PAE and 32-bit paging; 4 KiB / 2 MiB / 1 GiB
// pages; #PF error codes and CR2; A/D bits; WP, NX, SMEP, SMAP; global pages;
// invalidation; accesses straddling a page boundary.
import { beforeEach, describe, expect, it } from "vitest";
import {
  ACC_EXEC, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP, Cpu, EFER_LMA, EFER_LME, EFER_NXE,
} from "../src/emulator/cpu/cpu.js";
import { CPU_FAULT, EXC_PF, PF_I, PF_P, PF_RSVD, PF_U, PF_W } from "../src/emulator/cpu/fault.js";
import { AC } from "../src/emulator/cpu/flags.js";
import { MODE_64 } from "../src/emulator/cpu/insn.js";
import { PhysicalMemory } from "../src/emulator/memory/phys.js";

const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
const NX_HI = 0x80000000 | 0;

let mem: PhysicalMemory;
let cpu: Cpu;
let next: number;

function alloc(): number {
  const a = next;
  next += 0x1000;
  mem.ram.fill(0, a, a + 0x1000);
  return a;
}

function set64(addr: number, lo: number, hi = 0): void {
  mem.view.setInt32(addr, lo, true);
  mem.view.setInt32(addr + 4, hi, true);
}

function get32(addr: number): number {
  return mem.view.getInt32(addr, true);
}

/** Catches a guest fault and returns [vector, code], or null when the call succeeded. */
function faultOf(fn: () => unknown): [number, number] | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e !== CPU_FAULT) throw e;
    return [cpu.excVector, cpu.excCode];
  }
}

/** 4-level tables; returns the PTE address used for linear `lin` (creating tables on the way). */
function map4(lin: number, phys: number, flags: number, hi = 0, pml4 = cpu.cr3): number {
  const i4 = Math.floor(lin / 2 ** 39) & 0x1ff;
  const i3 = Math.floor(lin / 2 ** 30) & 0x1ff;
  const i2 = Math.floor(lin / 2 ** 21) & 0x1ff;
  const i1 = Math.floor(lin / 2 ** 12) & 0x1ff;
  let t = pml4;
  for (const idx of [i4, i3, i2]) {
    const e = t + idx * 8;
    let lo = get32(e);
    if ((lo & 1) === 0) {
      lo = alloc() | P | RW | US;
      set64(e, lo);
    }
    t = lo & ~0xfff;
  }
  set64(t + i1 * 8, phys | flags, hi);
  return t + i1 * 8;
}

function longMode(extraCr4 = 0): void {
  cpu.cr3 = alloc();
  cpu.cr4 = CR4_PAE | extraCr4;
  cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
  cpu.cr0 = CR0_PE | CR0_PG | CR0_WP;
  cpu.mode = MODE_64;
  cpu.stackSize = 8;
  cpu.cpl = 0;
  cpu.updateAccessRights();
  cpu.flushTlb(true);
}

function user(on: boolean): void {
  cpu.cpl = on ? 3 : 0;
  cpu.updateAccessRights();
}

beforeEach(() => {
  mem = new PhysicalMemory(8 * 1024 * 1024);
  cpu = new Cpu(mem);
  next = 0x100000;
});

describe("4-level paging", () => {
  beforeEach(() => longMode());

  it("translates 4 KiB pages and sets the accessed and dirty bits", () => {
    const pte = map4(0x400000, 0x200000, P | RW);
    cpu.write32(0x400010, 0, 0x12345678);
    expect(get32(0x200010)).toBe(0x12345678);
    expect(cpu.read32(0x400010, 0)).toBe(0x12345678);
    expect(get32(pte) & (A | D)).toBe(A | D);
  });

  it("sets only the accessed bit on a read", () => {
    const pte = map4(0x400000, 0x200000, P | RW);
    cpu.read8(0x400000, 0);
    expect(get32(pte) & (A | D)).toBe(A);
  });

  it("reports a not-present fault with CR2 and the access kind", () => {
    expect(faultOf(() => cpu.read32(0x500004, 0))).toEqual([EXC_PF, 0]);
    expect(cpu.cr2).toBe(0x500004);
    expect(faultOf(() => cpu.write8(0x500000, 0, 1))).toEqual([EXC_PF, PF_W]);
    user(true);
    expect(faultOf(() => cpu.write8(0x500000, 0, 1))).toEqual([EXC_PF, PF_W | PF_U]);
  });

  it("maps the high half of the address space (canonical negative addresses)", () => {
    const lin = -0x80000000; // 0xFFFFFFFF80000000
    const linU = 2 ** 64 + lin;
    // Build the path by hand with the proper indices.
    const i4 = 511, i3 = 510, i2 = 0, i1 = 0;
    let t = cpu.cr3;
    for (const idx of [i4, i3, i2]) {
      const n = alloc();
      set64(t + idx * 8, n | P | RW);
      t = n;
    }
    set64(t + i1 * 8, 0x300000 | P | RW);
    expect(linU).toBeGreaterThan(0);
    cpu.write32(0x80000000 | 0, -1, 0xcafe);
    expect(get32(0x300000)).toBe(0xcafe);
    expect(cpu.read32(0x80000010 | 0, -1)).toBe(0); // another offset in the same page
    expect(faultOf(() => cpu.read32(0x80200000 | 0, -1))).toEqual([EXC_PF, 0]);
    expect(cpu.cr2).toBe(lin + 0x200000);
  });

  it("honours CR0.WP for supervisor writes to read-only pages", () => {
    map4(0x400000, 0x200000, P);
    expect(faultOf(() => cpu.write8(0x400000, 0, 1))).toEqual([EXC_PF, PF_P | PF_W]);
    cpu.cr0 &= ~CR0_WP;
    cpu.flushTlb(true);
    expect(faultOf(() => cpu.write8(0x400000, 0, 1))).toBeNull();
  });

  it("denies user access to supervisor pages and user writes to read-only pages", () => {
    map4(0x400000, 0x200000, P | RW);
    map4(0x401000, 0x201000, P | US);
    user(true);
    expect(faultOf(() => cpu.read8(0x400000, 0))).toEqual([EXC_PF, PF_P | PF_U]);
    expect(cpu.read8(0x401000, 0)).toBe(0);
    expect(faultOf(() => cpu.write8(0x401000, 0, 1))).toEqual([EXC_PF, PF_P | PF_W | PF_U]);
  });

  it("requires U/S at every level", () => {
    // Upper levels are created with US; clear it in the PML4 entry.
    map4(0x400000, 0x200000, P | RW | US);
    set64(cpu.cr3, get32(cpu.cr3) & ~US);
    cpu.flushTlb(true);
    user(true);
    expect(faultOf(() => cpu.read8(0x400000, 0))).toEqual([EXC_PF, PF_P | PF_U]);
  });

  it("enforces NX on fetches, with the I bit", () => {
    map4(0x400000, 0x200000, P | RW, NX_HI);
    expect(cpu.read8(0x400000, 0)).toBe(0);
    expect(faultOf(() => cpu.translate(0x400000, 0, ACC_EXEC, cpu.needX))).toEqual([EXC_PF, PF_P | PF_I]);
  });

  it("treats the NX bit as reserved when EFER.NXE is clear", () => {
    cpu.efer &= ~EFER_NXE;
    map4(0x400000, 0x200000, P | RW, NX_HI);
    expect(faultOf(() => cpu.read8(0x400000, 0))).toEqual([EXC_PF, PF_P | PF_RSVD]);
  });

  it("rejects reserved physical-address bits above MAXPHYADDR", () => {
    map4(0x401000, 0x201000, P | RW, 1 << 13); // physical bit 45 > 40
    expect(faultOf(() => cpu.read8(0x401000, 0))).toEqual([EXC_PF, PF_P | PF_RSVD]);
  });

  it("maps 2 MiB and 1 GiB pages", () => {
    // 2 MiB page at linear 0x40000000 → physical 0x600000.
    const pdpt = alloc();
    const pd = alloc();
    set64(cpu.cr3, pdpt | P | RW);
    set64(pdpt + 1 * 8, pd | P | RW);
    set64(pd + 0, 0x600000 | P | RW | PS);
    cpu.write32(0x40012344, 0, 77);
    expect(get32(0x612344)).toBe(77);
    expect(get32(pd) & (A | D)).toBe(A | D);
    // 1 GiB page at linear 0x80000000 → physical 0 (identity over RAM).
    set64(pdpt + 2 * 8, 0 | P | RW | PS);
    expect(cpu.read32(0x80612344 | 0, 0)).toBe(77);
  });

  it("rejects a 2 MiB page whose reserved low bits are set", () => {
    const pdpt = alloc();
    const pd = alloc();
    set64(cpu.cr3, pdpt | P | RW);
    set64(pdpt + 1 * 8, pd | P | RW);
    set64(pd + 0, 0x600000 | 0x2000 | P | RW | PS);
    expect(faultOf(() => cpu.read8(0x40000000, 0))).toEqual([EXC_PF, PF_P | PF_RSVD]);
  });

  it("applies SMEP and SMAP with RFLAGS.AC", () => {
    longMode(CR4_SMEP | CR4_SMAP);
    map4(0x400000, 0x200000, P | RW | US);
    expect(faultOf(() => cpu.translate(0x400000, 0, ACC_EXEC, cpu.needX))).toEqual([EXC_PF, PF_P | PF_I]);
    expect(faultOf(() => cpu.read8(0x400000, 0))).toEqual([EXC_PF, PF_P]);
    cpu.setFlags(cpu.getFlags() | AC);
    expect(faultOf(() => cpu.read8(0x400000, 0))).toBeNull();
    expect(faultOf(() => cpu.write8(0x400000, 0, 1))).toBeNull();
    cpu.setFlags(cpu.getFlags() & ~AC);
    expect(faultOf(() => cpu.write8(0x400000, 0, 1))).toEqual([EXC_PF, PF_P | PF_W]);
  });

  it("keeps a stale translation until INVLPG or a CR3 reload", () => {
    const pte = map4(0x400000, 0x200000, P | RW);
    mem.view.setInt32(0x200000, 1, true);
    mem.view.setInt32(0x210000, 2, true);
    expect(cpu.read32(0x400000, 0)).toBe(1);
    set64(pte, 0x210000 | P | RW);
    expect(cpu.read32(0x400000, 0)).toBe(1); // TLB still holds the old mapping
    cpu.invalidatePage(0x400000, 0);
    expect(cpu.read32(0x400000, 0)).toBe(2);
  });

  it("keeps global pages across a non-global flush when CR4.PGE is set", () => {
    longMode(CR4_PGE);
    const pte = map4(0x400000, 0x200000, P | RW | G);
    mem.view.setInt32(0x200000, 1, true);
    mem.view.setInt32(0x210000, 2, true);
    expect(cpu.read32(0x400000, 0)).toBe(1);
    set64(pte, 0x210000 | P | RW | G);
    cpu.flushTlb(false); // what a CR3 write does
    expect(cpu.read32(0x400000, 0)).toBe(1);
    cpu.flushTlb(true);
    expect(cpu.read32(0x400000, 0)).toBe(2);
  });

  it("checks both pages of a straddling access before writing anything", () => {
    map4(0x400000, 0x200000, P | RW);
    map4(0x401000, 0x201000, P); // second page read-only
    mem.view.setInt32(0x200ffc, 0x11111111, true);
    expect(faultOf(() => cpu.write64(0x400ffe, 0, 0x22222222, 0x33333333))).toEqual([EXC_PF, PF_P | PF_W]);
    expect(cpu.cr2).toBe(0x401000);
    expect(get32(0x200ffc)).toBe(0x11111111);
    // A straddling read assembles bytes from both pages.
    mem.ram[0x200fff] = 0xaa;
    mem.ram[0x201000] = 0xbb;
    expect(cpu.read16(0x400fff, 0)).toBe(0xbbaa);
  });
});

describe("PAE paging without long mode", () => {
  it("walks PDPTE → PD → PT, including 2 MiB pages", () => {
    cpu.cr3 = alloc(); // PDPT (32-byte aligned)
    cpu.cr4 = CR4_PAE;
    cpu.cr0 = CR0_PE | CR0_PG;
    cpu.flushTlb(true);
    const pd = alloc();
    const pt = alloc();
    set64(cpu.cr3 + 0 * 8, pd | P);
    set64(pd + 2 * 8, pt | P | RW);
    set64(pt + 3 * 8, 0x300000 | P | RW);
    cpu.write32(0x403008, 0, 99);
    expect(get32(0x300008)).toBe(99);
    set64(pd + 4 * 8, 0x600000 | P | RW | PS);
    cpu.write32(0x800010, 0, 5);
    expect(get32(0x600010)).toBe(5);
  });

  it("rejects reserved bits in a PDPTE", () => {
    cpu.cr3 = alloc();
    cpu.cr4 = CR4_PAE;
    cpu.cr0 = CR0_PE | CR0_PG;
    cpu.flushTlb(true);
    set64(cpu.cr3, alloc() | P | RW); // RW is reserved in a PAE PDPTE
    expect(faultOf(() => cpu.read8(0x1000, 0))).toEqual([EXC_PF, PF_P | PF_RSVD]);
  });
});

describe("32-bit paging", () => {
  it("walks PDE → PTE and supports 4 MiB pages with CR4.PSE", () => {
    const pd = alloc();
    const pt = alloc();
    cpu.cr3 = pd;
    cpu.cr0 = CR0_PE | CR0_PG;
    cpu.flushTlb(true);
    mem.view.setInt32(pd + 1 * 4, pt | P | RW, true);
    mem.view.setInt32(pt + 5 * 4, 0x300000 | P | RW, true);
    cpu.write32(0x405004, 0, 42);
    expect(get32(0x300004)).toBe(42);
    expect(get32(pt + 5 * 4) & (A | D)).toBe(A | D);
    // 4 MiB page at 0x800000 → 0x400000 requires PSE.
    mem.view.setInt32(pd + 2 * 4, 0x400000 | P | RW | PS, true);
    cpu.cr4 = CR4_PSE;
    cpu.flushTlb(true);
    cpu.write32(0x800020, 0, 7);
    expect(get32(0x400020)).toBe(7);
  });
});

describe("paging off", () => {
  it("uses linear = physical; reads beyond RAM give all-ones", () => {
    cpu.cr0 = CR0_PE;
    cpu.flushTlb(true);
    cpu.write32(0x1000, 0, 0x90909090);
    expect(cpu.read32(0x1000, 0)).toBe(0x90909090 | 0);
    // Reads beyond RAM return all-ones; writes there are dropped.
    expect(cpu.read32(0x7ffff000, 0)).toBe(-1);
  });
});
