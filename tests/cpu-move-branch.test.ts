// Data movement, stack, string, near-branch and NOP/UD instructions beyond the
// shared conformance vectors: 32-bit mode and 16-bit operand/address sizes,
// faults (state unchanged, or REP registers describing completed iterations),
// the bulk REP paths against element-by-element reference models, REP slicing,
// self-modifying REP writes and MMIO.
import { describe, expect, it } from "vitest";
import { Cpu, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, RUN_BUDGET } from "../src/emulator/cpu/cpu.js";
import { EXC_GP, EXC_PF, EXC_UD } from "../src/emulator/cpu/fault.js";
import { MODE_32, MODE_64, SEG_CS, SEG_ES, SEG_FS } from "../src/emulator/cpu/insn.js";
import { PhysicalMemory } from "../src/emulator/memory/phys.js";
import { REP_SLICE } from "../src/emulator/cpu/ops/string.js";

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R8 = 8;
const CODE = 0x100000;
const M64 = (1n << 64n) - 1n;

/** A small machine: 16 MiB RAM; 64-bit mode with 4 KiB identity paging of the first 8 MiB, or flat 32-bit protected mode. */
class Machine {
  readonly mem = new PhysicalMemory(16 << 20);
  readonly cpu = new Cpu(this.mem);
  fault = -1;
  faultCode = -1;
  private nextTable = 0x2000;

  constructor(mode: 64 | 32, cpl = 0) {
    const cpu = this.cpu;
    cpu.exceptionHook = (v, c) => {
      this.fault = v;
      this.faultCode = c;
      return true;
    };
    if (mode === 64) {
      cpu.cr3 = 0x1000;
      for (let a = 0; a < 8 << 20; a += 0x1000) this.map(BigInt(a), a);
      cpu.cr4 = CR4_PAE;
      cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
      cpu.cr0 = CR0_PE | CR0_PG | CR0_WP | 0x30;
      cpu.mode = MODE_64;
      cpu.stackSize = 8;
      cpu.segAttr[SEG_CS] = 0xa09b;
    } else {
      cpu.cr0 = CR0_PE | 0x30;
      cpu.mode = MODE_32;
      cpu.stackSize = 4;
    }
    cpu.cpl = cpl;
    if (cpl === 3) cpu.segAttr[SEG_CS] |= 0x60;
    cpu.updateAccessRights();
    cpu.flushTlb(true);
    cpu.setFlags(0x202);
  }

  /** Maps one 4 KiB page (user, writable) at a 64-bit linear address. */
  map(linear: bigint, phys: number, flags = 7): void {
    const dv = this.mem.view;
    let table = 0x1000;
    for (const shift of [39n, 30n, 21n]) {
      const at = table + Number((linear >> shift) & 511n) * 8;
      let e = dv.getUint32(at, true);
      if ((e & 1) === 0) {
        e = this.nextTable | 7;
        this.nextTable += 0x1000;
        dv.setUint32(at, e, true);
      }
      table = e & ~0xfff;
    }
    dv.setUint32(table + Number((linear >> 12n) & 511n) * 8, flags === 0 ? 0 : phys | flags, true);
    this.cpu.flushTlb(true);
  }

  unmap(linear: bigint): void {
    this.map(linear, 0, 0);
  }

  load(addr: number, bytes: number[]): void {
    this.mem.ram.set(bytes, addr);
    this.cpu.notifyRamWritten(addr, bytes.length);
  }

  /** Runs one instruction at rip; returns the exception vector raised, or -1. */
  exec(bytes: number[], rip: number | bigint = CODE, at = typeof rip === "bigint" ? CODE : rip): number {
    this.load(at, bytes);
    this.cpu.rip = Number(BigInt.asIntN(64, BigInt(rip)));
    this.fault = -1;
    this.cpu.step();
    return this.fault;
  }

  get(n: number): bigint {
    const r = this.cpu.r;
    return (BigInt(r[n * 2 + 1]! >>> 0) << 32n) | BigInt(r[n * 2]! >>> 0);
  }

  set(n: number, v: bigint | number): void {
    const b = BigInt.asUintN(64, BigInt(v));
    this.cpu.r[n * 2] = Number(b & 0xffffffffn) | 0;
    this.cpu.r[n * 2 + 1] = Number(b >> 32n) | 0;
  }

  regs(): bigint[] {
    return Array.from({ length: 16 }, (_, n) => this.get(n));
  }

  u8(addr: number): number {
    return this.mem.ram[addr]!;
  }

  u64(addr: number): bigint {
    return this.mem.view.getBigUint64(addr, true);
  }
}

/** Deterministic pseudo-random bytes. */
function pattern(n: number, seed: number): number[] {
  const out: number[] = [];
  let x = seed >>> 0 || 1;
  for (let k = 0; k < n; k++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out.push(x & 0xff);
  }
  return out;
}

