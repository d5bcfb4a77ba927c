// The physical frame allocator: a bitmap of 4 KiB frames built from the Multiboot map minus
// low memory, boot data, modules, the kernel image and the bitmap, in caller-provided memory.
// It never hands out non-RAM, never touches frame contents, and reports bad or double frees.
import { PAGE_SIZE } from "../abi";

export const FRAMES_OK: i32 = 0;
/** More usable or reserved ranges than the state has room for. */
export const FRAMES_ERR_TOO_MANY_RANGES: i32 = -1;
/** The Multiboot information is malformed (a memory-map entry runs short, a module ends before it starts). */
export const FRAMES_ERR_BAD_MULTIBOOT: i32 = -2;
/** The Multiboot information has neither a memory map nor basic memory sizes. */
export const FRAMES_ERR_NO_MEMORY_MAP: i32 = -3;
/** The bitmap memory is smaller than framesBitmapBytes() or not 8-byte aligned. */
export const FRAMES_ERR_BAD_BITMAP: i32 = -4;
/** The allocator is not built yet (framesInit) or was already built. */
export const FRAMES_ERR_STATE: i32 = -5;
/** free() of an address that is not 4 KiB aligned. */
export const FRAMES_ERR_UNALIGNED: i32 = -6;
/** free() of a frame that is not allocatable RAM (reserved, low memory, beyond the map). */
export const FRAMES_ERR_NOT_MANAGED: i32 = -7;
/** free() of a frame that is already free. */
export const FRAMES_ERR_DOUBLE_FREE: i32 = -8;

/** Frames below 1 MiB (real-mode IVT, BIOS data, EBDA, ROMs) are never handed out. */
export const LOW_MEMORY_END: u64 = 0x10_0000;
/** Kernel pointers are 32-bit physical addresses: RAM at or above 4 GiB is ignored. */
export const PHYS_LIMIT: u64 = 0x1_0000_0000;
export const FRAMES_MAX_USABLE: u32 = 32;
export const FRAMES_MAX_RESERVED: u32 = 64;
/** Longest boot string (command line, module string) reserved before giving up on its terminator. */
const MAX_BOOT_STRING: u32 = 4096;
/** Bytes of the Multiboot 1 information structure through its last defined field. */
const MULTIBOOT_INFO_BYTES: u64 = 120;

// Multiboot 1 information structure.
const MBI_FLAGS = 0;
const MBI_MEM_UPPER = 8;
const MBI_CMDLINE = 16;
const MBI_MODS_COUNT = 20;
const MBI_MODS_ADDR = 24;
const MBI_MMAP_LENGTH = 44;
const MBI_MMAP_ADDR = 48;
const MBI_LOADER_NAME = 64;
const MBI_HAS_MEMORY: u32 = 1 << 0;
const MBI_HAS_CMDLINE: u32 = 1 << 2;
const MBI_HAS_MODS: u32 = 1 << 3;
const MBI_HAS_MMAP: u32 = 1 << 6;
const MBI_HAS_LOADER_NAME: u32 = 1 << 9;
const MMAP_TYPE_AVAILABLE: u32 = 1;
const MODULE_ENTRY_BYTES: u32 = 16;

const PAGE: u64 = <u64>PAGE_SIZE;
const ALL_USED: u64 = 0xFFFF_FFFF_FFFF_FFFF;

/** Allocator state; the usable and reserved range arrays follow it. */
@unmanaged class FrameAllocator {
  bitmap: usize = 0;
  bitmapBytes: u32 = 0;
  /** Frames the bitmap covers: everything below the end of the highest usable range. */
  frameLimit: u32 = 0;
  totalFrames: u32 = 0;
  freeFrames: u32 = 0;
  /** Bitmap word where the next search starts (the last one that had a free frame). */
  hintWord: u32 = 0;
  usableCount: u32 = 0;
  reservedCount: u32 = 0;
  ready: u32 = 0;
}

const STATE_BYTES: u32 = offsetof<FrameAllocator>();
const RANGE_BYTES: u32 = 16;
/** Bytes the caller must provide for the allocator state. */
export const FRAME_ALLOCATOR_BYTES: u32 = STATE_BYTES + (FRAMES_MAX_USABLE + FRAMES_MAX_RESERVED) * RANGE_BYTES;

