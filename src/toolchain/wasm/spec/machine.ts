// The spec-test harness machine: one emulated CPU in 64-bit long mode at CPL 0,
// an address space per linear memory (the memory at virtual address 0, as in
// the user memory model; pages mapped on first touch, so a 4 GiB memory costs
// only what is used; everything past its size unmapped), and a shared region
// mapped in every address space holding code, data, the stack and the runtime
// stubs. Host calls (memory.grow) go through an I/O port; traps end in HLT.
import { Cpu, CR0_PE, CR0_PG, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, RUN_BUDGET, RUN_EXCEPTION_HOOK, RUN_HALT } from "../../../emulator/cpu/cpu.js";
import { EXC_PF } from "../../../emulator/cpu/fault.js";
import { MODE_64, SEG_CS, SEG_SS } from "../../../emulator/cpu/insn.js";
import { PhysicalMemory } from "../../../emulator/memory/phys.js";
import { assembleObject } from "../../x64/index.js";
import { defineSymbols, relocate, SymbolSpace, type PlacedObject } from "../../link/linker.js";
import { fromAssemblerObject, type LinkObject } from "../../link/object.js";
import { callLayout, MEMDESC_BYTES, MEMDESC_MAX, MEMDESC_PAGES, SYM_MEMORY_GROW, SYM_STACK_LIMIT, SYM_TRAP, WASM_PAGE } from "../abi.js";
import { F64, I64, isFloat, type FuncType } from "../types.js";
import type { Bits } from "./values.js";

const TWO32 = 4294967296;
const PAGE = 4096;
const RAM_BYTES = 96 * 1024 * 1024;

// Physical layout.
const SHARED_PDPT = 0x1000;
const SHARED_PD = 0x2000;
const NO_MEMORY_PML4 = 0x3000;
const SHARED_PHYS = 0x0100_0000;
const SHARED_SIZE = 32 * 1024 * 1024;
const DYN_START = SHARED_PHYS + SHARED_SIZE;

// The shared region's virtual base (PML4 slot 1) and its parts.
export const SHARED_VA = 0x80_0000_0000;
const RUNTIME_CODE = 0x0;
const HOST_DATA = 0x1000;
const HOST_DATA_END = 0x100000;
const CODE_AREA = 0x100000;
const CODE_END = 0x0a00000;
const DATA_AREA = 0x0a00000;
const DATA_END = 0x1400000;
const SAVE_STACK = 0x1400000;
const STACK_BOTTOM = 0x1500000;
const STACK_TOP = 0x1900000;
const STACK_RESERVE = 0x20000;

/** The grow host call's port. */
const HOSTCALL_GROW = 0xe0;

export const SYM_SAVE_SP = "__harness_save_sp";
const SYM_RETURN_GATE = "harness_return";
export const SYM_NOP = "harness_nop";

/** Per-invocation instruction budget (a runaway loop is reported, not waited for). */
const INVOKE_BUDGET = 200_000_000;

export type InvokeOutcome =
  | { kind: "return"; results: Bits[] }
  | { kind: "trap"; trap: number; func: number; offset: number }
  | { kind: "oob"; rip: number }
  | { kind: "crash"; message: string };

/** A linear memory: an address space of its own with the memory at virtual address 0. */
export class HarnessMemory {
  pages: number;
  readonly max: number;
  /** The memory type declared a maximum (import matching needs to know). */
  readonly hasDeclaredMax: boolean;
  readonly pml4: number;
  readonly pdpt: number;
  /** 4 KiB page number → physical address. */
  readonly frames = new Map<number, number>();
  /** Virtual address of the descriptor cell (updated on grow). */
  descriptor = 0;

  constructor(private readonly m: SpecMachine, pages: number, max: number | null) {
    this.pages = pages;
    this.max = max ?? 65536;
    this.hasDeclaredMax = max !== null;
    this.pml4 = m.allocFrame();
    this.pdpt = m.allocFrame();
    const dv = m.mem.view;
    dv.setUint32(this.pml4, this.pdpt | 3, true);
    dv.setUint32(this.pml4 + 8, SHARED_PDPT | 3, true);
  }

  get bytes(): number {
    return this.pages * WASM_PAGE;
  }