// ===========================================================================
describe("move family beyond the vectors", () => {
  it("movsxd without REX.W copies 32 bits and zero-extends; with REX.W sign-extends", () => {
    const m = new Machine(64);
    m.set(RAX, -1n);
    m.set(RCX, 0x1234_8765_4321n);
    expect(m.exec([0x63, 0xc1])).toBe(-1);
    expect(m.get(RAX)).toBe(0x8765_4321n);
    expect(m.exec([0x48, 0x63, 0xc1])).toBe(-1);
    expect(m.get(RAX)).toBe(0xffff_ffff_8765_4321n);
    m.set(RAX, -1n);
    expect(m.exec([0x66, 0x63, 0xc1])).toBe(-1); // 16-bit form: a word move
    expect(m.get(RAX)).toBe(0xffff_ffff_ffff_4321n);
  });

  it("bswap with a 16-bit operand clears the word", () => {
    const m = new Machine(64);
    m.set(RAX, 0x1122_3344_5566_7788n);
    m.exec([0x66, 0x0f, 0xc8]);
    expect(m.get(RAX)).toBe(0x1122_3344_5566_0000n);
  });

  it("xlat in every address size, with an FS override", () => {
    const m = new Machine(64);
    m.mem.ram[0x200010] = 0xab;
    m.set(RAX, 0x7777_0010n);
    m.set(RBX, 0x200000n);
    m.exec([0xd7]);
    expect(m.get(RAX)).toBe(0x7777_00abn);
    m.set(RAX, 0x10n);
    m.set(RBX, 0xdead_beef_0020_0000n); // 0x67: the upper half is ignored
    m.exec([0x67, 0xd7]);
    expect(m.get(RAX)).toBe(0xabn);
    m.cpu.segBaseLo[SEG_FS] = 0x1000;
    m.set(RAX, 0x10n);
    m.set(RBX, 0x1ff000n);
    m.exec([0x64, 0xd7]);
    expect(m.get(RAX)).toBe(0xabn);
  });

  it("movbe with F3 and LEA/MOVBE/CMPXCHG8B with register operands are #UD", () => {
    const m = new Machine(64);
    expect(m.exec([0xf3, 0x0f, 0x38, 0xf0, 0x03])).toBe(EXC_UD);
    expect(m.exec([0x8d, 0xc0])).toBe(EXC_UD);
    expect(m.exec([0x0f, 0x38, 0xf1, 0xc0])).toBe(EXC_UD);
    expect(m.exec([0x48, 0x0f, 0xc7, 0xc8])).toBe(EXC_UD);
    expect(m.cpu.rip).toBe(CODE);
  });

  it("cmpxchg16b on a misaligned operand is #GP(0) with nothing changed", () => {
    const m = new Machine(64);
    m.set(RDI, 0x200008n);
    m.set(RAX, 0n);
    m.set(RDX, 0n);
    const before = m.regs();
    expect(m.exec([0x48, 0x0f, 0xc7, 0x0f])).toBe(EXC_GP);
    expect(m.faultCode).toBe(0);
    expect(m.regs()).toEqual(before);
    expect(m.u64(0x200008)).toBe(0n);
  });

  it("lea with 16-bit addressing in 32-bit mode wraps the sum at 16 bits", () => {
    const m = new Machine(32);
    m.set(RAX, 0xffff_ffffn);
    m.set(RBX, 0x1234_ffffn);
    m.set(RSI, 0x0003n);
    expect(m.exec([0x67, 0x8d, 0x40, 0x05])).toBe(-1); // lea eax, [bx+si+5]
    expect(m.get(RAX)).toBe(7n);
    expect(m.cpu.rip).toBe(CODE + 4);
    m.set(RAX, 0xaaaa_0000n);
    m.set(RBX, 0x1234_0010n);
    m.exec([0x66, 0x8d, 0x44, 0x1e, 0xfe]); // lea ax, [esi+ebx-2]: the 32-bit address cut to 16 bits
    expect(m.get(RAX)).toBe(0xaaaa_0011n);
  });

  it("90 is a NOP, REX.B 90 and F3 REX.B 90 exchange r8 with rAX, 87 C0 zero-extends", () => {
    const m = new Machine(64);
    m.set(RAX, 0x1_0000_0001n);
    m.set(R8, 0x2222n);
    m.exec([0x90]);
    expect(m.get(RAX)).toBe(0x1_0000_0001n);
    m.exec([0x66, 0x90]);
    expect(m.get(RAX)).toBe(0x1_0000_0001n);
    m.exec([0x49, 0x90]); // xchg r8, rax
    expect(m.get(RAX)).toBe(0x2222n);
    expect(m.get(R8)).toBe(0x1_0000_0001n);
    m.exec([0xf3, 0x49, 0x90]);
    expect(m.get(RAX)).toBe(0x1_0000_0001n);
    expect(m.get(R8)).toBe(0x2222n);
    m.exec([0x41, 0x90]); // xchg r8d, eax: both zero-extended
    expect(m.get(RAX)).toBe(0x2222n);
    expect(m.get(R8)).toBe(1n);
    m.set(RAX, 0x1_0000_0001n);
    m.exec([0x87, 0xc0]);
    expect(m.get(RAX)).toBe(1n);
  });

  it("moffs with a 32-bit address size in 64-bit mode", () => {
    const m = new Machine(64);
    m.mem.view.setUint32(0x200000, 0xcafef00d, true);
    m.set(RAX, -1n);
    expect(m.exec([0x67, 0xa1, 0x00, 0x00, 0x20, 0x00])).toBe(-1);
    expect(m.get(RAX)).toBe(0xcafef00dn);
    expect(m.cpu.rip).toBe(CODE + 6);
  });

  it("a faulting xchg/xadd/cmpxchg store leaves registers unchanged", () => {
    const m = new Machine(64);
    m.map(0x300000n, 0x300000, 5); // present, read-only
    m.set(RBX, 0x300000n);
    m.set(RAX, 5n);
    m.set(RCX, 6n);
    const before = m.regs();
    expect(m.exec([0x48, 0x87, 0x0b])).toBe(EXC_PF); // xchg [rbx], rcx
    expect(m.exec([0xf0, 0x48, 0x0f, 0xc1, 0x0b])).toBe(EXC_PF); // lock xadd [rbx], rcx
    expect(m.exec([0x48, 0x0f, 0xb1, 0x0b])).toBe(EXC_PF); // cmpxchg [rbx], rcx (compare fails: still a write)
    expect(m.regs()).toEqual(before);
  });
});