// @ts-ignore: decorator
@inline function usableAt(fa: FrameAllocator, i: u32): usize {
  return changetype<usize>(fa) + STATE_BYTES + <usize>i * RANGE_BYTES;
}

// @ts-ignore: decorator
@inline function reservedAt(fa: FrameAllocator, i: u32): usize {
  return changetype<usize>(fa) + STATE_BYTES + <usize>(FRAMES_MAX_USABLE + i) * RANGE_BYTES;
}

function alignDown(x: u64): u64 {
  return x & ~(PAGE - 1);
}

function alignUp(x: u64): u64 {
  return x > 0xFFFF_FFFF_FFFF_F000 ? 0xFFFF_FFFF_FFFF_F000 : (x + PAGE - 1) & ~(PAGE - 1);
}

/** base + length, saturating instead of wrapping. */
function rangeEnd(base: u64, length: u64): u64 {
  const end = base + length;
  return end < base ? 0xFFFF_FFFF_FFFF_FFFF : end;
}

/** Empties the allocator state at `state` (FRAME_ALLOCATOR_BYTES bytes). */
export function framesReset(state: usize): void {
  memory.fill(state, 0, <usize>FRAME_ALLOCATOR_BYTES);
}

/**
 * Declares [base, base + length) usable RAM. Only whole pages between 1 MiB
 * and 4 GiB count; the rest is dropped.
 */
export function framesAddUsable(state: usize, base: u64, length: u64): i32 {
  const fa = changetype<FrameAllocator>(state);
  if (fa.ready != 0) return FRAMES_ERR_STATE;
  const start = alignUp(max(base, LOW_MEMORY_END));
  const end = alignDown(min(rangeEnd(base, length), PHYS_LIMIT));
  if (start >= end) return FRAMES_OK;
  if (fa.usableCount >= FRAMES_MAX_USABLE) return FRAMES_ERR_TOO_MANY_RANGES;
  const at = usableAt(fa, fa.usableCount++);
  store<u64>(at, start);
  store<u64>(at + 8, end);
  return FRAMES_OK;
}

/**
 * Declares [base, base + length) never allocatable, widened to whole pages.
 * Reserved ranges win over usable ones wherever they overlap.
 */
export function framesReserve(state: usize, base: u64, length: u64): i32 {
  const fa = changetype<FrameAllocator>(state);
  if (fa.ready != 0) return FRAMES_ERR_STATE;
  if (length == 0) return FRAMES_OK;
  const start = alignDown(max(base, LOW_MEMORY_END));
  const end = alignUp(min(rangeEnd(base, length), PHYS_LIMIT));
  if (start >= end) return FRAMES_OK;
  if (fa.reservedCount >= FRAMES_MAX_RESERVED) return FRAMES_ERR_TOO_MANY_RANGES;
  const at = reservedAt(fa, fa.reservedCount++);
  store<u64>(at, start);
  store<u64>(at + 8, end);
  return FRAMES_OK;
}

/** Reserves a NUL-terminated boot string (its terminator included), reading at most MAX_BOOT_STRING bytes. */
function reserveString(state: usize, address: u32): i32 {
  if (address == 0) return FRAMES_OK;
  let length: u32 = 0;
  while (length < MAX_BOOT_STRING && load<u8>(<usize>address + length) != 0) length++;
  return framesReserve(state, <u64>address, <u64>length + 1);
}

/**
 * Reads the Multiboot 1 information structure at `info` (a kernel pointer):
 * type-1 memory-map entries become usable, every other entry reserved, and
 * the structure itself, the memory map, the module list, every module, the
 * command line and the loader name are reserved. Without a memory map the
 * basic upper-memory size is used. The kernel image is not described there:
 * reserve it separately.
 */
