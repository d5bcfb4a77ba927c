// Guest physical memory: RAM as one ArrayBuffer, plus a physical bus for MMIO
// regions. The CPU reads RAM directly through typed-array views on its fast path
// and comes here only for addresses that are not plain RAM.

/** A memory-mapped device region. Addresses are offsets into the region. */
export interface MmioHandler {
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

interface MmioRegion {
  base: number;
  size: number;
  handler: MmioHandler;
}

/** Largest supported RAM: physical addresses of RAM fit in a signed 32-bit index. */
export const MAX_RAM_BYTES = 2 * 1024 * 1024 * 1024 - 4096;

export class PhysicalMemory {
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly size: number;
  private readonly regions: MmioRegion[] = [];
  /** Pages (4 KiB) of RAM that are MMIO-shadowed or otherwise not plain RAM. */
  private readonly holes: Uint8Array;

  constructor(sizeBytes: number) {
    if (!Number.isInteger(sizeBytes) || sizeBytes < 1024 * 1024 || sizeBytes > MAX_RAM_BYTES || sizeBytes % 4096 !== 0) {
      throw new RangeError(`RAM size must be a multiple of 4 KiB between 1 MiB and ${MAX_RAM_BYTES} bytes (got ${sizeBytes})`);
    }
    this.size = sizeBytes;
    this.ram = new Uint8Array(sizeBytes);
    this.view = new DataView(this.ram.buffer);
    this.holes = new Uint8Array(sizeBytes >>> 12);
  }

  /** Maps an MMIO region; accesses there go to the handler instead of RAM. */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    for (const r of this.regions) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new Error(`MMIO region 0x${base.toString(16)}+0x${size.toString(16)} overlaps 0x${r.base.toString(16)}`);
      }
    }
    this.regions.push({ base, size, handler });
    for (let p = Math.floor(base / 4096); p < Math.ceil((base + size) / 4096) && p < this.holes.length; p++) this.holes[p] = 1;
  }

  /** True when the 4 KiB physical page is ordinary RAM (eligible for the CPU's fast path). */
  isRamPage(page: number): boolean {
    return page < this.holes.length && this.holes[page] === 0;
  }

  private region(addr: number): MmioRegion | undefined {
    for (const r of this.regions) if (addr >= r.base && addr < r.base + r.size) return r;
    return undefined;
  }

  /** Slow-path physical read of 1, 2 or 4 bytes (MMIO, holes, or beyond RAM: all-ones). */
  read(addr: number, size: number): number {
    const r = this.region(addr);
    if (r) return r.handler.read(addr - r.base, size);
    if (addr + size <= this.size) {
      if (size === 1) return this.ram[addr]!;
      if (size === 2) return this.view.getUint16(addr, true);
      return this.view.getInt32(addr, true);
    }
    return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  }

  /** Slow-path physical write of 1, 2 or 4 bytes; writes to nowhere are dropped. */
  write(addr: number, size: number, value: number): void {
    const r = this.region(addr);
    if (r) { r.handler.write(addr - r.base, size, value); return; }
    if (addr + size <= this.size) {
      if (size === 1) this.ram[addr] = value;
      else if (size === 2) this.view.setUint16(addr, value, true);
      else this.view.setInt32(addr, value, true);
    }
  }
}
