// Test-only machine for the system tests: RAM + CPU with attachSystem(), a debug
// port that records writes, and builders for the GDT, 64-bit IDT, TSS and an
// identity-mapped 4-level page table. Guest code is Intel-syntax source assembled
// at test time by the project assembler (src/toolchain/x64), with the layout and
// selector constants below predefined as assembler constants.
import { Cpu, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, RUN_HALT } from "../src/emulator/cpu/cpu.js";
import { attachSystem } from "../src/emulator/cpu/interrupts.js";
import { MODE_64, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from "../src/emulator/cpu/insn.js";
import { PhysicalMemory } from "../src/emulator/memory/phys.js";
import { assemble } from "../src/toolchain/x64/index.js";

// Physical (= linear, identity-mapped) layout.
export const GDT = 0x1000;
export const IDT = 0x2000;
export const TSS = 0x3000;
export const PML4 = 0x10000;
export const PDPT = 0x11000;
export const PD = 0x12000;
export const PT = 0x13000; // 4 page tables: 0x13000..0x16FFF map 0..8 MiB
export const IST1_TOP = 0x80000;
export const RSP0_TOP = 0x90000;
export const KSTACK_TOP = 0x9f000;
export const KCODE = 0x101000;
export const UCODE = 0x200000;
export const UDATA = 0x201000;
export const USTACK_TOP = 0x203000;
/** Handler stubs: vector v's default handler is a HLT at HANDLERS + 16 * v. */
export const HANDLERS = 0x300000;

// Selectors (Linux-like, so STAR works: SYSCALL CS 0x10 / SS 0x18, SYSRET SS 0x2b / CS 0x33).
export const SEL_CODE32 = 0x08;
export const SEL_KCODE = 0x10;
export const SEL_KDATA = 0x18;
export const SEL_UCODE32 = 0x23;
export const SEL_UDATA = 0x2b;
export const SEL_UCODE = 0x33;
export const SEL_TSS = 0x38;
export const SEL_NOT_PRESENT = 0x48;
export const GDT_LIMIT = 0x57;
/** 104-byte TSS + an 8 KiB I/O bitmap + the terminating 0xFF byte. */
export const TSS_LIMIT = 0x68 + 0x2000;

export const PORT_DEBUG = 0xe9;

/** The constants guest sources may name (`push SEL_UDATA`, `mov rax, qword ptr [UDATA]`). */
const ASM_CONSTANTS: Record<string, number> = {
  GDT, IDT, TSS, PML4, PDPT, PD, PT, IST1_TOP, RSP0_TOP, KSTACK_TOP, KCODE, UCODE, UDATA, USTACK_TOP, HANDLERS,
  SEL_CODE32, SEL_KCODE, SEL_KDATA, SEL_UCODE32, SEL_UDATA, SEL_UCODE, SEL_TSS, SEL_NOT_PRESENT, PORT_DEBUG,
};
const ASM_PRELUDE = [
  ".intel_syntax noprefix",
  ...Object.entries(ASM_CONSTANTS).map(([name, value]) => `.equ ${name}, 0x${value.toString(16)}`),
  "",
].join("\n");

/** An assembled guest program: its bytes and the address of each of its labels. */
export interface Program {
  bytes: Uint8Array;
  labels: Map<string, number>;
}

/** Assembles Intel-syntax guest code placed at `origin`, starting in `bits`-bit mode. */
export function asm(source: string, origin: number, bits: 16 | 32 | 64 = 64): Program {
  const { bytes, symbols } = assemble(ASM_PRELUDE + source, { bits, origin, file: `guest@0x${origin.toString(16)}` });
  const labels = new Map<string, number>();
  for (const [name, value] of symbols) if (!(name in ASM_CONSTANTS)) labels.set(name, value);
  return { bytes, labels };
}

/** Segment descriptor halves from base, limit (20-bit, before G scaling) and the 16-bit attribute word. */
export function segmentDescriptor(base: number, limit: number, attr: number): [number, number] {
  const lo = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const hi = (((base >>> 16) & 0xff) | ((attr & 0xf0ff) << 8) | (limit & 0xf0000) | (base & 0xff000000)) >>> 0;
  return [lo, hi];
}

export class Guest {
  readonly mem = new PhysicalMemory(8 * 1024 * 1024);
  readonly cpu = new Cpu(this.mem);
  readonly dv = this.mem.view;
  /** Bytes written to the debug port. */
  readonly debug: number[] = [];
  /** Every port write: [port, size, value]. */
  readonly writes: [number, number, number][] = [];
  /** Labels of every program loaded with loadAsm (names are unique across them). */
  readonly labels = new Map<string, number>();

  constructor() {
    attachSystem(this.cpu);
    this.cpu.io = {
      in: (_port, size) => (size === 1 ? 0xff : size === 2 ? 0xffff : -1),
      out: (port, size, value) => {
        this.writes.push([port, size, value]);
        if (port === PORT_DEBUG) this.debug.push(value & 0xff);
      },
    };
  }

  load(addr: number, bytes: Uint8Array): void {
    this.mem.ram.set(bytes, addr);
    this.cpu.notifyRamWritten(addr, bytes.length);
  }

  /** Assembles `source` at `origin` and loads it there; its labels join `labels`. */
  loadAsm(origin: number, source: string, bits: 16 | 32 | 64 = 64): Program {
    const program = asm(source, origin, bits);
    for (const [name, value] of program.labels) {
      if (this.labels.has(name)) throw new Error(`label ${name} defined by two guest programs`);
      this.labels.set(name, value);
    }
    this.load(origin, program.bytes);
    return program;
  }

  /** Address of a label of a loaded program (an unknown name is an error, not undefined). */
  label(name: string): number {
    const value = this.labels.get(name);
    if (value === undefined) throw new Error(`no guest label ${name}`);
    return value;
  }

  w32(addr: number, v: number): void { this.dv.setUint32(addr, v >>> 0, true); }
  r32(addr: number): number { return this.dv.getUint32(addr, true); }
  w64(addr: number, v: bigint): void { this.dv.setBigUint64(addr, BigInt.asUintN(64, v), true); }
  r64(addr: number): bigint { return this.dv.getBigUint64(addr, true); }

  setDescriptor(sel: number, base: number, limit: number, attr: number): void {
    const [lo, hi] = segmentDescriptor(base, limit, attr);
    this.w32(GDT + (sel & ~7), lo);
    this.w32(GDT + (sel & ~7) + 4, hi);
  }

  /** The standard GDT (see the selector constants) with a 16-byte 64-bit TSS descriptor at 0x38. */
  buildGdt(): void {
    this.setDescriptor(SEL_CODE32, 0, 0xfffff, 0xc09b);
    this.setDescriptor(SEL_KCODE, 0, 0xfffff, 0xa09b);
    this.setDescriptor(SEL_KDATA, 0, 0xfffff, 0xc093);
    this.setDescriptor(SEL_UCODE32, 0, 0xfffff, 0xc0fb);
    this.setDescriptor(SEL_UDATA, 0, 0xfffff, 0xc0f3);
    this.setDescriptor(SEL_UCODE, 0, 0xfffff, 0xa0fb);
    this.setDescriptor(SEL_TSS, TSS, TSS_LIMIT, 0x0089);
    this.w32(GDT + SEL_TSS + 8, 0);
    this.w32(GDT + SEL_TSS + 12, 0);
    this.setDescriptor(SEL_NOT_PRESENT, 0, 0xfffff, 0xc013); // data, P = 0
    this.setDescriptor(0x50, 0, 0xfffff, 0xc093);
  }

  /** A 64-bit IDT gate: type 0xE (interrupt) or 0xF (trap). */
  gate64(vector: number, handler: number, opts: { type?: number; dpl?: number; ist?: number; present?: boolean; sel?: number } = {}): void {
    const type = opts.type ?? 0xe;
    const p = opts.present === false ? 0 : 0x8000;
    const a = IDT + vector * 16;
    this.w32(a, ((handler & 0xffff) | ((opts.sel ?? SEL_KCODE) << 16)) >>> 0);
    this.w32(a + 4, ((handler & 0xffff0000) | p | ((opts.dpl ?? 0) << 13) | (type << 8) | (opts.ist ?? 0)) >>> 0);
    this.w32(a + 8, 0);
    this.w32(a + 12, 0);
  }

  /** Every vector → its HLT stub; vectors 0x80 and 0x81 are callable from ring 3 (DPL 3). */
  buildIdt(): void {
    for (let v = 0; v < 256; v++) {
      this.mem.ram[HANDLERS + 16 * v] = 0xf4; // hlt
      this.gate64(v, HANDLERS + 16 * v, { dpl: v === 0x80 || v === 0x81 ? 3 : 0 });
    }
    this.cpu.notifyRamWritten(HANDLERS, 256 * 16);
  }

  /** 64-bit TSS: RSP0, IST1, and an I/O bitmap at 0x68 that allows only the debug port. */
  buildTss(): void {
    this.w64(TSS + 4, BigInt(RSP0_TOP));
    this.w64(TSS + 0x24, BigInt(IST1_TOP));
    this.dv.setUint16(TSS + 0x66, 0x68, true);
    this.mem.ram.fill(0xff, TSS + 0x68, TSS + 0x68 + 0x2000 + 1);
    this.mem.ram[TSS + 0x68 + (PORT_DEBUG >> 3)] = 0xff & ~(1 << (PORT_DEBUG & 7));
  }

  /** 4-level identity map of 0..8 MiB with 4 KiB pages: kernel RW; UCODE/UDATA/stack pages user. */
  buildPageTables(): void {
    this.w64(PML4, BigInt(PDPT | 7));
    this.w64(PDPT, BigInt(PD | 7));
    for (let t = 0; t < 4; t++) this.w64(PD + t * 8, BigInt((PT + t * 0x1000) | 7));
    for (let p = 0; p < 2048; p++) this.w64(PT + p * 8, BigInt(p * 0x1000 + 3));
    for (const page of [UCODE, UDATA, USTACK_TOP - 0x1000]) this.setPte(page, BigInt(page | 7));
  }

  pteAddr(linear: number): number {
    return PT + (linear >>> 12) * 8;
  }

  setPte(linear: number, value: bigint): void {
    this.w64(this.pteAddr(linear), value);
  }

  /**
   * Puts the CPU in the state a 64-bit kernel has after its boot code: long mode,
   * paging with the tables above, CS 0x10, SS/DS/ES 0x18, IDT and TR loaded, CPL 0.
   * (The real 32-to-64-bit switch is exercised by its own test.)
   */
  enterLongMode(): void {
    this.buildGdt();
    this.buildIdt();
    this.buildTss();
    this.buildPageTables();
    const cpu = this.cpu;
    cpu.gdtBase = GDT;
    cpu.gdtLimit = GDT_LIMIT;
    cpu.idtBase = IDT;
    cpu.idtLimit = 256 * 16 - 1;
    cpu.trSel = SEL_TSS;
    cpu.trBase = TSS;
    cpu.trLimit = TSS_LIMIT;
    cpu.trAttr = 0x008b;
    cpu.cr3 = PML4;
    cpu.cr4 = CR4_PAE;
    cpu.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
    cpu.cr0 = (CR0_PE | CR0_PG | CR0_WP | 0x10) >>> 0;
    cpu.segSel[SEG_CS] = SEL_KCODE;
    cpu.segAttr[SEG_CS] = 0xa09b;
    for (const s of [SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS]) {
      cpu.segSel[s] = SEL_KDATA;
      cpu.segAttr[s] = 0xc093;
      cpu.segLimit[s] = 0xffffffff;
    }
    cpu.mode = MODE_64;
    cpu.stackSize = 8;
    cpu.cpl = 0;
    cpu.updateAccessRights();
    cpu.flushTlb(true);
    cpu.setReg(4, 8, KSTACK_TOP, 0);
    cpu.rip = KCODE;
  }

  /** Runs until HLT (or the budget); returns the RUN_* code. */
  run(limit = 100000): number {
    return this.cpu.run(this.cpu.icount + limit);
  }

  /** Continues after a HLT used as a breakpoint (HLT itself only ends on an interrupt). */
  resume(limit = 100000): number {
    this.cpu.halted = false;
    return this.run(limit);
  }

  /** Runs to a HLT and returns the vector whose default stub halted (-1 if the HLT was elsewhere). */
  runToHandler(limit = 100000): number {
    const r = this.run(limit);
    if (r !== RUN_HALT) return -1;
    const at = this.cpu.rip - 1 - HANDLERS;
    return at >= 0 && at < 4096 && at % 16 === 0 ? at / 16 : -1;
  }

  /** 64-bit value at RSP + 8 * k (the interrupt frame). */
  stack(k: number): bigint {
    const rsp = this.rsp();
    return this.r64(Number(rsp) + 8 * k);
  }

  rsp(): bigint {
    return (BigInt(this.cpu.r[9]! >>> 0) << 32n) | BigInt(this.cpu.r[8]! >>> 0);
  }

  reg(n: number): bigint {
    return (BigInt(this.cpu.r[2 * n + 1]! >>> 0) << 32n) | BigInt(this.cpu.r[2 * n]! >>> 0);
  }
}

/** A long-mode guest (see enterLongMode) with `kernel` at KCODE and optional `user` code at UCODE. */
export function longGuest(kernel: string, user?: string): Guest {
  const g = new Guest();
  g.enterLongMode();
  g.loadAsm(KCODE, kernel);
  if (user !== undefined) g.loadAsm(UCODE, user);
  return g;
}

/** Kernel snippet: enter ring 3 at UCODE with RSP = USTACK_TOP, IF = 1. */
export const TO_RING3 = `
  push SEL_UDATA
  push USTACK_TOP
  push 0x202
  push SEL_UCODE
  push UCODE
  iretq
`;
