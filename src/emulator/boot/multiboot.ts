// The Multiboot 1 loader: places the kernel (a.out kludge addresses, or ELF
// program headers), its modules and command lines in guest RAM and writes the
// Multiboot information structure. Layout follows QEMU's loader so addresses a
// kernel sees match between the two machines: memory map at 0x9000, info
// structure at 0x9500, module list and strings on the page after the kernel,
// then each module page-aligned. It refuses, with a named reason, any image
// whose pieces overlap, leave usable RAM, or are cut short.
import type { PhysicalMemory } from "../memory/phys.js";
import { hex } from "../trace.js";
import { BootError } from "./errors.js";
import { isElf, parseElf } from "./elf.js";
import { E820_RAM, EBDA_START, HIGH_MEMORY_START, MIN_BOOT_RAM, memoryMap, usableTop } from "./memory-map.js";
import { findMultibootHeader, MBH_VIDEO_MODE, type MultibootHeader } from "./multiboot-header.js";

export interface MultibootModule {
  data: Uint8Array;
  /** The module's string in the info structure (QEMU and GRUB pass "path args"). */
  cmdline: string;
}

export interface MultibootLoadOptions {
  /** Kernel command line (default empty). */
  cmdline?: string;
  modules?: readonly MultibootModule[];
  /** Boot loader name in the info structure (default "capos"). */
  bootLoaderName?: string;
}

export interface LoadedRange {
  start: number;
  end: number; // exclusive
}

export interface BootInfo {
  format: "a.out kludge" | "ELF32" | "ELF64";
  entry: number;
  /** Physical address of the Multiboot information structure (EBX at entry). */
  infoAddress: number;
  kernel: LoadedRange[];
  modules: (LoadedRange & { cmdline: string })[];
  /** Things the loader wants the embedder to know (ignored requests). */
  notes: string[];
}

/** Low-memory boot data: memory map and info structure, where QEMU's loader puts them. */
export const MMAP_ADDRESS = 0x9000;
export const INFO_ADDRESS = 0x9500;
export const BOOT_DATA_END = 0xa000;
/** BIOS boot device "first hard disk, no partition", as QEMU reports. */
const BOOT_DEVICE = 0x8000ffff;

// Info structure flags and offsets.
const MBI_MEMORY = 1 << 0;
const MBI_BOOT_DEVICE = 1 << 1;
const MBI_CMDLINE = 1 << 2;
const MBI_MODULES = 1 << 3;
const MBI_MMAP = 1 << 6;
const MBI_LOADER_NAME = 1 << 9;
const MBI_SIZE = 88;

interface Piece {
  what: string;
  start: number;
  end: number;
  /** Bytes from the file (the rest, up to end, is zero-filled). */
  bytes: Uint8Array;
}

