// SSE behaviour the shared vectors do not pin down: availability checks (CR0.EM,
// CR0.TS, CR4.OSFXSR), the prefix rule and unimplemented MMX forms (#UD),
// alignment, unmasked SIMD exceptions (#XM / #UD by CR4.OSXMMEXCPT, destination
// unchanged), fault atomicity of 16-byte stores, LDMXCSR/STMXCSR, FXSAVE/FXRSTOR,
// MASKMOVDQU, and the memory forms of the SSSE3/SSE4.1 additions.
import { describe, expect, it } from "vitest";
import { ConformanceRunner, GPR_NAMES, type Vector, type VectorState } from "../src/emulator/cpu/conformance.js";
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT } from "../src/emulator/cpu/cpu.js";

const runner = new ConformanceRunner();
const DATA = 0x50000000;

/** Lanes (dwords, lane 0 first) as an xmm value in memory byte order. */
function x(...dwords: number[]): string {
  let s = "";
  for (let k = 0; k < 4; k++) {
    const d = (dwords[k] ?? 0) >>> 0;
    for (let b = 0; b < 4; b++) s += ((d >>> (8 * b)) & 0xff).toString(16).padStart(2, "0");
  }
  return s;
}

function bytesHex(bytes: number[]): string {
  return bytes.map((b) => (b & 0xff).toString(16).padStart(2, "0")).join("");
}

interface Case {
  code: string;
  init?: Record<string, string>;
  /** Data-page window: address and initial bytes (hex). */
  mem?: { addr: number; hex: string };
  expect?: Record<string, string>;
  expectMem?: string;
  exception?: string;
}

/** Runs one instruction; returns the differences from the expected state. */
function run(c: Case): string[] {
  const init: VectorState = {};
  for (const g of GPR_NAMES) init[g] = "0x0";
  init.rsp = "0x50000f00";
  init.rflags = "0x202";
  init.mxcsr = "0x1f80";
  for (let k = 0; k < 16; k++) init[`xmm${k}`] = x();
  Object.assign(init, c.init ?? {});
  const mem = c.mem ? { addr: "0x" + c.mem.addr.toString(16), hex: c.mem.hex } : undefined;
  const v: Vector = { id: c.code, asm: c.code, code: c.code, rip: "0x40000000", init, flagsMask: "0xcd5" };
  if (mem) v.mem = mem;
  if (c.exception !== undefined) v.exception = c.exception;
  else {
    const exp: VectorState = { ...init, ...(c.expect ?? {}) };
    exp.rip = "0x" + (0x40000000 + c.code.length / 2).toString(16);
    if (mem) exp.mem = { addr: mem.addr, hex: c.expectMem ?? mem.hex };
    v.expect = exp;
  }
  return runner.run(v).diffs;
}

/** Runs with CR0/CR4 changed for one instruction. */
function withControl(cr0Set: number, cr4Clear: number, c: Case): string[] {
  const cpu = runner.cpu;
  const cr0 = cpu.cr0;
  const cr4 = cpu.cr4;
  cpu.cr0 |= cr0Set;
  cpu.cr4 &= ~cr4Clear;
  try {
    return run(c);
  } finally {
    cpu.cr0 = cr0;
    cpu.cr4 = cr4;
  }
}

const ONE = 0x3f800000;
const TWO = 0x40000000;

describe("SSE availability", () => {
  const addps = { code: "0f58c1" };
  it("CR0.EM=1 or CR4.OSFXSR=0 make SSE instructions #UD", () => {
    expect(withControl(CR0_EM, 0, { ...addps, exception: "UD" })).toEqual([]);
    expect(withControl(0, CR4_OSFXSR, { ...addps, exception: "UD" })).toEqual([]);
    expect(withControl(0, CR4_OSFXSR, { code: "0fae1c2500020050", exception: "UD" })).toEqual([]); // stmxcsr
  });
  it("CR0.TS=1 raises #NM, also for FXSAVE, which reports CR0.EM as #NM too", () => {
    expect(withControl(CR0_TS, 0, { ...addps, exception: "NM" })).toEqual([]);
    expect(withControl(CR0_TS, 0, { code: "0fae042500020050", exception: "NM" })).toEqual([]);
    expect(withControl(CR0_EM, 0, { code: "0fae042500020050", exception: "NM" })).toEqual([]);
  });
});

