// Guest snippets for individual system instructions in 64-bit mode: descriptor-
// table stores and LTR, LAR/LSL/VERW, far CALL/RETF (same and outer privilege),
// a far JMP into compatibility mode, SYSENTER/SYSEXIT, CR8/DR/CLTS/RDTSC/CPUID/
// STAC/CLAC, port I/O of every width with REP INS/OUTS, segment-register moves.
import { describe, expect, it } from "vitest";
import { EFER_LMA, MODE_32, MODE_64, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_SS } from "../src/emulator/cpu/insn.js";
import {
  GDT, GDT_LIMIT, HANDLERS, IDT, KSTACK_TOP, PORT_DEBUG, SEL_CODE32, SEL_KCODE, SEL_KDATA, SEL_TSS,
  SEL_UCODE, SEL_UDATA, TO_RING3, UCODE, USTACK_TOP, longGuest,
} from "./cpu-system-harness.js";

const EXC_GP = 13;

describe("descriptor-table instructions", () => {
  it("sgdt, sidt, ltr, str, sldt, smsw, lar, lsl, verw", () => {
    const g = longGuest(`
      sgdt [0x5000]
      sidt [0x5010]
      mov ax, SEL_TSS
      ltr ax
      str ebx
      sldt ecx
      smsw rdx
      lar esi, eax
      mov ax, SEL_KCODE
      lsl edi, eax
      mov ax, SEL_UDATA
      verw ax
      setz r8b
      mov ax, SEL_KCODE
      verw ax
      setz r9b
      hlt
    `);
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
    const g = longGuest(`
      call tbyte ptr [0x5000]                   # m16:64 (REX.W FF /3)
      mov al, 'Z'
      out PORT_DEBUG, al
      hlt
    `);
    g.w64(0x5000, 0x102000n);
    g.dv.setUint16(0x5008, SEL_KCODE, true);
    g.loadAsm(0x102000, `
      mov al, 'Y'
      out PORT_DEBUG, al
      rex.W retf                                # retfq
    `);
    expect(g.run()).toBe(RUN_HALT);
    expect(String.fromCharCode(...g.debug)).toBe("YZ");
    expect(g.rsp()).toBe(BigInt(KSTACK_TOP));
  });

  it("jmp far m16:32 to a 32-bit code segment enters compatibility mode", () => {
    const g = longGuest(`
      jmp fword ptr [0x5000]                    # m16:32
      .code32
    compat:
      mov al, 'C'
      out PORT_DEBUG, al
      hlt
    `);
    g.w32(0x5000, g.label("compat"));
    g.dv.setUint16(0x5004, SEL_CODE32, true);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.cpu.mode).toBe(MODE_32);
    expect(g.cpu.efer & EFER_LMA).toBe(EFER_LMA);
    expect(String.fromCharCode(...g.debug)).toBe("C");
  });

  it("retfq to an outer privilege level loads SS:RSP and nulls inner data segments", () => {
    const g = longGuest(`
      push SEL_UDATA
      push USTACK_TOP
      push SEL_UCODE
      push UCODE
      rex.W retf                                # retfq
    `, "hlt"); // #GP at ring 3
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(1)).toBe(BigInt(UCODE));
    expect(g.stack(2)).toBe(BigInt(SEL_UCODE));
    expect(g.stack(4)).toBe(BigInt(USTACK_TOP));
    expect(g.stack(5)).toBe(BigInt(SEL_UDATA));
    expect(g.cpu.segSel[SEG_DS]).toBe(0); // DS (DPL 0) was nulled on the way out
  });

  it("far jump to a non-code descriptor or with a null selector: #GP", () => {
    const g = longGuest("jmp fword ptr [0x5000]");
    g.w32(0x5000, 0);
    g.dv.setUint16(0x5004, SEL_KDATA, true);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(BigInt(SEL_KDATA));
  });
});

describe("SYSENTER / SYSEXIT", () => {
  it("sysexitq to ring 3 and sysenter back", () => {
    const g = longGuest(`
      mov ecx, 0x174                            # SYSENTER_CS = 0x10
      mov eax, SEL_KCODE
      xor edx, edx
      wrmsr
      mov ecx, 0x175                            # SYSENTER_ESP = 0x90000
      mov eax, RSP0_TOP
      wrmsr
      mov ecx, 0x176                            # SYSENTER_EIP = 0x101100
      mov eax, 0x101100
      wrmsr
      mov rdx, UCODE
      mov rcx, USTACK_TOP
      sysexitq
    `, `
      mov al, 'S'
      out PORT_DEBUG, al
      sysenter
    `);
    g.loadAsm(0x101100, "hlt");
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
    const g = longGuest(`
      mov rax, 5
      mov cr8, rax
      mov rbx, cr8
      mov rax, 0x1234
      mov dr0, rax
      mov rcx, dr0
      mov r10, dr6
      mov rsi, dr7
      clts
      rdtsc
      mov r15d, eax
      xor eax, eax
      cpuid
      stac
      clac
      hlt
    `);
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
    const ud = longGuest("mov cr1, rax");
    expect(ud.runToHandler()).toBe(6);
    const de = longGuest("mov rax, dr4; hlt");
    expect(de.run()).toBe(RUN_HALT);
    expect(de.reg(0)).toBe(0xffff0ff0n);
    const de2 = longGuest("mov rax, dr4");
    de2.cpu.cr4 |= 1 << 3;
    expect(de2.runToHandler()).toBe(6);
  });

  it("rdtsc at ring 3 with CR4.TSD: #GP(0)", () => {
    const g = longGuest(TO_RING3, "rdtsc");
    g.cpu.cr4 |= 1 << 2;
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(1)).toBe(BigInt(UCODE));
  });
});

describe("port I/O", () => {
  it("16- and 32-bit out, in, rep outsb, rep insw", () => {
    const g = longGuest(`
      mov dx, PORT_DEBUG
      mov ax, 0x1234
      out dx, ax
      mov eax, 0x89abcdef
      out dx, eax
      in al, 0x60
      mov rsi, 0x5000
      mov ecx, 3
      rep outsb
      mov rdi, 0x5100
      mov ecx, 2
      rep insw
      hlt
    `);
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
    const g = longGuest(`
      mov ax, SEL_KDATA
      mov fs, ax
      mov ecx, 0xc0000100                       # FS.base
      rdmsr
      mov r8d, eax
      push fs
      pop rbx
      mov ax, SEL_UDATA
      mov es, ax
      mov ecx, es
      lss eax, fword ptr [0x5000]
      hlt
    `);
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
    const g = longGuest("mov ax, SEL_UDATA; mov ss, ax");
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(BigInt(SEL_UDATA & ~3));
    const h = longGuest("mov cs, ax");
    expect(h.runToHandler()).toBe(6);
    expect(h.cpu.rip).toBe(HANDLERS + 6 * 16 + 1);
  });
});
