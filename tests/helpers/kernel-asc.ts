// Compiles the kernel's pure-logic modules (kernel/abi, cap/, mem/, proc/)
// into one wasm module with the shared asc helper and hands out fresh V8
// instances of it, plus the little host-side tools the kernel-logic tests
// share: aligned guest memory, 64-bit field access and x86-64 page tables
// built in guest memory (a kernel pointer is a physical address, so guest
// memory offsets play physical addresses).
import { join } from "node:path";
import { compileAssemblyScript, REPO_ROOT } from "./asc.js";

/** Where the generated entry pretends to live; its imports are relative to it. */
const ENTRY_PATH = join(REPO_ROOT, "tests", "kernel-logic.entry.ts");

// The entry re-exports every pure-logic module and adds read accessors for the
// kernel's @unmanaged records, whose layout is the compiler's business.
const ENTRY_SOURCE = `
export * from "../kernel/abi";
export * from "../kernel/cap/table";
export * from "../kernel/cap/ring";
export * from "../kernel/cap/capset";
export * from "../kernel/mem/user";
export * from "../kernel/mem/frames";
export * from "../kernel/proc/elf";
import { Request, Ring } from "../kernel/cap/ring";
import { ElfPlan, elfPlanSegment, elfReasonText } from "../kernel/proc/elf";

export function alloc(size: u32): usize { return heap.alloc(<usize>size); }

// Test-only: start the kernel's private counters anywhere (wrap-around tests).
export function testRingSetCounters(ring: usize, sqHead: u32, cqTail: u32): void {
  const r = changetype<Ring>(ring);
  r.sqHead = sqHead;
  r.cqTail = cqTail;
}

export function requestStatus(q: usize): i32 { return changetype<Request>(q).status; }
export function requestOpcode(q: usize): u32 { return changetype<Request>(q).opcode; }
export function requestUserData(q: usize): u64 { return changetype<Request>(q).userData; }
export function requestCapId(q: usize): u32 { return changetype<Request>(q).capId; }
export function requestMethodId(q: usize): u32 { return changetype<Request>(q).methodId; }
export function requestSlot(q: usize): i32 { return changetype<Request>(q).slot; }
export function requestObject(q: usize): u32 { return changetype<Request>(q).object; }
export function requestAux(q: usize): u32 { return changetype<Request>(q).aux; }
export function requestSlotInterfaceId(q: usize): u64 { return changetype<Request>(q).slotInterfaceId; }
export function requestParamsAddr(q: usize): u64 { return changetype<Request>(q).paramsAddr; }
export function requestParamsLen(q: usize): u32 { return changetype<Request>(q).paramsLen; }
export function requestResultAddr(q: usize): u64 { return changetype<Request>(q).resultAddr; }
export function requestResultLen(q: usize): u32 { return changetype<Request>(q).resultLen; }

export function planEntry(p: usize): u64 { return changetype<ElfPlan>(p).entry; }
export function planImageBytes(p: usize): u64 { return changetype<ElfPlan>(p).imageBytes; }
export function planSegmentCount(p: usize): u32 { return changetype<ElfPlan>(p).segmentCount; }
export function planBadIndex(p: usize): u32 { return changetype<ElfPlan>(p).badIndex; }
export function segPageStart(p: usize, i: u32): u64 { return elfPlanSegment(p, i).pageStart; }
export function segPageEnd(p: usize, i: u32): u64 { return elfPlanSegment(p, i).pageEnd; }
export function segVaddr(p: usize, i: u32): u64 { return elfPlanSegment(p, i).vaddr; }
export function segFileOffset(p: usize, i: u32): u64 { return elfPlanSegment(p, i).fileOffset; }
export function segFileSize(p: usize, i: u32): u64 { return elfPlanSegment(p, i).fileSize; }
export function segMemSize(p: usize, i: u32): u64 { return elfPlanSegment(p, i).memSize; }
export function segProt(p: usize, i: u32): u32 { return elfPlanSegment(p, i).prot; }
export function segPhdrIndex(p: usize, i: u32): u32 { return elfPlanSegment(p, i).phdrIndex; }
export function reasonText(reason: i32): usize { return changetype<usize>(elfReasonText(reason)); }
`;

let compiled: Promise<WebAssembly.Module> | undefined;

