// Assembled programs that run in the emulator: branch relaxation (short and
// long forms, a relaxation cascade), RIP-relative fix-ups (with immediates after
// the displacement), relocations applied by a minimal linker, 32-bit code, and a
// Multiboot-style 32-to-64-bit entry stub switching modes with .code32/.code64.
import { describe, expect, it } from "vitest";
import { assemble, assembleObject, Assembler, qword, r8, rax, rcx, rdx, rip, type ObjectFile } from "../src/toolchain/x64/index.js";
import { viewAt } from "../src/toolchain/x64/disasm.js";
import { RAX, RBX, RCX, RDX, RSI, R8, TestMachine } from "./helpers/asm-machine.js";

const BASE = 0x100000;

function runFlat(src: string, bits: 32 | 64 = 64) {
  const out = assemble(src, { origin: BASE, bits });
  const m = new TestMachine(bits);
  m.load(out.bytes, BASE);
  const r = m.run(BASE);
  return { out, m, r };
}

/** The instruction bytes at a symbol (to check which form relaxation chose). */
function insnAt(out: { bytes: Uint8Array; symbols: Map<string, number> }, sym: string, bits: 32 | 64 = 64) {
  const off = out.symbols.get(sym)! - BASE;
  return viewAt(out.bytes, off, { bits, address: BigInt(out.symbols.get(sym)!) });
}

describe("branch relaxation in running programs", () => {
  it("picks rel8 where the target is near and rel32 where it is not", () => {
    const { out, m, r } = runFlat(`
      .intel_syntax noprefix
      start:
        mov rsp, 0x800000
        xor eax, eax
        mov ecx, 10
      top:
        add eax, ecx
        dec ecx
      back: jnz top               # short, backward
        cmp eax, 55
      far_fwd: jne fail           # long: fail is 300 bytes away
      near_fwd: jmp over          # short, forward
        .fill 40, 1, 0xcc
      over:
        mov rdx, 0x1234
        hlt
        .fill 300, 1, 0xcc
      fail:
        mov rdx, 0xdead
        hlt
    `);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RAX)).toBe(55n);
    expect(m.reg(RDX)).toBe(0x1234n);
    expect(insnAt(out, "back").length).toBe(2);
    expect(insnAt(out, "far_fwd").length).toBe(6);
    expect(insnAt(out, "near_fwd").length).toBe(2);
  });

  it("grows a branch when another one's growth pushes its target out of range (cascade)", () => {
    // j1 reaches L1 with rel8 only while j2 stays short; j2's target is far, so it grows
    // to 6 bytes and pushes L1 to 128 bytes past j1's end: j1 must grow too.
    const { out, m, r } = runFlat(`
      .intel_syntax noprefix
        mov rsp, 0x800000
        mov ebx, 1
      j1: jmp L1
      j2: jz far_away
        .fill 122, 1, 0x90
      L1:
        mov rcx, 0x77
        hlt
        .fill 200, 1, 0xcc
      far_away:
        hlt
    `);
    expect(insnAt(out, "j2").length).toBe(6);
    expect(insnAt(out, "j1").length).toBe(5);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RCX)).toBe(0x77n);
  });

  it("keeps a branch short at exactly 127 bytes and loops backwards by 128", () => {
    const { out, m, r } = runFlat(`
      .intel_syntax noprefix
        mov rsp, 0x800000
        xor ecx, ecx
      edge: jmp t127
        .fill 127, 1, 0xcc
      t127:
        inc ecx
        cmp ecx, 3
        je done
      back: jmp edge          # backward: -(2 + 127 + 9) bytes: long
      done:
        hlt
    `);
    expect(insnAt(out, "edge").length).toBe(2);
    expect(insnAt(out, "back").length).toBe(5);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RCX)).toBe(3n);
  });

  it("loop and jrcxz (rel8 only) work, and an out-of-range one is an error naming the line", () => {
    const { m } = runFlat(`
      .intel_syntax noprefix
        xor eax, eax
        mov ecx, 5
      1: add eax, 2
        loop 1b
        jrcxz 2f
        mov eax, -1
      2: hlt
    `);
    expect(m.reg(RAX)).toBe(10n);
    expect(() => assemble("x: loop y\n.fill 200, 1, 0x90\ny: ret\n")).toThrow(/<input>:1:4: .*does not fit a 8-bit relative offset/);
  });
});

