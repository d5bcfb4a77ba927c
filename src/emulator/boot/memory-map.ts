// The physical memory map handed to the kernel (the Multiboot mmap, in the
// shape of a BIOS E820 table). It reproduces what QEMU's `pc` machine with
// SeaBIOS reports, so a kernel that prints its memory map prints the same on
// both: conventional memory up to the EBDA, the BIOS area, RAM from 1 MiB up to
// the 128 KiB SeaBIOS keeps at the top, the BIOS flash below 4 GiB, and the
// HyperTransport hole QEMU reserves for AMD-vendor CPU models such as qemu64.

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface MemoryRegion {
  base: number;
  length: number;
  type: number;
}

/** Conventional memory ends where the extended BIOS data area (1 KiB) begins. */
export const EBDA_START = 0x9fc00;
export const BIOS_AREA_START = 0xf0000;
export const HIGH_MEMORY_START = 0x100000;
/** RAM at the top that SeaBIOS reserves for its tables. */
export const TOP_RESERVED_BYTES = 0x20000;
/** Smallest RAM the Multiboot loader accepts: 1 MiB of low memory plus room above it. */
export const MIN_BOOT_RAM = 2 * 1024 * 1024;

export function memoryMap(ramBytes: number): MemoryRegion[] {
  return [
    { base: 0, length: EBDA_START, type: E820_RAM },
    { base: EBDA_START, length: 0xa0000 - EBDA_START, type: E820_RESERVED },
    { base: BIOS_AREA_START, length: 0x100000 - BIOS_AREA_START, type: E820_RESERVED },
    { base: HIGH_MEMORY_START, length: ramBytes - TOP_RESERVED_BYTES - HIGH_MEMORY_START, type: E820_RAM },
    { base: ramBytes - TOP_RESERVED_BYTES, length: TOP_RESERVED_BYTES, type: E820_RESERVED },
    { base: 0xfffc0000, length: 0x40000, type: E820_RESERVED },
    { base: 0xfd00000000, length: 0x300000000, type: E820_RESERVED },
  ];
}

/** Highest usable address + 1 for the kernel, modules and boot data. */
export function usableTop(ramBytes: number): number {
  return ramBytes - TOP_RESERVED_BYTES;
}
