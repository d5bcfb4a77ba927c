// Finding and validating a Multiboot 1 header: the magic on a 4-byte boundary
// within the first 8 KiB, a checksum that makes magic + flags + checksum zero,
// the flags this loader honours, and the address fields of the a.out kludge.
import { hex } from "../trace.js";
import { BootError } from "./errors.js";

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH_BYTES = 8192;

/** Header flags. Bits 0-15 are requirements: a loader must refuse an image needing one it lacks. */
export const MBH_PAGE_ALIGN = 1 << 0;
export const MBH_MEMORY_INFO = 1 << 1;
export const MBH_VIDEO_MODE = 1 << 2;
export const MBH_AOUT_KLUDGE = 1 << 16;
const SUPPORTED_REQUIRED = MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE;

export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** Present when MBH_AOUT_KLUDGE is set. */
  aout: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number } | null;
}

function u32(image: Uint8Array, off: number): number {
  return (image[off]! | (image[off + 1]! << 8) | (image[off + 2]! << 16) | (image[off + 3]! << 24)) >>> 0;
}

/** Locates and checks the header; throws BootError naming what is wrong. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const limit = Math.min(image.length, MULTIBOOT_SEARCH_BYTES);
  let badChecksumAt = -1;
  for (let off = 0; off + 12 <= limit; off += 4) {
    if (u32(image, off) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = u32(image, off + 4);
    const checksum = u32(image, off + 8);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) {
      if (badChecksumAt < 0) badChecksumAt = off;
      continue;
    }
    return parseHeader(image, off, flags);
  }
  if (badChecksumAt >= 0) {
    const flags = u32(image, badChecksumAt + 4);
    const checksum = u32(image, badChecksumAt + 8);
    throw new BootError(
      `Multiboot header at file offset ${hex(badChecksumAt)} has a bad checksum: magic + flags (${hex(flags, 8)}) + checksum (${hex(checksum, 8)}) is ${hex(MULTIBOOT_HEADER_MAGIC + flags + checksum, 8)}, not 0`,
    );
  }
  if (image.length < 12) throw new BootError(`kernel image is truncated: ${image.length} bytes cannot hold a Multiboot header`);
  throw new BootError(`no Multiboot header (magic ${hex(MULTIBOOT_HEADER_MAGIC, 8)}) on a 4-byte boundary in the first ${MULTIBOOT_SEARCH_BYTES} bytes of the kernel image`);
}

function parseHeader(image: Uint8Array, off: number, flags: number): MultibootHeader {
  const unknown = flags & 0xffff & ~SUPPORTED_REQUIRED;
  if (unknown !== 0) {
    const bit = 31 - Math.clz32(unknown & -unknown);
    throw new BootError(`Multiboot header (flags ${hex(flags, 8)}) requires feature bit ${bit}, which this loader does not provide`);
  }
  if ((flags & MBH_AOUT_KLUDGE) === 0) return { offset: off, flags, aout: null };
  if (off + 32 > image.length) {
    throw new BootError(`Multiboot header at file offset ${hex(off)} sets the address flag (bit 16) but the file ends before its address fields`);
  }
  return {
    offset: off,
    flags,
    aout: {
      headerAddr: u32(image, off + 12),
      loadAddr: u32(image, off + 16),
      loadEndAddr: u32(image, off + 20),
      bssEndAddr: u32(image, off + 24),
      entryAddr: u32(image, off + 28),
    },
  };
}
