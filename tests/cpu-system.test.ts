// Guest programs for the system side of the CPU: the 32→64-bit switch a Multiboot
// kernel performs, #PF / #GP / #NP delivery with exact error codes, interrupt vs
// trap gates, IST and RSP0 stack switches, and rings 0↔3 through IRETQ.
import { describe, expect, it } from "vitest";
import { CR0_PE, EFER_LMA, EFER_LME, MODE_32, MODE_64, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { SEG_CS, SEG_SS } from "../src/emulator/cpu/insn.js";
import {
  GDT, Guest, HANDLERS, IST1_TOP, KCODE, KSTACK_TOP, PORT_DEBUG, RSP0_TOP, SEL_KCODE, SEL_KDATA, SEL_UCODE, SEL_UDATA,
  UCODE, USTACK_TOP, code,
} from "./cpu-system-harness.js";

const EXC_NP = 11;
const EXC_GP = 13;
const EXC_PF = 14;

/** Kernel snippet: enter ring 3 at UCODE with RSP = USTACK_TOP, IF = 1. */
const TO_RING3 = [
  "6a 2b", // push 0x2b
  "68 00 30 20 00", // push 0x203000
  "68 02 02 00 00", // push 0x202
  "6a 33", // push 0x33
  "68 00 00 20 00", // push 0x200000
  "48 cf", // iretq
];

/** A long-mode guest with `kernel` at KCODE and optional `user` code at UCODE. */
function longGuest(kernel: string[], user?: string[]): Guest {
  const g = new Guest();
  g.enterLongMode();
  g.load(KCODE, code(kernel));
  if (user) g.load(UCODE, code(user));
  return g;
}

describe("32-bit to 64-bit mode switch", () => {
  it("goes from flat 32-bit protected mode to 64-bit long mode like a Multiboot kernel", () => {
    const g = new Guest();
    g.buildGdt();
    // GDTR pseudo-descriptor for the guest's lgdt.
    g.dv.setUint16(0x1ff0, 0x57, true);
    g.w32(0x1ff2, GDT);
    const cpu = g.cpu;
    cpu.cr0 = (cpu.cr0 | CR0_PE) >>> 0; // Multiboot entry: protected mode, paging off, flat segments
    cpu.rip = 0x100000;
    g.load(0x100000, code([
      // .code32
      "0f 01 15 f0 1f 00 00", // lgdt [0x1ff0]
      "66 b8 18 00", // mov ax, 0x18
      "8e d8", // mov ds, ax
      "8e c0", // mov es, ax
      "8e d0", // mov ss, ax
      "bc 00 f0 09 00", // mov esp, 0x9f000
      "bf 00 00 01 00", // mov edi, 0x10000
      "31 c0", // xor eax, eax
      "b9 00 0c 00 00", // mov ecx, 0xc00
      "fc", // cld
      "f3 ab", // rep stosd                           (zero PML4, PDPT, PD)
      "c7 05 00 00 01 00 03 10 01 00", // mov dword ptr [0x10000], 0x11003   PML4[0] → PDPT
      "c7 05 00 10 01 00 03 20 01 00", // mov dword ptr [0x11000], 0x12003   PDPT[0] → PD
      "c7 05 00 20 01 00 83 00 00 00", // mov dword ptr [0x12000], 0x000083  2 MiB pages
      "c7 05 08 20 01 00 83 00 20 00", // mov dword ptr [0x12008], 0x200083
      "c7 05 10 20 01 00 83 00 40 00", // mov dword ptr [0x12010], 0x400083
      "c7 05 18 20 01 00 83 00 60 00", // mov dword ptr [0x12018], 0x600083
      "0f 20 e0", // mov eax, cr4
      "83 c8 20", // or eax, 0x20                      (PAE)
      "0f 22 e0", // mov cr4, eax
      "b8 00 00 01 00", // mov eax, 0x10000
      "0f 22 d8", // mov cr3, eax
      "b9 80 00 00 c0", // mov ecx, 0xc0000080
      "0f 32", // rdmsr
      "0d 00 01 00 00", // or eax, 0x100                (EFER.LME)
      "0f 30", // wrmsr
      "0f 20 c0", // mov eax, cr0
      "0d 00 00 00 80", // or eax, 0x80000000           (PG: activates long mode)
      "0f 22 c0", // mov cr0, eax
      "ea 92 00 10 00 10 00", // jmp 0x10:long64
      // .code64
      // long64: (0x100092)
      "66 b8 18 00", // mov ax, 0x18
      "8e d8", // mov ds, ax
      "48 c7 c4 00 f0 09 00", // mov rsp, 0x9f000
      "b0 4c", // mov al, 0x4c
      "e6 e9", // out 0xe9, al
      "48 bb f0 de bc 9a 78 56 34 12", // mov rbx, 0x123456789abcdef0
      "53", // push rbx
      "59", // pop rcx
      "f4", // hlt
    ]));
    expect(cpu.mode).toBe(MODE_32);
    expect(g.run()).toBe(RUN_HALT);
    expect(cpu.mode).toBe(MODE_64);
    expect(cpu.efer & (EFER_LME | EFER_LMA)).toBe(EFER_LME | EFER_LMA);
    expect(cpu.segSel[SEG_CS]).toBe(SEL_KCODE);
    expect(cpu.stackSize).toBe(8);
    expect(String.fromCharCode(...g.debug)).toBe("L");
    expect(g.reg(1)).toBe(0x123456789abcdef0n);
    expect(cpu.rip).toBe(0x1000b0); // after the hlt at 0x1000af
    // The accessed bit of the loaded data descriptor was set in the GDT.
    expect(g.r32(GDT + SEL_KDATA + 4) & 0x100).toBe(0x100);
  });
});

describe("page faults", () => {
  it("not present: error code 0, CR2, RIP of the faulting instruction", () => {
    const g = longGuest(["48 8b 04 25 00 00 40 00", /* mov rax, qword ptr [0x400000] */ "f4" /* hlt */]);
    g.setPte(0x400000, 0n);
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(0n); // error code
    expect(g.stack(1)).toBe(BigInt(KCODE)); // RIP
    expect(g.stack(2)).toBe(BigInt(SEL_KCODE)); // CS
    expect(g.stack(5)).toBe(BigInt(SEL_KDATA)); // SS
    expect(g.cpu.cr2).toBe(0x400000);
    expect(g.rsp()).toBe(BigInt(KSTACK_TOP - 48));
  });

  it("write to a read-only page with CR0.WP: P|W", () => {
    const g = longGuest(["48 89 04 25 00 00 40 00", /* mov qword ptr [0x400000], rax */ "f4" /* hlt */]);
    g.setPte(0x400000, 0x400000n | 1n);
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(3n);
    expect(g.cpu.cr2).toBe(0x400000);
  });

  it("user read of a supervisor page: P|U, frame carries the ring-3 CS/SS", () => {
    const g = longGuest(TO_RING3, ["48 8b 04 25 00 00 40 00", /* mov rax, qword ptr [0x400000] */ "f4" /* hlt */]);
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(5n);
    expect(g.stack(1)).toBe(BigInt(UCODE));
    expect(g.stack(2)).toBe(BigInt(SEL_UCODE));
    expect(g.stack(4)).toBe(BigInt(USTACK_TOP));
    expect(g.stack(5)).toBe(BigInt(SEL_UDATA));
    // Ring 3 → 0 switched to TSS.RSP0 and loaded a null SS with RPL 0.
    expect(g.rsp()).toBe(BigInt(RSP0_TOP - 48));
    expect(g.cpu.cpl).toBe(0);
    expect(g.cpu.segSel[SEG_SS]).toBe(0);
  });

  it("instruction fetch from an NX page: P|I, RIP = CR2 = the target", () => {
    const g = longGuest([
      "6a 10", // push 0x10
      "68 00 00 40 00", // push 0x400000
      "48 cb", // retfq
    ]);
    g.setPte(0x400000, 0x400000n | 3n | (1n << 63n));
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(0x11n);
    expect(g.stack(1)).toBe(0x400000n);
    expect(g.cpu.cr2).toBe(0x400000);
  });

  it("reserved bit set in a PTE: P|RSVD", () => {
    const g = longGuest(["48 8b 04 25 00 00 40 00", /* mov rax, qword ptr [0x400000] */ "f4" /* hlt */]);
    g.setPte(0x400000, 0x400000n | 3n | (1n << 51n));
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(9n);
  });
});

describe("general protection and segment-not-present", () => {
  it("selector beyond the GDT limit: #GP(selector)", () => {
    const g = longGuest(["66 b8 60 00", /* mov ax, 0x60 */ "8e d8", /* mov ds, ax */ "f4" /* hlt */]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0x60n);
    expect(g.stack(1)).toBe(BigInt(KCODE + 4));
  });

  it("not-present data segment: #NP(selector)", () => {
    const g = longGuest(["66 b8 48 00", /* mov ax, 0x48 */ "8e d8", /* mov ds, ax */ "f4" /* hlt */]);
    expect(g.runToHandler()).toBe(EXC_NP);
    expect(g.stack(0)).toBe(0x48n);
  });

  it("INT n through a DPL-0 gate from ring 3: #GP(n*8+2) at the INT instruction", () => {
    const g = longGuest(TO_RING3, ["cd 40", /* int 0x40 */ "f4" /* hlt */]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0x40n * 8n + 2n);
    expect(g.stack(1)).toBe(BigInt(UCODE));
  });

  it("non-canonical address: #GP(0)", () => {
    const g = longGuest([
      "48 b8 00 00 00 00 00 80 00 00", // mov rax, 0x0000800000000000
      "48 8b 18", // mov rbx, qword ptr [rax]
      "f4", // hlt
    ]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(1)).toBe(BigInt(KCODE + 10));
  });

  it.each([
    ["hlt", ["f4"]],
    ["mov rax, cr0", ["0f 20 c0"]],
    ["cli (IOPL 0)", ["fa"]],
    ["rdmsr", ["0f 32"]],
    ["wrmsr", ["0f 30"]],
    ["swapgs", ["0f 01 f8"]],
    ["lgdt [0x5000]", ["0f 01 14 25 00 50 00 00"]],
    ["invlpg [0x5000]", ["0f 01 3c 25 00 50 00 00"]],
    ["ltr ax", ["0f 00 d8"]],
    ["sysretq", ["48 0f 07"]],
    ["clts", ["0f 06"]],
    ["wbinvd", ["0f 09"]],
    ["mov cr3, rax", ["0f 22 d8"]],
  ])("privileged %s at ring 3: #GP(0)", (_name, user) => {
    const g = longGuest(TO_RING3, user);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(1)).toBe(BigInt(UCODE));
  });

  it("ring-3 port I/O follows the TSS I/O permission bitmap", () => {
    const g = longGuest(TO_RING3, [
      "b0 55", // mov al, 0x55
      "e6 e9", // out 0xe9, al     (allowed by the bitmap)
      "e6 80", // out 0x80, al     (denied: #GP(0))
    ]);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.debug).toEqual([0x55]);
    expect(g.writes.length).toBe(1);
    expect(g.stack(1)).toBe(BigInt(UCODE + 4));
  });
});

