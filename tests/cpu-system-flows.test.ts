// Guest programs for multi-step system flows: SYSCALL/SYSRET and INT round trips
// between rings 0 and 3, SWAPGS, TLB invalidation with INVLPG, self-modifying
// code, double and triple faults, real-mode IVT delivery and 32-bit protected-mode
// delivery with a TSS stack switch and IRETD back to ring 3.
import { describe, expect, it } from "vitest";
import { CR0_PE, MODE_16, MODE_32, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { MachineStop } from "../src/emulator/cpu/fault.js";
import { SEG_CS, SEG_DS, SEG_ES, SEG_SS } from "../src/emulator/cpu/insn.js";
import {
  GDT, Guest, HANDLERS, IDT, IST1_TOP, RSP0_TOP, SEL_CODE32, SEL_KCODE, SEL_KDATA, SEL_UCODE, SEL_UCODE32,
  SEL_UDATA, TO_RING3, TSS, UDATA, USTACK_TOP, longGuest, segmentDescriptor,
} from "./cpu-system-harness.js";

const EXC_DF = 8;
const EXC_NP = 11;
const EXC_GP = 13;

describe("ring transitions", () => {
  it("ring 0 → 3 by IRETQ, 3 → 0 by SYSCALL, back by SYSRETQ, then 3 → 0 by INT through TSS.RSP0", () => {
    const g = longGuest(`
      mov ecx, 0xc0000081                       # STAR: SYSCALL CS 0x10, SYSRET base 0x20
      xor eax, eax
      mov edx, 0x00200010
      wrmsr
      mov ecx, 0xc0000082                       # LSTAR = 0x101100
      mov eax, 0x101100
      xor edx, edx
      wrmsr
      mov ecx, 0xc0000084                       # SFMASK = IF
      mov eax, 0x200
      wrmsr
    ${TO_RING3}`, `
      mov al, 0x41
      out PORT_DEBUG, al
      syscall
    after_syscall:
      mov al, 0x42
      out PORT_DEBUG, al
      int 0x80
    after_int:
    `);
    g.loadAsm(0x101100, `
      mov al, 0x4b
      out PORT_DEBUG, al
      mov rbx, rcx
      mov rsi, r11
      mov rdi, rsp
      sysretq
    `);
    expect(g.runToHandler()).toBe(0x80);
    expect(String.fromCharCode(...g.debug)).toBe("AKB");
    expect(g.reg(3)).toBe(BigInt(g.label("after_syscall"))); // RCX saved by SYSCALL: the instruction after it
    expect(g.reg(6) & 0x200n).toBe(0x200n); // R11 = user RFLAGS (IF set)
    expect(g.reg(7)).toBe(BigInt(USTACK_TOP)); // SYSCALL does not switch stacks
    // The INT 0x80 frame on the RSP0 stack.
    expect(g.rsp()).toBe(BigInt(RSP0_TOP - 40));
    expect(g.stack(0)).toBe(BigInt(g.label("after_int")));
    expect(g.stack(1)).toBe(BigInt(SEL_UCODE));
    expect(g.stack(3)).toBe(BigInt(USTACK_TOP));
    expect(g.stack(4)).toBe(BigInt(SEL_UDATA));
    expect(g.cpu.cpl).toBe(0);
    expect(g.cpu.segSel[SEG_CS]).toBe(SEL_KCODE);
  });

  it("SYSRETQ to a non-canonical RCX raises #GP(0) in ring 0", () => {
    const g = longGuest(`
      mov ecx, 0xc0000081
      xor eax, eax
      mov edx, 0x00200010
      wrmsr
      movabs rcx, 0x800000000000
      sysretq
    `);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(2)).toBe(BigInt(SEL_KCODE)); // still ring 0
  });

  it("SWAPGS exchanges GS.base and KERNEL_GS_BASE", () => {
    const g = longGuest(`
      mov ecx, 0xc0000101                       # GS.base
      mov eax, 0x1111000
      xor edx, edx
      wrmsr
      mov ecx, 0xc0000102                       # KERNEL_GS_BASE
      mov eax, UDATA
      wrmsr
      swapgs
      mov rax, qword ptr gs:[8]
      mov ecx, 0xc0000101
      rdmsr
      mov ebx, eax
      mov ecx, 0xc0000102
      rdmsr
      hlt
    `);
    g.w64(UDATA + 8, 0xfeedfacecafebeefn);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.reg(0)).toBe(0x1111000n); // KERNEL_GS_BASE now holds the old GS base (read last into EAX)
    expect(g.reg(3)).toBe(BigInt(UDATA)); // GS base
    // The gs: load happened while GS.base was UDATA.
    const h = longGuest(`
      mov ecx, 0xc0000102
      mov eax, UDATA
      xor edx, edx
      wrmsr
      swapgs
      mov rax, qword ptr gs:[8]
      hlt
    `);
    h.w64(UDATA + 8, 0xfeedfacecafebeefn);
    expect(h.run()).toBe(RUN_HALT);
    expect(h.reg(0)).toBe(0xfeedfacecafebeefn);
  });
});