  /** Physical address of the 4 KiB page holding virtual address va (mapping a zero page if needed). */
  frame(va: number): number {
    const pn = Math.floor(va / PAGE);
    let f = this.frames.get(pn);
    if (f !== undefined) return f;
    f = this.m.allocFrame();
    const dv = this.m.mem.view;
    const table = (parent: number, index: number): number => {
      const e = dv.getUint32(parent + index * 8, true);
      if (e & 1) return e & ~0xfff;
      const t = this.m.allocFrame();
      dv.setUint32(parent + index * 8, t | 3, true);
      return t;
    };
    const pd = table(this.pdpt, Math.floor(va / 2 ** 30));
    const pt = table(pd, Math.floor(va / 2 ** 21) % 512);
    dv.setUint32(pt + (pn % 512) * 8, f | 3, true);
    this.frames.set(pn, f);
    return f;
  }

  grow(delta: number): number {
    const old = this.pages;
    if (old + delta > this.max) return -1;
    this.pages = old + delta;
    this.writeDescriptor();
    return old;
  }

  writeDescriptor(): void {
    if (this.descriptor === 0) return;
    this.m.writeShared32(this.descriptor + MEMDESC_PAGES, this.pages);
    this.m.writeShared32(this.descriptor + MEMDESC_MAX, this.max);
    this.m.writeShared32(this.descriptor + MEMDESC_BYTES, this.bytes | 0);
    this.m.writeShared32(this.descriptor + MEMDESC_BYTES + 4, Math.floor(this.bytes / TWO32));
  }

  write(addr: number, bytes: Uint8Array): void {
    const ram = this.m.mem.ram;
    for (let k = 0; k < bytes.length;) {
      const va = addr + k;
      const n = Math.min(bytes.length - k, PAGE - (va % PAGE));
      ram.set(bytes.subarray(k, k + n), this.frame(va) + (va % PAGE));
      k += n;
    }
  }

  read(addr: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let k = 0; k < n;) {
      const va = addr + k;
      const c = Math.min(n - k, PAGE - (va % PAGE));
      const f = this.frames.get(Math.floor(va / PAGE));
      if (f !== undefined) out.set(this.m.mem.ram.subarray(f + (va % PAGE), f + (va % PAGE) + c), k);
      k += c;
    }
    return out;
  }
}

export class SpecMachine {
  readonly mem = new PhysicalMemory(RAM_BYTES);
  readonly cpu = new Cpu(this.mem);
  space = new SymbolSpace();
  private nextFrame = DYN_START;
  private codeAt = CODE_AREA;
  private dataAt = DATA_AREA;
  private hostDataAt = HOST_DATA;
  private raised = -1;
  private readonly byPml4 = new Map<number, HarnessMemory>();
  private readonly byDescriptor = new Map<number, HarnessMemory>();
  /** Instructions retired by invocations (for reports). */
  instructions = 0;

  constructor() {
    const dv = this.mem.view;
    dv.setUint32(SHARED_PDPT, SHARED_PD | 3, true);
    for (let k = 0; k < SHARED_SIZE / 0x200000; k++) dv.setUint32(SHARED_PD + 8 * k, (SHARED_PHYS + k * 0x200000) | 0x83, true);
    dv.setUint32(NO_MEMORY_PML4 + 8, SHARED_PDPT | 3, true);
    const cpu = this.cpu;
    cpu.cr3 = NO_MEMORY_PML4;
    cpu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpu.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
    cpu.cr0 = CR0_PE | CR0_PG | 0x10 | 0x20;
    cpu.mode = MODE_64;
    cpu.stackSize = 8;
    cpu.segAttr[SEG_CS] = 0xa09b; // 64-bit code, DPL 0
    cpu.segSel[SEG_CS] = 0x08;
    cpu.segSel[SEG_SS] = 0x10;
    cpu.cpl = 0;
    cpu.updateAccessRights();
    cpu.flushTlb(true);
    cpu.exceptionHook = (vector) => {
      this.raised = vector;
      return true;
    };
    cpu.io = {
      in: () => -1,
      out: (port) => {
        if (port === HOSTCALL_GROW) this.hostGrow();
      },
    };
    this.reset();
  }

  /** Forgets every instance and memory (a new script). */
  reset(): void {
    this.mem.ram.fill(0, DYN_START, this.nextFrame);
    this.mem.ram.fill(0, SHARED_PHYS + HOST_DATA, SHARED_PHYS + HOST_DATA_END);
    this.nextFrame = DYN_START;
    this.codeAt = CODE_AREA;
    this.dataAt = DATA_AREA;
    this.hostDataAt = HOST_DATA;
    this.byPml4.clear();
    this.byDescriptor.clear();
    this.space = new SymbolSpace();
    this.cpu.cr3 = NO_MEMORY_PML4;
    this.cpu.flushTlb(true);
    // Runtime stubs: trap entry and return gate (HLT), the grow host call, a no-op for spectest.print*.
    const runtime = fromAssemblerObject("harness runtime", assembleObject(`
      __wasm_trap:
        hlt
      ${SYM_RETURN_GATE}:
        hlt
      ${SYM_MEMORY_GROW}:
        out ${HOSTCALL_GROW}, eax
        ret
      ${SYM_NOP}:
        ret
    `));
    const placed: PlacedObject = { object: runtime, addr: runtime.sections.map(() => SHARED_VA + RUNTIME_CODE) };
    defineSymbols(this.space, [placed]);
    const bytes = relocate(placed, this.space);
    this.writeSharedBytes(SHARED_VA + RUNTIME_CODE, bytes[0]!, true);
    this.space.define(SYM_STACK_LIMIT, this.hostCell(8), "harness");
    this.space.define(SYM_SAVE_SP, this.hostCell(8), "harness");
  }