describe("SSE encodings", () => {
  it("a 66/F2/F3 prefix that selects no form is #UD", () => {
    for (const code of ["f30f28c1", "f20f54c1", "660f12c1", "f3660f3a0fc101", "f2660f3817c1", "660fae1c2500020050"]) {
      expect(run({ code, exception: "UD" }), code).toEqual([]);
    }
  });
  it("66 is ignored beside a mandatory F2/F3, and the last F2/F3 wins", () => {
    expect(run({
      code: "f3660f70c11b", // pshufhw xmm0, xmm1, 0x1b
      init: { xmm1: x(1, 2, 0x00040003, 0x00020001) },
      expect: { xmm0: x(1, 2, 0x00010002, 0x00030004) },
    })).toEqual([]);
    expect(run({
      code: "f3f20f58c1", // addsd xmm0, xmm1
      init: { xmm0: x(0, 0x3ff00000, 5, 6), xmm1: x(0, 0x3ff00000, 7, 8) },
      expect: { xmm0: x(0, 0x40000000, 5, 6) },
    })).toEqual([]);
  });
  it("MMX-register forms are not implemented and raise #UD", () => {
    for (const code of ["0ffcc1", "0f3800c1", "0f70c100", "0f2ac1", "0f2dc1", "0fd7c1", "0f6ec0", "0f7ec0", "0f6fc1", "0fc5c100", "0f3a0fc101", "f30fd6c1"]) {
      expect(run({ code, exception: "UD" }), code).toEqual([]);
    }
  });
  it("LOCK is #UD", () => {
    expect(run({ code: "f00f58042500020050", exception: "UD" })).toEqual([]);
  });
});

describe("SSE alignment", () => {
  const window = { addr: DATA + 0x100, hex: "00".repeat(64) };
  // [0x50000108]: 8-byte aligned, not 16.
  it("aligned moves and packed arithmetic need 16-byte memory operands (#GP(0))", () => {
    for (const code of ["0f28042508010050", "0f29042508010050", "0f58042508010050", "660fdb042508010050", "660fe7042508010050", "660f3817042508010050"]) {
      expect(run({ code, mem: window, exception: "GP" }), code).toEqual([]);
    }
  });
  it("unaligned moves, scalar operands and narrow loads do not check alignment", () => {
    expect(run({ code: "0f10042508010050", mem: window, expect: { xmm0: x() } })).toEqual([]); // movups
    expect(run({ code: "f30f58042508010050", init: { xmm0: x(ONE, 9) }, mem: window, expect: { xmm0: x(ONE, 9) } })).toEqual([]); // addss
    expect(run({ code: "f20ff0042508010050", mem: window })).toEqual([]); // lddqu
    expect(run({ code: "660f3830042508010050", mem: window })).toEqual([]); // pmovzxbw m64
  });
});

describe("SSE fault atomicity", () => {
  it("a 16-byte store crossing into an unmapped page writes nothing", () => {
    const window = { addr: DATA + 0xfe0, hex: "00".repeat(32) };
    expect(run({ code: "0f110425f80f0050", init: { xmm0: x(1, 2, 3, 4) }, mem: window, exception: "PF" })).toEqual([]);
  });
  it("a 16-byte load crossing into an unmapped page changes no register", () => {
    const window = { addr: DATA + 0xfe0, hex: "11".repeat(32) };
    expect(run({ code: "0f100425f80f0050", init: { xmm0: x(1, 2, 3, 4) }, mem: window, exception: "PF" })).toEqual([]);
  });
});

describe("SIMD floating-point exceptions", () => {
  const divss = { code: "f30f5ec1", init: { xmm0: x(ONE, 7), xmm1: x(0) } };
  it("masked: divide by zero gives infinity and sets ZE", () => {
    expect(run({ ...divss, expect: { xmm0: x(0x7f800000, 7), mxcsr: "0x1f84" } })).toEqual([]);
  });
  it("unmasked: #XM with the destination unchanged and the flag set", () => {
    const diffs = run({ ...divss, init: { ...divss.init, mxcsr: "0x1d80" }, exception: "XM" });
    expect(diffs.filter((d) => !d.startsWith("mxcsr"))).toEqual([]);
    expect(runner.cpu.mxcsr).toBe(0x1d84);
  });
  it("unmasked with CR4.OSXMMEXCPT=0: #UD instead", () => {
    const diffs = withControl(0, CR4_OSXMMEXCPT, { ...divss, init: { ...divss.init, mxcsr: "0x1d80" }, exception: "UD" });
    expect(diffs.filter((d) => !d.startsWith("mxcsr"))).toEqual([]);
  });
  it("an unmasked pre-computation exception in one lane stops every lane and reports only pre-computation flags", () => {
    // lane 0: 1/0 (ZE, unmasked); lane 1: 1/3 (inexact, masked) is not reported.
    const diffs = run({
      code: "0f5ec1", init: { xmm0: x(ONE, ONE, ONE, ONE), xmm1: x(0, 0x40400000, ONE, ONE), mxcsr: "0x1d80" }, exception: "XM",
    });
    expect(diffs.filter((d) => !d.startsWith("mxcsr"))).toEqual([]);
    expect(runner.cpu.mxcsr).toBe(0x1d84);
  });
  it("comiss with an unmasked invalid operand leaves RFLAGS alone", () => {
    const diffs = run({ code: "0f2fc1", init: { xmm0: x(0x7fc00000), xmm1: x(ONE), rflags: "0x2c3", mxcsr: "0x1f00" }, exception: "XM" });
    expect(diffs.filter((d) => !d.startsWith("mxcsr"))).toEqual([]);
  });
  it("directed rounding, FTZ and DAZ come from MXCSR", () => {
    // 1 + 2^-24 in round-up gives the next float above 1.
    expect(run({ code: "f30f58c1", init: { xmm0: x(ONE), xmm1: x(0x33800000), mxcsr: "0x5f80" }, expect: { xmm0: x(0x3f800001), mxcsr: "0x5fa0" } })).toEqual([]);
    // min normal * 0.5 flushes to zero under FTZ (UE and PE).
    expect(run({ code: "f30f59c1", init: { xmm0: x(0x00800000), xmm1: x(0x3f000000), mxcsr: "0x9f80" }, expect: { xmm0: x(0), mxcsr: "0x9fb0" } })).toEqual([]);
    // A denormal operand reads as zero under DAZ (no DE).
    expect(run({ code: "f30f58c1", init: { xmm0: x(ONE), xmm1: x(0x00000001), mxcsr: "0x1fc0" }, expect: { xmm0: x(ONE) } })).toEqual([]);
  });
});