// ===========================================================================
describe("stack family beyond the vectors", () => {
  it("pusha/popa in 32-bit mode (popa skips the stored ESP)", () => {
    const m = new Machine(32);
    const vals = [0x11111111n, 0x22222222n, 0x33333333n, 0x44444444n, 0x300000n, 0x66666666n, 0x77777777n, 0x88888888n];
    vals.forEach((v, n) => m.set(n, v));
    expect(m.exec([0x60])).toBe(-1);
    expect(m.get(RSP)).toBe(0x300000n - 32n);
    const sp = 0x300000 - 32;
    expect(m.mem.view.getUint32(sp, true)).toBe(0x88888888); // EDI lowest
    expect(m.mem.view.getUint32(sp + 12, true)).toBe(0x300000); // original ESP
    expect(m.mem.view.getUint32(sp + 28, true)).toBe(0x11111111); // EAX highest
    m.mem.view.setUint32(sp + 12, 0xdeadbeef, true);
    for (let n = 0; n < 8; n++) if (n !== RSP) m.set(n, 0n);
    expect(m.exec([0x61])).toBe(-1);
    expect(m.regs().slice(0, 8)).toEqual(vals);
  });

  it("pushaw/popaw move 16-bit registers", () => {
    const m = new Machine(32);
    m.set(RSP, 0x300000n);
    m.set(RAX, 0xaaaa1234n);
    m.exec([0x66, 0x60]);
    expect(m.get(RSP)).toBe(0x300000n - 16n);
    expect(m.mem.view.getUint16(0x300000 - 2, true)).toBe(0x1234);
    m.set(RAX, 0xbbbb0000n);
    m.exec([0x66, 0x61]);
    expect(m.get(RAX)).toBe(0xbbbb1234n);
    expect(m.get(RSP)).toBe(0x300000n);
  });

  it("pusha/popa do not exist in 64-bit mode", () => {
    const m = new Machine(64);
    expect(m.exec([0x60])).toBe(EXC_UD);
    expect(m.exec([0x61])).toBe(EXC_UD);
  });

  const popfWith = (m: Machine, image: number, prefix: number[] = []): number => {
    m.set(RSP, 0x300000n);
    m.mem.view.setUint32(0x300000, image, true);
    m.mem.view.setUint32(0x300004, 0, true);
    return m.exec([...prefix, 0x9d]);
  };
  const IF = 0x200, IOPL = 0x3000, AC = 0x40000, ID = 0x200000, RF = 0x10000, VM = 0x20000, DF = 0x400;

  it("popf at CPL 3 keeps IOPL and (CPL > IOPL) IF; changes AC and ID; clears RF; never sets VM", () => {
    const m = new Machine(64, 3);
    m.cpu.setFlags(0x202 | RF);
    expect(popfWith(m, 0x2 | IOPL | AC | ID | RF | VM | DF | 1)).toBe(-1);
    const f = m.cpu.getFlags();
    expect(f & IF).toBe(IF);
    expect(f & IOPL).toBe(0);
    expect(f & (AC | ID | DF | 1)).toBe(AC | ID | DF | 1);
    expect(f & (RF | VM)).toBe(0);
    expect(m.get(RSP)).toBe(0x300008n);
  });

  it("popf at CPL 3 with IOPL 3 may change IF but not IOPL", () => {
    const m = new Machine(64, 3);
    m.cpu.setFlags(0x202 | IOPL);
    popfWith(m, 0x2);
    expect(m.cpu.getFlags() & (IF | IOPL)).toBe(IOPL);
  });

  it("popf at CPL 0 changes IF and IOPL", () => {
    const m = new Machine(64, 0);
    popfWith(m, 0x2 | IOPL);
    expect(m.cpu.getFlags() & (IF | IOPL)).toBe(IOPL);
  });

  it("16-bit popf loads only the low word (RF and AC stay)", () => {
    const m = new Machine(64, 0);
    m.cpu.setFlags(0x202 | RF | AC);
    popfWith(m, 0x0000_0ad7, [0x66]);
    const f = m.cpu.getFlags();
    expect(f & 0xffff).toBe(0x0ad7 & 0x7fd5 | 2);
    expect(f & (RF | AC)).toBe(RF | AC);
    expect(m.get(RSP)).toBe(0x300002n);
  });

  it("pushf pushes RFLAGS without RF", () => {
    const m = new Machine(64, 0);
    m.cpu.setFlags(0x202 | RF | AC | 1);
    m.set(RSP, 0x300000n);
    m.exec([0x9c]);
    expect(m.u64(0x300000 - 8)).toBe(BigInt(0x202 | AC | 1));
    m.exec([0x66, 0x9c]);
    expect(m.mem.view.getUint16(0x300000 - 10, true)).toBe(0x203);
  });

  it("enter with nesting level 3 copies two frame pointers and pushes the new one", () => {
    const m = new Machine(64);
    m.set(RSP, 0x300000n);
    m.set(RBP, 0x300100n);
    m.mem.view.setBigUint64(0x300100 - 8, 0xaaaan, true);
    m.mem.view.setBigUint64(0x300100 - 16, 0xbbbbn, true);
    expect(m.exec([0xc8, 0x20, 0x00, 0x03])).toBe(-1);
    const frame = 0x300000 - 8;
    expect(m.u64(frame)).toBe(0x300100n); // old RBP
    expect(m.u64(frame - 8)).toBe(0xaaaan);
    expect(m.u64(frame - 16)).toBe(0xbbbbn);
    expect(m.u64(frame - 24)).toBe(BigInt(frame));
    expect(m.get(RBP)).toBe(BigInt(frame));
    expect(m.get(RSP)).toBe(BigInt(frame - 24 - 0x20));
  });

  it("enter with a 16-bit operand size in 64-bit mode", () => {
    const m = new Machine(64);
    m.set(RSP, 0x300000n);
    m.set(RBP, 0x1234_0000_5678n);
    expect(m.exec([0x66, 0xc8, 0x10, 0x00, 0x01])).toBe(-1);
    expect(m.mem.view.getUint16(0x300000 - 2, true)).toBe(0x5678);
    expect(m.mem.view.getUint16(0x300000 - 4, true)).toBe(0xfffe); // frame = RSP - 2, low word
    expect(m.get(RBP)).toBe(0x1234_0000_fffen);
    expect(m.get(RSP)).toBe(0x300000n - 4n - 0x10n);
  });

  it("enter whose final stack location is not mapped faults with RSP and RBP unchanged", () => {
    const m = new Machine(64);
    m.unmap(0x2ff000n);
    m.set(RSP, 0x300010n);
    m.set(RBP, 0x1111n);
    const before = m.regs();
    expect(m.exec([0xc8, 0x00, 0x01, 0x00])).toBe(EXC_PF);
    expect(m.regs()).toEqual(before);
  });

  it("pop to an unwritable memory operand leaves RSP unchanged", () => {
    const m = new Machine(64);
    m.unmap(0x400000n);
    m.set(RSP, 0x300000n);
    m.set(RDI, 0x400000n);
    expect(m.exec([0x8f, 0x07])).toBe(EXC_PF);
    expect(m.get(RSP)).toBe(0x300000n);
    expect(m.exec([0x8f, 0x44, 0x24, 0x08])).toBe(-1); // pop [rsp+8]: address uses the new RSP
    expect(m.get(RSP)).toBe(0x300008n);
  });

  it("leave and push imm16 in 32-bit mode", () => {
    const m = new Machine(32);
    m.set(RBP, 0x300000n);
    m.mem.view.setUint32(0x300000, 0xabcdef, true);
    m.exec([0xc9]);
    expect(m.get(RSP)).toBe(0x300004n);
    expect(m.get(RBP)).toBe(0xabcdefn);
    m.exec([0x66, 0x6a, 0xff]);
    expect(m.get(RSP)).toBe(0x300002n);
    expect(m.mem.view.getUint16(0x300002, true)).toBe(0xffff);
  });
});

