// Runs single-instruction conformance vectors (the JSONL format described in
// shared/conformance/x86-64/README.md) on a fresh 64-bit long-mode CPU and
// reports every difference. Host-agnostic: callers read the files.
import { Cpu, CR0_PE, CR0_PG, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE } from "./cpu.js";
import { EXCEPTION_NAMES } from "./fault.js";
import { MODE_64, SEG_CS } from "./insn.js";
import { PhysicalMemory } from "../memory/phys.js";

export interface VectorState {
  [reg: string]: string | { addr: string; hex: string } | undefined;
  mem?: { addr: string; hex: string };
}

export interface Vector {
  id: string;
  asm: string;
  code: string;
  rip: string;
  init: VectorState;
  mem?: { addr: string; hex: string };
  expect?: VectorState;
  exception?: string;
  flagsMask: string;
  undef?: string[];
}

export interface VectorResult {
  id: string;
  pass: boolean;
  diffs: string[];
}

export const GPR_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

// Physical layout of the runner's machine.
const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;
const PT_CODE = 0x4000;
const PT_DATA = 0x5000;
const CODE_PHYS = 0x10000; // linear 0x40000000
const DATA_PHYS = 0x11000; // linear 0x50000000
const DATA_LIN = 0x50000000;

/** Splits a "0x..." 64-bit hex string into [lo, hi] int32 halves. */
export function hex64(s: string): [number, number] {
  const h = s.replace(/^0x/, "").padStart(16, "0");
  return [parseInt(h.slice(8), 16) | 0, parseInt(h.slice(0, 8), 16) | 0];
}

