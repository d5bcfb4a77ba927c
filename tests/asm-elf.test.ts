// ELF relocatable objects written from assembler output: read back by the ELF
// reader, accepted by GNU readelf, and (when GNU ld is installed) linked into
// executables that run in the emulator with the same results as the assembler's
// own flat output. Tests that need binutils say so and skip without them.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assembleObject, Assembler, parseInto } from "../src/toolchain/x64/index.js";
import { writeElfObject } from "../src/toolchain/x64/elf-object.js";
import {
  ET_REL, PT_LOAD, R_386, R_X86_64, readElf, readRelocations, SHT_RELA, SHT_REL, STB_GLOBAL,
} from "../src/toolchain/x64/elf-read.js";
import { runDisasm } from "../src/cli/disasm.js";
import { RAX, RBX, RCX, RDX, TestMachine } from "./helpers/asm-machine.js";

function have(tool: string): boolean {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const HAVE_LD = have("ld");
const HAVE_READELF = have("readelf");
if (!HAVE_LD) console.warn("NOTICE: GNU ld not found; skipping the link-and-run ELF tests.");

const SOURCE64 = `
  .intel_syntax noprefix
  .text
  .globl _start
  .type _start, @function
  _start:
    mov rsp, 0x800000
    mov rax, qword ptr [rip + ext_value]
    mov rbx, offset table
    mov rbx, qword ptr [rbx + 8]
    movabs rcx, offset table + 16
    mov rcx, qword ptr [rcx]
    call helper
    hlt
  helper:
    lea rdx, [rip + table]
    mov rdx, qword ptr [rdx]
    ret
  .size _start, . - _start
  .data
  .align 8
  table: .quad 0x1111, 0x2222, 0x3333
  self: .quad table
`;

const SOURCE32 = `
  .intel_syntax noprefix
  .code32
  .text
  .globl _start
  _start:
    mov esp, 0x800000
    mov eax, dword ptr [ext_value]
    mov ebx, offset table
    mov ebx, dword ptr [ebx + 4]
    call helper
    hlt
  helper:
    mov ecx, dword ptr [table + 8]
    ret
  .data
  table: .long 0x1111, 0x2222, 0x3333
`;

describe("ELF relocatable objects", () => {
  it("round-trips through the ELF reader (ELF64, RELA)", () => {
    const obj = assembleObject(SOURCE64);
    const elf = readElf(writeElfObject(obj));
    expect(elf.bits).toBe(64);
    expect(elf.type).toBe(ET_REL);
    const names = elf.sections.map((s) => s.name);
    expect(names).toEqual(["", ".text", ".data", ".rela.text", ".rela.data", ".symtab", ".strtab", ".shstrtab"]);
    const text = elf.sections.find((s) => s.name === ".text")!;
    expect([...elf.bytes.subarray(text.offset, text.offset + text.size)]).toEqual([...obj.sections[0]!.bytes]);
    expect(elf.sections.find((s) => s.name === ".rela.text")!.type).toBe(SHT_RELA);
    const start = elf.symbols.find((s) => s.name === "_start")!;
    expect(start.bind).toBe(STB_GLOBAL);
    expect(start.size).toBe(BigInt(text.size));
    const relocs = readRelocations(elf).filter((r) => r.section === text.index);
    expect(relocs.map((r) => r.type)).toEqual([R_X86_64.PC32, R_X86_64["32S"], R_X86_64["64"], R_X86_64.PC32]);
    expect(relocs.map((r) => r.addend)).toEqual([-4n, 0n, 16n, -4n]);
    expect(elf.symbols[relocs[0]!.symbol - 1]!.name).toBe("ext_value");
  });

  it("writes ELF32 with REL relocations (addend in the field)", () => {
    const a = new Assembler({ bits: 32 });
    parseInto(a, SOURCE32);
    const bytes = writeElfObject(a.object());
    const elf = readElf(bytes);
    expect(elf.bits).toBe(32);
    const text = elf.sections.find((s) => s.name === ".text")!;
    expect(elf.sections.find((s) => s.name === ".rel.text")!.type).toBe(SHT_REL);
    const relocs = readRelocations(elf).filter((r) => r.section === text.index);
    expect(relocs.map((r) => r.type)).toEqual([R_386["32"], R_386["32"], R_386["32"]]);
    // mov ecx, [table + 8]: the addend 8 sits in the displacement.
    const last = relocs[2]!;
    expect(new DataView(bytes.buffer).getInt32(text.offset + Number(last.offset), true)).toBe(8);
  });

  it.skipIf(!HAVE_READELF)("is accepted by GNU readelf without warnings", () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-elf-"));
    const file = join(dir, "t.o");
    writeFileSync(file, writeElfObject(assembleObject(SOURCE64)));
    const out = execFileSync("readelf", ["-a", "-W", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out).not.toMatch(/warning|error/i);
    expect(out).toMatch(/R_X86_64_PC32\s+0+\s+ext_value - 4/);
    expect(out).toMatch(/FUNC\s+GLOBAL\s+DEFAULT\s+1 _start/);
  });
});

function loadExecutable(path: string, m: TestMachine): number {
  const elf = readElf(new Uint8Array(readFileSync(path)));
  for (const p of elf.segments.filter((s) => s.type === PT_LOAD)) {
    m.load(elf.bytes.subarray(p.offset, p.offset + p.filesz), Number(p.vaddr));
  }
  return Number(elf.entry);
}

describe.skipIf(!HAVE_LD)("linked by GNU ld, run in the emulator", () => {
  it("x86-64", () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-ld-"));
    writeFileSync(join(dir, "t.o"), writeElfObject(assembleObject(SOURCE64)));
    execFileSync("ld", ["-m", "elf_x86_64", "-static", "-Ttext=0x100000", "-Tdata=0x200000", "--defsym", "ext_value=0x300000",
      "-e", "_start", "-o", join(dir, "t"), join(dir, "t.o")]);
    const m = new TestMachine(64);
    const entry = loadExecutable(join(dir, "t"), m);
    m.mem.view.setBigUint64(0x300000, 0x5a5a5a5an, true);
    expect(m.run(entry)).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RAX)).toBe(0x5a5a5a5an);
    expect(m.reg(RBX)).toBe(0x2222n);
    expect(m.reg(RCX)).toBe(0x3333n);
    expect(m.reg(RDX)).toBe(0x1111n);
    // The disassembler reads the linked file and names its symbols.
    const text = runDisasm(join(dir, "t"), {});
    expect(text).toMatch(/<_start>:/);
    expect(text).toMatch(/call helper/);
  });

  it("i386", () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-ld-"));
    const a = new Assembler({ bits: 32 });
    parseInto(a, SOURCE32);
    writeFileSync(join(dir, "t.o"), writeElfObject(a.object()));
    execFileSync("ld", ["-m", "elf_i386", "-static", "-Ttext=0x100000", "-Tdata=0x200000", "--defsym", "ext_value=0x300000",
      "-e", "_start", "-o", join(dir, "t"), join(dir, "t.o")]);
    const m = new TestMachine(32);
    const entry = loadExecutable(join(dir, "t"), m);
    m.mem.view.setUint32(0x300000, 0x77777777, true);
    expect(m.run(entry)).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RAX)).toBe(0x77777777n);
    expect(m.reg(RBX)).toBe(0x2222n);
    expect(m.reg(RCX)).toBe(0x3333n);
  });
});