// ===========================================================================
describe("branch family beyond the vectors", () => {
  const HIGH = 0x7fff_ffff_f000n; // last page below the non-canonical hole

  it("non-canonical indirect targets raise #GP(0) before anything changes", () => {
    const m = new Machine(64);
    m.set(RAX, 0x0000_8000_0000_0000n);
    m.set(RSP, 0x300000n);
    const before = m.regs();
    expect(m.exec([0xff, 0xe0])).toBe(EXC_GP); // jmp rax
    expect(m.exec([0xff, 0xd0])).toBe(EXC_GP); // call rax
    m.mem.view.setBigUint64(0x300000, 0x0000_8000_0000_0000n, true);
    expect(m.exec([0xc3])).toBe(EXC_GP); // ret
    expect(m.exec([0xc2, 0x10, 0x00])).toBe(EXC_GP); // ret 16
    expect(m.regs()).toEqual(before);
    expect(m.cpu.rip).toBe(CODE);
  });

  it("a negative canonical target is fine", () => {
    const m = new Machine(64);
    m.set(RAX, 0xffff_8000_0000_0000n);
    expect(m.exec([0xff, 0xe0])).toBe(-1);
    expect(m.cpu.rip).toBe(-(2 ** 47));
  });

  it("relative branches and loop past 2^47 raise #GP(0) with RCX unchanged", () => {
    const m = new Machine(64);
    m.map(HIGH, 0x500000);
    const at = HIGH + 0xf80n;
    expect(m.exec([0xe9, 0x00, 0x10, 0x00, 0x00], at, 0x500f80)).toBe(EXC_GP);
    expect(m.exec([0xe8, 0x00, 0x10, 0x00, 0x00], at, 0x500f80)).toBe(EXC_GP);
    m.set(RCX, 5n);
    expect(m.exec([0xe2, 0x7f], at, 0x500f80)).toBe(EXC_GP);
    expect(m.get(RCX)).toBe(5n);
    expect(m.exec([0xeb, 0x10], at, 0x500f80)).toBe(-1); // in range
    expect(BigInt(m.cpu.rip)).toBe(at + 0x12n);
  });

  it("16-bit operand size in 32-bit mode wraps IP and pushes 2 bytes", () => {
    const m = new Machine(32);
    m.set(RSP, 0x300000n);
    expect(m.exec([0x66, 0xe9, 0x00, 0x10])).toBe(-1);
    expect(m.cpu.rip).toBe(0x1004);
    expect(m.exec([0x66, 0xe8, 0x00, 0x10])).toBe(-1);
    expect(m.cpu.rip).toBe(0x1004);
    expect(m.get(RSP)).toBe(0x300000n - 2n);
    expect(m.mem.view.getUint16(0x300000 - 2, true)).toBe(0x0004);
    expect(m.exec([0x66, 0xc3])).toBe(-1);
    expect(m.cpu.rip).toBe(0x0004);
    expect(m.get(RSP)).toBe(0x300000n);
    expect(m.exec([0x66, 0xeb, 0x10])).toBe(-1); // rel8 with a 16-bit operand size
    expect(m.cpu.rip).toBe(0x0013);
    expect(m.exec([0x66, 0x74, 0x10])).toBe(-1); // jz, not taken: no wrap
    expect(m.cpu.rip).toBe(CODE + 3);
    m.cpu.setFlags(0x202 | 0x40);
    expect(m.exec([0x66, 0x74, 0x10])).toBe(-1); // jz, taken
    expect(m.cpu.rip).toBe(0x0013);
    m.set(RCX, 2n);
    expect(m.exec([0x66, 0xe2, 0x10])).toBe(-1);
    expect(m.cpu.rip).toBe(0x0013);
  });

  it("targets beyond the CS limit raise #GP(0) outside 64-bit mode", () => {
    const m = new Machine(32);
    m.cpu.segLimit[SEG_CS] = 0x100fff;
    m.set(RSP, 0x300000n);
    expect(m.exec([0xe9, 0x00, 0x10, 0x00, 0x00])).toBe(EXC_GP);
    expect(m.exec([0xe8, 0x00, 0x10, 0x00, 0x00])).toBe(EXC_GP);
    expect(m.get(RSP)).toBe(0x300000n);
    expect(m.cpu.rip).toBe(CODE);
    expect(m.exec([0xe9, 0x00, 0x0f, 0x00, 0x00])).toBe(-1);
    expect(m.cpu.rip).toBe(CODE + 5 + 0xf00);
  });

  it("loop and jcxz with a 16-bit address size in 32-bit mode use CX only", () => {
    const m = new Machine(32);
    m.set(RCX, 0x10000n);
    expect(m.exec([0x67, 0xe2, 0xfd])).toBe(-1); // cx 0 → 0xffff: taken
    expect(m.get(RCX)).toBe(0x1ffffn);
    expect(m.cpu.rip).toBe(CODE);
    m.set(RCX, 0x10000n);
    m.exec([0xe3, 0x10]); // jecxz: ECX != 0
    expect(m.cpu.rip).toBe(CODE + 2);
    m.exec([0x67, 0xe3, 0x10]); // jcxz: CX == 0
    expect(m.cpu.rip).toBe(CODE + 3 + 0x10);
  });

  it("loope/loopne stop on ZF and never change flags", () => {
    const m = new Machine(64);
    m.cpu.setFlags(0x202 | 0x40 | 0x801); // ZF OF CF
    m.set(RCX, 3n);
    m.exec([0xe0, 0x10]); // loopne: ZF=1 → not taken
    expect(m.cpu.rip).toBe(CODE + 2);
    expect(m.get(RCX)).toBe(2n);
    m.exec([0xe1, 0x10]); // loope: taken
    expect(m.cpu.rip).toBe(CODE + 0x12);
    expect(m.cpu.getFlags()).toBe(0x202 | 0x40 | 0x801);
  });
});