export function framesFromMultiboot(state: usize, info: usize): i32 {
  const flags = load<u32>(info + MBI_FLAGS);
  let status = FRAMES_OK;
  if ((flags & MBI_HAS_MMAP) != 0) {
    const mapLength = load<u32>(info + MBI_MMAP_LENGTH);
    const mapAddress = load<u32>(info + MBI_MMAP_ADDR);
    const mapEnd = <u64>mapAddress + <u64>mapLength;
    let p = <u64>mapAddress;
    while (p < mapEnd) {
      if (p + 4 > mapEnd) return FRAMES_ERR_BAD_MULTIBOOT;
      const size = load<u32>(<usize>p);
      // An entry's size excludes its own size field and must hold base, length and type.
      if (size < 20 || p + 4 + <u64>size > mapEnd) return FRAMES_ERR_BAD_MULTIBOOT;
      const base = load<u64>(<usize>p + 4);
      const length = load<u64>(<usize>p + 12);
      const type = load<u32>(<usize>p + 20);
      status = type == MMAP_TYPE_AVAILABLE ? framesAddUsable(state, base, length) : framesReserve(state, base, length);
      if (status != FRAMES_OK) return status;
      p += 4 + <u64>size;
    }
    status = framesReserve(state, <u64>mapAddress, <u64>mapLength);
    if (status != FRAMES_OK) return status;
  } else if ((flags & MBI_HAS_MEMORY) != 0) {
    status = framesAddUsable(state, LOW_MEMORY_END, <u64>load<u32>(info + MBI_MEM_UPPER) * 1024);
    if (status != FRAMES_OK) return status;
  } else {
    return FRAMES_ERR_NO_MEMORY_MAP;
  }
  status = framesReserve(state, <u64>info, MULTIBOOT_INFO_BYTES);
  if (status != FRAMES_OK) return status;
  if ((flags & MBI_HAS_CMDLINE) != 0) {
    status = reserveString(state, load<u32>(info + MBI_CMDLINE));
    if (status != FRAMES_OK) return status;
  }
  if ((flags & MBI_HAS_LOADER_NAME) != 0) {
    status = reserveString(state, load<u32>(info + MBI_LOADER_NAME));
    if (status != FRAMES_OK) return status;
  }
  if ((flags & MBI_HAS_MODS) != 0) {
    const count = load<u32>(info + MBI_MODS_COUNT);
    const list = load<u32>(info + MBI_MODS_ADDR);
    if (<u64>count > <u64>FRAMES_MAX_RESERVED) return FRAMES_ERR_TOO_MANY_RANGES;
    status = framesReserve(state, <u64>list, <u64>count * MODULE_ENTRY_BYTES);
    if (status != FRAMES_OK) return status;
    for (let i: u32 = 0; i < count; i++) {
      const entry = <usize>list + <usize>i * MODULE_ENTRY_BYTES;
      const start = load<u32>(entry);
      const end = load<u32>(entry + 4);
      if (end < start) return FRAMES_ERR_BAD_MULTIBOOT;
      status = framesReserve(state, <u64>start, <u64>(end - start));
      if (status != FRAMES_OK) return status;
      status = reserveString(state, load<u32>(entry + 8));
      if (status != FRAMES_OK) return status;
    }
  }
  return FRAMES_OK;
}

function highestUsableEnd(fa: FrameAllocator): u64 {
  let top: u64 = 0;
  for (let i: u32 = 0; i < fa.usableCount; i++) top = max(top, load<u64>(usableAt(fa, i) + 8));
  return top;
}

/** The end of the highest usable RAM range (below 4 GiB): how far the kernel's direct map must reach. */
export function framesUsableTop(state: usize): u64 {
  return highestUsableEnd(changetype<FrameAllocator>(state));
}

/** Bytes the bitmap needs: one bit per frame up to the highest usable address, in whole 64-bit words. */
export function framesBitmapBytes(state: usize): u32 {
  const frames = highestUsableEnd(changetype<FrameAllocator>(state)) / PAGE;
  return <u32>(((frames + 63) >> 6) << 3);
}

/** The end of the first reserved range overlapping [start, end), or 0 if none does. */
function firstOverlap(fa: FrameAllocator, start: u64, end: u64): u64 {
  for (let i: u32 = 0; i < fa.reservedCount; i++) {
    const at = reservedAt(fa, i);
    if (load<u64>(at) < end && start < load<u64>(at + 8)) return load<u64>(at + 8);
  }
  return 0;
}