describe("TLB and code caching", () => {
  it("a changed PTE is not seen until INVLPG", () => {
    const g = longGuest(`
      mov rax, qword ptr [0x600000]
      mov qword ptr [PT + (0x600000 >> 12) * 8], 0x501003   # PTE of 0x600000 → 0x501000
      mov rbx, qword ptr [0x600000]             # stale translation
      invlpg [0x600000]
      mov rcx, qword ptr [0x600000]             # new translation
      hlt
    `);
    g.setPte(0x600000, 0x500000n | 3n);
    g.w64(0x500000, 0x1111n);
    g.w64(0x501000, 0x2222n);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.reg(0)).toBe(0x1111n);
    expect(g.reg(3)).toBe(0x1111n);
    expect(g.reg(1)).toBe(0x2222n);
  });

  it("self-modifying code: a store into the next instruction's bytes is executed", () => {
    const g = longGuest(`
      lea rdi, [rip + target]
      mov byte ptr [rdi + 1], 0x42
    target:
      mov al, 0x41                              # becomes mov al, 0x42
      out PORT_DEBUG, al
      hlt
    `);
    expect(g.run()).toBe(RUN_HALT);
    expect(String.fromCharCode(...g.debug)).toBe("B");
  });
});

describe("double and triple faults", () => {
  it("#GP whose gate is not present raises #NP during delivery: contributory twice → #DF(0)", () => {
    const g = longGuest("mov ax, 0x60; fault: mov ds, ax; hlt");
    g.gate64(EXC_GP, HANDLERS + 16 * EXC_GP, { present: false });
    expect(g.runToHandler()).toBe(EXC_DF);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(1)).toBe(BigInt(g.label("fault")));
  });

  it("#PF while delivering #PF → #DF (delivered on its IST stack)", () => {
    const g = longGuest("mov rax, qword ptr [0x400000]; hlt");
    g.setPte(0x400000, 0n);
    g.setPte(0x6ff000, 0n);
    g.w64(TSS + 0x2c, 0x700000n); // IST2 → an unmapped stack
    g.gate64(14, HANDLERS + 16 * 14, { ist: 2 });
    g.gate64(EXC_DF, HANDLERS + 16 * EXC_DF, { ist: 1 });
    expect(g.runToHandler()).toBe(EXC_DF);
    expect(g.rsp()).toBe(BigInt(IST1_TOP - 48));
    expect(g.stack(0)).toBe(0n);
    expect(g.cpu.cr2).toBe(0x6ffff8);
  });

  it("a benign exception (#UD) whose gate is missing delivers #NP(IDT|EXT), not #DF", () => {
    const g = longGuest("ud2");
    g.gate64(6, HANDLERS + 16 * 6, { present: false });
    expect(g.runToHandler()).toBe(EXC_NP);
    expect(g.stack(0)).toBe(6n * 8n + 2n + 1n);
  });

  it("an exception with an empty IDT ends in a triple fault that stops the machine", () => {
    const g = longGuest("ud2");
    g.cpu.idtLimit = 0;
    let stop: unknown = null;
    try {
      g.run();
    } catch (e) {
      stop = e;
    }
    expect(stop).toBeInstanceOf(MachineStop);
    expect((stop as MachineStop).reason).toBe("triple-fault");
    expect((stop as MachineStop).detail).toContain("#DF");
  });
});

describe("real mode", () => {
  it("INT n through the IVT pushes FLAGS, CS, IP; IRET returns; segment loads use selector * 16", () => {
    const g = new Guest();
    const cpu = g.cpu;
    for (const s of [SEG_CS, SEG_SS, SEG_DS, SEG_ES]) {
      cpu.segAttr[s] = s === SEG_CS ? 0x9b : 0x93;
      cpu.segLimit[s] = 0xffff;
    }
    cpu.cr0 = 0x60000010;
    cpu.idtBase = 0;
    cpu.idtLimit = 0x3ff;
    cpu.setFlags(0x202);
    cpu.setReg(4, 2, 0x7000);
    g.w32(0x10 * 4, 0x00000500); // IVT[0x10] = 0000:0500
    g.loadAsm(0x500, "hlt; iret", 16);
    g.loadAsm(0x7c00, `
      mov ax, 0x1234
      mov ds, ax
      int 0x10
    after_int:
      mov al, 'R'
      out PORT_DEBUG, al
      hlt
    `, 16);
    cpu.rip = 0x7c00;
    // Re-derive the mode from the real-mode CS/SS caches.
    cpu.segAttr[SEG_SS] = 0x93;
    cpu.segAttr[SEG_CS] = 0x9b;
    cpu.mode = MODE_16;
    cpu.stackSize = 2;
    expect(g.run()).toBe(RUN_HALT);
    expect(cpu.rip).toBe(0x501);
    expect(cpu.segBaseLo[SEG_DS]).toBe(0x12340);
    expect(cpu.r[8]! & 0xffff).toBe(0x7000 - 6);
    expect(g.dv.getUint16(0x7000 - 6, true)).toBe(g.label("after_int")); // IP after INT (CS = 0)
    expect(g.dv.getUint16(0x7000 - 4, true)).toBe(0); // CS
    expect(g.dv.getUint16(0x7000 - 2, true) & 0x200).toBe(0x200); // FLAGS with IF
    expect(cpu.getFlags() & 0x200).toBe(0); // IF cleared in the handler
    expect(g.resume()).toBe(RUN_HALT);
    expect(String.fromCharCode(...g.debug)).toBe("R");
    expect(cpu.getFlags() & 0x200).toBe(0x200);
    expect(cpu.r[8]! & 0xffff).toBe(0x7000);
  });
});

