// The CPU: architectural state, linear-memory access through the TLB, and the
// run loop over cached decoded instructions. Instruction semantics live in ops/,
// system behaviour (modes, descriptors, interrupts, MSRs) in the files beside this.
// 64-bit values are pairs of 32-bit halves; RIP is a double holding the canonical
// signed address (exact: canonical addresses fit in 48 bits).
import { decode, type CodeSource } from "./decode.js";
import { CPU_FAULT, EXC_AC, EXC_GP, EXC_PF, EXC_SS, EXC_UD, PF_I, PF_U, PF_W, MachineStop } from "./fault.js";
import { AC, FOP_NONE, IF, materializeFlags } from "./flags.js";
import { Insn, MODE_16, MODE_32, MODE_64, NO_REG, R8_HIGH_BASE, REP_NONE, SEG_CS, SEG_FS, SEG_SS, type ExecFn } from "./insn.js";
import type { PhysicalMemory } from "../memory/phys.js";
import { translateSlow } from "../mmu/paging.js";
import {
  TLB_MASK, TLB_SIZE, P_RS, P_RS_AC, P_RU, P_WS, P_WS_AC, P_WU, P_XS, P_XU,
  ACC_READ, ACC_WRITE, ACC_EXEC,
} from "../mmu/tlb.js";
import "./ops/index.js";
import { deliverEvent } from "./interrupts.js";

const TWO32 = 4294967296;

/** Port I/O as the CPU sees it (the machine's port bus implements it). */
export interface PortIo {
  in(port: number, size: number): number;
  out(port: number, size: number, value: number): void;
}

/** Why run() returned. */
export const RUN_BUDGET = 0; // instruction budget reached
export const RUN_HALT = 1; // HLT executed (cpu.halted is set)
export const RUN_STOP = 2; // stop requested (cpu.requestStop)
export const RUN_EXCEPTION_HOOK = 3; // the exception hook asked to stop

const noPorts: PortIo = { in: (_p, size) => (size === 1 ? 0xff : size === 2 ? 0xffff : -1), out: () => {} };

export class Cpu {
  // ---- General-purpose registers: r[2n] = low half, r[2n+1] = high half.
  readonly r = new Int32Array(32);
  /** Instruction pointer (see header). */
  rip = 0;
  /** Address of the next instruction while an instruction executes; branches overwrite it. */
  nextRip = 0;

  // ---- RFLAGS: eager bits in `flags`; arithmetic bits are lazy while fop != FOP_NONE.
  flags = 0x2;
  fop = FOP_NONE;
  fsz = 4;
  fa = 0;
  fb = 0;
  fr = 0;
  fah = 0;
  fbh = 0;
  frh = 0;
  fcf = 0;

  // ---- Segments (hidden descriptor caches). Index = SEG_* (ES CS SS DS FS GS).
  readonly segSel = new Int32Array(6);
  readonly segBaseLo = new Int32Array(6);
  readonly segBaseHi = new Int32Array(6);
  readonly segLimit = new Float64Array(6); // byte-granular limit (0..0xFFFFFFFF)
  readonly segAttr = new Int32Array(6); // descriptor bits 40..55 packed as in the descriptor's second dword >> 8
  cpl = 0;
  /** Decode mode for the current CS (MODE_16/32/64). */
  mode = MODE_32;
  /** SS.B / 64-bit: stack address size in bytes (2, 4, 8). */
  stackSize = 4;

  // ---- Descriptor tables.
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;
  ldtSel = 0;
  ldtBase = 0;
  ldtLimit = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0;
  trAttr = 0;

  // ---- Control registers, EFER, debug registers.
  cr0 = 0x60000010; // CD NW ET as after reset
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  readonly dr = new Float64Array(8);

  // ---- Model-specific registers kept on the CPU (see msr.ts for the table).
  star = 0; // high dword only matters; stored as two halves
  starHi = 0;
  lstar = 0;
  cstar = 0;
  sfmask = 0;
  kernelGsBaseLo = 0;
  kernelGsBaseHi = 0;
  tscAux = 0;
  /** Added to readTsc() (a guest write to the TSC MSR sets it). */
  tscOffset = 0;
  sysenterCs = 0;
  /** SYSENTER_ESP / SYSENTER_EIP as canonical signed doubles. */
  sysenterEsp = 0;
  sysenterEip = 0;
  readonly msrStore = new Map<number, [number, number]>();

  // ---- SSE state: xmm[4n..4n+3] = dwords of XMMn (lane 0 first), MXCSR.
  readonly xmm = new Int32Array(64);
  mxcsr = 0x1f80;

  // ---- Memory.
  readonly mem: PhysicalMemory;
  readonly ram: Uint8Array;
  readonly dv: DataView;
  io: PortIo = noPorts;