/**
 * The lowest page-aligned address where `bytes` bytes of usable, unreserved
 * RAM begin, or 0 if there is none: where the kernel can put the bitmap (or
 * any other boot-time structure) before the allocator exists.
 */
export function framesFindFree(state: usize, bytes: u32): usize {
  const fa = changetype<FrameAllocator>(state);
  const size = alignUp(max(<u64>bytes, 1));
  let best: u64 = PHYS_LIMIT;
  for (let i: u32 = 0; i < fa.usableCount; i++) {
    const end = load<u64>(usableAt(fa, i) + 8);
    let candidate = load<u64>(usableAt(fa, i));
    while (candidate + size <= end && candidate < best) {
      const blocker = firstOverlap(fa, candidate, candidate + size);
      if (blocker == 0) {
        best = candidate;
        break;
      }
      candidate = alignUp(blocker);
    }
  }
  return best < PHYS_LIMIT ? <usize>best : 0;
}

function setBits(bitmap: usize, from: u64, to: u64, used: bool): void {
  let i = from;
  while (i < to && (i & 63) != 0) {
    const word = bitmap + <usize>(i >> 6) * 8;
    const bit: u64 = <u64>1 << (i & 63);
    store<u64>(word, used ? load<u64>(word) | bit : load<u64>(word) & ~bit);
    i++;
  }
  while (i + 64 <= to) {
    store<u64>(bitmap + <usize>(i >> 6) * 8, used ? ALL_USED : 0);
    i += 64;
  }
  while (i < to) {
    const word = bitmap + <usize>(i >> 6) * 8;
    const bit: u64 = <u64>1 << (i & 63);
    store<u64>(word, used ? load<u64>(word) | bit : load<u64>(word) & ~bit);
    i++;
  }
}

/**
 * Builds the bitmap in `bitmapBytes` bytes at `bitmap` (which is reserved
 * too, so put it anywhere: in the kernel image, or at framesFindFree()).
 * After this no more ranges may be added.
 */
export function framesInit(state: usize, bitmap: usize, bitmapBytes: u32): i32 {
  const fa = changetype<FrameAllocator>(state);
  if (fa.ready != 0) return FRAMES_ERR_STATE;
  const needed = framesBitmapBytes(state);
  if ((bitmap & 7) != 0 || bitmapBytes < needed) return FRAMES_ERR_BAD_BITMAP;
  const status = framesReserve(state, <u64>bitmap, <u64>needed);
  if (status != FRAMES_OK) return status;
  const limit = highestUsableEnd(fa) / PAGE;
  fa.bitmap = bitmap;
  fa.bitmapBytes = needed;
  fa.frameLimit = <u32>limit;
  memory.fill(bitmap, 0xFF, <usize>needed);
  for (let i: u32 = 0; i < fa.usableCount; i++) {
    const at = usableAt(fa, i);
    setBits(bitmap, load<u64>(at) / PAGE, load<u64>(at + 8) / PAGE, false);
  }
  for (let i: u32 = 0; i < fa.reservedCount; i++) {
    const at = reservedAt(fa, i);
    const from = min(load<u64>(at) / PAGE, limit);
    const to = min(load<u64>(at + 8) / PAGE, limit);
    if (from < to) setBits(bitmap, from, to, true);
  }
  let free: u64 = 0;
  for (let w: u32 = 0; w < needed >> 3; w++) free += popcnt(~load<u64>(bitmap + <usize>w * 8));
  fa.totalFrames = <u32>free;
  fa.freeFrames = <u32>free;
  fa.hintWord = 0;
  fa.ready = 1;
  return FRAMES_OK;
}

