// The kernel's one frame allocator: built at boot from the Multiboot map minus the
// kernel's own footprint, then handing out zeroed 4 KiB frames. A thin owner of the
// state frames.ts works on; it never maps anything and never hands out a frame twice.
import { PAGE_SIZE } from "../abi";
import {
  FRAME_ALLOCATOR_BYTES, FRAMES_OK, FRAMES_ERR_BAD_BITMAP, framesReset, framesFromMultiboot, framesReserve, framesBitmapBytes,
  framesFindFree, framesInit, framesAlloc, framesAllocContiguous, framesFree, framesFreeCount, framesUsableTop,
} from "./frames";

const state: usize = memory.data(<i32>FRAME_ALLOCATOR_BYTES, 16);

/**
 * Builds the allocator: usable RAM from the Multiboot information at `mbi`, minus
 * [kernelStart, kernelEnd) (everything the boot loader placed for the kernel). The
 * bitmap goes in the first free run of RAM. Returns FRAMES_OK or a FRAMES_ERR_*.
 */
export function physInit(mbi: usize, kernelStart: u64, kernelEnd: u64): i32 {
  framesReset(state);
  let status = framesFromMultiboot(state, mbi);
  if (status != FRAMES_OK) return status;
  status = framesReserve(state, kernelStart, kernelEnd - kernelStart);
  if (status != FRAMES_OK) return status;
  const bytes = framesBitmapBytes(state);
  const bitmap = framesFindFree(state, bytes);
  if (bitmap == 0) return FRAMES_ERR_BAD_BITMAP;
  return framesInit(state, bitmap, bytes);
}

/** A zeroed frame's physical address, or 0 when memory is exhausted. */
export function physAllocZeroed(): usize {
  const frame = framesAlloc(state);
  if (frame != 0) memory.fill(frame, 0, PAGE_SIZE);
  return frame;
}

/** `count` contiguous zeroed frames, or 0. */
export function physAllocContiguousZeroed(count: u32): usize {
  const first = framesAllocContiguous(state, count);
  if (first != 0) memory.fill(first, 0, <usize>count * PAGE_SIZE);
  return first;
}

/** Returns a frame; a bad free (a kernel bug) is reported by status, never silently accepted. */
export function physFree(frame: usize): i32 {
  return framesFree(state, <u64>frame);
}

export function physFreeCount(): u32 {
  return framesFreeCount(state);
}

/** The end of usable RAM: the direct map covers [0, this). */
export function physRamTop(): u64 {
  return framesUsableTop(state);
}