  // ---- TLB (direct-mapped; see mmu/tlb.ts for the permission bits).
  readonly tlbTagLo = new Int32Array(TLB_SIZE).fill(1);
  readonly tlbTagHi = new Int32Array(TLB_SIZE);
  readonly tlbPhys = new Int32Array(TLB_SIZE);
  readonly tlbPerm = new Int32Array(TLB_SIZE);
  readonly tlbGlobal = new Uint8Array(TLB_SIZE);
  tlbHasLarge = false;
  /**
   * Alignment checking is active (CPL 3, CR0.AM and RFLAGS.AC): TLB entries are
   * then filled without user bits, so every user data access takes the slow
   * path, which raises #AC for a misaligned operand. The fast path pays nothing.
   */
  alignCheck = false;
  /** Permission bits required for data reads/writes and fetches at the current CPL/AC. */
  needR = P_RS;
  needW = P_WS;
  needX = P_XS;

  // ---- Decoded-instruction cache by physical page; codePage marks pages holding cached code.
  readonly codePage: Uint8Array;
  readonly codeCache: (Insn[] | undefined)[];

  // ---- Execution state.
  /** Retired instructions (the deterministic clock). */
  icount = 0;
  /** Set when the run loop must leave its fast path (interrupt, mode change, code write...). */
  eventFlag = 0;
  halted = false;
  stopRequested = false;
  /** Interrupt line from the interrupt controller, and the acknowledge callback (returns a vector or -1). */
  intrLine = false;
  intrAck: () => number = () => -1;
  /** Interrupts are inhibited until icount reaches this value (STI / MOV SS shadow). */
  inhibitUntil = 0;

  // ---- Pending exception (set by fault(), consumed by delivery).
  excVector = -1;
  excCode = -1;
  /** Linear address of the last computed memory operand (halves). */
  eaLo = 0;
  eaHi = 0;
  /** Scratch high half for 64-bit results returned as (lo, this.rhi). */
  rhi = 0;
  /** Called to deliver exceptions/interrupts; installed by interrupts.ts. Returns false to stop the run loop. */
  deliver: (cpu: Cpu, vector: number, code: number, kind: number) => boolean = () => false;
  /** Optional observer for exceptions (tests, tracing); returning true stops the run with RUN_EXCEPTION_HOOK. */
  exceptionHook: ((vector: number, code: number) => boolean) | null = null;
  /** Time-stamp counter source (the machine's virtual clock). */
  readTsc: () => number = () => this.icount;

  private readonly fetchSrc: CodeSource;
  private fetchBase = 0;

  constructor(mem: PhysicalMemory) {
    this.mem = mem;
    this.ram = mem.ram;
    this.dv = mem.view;
    const pages = mem.size >>> 12;
    this.codePage = new Uint8Array(pages);
    this.codeCache = new Array(pages);
    const cpu = this;
    this.fetchSrc = { byte: (off: number) => cpu.fetchByte(cpu.fetchBase + off) };
    this.resetSegments();
    // Exception and interrupt delivery through the IVT/IDT (interrupts.ts).
    this.deliver = deliverEvent;
  }

  /** Flat 32-bit protected-mode segments (the Multiboot entry state) or real-mode style zero bases. */
  resetSegments(): void {
    for (let s = 0; s < 6; s++) {
      this.segSel[s] = 0;
      this.segBaseLo[s] = 0;
      this.segBaseHi[s] = 0;
      this.segLimit[s] = 0xffffffff;
      this.segAttr[s] = 0xc093; // present, DPL0, data RW, G=1, B=1
    }
    this.segAttr[SEG_CS] = 0xc09b; // code, D=1
  }

  // =====================================================================
  // Faults
  // =====================================================================

  /** Raises an architectural exception; never returns. */
  fault(vector: number, code = -1): never {
    this.excVector = vector;
    this.excCode = code;
    throw CPU_FAULT;
  }

  gp(code = 0): never {
    return this.fault(EXC_GP, code);
  }

  ud(): never {
    return this.fault(EXC_UD);
  }

  // =====================================================================
  // Registers
  // =====================================================================

  getR8(id: number): number {
    return id < R8_HIGH_BASE ? this.r[id << 1]! & 0xff : (this.r[(id - R8_HIGH_BASE) << 1]! >> 8) & 0xff;
  }

  setR8(id: number, v: number): void {
    if (id < R8_HIGH_BASE) {
      const k = id << 1;
      this.r[k] = (this.r[k]! & ~0xff) | (v & 0xff);
    } else {
      const k = (id - R8_HIGH_BASE) << 1;
      this.r[k] = (this.r[k]! & ~0xff00) | ((v & 0xff) << 8);
    }
  }

