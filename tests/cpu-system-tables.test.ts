// The system tables and transition rules without guest programs: CR0/CR3/CR4/EFER
// rules (long-mode activation and its #GP cases), the MSR table, the CPUID table
// (qemu64 identity, and every advertised instruction feature really decodes).
import { describe, expect, it } from "vitest";
import {
  Cpu, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, MODE_32, MODE_64,
} from "../src/emulator/cpu/cpu.js";
import { CPUID_FEATURES, CPUID_TABLE, cpuidLookup, cpuidOut } from "../src/emulator/cpu/cpuid.js";
import { decode, decodeInfo, DECODE_OK, type CodeSource } from "../src/emulator/cpu/decode.js";
import { CPU_FAULT } from "../src/emulator/cpu/fault.js";
import { Insn, SEG_CS, SEG_FS } from "../src/emulator/cpu/insn.js";
import { writeCr0, writeCr3, writeCr4, writeEfer } from "../src/emulator/cpu/modes.js";
import { MSR_TABLE, readMsr, writeMsr } from "../src/emulator/cpu/msr.js";
import { PhysicalMemory } from "../src/emulator/memory/phys.js";

function newCpu(): Cpu {
  return new Cpu(new PhysicalMemory(1024 * 1024));
}

/** Runs fn and expects an architectural fault with this vector (and error code, if given). */
function expectFault(cpu: Cpu, fn: () => unknown, vector: number, code?: number): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "expected a CPU fault").toBe(CPU_FAULT);
  expect(cpu.excVector).toBe(vector);
  if (code !== undefined) expect(cpu.excCode).toBe(code);
  cpu.excVector = -1;
}

/** CPU in flat 32-bit protected mode with PAE on and EFER.LME set, paging off. */
function readyForLongMode(): Cpu {
  const cpu = newCpu();
  writeCr0(cpu, cpu.cr0 | CR0_PE, 0);
  writeCr4(cpu, CR4_PAE, 0);
  writeEfer(cpu, EFER_LME, 0);
  return cpu;
}

describe("long-mode activation rules", () => {
  it("setting CR0.PG with EFER.LME and CR4.PAE activates long mode (compatibility mode until CS.L)", () => {
    const cpu = readyForLongMode();
    writeCr0(cpu, cpu.cr0 | CR0_PG, 0);
    expect(cpu.efer & EFER_LMA).toBe(EFER_LMA);
    expect(cpu.mode).toBe(MODE_32);
  });

  it("#GP(0): PG with LME but without PAE", () => {
    const cpu = readyForLongMode();
    cpu.cr4 = 0;
    expectFault(cpu, () => writeCr0(cpu, cpu.cr0 | CR0_PG, 0), 13, 0);
    expect(cpu.efer & EFER_LMA).toBe(0);
  });

  it("#GP(0): activating long mode with CS.L set", () => {
    const cpu = readyForLongMode();
    cpu.segAttr[SEG_CS] = 0xa09b;
    expectFault(cpu, () => writeCr0(cpu, cpu.cr0 | CR0_PG, 0), 13, 0);
  });

  it("#GP(0): clearing PAE in long mode, changing LME while paging, PG without PE, NW without CD, CR0[63:32]", () => {
    const cpu = readyForLongMode();
    writeCr0(cpu, cpu.cr0 | CR0_PG, 0);
    expectFault(cpu, () => writeCr4(cpu, 0, 0), 13, 0);
    expectFault(cpu, () => writeEfer(cpu, 0, 0), 13, 0);
    expectFault(cpu, () => writeCr0(cpu, CR0_PG, 0), 13, 0);
    expectFault(cpu, () => writeCr0(cpu, (cpu.cr0 & ~(1 << 30)) | (1 << 29), 0), 13, 0);
    expectFault(cpu, () => writeCr0(cpu, cpu.cr0, 1), 13, 0);
  });

  it("paging can be turned off from compatibility mode (LMA clears) but not from 64-bit code", () => {
    const cpu = readyForLongMode();
    writeCr0(cpu, cpu.cr0 | CR0_PG, 0);
    cpu.segAttr[SEG_CS] = 0xa09b;
    cpu.mode = MODE_64;
    expectFault(cpu, () => writeCr0(cpu, cpu.cr0 & ~CR0_PG, 0), 13, 0);
    cpu.segAttr[SEG_CS] = 0xc09b;
    cpu.mode = MODE_32;
    writeCr0(cpu, cpu.cr0 & ~CR0_PG, 0);
    expect(cpu.efer & EFER_LMA).toBe(0);
  });

  it("EFER: reserved bits #GP, LMA writes are ignored, NXE is writable", () => {
    const cpu = newCpu();
    expectFault(cpu, () => writeEfer(cpu, 2, 0), 13, 0);
    expectFault(cpu, () => writeEfer(cpu, 0, 1), 13, 0);
    writeEfer(cpu, EFER_LMA | EFER_NXE, 0);
    expect(cpu.efer).toBe(EFER_NXE);
  });

  it("CR4 reserved bits (VME, OSXSAVE) and CR3 physical-address bits beyond MAXPHYADDR #GP", () => {
    const cpu = readyForLongMode();
    expectFault(cpu, () => writeCr4(cpu, CR4_PAE | 1, 0), 13, 0);
    expectFault(cpu, () => writeCr4(cpu, CR4_PAE | (1 << 18), 0), 13, 0);
    writeCr0(cpu, cpu.cr0 | CR0_PG, 0);
    expectFault(cpu, () => writeCr3(cpu, 0x1000, 0x100), 13, 0);
    writeCr3(cpu, 0x1000, 0xff);
    expect(cpu.cr3).toBe(0xff00001000);
  });
});

