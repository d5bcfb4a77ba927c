// CRC32 (SSE4.2) against the CRC-32C check value of "123456789" (0xE3069283),
// fed byte-, dword- and qword-wise; and MOVNTI as a plain store.
import { describe, expect, it } from "vitest";
import { ConformanceRunner, GPR_NAMES, type Vector } from "../src/emulator/cpu/conformance.js";

const runner = new ConformanceRunner();

function exec(code: string, regs: Record<string, string>): Int32Array {
  const init: Record<string, string> = {};
  for (const n of GPR_NAMES) init[n] = regs[n] ?? "0x0";
  init.rsp = "0x50000f00";
  init.rflags = "0x202";
  const v: Vector = { id: "t", asm: "", code, rip: "0x40000000", init, expect: { ...init, rip: "0x40000000" }, flagsMask: "0x0" };
  runner.run(v);
  return runner.cpu.r;
}

const hex = (lo: number, hi = 0) => "0x" + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");

describe("crc32", () => {
  it("byte form (F2 0F 38 F0)", () => {
    let crc = -1;
    for (const ch of "123456789") crc = exec("f20f38f0c1", { rax: hex(crc), rcx: hex(ch.charCodeAt(0)) })[0]!; // crc32 eax, cl
    expect((~crc) >>> 0).toBe(0xe3069283);
  });

  it("dword and qword forms, zero-extending the destination", () => {
    let r = exec("f20f38f1c1", { rax: hex(-1, 0x1234), rcx: hex(0x34333231) }); // crc32 eax, ecx
    expect(r[1]).toBe(0);
    r = exec("f20f38f1c1", { rax: hex(r[0]!), rcx: hex(0x38373635) });
    r = exec("f20f38f0c1", { rax: hex(r[0]!), rcx: hex(0x39) });
    expect((~r[0]!) >>> 0).toBe(0xe3069283);
    r = exec("f2480f38f1c1", { rax: hex(-1), rcx: hex(0x34333231, 0x38373635) }); // crc32 rax, rcx
    r = exec("f2480f38f0c1", { rax: hex(r[0]!, r[1]!), rcx: hex(0x39) }); // crc32 rax, cl
    expect((~r[0]!) >>> 0).toBe(0xe3069283);
    expect(r[1]).toBe(0);
  });

  it("word form with a 66 prefix", () => {
    let r = exec("66f20f38f1c1", { rax: hex(-1), rcx: hex(0x3231) }); // crc32 eax, cx
    r = exec("66f20f38f1c1", { rax: hex(r[0]!), rcx: hex(0x3433) });
    let crc = r[0]!;
    for (const ch of "56789") crc = exec("f20f38f0c1", { rax: hex(crc), rcx: hex(ch.charCodeAt(0)) })[0]!;
    expect((~crc) >>> 0).toBe(0xe3069283);
  });
});

describe("movnti", () => {
  it("stores a general register", () => {
    exec("480fc30e", { rsi: "0x50000100", rcx: "0x1122334455667788" }); // movnti [rsi], rcx
    expect(runner.mem.view.getUint32(0x11100, true)).toBe(0x55667788);
    expect(runner.mem.view.getUint32(0x11104, true)).toBe(0x11223344);
  });
});