describe("RIP-relative fix-ups", () => {
  it("addresses data in another section, with immediates after the displacement", () => {
    const { m, r } = runFlat(`
      .intel_syntax noprefix
      .text
        lea rsi, [rip + table]
        mov rax, qword ptr [rsi + 8]
        add qword ptr [rip + counter], 5             # disp32 then imm8
        cmp dword ptr [rip + value], 0x12345678      # disp32 then imm32
        jne bad
        mov rbx, qword ptr [rip + counter]
        movzx ecx, byte ptr [rip + bytes + 3]        # symbol + addend
        mov rdx, qword ptr [rip + table + 16]
        hlt
      bad:
        ud2
      .data
      table: .quad 11, 22, 33
      counter: .quad 100
      value: .long 0x12345678
      bytes: .byte 1, 2, 3, 4
    `);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RAX)).toBe(22n);
    expect(m.reg(RBX)).toBe(105n);
    expect(m.reg(RCX)).toBe(4n);
    expect(m.reg(RDX)).toBe(33n);
  });

  it("works through the typed API", () => {
    const a = new Assembler({ bits: 64, origin: BASE });
    a.lea(rcx, qword({ base: rip, label: "data" }));       // RIP-relative
    a.mov(rax, qword({ base: rip, label: "data", disp: 8 })); // RIP-relative with an addend
    a.lea(rdx, qword({ label: "data" }));                  // absolute (disp32, sign-extended)
    a.hlt();
    a.data().label("data").dq(0x4444n, 0x5555n);
    const out = a.flat();
    const m = new TestMachine(64);
    m.load(out.bytes, BASE);
    expect(m.run(BASE)).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RAX)).toBe(0x5555n);
    expect(m.reg(RCX)).toBe(BigInt(out.symbols.get("data")!));
    expect(m.reg(RDX)).toBe(BigInt(out.symbols.get("data")!));
  });
});

/** A minimal static linker for the test: places sections, resolves externals, applies relocations (ELF semantics). */
function link(obj: ObjectFile, bases: Record<string, number>, externals: Record<string, number>): Map<number, Uint8Array> {
  const images = new Map<number, Uint8Array>();
  const addrOf = (sym: string): bigint => {
    if (bases[sym] !== undefined) return BigInt(bases[sym]!);
    if (externals[sym] !== undefined) return BigInt(externals[sym]!);
    const s = obj.symbols.find((x) => x.name === sym && x.defined);
    if (s && s.section) return BigInt(bases[s.section]!) + s.value;
    throw new Error(`unresolved ${sym}`);
  };
  for (const s of obj.sections) {
    const bytes = s.nobits ? new Uint8Array(s.size) : s.bytes.slice();
    const dv = new DataView(bytes.buffer);
    for (const r of s.relocations) {
      const S = addrOf(r.symbol);
      const P = BigInt(bases[s.name]!) + BigInt(r.offset);
      const v = r.kind === "pc32" ? S + r.addend - P : S + r.addend;
      if (r.kind === "abs64") dv.setBigUint64(r.offset, BigInt.asUintN(64, v), true);
      else if (r.kind === "abs32") { expect(v >= 0n && v < 1n << 32n).toBe(true); dv.setUint32(r.offset, Number(v), true); }
      else if (r.kind === "abs32s" || r.kind === "pc32") { expect(v >= -(1n << 31n) && v < 1n << 31n).toBe(true); dv.setInt32(r.offset, Number(v), true); }
      else throw new Error(`unexpected relocation ${r.kind}`);
    }
    images.set(bases[s.name]!, bytes);
  }
  return images;
}

