// The kernel's virtual memory layout: where the direct map of physical memory and the
// higher-half kernel image live, and the selectors every address space shares.
// Constants only; docs/kernel.md draws the map.

/** Virtual address of physical address 0 in the direct map (PML4 entries 256..259). */
export const DIRECT_MAP_BASE: u64 = 0xFFFF_8000_0000_0000;
/** The kernel image runs at KERNEL_VBASE + its physical address (the top 2 GiB). */
export const KERNEL_VBASE: u64 = 0xFFFF_FFFF_8000_0000;
/** The direct map covers RAM up to here (kernel pointers are 32-bit physical addresses). */
export const DIRECT_MAP_LIMIT: u64 = 0x1_0000_0000;

/** First PML4 entry of the kernel half: entries 256..511 are the same in every address space. */
export const KERNEL_PML4_FIRST: u32 = 256;

// Segment selectors (gdt.ts builds the table; syscall/sysret fix this order).
export const KERNEL_CS: u32 = 0x08;
export const KERNEL_DS: u32 = 0x10;
export const USER_DS: u32 = 0x18 | 3;
export const USER_CS: u32 = 0x20 | 3;
export const TSS_SELECTOR: u32 = 0x28;

// Facts about the linked image, by number, from arch_image_symbol() (trap.s holds the table).
/** Start and end of the executable kernel code (virtual). */
export const IMAGE_TEXT_START: i32 = 0;
export const IMAGE_TEXT_END: i32 = 1;
/** Start and end of read-only data (virtual). */
export const IMAGE_RODATA_START: i32 = 2;
export const IMAGE_RODATA_END: i32 = 3;
/** Start and end of writable data and bss (virtual). */
export const IMAGE_DATA_START: i32 = 4;
export const IMAGE_DATA_END: i32 = 5;
/** Physical extent of everything the boot loader placed for the kernel (image, boot code, wasm memory). */
export const IMAGE_PHYS_START: i32 = 6;
export const IMAGE_PHYS_END: i32 = 7;
