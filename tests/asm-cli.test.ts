// The `capos asm` and `capos disasm` commands (through their functions, and once
// through the real command line).
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAsm } from "../src/cli/asm.js";
import { runDisasm } from "../src/cli/disasm.js";
import { readElf } from "../src/toolchain/x64/elf-read.js";

const SOURCE = `
.intel_syntax noprefix
.globl entry
entry:
    mov eax, 1
1:  add eax, eax
    cmp eax, 64
    jb 1b
    ret
`;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "capos-cli-"));
}

describe("capos asm", () => {
  it("writes a flat binary at an origin", () => {
    const dir = tmp();
    writeFileSync(join(dir, "t.s"), SOURCE);
    expect(runAsm(join(dir, "t.s"), { output: join(dir, "t.bin"), origin: "0x1000" })).toBe(0);
    expect(readFileSync(join(dir, "t.bin")).toString("hex")).toBe("b801000000" + "01c0" + "83f840" + "72f9" + "c3");
  });

  it("writes ELF objects (64- and 32-bit)", () => {
    const dir = tmp();
    writeFileSync(join(dir, "t.s"), SOURCE);
    expect(runAsm(join(dir, "t.s"), { output: join(dir, "t.o"), format: "elf" })).toBe(0);
    expect(readElf(new Uint8Array(readFileSync(join(dir, "t.o")))).bits).toBe(64);
    expect(runAsm(join(dir, "t.s"), { output: join(dir, "t32.o"), format: "elf", bits: "32" })).toBe(0);
    const elf = readElf(new Uint8Array(readFileSync(join(dir, "t32.o"))));
    expect(elf.bits).toBe(32);
    expect(elf.symbols.some((s) => s.name === "entry")).toBe(true);
  });

  it("reports errors with the file, line and column", () => {
    const dir = tmp();
    writeFileSync(join(dir, "bad.s"), "nop\n  mov eax, [rax\n");
    const write = process.stderr.write;
    let err = "";
    process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
    try {
      expect(runAsm(join(dir, "bad.s"), { output: join(dir, "bad.bin") })).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(err).toBe(`${join(dir, "bad.s")}:2:16: expected "]" at the end of the statement\n`);
  });
});

describe("capos disasm", () => {
  it("prints raw binaries at a base address", () => {
    const dir = tmp();
    writeFileSync(join(dir, "t.bin"), Buffer.from("b80100000001c083f84072f9c3", "hex"));
    const out = runDisasm(join(dir, "t.bin"), { base: "0x1000" });
    expect(out.split("\n").filter((l) => l.includes(":\t")).map((l) => l.split("\t").pop())).toEqual([
      "mov eax, 0x1", "add eax, eax", "cmp eax, 0x40", "jb 0x1005", "ret",
    ]);
    expect(runDisasm(join(dir, "t.bin"), { bits: "32" })).toContain("mov eax, 0x1");
  });

  it("prints ELF code with symbol names", () => {
    const dir = tmp();
    writeFileSync(join(dir, "t.s"), SOURCE);
    runAsm(join(dir, "t.s"), { output: join(dir, "t.o"), format: "elf" });
    const out = runDisasm(join(dir, "t.o"), {});
    expect(out).toContain("ELF64 relocatable, 64-bit code");
    expect(out).toContain("<entry>:");
    expect(out).toContain("jb entry+0x5");
  });

  it("shows the relocations of an object under the instructions they patch", () => {
    const dir = tmp();
    writeFileSync(join(dir, "r.s"), "call ext\nlea rax, [rip + ext + 8]\n");
    runAsm(join(dir, "r.s"), { output: join(dir, "r.o"), format: "elf" });
    const out = runDisasm(join(dir, "r.o"), {});
    expect(out).toContain("# 1: R_X86_64_PC32 ext-0x4");
    expect(out).toContain("# 8: R_X86_64_PC32 ext+0x4");
  });

  it("is registered on the command line", () => {
    const dir = tmp();
    writeFileSync(join(dir, "t.s"), SOURCE);
    const cli = join(__dirname, "../src/cli/main.ts");
    execFileSync("npx", ["tsx", cli, "asm", join(dir, "t.s"), "-o", join(dir, "t.bin"), "--origin", "0x1000"], { stdio: "ignore" });
    expect(runDisasm(join(dir, "t.bin"), { base: "0x1000" })).toContain("jb 0x1005");
  });
});