describe("gates and stacks", () => {
  it("an interrupt gate clears IF, a trap gate keeps it", () => {
    for (const [vector, type, ifInHandler] of [[0x40, 0xe, 0], [0x41, 0xf, 0x200]] as const) {
      const g = longGuest(["fb", /* sti */ `cd ${vector.toString(16)}` /* int vector */]);
      g.gate64(vector, HANDLERS + 16 * vector, { type });
      expect(g.runToHandler()).toBe(vector);
      expect(g.cpu.getFlags() & 0x200).toBe(ifInHandler);
      expect(g.stack(2) & 0x200n).toBe(0x200n); // saved RFLAGS had IF
      expect(g.stack(0)).toBe(BigInt(KCODE + 3)); // INT n: RIP after the instruction
    }
  });

  it("IST switches to the TSS stack even without a privilege change; stacks are 16-byte aligned", () => {
    const g = longGuest(["48 c7 c4 f8 ef 09 00", /* mov rsp, 0x9eff8 */ "cd 42" /* int 0x42 */]);
    g.gate64(0x42, HANDLERS + 16 * 0x42, { ist: 1 });
    expect(g.runToHandler()).toBe(0x42);
    expect(g.rsp()).toBe(BigInt(IST1_TOP - 40));
    expect(g.stack(3)).toBe(0x9eff8n); // old RSP

    const h = longGuest(["48 c7 c4 f8 ef 09 00", /* mov rsp, 0x9eff8 */ "cd 43" /* int 0x43 */]);
    expect(h.runToHandler()).toBe(0x43);
    expect(h.rsp()).toBe(BigInt(0x9eff0 - 40)); // aligned down from 0x9eff8
  });

  it("an external interrupt waits for the instruction after STI", () => {
    const g = longGuest([
      "fb", // sti
      "89 db", // mov ebx, ebx
      "89 db", // mov ebx, ebx
      "f4", // hlt
    ]);
    let acks = 0;
    g.cpu.intrAck = () => (acks++ === 0 ? 0x50 : -1);
    g.cpu.setIntrLine(true);
    expect(g.runToHandler()).toBe(0x50);
    expect(acks).toBe(1);
    expect(g.stack(0)).toBe(BigInt(KCODE + 3)); // after sti and one instruction
    expect(g.cpu.getFlags() & 0x200).toBe(0);
  });

  it("debug port output", () => {
    const g = longGuest(["b0 41", /* mov al, 0x41 */ "e6 e9", /* out 0xe9, al */ "f4" /* hlt */]);
    expect(g.run()).toBe(RUN_HALT);
    expect(g.writes).toEqual([[PORT_DEBUG, 1, 0x41]]);
  });
});