/** The kernel-logic module, compiled once per test worker. */
export function kernelLogicModule(): Promise<WebAssembly.Module> {
  compiled ??= compileAssemblyScript(ENTRY_PATH, {
    virtualFiles: new Map([[ENTRY_PATH, ENTRY_SOURCE]]),
  }).then((binary) => WebAssembly.compile(binary));
  return compiled;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WasmFunction = (...args: any[]) => any;

/** A fresh instance of the kernel logic with helpers over its memory. */
export class KernelLogic {
  readonly exports: Record<string, WasmFunction>;
  private readonly globals: Record<string, WebAssembly.Global>;

  constructor(readonly instance: WebAssembly.Instance) {
    const fns: Record<string, WasmFunction> = {};
    const globals: Record<string, WebAssembly.Global> = {};
    for (const [name, value] of Object.entries(instance.exports)) {
      if (typeof value === "function") fns[name] = value as WasmFunction;
      else if (value instanceof WebAssembly.Global) globals[name] = value;
    }
    this.exports = fns;
    this.globals = globals;
  }

  /** An exported function; throws if the kernel does not export it. */
  fn(name: string): WasmFunction {
    const f = this.exports[name];
    if (f === undefined) throw new Error(`kernel logic exports no function ${name}`);
    return f;
  }

  /** An exported constant as a number (i32 globals) or bigint (i64 globals, unsigned). */
  constant(name: string): number | bigint {
    const g = this.globals[name];
    if (g === undefined) throw new Error(`kernel logic exports no constant ${name}`);
    const v = g.value as number | bigint;
    return typeof v === "bigint" ? BigInt.asUintN(64, v) : v;
  }

  /** Every exported constant by name. */
  constantNames(): string[] {
    return Object.keys(this.globals);
  }

  get view(): DataView {
    return new DataView((this.instance.exports["memory"] as WebAssembly.Memory).buffer);
  }

  get bytes(): Uint8Array {
    return new Uint8Array((this.instance.exports["memory"] as WebAssembly.Memory).buffer);
  }

  /** `size` zeroed bytes aligned to `align` (a power of two). */
  alloc(size: number, align = 16): number {
    const raw = (this.fn("alloc")(size + align) as number) >>> 0;
    const at = (raw + align - 1) & ~(align - 1);
    this.bytes.fill(0, at, at + size);
    return at >>> 0;
  }

  /** Copies `data` into fresh guest memory. */
  put(data: Uint8Array, align = 16): number {
    const at = this.alloc(Math.max(data.length, 1), align);
    this.bytes.set(data, at);
    return at;
  }

  u8(at: number): number {
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  i32(at: number): number {
    return this.view.getInt32(at, true);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
  setU8(at: number, v: number): void {
    this.view.setUint8(at, v);
  }
  setU16(at: number, v: number): void {
    this.view.setUint16(at, v, true);
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  setU64(at: number, v: bigint | number): void {
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
  }

  /** Reads an AssemblyScript string (UTF-16, byte length in the header word before it). */
  string(pointer: number): string {
    const p = pointer >>> 0;
    const byteLength = this.u32(p - 4);
    return String.fromCharCode(...new Uint16Array(this.bytes.slice(p, p + byteLength).buffer));
  }
}

/** A fresh kernel-logic instance (compiling once per worker). */
export async function loadKernelLogic(): Promise<KernelLogic> {
  const module = await kernelLogicModule();
  return new KernelLogic(await WebAssembly.instantiate(module, {}));
}

// Page-table entry bits.
export const PTE_P = 1n;
export const PTE_W = 2n;
export const PTE_U = 4n;
export const PTE_PS = 0x80n;
export const PTE_NX = 1n << 63n;

/**
 * x86-64 4-level page tables built in guest memory by the test (the kernel
 * code only reads them). Intermediate entries get P|W|U unless told
 * otherwise, so the leaf decides the access.
 */
export class PageTables {
  readonly root: number;

  constructor(private readonly k: KernelLogic) {
    this.root = k.alloc(4096, 4096);
  }

  private table(at: number, index: number, flags: bigint): number {
    const slot = at + index * 8;
    const e = this.k.u64(slot);
    if ((e & PTE_P) !== 0n) return Number(e & 0x000f_ffff_ffff_f000n);
    const next = this.k.alloc(4096, 4096);
    this.k.setU64(slot, BigInt(next) | flags);
    return next;
  }

  /** The leaf entry's address for `va`, creating tables on the way. */
  entryFor(va: bigint, upperFlags = PTE_P | PTE_W | PTE_U): number {
    let t = this.root;
    for (const shift of [39n, 30n, 21n]) t = this.table(t, Number((va >> shift) & 511n), upperFlags);
    return t + Number((va >> 12n) & 511n) * 8;
  }

  /** Maps the 4 KiB page at `va` to guest address `pa` with `flags` (P is added). */
  map(va: bigint, pa: number, flags: bigint): void {
    this.k.setU64(this.entryFor(va), BigInt(pa) | flags | PTE_P);
  }

  /** Maps `pages` pages from `va` to fresh zeroed guest memory; returns its address. */
  mapFresh(va: bigint, pages: number, flags: bigint): number {
    const backing = this.k.alloc(pages * 4096, 4096);
    for (let i = 0; i < pages; i++) this.map(va + BigInt(i * 4096), backing + i * 4096, flags);
    return backing;
  }
}
