// The physical frame allocator (kernel/mem/frames.ts) running as wasm, built
// from synthetic Multiboot 1 information structures laid out in guest memory
// (guest addresses stand in for physical ones). Checked against a host-side
// model: which frames are free after the exclusions, allocation and free
// rules, double-free and foreign-frame detection, contiguous runs, and
// malformed boot information.
import { beforeEach, describe, expect, it } from "vitest";
import { loadKernelLogic, type KernelLogic } from "./helpers/kernel-asc.js";

const MiB = 0x10_0000;
const PAGE = 4096;

interface MapEntry {
  base: bigint;
  length: bigint;
  type: number;
}

// What QEMU's pc machine with 128 MiB reports, plus RAM above 4 GiB (ignored: kernel pointers are 32-bit).
const QEMU_128M: MapEntry[] = [
  { base: 0n, length: 0x9fc00n, type: 1 },
  { base: 0x9fc00n, length: 0x400n, type: 2 },
  { base: 0xf0000n, length: 0x10000n, type: 2 },
  { base: 0x100000n, length: 0x7ee0000n, type: 1 },
  { base: 0x7fe0000n, length: 0x20000n, type: 2 },
  { base: 0xfffc0000n, length: 0x40000n, type: 2 },
  { base: 0x1_0000_0000n, length: 0x4000_0000n, type: 1 },
  { base: 0xfd_0000_0000n, length: 0x3_0000_0000n, type: 2 },
];

interface Boot {
  info: number;
  map: MapEntry[];
  /** Every reserved byte range the allocator must honour (what the model excludes). */
  reserved: [number, number][];
}

const FLAG_MEMORY = 1 << 0;
const FLAG_CMDLINE = 1 << 2;
const FLAG_MODS = 1 << 3;
const FLAG_MMAP = 1 << 6;
const FLAG_LOADER_NAME = 1 << 9;

let k: KernelLogic;
let state: number;
let arena: number;

const call = (name: string, ...args: unknown[]): number => Number(k.fn(name)(...args));

beforeEach(async () => {
  k = await loadKernelLogic();
  state = k.alloc(Number(k.constant("FRAME_ALLOCATOR_BYTES")), 8);
  // 4 MiB of guest memory at a 1 MiB boundary: boot structures placed here lie above low memory.
  arena = k.alloc(4 * MiB, MiB);
  expect(arena).toBeGreaterThanOrEqual(MiB);
});

function putString(at: number, text: string): number {
  const bytes = new TextEncoder().encode(text);
  k.bytes.set(bytes, at);
  k.setU8(at + bytes.length, 0);
  return bytes.length + 1;
}

/** Writes a Multiboot information structure with a memory map, two modules, a command line and a loader name. */
function writeBoot(map: MapEntry[], entrySize = 20): Boot {
  const info = arena + 0x1000;
  const mmap = arena + 0x2000;
  const mods = arena + 0x3000;
  const strings = arena + 0x3800;
  k.bytes.fill(0, info, info + 120);
  let p = mmap;
  for (const e of map) {
    k.setU32(p, entrySize);
    k.setU64(p + 4, e.base);
    k.setU64(p + 12, e.length);
    k.setU32(p + 20, e.type);
    p += entrySize + 4;
  }
  const cmdline = strings;
  const cmdlineBytes = putString(cmdline, "console=com1 loglevel=debug");
  const loader = strings + 0x100;
  const loaderBytes = putString(loader, "capos");
  const mod0Name = strings + 0x200;
  const mod0NameBytes = putString(mod0Name, "manifest.bin");
  const modules: [number, number][] = [
    [0x0200_0000, 0x0201_2345],
    [0x0220_0000, 0x0220_0001],
  ];
  modules.forEach(([start, end], i) => {
    k.setU32(mods + i * 16, start);
    k.setU32(mods + i * 16 + 4, end);
    k.setU32(mods + i * 16 + 8, i === 0 ? mod0Name : 0);
    k.setU32(mods + i * 16 + 12, 0);
  });
  k.setU32(info, FLAG_MEMORY | FLAG_CMDLINE | FLAG_MODS | FLAG_MMAP | FLAG_LOADER_NAME);
  k.setU32(info + 4, 639);
  k.setU32(info + 8, 130048);
  k.setU32(info + 16, cmdline);
  k.setU32(info + 20, modules.length);
  k.setU32(info + 24, mods);
  k.setU32(info + 44, p - mmap);
  k.setU32(info + 48, mmap);
  k.setU32(info + 64, loader);
  const reserved: [number, number][] = [
    [info, info + 120],
    [mmap, p],
    [mods, mods + 32],
    [cmdline, cmdline + cmdlineBytes],
    [loader, loader + loaderBytes],
    [mod0Name, mod0Name + mod0NameBytes],
    ...modules,
  ];
  return { info, map, reserved };
}

