// The GDT (kernel and user code/data segments in the order syscall/sysret require) and
// the TSS that gives the CPU its ring-0 stack (RSP0) and the IST stacks for #DF and #PF.
// Built once at boot in kernel memory; the boot stub's GDT used the same selectors.
import { lgdt, ltr } from "./cpu";
import { DIRECT_MAP_BASE, TSS_SELECTOR } from "../../mem/layout";

const GDT_ENTRIES: u32 = 7; // null, kernel code, kernel data, user data, user code, TSS (two slots)
const TSS_BYTES: u32 = 104;
const TSS_RSP0: usize = 0x04;
const TSS_IST1: usize = 0x24;
const TSS_IOMAP_BASE: usize = 0x66;

/** IST slots used by idt.ts. */
export const IST_DOUBLE_FAULT: u32 = 1;
export const IST_PAGE_FAULT: u32 = 2;

const gdt: usize = memory.data(<i32>(GDT_ENTRIES * 8), 16);
const gdtr: usize = memory.data(16, 16);
const tss: usize = memory.data(<i32>TSS_BYTES, 16);

/**
 * Loads the kernel's GDT and TSS. `rsp0` is the stack the CPU switches to when an
 * interrupt arrives in ring 3; `ist` holds the IST stack tops (virtual addresses).
 */
export function gdtInit(rsp0: u64, istDoubleFault: u64, istPageFault: u64): void {
  store<u64>(gdt + 0x00, 0);
  store<u64>(gdt + 0x08, 0x00AF_9A00_0000_FFFF); // kernel code: 64-bit, DPL 0
  store<u64>(gdt + 0x10, 0x00CF_9200_0000_FFFF); // kernel data
  store<u64>(gdt + 0x18, 0x00CF_F200_0000_FFFF); // user data: DPL 3
  store<u64>(gdt + 0x20, 0x00AF_FA00_0000_FFFF); // user code: 64-bit, DPL 3

  memory.fill(tss, 0, TSS_BYTES);
  store<u64>(tss + TSS_RSP0, rsp0);
  store<u64>(tss + TSS_IST1 + (<usize>(IST_DOUBLE_FAULT - 1) << 3), istDoubleFault);
  store<u64>(tss + TSS_IST1 + (<usize>(IST_PAGE_FAULT - 1) << 3), istPageFault);
  store<u16>(tss + TSS_IOMAP_BASE, <u16>TSS_BYTES); // no I/O permission bitmap: user port I/O faults

  const base: u64 = DIRECT_MAP_BASE + <u64>tss;
  const limit: u64 = <u64>TSS_BYTES - 1;
  const low: u64 = (limit & 0xFFFF) | ((base & 0xFF_FFFF) << 16) | (<u64>0x89 << 40) |
    (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
  store<u64>(gdt + TSS_SELECTOR, low);
  store<u64>(gdt + TSS_SELECTOR + 8, base >> 32);

  store<u16>(gdtr, <u16>(GDT_ENTRIES * 8 - 1));
  store<u64>(gdtr + 2, DIRECT_MAP_BASE + <u64>gdt);
  lgdt(gdtr);
  ltr(<i32>TSS_SELECTOR);
}
