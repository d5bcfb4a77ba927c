// x86-64 page tables: the kernel's own space (a direct map of RAM, NX and supervisor-only,
// and the higher-half image with W^X per section) and per-process spaces that share the
// kernel half. It never maps a user page into the kernel half or a kernel page for ring 3.
import { PAGE_SIZE, USER_LIMIT } from "../abi";
import { PROT_WRITE, PROT_EXEC } from "../proc/elf";
import { physAllocZeroed, physFree } from "./physical";
import { DIRECT_MAP_BASE, DIRECT_MAP_LIMIT, KERNEL_VBASE, KERNEL_PML4_FIRST } from "./layout";

export const PTE_PRESENT: u64 = 1;
export const PTE_WRITABLE: u64 = 2;
export const PTE_USER: u64 = 4;
export const PTE_LARGE: u64 = 0x80;
export const PTE_NX: u64 = 0x8000_0000_0000_0000;
const PTE_ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;
const LARGE_PAGE: u64 = 0x20_0000;
const PAGE: u64 = <u64>PAGE_SIZE;

export const SPACE_OK: i32 = 0;
/** No frame was left for a page or a page table. */
export const SPACE_ERR_NO_MEMORY: i32 = -1;
/** The address is not page-aligned, or not in the half the call is for. */
export const SPACE_ERR_BAD_ADDRESS: i32 = -2;
/** The page is already mapped. */
export const SPACE_ERR_MAPPED: i32 = -3;
/** Two image sections with different permissions share a page. */
export const SPACE_ERR_SECTIONS_SHARE_PAGE: i32 = -4;

/** The kernel's PML4; its entries 256..511 are copied into every process's PML4. */
let kernelRoot: usize = 0;

export function kernelSpaceRoot(): usize {
  return kernelRoot;
}

function index(va: u64, level: u32): usize {
  return <usize>((va >> (12 + 9 * <u64>(level - 1))) & 511);
}

/**
 * The page-table entry for `va` at level 1 (4 KiB leaf) or 2 (2 MiB leaf), creating
 * intermediate tables with `tableFlags` on the way. Returns its kernel address, or 0
 * when a frame for a table could not be had.
 */
function entryFor(root: usize, va: u64, leafLevel: u32, tableFlags: u64): usize {
  let table = root;
  for (let level: u32 = 4; level > leafLevel; level--) {
    const entry = table + (index(va, level) << 3);
    let value = load<u64>(entry);
    if ((value & PTE_PRESENT) == 0) {
      const frame = physAllocZeroed();
      if (frame == 0) return 0;
      value = <u64>frame | tableFlags;
      store<u64>(entry, value);
    }
    table = <usize>(value & PTE_ADDRESS);
  }
  return table + (index(va, leafLevel) << 3);
}

/** Whether an image page holds bytes of [start, end). */
function overlaps(page: u64, start: u64, end: u64): bool {
  return start < page + PAGE && page < end;
}

/**
 * Builds and returns (does not load) the kernel page tables: RAM [0, ramTop) at
 * DIRECT_MAP_BASE with 2 MiB pages, read/write, NX, supervisor-only; the image's
 * text (R+X), rodata (R) and data/bss (R+W, NX) at their higher-half addresses.
 * Returns the PML4's physical address or a negative SPACE_ERR_*.
 */
export function kernelSpaceBuild(
  ramTop: u64,
  textStart: u64, textEnd: u64,
  rodataStart: u64, rodataEnd: u64,
  dataStart: u64, dataEnd: u64,
): i64 {
  const root = physAllocZeroed();
  if (root == 0) return SPACE_ERR_NO_MEMORY;
  const top = min((ramTop + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1), DIRECT_MAP_LIMIT);
  for (let physical: u64 = 0; physical < top; physical += LARGE_PAGE) {
    const entry = entryFor(root, DIRECT_MAP_BASE + physical, 2, PTE_PRESENT | PTE_WRITABLE);
    if (entry == 0) return SPACE_ERR_NO_MEMORY;
    store<u64>(entry, physical | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE | PTE_NX);
  }
  const first = min(textStart, min(rodataStart, dataStart)) & ~(PAGE - 1);
  const last = max(textEnd, max(rodataEnd, dataEnd));
  for (let page = first; page < last; page += PAGE) {
    const exec = overlaps(page, textStart, textEnd);
    const write = overlaps(page, dataStart, dataEnd);
    const any = exec || write || overlaps(page, rodataStart, rodataEnd);
    if (!any) continue; // a gap between sections stays unmapped
    if (exec && write) return SPACE_ERR_SECTIONS_SHARE_PAGE;
    const entry = entryFor(root, page, 1, PTE_PRESENT | PTE_WRITABLE);
    if (entry == 0) return SPACE_ERR_NO_MEMORY;
    store<u64>(entry, (page - KERNEL_VBASE) | PTE_PRESENT | (write ? PTE_WRITABLE : 0) | (exec ? 0 : PTE_NX));
  }
  kernelRoot = root;
  return <i64>root;
}

