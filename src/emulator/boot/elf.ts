// Just enough ELF to boot a kernel: the identification bytes, the entry point
// and the PT_LOAD program headers of a little-endian ELF32 (i386) or ELF64
// (x86-64) executable. Every offset is checked against the file length.
import { hex } from "../trace.js";
import { BootError } from "./errors.js";

export interface ElfSegment {
  /** Index among the program headers (for error messages). */
  index: number;
  paddr: number;
  vaddr: number;
  fileOffset: number;
  fileSize: number;
  memSize: number;
}

export interface ElfImage {
  bits: 32 | 64;
  entry: number;
  segments: ElfSegment[];
}

const PT_LOAD = 1;
const EM_386 = 3;
const EM_X86_64 = 62;
const TWO32 = 4294967296;

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
}

export function parseElf(image: Uint8Array): ElfImage {
  if (image.length < 16 || !isElf(image)) throw new BootError("kernel image is not an ELF file");
  const cls = image[4];
  if (cls !== 1 && cls !== 2) throw new BootError(`ELF class ${cls} is neither ELF32 nor ELF64`);
  if (image[5] !== 1) throw new BootError("ELF image is not little-endian");
  const bits = cls === 1 ? 32 : 64;
  const ehsize = bits === 32 ? 52 : 64;
  if (image.length < ehsize) throw new BootError(`ELF${bits} image is truncated: ${image.length} bytes, the ELF header needs ${ehsize}`);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const u16 = (o: number): number => dv.getUint16(o, true);
  const u32 = (o: number): number => dv.getUint32(o, true);
  const u64 = (o: number): number => u32(o) + u32(o + 4) * TWO32;
  const machine = u16(18);
  if (bits === 32 && machine !== EM_386) throw new BootError(`ELF32 machine ${machine} is not i386 (3)`);
  if (bits === 64 && machine !== EM_X86_64) throw new BootError(`ELF64 machine ${machine} is not x86-64 (62)`);
  const entry = bits === 32 ? u32(24) : u64(24);
  const phoff = bits === 32 ? u32(28) : u64(32);
  const phentsize = u16(bits === 32 ? 42 : 54);
  const phnum = u16(bits === 32 ? 44 : 56);
  const minEntry = bits === 32 ? 32 : 56;
  if (phnum > 0 && phentsize < minEntry) throw new BootError(`ELF program header entry size ${phentsize} is smaller than ${minEntry}`);
  if (phoff + phnum * phentsize > image.length) {
    throw new BootError(`ELF program headers (${phnum} at offset ${hex(phoff)}) run past the end of the ${image.length}-byte file`);
  }
  const segments: ElfSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const p = phoff + k * phentsize;
    if (u32(p) !== PT_LOAD) continue;
    const seg: ElfSegment = bits === 32
      ? { index: k, fileOffset: u32(p + 4), vaddr: u32(p + 8), paddr: u32(p + 12), fileSize: u32(p + 16), memSize: u32(p + 20) }
      : { index: k, fileOffset: u64(p + 8), vaddr: u64(p + 16), paddr: u64(p + 24), fileSize: u64(p + 32), memSize: u64(p + 40) };
    if (seg.memSize === 0) continue;
    if (seg.fileSize > seg.memSize) {
      throw new BootError(`ELF segment ${k}: file size ${hex(seg.fileSize)} exceeds memory size ${hex(seg.memSize)}`);
    }
    if (seg.fileOffset + seg.fileSize > image.length) {
      throw new BootError(`ELF segment ${k}: file bytes ${hex(seg.fileOffset)}-${hex(seg.fileOffset + seg.fileSize)} run past the end of the ${image.length}-byte file (truncated image?)`);
    }
    segments.push(seg);
  }
  if (segments.length === 0) throw new BootError("ELF image has no loadable (PT_LOAD) segments");
  return { bits, entry, segments };
}