export function fmt64(lo: number, hi: number): string {
  const v = ((hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0")).replace(/^0+(?=.)/, "");
  return "0x" + v;
}

function bytesFromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(hex.substr(k * 2, 2), 16);
  return out;
}

function hexFromBytes(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export class ConformanceRunner {
  readonly mem = new PhysicalMemory(4 * 1024 * 1024);
  readonly cpu = new Cpu(this.mem);
  private raised = -1;

  constructor() {
    const dv = this.mem.view;
    // 4-level tables: 0x40000000 → CODE_PHYS, 0x50000000 → DATA_PHYS; user, writable.
    dv.setUint32(PML4, PDPT | 7, true);
    dv.setUint32(PDPT + 1 * 8, PD | 7, true);
    dv.setUint32(PD + 0 * 8, PT_CODE | 7, true);
    dv.setUint32(PD + 0x80 * 8, PT_DATA | 7, true);
    dv.setUint32(PT_CODE, CODE_PHYS | 7, true);
    dv.setUint32(PT_DATA, DATA_PHYS | 7, true);
    const cpu = this.cpu;
    cpu.cr3 = PML4;
    cpu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpu.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
    cpu.cr0 = CR0_PE | CR0_PG | 0x10 | 0x20;
    cpu.mode = MODE_64;
    cpu.stackSize = 8;
    cpu.segAttr[SEG_CS] = 0xa0fb; // 64-bit code, DPL 3
    cpu.segSel[SEG_CS] = 0x33;
    cpu.cpl = 3;
    cpu.updateAccessRights();
    cpu.flushTlb(true);
    cpu.exceptionHook = (vector) => {
      this.raised = vector;
      return true;
    };
  }

  run(v: Vector): VectorResult {
    const cpu = this.cpu;
    const ram = this.mem.ram;
    const diffs: string[] = [];
    // Code page and data page.
    ram.fill(0, CODE_PHYS, CODE_PHYS + 0x2000);
    const code = bytesFromHex(v.code);
    ram.set(code, CODE_PHYS);
    cpu.notifyRamWritten(CODE_PHYS, 0x2000);
    let memAddr = 0;
    if (v.mem) {
      memAddr = Number(v.mem.addr);
      ram.set(bytesFromHex(v.mem.hex), DATA_PHYS + (memAddr - DATA_LIN));
    }
    // Registers.
    GPR_NAMES.forEach((name, n) => {
      const [lo, hi] = hex64(v.init[name] as string);
      cpu.r[n * 2] = lo;
      cpu.r[n * 2 + 1] = hi;
    });
    cpu.setFlags(Number(v.init.rflags));
    if (v.init.mxcsr !== undefined) cpu.mxcsr = Number(v.init.mxcsr);
    else cpu.mxcsr = 0x1f80;
    for (let x = 0; x < 16; x++) {
      const val = v.init[`xmm${x}`] as string | undefined;
      const b = val ? bytesFromHex(val) : new Uint8Array(16);
      const dv = new DataView(b.buffer);
      for (let k = 0; k < 4; k++) cpu.xmm[x * 4 + k] = dv.getInt32(k * 4, true);
    }
    cpu.rip = Number(v.rip);
    cpu.halted = false;
    this.raised = -1;
    cpu.step();

    if (v.exception !== undefined) {
      const got = this.raised >= 0 ? EXCEPTION_NAMES[this.raised] ?? String(this.raised) : "none";
      if (got !== v.exception) diffs.push(`exception: expected #${v.exception}, got ${got === "none" ? "no exception" : "#" + got}`);
      // State must be unchanged.
      this.compareState(v.init, v.mem, Number(v.rip), v, diffs, true);
      return { id: v.id, pass: diffs.length === 0, diffs };
    }
    if (this.raised >= 0) diffs.push(`unexpected exception #${EXCEPTION_NAMES[this.raised] ?? this.raised}`);
    const exp = v.expect!;
    this.compareState(exp, exp.mem as { addr: string; hex: string } | undefined, Number(exp.rip), v, diffs, false);
    // The rest of the data page must still be zero.
    if (v.mem) {
      const start = memAddr - DATA_LIN;
      const end = start + v.mem.hex.length / 2;
      for (let k = 0; k < 0x1000; k++) {
        if ((k < start || k >= end) && ram[DATA_PHYS + k] !== 0) {
          diffs.push(`memory outside the window changed at 0x${(DATA_LIN + k).toString(16)}`);
          break;
        }
      }
    }
    return { id: v.id, pass: diffs.length === 0, diffs };
  }

  private compareState(
    exp: VectorState, mem: { addr: string; hex: string } | undefined, rip: number, v: Vector, diffs: string[], unchanged: boolean,
  ): void {
    const cpu = this.cpu;
    const undef = new Set(v.undef ?? []);
    GPR_NAMES.forEach((name, n) => {
      if (undef.has(name)) return;
      const [lo, hi] = hex64(exp[name] as string);
      if (cpu.r[n * 2] !== lo || cpu.r[n * 2 + 1] !== hi) {
        diffs.push(`${name}: expected ${fmt64(lo, hi)}, got ${fmt64(cpu.r[n * 2]!, cpu.r[n * 2 + 1]!)}`);
      }
    });
    if (cpu.rip !== rip) diffs.push(`rip: expected 0x${rip.toString(16)}, got 0x${cpu.rip.toString(16)}`);
    const mask = unchanged ? 0xcd5 : Number(v.flagsMask);
    const got = cpu.getFlags();
    const want = Number(exp.rflags);
    if (((got ^ want) & mask) !== 0) {
      diffs.push(`rflags: expected 0x${want.toString(16)}, got 0x${got.toString(16)} (mask 0x${mask.toString(16)})`);
    }
    if (exp.mxcsr !== undefined && cpu.mxcsr !== Number(exp.mxcsr)) {
      diffs.push(`mxcsr: expected ${exp.mxcsr}, got 0x${cpu.mxcsr.toString(16)}`);
    }
    for (let x = 0; x < 16; x++) {
      const want = exp[`xmm${x}`] as string | undefined;
      if (want === undefined) continue;
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      for (let k = 0; k < 4; k++) dv.setInt32(k * 4, cpu.xmm[x * 4 + k]!, true);
      const got = hexFromBytes(b);
      if (got !== want) diffs.push(`xmm${x}: expected ${want}, got ${got}`);
    }
    if (mem) {
      const addr = Number(mem.addr);
      const n = mem.hex.length / 2;
      const got = hexFromBytes(this.mem.ram.subarray(DATA_PHYS + (addr - DATA_LIN), DATA_PHYS + (addr - DATA_LIN) + n));
      if (got !== mem.hex) diffs.push(`memory at ${mem.addr}: expected ${mem.hex}, got ${got}`);
    }
  }
}

/** Summary line in the plain form CI reads. */
export function summaryLine(passed: number, failed: number): string {
  return `${passed} passed, ${failed} failed`;
}