  /** Reads a GPR at an operand size (1 uses byte-register ids); 8 returns the low half and sets rhi. */
  getReg(n: number, size: number): number {
    switch (size) {
      case 1: return this.getR8(n);
      case 2: return this.r[n << 1]! & 0xffff;
      case 4: return this.r[n << 1]!;
      default: this.rhi = this.r[(n << 1) + 1]!; return this.r[n << 1]!;
    }
  }

  /** Writes a GPR at an operand size: 8/16-bit merge, 32-bit zero-extends, 64-bit takes hi. */
  setReg(n: number, size: number, lo: number, hi = 0): void {
    const k = n << 1;
    switch (size) {
      case 1: this.setR8(n, lo); return;
      case 2: this.r[k] = (this.r[k]! & ~0xffff) | (lo & 0xffff); return;
      case 4: this.r[k] = lo; this.r[k + 1] = 0; return;
      default: this.r[k] = lo; this.r[k + 1] = hi; return;
    }
  }

  /** Full RFLAGS with lazy flags folded in. */
  getFlags(): number {
    return materializeFlags(this);
  }

  /** Replaces RFLAGS (callers apply privilege rules first). */
  setFlags(v: number): void {
    const oldAc = this.flags & AC;
    this.flags = (v | 2) & 0x3f7fd7;
    this.fop = FOP_NONE;
    if ((this.flags & AC) !== oldAc) this.updateAccessRights();
    if (this.flags & IF) this.eventFlag = 1;
  }

  // =====================================================================
  // Effective and linear addresses
  // =====================================================================

  /**
   * Computes the linear address of insn's memory operand (eaLo/eaHi), applying
   * the segment base and, outside 64-bit mode, the segment limit for `size` bytes.
   */
  ea(i: Insn, size: number): void {
    // Deliberately fused with the address arithmetic of effectiveAddress():
    // this is the hottest helper of the interpreter, and splitting it costs a
    // third of the guest MIPS (measured: 42 → 27 on `capos bench cpu`).
    const r = this.r;
    if (i.adsize === 8) {
      let lo = i.dispLo >>> 0;
      let hi = i.dispHi;
      if (i.base !== NO_REG) {
        lo += r[i.base << 1]! >>> 0;
        hi += r[(i.base << 1) + 1]!;
      } else if (i.ripRel) {
        const n = this.nextRip;
        lo += n >>> 0;
        hi += Math.floor(n / TWO32);
      }
      if (i.index !== NO_REG) {
        const s = 1 << i.scale;
        lo += (r[i.index << 1]! >>> 0) * s;
        hi += r[(i.index << 1) + 1]! * s;
      }
      if (i.seg >= SEG_FS) {
        lo += this.segBaseLo[i.seg]! >>> 0;
        hi += this.segBaseHi[i.seg]!;
      }
      hi = (hi + Math.floor(lo / TWO32)) | 0;
      this.eaLo = lo | 0;
      this.eaHi = hi;
      if (((hi << 16) >> 16) !== hi) this.fault(i.seg === SEG_SS ? EXC_SS : EXC_GP, 0);
      return;
    }
    this.segmentLinear(i.seg, this.effectiveAddress(i), size);
  }

  /**
   * The effective address of insn's memory operand before segmentation (what LEA
   * computes). Returns the low half; for 64-bit address size the high half is in
   * rhi, for 32- and 16-bit address sizes the sum is wrapped to that size
   * (unsigned) and rhi is 0.
   */
  effectiveAddress(i: Insn): number {
    const r = this.r;
    if (i.adsize === 8) {
      let lo = i.dispLo >>> 0;
      let hi = i.dispHi;
      if (i.base !== NO_REG) {
        lo += r[i.base << 1]! >>> 0;
        hi += r[(i.base << 1) + 1]!;
      } else if (i.ripRel) {
        const n = this.nextRip;
        lo += n >>> 0;
        hi += Math.floor(n / TWO32);
      }
      if (i.index !== NO_REG) {
        const s = 1 << i.scale;
        lo += (r[i.index << 1]! >>> 0) * s;
        hi += r[(i.index << 1) + 1]! * s;
      }
      this.rhi = (hi + Math.floor(lo / TWO32)) | 0;
      return lo | 0;
    }
    let off = i.dispLo;
    if (i.base !== NO_REG) off += r[i.base << 1]!;
    else if (i.ripRel) off += this.nextRip;
    if (i.index !== NO_REG) off += r[i.index << 1]! << i.scale;
    this.rhi = 0;
    return i.adsize === 2 ? off & 0xffff : off >>> 0;
  }