export function loadMultiboot(mem: PhysicalMemory, image: Uint8Array, opts: MultibootLoadOptions = {}): BootInfo {
  if (mem.size < MIN_BOOT_RAM) throw new BootError(`Multiboot needs at least ${MIN_BOOT_RAM >>> 20} MiB of RAM (machine has ${mem.size} bytes)`);
  const header = findMultibootHeader(image);
  const notes: string[] = [];
  if ((header.flags & MBH_VIDEO_MODE) !== 0) notes.push("kernel asks for a video mode; this machine has no display, so no video information is passed (as QEMU does)");
  const { format, entry, pieces } = header.aout !== null ? aoutPieces(image, header) : elfPieces(image);

  const top = usableTop(mem.size);
  const map = memoryMap(mem.size);
  checkPieces(pieces, map, top);
  if (entry >= top) throw new BootError(`entry point ${hex(entry)} lies outside usable RAM (below ${hex(top)})`);
  const kernelEnd = Math.max(...pieces.map((p) => p.end));

  // Module list and strings go on the page after the kernel, then the modules.
  const modules = opts.modules ?? [];
  const enc = new TextEncoder();
  const bufStart = alignUp(kernelEnd, 4096);
  const strings: Uint8Array[] = [];
  const stringAddr: number[] = [];
  let cursor = bufStart + 16 * modules.length;
  const addString = (s: string): number => {
    const b = enc.encode(s + "\0");
    strings.push(b);
    stringAddr.push(cursor);
    const at = cursor;
    cursor += b.length;
    return at;
  };
  const moduleStrings = modules.map((m) => addString(m.cmdline));
  const cmdlineAddr = addString(opts.cmdline ?? "");
  const nameAddr = addString(opts.bootLoaderName ?? "capos");
  const bufEnd = cursor;
  let next = alignUp(bufEnd, 4096);
  const placed: (LoadedRange & { cmdline: string })[] = [];
  modules.forEach((m, k) => {
    const start = next;
    const end = start + m.data.length;
    if (end > top) {
      throw new BootError(`module ${k} ("${m.cmdline}", ${m.data.length} bytes) does not fit in RAM: it would end at ${hex(end)}, usable RAM ends at ${hex(top)}`);
    }
    placed.push({ start, end, cmdline: m.cmdline });
    next = alignUp(Math.max(end, start + 1), 4096);
  });
  if (bufEnd > top) throw new BootError(`boot information does not fit in RAM above the kernel (ends at ${hex(bufEnd)})`);

  // Everything checked: write guest memory.
  const ram = mem.ram;
  for (const p of pieces) {
    ram.set(p.bytes, p.start);
    ram.fill(0, p.start + p.bytes.length, p.end);
  }
  ram.fill(0, bufStart, bufEnd);
  strings.forEach((b, k) => ram.set(b, stringAddr[k]!));
  const dv = mem.view;
  placed.forEach((m, k) => {
    ram.set(modules[k]!.data, m.start);
    const e = bufStart + 16 * k;
    dv.setUint32(e, m.start, true);
    dv.setUint32(e + 4, m.end, true);
    dv.setUint32(e + 8, moduleStrings[k]!, true);
    dv.setUint32(e + 12, 0, true);
  });

  // Memory map: entries of { size = 20, base, length, type }.
  ram.fill(0, MMAP_ADDRESS, BOOT_DATA_END);
  let m = MMAP_ADDRESS;
  for (const r of map) {
    dv.setUint32(m, 20, true);
    put64(dv, m + 4, r.base);
    put64(dv, m + 12, r.length);
    dv.setUint32(m + 20, r.type, true);
    m += 24;
  }
  const upper = map.find((r) => r.base === HIGH_MEMORY_START)!;
  const lower = map[0]!;
  const mbi = INFO_ADDRESS;
  dv.setUint32(mbi + 0, MBI_MEMORY | MBI_BOOT_DEVICE | MBI_CMDLINE | MBI_MODULES | MBI_MMAP | MBI_LOADER_NAME, true);
  dv.setUint32(mbi + 4, Math.floor(lower.length / 1024), true);
  dv.setUint32(mbi + 8, Math.floor(upper.length / 1024), true);
  dv.setUint32(mbi + 12, BOOT_DEVICE, true);
  dv.setUint32(mbi + 16, cmdlineAddr, true);
  dv.setUint32(mbi + 20, modules.length, true);
  dv.setUint32(mbi + 24, bufStart, true);
  dv.setUint32(mbi + 44, m - MMAP_ADDRESS, true);
  dv.setUint32(mbi + 48, MMAP_ADDRESS, true);
  dv.setUint32(mbi + 64, nameAddr, true);
  if (mbi + MBI_SIZE > BOOT_DATA_END) throw new BootError("internal: info structure overruns the boot data page");

  return {
    format,
    entry,
    infoAddress: mbi,
    kernel: pieces.map((p) => ({ start: p.start, end: p.end })),
    modules: placed,
    notes,
  };
}

