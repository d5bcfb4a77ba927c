// Guest programs for the system side of the CPU: the 32→64-bit switch a Multiboot
// kernel performs, #PF / #GP / #NP delivery with exact error codes, interrupt vs
// trap gates, IST and RSP0 stack switches, and rings 0↔3 through IRETQ.
import { describe, expect, it } from "vitest";
import { CR0_PE, EFER_LMA, EFER_LME, MODE_32, MODE_64, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { SEG_CS, SEG_SS } from "../src/emulator/cpu/insn.js";
import {
  GDT, Guest, HANDLERS, IST1_TOP, KCODE, KSTACK_TOP, PORT_DEBUG, RSP0_TOP, SEL_KCODE, SEL_KDATA, SEL_UCODE, SEL_UDATA,
  TO_RING3, UCODE, USTACK_TOP, longGuest,
} from "./cpu-system-harness.js";

const EXC_NP = 11;
const EXC_GP = 13;
const EXC_PF = 14;

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
    g.loadAsm(0x100000, `
      .code32
      lgdt [0x1ff0]
      mov ax, SEL_KDATA
      mov ds, ax
      mov es, ax
      mov ss, ax
      mov esp, KSTACK_TOP
      mov edi, PML4
      xor eax, eax
      mov ecx, 0xc00
      cld
      rep stosd                                 # zero PML4, PDPT, PD
      mov dword ptr [PML4], PDPT | 3            # PML4[0] → PDPT
      mov dword ptr [PDPT], PD | 3              # PDPT[0] → PD
      mov dword ptr [PD], 0x000083              # 2 MiB pages
      mov dword ptr [PD + 8], 0x200083
      mov dword ptr [PD + 0x10], 0x400083
      mov dword ptr [PD + 0x18], 0x600083
      mov eax, cr4
      or eax, 0x20                              # PAE
      mov cr4, eax
      mov eax, PML4
      mov cr3, eax
      mov ecx, 0xc0000080
      rdmsr
      or eax, 0x100                             # EFER.LME
      wrmsr
      mov eax, cr0
      or eax, 0x80000000                        # PG: activates long mode
      mov cr0, eax
      jmp SEL_KCODE:long64
      .code64
    long64:
      mov ax, SEL_KDATA
      mov ds, ax
      mov rsp, KSTACK_TOP
      mov al, 'L'
      out PORT_DEBUG, al
      mov rbx, 0x123456789abcdef0
      push rbx
      pop rcx
      hlt
    after_hlt:
    `, 32);
    expect(cpu.mode).toBe(MODE_32);
    expect(g.run()).toBe(RUN_HALT);
    expect(cpu.mode).toBe(MODE_64);
    expect(cpu.efer & (EFER_LME | EFER_LMA)).toBe(EFER_LME | EFER_LMA);
    expect(cpu.segSel[SEG_CS]).toBe(SEL_KCODE);
    expect(cpu.stackSize).toBe(8);
    expect(String.fromCharCode(...g.debug)).toBe("L");
    expect(g.reg(1)).toBe(0x123456789abcdef0n);
    expect(cpu.rip).toBe(g.label("after_hlt")); // the instruction after the final hlt
    // The accessed bit of the loaded data descriptor was set in the GDT.
    expect(g.r32(GDT + SEL_KDATA + 4) & 0x100).toBe(0x100);
  });
});

describe("page faults", () => {
  it("not present: error code 0, CR2, RIP of the faulting instruction", () => {
    const g = longGuest("mov rax, qword ptr [0x400000]; hlt");
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
    const g = longGuest("mov qword ptr [0x400000], rax; hlt");
    g.setPte(0x400000, 0x400000n | 1n);
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(3n);
    expect(g.cpu.cr2).toBe(0x400000);
  });

  it("user read of a supervisor page: P|U, frame carries the ring-3 CS/SS", () => {
    const g = longGuest(TO_RING3, "mov rax, qword ptr [0x400000]; hlt");
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
    const g = longGuest(`
      push SEL_KCODE
      push 0x400000
      rex.W retf                                # retfq
    `);
    g.setPte(0x400000, 0x400000n | 3n | (1n << 63n));
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(0x11n);
    expect(g.stack(1)).toBe(0x400000n);
    expect(g.cpu.cr2).toBe(0x400000);
  });

  it("reserved bit set in a PTE: P|RSVD", () => {
    const g = longGuest("mov rax, qword ptr [0x400000]; hlt");
    g.setPte(0x400000, 0x400000n | 3n | (1n << 51n));
    expect(g.runToHandler()).toBe(EXC_PF);
    expect(g.stack(0)).toBe(9n);
  });
});