describe("MSR table", () => {
  it("unknown MSRs raise #GP(0)", () => {
    const cpu = newCpu();
    expectFault(cpu, () => readMsr(cpu, 0x12345), 13, 0);
    expectFault(cpu, () => writeMsr(cpu, 0xc0000104, 0, 0), 13, 0);
  });

  it("defaults as QEMU presents them", () => {
    const cpu = newCpu();
    expect(readMsr(cpu, 0x1b) >>> 0).toBe(0xfee00900);
    expect([readMsr(cpu, 0x277) >>> 0, cpu.rhi >>> 0]).toEqual([0x00070406, 0x00070406]);
    expect(readMsr(cpu, 0xfe)).toBe(0x508);
    expect(readMsr(cpu, 0x1a0)).toBe(1);
  });

  it("rejects reserved memory types in PAT and MTRRs, and writes to MTRRcap", () => {
    const cpu = newCpu();
    expectFault(cpu, () => writeMsr(cpu, 0x277, 0x00070402, 0x00070406), 13, 0);
    expectFault(cpu, () => writeMsr(cpu, 0x2ff, 0x803, 0), 13, 0);
    expectFault(cpu, () => writeMsr(cpu, 0xfe, 0, 0), 13, 0);
    writeMsr(cpu, 0x277, 0x06060606, 0x00070406);
    expect(readMsr(cpu, 0x277)).toBe(0x06060606);
  });

  it("address MSRs require canonical values; FS_BASE is the FS segment base", () => {
    const cpu = newCpu();
    for (const index of [0xc0000100, 0xc0000101, 0xc0000102, 0xc0000082, 0x176]) {
      expectFault(cpu, () => writeMsr(cpu, index, 0, 0x8000), 13, 0);
    }
    writeMsr(cpu, 0xc0000100, 0x1000, 0xffff8000);
    expect([cpu.segBaseLo[SEG_FS], cpu.segBaseHi[SEG_FS]! >>> 0]).toEqual([0x1000, 0xffff8000]);
    writeMsr(cpu, 0xc0000082, 0x1234, 0xffffffff);
    expect([readMsr(cpu, 0xc0000082), cpu.rhi]).toEqual([0x1234, -1]);
  });

  it("TSC: writing sets an offset against the virtual clock; TSC_AUX[63:32] is reserved", () => {
    const cpu = newCpu();
    cpu.icount = 500;
    writeMsr(cpu, 0x10, 10000, 0);
    cpu.icount = 700;
    expect(readMsr(cpu, 0x10)).toBe(10200);
    expectFault(cpu, () => writeMsr(cpu, 0xc0000103, 0, 1), 13, 0);
  });

  it("every MSR index appears once and has a name", () => {
    const seen = new Set<number>();
    for (const row of MSR_TABLE) {
      expect(seen.has(row.index)).toBe(false);
      seen.add(row.index);
      expect(row.name).toMatch(/^[A-Z0-9_]+$/);
    }
  });
});

function cpuidString(leaves: number[]): string {
  let s = "";
  for (const l of leaves) {
    cpuidLookup(l, 0);
    for (const r of [cpuidOut.eax, cpuidOut.ebx, cpuidOut.ecx, cpuidOut.edx]) {
      for (let k = 0; k < 4; k++) s += String.fromCharCode((r >>> (8 * k)) & 0xff);
    }
  }
  return s.replace(/\0+$/, "");
}