describe("MXCSR and FXSAVE/FXRSTOR", () => {
  it("LDMXCSR loads, STMXCSR stores, a reserved bit is #GP(0)", () => {
    const window = { addr: DATA + 0x200, hex: "00".repeat(16) };
    expect(run({ code: "0fae142508020050", mem: { ...window, hex: "00".repeat(8) + "c07f0000" + "00".repeat(4) }, expect: { mxcsr: "0x7fc0" } })).toEqual([]);
    expect(run({ code: "0fae142508020050", mem: { ...window, hex: "00".repeat(8) + "801f0200" + "00".repeat(4) }, exception: "GP" })).toEqual([]);
    expect(run({ code: "0fae1c2508020050", init: { mxcsr: "0x9fa3" }, mem: window, expectMem: "00".repeat(8) + "a39f0000" + "00".repeat(4) })).toEqual([]);
  });

  const xmmInit: Record<string, string> = { mxcsr: "0x3fa1" };
  for (let k = 0; k < 16; k++) xmmInit[`xmm${k}`] = x(k + 1, 0x100 * (k + 1), -1 - k, 0x12345678 ^ k);

  function fxImage(): number[] {
    const img = new Array<number>(512).fill(0);
    const put32 = (off: number, v: number) => { for (let b = 0; b < 4; b++) img[off + b] = (v >>> (8 * b)) & 0xff; };
    put32(0, 0x037f); // FCW as FNINIT leaves it; FSW, FTW, FOP, FIP, FDP zero
    put32(24, 0x3fa1);
    put32(28, 0xffff);
    for (let k = 0; k < 16; k++) {
      put32(160 + 16 * k, k + 1);
      put32(164 + 16 * k, 0x100 * (k + 1));
      put32(168 + 16 * k, -1 - k);
      put32(172 + 16 * k, 0x12345678 ^ k);
    }
    return img;
  }

  it("FXSAVE (and FXSAVE64) write the x87 init state, MXCSR, MXCSR_MASK and XMM0-15, not bytes 416-511", () => {
    const before = "ee".repeat(512);
    const want = bytesHex(fxImage().slice(0, 416)) + "ee".repeat(96);
    const window = { addr: DATA + 0x200, hex: before };
    expect(run({ code: "0fae042500020050", init: xmmInit, mem: window, expectMem: want })).toEqual([]);
    expect(run({ code: "480fae042500020050", init: xmmInit, mem: window, expectMem: want })).toEqual([]);
  });
  it("FXSAVE needs a 16-byte aligned area", () => {
    expect(run({ code: "0fae042508020050", mem: { addr: DATA + 0x208, hex: "00".repeat(512) }, exception: "GP" })).toEqual([]);
  });
  it("FXRSTOR loads MXCSR and XMM0-15; a reserved MXCSR bit is #GP(0) with nothing loaded", () => {
    const img = fxImage();
    const expectRegs: Record<string, string> = { ...xmmInit };
    expect(run({ code: "0fae0c2500020050", mem: { addr: DATA + 0x200, hex: bytesHex(img) }, expect: expectRegs })).toEqual([]);
    img[26] = 1; // MXCSR bit 16
    expect(run({ code: "0fae0c2500020050", mem: { addr: DATA + 0x200, hex: bytesHex(img) }, exception: "GP" })).toEqual([]);
  });
});

