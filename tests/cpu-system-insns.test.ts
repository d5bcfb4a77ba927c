// Guest snippets for individual system instructions in 64-bit mode: descriptor-
// table stores and LTR, LAR/LSL/VERW, far CALL/RETF (same and outer privilege),
// a far JMP into compatibility mode, SYSENTER/SYSEXIT, CR8/DR/CLTS/RDTSC/CPUID/
// STAC/CLAC, port I/O of every width with REP INS/OUTS, segment-register moves.
import { describe, expect, it } from "vitest";
import { EFER_LMA, MODE_32, MODE_64, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_SS } from "../src/emulator/cpu/insn.js";
import {
  GDT, GDT_LIMIT, Guest, HANDLERS, IDT, KCODE, KSTACK_TOP, PORT_DEBUG, SEL_CODE32, SEL_KCODE, SEL_KDATA, SEL_TSS,
  SEL_UCODE, SEL_UDATA, UCODE, USTACK_TOP, code,
} from "./cpu-system-harness.js";

const EXC_GP = 13;

function longGuest(kernel: string[], user?: string[]): Guest {
  const g = new Guest();
  g.enterLongMode();
  g.load(KCODE, code(kernel));
  if (user) g.load(UCODE, code(user));
  return g;
}

describe("descriptor-table instructions", () => {
  it("sgdt, sidt, ltr, str, sldt, smsw, lar, lsl, verw", () => {
    const g = longGuest([
      "0f 01 04 25 00 50 00 00", // sgdt [0x5000]
      "0f 01 0c 25 10 50 00 00", // sidt [0x5010]
      "66 b8 38 00", // mov ax, 0x38
      "0f 00 d8", // ltr ax
      "0f 00 cb", // str rbx
      "0f 00 c1", // sldt rcx
      "48 0f 01 e2", // smsw rdx
      "0f 02 f0", // lar esi, eax
      "66 b8 10 00", // mov ax, 0x10
      "0f 03 f8", // lsl edi, eax
      "66 b8 2b 00", // mov ax, 0x2b
      "0f 00 e8", // verw ax
      "41 0f 94 c0", // setz r8b
      "66 b8 10 00", // mov ax, 0x10
      "0f 00 e8", // verw ax
      "41 0f 94 c1", // setz r9b
      "f4", // hlt
    ]);
    g.w32(GDT + SEL_TSS + 4, g.r32(GDT + SEL_TSS + 4) & ~0x200); // available, so LTR accepts it
    expect(g.run()).toBe(RUN_HALT);
    expect(g.dv.getUint16(0x5000, true)).toBe(GDT_LIMIT);
    expect(g.r64(0x5002)).toBe(BigInt(GDT));
    expect(g.dv.getUint16(0x5010, true)).toBe(0xfff);
    expect(g.r64(0x5012)).toBe(BigInt(IDT));
    expect(g.r32(GDT + SEL_TSS + 4) & 0xf00).toBe(0xb00); // LTR marked the TSS busy
    expect(g.reg(3)).toBe(BigInt(SEL_TSS));
    expect(g.reg(1)).toBe(0n);
    expect(g.reg(2)).toBe(BigInt(g.cpu.cr0 >>> 0));
    expect(g.reg(6)).toBe(0x8b00n); // LAR of the busy 64-bit TSS
    expect(g.reg(7)).toBe(0xffffffffn); // LSL of the flat code segment
    expect(g.reg(8) & 0xffn).toBe(1n); // VERW user data: writable
    expect(g.reg(9) & 0xffn).toBe(0n); // VERW code: not writable
  });
});