  /** Linear address of seg:offset for `size` bytes into eaLo/eaHi, with limit checks outside 64-bit mode. */
  segmentLinear(seg: number, off: number, size: number): void {
    if (this.mode === MODE_64) {
      // Only FS/GS contribute a base; no limit checks.
      let lo = off >>> 0;
      let hi = 0;
      if (seg >= SEG_FS) {
        lo += this.segBaseLo[seg]! >>> 0;
        hi = this.segBaseHi[seg]!;
        hi = (hi + Math.floor(lo / TWO32)) | 0;
      }
      this.eaLo = lo | 0;
      this.eaHi = hi;
      if (((hi << 16) >> 16) !== hi) this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
      return;
    }
    const limit = this.segLimit[seg]!;
    const attr = this.segAttr[seg]!;
    if ((attr & 0x80) === 0 && this.mode !== MODE_16) this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0); // null/not present
    if ((attr & 0x1c) === 0x14) {
      // Expand-down data segment: valid offsets are (limit, upper], upper = 0xFFFF or 0xFFFFFFFF by B.
      const upper = attr & 0x4000 ? 0xffffffff : 0xffff;
      if (off <= limit || off + size - 1 > upper) this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    } else if (off + size - 1 > limit) {
      this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    }
    this.eaLo = (this.segBaseLo[seg]! + off) | 0;
    this.eaHi = 0;
  }

  // =====================================================================
  // Linear memory access (fast path through the TLB, slow path in mmu/paging.ts)
  // =====================================================================

  read8(lo: number, hi: number): number {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needR) !== 0) {
      return this.ram[this.tlbPhys[e]! + (lo & 0xfff)]!;
    }
    return this.readSlow(lo, hi, 1, this.needR);
  }

  read16(lo: number, hi: number): number {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needR) !== 0 && (lo & 0xfff) <= 0xffe) {
      return this.dv.getUint16(this.tlbPhys[e]! + (lo & 0xfff), true);
    }
    return this.readSlow(lo, hi, 2, this.needR);
  }

  read32(lo: number, hi: number): number {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needR) !== 0 && (lo & 0xfff) <= 0xffc) {
      return this.dv.getInt32(this.tlbPhys[e]! + (lo & 0xfff), true);
    }
    return this.readSlow(lo, hi, 4, this.needR);
  }

  /** Reads 8 bytes: returns the low half, high half in rhi. */
  read64(lo: number, hi: number): number {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needR) !== 0 && (lo & 0xfff) <= 0xff8) {
      const p = this.tlbPhys[e]! + (lo & 0xfff);
      this.rhi = this.dv.getInt32(p + 4, true);
      return this.dv.getInt32(p, true);
    }
    if (this.alignCheck) this.checkAlignment(lo, 8, this.needR);
    const hi2 = lo >>> 0 > 0xfffffffb ? hi + 1 : hi;
    const vlo = this.readSlow(lo, hi, 4, this.needR);
    const vhi = this.readSlow((lo + 4) | 0, hi2, 4, this.needR);
    this.rhi = vhi;
    return vlo;
  }

  write8(lo: number, hi: number, v: number): void {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needW) !== 0) {
      this.ram[this.tlbPhys[e]! + (lo & 0xfff)] = v;
      return;
    }
    this.writeSlow(lo, hi, 1, v, this.needW);
  }

  write16(lo: number, hi: number, v: number): void {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needW) !== 0 && (lo & 0xfff) <= 0xffe) {
      this.dv.setUint16(this.tlbPhys[e]! + (lo & 0xfff), v, true);
      return;
    }
    this.writeSlow(lo, hi, 2, v, this.needW);
  }

  write32(lo: number, hi: number, v: number): void {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needW) !== 0 && (lo & 0xfff) <= 0xffc) {
      this.dv.setInt32(this.tlbPhys[e]! + (lo & 0xfff), v, true);
      return;
    }
    this.writeSlow(lo, hi, 4, v, this.needW);
  }

  write64(lo: number, hi: number, vlo: number, vhi: number): void {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & this.needW) !== 0 && (lo & 0xfff) <= 0xff8) {
      const p = this.tlbPhys[e]! + (lo & 0xfff);
      this.dv.setInt32(p, vlo, true);
      this.dv.setInt32(p + 4, vhi, true);
      return;
    }
    // Check every byte is writable before changing anything (no partial writes on a fault).
    if (this.alignCheck) this.checkAlignment(lo, 8, this.needW);
    const hi2 = lo >>> 0 > 0xfffffffb ? hi + 1 : hi;
    this.probeWrite(lo, hi, 8);
    this.writeSlow(lo, hi, 4, vlo, this.needW);
    this.writeSlow((lo + 4) | 0, hi2, 4, vhi, this.needW);
  }

  /** Verifies that `size` bytes at lo/hi are writable without writing (read-modify-write, multi-part stores). */
  probeWrite(lo: number, hi: number, size: number): void {
    this.translate(lo, hi, ACC_WRITE, this.needW);
    const last = (lo >>> 0) + size - 1;
    if ((lo & 0xfff) + size > 0x1000) {
      this.translate(last & -4096, last > 0xffffffff ? hi + 1 : hi, ACC_WRITE, this.needW);
    }
  }

  /** Translates a linear address to physical for an access kind; throws #PF. Fills the TLB. */
  translate(lo: number, hi: number, access: number, need: number): number {
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi && (this.tlbPerm[e]! & need) !== 0) {
      return this.tlbPhys[e]! + (lo & 0xfff);
    }
    return translateSlow(this, lo, hi, access, need);
  }

  /** Byte-by-byte slow read: page-crossing, MMIO, TLB misses. */
  readSlow(lo: number, hi: number, size: number, need: number): number {
    if (this.alignCheck) this.checkAlignment(lo, size, need);
    const off = lo & 0xfff;
    if (off + size <= 0x1000) {
      const p = this.translate(lo, hi, ACC_READ, need);
      if (p < this.mem.size && this.mem.isRamPage(p >>> 12)) {
        return size === 1 ? this.ram[p]! : size === 2 ? this.dv.getUint16(p, true) : this.dv.getInt32(p, true);
      }
      return this.mem.read(p, size);
    }
    // Crosses a page: translate both pages first so a fault leaves nothing half-done
    // (CR2 then names the first byte of the faulting page, as on hardware).
    const hi2 = lo >>> 0 > 0xffffffff - size ? hi + 1 : hi;
    this.translate(lo, hi, ACC_READ, need);
    this.translate((lo + size - 1) & -4096, hi2, ACC_READ, need);
    let v = 0;
    for (let k = 0; k < size; k++) {
      const a = (lo + k) | 0;
      const p = this.translate(a, (lo >>> 0) + k > 0xffffffff ? hi + 1 : hi, ACC_READ, need);
      v |= (p < this.mem.size && this.mem.isRamPage(p >>> 12) ? this.ram[p]! : this.mem.read(p, 1)) << (8 * k);
    }
    return size === 2 ? v & 0xffff : v;
  }

  writeSlow(lo: number, hi: number, size: number, v: number, need: number): void {
    if (this.alignCheck) this.checkAlignment(lo, size, need);
    const off = lo & 0xfff;
    if (off + size <= 0x1000) {
      const p = this.translate(lo, hi, ACC_WRITE, need);
      this.physWrite(p, size, v);
      return;
    }
    const hi2 = lo >>> 0 > 0xffffffff - size ? hi + 1 : hi;
    this.translate(lo, hi, ACC_WRITE, need);
    this.translate((lo + size - 1) & -4096, hi2, ACC_WRITE, need);
    for (let k = 0; k < size; k++) {
      const p = this.translate((lo + k) | 0, (lo >>> 0) + k > 0xffffffff ? hi + 1 : hi, ACC_WRITE, need);
      this.physWrite(p, 1, v >>> (8 * k));
    }
  }

  /** Physical write with self-modifying-code detection. */
  physWrite(p: number, size: number, v: number): void {
    const page = p >>> 12;
    if (p < this.mem.size && this.mem.isRamPage(page)) {
      if (this.codePage[page] !== 0) this.invalidateCode(page);
      if (size === 1) this.ram[p] = v;
      else if (size === 2) this.dv.setUint16(p, v, true);
      else this.dv.setInt32(p, v, true);
      // A write that reaches into the next page (unaligned, size > 1) may touch code there too.
      const endPage = (p + size - 1) >>> 12;
      if (endPage !== page && endPage < this.codePage.length && this.codePage[endPage] !== 0) this.invalidateCode(endPage);
      return;
    }
    this.mem.write(p, size, v);
  }

  /** #AC(0) for a misaligned user data access while alignment checking is active. */
  private checkAlignment(lo: number, size: number, need: number): void {
    if ((need & (P_RU | P_WU)) !== 0 && (lo & (size - 1)) !== 0) this.fault(EXC_AC, 0);
  }

  /** Drops cached decodes of a physical page (its bytes changed). */
  invalidateCode(page: number): void {
    this.codePage[page] = 0;
    this.codeCache[page] = undefined;
    this.eventFlag = 1;
  }

  /** Host-side notification that RAM changed behind the CPU's back (loaders, DMA). */
  notifyRamWritten(start: number, length: number): void {
    const first = start >>> 12;
    const last = Math.min((start + length - 1) >>> 12, this.codePage.length - 1);
    for (let p = first; p <= last; p++) if (this.codePage[p] !== 0) this.invalidateCode(p);
  }

  /** Recomputes the TLB permission masks for the current CPL, AC and SMAP. */
  updateAccessRights(): void {
    const align = this.cpl === 3 && (this.cr0 & CR0_AM) !== 0 && (this.flags & AC) !== 0;
    if (align !== this.alignCheck) {
      this.alignCheck = align;
      this.flushTlb(true);
    }
    if (this.cpl === 3) {
      this.needR = P_RU;
      this.needW = P_WU;
      this.needX = P_XU;
    } else {
      const acOverride = (this.flags & AC) !== 0;
      this.needR = acOverride ? P_RS_AC : P_RS;
      this.needW = acOverride ? P_WS_AC : P_WS;
      this.needX = P_XS;
    }
  }

  /** Flushes the TLB: everything, or only non-global entries. */
  flushTlb(includeGlobal: boolean): void {
    for (let e = 0; e < TLB_SIZE; e++) {
      if (includeGlobal || this.tlbGlobal[e] === 0) {
        this.tlbTagLo[e] = 1;
        this.tlbPerm[e] = 0;
      }
    }
    if (includeGlobal) this.tlbHasLarge = false;
    this.eventFlag = 1;
  }

  /** INVLPG: drops the translation of one linear address (all of it when large pages are cached). */
  invalidatePage(lo: number, hi: number): void {
    if (this.tlbHasLarge) { this.flushTlb(true); return; }
    const e = ((lo >>> 12) ^ (lo >>> 22) ^ hi) & TLB_MASK;
    if (this.tlbTagLo[e] === (lo & -4096) && this.tlbTagHi[e] === hi) {
      this.tlbTagLo[e] = 1;
      this.tlbPerm[e] = 0;
    }
    this.eventFlag = 1;
  }

  /** Removes write permission from cached translations of a physical page (it now holds decoded code). */
  private protectCodePage(page: number): void {
    const base = page << 12;
    for (let e = 0; e < TLB_SIZE; e++) {
      if (this.tlbPhys[e] === base) this.tlbPerm[e] = this.tlbPerm[e]! & ~(P_WU | P_WS | P_WS_AC);
    }
  }

  // =====================================================================
  // Stack
  // =====================================================================

  /** Pushes `size` bytes (2, 4, 8) at SS:rSP. */
  push(size: number, lo: number, hi = 0): void {
    const k = 4 << 1; // RSP
    if (this.stackSize === 8) {
      let spLo = (this.r[k]! >>> 0) - size;
      let spHi = this.r[k + 1]!;
      if (spLo < 0) { spLo += TWO32; spHi = (spHi - 1) | 0; }
      if (((spHi << 16) >> 16) !== spHi) this.fault(EXC_SS, 0);
      const slo = spLo | 0;
      if (size === 8) this.write64(slo, spHi, lo, hi);
      else if (size === 4) this.write32(slo, spHi, lo);
      else this.write16(slo, spHi, lo);
      this.r[k] = slo;
      this.r[k + 1] = spHi;
      return;
    }
    const mask = this.stackSize === 4 ? 0xffffffff : 0xffff;
    const sp = ((this.r[k]! >>> 0) - size) & mask;
    this.segmentLinear(SEG_SS, sp >>> 0, size);
    if (size === 8) this.write64(this.eaLo, this.eaHi, lo, hi);
    else if (size === 4) this.write32(this.eaLo, this.eaHi, lo);
    else this.write16(this.eaLo, this.eaHi, lo);
    if (mask === 0xffff) this.r[k] = (this.r[k]! & ~0xffff) | sp;
    else { this.r[k] = sp; this.r[k + 1] = 0; }
  }

  /** Reads `size` bytes at SS:rSP + offset without popping (high half in rhi for 8). */
  peek(size: number, offset = 0): number {
    const k = 4 << 1;
    let lo: number, hi: number;
    if (this.stackSize === 8) {
      let l = (this.r[k]! >>> 0) + offset;
      hi = this.r[k + 1]!;
      if (l >= TWO32) { l -= TWO32; hi = (hi + 1) | 0; }
      lo = l | 0;
      if (((hi << 16) >> 16) !== hi) this.fault(EXC_SS, 0);
    } else {
      const mask = this.stackSize === 4 ? 0xffffffff : 0xffff;
      this.segmentLinear(SEG_SS, ((this.r[k]! >>> 0) + offset) & mask, size);
      lo = this.eaLo;
      hi = this.eaHi;
    }
    if (size === 8) return this.read64(lo, hi);
    if (size === 4) return this.read32(lo, hi);
    return this.read16(lo, hi);
  }

  /** Pops `size` bytes; returns the low half (high half in rhi for 8). */
  pop(size: number): number {
    const v = this.peek(size);
    const hi = this.rhi;
    this.adjustSp(size);
    this.rhi = hi;
    return v;
  }

  /** Adds a (possibly negative) byte count to rSP at the stack address size. */
  adjustSp(delta: number): void {
    const k = 4 << 1;
    if (this.stackSize === 8) {
      let lo = (this.r[k]! >>> 0) + delta;
      let hi = this.r[k + 1]!;
      if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; }
      else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
      this.r[k] = lo | 0;
      this.r[k + 1] = hi;
    } else if (this.stackSize === 4) {
      this.r[k] = (this.r[k]! + delta) | 0;
      this.r[k + 1] = 0;
    } else {
      this.r[k] = (this.r[k]! & ~0xffff) | ((this.r[k]! + delta) & 0xffff);
    }
  }

  // =====================================================================
  // Instruction fetch and the run loop
  // =====================================================================

  /** Reads one code byte at a linear address (RIP-relative double) with execute permission. */
  fetchByte(linear: number): number {
    const lo = linear >>> 0;
    const hi = Math.floor(linear / TWO32) | 0;
    const p = this.translate(lo | 0, hi, ACC_EXEC, this.needX);
    if (p < this.mem.size && this.mem.isRamPage(p >>> 12)) return this.ram[p]!;
    return this.mem.read(p, 1) & 0xff;
  }

  /** Decoded instruction at the current RIP, from the cache or freshly decoded. */
  /** Linear address of the current instruction: RIP, plus the CS base outside 64-bit mode. */
  codeLinear(): number {
    return this.mode === MODE_64 ? this.rip : (this.rip + this.segBaseLo[SEG_CS]!) >>> 0;
  }

  private fetchInsn(): Insn {
    const rip = this.codeLinear();
    const lo = rip >>> 0;
    const hi = Math.floor(rip / TWO32) | 0;
    const p = this.translate(lo | 0, hi, ACC_EXEC, this.needX);
    const page = p >>> 12;
    const cacheable = p < this.mem.size && this.mem.isRamPage(page);
    if (cacheable) {
      const arr = this.codeCache[page];
      if (arr !== undefined) {
        const cached = arr[p & 0xfff];
        if (cached !== undefined && cached.mode === this.mode) return cached;
      }
    }
    this.fetchBase = rip;
    const insn = decode(this.fetchSrc, this.mode, new Insn(), decodeHooks);
    insn.phys = p;
    // Cache only instructions wholly inside this page: a page-crossing one depends on two pages.
    if (cacheable && (p & 0xfff) + insn.len <= 0x1000) {
      let arr = this.codeCache[page];
      if (arr === undefined) {
        arr = this.codeCache[page] = new Array(4096);
        this.codePage[page] = 1;
        this.protectCodePage(page);
      }
      arr[p & 0xfff] = insn;
    }
    return insn;
  }

  /** Requests the run loop to return at the next instruction boundary. */
  requestStop(): void {
    this.stopRequested = true;
    this.eventFlag = 1;
  }

  /** Raises or lowers the maskable interrupt line (from the interrupt controller). */
  setIntrLine(level: boolean): void {
    this.intrLine = level;
    if (level) this.eventFlag = 1;
  }

  /**
   * Executes instructions until `limit` total retired instructions (icount),
   * a HLT, a stop request, or an exception hook stop. Returns RUN_*.
   */
  run(limit: number): number {
    this.stopRequested = false;
    // The instruction whose successor the next fetch should be linked to, and
    // whether it fell through (link.next) or branched from linkRip (link.jump).
    let link: Insn | null = null;
    let linkTaken = false;
    let linkRip = 0;
    while (this.icount < limit) {
      if (this.eventFlag !== 0) {
        const r = this.handleEvents();
        if (r >= 0) return r;
        link = null;
      }
      if (this.halted) return RUN_HALT;
      try {
        let insn = this.fetchInsn();
        if (link !== null && link.mode === insn.mode && ((insn.phys ^ link.phys) & ~0xfff) === 0) {
          if (!linkTaken) {
            if (insn.phys === link.phys + link.len) link.next = insn;
          } else if (Math.floor(linkRip / 4096) === Math.floor(this.rip / 4096)) {
            // Same virtual page as the branch, hence the same physical page while the mapping holds.
            link.jump = insn;
            link.jumpRip = this.rip;
          }
        }
        link = null;
        for (;;) {
          const rip = this.rip;
          const next = rip + insn.len;
          this.nextRip = next;
          insn.exec(this, insn);
          const target = this.nextRip;
          this.rip = target;
          this.icount++;
          if (this.eventFlag !== 0 || this.icount >= limit) break;
          let n: Insn | null;
          if (target === next) {
            n = insn.next;
            if (n === null) { link = insn; linkTaken = false; break; }
          } else {
            n = insn.jump;
            if (n === null || target !== insn.jumpRip) { link = insn; linkTaken = true; linkRip = rip; break; }
          }
          insn = n;
        }
      } catch (e) {
        link = null;
        if (e !== CPU_FAULT) throw this.internalError(e);
        if (!this.raiseException()) return RUN_EXCEPTION_HOOK;
      }
    }
    return RUN_BUDGET;
  }

  /**
   * Executes exactly one instruction. A REP string instruction completes all its
   * iterations: the run loop executes it in slices (it leaves RIP at itself
   * between slices so interrupts can be taken), and step() re-runs those slices.
   * Returns true if it retired.
   */
  step(): boolean {
    const before = this.icount;
    try {
      const insn = this.fetchInsn();
      for (;;) {
        const rip = this.rip;
        this.nextRip = rip + insn.len;
        insn.exec(this, insn);
        this.rip = this.nextRip;
        if (this.rip !== rip || insn.rep === REP_NONE || insn.row === null || insn.row.rep === undefined) break;
      }
      this.icount++;
    } catch (e) {
      if (e !== CPU_FAULT) throw this.internalError(e);
      this.raiseException();
    }
    return this.icount !== before;
  }

  /** Handles what set eventFlag. Returns a RUN_* code to stop, or -1 to continue. */
  private handleEvents(): number {
    this.eventFlag = 0;
    if (this.stopRequested) {
      this.stopRequested = false;
      return RUN_STOP;
    }
    if (this.intrLine && (this.flags & IF) !== 0) {
      if (this.icount < this.inhibitUntil) {
        this.eventFlag = 1; // look again after the shadowed instruction
      } else {
        const vector = this.intrAck();
        if (vector >= 0) {
          this.halted = false;
          try {
            this.deliver(this, vector, -1, DELIVER_EXTERNAL);
          } catch (e) {
            if (e !== CPU_FAULT) throw this.internalError(e);
            if (!this.raiseException()) return RUN_EXCEPTION_HOOK;
          }
        }
      }
    }
    return -1;
  }

  /** Delivers the pending exception (excVector/excCode). Returns false to stop the run loop. */
  raiseException(): boolean {
    const v = this.excVector;
    const c = this.excCode;
    this.excVector = -1;
    if (this.exceptionHook !== null && this.exceptionHook(v, c)) {
      this.excVector = v;
      this.excCode = c;
      return false;
    }
    return this.deliver(this, v, c, DELIVER_EXCEPTION);
  }

  /** Wraps a JavaScript error from inside the CPU into a report with RIP, bytes and mode. */
  internalError(e: unknown): Error {
    if (e instanceof MachineStop) return e as unknown as Error;
    let bytes = "";
    try {
      const start = this.codeLinear();
      for (let k = 0; k < 15; k++) bytes += this.fetchByte(start + k).toString(16).padStart(2, "0");
    } catch {
      bytes += "??";
    }
    const modeName = this.mode === MODE_64 ? "64-bit" : this.mode === MODE_32 ? "32-bit" : "16-bit";
    const err = new Error(
      `emulator internal error at RIP=0x${toHex64(this.rip)} (${modeName} mode, CPL ${this.cpl}), bytes ${bytes}: ${e instanceof Error ? e.message : String(e)}`,
    );
    (err as Error & { cause?: unknown }).cause = e;
    return err;
  }

  /** Page-fault helper used by the page walker. */
  pageFault(lo: number, hi: number, code: number): never {
    this.cr2 = hi * TWO32 + (lo >>> 0);
    return this.fault(EXC_PF, code);
  }

  /** Error-code bits for an access kind at the current privilege. */
  pfBits(access: number, need: number): number {
    let code = 0;
    if (access === ACC_WRITE) code |= PF_W;
    if (access === ACC_EXEC && ((this.efer & EFER_NXE) !== 0 || (this.cr4 & CR4_SMEP) !== 0)) code |= PF_I;
    if ((need & (P_RU | P_WU | P_XU)) !== 0) code |= PF_U;
    return code;
  }
}

