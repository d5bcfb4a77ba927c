// BOUND (#BR) and alignment checking (#AC): exceptions single vectors cannot
// reach (BOUND exists only outside 64-bit mode; #AC needs CPL 3, CR0.AM and RFLAGS.AC).
import { describe, expect, it } from "vitest";
import { Cpu, CR0_AM, CR0_PE } from "../src/emulator/cpu/cpu.js";
import { CPU_FAULT, EXC_AC, EXC_BR } from "../src/emulator/cpu/fault.js";
import { AC } from "../src/emulator/cpu/flags.js";
import { MODE_32 } from "../src/emulator/cpu/insn.js";
import { PhysicalMemory } from "../src/emulator/memory/phys.js";
import { createLongModeTestbed } from "../src/emulator/testbed.js";
import { assemble } from "../src/toolchain/x64/index.js";

describe("BOUND", () => {
  function run(index: number, lower: number, upper: number, wide = true): { vector: number; rip: number } {
    const mem = new PhysicalMemory(2 * 1024 * 1024);
    const cpu = new Cpu(mem);
    cpu.cr0 = CR0_PE;
    cpu.mode = MODE_32;
    const code = assemble(wide ? "bound eax, qword ptr [ebx]\nnop" : "bound ax, dword ptr [ebx]\nnop", { bits: 32, origin: 0x1000 }).bytes;
    mem.ram.set(code, 0x1000);
    if (wide) {
      mem.view.setInt32(0x2000, lower, true);
      mem.view.setInt32(0x2004, upper, true);
    } else {
      mem.view.setInt16(0x2000, lower, true);
      mem.view.setInt16(0x2002, upper, true);
    }
    cpu.r[0] = index;
    cpu.r[3 * 2] = 0x2000;
    cpu.rip = 0x1000;
    let vector = -1;
    cpu.exceptionHook = (v) => { vector = v; return true; };
    cpu.step();
    return { vector, rip: cpu.rip };
  }

  it("passes an index inside the signed bounds (inclusive)", () => {
    expect(run(5, -3, 5)).toEqual({ vector: -1, rip: 0x1002 });
    expect(run(-3, -3, 5)).toEqual({ vector: -1, rip: 0x1002 });
  });

  it("raises #BR as a fault (RIP at BOUND) outside them", () => {
    expect(run(6, -3, 5)).toEqual({ vector: EXC_BR, rip: 0x1000 });
    expect(run(-4, -3, 5)).toEqual({ vector: EXC_BR, rip: 0x1000 });
  });

  it("compares 16-bit indexes and bounds as signed words", () => {
    expect(run(0xffff, -1, 1, false)).toEqual({ vector: -1, rip: 0x1003 }); // ax = -1
    expect(run(0x0002, -1, 1, false)).toEqual({ vector: EXC_BR, rip: 0x1000 });
  });
});

describe("alignment checking", () => {
  function setup() {
    const { mem, cpu } = createLongModeTestbed(8);
    // Make the first 8 MiB user-accessible (the testbed maps them supervisor-only):
    // U/S at every level (PML4 0x1000, PDPT 0x2000, PD 0x3000).
    mem.view.setUint32(0x1000, 0x2000 | 7, true);
    mem.view.setUint32(0x2000, 0x3000 | 7, true);
    for (let i = 0; i < 4; i++) mem.view.setUint32(0x3000 + i * 8, (i * 0x200000) | 0x87, true);
    cpu.flushTlb(true);
    return { mem, cpu };
  }

  function faultOf(cpu: Cpu, fn: () => unknown): number {
    try {
      fn();
      return -1;
    } catch (e) {
      if (e !== CPU_FAULT) throw e;
      return cpu.excVector;
    }
  }

  it("raises #AC(0) for misaligned user data accesses with CR0.AM and RFLAGS.AC", () => {
    const { cpu } = setup();
    cpu.cr0 |= CR0_AM;
    cpu.cpl = 3;
    cpu.setFlags(cpu.getFlags() | AC);
    expect(cpu.alignCheck).toBe(true);
    expect(faultOf(cpu, () => cpu.read32(0x400001, 0))).toBe(EXC_AC);
    expect(cpu.excCode).toBe(0);
    expect(faultOf(cpu, () => cpu.write16(0x400003, 0, 1))).toBe(EXC_AC);
    expect(faultOf(cpu, () => cpu.read64(0x400004, 0))).toBe(EXC_AC); // 4-aligned is not 8-aligned
    expect(faultOf(cpu, () => cpu.read64(0x400008, 0))).toBe(-1);
    expect(faultOf(cpu, () => cpu.read8(0x400001, 0))).toBe(-1); // bytes are always aligned
    cpu.write32(0x400010, 0, 0x1234);
    expect(cpu.read32(0x400010, 0)).toBe(0x1234);
  });

  it("does not check at CPL 0, without CR0.AM, or without RFLAGS.AC", () => {
    const { cpu } = setup();
    cpu.cr0 |= CR0_AM;
    cpu.setFlags(cpu.getFlags() | AC);
    cpu.updateAccessRights(); // CPL 0
    expect(faultOf(cpu, () => cpu.read32(0x400001, 0))).toBe(-1);
    cpu.cpl = 3;
    cpu.setFlags(cpu.getFlags() & ~AC);
    expect(cpu.alignCheck).toBe(false);
    expect(faultOf(cpu, () => cpu.read32(0x400001, 0))).toBe(-1);
    cpu.cr0 &= ~CR0_AM;
    cpu.setFlags(cpu.getFlags() | AC);
    expect(faultOf(cpu, () => cpu.read32(0x400001, 0))).toBe(-1);
  });
});
