// Guest programs for multi-step system flows: SYSCALL/SYSRET and INT round trips
// between rings 0 and 3, SWAPGS, TLB invalidation with INVLPG, self-modifying
// code, double and triple faults, real-mode IVT delivery and 32-bit protected-mode
// delivery with a TSS stack switch and IRETD back to ring 3.
import { describe, expect, it } from "vitest";
import { CR0_PE, MODE_16, MODE_32, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { MachineStop } from "../src/emulator/cpu/fault.js";
import { SEG_CS, SEG_DS, SEG_ES, SEG_SS } from "../src/emulator/cpu/insn.js";
import {
  GDT, Guest, HANDLERS, IDT, IST1_TOP, KCODE, RSP0_TOP, SEL_CODE32, SEL_KCODE, SEL_KDATA, SEL_UCODE, SEL_UCODE32,
  SEL_UDATA, TSS, UCODE, UDATA, USTACK_TOP, code, segmentDescriptor,
} from "./cpu-system-harness.js";

const EXC_DF = 8;
const EXC_NP = 11;
const EXC_GP = 13;

function longGuest(kernel: string[], user?: string[]): Guest {
  const g = new Guest();
  g.enterLongMode();
  g.load(KCODE, code(kernel));
  if (user) g.load(UCODE, code(user));
  return g;
}

describe("ring transitions", () => {
  it("ring 0 → 3 by IRETQ, 3 → 0 by SYSCALL, back by SYSRETQ, then 3 → 0 by INT through TSS.RSP0", () => {
    const g = longGuest([
      "b9 81 00 00 c0", // mov ecx, 0xc0000081      STAR: SYSCALL CS 0x10, SYSRET base 0x20
      "31 c0", // xor eax, eax
      "ba 10 00 20 00", // mov edx, 0x00200010
      "0f 30", // wrmsr
      "b9 82 00 00 c0", // mov ecx, 0xc0000082      LSTAR = 0x101100
      "b8 00 11 10 00", // mov eax, 0x101100
      "31 d2", // xor edx, edx
      "0f 30", // wrmsr
      "b9 84 00 00 c0", // mov ecx, 0xc0000084      SFMASK = IF
      "b8 00 02 00 00", // mov eax, 0x200
      "0f 30", // wrmsr
      "6a 2b", // push 0x2b
      "68 00 30 20 00", // push 0x203000
      "68 02 02 00 00", // push 0x202
      "6a 33", // push 0x33
      "68 00 00 20 00", // push 0x200000
      "48 cf", // iretq
    ], [
      "b0 41", // mov al, 0x41
      "e6 e9", // out 0xe9, al
      "0f 05", // syscall
      "b0 42", // mov al, 0x42
      "e6 e9", // out 0xe9, al
      "cd 80", // int 0x80
    ]);
    g.load(0x101100, code([
      "b0 4b", // mov al, 0x4b
      "e6 e9", // out 0xe9, al
      "48 89 cb", // mov rbx, rcx
      "4c 89 de", // mov rsi, r11
      "48 89 e7", // mov rdi, rsp
      "48 0f 07", // sysretq
    ]));
    expect(g.runToHandler()).toBe(0x80);
    expect(String.fromCharCode(...g.debug)).toBe("AKB");
    expect(g.reg(3)).toBe(BigInt(UCODE + 6)); // RCX saved by SYSCALL: the instruction after it
    expect(g.reg(6) & 0x200n).toBe(0x200n); // R11 = user RFLAGS (IF set)
    expect(g.reg(7)).toBe(BigInt(USTACK_TOP)); // SYSCALL does not switch stacks
    // The INT 0x80 frame on the RSP0 stack.
    expect(g.rsp()).toBe(BigInt(RSP0_TOP - 40));
    expect(g.stack(0)).toBe(BigInt(UCODE + 12));
    expect(g.stack(1)).toBe(BigInt(SEL_UCODE));
    expect(g.stack(3)).toBe(BigInt(USTACK_TOP));
    expect(g.stack(4)).toBe(BigInt(SEL_UDATA));
    expect(g.cpu.cpl).toBe(0);
    expect(g.cpu.segSel[SEG_CS]).toBe(SEL_KCODE);
  });

  it("SYSRETQ to a non-canonical RCX raises #GP(0) in ring 0", () => {
    const g = longGuest([
      "b9 81 00 00 c0", // mov ecx, 0xc0000081
      "31 c0", // xor eax, eax
      "ba 10 00 20 00", // mov edx, 0x00200010
      "0f 30", // wrmsr
      "48 b9 00 00 00 00 00 80 00 00", // movabs rcx, 0x800000000000
      "48 0f 07", // sysretq
    ]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(2)).toBe(BigInt(SEL_KCODE)); // still ring 0
  });

  it("SWAPGS exchanges GS.base and KERNEL_GS_BASE", () => {
    const g = longGuest([
      "b9 01 01 00 c0", // mov ecx, 0xc0000101
      "b8 00 10 11 01", // mov eax, 0x1111000
      "31 d2", // xor edx, edx
      "0f 30", // wrmsr
      "b9 02 01 00 c0", // mov ecx, 0xc0000102
      "b8 00 10 20 00", // mov eax, 0x201000
      "0f 30", // wrmsr
      "0f 01 f8", // swapgs
      "65 48 8b 04 25 08 00 00 00", // mov rax, qword ptr gs:[8]
      "b9 01 01 00 c0", // mov ecx, 0xc0000101
      "0f 32", // rdmsr
      "89 c3", // mov ebx, eax
      "b9 02 01 00 c0", // mov ecx, 0xc0000102
      "0f 32", // rdmsr
      "f4", // hlt
    ]);
    g.w64(UDATA + 8, 0xfeedfacecafebeefn);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.reg(0)).toBe(0x1111000n); // KERNEL_GS_BASE now holds the old GS base (read last into EAX)
    expect(g.reg(3)).toBe(BigInt(UDATA)); // GS base
    // The gs: load happened while GS.base was UDATA.
    const h = longGuest([
      "b9 02 01 00 c0", // mov ecx, 0xc0000102
      "b8 00 10 20 00", // mov eax, 0x201000
      "31 d2", // xor edx, edx
      "0f 30", // wrmsr
      "0f 01 f8", // swapgs
      "65 48 8b 04 25 08 00 00 00", // mov rax, qword ptr gs:[8]
      "f4", // hlt
    ]);
    h.w64(UDATA + 8, 0xfeedfacecafebeefn);
    expect(h.run()).toBe(RUN_HALT);
    expect(h.reg(0)).toBe(0xfeedfacecafebeefn);
  });
});