// ===========================================================================
describe("string family beyond the vectors", () => {
  /** Element-by-element ascending/descending copy on a byte array (the architectural definition). */
  function refMovs(ram: Uint8Array, src: number, dst: number, count: number, size: number, down: boolean): void {
    const step = down ? -size : size;
    for (let k = 0, s = src, d = dst; k < count; k++, s += step, d += step) {
      const tmp = ram.slice(s, s + size);
      ram.set(tmp, d);
    }
  }

  const REP_MOVS: Record<number, number[]> = { 1: [0xf3, 0xa4], 2: [0x66, 0xf3, 0xa5], 4: [0xf3, 0xa5], 8: [0xf3, 0x48, 0xa5] };
  const REP_STOS: Record<number, number[]> = { 1: [0xf3, 0xaa], 2: [0x66, 0xf3, 0xab], 4: [0xf3, 0xab], 8: [0xf3, 0x48, 0xab] };

  it("rep movs copies across page boundaries like element-by-element copying", () => {
    for (const size of [1, 2, 4, 8]) {
      const m = new Machine(64);
      const src = 0x200123, dst = 0x280f05, count = Math.floor((3 * 4096 + 77) / size);
      m.load(src - 64, pattern(3 * 4096 + 300, size));
      const want = m.mem.ram.slice();
      refMovs(want, src, dst, count, size, false);
      m.set(RSI, src); m.set(RDI, dst); m.set(RCX, count);
      expect(m.exec(REP_MOVS[size]!)).toBe(-1);
      expect(m.get(RCX)).toBe(0n);
      expect(m.get(RSI)).toBe(BigInt(src + count * size));
      expect(m.get(RDI)).toBe(BigInt(dst + count * size));
      expect(Buffer.compare(m.mem.ram.subarray(0x200000, 0x290000), want.subarray(0x200000, 0x290000))).toBe(0);
    }
  });

  it("overlapping rep movs (destination inside the source, any distance) matches the reference", () => {
    const m = new Machine(64);
    for (const size of [1, 2, 4, 8]) {
      for (let dist = -17; dist <= 17; dist++) {
        const src = 0x200fa0; // the copy straddles a page boundary
        m.load(0x200f00, pattern(0x300, size * 100 + dist + 50));
        const count = 40;
        const want = m.mem.ram.slice();
        refMovs(want, src, src + dist, count, size, false);
        m.set(RSI, src); m.set(RDI, src + dist); m.set(RCX, count);
        m.exec(REP_MOVS[size]!);
        expect(Buffer.compare(m.mem.ram.subarray(0x200f00, 0x201200), want.subarray(0x200f00, 0x201200)), `size ${size} dist ${dist}`).toBe(0);
      }
    }
  });

  it("rep movs with DF=1 copies downwards", () => {
    const m = new Machine(64);
    m.load(0x200000, pattern(0x3000, 7));
    const want = m.mem.ram.slice();
    const src = 0x202ff8, dst = 0x201ffc, count = 700;
    refMovs(want, src, dst, count, 8, true);
    m.cpu.setFlags(0x202 | 0x400);
    m.set(RSI, src); m.set(RDI, dst); m.set(RCX, count);
    m.exec(REP_MOVS[8]!);
    expect(m.get(RSI)).toBe(BigInt(src - count * 8));
    expect(Buffer.compare(m.mem.ram.subarray(0x200000, 0x203000), want.subarray(0x200000, 0x203000))).toBe(0);
  });

  it("rep stos fills exactly count elements across pages", () => {
    for (const size of [1, 2, 4, 8]) {
      const m = new Machine(64);
      const dst = 0x200ffb, count = Math.floor(9000 / size);
      m.set(RAX, 0x8877_6655_4433_2211n);
      m.set(RDI, dst); m.set(RCX, count);
      m.exec(REP_STOS[size]!);
      const bytes = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
      for (let k = 0; k < count * size; k++) if (m.u8(dst + k) !== bytes[k % size]) throw new Error(`size ${size} byte ${k}`);
      expect(m.u8(dst - 1)).toBe(0);
      expect(m.u8(dst + count * size)).toBe(0);
      expect(m.get(RDI)).toBe(BigInt(dst + count * size));
    }
  });

  it("a page fault mid-way leaves RSI/RDI/RCX at the completed iterations and RIP at the instruction; re-execution finishes", () => {
    const m = new Machine(64);
    m.unmap(0x2c0000n);
    m.load(0x200000, pattern(0x1000, 3));
    m.set(RSI, 0x200000); m.set(RDI, 0x2bf800); m.set(RCX, 0x1000);
    expect(m.exec([0xf3, 0xa4])).toBe(EXC_PF);
    expect(m.cpu.cr2).toBe(0x2c0000);
    expect(m.cpu.rip).toBe(CODE);
    expect(m.get(RCX)).toBe(0x800n);
    expect(m.get(RSI)).toBe(0x200800n);
    expect(m.get(RDI)).toBe(0x2c0000n);
    expect(Buffer.compare(m.mem.ram.subarray(0x2bf800, 0x2c0000), m.mem.ram.subarray(0x200000, 0x200800))).toBe(0);
    m.map(0x2c0000n, 0x2c0000);
    m.fault = -1;
    m.cpu.step();
    expect(m.fault).toBe(-1);
    expect(m.get(RCX)).toBe(0n);
    expect(Buffer.compare(m.mem.ram.subarray(0x2bf800, 0x2c0800), m.mem.ram.subarray(0x200000, 0x201000))).toBe(0);
  });

  it("a source page fault on an element that straddles pages reports the element's registers", () => {
    const m = new Machine(64);
    m.unmap(0x201000n);
    m.set(RSI, 0x200ff0); m.set(RDI, 0x300000); m.set(RCX, 10);
    expect(m.exec([0xf3, 0x48, 0xa5])).toBe(EXC_PF); // element 2 is [0x200ff0+16, +8) → 0x201000
    expect(m.get(RCX)).toBe(8n);
    expect(m.get(RSI)).toBe(0x201000n);
    expect(m.get(RDI)).toBe(0x300010n);
  });

  it("a long REP runs in slices of REP_SLICE iterations with RIP left at the instruction", () => {
    const m = new Machine(64);
    const count = 2 * REP_SLICE + 1234;
    m.load(CODE, [0xf3, 0xaa]);
    m.set(RAX, 0x5a); m.set(RDI, 0x200000); m.set(RCX, count);
    m.cpu.rip = CODE;
    expect(m.cpu.run(m.cpu.icount + 1)).toBe(RUN_BUDGET);
    expect(m.cpu.rip).toBe(CODE);
    expect(m.get(RCX)).toBe(BigInt(count - REP_SLICE));
    m.cpu.run(m.cpu.icount + 2);
    expect(m.cpu.rip).toBe(CODE + 2);
    expect(m.get(RCX)).toBe(0n);
    expect(m.u8(0x200000 + count - 1)).toBe(0x5a);
    expect(m.u8(0x200000 + count)).toBe(0);
  });

  it("rep movs over cached code takes effect (self-modifying code)", () => {
    const m = new Machine(64);
    m.load(CODE, [0xf3, 0xa4, 0xb0, 0x01, 0x90]); // rep movsb; mov al, 1; nop
    m.cpu.rip = CODE + 2;
    m.cpu.step(); // decode and cache "mov al, 1"
    expect(m.get(RAX) & 0xffn).toBe(1n);
    m.load(0x200000, [0xb0, 0x02]);
    m.set(RSI, 0x200000); m.set(RDI, CODE + 2); m.set(RCX, 2);
    m.cpu.rip = CODE;
    m.cpu.run(m.cpu.icount + 2);
    expect(m.get(RAX) & 0xffn).toBe(2n);
  });

  it("rep stos/movs to and from MMIO go element by element through the device", () => {
    const m = new Machine(64);
    const writes: string[] = [];
    m.mem.mapMmio(0x600000, 0x1000, {
      read: (off, size) => 0x40 + off + size,
      write: (off, size, v) => { writes.push(`${off}:${size}:${(v >>> 0).toString(16)}`); },
    });
    m.set(RAX, 0xcafe1234n); m.set(RDI, 0x600000); m.set(RCX, 3);
    m.exec([0xf3, 0xab]);
    expect(writes).toEqual(["0:4:cafe1234", "4:4:cafe1234", "8:4:cafe1234"]);
    m.set(RSI, 0x600010); m.set(RDI, 0x200000); m.set(RCX, 4);
    m.exec([0xf3, 0xa4]);
    expect([0, 1, 2, 3].map((k) => m.u8(0x200000 + k))).toEqual([0x51, 0x52, 0x53, 0x54]);
  });

  it("32-bit mode: the ES limit stops rep stos with #GP and the completed part recorded", () => {
    const m = new Machine(32);
    m.cpu.segLimit[SEG_ES] = 0x200fff;
    m.set(RAX, 0x77); m.set(RDI, 0x200f00); m.set(RCX, 0x200);
    expect(m.exec([0xf3, 0xaa])).toBe(EXC_GP);
    expect(m.get(RDI)).toBe(0x201000n);
    expect(m.get(RCX)).toBe(0x100n);
    expect(m.u8(0x200fff)).toBe(0x77);
    expect(m.u8(0x201000)).toBe(0);
  });

  it("16-bit address size: DI and CX wrap at 16 bits and keep their upper halves", () => {
    const m = new Machine(32);
    m.cpu.segBaseLo[SEG_ES] = 0x200000;
    m.set(RAX, 0x99); m.set(RDI, 0x1234_fffe); m.set(RCX, 0xabcd_0004);
    m.exec([0x67, 0xf3, 0xaa]);
    expect(m.get(RDI)).toBe(0x1234_0002n);
    expect(m.get(RCX)).toBe(0xabcd_0000n);
    expect([0x20fffe, 0x20ffff, 0x200000, 0x200001, 0x200002].map((a) => m.u8(a))).toEqual([0x99, 0x99, 0x99, 0x99, 0]);
  });

  it("0x67 in 64-bit mode uses ESI/EDI/ECX and zero-extends them", () => {
    const m = new Machine(64);
    m.load(0x200000, [1, 2, 3, 4]);
    m.set(RSI, 0xffff_0000_0020_0000n); m.set(RDI, 0xeeee_0000_0030_0000n); m.set(RCX, 0xdddd_0000_0000_0004n);
    m.exec([0x67, 0xf3, 0xa4]);
    expect(m.get(RSI)).toBe(0x200004n);
    expect(m.get(RDI)).toBe(0x300004n);
    expect(m.get(RCX)).toBe(0n);
    expect(m.u64(0x300000) & 0xffffffffn).toBe(0x04030201n);
  });

  it("a segment override applies to the source only", () => {
    const m = new Machine(64);
    m.cpu.segBaseLo[SEG_FS] = 0x1000;
    m.load(0x200000, [9, 8, 7]);
    m.set(RSI, 0x1ff000); m.set(RDI, 0x300000); m.set(RCX, 3);
    m.exec([0x64, 0xf3, 0xa4]);
    expect([0, 1, 2].map((k) => m.u8(0x300000 + k))).toEqual([9, 8, 7]);
  });

  it("repe cmpsb stops after the first difference; repne scasb finds a byte", () => {
    const m = new Machine(64);
    m.load(0x200000, [1, 2, 3, 4, 5, 6, 7, 8]);
    m.load(0x300000, [1, 2, 3, 4, 5, 0, 7, 8]);
    m.set(RSI, 0x200000); m.set(RDI, 0x300000); m.set(RCX, 8);
    m.exec([0xf3, 0xa6]);
    expect(m.get(RCX)).toBe(2n);
    expect(m.get(RSI)).toBe(0x200006n);
    expect(m.cpu.getFlags() & 0x41).toBe(0); // ZF=0, CF=0 (6 > 0)
    m.load(0x200100, [...Array.from("hello", (c) => c.charCodeAt(0)), 0]);
    m.set(RAX, 0); m.set(RDI, 0x200100); m.set(RCX, -1n);
    m.exec([0xf2, 0xae]);
    expect(m.get(RDI)).toBe(0x200106n);
    expect(~m.get(RCX) & M64).toBe(6n); // strlen + 1 iterations
    expect(m.cpu.getFlags() & 0x40).toBe(0x40);
  });

  it("rep lods leaves the last element in the accumulator; rep with RCX = 0 does nothing", () => {
    const m = new Machine(64);
    m.load(0x200000, [0x11, 0x22, 0x33, 0x44]);
    m.set(RAX, -1n); m.set(RSI, 0x200000); m.set(RCX, 2);
    m.exec([0xf3, 0x66, 0xad]);
    expect(m.get(RAX)).toBe(0xffff_ffff_ffff_4433n);
    m.set(RCX, 0);
    const before = m.regs();
    m.cpu.setFlags(0x202 | 0x40);
    m.exec([0xf3, 0xa6]);
    expect(m.regs()).toEqual(before);
    expect(m.cpu.getFlags() & 0x40).toBe(0x40);
  });
});