/** The a.out kludge: one contiguous load from the file plus optional zeroed BSS, at the header's addresses. */
function aoutPieces(image: Uint8Array, header: MultibootHeader): { format: BootInfo["format"]; entry: number; pieces: Piece[] } {
  const a = header.aout!;
  if (a.headerAddr < a.loadAddr) {
    throw new BootError(`a.out kludge: header_addr ${hex(a.headerAddr)} is below load_addr ${hex(a.loadAddr)}`);
  }
  const fileStart = header.offset - (a.headerAddr - a.loadAddr);
  if (fileStart < 0) {
    throw new BootError(`a.out kludge: load_addr ${hex(a.loadAddr)} is ${hex(a.headerAddr - a.loadAddr)} bytes before the header, but the header sits at file offset ${hex(header.offset)}`);
  }
  let loadEnd = a.loadEndAddr;
  if (loadEnd === 0) loadEnd = a.loadAddr + (image.length - fileStart);
  if (loadEnd < a.loadAddr) throw new BootError(`a.out kludge: load_end_addr ${hex(loadEnd)} is below load_addr ${hex(a.loadAddr)}`);
  const size = loadEnd - a.loadAddr;
  if (fileStart + size > image.length) {
    throw new BootError(`kernel image is truncated: a.out kludge loads ${hex(size)} bytes from file offset ${hex(fileStart)}, but the file has only ${image.length} bytes`);
  }
  let end = loadEnd;
  if (a.bssEndAddr !== 0) {
    if (a.bssEndAddr < loadEnd) throw new BootError(`a.out kludge: bss_end_addr ${hex(a.bssEndAddr)} is below load_end_addr ${hex(loadEnd)}`);
    end = a.bssEndAddr;
  }
  return {
    format: "a.out kludge",
    entry: a.entryAddr,
    pieces: [{ what: "kernel image", start: a.loadAddr, end, bytes: image.subarray(fileStart, fileStart + size) }],
  };
}

/**
 * ELF program headers, loaded at their physical addresses. ELF64 is accepted
 * too (QEMU refuses it without the kludge); its entry must be 32-bit code below
 * 4 GiB. An entry given as a virtual address inside a segment is translated to
 * that segment's physical address, as GRUB does.
 */
function elfPieces(image: Uint8Array): { format: BootInfo["format"]; entry: number; pieces: Piece[] } {
  if (!isElf(image)) {
    throw new BootError("Multiboot header does not set the address flag (bit 16) and the kernel is not an ELF file, so there is no way to know where to load it");
  }
  const elf = parseElf(image);
  const pieces = elf.segments.map((s) => ({
    what: `ELF segment ${s.index}`,
    start: s.paddr,
    end: s.paddr + s.memSize,
    bytes: image.subarray(s.fileOffset, s.fileOffset + s.fileSize),
  }));
  let entry = elf.entry;
  const inPhys = elf.segments.some((s) => entry >= s.paddr && entry < s.paddr + s.memSize);
  if (!inPhys) {
    const seg = elf.segments.find((s) => entry >= s.vaddr && entry < s.vaddr + s.memSize);
    if (seg === undefined) throw new BootError(`ELF entry point ${hex(entry)} is not inside any loaded segment`);
    entry = seg.paddr + (entry - seg.vaddr);
  }
  if (entry >= 0x100000000) throw new BootError(`ELF entry point ${hex(entry)} is above 4 GiB; Multiboot enters the kernel in 32-bit mode`);
  return { format: elf.bits === 32 ? "ELF32" : "ELF64", entry, pieces };
}

/** Every piece must lie in usable RAM, away from the low boot data, and not overlap another. */
function checkPieces(pieces: Piece[], map: ReturnType<typeof memoryMap>, top: number): void {
  for (const p of pieces) {
    const range = `${p.what} (${hex(p.start)}-${hex(p.end)})`;
    if (p.end > top) throw new BootError(`${range} lies outside usable RAM, which ends at ${hex(top)} (use more RAM or a lower load address)`);
    const inRam = map.some((r) => r.type === E820_RAM && p.start >= r.base && p.end <= r.base + r.length);
    if (!inRam) {
      throw new BootError(`${range} is not inside usable RAM (${hex(0)}-${hex(EBDA_START)} or ${hex(HIGH_MEMORY_START)}-${hex(top)}): it touches the reserved BIOS area`);
    }
    if (p.start < BOOT_DATA_END && p.end > MMAP_ADDRESS) {
      throw new BootError(`${range} overlaps the boot information area ${hex(MMAP_ADDRESS)}-${hex(BOOT_DATA_END)}`);
    }
  }
  for (let i = 0; i < pieces.length; i++) {
    for (let j = i + 1; j < pieces.length; j++) {
      const a = pieces[i]!;
      const b = pieces[j]!;
      if (a.start < b.end && b.start < a.end) {
        throw new BootError(`${a.what} (${hex(a.start)}-${hex(a.end)}) overlaps ${b.what} (${hex(b.start)}-${hex(b.end)})`);
      }
    }
  }
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

function put64(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v % 0x100000000, true);
  dv.setUint32(off + 4, Math.floor(v / 0x100000000), true);
}