  // ---- Physical and shared-region memory -------------------------------------------

  allocFrame(): number {
    if (this.nextFrame + PAGE > RAM_BYTES) throw new Error("spec harness: out of physical memory");
    const f = this.nextFrame;
    this.nextFrame += PAGE;
    this.mem.ram.fill(0, f, f + PAGE);
    return f;
  }

  /** A zeroed host-owned cell in the shared region; returns its virtual address. */
  hostCell(size: number, align = 16): number {
    this.hostDataAt = Math.ceil(this.hostDataAt / align) * align;
    const at = this.hostDataAt;
    this.hostDataAt += size;
    if (this.hostDataAt > HOST_DATA_END) throw new Error("spec harness: host data area full");
    return SHARED_VA + at;
  }

  private phys(va: number): number {
    return SHARED_PHYS + (va - SHARED_VA);
  }

  writeShared32(va: number, v: number): void {
    this.mem.view.setInt32(this.phys(va), v | 0, true);
  }

  readShared32(va: number): number {
    return this.mem.view.getInt32(this.phys(va), true);
  }

  writeSharedBytes(va: number, b: Uint8Array, code = false): void {
    const p = this.phys(va);
    this.mem.ram.set(b, p);
    if (code) this.cpu.notifyRamWritten(p, b.length);
  }

  readSharedBytes(va: number, n: number): Uint8Array {
    const p = this.phys(va);
    return this.mem.ram.slice(p, p + n);
  }

  // ---- Memories ------------------------------------------------------------------

  newMemory(pages: number, max: number | null): HarnessMemory {
    const m = new HarnessMemory(this, pages, max);
    this.byPml4.set(m.pml4, m);
    return m;
  }

  /** Attaches a memory to its descriptor cell (so memory.grow finds it). */
  bindDescriptor(m: HarnessMemory, va: number): void {
    m.descriptor = va;
    this.byDescriptor.set(va, m);
    m.writeDescriptor();
  }

  get noMemoryCr3(): number {
    return NO_MEMORY_PML4;
  }

  private hostGrow(): void {
    const cpu = this.cpu;
    const delta = cpu.r[7 * 2]! >>> 0;
    const desc = (cpu.r[6 * 2 + 1]! >>> 0) * TWO32 + (cpu.r[6 * 2]! >>> 0);
    const m = this.byDescriptor.get(desc);
    const result = m === undefined ? -1 : m.grow(delta);
    cpu.r[0] = result;
    cpu.r[1] = 0;
  }

  // ---- Placing code and data ----------------------------------------------------------

  /** Assigns addresses to an object's sections (text in the code area, the rest in the data area). */
  place(obj: LinkObject): PlacedObject {
    const addr = obj.sections.map((s) => {
      const a = Math.max(16, s.align);
      if (s.kind === "text") {
        this.codeAt = Math.ceil(this.codeAt / a) * a;
        const at = this.codeAt;
        this.codeAt += s.size;
        if (this.codeAt > CODE_END) throw new Error("spec harness: code area full");
        return SHARED_VA + at;
      }
      this.dataAt = Math.ceil(this.dataAt / a) * a;
      const at = this.dataAt;
      this.dataAt += s.size;
      if (this.dataAt > DATA_END) throw new Error("spec harness: data area full");
      return SHARED_VA + at;
    });
    return { object: obj, addr };
  }

  /** Relocates a placed object and copies it into memory. */
  load(p: PlacedObject, describe?: (s: string) => string): void {
    const bytes = relocate(p, this.space, describe);
    p.object.sections.forEach((s, k) => {
      if (s.kind === "bss") this.mem.ram.fill(0, this.phys(p.addr[k]!), this.phys(p.addr[k]!) + s.size);
      else this.writeSharedBytes(p.addr[k]!, bytes[k]!, s.kind === "text");
    });
  }

  // ---- Running -----------------------------------------------------------------------