const KERNEL_IMAGE: [number, number] = [0x0300_0000, 0x0308_0000];

/** The frames a correct allocator leaves free: usable pages in [1 MiB, 4 GiB) not touched by any reserved range. */
function modelFree(map: MapEntry[], reserved: [number, number][]): Set<number> {
  const free = new Set<number>();
  for (const e of map) {
    if (e.type !== 1) continue;
    const start = Math.max(Number(e.base), MiB);
    const end = Math.min(Number(e.base + e.length), 2 ** 32);
    for (let a = Math.ceil(start / PAGE) * PAGE; a + PAGE <= end; a += PAGE) free.add(a);
  }
  const notUsable = map.filter((e) => e.type !== 1).map((e): [number, number] => [Number(e.base), Number(e.base + e.length)]);
  for (const [s, e] of [...reserved, ...notUsable]) {
    for (let a = Math.floor(s / PAGE) * PAGE; a < e; a += PAGE) free.delete(a);
  }
  return free;
}

/** Builds the allocator the way the kernel will: Multiboot, kernel image, bitmap at the first free place. */
function build(boot: Boot): { bitmap: number; bitmapBytes: number } {
  expect(call("framesFromMultiboot", state, boot.info)).toBe(0);
  expect(call("framesReserve", state, BigInt(KERNEL_IMAGE[0]), BigInt(KERNEL_IMAGE[1] - KERNEL_IMAGE[0]))).toBe(0);
  const bitmapBytes = call("framesBitmapBytes", state);
  const bitmap = call("framesFindFree", state, bitmapBytes);
  // Guest memory plays physical memory: the bitmap must land in the arena's unused space.
  expect(bitmap >= arena && bitmap + bitmapBytes <= arena + 4 * MiB, "bitmap inside the test arena").toBe(true);
  expect(call("framesInit", state, bitmap, bitmapBytes)).toBe(0);
  return { bitmap, bitmapBytes };
}

