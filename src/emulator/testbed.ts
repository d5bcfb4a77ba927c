// A bare CPU in 64-bit long mode with paging on and the low memory identity-
// mapped by 2 MiB pages: no devices and no boot code. For benchmarks and tests
// that want to run machine code directly; the PC machine lives in machine.ts.
import { Cpu, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE } from "./cpu/cpu.js";
import { MODE_64, SEG_CS, SEG_SS } from "./cpu/insn.js";
import { PhysicalMemory } from "./memory/phys.js";

const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;

export interface LongModeTestbed {
  mem: PhysicalMemory;
  cpu: Cpu;
}

/**
 * Creates a CPU at CPL 0 in 64-bit mode. The first `ramMiB` MiB (at most 1 GiB)
 * are identity-mapped read/write/execute with 2 MiB pages; page tables occupy
 * 0x1000..0x3FFF, so guest code and data belong at 1 MiB and above.
 */
export function createLongModeTestbed(ramMiB = 16): LongModeTestbed {
  if (ramMiB < 4 || ramMiB > 1024 || ramMiB % 2 !== 0) throw new RangeError("testbed RAM must be an even number of MiB from 4 to 1024");
  const mem = new PhysicalMemory(ramMiB * 1024 * 1024);
  const dv = mem.view;
  dv.setUint32(PML4, PDPT | 3, true);
  dv.setUint32(PDPT, PD | 3, true);
  for (let i = 0; i < ramMiB / 2; i++) dv.setUint32(PD + i * 8, (i * 0x200000) | 0x83, true); // P RW PS
  const cpu = new Cpu(mem);
  cpu.cr3 = PML4;
  cpu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  cpu.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
  cpu.cr0 = CR0_PE | CR0_PG | CR0_WP | 0x30;
  cpu.mode = MODE_64;
  cpu.stackSize = 8;
  cpu.segSel[SEG_CS] = 0x08;
  cpu.segAttr[SEG_CS] = 0xa09b; // 64-bit code, DPL 0
  cpu.segSel[SEG_SS] = 0x10;
  cpu.cpl = 0;
  cpu.updateAccessRights();
  cpu.flushTlb(true);
  return { mem, cpu };
}