describe("32-bit protected mode", () => {
  it("INT 0x80 from ring 3 switches to SS0:ESP0 from the 32-bit TSS; IRETD returns; #GP(0) after", () => {
    const g = new Guest();
    g.buildGdt();
    // A 32-bit TSS (busy) at 0x38 with ESP0/SS0.
    const [lo, hi] = segmentDescriptor(TSS, 0x67, 0x008b);
    g.w32(GDT + 0x38, lo);
    g.w32(GDT + 0x3c, hi);
    g.w32(TSS + 4, RSP0_TOP);
    g.w32(TSS + 8, SEL_KDATA);
    // 32-bit interrupt gates: 0x80 (DPL 3) → 0x310000, #GP → HANDLERS + 13 * 16.
    const gate = (v: number, off: number, dpl: number): void => {
      g.w32(IDT + v * 8, ((off & 0xffff) | (SEL_CODE32 << 16)) >>> 0);
      g.w32(IDT + v * 8 + 4, ((off & 0xffff0000) | 0x8000 | (dpl << 13) | 0xe00) >>> 0);
    };
    gate(0x80, 0x310000, 3);
    gate(EXC_GP, HANDLERS + 16 * EXC_GP, 0);
    g.loadAsm(HANDLERS + 16 * EXC_GP, "hlt", 32);
    g.loadAsm(0x310000, "hlt; iretd", 32);
    g.loadAsm(0x200000, "int 0x80; after_int: hlt", 32);
    const cpu = g.cpu;
    cpu.gdtBase = GDT;
    cpu.gdtLimit = 0x57;
    cpu.idtBase = IDT;
    cpu.idtLimit = 0x7ff;
    cpu.trSel = 0x38;
    cpu.trBase = TSS;
    cpu.trLimit = 0x67;
    cpu.trAttr = 0x8b;
    cpu.cr0 = (cpu.cr0 | CR0_PE) >>> 0;
    cpu.segSel[SEG_CS] = SEL_UCODE32;
    cpu.segAttr[SEG_CS] = 0xc0fb;
    for (const s of [SEG_SS, SEG_DS, SEG_ES]) {
      cpu.segSel[s] = SEL_UDATA;
      cpu.segAttr[s] = 0xc0f3;
    }
    cpu.cpl = 3;
    cpu.updateAccessRights();
    cpu.mode = MODE_32;
    cpu.stackSize = 4;
    cpu.setFlags(0x202);
    cpu.setReg(4, 4, USTACK_TOP);
    cpu.rip = 0x200000;

    expect(g.run()).toBe(RUN_HALT);
    expect(cpu.rip).toBe(0x310001);
    expect(cpu.cpl).toBe(0);
    expect(cpu.segSel[SEG_CS]).toBe(SEL_CODE32);
    expect(cpu.segSel[SEG_SS]).toBe(SEL_KDATA);
    const esp = cpu.r[8]! >>> 0;
    expect(esp).toBe(RSP0_TOP - 20);
    expect([0, 1, 3, 4].map((k) => g.r32(esp + 4 * k))).toEqual([g.label("after_int"), SEL_UCODE32, USTACK_TOP, SEL_UDATA]);

    // IRETD back to ring 3, where HLT raises #GP(0) through the DPL-0 gate.
    expect(g.resume()).toBe(RUN_HALT);
    expect(cpu.rip).toBe(HANDLERS + 16 * EXC_GP + 1);
    const esp2 = cpu.r[8]! >>> 0;
    expect(esp2).toBe(RSP0_TOP - 24);
    expect([0, 1, 2].map((k) => g.r32(esp2 + 4 * k))).toEqual([0, g.label("after_int"), SEL_UCODE32]);
  });
});