/** One free frame's physical address (marked used), or 0 when none is left. Contents are not cleared. */
export function framesAlloc(state: usize): usize {
  const fa = changetype<FrameAllocator>(state);
  if (fa.ready == 0 || fa.freeFrames == 0) return 0;
  const words = fa.bitmapBytes >> 3;
  for (let k: u32 = 0; k < words; k++) {
    let w = fa.hintWord + k;
    if (w >= words) w -= words;
    const word = fa.bitmap + <usize>w * 8;
    const bits = load<u64>(word);
    if (bits != ALL_USED) {
      const bit = ctz(~bits);
      store<u64>(word, bits | (<u64>1 << bit));
      fa.hintWord = w;
      fa.freeFrames--;
      return <usize>((<u64>w * 64 + bit) * PAGE);
    }
  }
  return 0;
}

function isUsed(fa: FrameAllocator, frame: u64): bool {
  return (load<u64>(fa.bitmap + <usize>(frame >> 6) * 8) & (<u64>1 << (frame & 63))) != 0;
}

/**
 * `count` physically contiguous free frames (marked used), lowest first fit;
 * returns the first frame's address or 0. For DMA-style buffers and
 * FrameAllocator.allocContiguous.
 */
export function framesAllocContiguous(state: usize, count: u32): usize {
  const fa = changetype<FrameAllocator>(state);
  if (fa.ready == 0 || count == 0 || count > fa.freeFrames) return 0;
  const limit = <u64>fa.frameLimit;
  let runStart: u64 = 0;
  let runLength: u64 = 0;
  let frame: u64 = 0;
  while (frame < limit) {
    if ((frame & 63) == 0 && load<u64>(fa.bitmap + <usize>(frame >> 6) * 8) == ALL_USED) {
      runLength = 0;
      frame += 64;
      continue;
    }
    if (isUsed(fa, frame)) {
      runLength = 0;
    } else {
      if (runLength == 0) runStart = frame;
      runLength++;
      if (runLength == <u64>count) {
        setBits(fa.bitmap, runStart, runStart + runLength, true);
        fa.freeFrames -= count;
        return <usize>(runStart * PAGE);
      }
    }
    frame++;
  }
  return 0;
}

/** Whether the frame at `address` is allocatable RAM: inside a usable range and no reserved one. */
function isManaged(fa: FrameAllocator, address: u64): bool {
  let usable = false;
  for (let i: u32 = 0; i < fa.usableCount; i++) {
    const at = usableAt(fa, i);
    if (load<u64>(at) <= address && address < load<u64>(at + 8)) usable = true;
  }
  if (!usable) return false;
  return firstOverlap(fa, address, address + PAGE) == 0;
}

/**
 * Returns the frame at `address` to the pool. Returns FRAMES_OK, or
 * FRAMES_ERR_UNALIGNED / FRAMES_ERR_NOT_MANAGED / FRAMES_ERR_DOUBLE_FREE and
 * changes nothing.
 */
export function framesFree(state: usize, address: u64): i32 {
  const fa = changetype<FrameAllocator>(state);
  if (fa.ready == 0) return FRAMES_ERR_STATE;
  if ((address & (PAGE - 1)) != 0) return FRAMES_ERR_UNALIGNED;
  const frame = address / PAGE;
  if (frame >= <u64>fa.frameLimit || !isManaged(fa, address)) return FRAMES_ERR_NOT_MANAGED;
  if (!isUsed(fa, frame)) return FRAMES_ERR_DOUBLE_FREE;
  const word = fa.bitmap + <usize>(frame >> 6) * 8;
  store<u64>(word, load<u64>(word) & ~(<u64>1 << (frame & 63)));
  fa.freeFrames++;
  return FRAMES_OK;
}

/** Frames free right now. */
export function framesFreeCount(state: usize): u32 {
  return changetype<FrameAllocator>(state).freeFrames;
}

/** Frames the allocator manages (free at build time). */
export function framesTotalCount(state: usize): u32 {
  return changetype<FrameAllocator>(state).totalFrames;
}

/** Whether the frame at `address` is currently allocated or unavailable (true) or free (false). */
export function framesIsUsed(state: usize, address: u64): bool {
  const fa = changetype<FrameAllocator>(state);
  const frame = address / PAGE;
  if (fa.ready == 0 || frame >= <u64>fa.frameLimit) return true;
  return isUsed(fa, frame);
}