describe("CPUID (qemu64 model)", () => {
  it("vendor, maximum leaves, signature and brand string match qemu64", () => {
    cpuidLookup(0, 0);
    expect(cpuidOut.eax).toBe(0xd);
    const vendor = [cpuidOut.ebx, cpuidOut.edx, cpuidOut.ecx].map((r) => String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24)).join("");
    expect(vendor).toBe("AuthenticAMD");
    cpuidLookup(1, 0);
    expect(cpuidOut.eax).toBe(0x00060fb1); // family 15, model 107, stepping 1
    expect(cpuidOut.ebx).toBe(0x800);
    cpuidLookup(0x80000000, 0);
    expect(cpuidOut.eax >>> 0).toBe(0x8000000a);
    expect(cpuidString([0x80000002, 0x80000003, 0x80000004])).toBe("QEMU Virtual CPU version 2.5+");
    cpuidLookup(0x80000008, 0);
    expect(cpuidOut.eax).toBe(0x3028);
  });

  it("x87 and MMX are not advertised (they raise #UD); long mode, NX, SYSCALL are", () => {
    cpuidLookup(1, 0);
    expect(cpuidOut.edx & 1).toBe(0); // FPU
    expect(cpuidOut.edx & (1 << 23)).toBe(0); // MMX
    expect(cpuidOut.edx & (1 << 25)).not.toBe(0); // SSE
    cpuidLookup(0x80000001, 0);
    expect(cpuidOut.edx & 1).toBe(0);
    expect(cpuidOut.edx & ((1 << 29) | (1 << 20) | (1 << 11))).toBe((1 << 29) | (1 << 20) | (1 << 11));
    expect(cpuidOut.ecx & (1 << 2)).toBe(0); // SVM
  });

  it("leaves beyond the maxima answer as the highest basic leaf; other subleaves of leaf 7 are zero", () => {
    cpuidLookup(0x40000000, 0);
    expect([cpuidOut.eax, cpuidOut.ebx, cpuidOut.ecx, cpuidOut.edx]).toEqual([0, 0, 0, 0]);
    cpuidLookup(7, 1);
    expect(cpuidOut.ebx).toBe(0);
    cpuidLookup(7, 0);
    expect(cpuidOut.ebx).toBe((1 << 3) | (1 << 7) | (1 << 8) | (1 << 20));
    expect(CPUID_TABLE.length).toBeGreaterThan(5);
  });

  /** One representative instruction per advertised instruction-set feature (64-bit mode). */
  const PROBES: Record<string, string[]> = {
    cmov: ["0f 40 c1"], // cmovo eax, ecx
    cx8: ["0f c7 0e"], // cmpxchg8b [rsi]
    cx16: ["48 0f c7 0e"], // cmpxchg16b [rsi]
    clflush: ["0f ae 3e"], // clflush [rsi]
    fxsr: ["0f ae 06"], // fxsave [rsi]
    sse: ["0f 58 c1", "0f ae f8"], // addps xmm0, xmm1; sfence
    sse2: ["66 0f d4 c1", "0f ae e8", "0f ae f0"], // paddq xmm0, xmm1; lfence; mfence
    pni: ["f2 0f 7c c1"], // haddps xmm0, xmm1
    ssse3: ["66 0f 38 00 c1"], // pshufb xmm0, xmm1
    sse4_1: ["66 0f 38 17 c1"], // ptest xmm0, xmm1
    sse4_2: ["66 0f 38 37 c1", "f2 0f 38 f1 c1", "66 0f 3a 63 c1 00"], // pcmpgtq xmm0, xmm1; crc32 eax, ecx; pcmpistri xmm0, xmm1, 0
    movbe: ["0f 38 f0 06"], // movbe eax, [rsi]
    popcnt: ["f3 0f b8 c1"], // popcnt eax, ecx
    bmi1: ["c4 e2 70 f2 c2"], // andn eax, ecx, edx
    bmi2: ["c4 e2 69 f7 c1"], // shlx eax, ecx, edx
    lahf_lm: ["9f"], // lahf
    abm: ["f3 0f bd c1"], // lzcnt eax, ecx
    "3dnowprefetch": ["0f 0d 0e"], // prefetchw [rsi]
    smap: ["0f 01 cb"], // stac
    syscall: ["0f 05"], // syscall
    rdtscp: ["0f 01 f9"], // rdtscp
    sep: ["0f 34"], // sysenter
    tsc: ["0f 31"], // rdtsc
    msr: ["0f 32"], // rdmsr
  };
  /** Features that are not instructions (paging, exceptions, MSRs, platform facts). */
  const NOT_INSTRUCTIONS = new Set(["de", "pse", "pae", "mce", "apic", "mtrr", "pge", "pat", "pse36", "hypervisor", "smep", "nx", "pdpe1gb", "lm"]);

  function decodes(hex: string): boolean {
    const bytes = hex.split(" ").map((h) => parseInt(h, 16));
    const src: CodeSource = { byte: (off) => bytes[off] ?? 0 };
    decode(src, MODE_64, new Insn());
    return decodeInfo.status === DECODE_OK;
  }

  it.each(CPUID_FEATURES.map((f) => f.name).filter((n) => !NOT_INSTRUCTIONS.has(n)))("advertised %s decodes", (name) => {
    const probes = PROBES[name];
    expect(probes, `no probe for feature ${name}`).toBeDefined();
    for (const p of probes!) expect(decodes(p), `${name}: ${p}`).toBe(true);
  });

  it("x87 and MMX encodings are invalid, as the clear FPU/MMX bits say", () => {
    expect(decodes("d9 e8")).toBe(false); // fld1
    expect(decodes("0f fc c1")).toBe(false); // paddb mm0, mm1
  });
});