describe("relocations", () => {
  const source = `
    .intel_syntax noprefix
    .text
    .globl _start
    .type _start, @function
    _start:
      mov rsp, 0x800000
      mov rax, qword ptr [rip + ext_value]     # pc32 against an external symbol
      mov rbx, offset local_data               # abs32s against .data
      mov rcx, qword ptr [rbx]
      movabs rdx, offset local_data + 8        # abs64 with an addend
      mov rdx, qword ptr [rdx]
      call helper                              # same section: resolved by the assembler
      mov esi, dword ptr [ptr32]               # abs32s displacement; ptr32 holds an abs32
      mov esi, dword ptr [rsi]
      call ext_fn                              # pc32 against an external function
      hlt
    helper:
      mov r8, 7
      ret
    .size _start, . - _start
    .data
    local_data: .quad 0x1111, 0x2222
    ptr32: .long local_data + 8
  `;

  it("records the ELF relocation kinds and addends", () => {
    const obj = assembleObject(source);
    const text = obj.sections.find((s) => s.name === ".text")!;
    const kinds = text.relocations.map((r) => `${r.kind} ${r.symbol} ${r.addend}`);
    expect(kinds).toEqual([
      "pc32 ext_value -4",
      "abs32s .data 0",
      "abs64 .data 8",
      "abs32s .data 16",
      "pc32 ext_fn -4",
    ]);
    const data = obj.sections.find((s) => s.name === ".data")!;
    expect(data.relocations.map((r) => `${r.offset} ${r.kind} ${r.symbol} ${r.addend}`)).toEqual(["16 abs32 .data 8"]);
    const start = obj.symbols.find((s) => s.name === "_start")!;
    expect(start).toMatchObject({ global: true, type: "func", section: ".text", value: 0n });
    expect(start.size).toBe(BigInt(text.size));
    expect(obj.symbols.filter((s) => !s.defined).map((s) => s.name).sort()).toEqual(["ext_fn", "ext_value"]);
  });

  it("run correctly once linked", () => {
    const obj = assembleObject(source);
    const extFn = new Assembler({ bits: 64, origin: 0x300100 });
    extFn.mov(r8, 9).ret();
    const images = link(obj, { ".text": 0x100000, ".data": 0x200000 }, { ext_value: 0x300000, ext_fn: 0x300100 });
    const m = new TestMachine(64);
    for (const [at, bytes] of images) m.load(bytes, at);
    m.mem.view.setBigUint64(0x300000, 0xabcdef12345n, true);
    m.load(extFn.flat().bytes, 0x300100);
    const r = m.run(0x100000);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RAX)).toBe(0xabcdef12345n);
    expect(m.reg(RBX)).toBe(0x200000n);
    expect(m.reg(RCX)).toBe(0x1111n);
    expect(m.reg(RDX)).toBe(0x2222n);
    expect(m.reg(RSI)).toBe(0x2222n);
    expect(m.reg(R8)).toBe(9n);
  });
});

describe("32-bit code", () => {
  it("runs in protected mode with absolute addresses", () => {
    const { m, r } = runFlat(`
      .intel_syntax noprefix
      .code32
      start:
        mov esp, offset stack_top
        call add_fn
        mov ebx, dword ptr [result]
        push 0x1234
        pop ecx
        hlt
      add_fn:
        mov eax, 40
        add eax, 2
        mov dword ptr [result], eax
        ret
      .data
      result: .long 0
      .bss
      .skip 256
      stack_top:
    `, 32);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.reg(RBX)).toBe(42n);
    expect(m.reg(RCX)).toBe(0x1234n);
  });

  it("switches from 32-bit protected mode to 64-bit long mode (Multiboot-style entry stub)", () => {
    const { out, m, r } = runFlat(`
      .intel_syntax noprefix
      .code32
      .equ PML4, 0x10000
      .equ PDPT, 0x11000
      .equ PD,   0x12000
      boot32:
          mov esp, offset stack32_top
          mov edi, PML4
          xor eax, eax
          mov ecx, 3 * 4096 / 4
          cld
          rep stosd
          mov dword ptr [PML4], PDPT | 3
          mov dword ptr [PDPT], PD | 3
          xor ecx, ecx
      1:  mov eax, ecx
          shl eax, 21
          or eax, 0x83                    # present, writable, 2 MiB
          mov dword ptr [PD + ecx*8], eax
          inc ecx
          cmp ecx, 4
          jb 1b
          mov eax, PML4
          mov cr3, eax
          mov eax, cr4
          or eax, 1 << 5                  # PAE
          mov cr4, eax
          mov ecx, 0xC0000080             # EFER
          rdmsr
          or eax, 1 << 8                  # LME
          wrmsr
          mov eax, cr0
          or eax, 0x80000001              # PG | PE
          mov cr0, eax
          lgdt [gdt_ptr]
          jmp 0x08:long_mode
      .code64
      long_mode:
          mov ax, 0x10
          mov ds, ax
          mov ss, ax
          lea rsi, [rip + message]
          mov rax, qword ptr [rsi]
          mov rbx, offset long_mode
          hlt
      .align 8
      gdt:
          .quad 0
          .quad 0x00af9a000000ffff        # 64-bit code
          .quad 0x00cf92000000ffff        # data
      gdt_ptr:
          .word gdt_ptr - gdt - 1
          .long gdt
      message: .ascii "capos!!!"
      .bss
      .skip 4096
      stack32_top:
    `, 32);
    expect(r).toMatchObject({ halted: true, exception: -1 });
    expect(m.cpu.mode).toBe(2); // MODE_64
    expect(m.reg(RAX)).toBe(0x212121736f706163n); // "capos!!!"
    expect(m.reg(RBX)).toBe(BigInt(out.symbols.get("long_mode")!));
  });
});