describe("general protection and segment-not-present", () => {
  it("selector beyond the GDT limit: #GP(selector)", () => {
    const g = longGuest("mov ax, 0x60; fault: mov ds, ax; hlt");
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0x60n);
    expect(g.stack(1)).toBe(BigInt(g.label("fault")));
  });

  it("not-present data segment: #NP(selector)", () => {
    const g = longGuest("mov ax, SEL_NOT_PRESENT; mov ds, ax; hlt");
    expect(g.runToHandler()).toBe(EXC_NP);
    expect(g.stack(0)).toBe(0x48n);
  });

  it("INT n through a DPL-0 gate from ring 3: #GP(n*8+2) at the INT instruction", () => {
    const g = longGuest(TO_RING3, "int 0x40; hlt");
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0x40n * 8n + 2n);
    expect(g.stack(1)).toBe(BigInt(UCODE));
  });

  it("non-canonical address: #GP(0)", () => {
    const g = longGuest(`
      mov rax, 0x0000800000000000
    fault:
      mov rbx, qword ptr [rax]
      hlt
    `);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(1)).toBe(BigInt(g.label("fault")));
  });

  it.each([
    ["hlt", "hlt"],
    ["mov rax, cr0", "mov rax, cr0"],
    ["cli (IOPL 0)", "cli"],
    ["rdmsr", "rdmsr"],
    ["wrmsr", "wrmsr"],
    ["swapgs", "swapgs"],
    ["lgdt [0x5000]", "lgdt [0x5000]"],
    ["invlpg [0x5000]", "invlpg [0x5000]"],
    ["ltr ax", "ltr ax"],
    ["sysretq", "sysretq"],
    ["clts", "clts"],
    ["wbinvd", "wbinvd"],
    ["mov cr3, rax", "mov cr3, rax"],
  ])("privileged %s at ring 3: #GP(0)", (_name, user) => {
    const g = longGuest(TO_RING3, user);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.stack(0)).toBe(0n);
    expect(g.stack(1)).toBe(BigInt(UCODE));
  });

  it("ring-3 port I/O follows the TSS I/O permission bitmap", () => {
    const g = longGuest(TO_RING3, `
      mov al, 0x55
      out PORT_DEBUG, al                        # allowed by the bitmap
    denied:
      out 0x80, al                              # denied: #GP(0)
    `);
    expect(g.runToHandler()).toBe(EXC_GP);
    expect(g.debug).toEqual([0x55]);
    expect(g.writes.length).toBe(1);
    expect(g.stack(1)).toBe(BigInt(g.label("denied")));
  });
});

describe("gates and stacks", () => {
  it("an interrupt gate clears IF, a trap gate keeps it", () => {
    for (const [vector, type, ifInHandler] of [[0x40, 0xe, 0], [0x41, 0xf, 0x200]] as const) {
      const g = longGuest(`sti; int ${vector}; after_int:`);
      g.gate64(vector, HANDLERS + 16 * vector, { type });
      expect(g.runToHandler()).toBe(vector);
      expect(g.cpu.getFlags() & 0x200).toBe(ifInHandler);
      expect(g.stack(2) & 0x200n).toBe(0x200n); // saved RFLAGS had IF
      expect(g.stack(0)).toBe(BigInt(g.label("after_int"))); // INT n: RIP after the instruction
    }
  });

  it("IST switches to the TSS stack even without a privilege change; stacks are 16-byte aligned", () => {
    const g = longGuest("mov rsp, 0x9eff8; int 0x42");
    g.gate64(0x42, HANDLERS + 16 * 0x42, { ist: 1 });
    expect(g.runToHandler()).toBe(0x42);
    expect(g.rsp()).toBe(BigInt(IST1_TOP - 40));
    expect(g.stack(3)).toBe(0x9eff8n); // old RSP

    const h = longGuest("mov rsp, 0x9eff8; int 0x43");
    expect(h.runToHandler()).toBe(0x43);
    expect(h.rsp()).toBe(BigInt(0x9eff0 - 40)); // aligned down from 0x9eff8
  });

  it("an external interrupt waits for the instruction after STI", () => {
    const g = longGuest(`
      sti
      mov ebx, ebx
    second:
      mov ebx, ebx
      hlt
    `);
    let acks = 0;
    g.cpu.intrAck = () => (acks++ === 0 ? 0x50 : -1);
    g.cpu.setIntrLine(true);
    expect(g.runToHandler()).toBe(0x50);
    expect(acks).toBe(1);
    expect(g.stack(0)).toBe(BigInt(g.label("second"))); // after sti and one instruction
    expect(g.cpu.getFlags() & 0x200).toBe(0);
  });

  it("debug port output", () => {
    const g = longGuest("mov al, 0x41; out PORT_DEBUG, al; hlt");
    expect(g.run()).toBe(RUN_HALT);
    expect(g.writes).toEqual([[PORT_DEBUG, 1, 0x41]]);
  });
});