describe("building from a Multiboot memory map", () => {
  it("frees exactly the usable frames minus low memory, boot data, modules, kernel and bitmap", () => {
    const boot = writeBoot(QEMU_128M);
    const { bitmap, bitmapBytes } = build(boot);
    // One bit per frame below the top of usable RAM (0x7FE0000), in whole words.
    expect(bitmapBytes).toBe(Math.ceil(0x7fe0 / 64) * 8);
    const expected = modelFree(QEMU_128M, [...boot.reserved, KERNEL_IMAGE, [bitmap, bitmap + bitmapBytes]]);
    expect(call("framesTotalCount", state)).toBe(expected.size);
    expect(call("framesFreeCount", state)).toBe(expected.size);
    const isUsed = k.fn("framesIsUsed");
    const wrong: string[] = [];
    for (let a = 0; a < 0x0800_0000; a += PAGE) {
      if ((isUsed(state, BigInt(a)) === 0) !== expected.has(a)) wrong.push(`0x${a.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it("places the bitmap at the lowest free page above 1 MiB and excludes it", () => {
    const boot = writeBoot(QEMU_128M);
    const { bitmap, bitmapBytes } = build(boot);
    expect(bitmap % PAGE).toBe(0);
    expect(bitmap).toBeGreaterThanOrEqual(MiB);
    const taken = modelFree(QEMU_128M, [...boot.reserved, KERNEL_IMAGE]);
    const lowest = Math.min(...taken);
    expect(bitmap).toBe(lowest);
    expect(k.fn("framesIsUsed")(state, BigInt(bitmap))).toBe(1);
    expect(call("framesFree", state, BigInt(bitmap))).toBe(Number(k.constant("FRAMES_ERR_NOT_MANAGED")));
    expect(bitmapBytes).toBeGreaterThan(0);
  });

  it("skips past reserved ranges when looking for room", () => {
    const boot = writeBoot(QEMU_128M);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(0);
    // Reserve everything from 1 MiB up to 40 MiB except one 8 KiB hole at 20 MiB.
    call("framesReserve", state, BigInt(MiB), BigInt(19 * MiB));
    call("framesReserve", state, BigInt(20 * MiB + 0x2000), BigInt(20 * MiB - 0x2000));
    expect(call("framesFindFree", state, 0x2000)).toBe(20 * MiB);
    expect(call("framesFindFree", state, 0x2001)).toBe(40 * MiB);
    expect(call("framesFindFree", state, 0x10_0000_00)).toBe(0); // 256 MiB: no room anywhere
  });

  it("lets reserved map entries win over overlapping usable ones", () => {
    const map: MapEntry[] = [
      { base: 0x100000n, length: 0x1000000n, type: 1 },
      { base: 0x800000n, length: 0x10000n, type: 2 },
      { base: 0x900000n, length: 0x10000n, type: 1 }, // duplicate usable: harmless
    ];
    const boot = writeBoot(map);
    const { bitmap, bitmapBytes } = build(boot);
    const expected = modelFree(map, [...boot.reserved, KERNEL_IMAGE, [bitmap, bitmap + bitmapBytes]]);
    expect(call("framesTotalCount", state)).toBe(expected.size);
    expect(k.fn("framesIsUsed")(state, 0x800000n)).toBe(1);
    expect(k.fn("framesIsUsed")(state, 0x80f000n)).toBe(1);
    expect(k.fn("framesIsUsed")(state, 0x810000n)).toBe(0);
  });

  it("accepts memory-map entries larger than 20 bytes", () => {
    const boot = writeBoot(QEMU_128M, 28);
    const { bitmap, bitmapBytes } = build(boot);
    expect(call("framesTotalCount", state)).toBe(modelFree(QEMU_128M, [...boot.reserved, KERNEL_IMAGE, [bitmap, bitmap + bitmapBytes]]).size);
  });

  it("falls back to the basic upper-memory size without a memory map", () => {
    const boot = writeBoot(QEMU_128M);
    k.setU32(boot.info, FLAG_MEMORY);
    k.setU32(boot.info + 8, 31 * 1024); // 31 MiB above 1 MiB
    expect(call("framesFromMultiboot", state, boot.info)).toBe(0);
    const bytes = call("framesBitmapBytes", state);
    expect(bytes).toBe((32 * MiB) / PAGE / 8);
    const bitmap = k.alloc(bytes, 8);
    expect(call("framesInit", state, bitmap, bytes)).toBe(0);
    const reserved: [number, number][] = [[boot.info, boot.info + 120], [bitmap, bitmap + bytes]];
    expect(call("framesTotalCount", state)).toBe(modelFree([{ base: BigInt(MiB), length: BigInt(31 * MiB), type: 1 }], reserved).size);
  });
});

describe("malformed boot information", () => {
  const ERR_BAD = -2;
  const ERR_NO_MAP = -3;
  const ERR_TOO_MANY = -1;

  it("needs a memory map or basic memory sizes", () => {
    const boot = writeBoot(QEMU_128M);
    k.setU32(boot.info, FLAG_CMDLINE);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(ERR_NO_MAP);
  });

  it("rejects a map entry too small to hold base, length and type", () => {
    const boot = writeBoot(QEMU_128M, 16);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(ERR_BAD);
  });

  it("rejects a map whose last entry runs past the map length", () => {
    const boot = writeBoot(QEMU_128M);
    k.setU32(boot.info + 44, k.u32(boot.info + 44) - 4);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(ERR_BAD);
  });

  it("rejects a module that ends before it starts", () => {
    const boot = writeBoot(QEMU_128M);
    const mods = k.u32(boot.info + 24);
    k.setU32(mods + 4, k.u32(mods) - 1);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(ERR_BAD);
  });

  it("rejects more ranges than it has room for, instead of dropping some", () => {
    const map: MapEntry[] = Array.from({ length: 33 }, (_, i) => ({ base: BigInt(MiB * (2 + 2 * i)), length: BigInt(MiB), type: 1 }));
    const boot = writeBoot(map);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(ERR_TOO_MANY);
  });

  it("bounds a command line that never ends", () => {
    const boot = writeBoot(QEMU_128M);
    const cmdline = k.u32(boot.info + 16);
    k.bytes.fill(0x41, cmdline, cmdline + 8192);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(0);
  });
});

describe("allocating and freeing", () => {
  let free: Set<number>;

  beforeEach(() => {
    // A small machine: 1 MiB .. 3 MiB usable, so the whole pool can be exhausted quickly.
    const map: MapEntry[] = [
      { base: 0n, length: 0x9fc00n, type: 1 },
      { base: 0x100000n, length: 0x200000n, type: 1 },
    ];
    const boot = writeBoot(map);
    // The boot structures of this test live at `arena`, which may sit inside 1..3 MiB; that is fine.
    const { bitmap, bitmapBytes } = build(boot);
    free = modelFree(map, [...boot.reserved, KERNEL_IMAGE, [bitmap, bitmap + bitmapBytes]]);
    expect(free.size).toBeGreaterThan(100);
  });

  it("hands out each free frame exactly once, then 0", () => {
    const seen = new Set<number>();
    for (let i = 0; i < free.size; i++) {
      const a = call("framesAlloc", state);
      expect(free.has(a), `0x${a.toString(16)} was free`).toBe(true);
      expect(seen.has(a)).toBe(false);
      seen.add(a);
    }
    expect(call("framesFreeCount", state)).toBe(0);
    expect(call("framesAlloc", state)).toBe(0);
    expect(call("framesAllocContiguous", state, 1)).toBe(0);
  });

  it("returns freed frames to the pool and detects double frees", () => {
    const a = call("framesAlloc", state);
    const b = call("framesAlloc", state);
    const before = call("framesFreeCount", state);
    expect(call("framesFree", state, BigInt(a))).toBe(0);
    expect(call("framesFreeCount", state)).toBe(before + 1);
    expect(call("framesFree", state, BigInt(a))).toBe(Number(k.constant("FRAMES_ERR_DOUBLE_FREE")));
    expect(call("framesFreeCount", state)).toBe(before + 1);
    expect(call("framesFree", state, BigInt(b))).toBe(0);
    // Every frame, including the two returned, can be allocated again.
    const seen = new Set<number>();
    for (let i = 0; i < free.size; i++) seen.add(call("framesAlloc", state));
    expect(seen).toEqual(free);
  });

  it("refuses to free what it never owned", () => {
    const NOT_MANAGED = Number(k.constant("FRAMES_ERR_NOT_MANAGED"));
    const UNALIGNED = Number(k.constant("FRAMES_ERR_UNALIGNED"));
    const a = call("framesAlloc", state);
    expect(call("framesFree", state, BigInt(a + 8))).toBe(UNALIGNED);
    expect(call("framesFree", state, 0x1000n)).toBe(NOT_MANAGED); // low memory
    expect(call("framesFree", state, 0x0n)).toBe(NOT_MANAGED);
    expect(call("framesFree", state, 0x0080_0000n)).toBe(NOT_MANAGED); // beyond the map
    expect(call("framesFree", state, 0x1_0000_0000n)).toBe(NOT_MANAGED);
    expect(call("framesFree", state, 0xffff_ffff_ffff_f000n)).toBe(NOT_MANAGED);
    const reservedUsable = [...Array(512).keys()].map((i) => MiB + i * PAGE).find((p) => p < 3 * MiB && !free.has(p));
    if (reservedUsable !== undefined) expect(call("framesFree", state, BigInt(reservedUsable))).toBe(NOT_MANAGED);
    expect(call("framesFreeCount", state)).toBe(free.size - 1);
  });

  it("finds contiguous runs first-fit and never splits one", () => {
    const total = call("framesFreeCount", state);
    const run = call("framesAllocContiguous", state, 16);
    expect(run).not.toBe(0);
    for (let i = 0; i < 16; i++) {
      expect(free.has(run + i * PAGE)).toBe(true);
      expect(k.fn("framesIsUsed")(state, BigInt(run + i * PAGE))).toBe(1);
    }
    expect(call("framesFreeCount", state)).toBe(total - 16);
    // Fragment the pool: free every other frame of the run; a run of 2 cannot come from there.
    for (let i = 0; i < 16; i += 2) expect(call("framesFree", state, BigInt(run + i * PAGE))).toBe(0);
    const pair = call("framesAllocContiguous", state, 2);
    expect(pair).not.toBe(0);
    expect(pair >= run && pair < run + 16 * PAGE).toBe(false);
    expect(free.has(pair) && free.has(pair + PAGE)).toBe(true);
    expect(call("framesAllocContiguous", state, 0)).toBe(0);
    expect(call("framesAllocContiguous", state, total + 1)).toBe(0);
  });

  it("cannot be rebuilt or extended once running", () => {
    const STATE = Number(k.constant("FRAMES_ERR_STATE"));
    expect(call("framesAddUsable", state, 0x400000n, 0x100000n)).toBe(STATE);
    expect(call("framesReserve", state, 0x200000n, 0x1000n)).toBe(STATE);
    expect(call("framesInit", state, k.alloc(4096, 8), 4096)).toBe(STATE);
  });
});

describe("bitmap memory checks", () => {
  it("rejects a bitmap that is too small or misaligned", () => {
    const boot = writeBoot(QEMU_128M);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(0);
    const bytes = call("framesBitmapBytes", state);
    const at = k.alloc(bytes + 8, 8);
    const BAD = Number(k.constant("FRAMES_ERR_BAD_BITMAP"));
    expect(call("framesInit", state, at, bytes - 8)).toBe(BAD);
    expect(call("framesInit", state, at + 4, bytes)).toBe(BAD);
    expect(call("framesAlloc", state)).toBe(0); // not built
    expect(call("framesInit", state, at, bytes)).toBe(0);
    expect(call("framesAlloc", state)).not.toBe(0);
  });

  it("writes only its own bitmap bytes", () => {
    const boot = writeBoot(QEMU_128M);
    expect(call("framesFromMultiboot", state, boot.info)).toBe(0);
    const bytes = call("framesBitmapBytes", state);
    const at = k.alloc(bytes + 64, 8);
    k.bytes.fill(0x77, at + bytes, at + bytes + 64);
    expect(call("framesInit", state, at, bytes)).toBe(0);
    while (call("framesAlloc", state) !== 0);
    expect([...k.bytes.slice(at + bytes, at + bytes + 64)].every((b) => b === 0x77)).toBe(true);
  });
});
