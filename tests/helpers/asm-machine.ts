// A bare machine for running assembled test programs: 16 MiB of RAM, a CPU at
// CPL 0 in 64-bit long mode (identity-mapped with 2 MiB pages) or 32-bit
// protected mode (flat segments, no paging), stopping at HLT or at an exception.
import { Cpu, CR0_PE, CR0_PG, CR4_PAE, CR4_OSFXSR, EFER_LMA, EFER_LME, EFER_NXE, RUN_HALT } from "../../src/emulator/cpu/cpu.js";
import { MODE_32, MODE_64, SEG_CS } from "../../src/emulator/cpu/insn.js";
import { PhysicalMemory } from "../../src/emulator/memory/phys.js";

export const RAM = 16 * 1024 * 1024;
const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;

export interface RunResult {
  halted: boolean;
  /** Exception vector that stopped the run (-1: none). */
  exception: number;
  rip: number;
}

export class TestMachine {
  readonly mem = new PhysicalMemory(RAM);
  readonly cpu = new Cpu(this.mem);
  private raised = -1;

  constructor(readonly bits: 32 | 64) {
    const cpu = this.cpu;
    cpu.exceptionHook = (vector) => {
      this.raised = vector;
      return true;
    };
    cpu.cpl = 0;
    cpu.cr4 = CR4_OSFXSR;
    if (bits === 64) {
      const dv = this.mem.view;
      dv.setUint32(PML4, PDPT | 3, true);
      dv.setUint32(PDPT, PD | 3, true);
      for (let k = 0; k < RAM / 0x200000; k++) dv.setUint32(PD + k * 8, (k * 0x200000) | 0x83, true); // 2 MiB pages
      cpu.cr3 = PML4;
      cpu.cr4 |= CR4_PAE;
      cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
      cpu.cr0 = CR0_PE | CR0_PG | 0x10 | 0x20;
      cpu.mode = MODE_64;
      cpu.stackSize = 8;
      cpu.segAttr[SEG_CS] = 0xa09b; // 64-bit code, DPL 0
      cpu.segSel[SEG_CS] = 0x08;
    } else {
      cpu.resetSegments();
      cpu.cr0 = CR0_PE | 0x10;
      cpu.mode = MODE_32;
      cpu.stackSize = 4;
    }
    cpu.updateAccessRights();
    cpu.flushTlb(true);
  }

  load(bytes: Uint8Array, addr: number): void {
    this.mem.ram.set(bytes, addr);
    this.cpu.notifyRamWritten(addr, bytes.length);
  }

  /** Runs from `entry` until HLT, an exception, or `limit` instructions. */
  run(entry: number, limit = 1_000_000): RunResult {
    const cpu = this.cpu;
    cpu.rip = entry;
    cpu.halted = false;
    this.raised = -1;
    const r = cpu.run(cpu.icount + limit);
    return { halted: r === RUN_HALT, exception: this.raised, rip: cpu.rip };
  }

  /** A general-purpose register as an unsigned 64-bit value. */
  reg(n: number): bigint {
    return (BigInt(this.cpu.r[n * 2 + 1]! >>> 0) << 32n) | BigInt(this.cpu.r[n * 2]! >>> 0);
  }

  read64(addr: number): bigint {
    return this.mem.view.getBigUint64(addr, true);
  }
}

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R8 = 8, R9 = 9, R10 = 10, R11 = 11;