/** Kinds of event delivery (interrupts.ts). */
export const DELIVER_EXCEPTION = 0;
export const DELIVER_EXTERNAL = 1; // maskable interrupt from the PIC
export const DELIVER_SOFTWARE = 2; // INT n (DPL check, RIP after the instruction)
export const DELIVER_SOFTWARE_EXC = 3; // INT3 / INTO (DPL check, trap-like)

export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;
export const CR4_FSGSBASE = 1 << 16;
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;

export function toHex64(v: number): string {
  if (v < 0) {
    const hi = (Math.floor(v / TWO32) >>> 0).toString(16);
    const lo = (v >>> 0).toString(16).padStart(8, "0");
    return hi + lo;
  }
  return v.toString(16);
}

/** Decoder hooks: invalid encodings raise #UD, overlong ones #GP(0), CPL-0 rows check privilege. */
const decodeHooks = {
  invalid: ((cpu: Cpu) => cpu.ud()) as ExecFn,
  tooLong: ((cpu: Cpu) => cpu.gp(0)) as ExecFn,
  privileged: (exec: ExecFn): ExecFn => (cpu, insn) => {
    if (cpu.cpl !== 0) cpu.gp(0);
    exec(cpu, insn);
  },
};

export { MODE_16, MODE_32, MODE_64, ACC_READ, ACC_WRITE, ACC_EXEC };
