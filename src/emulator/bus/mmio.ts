// The MMIO bus: one window of the physical address space (the PCI hole above
// RAM) mapped into PhysicalMemory once, inside which device regions come and go
// as PCI BARs are programmed. Addresses inside the window that no region
// decodes read all-ones and drop writes, like an unclaimed PCI cycle.
import type { MmioHandler, PhysicalMemory } from "../memory/phys.js";
import { hex } from "../trace.js";

interface Region {
  base: number;
  size: number;
  handler: MmioHandler;
}

export class MmioBus implements MmioHandler {
  private regions: Region[] = [];

  /** Maps [base, base+size) of physical memory to this bus. */
  constructor(
    mem: PhysicalMemory,
    readonly base: number,
    readonly size: number,
  ) {
    if (base < mem.size) throw new Error(`MMIO window ${hex(base)} overlaps RAM (${hex(mem.size)} bytes)`);
    mem.mapMmio(base, size, this);
  }

  /** True when [base, base+size) lies in the window and no region decodes any of it. */
  isFree(base: number, size: number): boolean {
    if (base < this.base || base + size > this.base + this.size) return false;
    for (const r of this.regions) if (base < r.base + r.size && r.base < base + size) return false;
    return true;
  }

  /** Adds a device region (absolute physical address). Regions never overlap. */
  map(base: number, size: number, handler: MmioHandler): void {
    if (base < this.base || base + size > this.base + this.size) {
      throw new RangeError(`MMIO region ${hex(base)}+${hex(size)} lies outside the window ${hex(this.base)}+${hex(this.size)}`);
    }
    for (const r of this.regions) {
      if (base < r.base + r.size && r.base < base + size) throw new Error(`MMIO region ${hex(base)} overlaps ${hex(r.base)}`);
    }
    this.regions.push({ base, size, handler });
  }

  unmap(base: number, handler: MmioHandler): void {
    this.regions = this.regions.filter((r) => !(r.base === base && r.handler === handler));
  }

  read(offset: number, size: number): number {
    const addr = this.base + offset;
    for (const r of this.regions) if (addr >= r.base && addr < r.base + r.size) return r.handler.read(addr - r.base, size);
    return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  }

  write(offset: number, size: number, value: number): void {
    const addr = this.base + offset;
    for (const r of this.regions) {
      if (addr >= r.base && addr < r.base + r.size) {
        r.handler.write(addr - r.base, size, value);
        return;
      }
    }
  }
}