describe("far transfers", () => {
  it("call far m16:64 and retfq at the same privilege", () => {
    const g = longGuest([
      "48 ff 1c 25 00 50 00 00", // call far qword [0x5000]   (REX.W FF /3: m16:64)
      "b0 5a", // mov al, 0x5a
      "e6 e9", // out 0xe9, al
      "f4", // hlt
    ]);
    g.w64(0x5000, 0x102000n);
    g.dv.setUint16(0x5008, SEL_KCODE, true);
    g.load(0x102000, code(["b0 59", /* mov al, 0x59 */ "e6 e9", /* out 0xe9, al */ "48 cb" /* retfq */]));
    expect(g.run()).toBe(RUN_HALT);
    expect(String.fromCharCode(...g.debug)).toBe("YZ");
    expect(g.rsp()).toBe(BigInt(KSTACK_TOP));
  });

  it("jmp far m16:32 to a 32-bit code segment enters compatibility mode", () => {
    const g = longGuest([
      "ff 2c 25 00 50 00 00", // jmp far dword [0x5000]
      // .code32
      "b0 43", // mov al, 0x43
      "e6 e9", // out 0xe9, al
      "f4", // hlt
    ]);
    g.w32(0x5000, KCODE + 7);
    g.dv.setUint16(0x5004, SEL_CODE32, true);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.cpu.mode).toBe(MODE_32);
    expect(g.cpu.efer & EFER_LMA).toBe(EFER_LMA);
    expect(String.fromCharCode(...g.debug)).toBe("C");
  });

  it("retfq to an outer privilege level loads SS:RSP and nulls inner data segments", () => {
    const g = longGuest([
      "6a 2b", // push 0x2b
      "68 00 30 20 00", // push 0x203000
      "6a 33", // push 0x33
      "68 00 00 20 00", // push 0x200000
      "48 cb", // retfq
    ], ["f4" /* hlt: #GP at ring 3 */]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(1)).toBe(BigInt(UCODE));
    expect(g.stack(2)).toBe(BigInt(SEL_UCODE));
    expect(g.stack(4)).toBe(BigInt(USTACK_TOP));
    expect(g.stack(5)).toBe(BigInt(SEL_UDATA));
    expect(g.cpu.segSel[SEG_DS]).toBe(0); // DS (DPL 0) was nulled on the way out
  });

  it("far jump to a non-code descriptor or with a null selector: #GP", () => {
    const g = longGuest(["ff 2c 25 00 50 00 00" /* jmp far dword [0x5000] */]);
    g.w32(0x5000, 0);
    g.dv.setUint16(0x5004, SEL_KDATA, true);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(BigInt(SEL_KDATA));
  });
});

describe("SYSENTER / SYSEXIT", () => {
  it("sysexitq to ring 3 and sysenter back", () => {
    const g = longGuest([
      "b9 74 01 00 00", // mov ecx, 0x174        SYSENTER_CS = 0x10
      "b8 10 00 00 00", // mov eax, 0x10
      "31 d2", // xor edx, edx
      "0f 30", // wrmsr
      "b9 75 01 00 00", // mov ecx, 0x175        SYSENTER_ESP = 0x90000
      "b8 00 00 09 00", // mov eax, 0x90000
      "0f 30", // wrmsr
      "b9 76 01 00 00", // mov ecx, 0x176        SYSENTER_EIP = 0x101100
      "b8 00 11 10 00", // mov eax, 0x101100
      "0f 30", // wrmsr
      "48 c7 c2 00 00 20 00", // mov rdx, 0x200000
      "48 c7 c1 00 30 20 00", // mov rcx, 0x203000
      "48 0f 35", // sysexitq
    ], [
      "b0 53", // mov al, 0x53
      "e6 e9", // out 0xe9, al
      "0f 34", // sysenter
    ]);
    g.load(0x101100, code(["f4" /* hlt */]));
    expect(g.run()).toBe(RUN_HALT);
    expect(String.fromCharCode(...g.debug)).toBe("S"); // the OUT ran at ring 3 (allowed by the I/O bitmap)
    expect(g.cpu.rip).toBe(0x101101);
    expect(g.cpu.cpl).toBe(0);
    expect(g.cpu.segSel[SEG_CS]).toBe(SEL_KCODE);
    expect(g.cpu.segSel[SEG_SS]).toBe(SEL_KDATA);
    expect(g.rsp()).toBe(0x90000n);
    expect(g.cpu.mode).toBe(MODE_64);
  });
});

describe("control registers, debug registers, TSC, CPUID, SMAP flag", () => {
  it("mov cr8 / dr0 / dr6 / dr7, clts, rdtsc, cpuid, stac/clac", () => {
    const g = longGuest([
      "48 c7 c0 05 00 00 00", // mov rax, 5
      "44 0f 22 c0", // mov cr8, rax
      "44 0f 20 c3", // mov rbx, cr8
      "48 c7 c0 34 12 00 00", // mov rax, 0x1234
      "0f 23 c0", // mov dr0, rax
      "0f 21 c1", // mov rcx, dr0
      "41 0f 21 f2", // mov r10, dr6
      "0f 21 fe", // mov rsi, dr7
      "0f 06", // clts
      "0f 31", // rdtsc
      "41 89 c7", // mov r15d, eax
      "31 c0", // xor eax, eax
      "0f a2", // cpuid
      "0f 01 cb", // stac
      "0f 01 ca", // clac
      "f4", // hlt
    ]);
    g.cpu.cr0 = (g.cpu.cr0 | 8) >>> 0; // TS
    expect(g.run()).toBe(RUN_HALT);
    expect(g.cpu.cr8).toBe(5);
    expect(g.cpu.dr[0]).toBe(0x1234);
    expect(g.reg(10)).toBe(0xffff0ff0n);
    expect(g.reg(6)).toBe(0x400n);
    expect(g.cpu.cr0 & 8).toBe(0);
    expect(g.reg(15)).toBe(9n); // retired instructions before RDTSC
    expect(g.reg(0)).toBe(0xdn);
    expect(g.reg(3)).toBe(0x68747541n); // "Auth"
    expect(g.reg(1)).toBe(0x444d4163n); // "cAMD" (CPUID replaced the DR0 copy in RCX)
    expect(g.cpu.getFlags() & 0x40000).toBe(0);
  });

  it("mov to CR1 and DR8 are #UD; DR4 aliases DR6 only while CR4.DE is clear", () => {
    const ud = longGuest(["0f 22 c8" /* mov cr1, rax */]);
    expect(ud.runToHandler()).toBe(6);
    const de = longGuest(["0f 21 e0" /* mov rax, dr4 */, "f4" /* hlt */]);
    expect(de.run()).toBe(RUN_HALT);
    expect(de.reg(0)).toBe(0xffff0ff0n);
    const de2 = longGuest(["0f 21 e0" /* mov rax, dr4 */]);
    de2.cpu.cr4 |= 1 << 3;
    expect(de2.runToHandler()).toBe(6);
  });

  it("rdtsc at ring 3 with CR4.TSD: #GP(0)", () => {
    const g = longGuest([
      "6a 2b", // push 0x2b
      "68 00 30 20 00", // push 0x203000
      "68 02 02 00 00", // push 0x202
      "6a 33", // push 0x33
      "68 00 00 20 00", // push 0x200000
      "48 cf", // iretq
    ], ["0f 31" /* rdtsc */]);
    g.cpu.cr4 |= 1 << 2;
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(1)).toBe(BigInt(UCODE));
  });
});