// ===========================================================================
describe("misc family beyond the vectors", () => {
  it("hint NOPs, prefetches and endbr32 only advance RIP", () => {
    const m = new Machine(64);
    m.unmap(0x400000n);
    m.set(RAX, 0x400000n); // NOP/prefetch memory operands are never accessed
    const forms = [
      [0x0f, 0x18, 0xe0], [0x0f, 0x18, 0x20], [0x0f, 0x19, 0x00], [0x0f, 0x1e, 0xc8], [0xf3, 0x0f, 0x1e, 0xfb],
      [0xf3, 0x48, 0x0f, 0x1e, 0xc8], [0x0f, 0x0d, 0x08], [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00], [0x0f, 0x1f, 0x38],
    ];
    for (const f of forms) {
      const before = m.regs();
      expect(m.exec(f), f.map((b) => b.toString(16)).join(" ")).toBe(-1);
      expect(m.cpu.rip).toBe(CODE + f.length);
      expect(m.regs()).toEqual(before);
    }
  });

  it("ud0, ud1, ud2 and LOCK on a NOP raise #UD", () => {
    const m = new Machine(64);
    for (const f of [[0x0f, 0x0b], [0x0f, 0xb9, 0x00], [0x0f, 0xff, 0xc0], [0xf0, 0x0f, 0x1f, 0x00]]) {
      expect(m.exec(f)).toBe(EXC_UD);
      expect(m.cpu.rip).toBe(CODE);
    }
  });
});