describe("SSE memory forms and less common instructions", () => {
  it("MASKMOVDQU stores the selected bytes at [rdi]", () => {
    const mask = [0x80, 0, 0xff, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81];
    const data = Array.from({ length: 16 }, (_, k) => 0xa0 + k);
    const want = Array.from({ length: 16 }, (_, k) => (mask[k]! & 0x80 ? data[k]! : 0x11));
    const toX = (b: number[]) => bytesHex(b);
    expect(run({
      code: "660ff7c1",
      init: { rdi: "0x50000308", xmm0: toX(data), xmm1: toX(mask) },
      mem: { addr: DATA + 0x300, hex: "11".repeat(32) },
      expectMem: "11".repeat(8) + bytesHex(want) + "11".repeat(8),
    })).toEqual([]);
  });
  it("PMOVZXBQ reads only 2 bytes, PEXTRB/PINSRB access one byte", () => {
    const window = { addr: DATA + 0x400, hex: "8102" + "ff".repeat(14) };
    expect(run({ code: "660f3832042500040050", mem: window, expect: { xmm0: x(0x81, 0, 2, 0) } })).toEqual([]);
    expect(run({
      code: "660f3a1404250204005006", init: { xmm0: x(0, 0x00cc0000) }, mem: window,
      expectMem: "8102cc" + "ff".repeat(13),
    })).toEqual([]);
    expect(run({ code: "660f3a2004250104005007", mem: window, init: { xmm0: x(-1, -1, -1, -1) }, expect: { xmm0: x(-1, 0x02ffffff, -1, -1) } })).toEqual([]);
  });
  it("MOVHPS/MOVLPS load and store one half, MOVDDUP duplicates a qword", () => {
    const window = { addr: DATA + 0x500, hex: "0102030405060708" + "00".repeat(8) };
    expect(run({ code: "0f16042500050050", init: { xmm0: x(1, 2, 3, 4) }, mem: window, expect: { xmm0: x(1, 2, 0x04030201, 0x08070605) } })).toEqual([]);
    expect(run({ code: "0f12042500050050", init: { xmm0: x(1, 2, 3, 4) }, mem: window, expect: { xmm0: x(0x04030201, 0x08070605, 3, 4) } })).toEqual([]);
    expect(run({ code: "0f17042508050050", init: { xmm0: x(1, 2, 3, 4) }, mem: window, expectMem: "0102030405060708" + "0300000004000000" })).toEqual([]);
    expect(run({ code: "f20f12042500050050", mem: window, expect: { xmm0: x(0x04030201, 0x08070605, 0x04030201, 0x08070605) } })).toEqual([]);
  });
  it("INSERTPS from memory, EXTRACTPS to memory and to a 64-bit register", () => {
    const window = { addr: DATA + 0x600, hex: "0000803f" + "00".repeat(12) };
    expect(run({ code: "660f3a2104250006005031", init: { xmm0: x(5, 6, 7, 8) }, mem: window, expect: { xmm0: x(0, 6, 7, ONE) } })).toEqual([]);
    expect(run({ code: "660f3a1704250406005002", init: { xmm0: x(5, 6, TWO, 8) }, mem: window, expectMem: "0000803f00000040" + "00".repeat(8) })).toEqual([]);
    expect(run({ code: "66480f3a17c003", init: { rax: "0xffffffffffffffff", xmm0: x(5, 6, 7, -1) }, expect: { rax: "0xffffffff" } })).toEqual([]);
  });
  it("PHMINPOSUW, PMADDUBSW, PMULHRSW, PSIGNW", () => {
    expect(run({ code: "660f3841c1", init: { xmm1: x(0x00070009, 0x00030005, 0x00030008, 0xffff0004) }, expect: { xmm0: x(0x00030003) } })).toEqual([]);
    // 255*127 + 255*127 saturates to 32767; 1*-128 + 2*-1 = -130.
    expect(run({ code: "660f3804c1", init: { xmm0: x(0x0201ffff), xmm1: x(0xff807f7f) }, expect: { xmm0: x(0xff7e7fff) } })).toEqual([]);
    // (0x4000 * 0x4000 >> 14 + 1) >> 1 = 0x2000; (-0x8000 * -0x8000) wraps to -0x8000.
    expect(run({ code: "660f380bc1", init: { xmm0: x(0x80004000), xmm1: x(0x80004000) }, expect: { xmm0: x(0x80002000) } })).toEqual([]);
    expect(run({ code: "660f3809c1", init: { xmm0: x(0x00050005, 0x00050005), xmm1: x(0x0000ffff, 0x00010000) }, expect: { xmm0: x(0x0000fffb, 0x00050000) } })).toEqual([]);
  });
});