describe("TLB and code caching", () => {
  it("a changed PTE is not seen until INVLPG", () => {
    const g = longGuest([
      "48 8b 04 25 00 00 60 00", // mov rax, qword ptr [0x600000]
      "48 c7 04 25 00 60 01 00 03 10 50 00", // mov qword ptr [0x16000], 0x501003   (PTE of 0x600000 → 0x501000)
      "48 8b 1c 25 00 00 60 00", // mov rbx, qword ptr [0x600000]     (stale translation)
      "0f 01 3c 25 00 00 60 00", // invlpg [0x600000]
      "48 8b 0c 25 00 00 60 00", // mov rcx, qword ptr [0x600000]     (new translation)
      "f4", // hlt
    ]);
    g.setPte(0x600000, 0x500000n | 3n);
    g.w64(0x500000, 0x1111n);
    g.w64(0x501000, 0x2222n);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.reg(0)).toBe(0x1111n);
    expect(g.reg(3)).toBe(0x1111n);
    expect(g.reg(1)).toBe(0x2222n);
  });

  it("self-modifying code: a store into the next instruction's bytes is executed", () => {
    const g = longGuest([
      "48 8d 3d 04 00 00 00", // lea rdi, [rip + target]
      "c6 47 01 42", // mov byte ptr [rdi + 1], 0x42
      // target:
      "b0 41", // mov al, 0x41       (becomes mov al, 0x42)
      "e6 e9", // out 0xe9, al
      "f4", // hlt
    ]);
    expect(g.run()).toBe(RUN_HALT);
    expect(String.fromCharCode(...g.debug)).toBe("B");
  });
});

describe("double and triple faults", () => {
  it("#GP whose gate is not present raises #NP during delivery: contributory twice → #DF(0)", () => {
    const g = longGuest(["66 b8 60 00", /* mov ax, 0x60 */ "8e d8", /* mov ds, ax */ "f4" /* hlt */]);
    g.gate64(EXC_GP, HANDLERS + 16 * EXC_GP, { present: false });
    expect(g.runToHandler()).toBe(EXC_DF);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(1)).toBe(BigInt(KCODE + 4));
  });

  it("#PF while delivering #PF → #DF (delivered on its IST stack)", () => {
    const g = longGuest(["48 8b 04 25 00 00 40 00", /* mov rax, qword ptr [0x400000] */ "f4" /* hlt */]);
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
    const g = longGuest(["0f 0b" /* ud2 */]);
    g.gate64(6, HANDLERS + 16 * 6, { present: false });
    expect(g.runToHandler()).toBe(EXC_NP);
    expect(g.stack(0)).toBe(6n * 8n + 2n + 1n);
  });

  it("an exception with an empty IDT ends in a triple fault that stops the machine", () => {
    const g = longGuest(["0f 0b" /* ud2 */]);
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
    g.load(0x500, code(["f4", /* hlt */ "cf" /* iret */]));
    g.load(0x7c00, code([
      // .code16
      "b8 34 12", // mov ax, 0x1234
      "8e d8", // mov ds, ax
      "cd 10", // int 0x10
      "b0 52", // mov al, 0x52
      "e6 e9", // out 0xe9, al
      "f4", // hlt
    ]));
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
    expect(g.dv.getUint16(0x7000 - 6, true)).toBe(0x7c07); // IP after INT
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
    g.load(HANDLERS + 16 * EXC_GP, code(["f4" /* hlt */]));
    g.load(0x310000, code(["f4", /* hlt */ "cf" /* iretd */]));
    g.load(0x200000, code(["cd 80", /* int 0x80 */ "f4" /* hlt */]));
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
    expect([0, 1, 3, 4].map((k) => g.r32(esp + 4 * k))).toEqual([0x200002, SEL_UCODE32, USTACK_TOP, SEL_UDATA]);

    // IRETD back to ring 3, where HLT raises #GP(0) through the DPL-0 gate.
    expect(g.resume()).toBe(RUN_HALT);
    expect(cpu.rip).toBe(HANDLERS + 16 * EXC_GP + 1);
    const esp2 = cpu.r[8]! >>> 0;
    expect(esp2).toBe(RSP0_TOP - 24);
    expect([0, 1, 2].map((k) => g.r32(esp2 + 4 * k))).toEqual([0, 0x200002, SEL_UCODE32]);
  });
});
