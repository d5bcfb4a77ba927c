// The Multiboot 1 loader: a.out-kludge and ELF placement, the information
// structure (memory map, modules, command lines), the CPU entry state, and a
// clear error for every malformed image.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/emulator/machine.js";
import { BootError } from "../src/emulator/boot/errors.js";
import { MODE_32 } from "../src/emulator/cpu/insn.js";
import { elfImage } from "./helpers/multiboot-elf.js";

const MAGIC = 0x1badb002;

interface AoutSpec {
  headerOffset?: number;
  flags?: number;
  checksum?: number;
  headerAddr?: number;
  loadAddr?: number;
  loadEnd?: number;
  bssEnd?: number;
  entry?: number;
  size?: number;
  fill?: number;
}

/** A flat image with an a.out-kludge header; by default loaded at 1 MiB with the header first. */
function aoutImage(s: AoutSpec = {}): Uint8Array {
  const off = s.headerOffset ?? 0;
  const size = s.size ?? 0x200;
  const img = new Uint8Array(size).fill(s.fill ?? 0x90);
  const dv = new DataView(img.buffer);
  const flags = s.flags ?? 0x00010003;
  const load = s.loadAddr ?? 0x100000;
  dv.setUint32(off, MAGIC, true);
  dv.setUint32(off + 4, flags, true);
  dv.setUint32(off + 8, s.checksum ?? (-(MAGIC + flags)) >>> 0, true);
  if (off + 32 <= size) {
    dv.setUint32(off + 12, s.headerAddr ?? load + off, true);
    dv.setUint32(off + 16, load, true);
    dv.setUint32(off + 20, s.loadEnd ?? 0, true);
    dv.setUint32(off + 24, s.bssEnd ?? 0, true);
    dv.setUint32(off + 28, s.entry ?? load + 0x40, true);
  }
  return img;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function cString(m: Machine, addr: number): string {
  let s = "";
  for (let a = addr; m.mem.ram[a] !== 0; a++) s += String.fromCharCode(m.mem.ram[a]!);
  return s;
}

function loadError(img: Uint8Array, ramMiB = 16, opts = {}): string {
  const m = new Machine({ ramMiB });
  try {
    m.loadMultiboot(img, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(BootError);
    return (e as Error).message;
  }
  throw new Error("image loaded without error");
}

describe("Multiboot loader", () => {
  it("loads an a.out-kludge image, zeroes its BSS and enters 32-bit protected mode as the specification says", () => {
    const m = new Machine({ ramMiB: 16 });
    m.mem.ram.fill(0xcc, 0x100200, 0x101000);
    const info = m.loadMultiboot(aoutImage({ loadEnd: 0x100180, bssEnd: 0x100800 }));
    expect(info.format).toBe("a.out kludge");
    expect(info.kernel).toEqual([{ start: 0x100000, end: 0x100800 }]);
    expect(m.mem.ram[0x100040]).toBe(0x90);
    expect(m.mem.ram[0x10017f]).toBe(0x90);
    expect(m.mem.ram[0x100180]).toBe(0);
    expect(m.mem.ram[0x1007ff]).toBe(0);
    const cpu = m.cpu;
    expect(cpu.rip).toBe(0x100040);
    expect(cpu.getReg(0, 4) >>> 0).toBe(0x2badb002);
    expect(cpu.getReg(3, 4)).toBe(info.infoAddress);
    expect(cpu.mode).toBe(MODE_32);
    expect(cpu.cr0 & 0x80000001).toBe(1); // PE on, PG off
    expect(cpu.getFlags() & 0x20200).toBe(0); // IF and VM clear
    expect(cpu.segSel[1]).toBe(0x08);
    expect(cpu.segSel[3]).toBe(0x10);
    expect(cpu.segLimit[1]).toBe(0xffffffff);
    expect(cpu.segBaseLo[2]).toBe(0);
    expect(cpu.cpl).toBe(0);
    // The loader's GDT holds a flat 32-bit code segment at 0x08 and data at 0x10.
    expect(m.mem.view.getUint32(cpu.gdtBase + 8 + 4, true)).toBe(0x00cf9b00);
    expect(m.mem.view.getUint32(cpu.gdtBase + 16 + 4, true)).toBe(0x00cf9300);
  });

  it("writes the information structure: memory, boot device, command line, modules, memory map, loader name", () => {
    const m = new Machine({ ramMiB: 128 });
    const info = m.loadMultiboot(aoutImage({ size: 0x1234 }), {
      cmdline: "kernel.bin console=ttyS0",
      modules: [{ data: text("first module"), cmdline: "one.txt a b" }, { data: new Uint8Array(5000).fill(7), cmdline: "two.bin" }],
    });
    const dv = m.mem.view;
    const mbi = info.infoAddress;
    expect(mbi).toBe(0x9500);
    expect(dv.getUint32(mbi, true)).toBe(0x24f);
    expect(dv.getUint32(mbi + 4, true)).toBe(639);
    expect(dv.getUint32(mbi + 8, true)).toBe((128 * 1024 - 1024 - 128));
    expect(dv.getUint32(mbi + 12, true)).toBe(0x8000ffff);
    expect(cString(m, dv.getUint32(mbi + 16, true))).toBe("kernel.bin console=ttyS0");
    expect(cString(m, dv.getUint32(mbi + 64, true))).toBe("capos");
    expect(dv.getUint32(mbi + 20, true)).toBe(2);
    const mods = dv.getUint32(mbi + 24, true);
    expect(mods).toBe(0x102000); // the page after the kernel
    const modules = [0, 1].map((k) => ({
      start: dv.getUint32(mods + 16 * k, true),
      end: dv.getUint32(mods + 16 * k + 4, true),
      string: cString(m, dv.getUint32(mods + 16 * k + 8, true)),
    }));
    expect(modules[0]).toEqual({ start: 0x103000, end: 0x103000 + 12, string: "one.txt a b" });
    expect(modules[1]).toEqual({ start: 0x104000, end: 0x104000 + 5000, string: "two.bin" });
    expect(new TextDecoder().decode(m.mem.ram.subarray(0x103000, 0x10300c))).toBe("first module");
    expect(info.modules.map((x) => x.cmdline)).toEqual(["one.txt a b", "two.bin"]);
    // The memory map as QEMU's pc machine reports it for 128 MiB.
    const mmapLen = dv.getUint32(mbi + 44, true);
    const mmapAddr = dv.getUint32(mbi + 48, true);
    const entries: [number, number, number][] = [];
    for (let e = mmapAddr; e < mmapAddr + mmapLen; e += dv.getUint32(e, true) + 4) {
      const u64 = (o: number): number => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 0x100000000;
      entries.push([u64(e + 4), u64(e + 12), dv.getUint32(e + 20, true)]);
    }
    expect(entries).toEqual([
      [0, 0x9fc00, 1],
      [0x9fc00, 0x400, 2],
      [0xf0000, 0x10000, 2],
      [0x100000, 0x7ee0000, 1],
      [0x7fe0000, 0x20000, 2],
      [0xfffc0000, 0x40000, 2],
      [0xfd00000000, 0x300000000, 2],
    ]);
  });

  it("honours a header that is not at the start of the file", () => {
    const m = new Machine({ ramMiB: 16 });
    const img = aoutImage({ headerOffset: 0x100, headerAddr: 0x200100, loadAddr: 0x200000, entry: 0x200000, size: 0x300 });
    img[0] = 0xf4;
    const info = m.loadMultiboot(img);
    expect(info.kernel).toEqual([{ start: 0x200000, end: 0x200300 }]);
    expect(m.mem.ram[0x200000]).toBe(0xf4);
  });

  it("loads ELF32 program headers at their physical addresses and translates a virtual entry point", () => {
    const m = new Machine({ ramMiB: 16 });
    const img = elfImage({
      bits: 32,
      entry: 0xc0100004,
      segments: [
        { paddr: 0x100000, vaddr: 0xc0100000, data: text("code segment") },
        { paddr: 0x200000, vaddr: 0xc0200000, data: text("data"), memSize: 0x2000 },
      ],
    });
    m.mem.ram.fill(0xee, 0x200000, 0x202000);
    const info = m.loadMultiboot(img);
    expect(info.format).toBe("ELF32");
    expect(info.entry).toBe(0x100004);
    expect(m.cpu.rip).toBe(0x100004);
    expect(new TextDecoder().decode(m.mem.ram.subarray(0x100000, 0x10000c))).toBe("code segment");
    expect(m.mem.ram[0x200004]).toBe(0);
    expect(m.mem.ram[0x201fff]).toBe(0);
    expect(info.kernel).toEqual([{ start: 0x100000, end: 0x10000c }, { start: 0x200000, end: 0x202000 }]);
  });

  it("accepts ELF64 kernels whose entry is 32-bit code below 4 GiB", () => {
    const m = new Machine({ ramMiB: 16 });
    const info = m.loadMultiboot(elfImage({ bits: 64, entry: 0x100000, segments: [{ paddr: 0x100000, vaddr: 0xffffffff80100000, data: text("x") }] }));
    expect(info.format).toBe("ELF64");
    expect(info.entry).toBe(0x100000);
  });

  it("passes the video-mode request through with a note instead of refusing, as QEMU does", () => {
    const m = new Machine({ ramMiB: 16 });
    const info = m.loadMultiboot(aoutImage({ flags: 0x00010007 }));
    expect(info.notes.join(" ")).toContain("video");
  });

  it.each([
    ["no header", new Uint8Array(0x3000), /no Multiboot header/],
    ["header beyond 8 KiB", (() => { const a = new Uint8Array(0x3000); a.set(aoutImage().subarray(0, 32), 0x2000); return a; })(), /no Multiboot header/],
    ["bad checksum", aoutImage({ checksum: 0x12345678 }), /bad checksum/],
    ["required feature bit", aoutImage({ flags: 0x00010008 }), /feature bit 3/],
    ["tiny file", new Uint8Array(8), /truncated/],
    ["address fields cut off", aoutImage({ size: 20 }), /file ends before its address fields/],
    ["load_end past the file", aoutImage({ loadEnd: 0x100400 }), /truncated: a.out kludge loads 0x400 bytes/],
    ["header_addr below load_addr", aoutImage({ headerAddr: 0xff000 }), /header_addr 0xff000 is below load_addr/],
    ["load_addr before the file start", aoutImage({ headerAddr: 0x100100 }), /bytes before the header/],
    ["bss_end below load_end", aoutImage({ loadEnd: 0x100100, bssEnd: 0x100080 }), /bss_end_addr 0x100080 is below load_end_addr/],
    ["outside RAM", aoutImage({ loadAddr: 0x2000000 }), /lies outside usable RAM/],
    ["into the reserved BIOS area", aoutImage({ loadAddr: 0xa0000 }), /not inside usable RAM/],
    ["over the boot information", aoutImage({ loadAddr: 0x9000 }), /overlaps the boot information area/],
    ["entry outside RAM", aoutImage({ entry: 0x40000000 }), /entry point 0x40000000 lies outside usable RAM/],
    ["not ELF without address flag", aoutImage({ flags: 0x3 }), /not an ELF file/],
    ["overlapping ELF segments", elfImage({ bits: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: new Uint8Array(0x100) }, { paddr: 0x100080, data: new Uint8Array(16) }] }), /overlaps ELF segment/],
    ["ELF entry in no segment", elfImage({ bits: 32, entry: 0x500000, segments: [{ paddr: 0x100000, data: new Uint8Array(16) }] }), /not inside any loaded segment/],
    ["ELF64 entry above 4 GiB", elfImage({ bits: 64, entry: 0x100000000, segments: [{ paddr: 0x100000000, data: new Uint8Array(16) }] }), /above 4 GiB/],
    ["ELF segment past the end of the file", (() => { const a = elfImage({ bits: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: new Uint8Array(64) }] }); return a.subarray(0, 0x1010); })(), /run past the end of the 4112-byte file/],
  ])("refuses %s with a clear error", (_name, img, message) => {
    expect(loadError(img)).toMatch(message);
  });

  it("refuses a module that does not fit in RAM", () => {
    expect(loadError(aoutImage(), 4, { modules: [{ data: new Uint8Array(4 * 1024 * 1024), cmdline: "big.bin" }] })).toMatch(/module 0 \("big.bin", 4194304 bytes\) does not fit in RAM/);
  });
});