describe("port I/O", () => {
  it("16- and 32-bit out, in, rep outsb, rep insw", () => {
    const g = longGuest([
      "66 ba e9 00", // mov dx, 0xe9
      "66 b8 34 12", // mov ax, 0x1234
      "66 ef", // out dx, ax
      "b8 ef cd ab 89", // mov eax, 0x89abcdef
      "ef", // out dx, eax
      "e4 60", // in al, 0x60
      "48 c7 c6 00 50 00 00", // mov rsi, 0x5000
      "b9 03 00 00 00", // mov ecx, 3
      "f3 6e", // rep outsb
      "48 c7 c7 00 51 00 00", // mov rdi, 0x5100
      "b9 02 00 00 00", // mov ecx, 2
      "66 f3 6d", // rep insw
      "f4", // hlt
    ]);
    g.load(0x5000, Uint8Array.from([0x61, 0x62, 0x63]));
    expect(g.run()).toBe(RUN_HALT);
    expect(g.writes).toEqual([
      [PORT_DEBUG, 2, 0x1234], [PORT_DEBUG, 4, 0x89abcdef | 0],
      [PORT_DEBUG, 1, 0x61], [PORT_DEBUG, 1, 0x62], [PORT_DEBUG, 1, 0x63],
    ]);
    expect(g.reg(0) & 0xffn).toBe(0xffn);
    expect(g.r32(0x5100)).toBe(0xffffffff);
    expect(g.reg(7)).toBe(0x5104n);
    expect(g.reg(6)).toBe(0x5003n);
    expect(g.reg(1)).toBe(0n);
  });
});

describe("segment registers", () => {
  it("mov fs / push fs / pop / mov es / mov r, es / lss", () => {
    const g = longGuest([
      "66 b8 18 00", // mov ax, 0x18
      "8e e0", // mov fs, ax
      "b9 00 01 00 c0", // mov ecx, 0xc0000100
      "0f 32", // rdmsr
      "41 89 c0", // mov r8d, eax
      "0f a0", // push fs
      "5b", // pop rbx
      "66 b8 2b 00", // mov ax, 0x2b
      "8e c0", // mov es, ax
      "8c c1", // mov ecx, es
      "0f b2 04 25 00 50 00 00", // lss eax, [0x5000]
      "f4", // hlt
    ]);
    g.cpu.segBaseLo[SEG_FS] = 0x1234;
    g.w32(0x5000, 0x12345678);
    g.dv.setUint16(0x5004, SEL_KDATA, true);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.reg(8)).toBe(0n); // loading FS replaced its base with the descriptor's
    expect(g.reg(3)).toBe(BigInt(SEL_KDATA));
    expect(g.cpu.segSel[SEG_ES]).toBe(SEL_UDATA);
    expect(g.reg(1)).toBe(BigInt(SEL_UDATA));
    expect(g.reg(0)).toBe(0x12345678n);
    expect(g.cpu.segSel[SEG_SS]).toBe(SEL_KDATA);
  });

  it("mov ss with RPL ≠ CPL, and mov to CS: #GP(selector) and #UD", () => {
    const g = longGuest(["66 b8 2b 00", /* mov ax, 0x2b */ "8e d0" /* mov ss, ax */]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(BigInt(SEL_UDATA & ~3));
    const h = longGuest(["8e c8" /* mov cs, ax */]);
    expect(h.runToHandler()).toBe(6);
    expect(h.cpu.rip).toBe(HANDLERS + 6 * 16 + 1);
  });
});