/** A new, empty user address space sharing the kernel half; returns its PML4 or 0. */
export function spaceCreate(): usize {
  const root = physAllocZeroed();
  if (root == 0) return 0;
  memory.copy(root + (<usize>KERNEL_PML4_FIRST << 3), kernelRoot + (<usize>KERNEL_PML4_FIRST << 3),
    <usize>(512 - KERNEL_PML4_FIRST) << 3);
  return root;
}

/**
 * Maps the user page at `va` to the frame at `frame` with `prot` (PROT_* bits of
 * proc/elf.ts; every mapped page is readable). Returns SPACE_OK or an error.
 */
export function spaceMapUser(root: usize, va: u64, frame: usize, prot: u32): i32 {
  if ((va & (PAGE - 1)) != 0 || va >= USER_LIMIT) return SPACE_ERR_BAD_ADDRESS;
  const entry = entryFor(root, va, 1, PTE_PRESENT | PTE_WRITABLE | PTE_USER);
  if (entry == 0) return SPACE_ERR_NO_MEMORY;
  if ((load<u64>(entry) & PTE_PRESENT) != 0) return SPACE_ERR_MAPPED;
  store<u64>(entry, <u64>frame | PTE_PRESENT | PTE_USER |
    ((prot & PROT_WRITE) != 0 ? PTE_WRITABLE : 0) | ((prot & PROT_EXEC) != 0 ? 0 : PTE_NX));
  return SPACE_OK;
}

/**
 * Maps [va, va + bytes) (page-aligned) to fresh zeroed frames with `prot`. On failure
 * the pages mapped so far stay mapped; spaceDestroy() reclaims them with the rest.
 */
export function spaceMapFresh(root: usize, va: u64, bytes: u64, prot: u32): i32 {
  for (let at = va; at < va + bytes; at += PAGE) {
    const frame = physAllocZeroed();
    if (frame == 0) return SPACE_ERR_NO_MEMORY;
    const status = spaceMapUser(root, at, frame, prot);
    if (status != SPACE_OK) {
      physFree(frame);
      return status;
    }
  }
  return SPACE_OK;
}

/** The kernel address of the frame behind user page `va`, or 0 when it is not mapped. */
export function spaceFrameOf(root: usize, va: u64): usize {
  let table = root;
  for (let level: u32 = 4; level >= 1; level--) {
    const value = load<u64>(table + (index(va, level) << 3));
    if ((value & PTE_PRESENT) == 0) return 0;
    table = <usize>(value & PTE_ADDRESS);
  }
  return table;
}

function freeTable(table: usize, level: u32): void {
  for (let i: usize = 0; i < 512; i++) {
    const value = load<u64>(table + (i << 3));
    if ((value & PTE_PRESENT) == 0) continue;
    const next = <usize>(value & PTE_ADDRESS);
    if (level > 1) freeTable(next, level - 1);
    else physFree(next);
  }
  physFree(table);
}

/**
 * Frees every user page, every user page table and the PML4 itself. The caller must
 * have switched CR3 away from `root` first.
 */
export function spaceDestroy(root: usize): void {
  for (let i: usize = 0; i < <usize>KERNEL_PML4_FIRST; i++) {
    const value = load<u64>(root + (i << 3));
    if ((value & PTE_PRESENT) != 0) freeTable(<usize>(value & PTE_ADDRESS), 3);
  }
  physFree(root);
}
