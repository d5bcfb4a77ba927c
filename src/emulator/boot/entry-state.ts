// The CPU state a Multiboot 1 kernel is entered with: 32-bit protected mode,
// flat 4 GiB code and data segments, paging off, interrupts off, EAX = the boot
// loader magic and EBX = the info structure. Selectors, GDT contents and the
// stack pointer (all undefined by the specification) are chosen as QEMU's
// loader leaves them, so a kernel that reloads CS = 0x08 / DS = 0x10 before
// installing its own GDT behaves the same on both machines.
import { CR0_ET, CR0_PE, type Cpu } from "../cpu/cpu.js";
import { SEG_CS } from "../cpu/insn.js";
import { FLAT_CODE32_DPL0, FLAT_DATA_DPL0, loadCacheFlat, setCpl, updateMode } from "../cpu/modes.js";
import type { PhysicalMemory } from "../memory/phys.js";
import { MULTIBOOT_BOOTLOADER_MAGIC } from "./multiboot-header.js";

/** The loader's GDT lives in the reserved BIOS area, where a kernel will not reuse the memory. */
export const BOOT_GDT_ADDRESS = 0xf0000;
export const BOOT_CODE_SELECTOR = 0x08;
export const BOOT_DATA_SELECTOR = 0x10;
/** Entry ESP: a valid address in conventional memory (the specification leaves it undefined). */
export const BOOT_STACK_POINTER = 0x7000;

/** null, 32-bit flat code (0x08), 32-bit flat data (0x10), 16-bit code (0x18), 16-bit data (0x20). */
const GDT: readonly [number, number][] = [
  [0x00000000, 0x00000000],
  [0x0000ffff, 0x00cf9b00],
  [0x0000ffff, 0x00cf9300],
  [0x0000ffff, 0x00009b00],
  [0x0000ffff, 0x00009300],
];

export function enterMultiboot(cpu: Cpu, mem: PhysicalMemory, entry: number, infoAddress: number): void {
  GDT.forEach(([lo, hi], k) => {
    mem.view.setUint32(BOOT_GDT_ADDRESS + 8 * k, lo, true);
    mem.view.setUint32(BOOT_GDT_ADDRESS + 8 * k + 4, hi, true);
  });
  cpu.notifyRamWritten(BOOT_GDT_ADDRESS, 8 * GDT.length);
  cpu.gdtBase = BOOT_GDT_ADDRESS;
  cpu.gdtLimit = 8 * GDT.length - 1;
  cpu.idtBase = 0;
  cpu.idtLimit = 0x3ff;

  cpu.cr0 = CR0_PE | CR0_ET; // protected mode, paging off, caches enabled
  cpu.cr2 = 0;
  cpu.cr3 = 0;
  cpu.cr4 = 0;
  cpu.efer = 0;
  for (let s = 0; s < 6; s++) {
    if (s === SEG_CS) loadCacheFlat(cpu, s, BOOT_CODE_SELECTOR, FLAT_CODE32_DPL0);
    else loadCacheFlat(cpu, s, BOOT_DATA_SELECTOR, FLAT_DATA_DPL0);
  }
  setCpl(cpu, 0);
  updateMode(cpu); // 32-bit code, 32-bit stack

  cpu.r.fill(0);
  cpu.setReg(0, 4, MULTIBOOT_BOOTLOADER_MAGIC | 0); // EAX
  cpu.setReg(3, 4, infoAddress); // EBX
  cpu.setReg(4, 4, BOOT_STACK_POINTER); // ESP
  cpu.setFlags(0x2); // IF and VM clear
  cpu.rip = entry;
  cpu.halted = false;
  cpu.flushTlb(true);
}
