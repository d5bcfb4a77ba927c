// Runs a capos user ELF (from the wasm linker) on a bare emulated CPU: loads
// its PT_LOAD segments into a fresh 4-level address space with their
// permissions (user pages, W^X honoured through the NX bit), enters the entry
// point at CPL 3, and stops at the first `syscall`, whose LSTAR target is a
// kernel-mode HLT. Only what the linker tests need; the real loader is the
// kernel's.
import { Cpu, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, RUN_HALT } from "../../src/emulator/cpu/cpu.js";
import { MODE_64, SEG_CS, SEG_SS } from "../../src/emulator/cpu/insn.js";
import { PhysicalMemory } from "../../src/emulator/memory/phys.js";
import { readElf, PT_LOAD } from "../../src/toolchain/x64/elf-read.js";

const PAGE = 4096;
const TWO32 = 4294967296;
const KERNEL_VA = 0x7000_0000_0000; // the syscall landing pad (supervisor)

export interface UserRun {
  /** RAX at the syscall (the syscall number), RDI (first argument), or null if it never made one. */
  syscall: { number: number; rdi: number } | null;
  exception: number;
  cpu: Cpu;
  /** Reads guest memory at a user virtual address. */
  read(va: number, n: number): Uint8Array;
}

export function runUserElf(elf: Uint8Array, args: { rdi?: number; rsi?: number; rdx?: number } = {}, budget = 50_000_000): UserRun {
  const mem = new PhysicalMemory(64 * 1024 * 1024);
  const cpu = new Cpu(mem);
  const dv = mem.view;
  let next = 0x10000;
  const frame = () => { const f = next; next += PAGE; mem.ram.fill(0, f, f + PAGE); return f; };
  const pml4 = frame();
  const pages = new Map<number, number>();
  const entryFor = (table: number, index: number, user: boolean): number => {
    const e = dv.getUint32(table + index * 8, true);
    if (e & 1) return e & ~0xfff;
    const t = frame();
    dv.setUint32(table + index * 8, t | (user ? 7 : 3), true);
    return t;
  };
  const map = (va: number, flags: { w: boolean; x: boolean; user: boolean }): number => {
    const pn = Math.floor(va / PAGE);
    const have = pages.get(pn);
    if (have !== undefined) return have;
    const l4 = Math.floor(va / 2 ** 39) % 512, l3 = Math.floor(va / 2 ** 30) % 512, l2 = Math.floor(va / 2 ** 21) % 512, l1 = pn % 512;
    const pdpt = entryFor(pml4, l4, flags.user);
    const pd = entryFor(pdpt, l3, flags.user);
    const pt = entryFor(pd, l2, flags.user);
    const f = frame();
    dv.setUint32(pt + l1 * 8, f | 1 | (flags.w ? 2 : 0) | (flags.user ? 4 : 0), true);
    dv.setUint32(pt + l1 * 8 + 4, flags.x ? 0 : 0x80000000, true);
    pages.set(pn, f);
    return f;
  };
  const f = readElf(elf);
  for (const s of f.segments) {
    if (s.type !== PT_LOAD || s.memsz === 0) continue;
    const va = Number(s.vaddr);
    const flags = { w: (s.flags & 2) !== 0, x: (s.flags & 1) !== 0, user: true };
    for (let p = Math.floor(va / PAGE) * PAGE; p < va + s.memsz; p += PAGE) map(p, flags);
    for (let k = 0; k < s.filesz; k++) {
      const a = va + k;
      mem.ram[pages.get(Math.floor(a / PAGE))! + (a % PAGE)] = elf[s.offset + k]!;
    }
  }
  // The syscall landing pad: HLT in a supervisor page.
  const pad = map(KERNEL_VA, { w: false, x: true, user: false });
  mem.ram[pad] = 0xf4;
  cpu.cr3 = pml4;
  cpu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  cpu.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
  cpu.cr0 = CR0_PE | CR0_PG | CR0_WP | 0x10 | 0x20;
  cpu.mode = MODE_64;
  cpu.stackSize = 8;
  cpu.segAttr[SEG_CS] = 0xa0fb;
  cpu.segSel[SEG_CS] = 0x33;
  cpu.segSel[SEG_SS] = 0x2b;
  cpu.cpl = 3;
  cpu.lstar = KERNEL_VA;
  cpu.starHi = 0x0008 | (0x0018 << 16);
  cpu.updateAccessRights();
  cpu.flushTlb(true);
  const set = (reg: number, v: number) => { cpu.r[reg * 2] = v | 0; cpu.r[reg * 2 + 1] = Math.floor(v / TWO32); };
  set(7, args.rdi ?? 0);
  set(6, args.rsi ?? 0);
  set(2, args.rdx ?? 0);
  cpu.rip = Number(f.entry);
  let exception = -1;
  cpu.exceptionHook = (v) => { exception = v; return true; };
  const why = cpu.run(budget);
  const read = (va: number, n: number) => {
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const a = va + k;
      const fr = pages.get(Math.floor(a / PAGE));
      out[k] = fr === undefined ? 0 : mem.ram[fr + (a % PAGE)]!;
    }
    return out;
  };
  const syscall = why === RUN_HALT && cpu.rip === KERNEL_VA + 1 ? { number: cpu.r[0]!, rdi: cpu.r[14]! } : null;
  return { syscall, exception, cpu, read };
}