  /** Calls a compiled function at `addr` in address space `cr3` with the given arguments. */
  invoke(addr: number, cr3: number, type: FuncType, args: readonly Bits[]): InvokeOutcome {
    const cpu = this.cpu;
    const layout = callLayout(type.params, type.results);
    this.writeShared32(this.space.lookup(SYM_STACK_LIMIT)!, SHARED_VA + STACK_BOTTOM + STACK_RESERVE);
    this.writeShared32(this.space.lookup(SYM_STACK_LIMIT)! + 4, Math.floor((SHARED_VA + STACK_BOTTOM + STACK_RESERVE) / TWO32));
    const saveSp = this.space.lookup(SYM_SAVE_SP)!;
    this.writeShared32(saveSp, (SHARED_VA + SAVE_STACK) | 0);
    this.writeShared32(saveSp + 4, Math.floor((SHARED_VA + SAVE_STACK) / TWO32));
    cpu.r.fill(0);
    cpu.xmm.fill(0);
    cpu.mxcsr = 0x1f80;
    cpu.setFlags(0x2);
    // Stack: the argument/result area, then the return address (the return gate).
    const area = SHARED_VA + STACK_TOP - 8 * layout.areaSlots;
    for (let k = 0; k < type.params.length; k++) {
      const a = layout.params[k]!;
      const v = args[k]!;
      const wide = type.params[k] === I64 || type.params[k] === F64;
      if (a.reg < 0) {
        this.writeShared32(area + 8 * a.slot, v.lo);
        this.writeShared32(area + 8 * a.slot + 4, wide ? v.hi : 0);
      } else if (isFloat(type.params[k]!)) {
        cpu.xmm[a.reg * 4] = v.lo;
        cpu.xmm[a.reg * 4 + 1] = wide ? v.hi : 0;
      } else {
        cpu.r[a.reg * 2] = v.lo;
        cpu.r[a.reg * 2 + 1] = wide ? v.hi : 0;
      }
    }
    const ret = this.space.lookup(SYM_RETURN_GATE)!;
    const rsp = area - 8;
    this.writeShared32(rsp, ret | 0);
    this.writeShared32(rsp + 4, Math.floor(ret / TWO32));
    cpu.r[4 * 2] = rsp | 0;
    cpu.r[4 * 2 + 1] = Math.floor(rsp / TWO32);
    cpu.cr3 = cr3;
    cpu.flushTlb(true);
    cpu.rip = addr;
    cpu.halted = false;
    const start = cpu.icount;
    const limit = start + INVOKE_BUDGET;
    for (;;) {
      this.raised = -1;
      const why = cpu.run(limit);
      if (why === RUN_EXCEPTION_HOOK) {
        if (this.raised === EXC_PF && this.lazyMap()) continue;
        this.instructions += cpu.icount - start;
        if (this.raised === EXC_PF) return { kind: "oob", rip: cpu.rip };
        return { kind: "crash", message: `CPU exception ${this.raised} at RIP 0x${cpu.rip.toString(16)}` };
      }
      this.instructions += cpu.icount - start;
      if (why === RUN_BUDGET) return { kind: "crash", message: `no result after ${INVOKE_BUDGET} instructions` };
      if (why !== RUN_HALT) return { kind: "crash", message: `run stopped (${why})` };
      break;
    }
    const at = cpu.rip - 1;
    if (at === this.space.lookup(SYM_TRAP)) {
      return { kind: "trap", trap: cpu.r[7 * 2]!, func: cpu.r[6 * 2]!, offset: cpu.r[2 * 2]! >>> 0 };
    }
    if (at !== ret) return { kind: "crash", message: `halted at 0x${at.toString(16)}` };
    const results: Bits[] = [];
    for (let k = 0; k < type.results.length; k++) {
      const a = layout.results[k]!;
      if (a.reg < 0) {
        results.push({ lo: this.readShared32(area + 8 * a.slot), hi: this.readShared32(area + 8 * a.slot + 4) });
      } else if (isFloat(type.results[k]!)) {
        results.push({ lo: cpu.xmm[a.reg * 4]!, hi: cpu.xmm[a.reg * 4 + 1]! });
      } else {
        results.push({ lo: cpu.r[a.reg * 2]!, hi: cpu.r[a.reg * 2 + 1]! });
      }
    }
    return { kind: "return", results };
  }

  /** Maps the page of a fault inside the current memory's size; false when the access is out of bounds. */
  private lazyMap(): boolean {
    const m = this.byPml4.get(this.cpu.cr3);
    const a = this.cpu.cr2;
    if (m === undefined || a < 0 || a >= m.bytes) return false;
    m.frame(a);
    return true;
  }
}
