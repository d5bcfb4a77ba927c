// The kernel's memory and object code that boot builds on, run as wasm in V8 with the
// `cpu` imports stubbed (the port writes of COM1 are captured): the kernel page tables
// (direct map NX and supervisor-only, W^X image sections), per-process address spaces
// sharing the kernel half, loading an ELF into a process (segments, stack with guard page,
// ring and CapSet pages, entry context) and releasing every frame again, and Console CALL
// dispatch with its CapException replies. Guest memory offsets play physical addresses.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import * as $ from "capnp-es";
import { CapException, Console$Client, Console_Write$Params, Console_WriteLine$Params, ExceptionType, Timer$Client } from "../schema/host/capos.js";
import { compileAssemblyScript, REPO_ROOT } from "./helpers/asc.js";

const ENTRY_PATH = join(REPO_ROOT, "tests", "boot-kernel-v8.entry.ts");
const ENTRY_SOURCE = `
export * from "../kernel/mem/address-space";
export { physInit, physFreeCount, physAllocZeroed } from "../kernel/mem/physical";
export { userTranslate } from "../kernel/mem/user";
export { processNew, processLoad, processRelease, processContext, processRing, processFpu, processGrant, LOAD_OK, LOAD_ERR_ELF } from "../kernel/proc/process";
export { dispatchCall } from "../kernel/cap/dispatch";
export { callBegin, callOutput, callParamsBuffer, CALL_RESULTS, CALL_EXCEPTION } from "../kernel/cap/call";
export { kernelFault } from "../kernel/panic";
import { Process } from "../kernel/proc/process";
import { callOutput } from "../kernel/cap/call";

export function alloc(size: u32): usize { return heap.alloc(<usize>size); }
export function processRoot(p: usize): usize { return changetype<Process>(p).root; }
export function processPid(p: usize): u32 { return changetype<Process>(p).pid; }
export function processCapset(p: usize): usize { return changetype<Process>(p).capsetFrame; }
export function processElfReason(p: usize): i32 { return changetype<Process>(p).elfReason; }
export function callBuffer(): usize { return callOutput().buffer; }
export function callLength(): u32 { return callOutput().length; }
`;

// Numbers from kernel/mem/layout.ts, address-space.ts, docs/abi.md and trapframe.ts.
const DIRECT_MAP_BASE = 0xffff_8000_0000_0000n;
const KERNEL_VBASE = 0xffff_ffff_8000_0000n;
const PTE_P = 1n, PTE_W = 2n, PTE_U = 4n, PTE_PS = 0x80n, PTE_NX = 1n << 63n;
const ADDRESS = 0x000f_ffff_ffff_f000n;
const SPACE_ERR_BAD_ADDRESS = -2, SPACE_ERR_MAPPED = -3, SPACE_ERR_SECTIONS_SHARE_PAGE = -4;
const PROT_R = 1, PROT_W = 2, PROT_X = 4;
const RING_VADDR = 0xfffe_0000n, CAPSET_VADDR = 0xffff_0000n;
const USER_STACK_TOP = 0xfff0_0000n, USER_STACK_SIZE = 0x4_0000n, USER_STACK_GUARD = 0xffeb_f000n;
const USER_LIMIT = 0x0000_7fff_ffff_f000n;
const FRAME = { rdi: 0x48, rsi: 0x50, rdx: 0x58, rip: 0x88, cs: 0x90, rflags: 0x98, rsp: 0xa0, ss: 0xa8 };
const CONSOLE_ID = Console$Client.interfaceId, TIMER_ID = Timer$Client.interfaceId;
const MIB = 1024 * 1024;
const RAM = 24 * MIB;

type Fn = (...args: never[]) => unknown;

/** Thrown by the stubbed isa-debug-exit port: the kernel stopped the machine with `status`. */
class MachineExit extends Error {
  constructor(readonly status: number) {
    super(`isa-debug-exit ${status}`);
  }
}

class Kernel {
  readonly com1: number[] = [];
  private instance!: WebAssembly.Instance;
  cr2 = 0n;

  async start(module: WebAssembly.Module): Promise<void> {
    const com1 = this.com1;
    this.instance = await WebAssembly.instantiate(module, {
      cpu: {
        inb: (port: number) => (port === 0x3fd ? 0x60 : 0xff), // LSR: transmitter empty
        outb: (port: number, value: number) => {
          if (port === 0x3f8) com1.push(value & 0xff);
          if (port === 0xf4) throw new MachineExit(value);
        },
        cli: () => {},
        hlt: () => {},
        readCr2: () => this.cr2,
        // Kernel virtual addresses in the direct map read guest memory.
        peek64: (va: bigint) => this.view.getBigUint64(Number(BigInt.asUintN(64, va) - DIRECT_MAP_BASE), true),
      },
      arch: { arch_frame_pointer: () => 0n },
    });
    const memory = this.instance.exports["memory"] as WebAssembly.Memory;
    const have = memory.buffer.byteLength;
    if (have < RAM) memory.grow((RAM - have) / 65536);
  }

  fn<T extends Fn>(name: string): T {
    const f = this.instance.exports[name];
    if (typeof f !== "function") throw new Error(`no export ${name}`);
    return f as T;
  }

  call(name: string, ...args: (number | bigint)[]): number {
    return Number((this.fn(name) as (...a: (number | bigint)[]) => number | bigint)(...args));
  }

  call64(name: string, ...args: (number | bigint)[]): bigint {
    return BigInt.asUintN(64, BigInt((this.fn(name) as (...a: (number | bigint)[]) => number | bigint)(...args)));
  }

  get view(): DataView {
    return new DataView((this.instance.exports["memory"] as WebAssembly.Memory).buffer);
  }

  get bytes(): Uint8Array {
    return new Uint8Array((this.instance.exports["memory"] as WebAssembly.Memory).buffer);
  }

  alloc(size: number, align = 16): number {
    const raw = this.call("alloc", size + align) >>> 0;
    const at = (raw + align - 1) & ~(align - 1);
    this.bytes.fill(0, at, at + size);
    return at;
  }

  put(data: Uint8Array, align = 16): number {
    const at = this.alloc(data.length, align);
    this.bytes.set(data, at);
    return at;
  }

  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }

  /** The leaf entry and level for `va` in the tables at `root`, or null when a level is absent. */
  walk(root: number, va: bigint): { entry: bigint; level: number; upper: bigint[] } | null {
    let table = root;
    const upper: bigint[] = [];
    for (let level = 4; level >= 1; level--) {
      const e = this.u64(table + Number((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8);
      if ((e & PTE_P) === 0n) return null;
      if (level === 1 || (e & PTE_PS) !== 0n) return { entry: e, level, upper };
      upper.push(e);
      table = Number(e & ADDRESS);
    }
    return null;
  }
}

/** A Multiboot information structure with a memory map: [0, 640 KiB) and [1 MiB, RAM) usable. */
function multiboot(k: Kernel): number {
  const map = k.alloc(48, 8);
  const entry = (at: number, base: number, length: number) => {
    k.view.setUint32(at, 20, true);
    k.view.setBigUint64(at + 4, BigInt(base), true);
    k.view.setBigUint64(at + 12, BigInt(length), true);
    k.view.setUint32(at + 20, 1, true);
  };
  entry(map, 0, 0xa0000);
  entry(map + 24, MIB, RAM - MIB);
  const mbi = k.alloc(120, 8);
  k.view.setUint32(mbi, 1 << 6, true);
  k.view.setUint32(mbi + 44, 48, true);
  k.view.setUint32(mbi + 48, map, true);
  return mbi;
}

/** A static ELF64 executable: R+X text at 0x400000 (the entry), R+W data at 0x600000 with bss. */
function tinyElf(text: Uint8Array, data: Uint8Array, dataMem: number, flags: { text?: number; data?: number } = {}): Uint8Array {
  const out = new Uint8Array(0x3000);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // x86-64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, 0x400000n, true); // entry
  dv.setBigUint64(32, 64n, true); // phoff
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 2, true);
  const ph = (i: number, fl: number, off: number, va: number, filesz: number, memsz: number) => {
    const p = 64 + 56 * i;
    dv.setUint32(p, 1, true);
    dv.setUint32(p + 4, fl, true);
    dv.setBigUint64(p + 8, BigInt(off), true);
    dv.setBigUint64(p + 16, BigInt(va), true);
    dv.setBigUint64(p + 24, BigInt(va), true);
    dv.setBigUint64(p + 32, BigInt(filesz), true);
    dv.setBigUint64(p + 40, BigInt(memsz), true);
    dv.setBigUint64(p + 48, 0x1000n, true);
  };
  ph(0, flags.text ?? 5, 0x1000, 0x400000, text.length, text.length);
  ph(1, flags.data ?? 6, 0x2000, 0x600000, data.length, dataMem);
  out.set(text, 0x1000);
  out.set(data, 0x2000);
  return out;
}

let module: WebAssembly.Module;

beforeAll(async () => {
  module = await WebAssembly.compile(await compileAssemblyScript(ENTRY_PATH, { virtualFiles: new Map([[ENTRY_PATH, ENTRY_SOURCE]]) }));
}, 300_000);

async function bootedKernel(): Promise<Kernel> {
  const k = new Kernel();
  await k.start(module);
  expect(k.call("physInit", multiboot(k), BigInt(MIB), BigInt(MIB))).toBe(0);
  return k;
}

const TEXT_START = KERNEL_VBASE + 0x10_0000n;
/** text [1 MiB, +8 KiB), rodata [+8 KiB, +12 KiB), a gap, data and bss [+16 KiB, +24 KiB). */
function buildKernelSpace(k: Kernel): number {
  return k.call("kernelSpaceBuild", BigInt(RAM), TEXT_START, TEXT_START + 0x2000n, TEXT_START + 0x2000n, TEXT_START + 0x3000n,
    TEXT_START + 0x4000n, TEXT_START + 0x6000n);
}

describe("kernel page tables", () => {
  it("map RAM at the direct map: 2 MiB pages, writable, NX, never user", async () => {
    const k = await bootedKernel();
    const root = buildKernelSpace(k);
    expect(root).toBeGreaterThan(0);
    for (const pa of [0n, 0x20_0000n, BigInt(RAM) - 0x1000n]) {
      const w = k.walk(root, DIRECT_MAP_BASE + pa)!;
      expect(w.level).toBe(2);
      expect(w.entry & ADDRESS).toBe(pa & ~0x1f_ffffn);
      expect(w.entry & (PTE_W | PTE_NX | PTE_PS)).toBe(PTE_W | PTE_NX | PTE_PS);
      expect(w.entry & PTE_U).toBe(0n);
      for (const e of w.upper) expect(e & PTE_U).toBe(0n);
    }
    expect(k.walk(root, DIRECT_MAP_BASE + BigInt(RAM))).toBeNull();
  });

  it("map the image W^X per section at KERNEL_VBASE + physical, and leave gaps and the user half empty", async () => {
    const k = await bootedKernel();
    const root = buildKernelSpace(k);
    const page = (va: bigint) => k.walk(root, va);
    const text = page(TEXT_START + 0x1000n)!;
    expect(text.entry & ADDRESS).toBe(0x10_1000n);
    expect(text.entry & (PTE_W | PTE_NX | PTE_U)).toBe(0n);
    const rodata = page(TEXT_START + 0x2000n)!;
    expect(rodata.entry & (PTE_W | PTE_NX)).toBe(PTE_NX);
    expect(page(TEXT_START + 0x3000n)).toBeNull();
    const data = page(TEXT_START + 0x5000n)!;
    expect(data.entry & (PTE_W | PTE_NX | PTE_U)).toBe(PTE_W | PTE_NX);
    expect(page(TEXT_START + 0x6000n)).toBeNull();
    for (let i = 0; i < 256; i++) expect(k.u64(root + i * 8)).toBe(0n);
  });

  it("refuse an image whose writable and executable sections share a page", async () => {
    const k = await bootedKernel();
    const status = k.call("kernelSpaceBuild", BigInt(RAM), TEXT_START, TEXT_START + 0x1800n, TEXT_START + 0x1800n, TEXT_START + 0x1800n,
      TEXT_START + 0x1800n, TEXT_START + 0x3000n);
    expect(status).toBe(SPACE_ERR_SECTIONS_SHARE_PAGE);
  });
});

describe("process address spaces", () => {
  it("share the kernel half and map user pages with the requested protection", async () => {
    const k = await bootedKernel();
    const kernelRoot = buildKernelSpace(k);
    const root = k.call("spaceCreate");
    for (let i = 256; i < 512; i++) expect(k.u64(root + i * 8)).toBe(k.u64(kernelRoot + i * 8));
    const frame = k.call("physAllocZeroed");
    expect(k.call("spaceMapUser", root, 0x40_0000n, frame, PROT_R | PROT_X)).toBe(0);
    const w = k.walk(root, 0x40_0000n)!;
    expect(w.entry & (PTE_U | PTE_W | PTE_NX)).toBe(PTE_U);
    for (const e of w.upper) expect(e & (PTE_U | PTE_W)).toBe(PTE_U | PTE_W);
    expect(k.call64("userTranslate", root, 0x40_0000n, 0)).toBe(BigInt(frame));
    expect(k.call64("userTranslate", root, 0x40_0000n, 1)).toBe((1n << 64n) - 1n); // -1: not writable
    expect(k.call("spaceMapUser", root, 0x40_0000n, frame, PROT_R)).toBe(SPACE_ERR_MAPPED);
    expect(k.call("spaceMapUser", root, 0x40_0800n, frame, PROT_R)).toBe(SPACE_ERR_BAD_ADDRESS);
    expect(k.call("spaceMapUser", root, USER_LIMIT, frame, PROT_R)).toBe(SPACE_ERR_BAD_ADDRESS);
    expect(k.call("spaceMapUser", root, DIRECT_MAP_BASE, frame, PROT_R)).toBe(SPACE_ERR_BAD_ADDRESS);
  });

  it("give every frame back when destroyed", async () => {
    const k = await bootedKernel();
    buildKernelSpace(k);
    const before = k.call("physFreeCount");
    const root = k.call("spaceCreate");
    expect(k.call("spaceMapFresh", root, 0x1000_0000n, 0x10_0000n, PROT_R | PROT_W)).toBe(0);
    expect(k.call("spaceMapFresh", root, 0x7fff_0000_0000n, 0x2000n, PROT_R)).toBe(0);
    expect(k.call("physFreeCount")).toBeLessThan(before - 256);
    k.call("spaceDestroy", root);
    expect(k.call("physFreeCount")).toBe(before);
  });
});

describe("loading a process", () => {
  const text = Uint8Array.from([0x0f, 0x05, 0xeb, 0xfe]); // syscall; jmp $
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

  async function loaded(elf: Uint8Array): Promise<{ k: Kernel; p: number; before: number; status: number }> {
    const k = await bootedKernel();
    buildKernelSpace(k);
    const name = k.put(new TextEncoder().encode("init"));
    const before = k.call("physFreeCount");
    const p = k.call("processNew", name, 4);
    const status = k.call("processLoad", p, k.put(elf), elf.length, 256);
    return { k, p, before, status };
  }

  it("maps segments W^X with their bytes, the stack over a guard page, the ring RW and the CapSet read-only, all NX", async () => {
    const { k, p, status } = await loaded(tinyElf(text, data, 0x3000));
    expect(status).toBe(0); // LOAD_OK
    const root = k.call("processRoot", p);
    const leaf = (va: bigint) => k.walk(root, va)?.entry ?? null;
    const physical = (va: bigint) => Number(leaf(va)! & ADDRESS) + Number(va & 0xfffn);
    expect(leaf(0x40_0000n)! & (PTE_W | PTE_NX | PTE_U)).toBe(PTE_U);
    expect(k.bytes.slice(physical(0x40_0000n), physical(0x40_0000n) + 4)).toEqual(text);
    expect(leaf(0x60_0000n)! & (PTE_W | PTE_NX | PTE_U)).toBe(PTE_W | PTE_NX | PTE_U);
    expect(k.bytes.slice(physical(0x60_0000n), physical(0x60_0000n) + 8)).toEqual(data);
    expect(k.bytes[physical(0x60_0000n) + 8]).toBe(0); // bss
    expect(leaf(0x60_2000n)).not.toBeNull();
    expect(leaf(0x60_3000n)).toBeNull();
    expect(leaf(USER_STACK_TOP - 0x1000n)! & (PTE_W | PTE_NX)).toBe(PTE_W | PTE_NX);
    expect(leaf(USER_STACK_TOP - USER_STACK_SIZE)).not.toBeNull();
    expect(leaf(USER_STACK_GUARD)).toBeNull();
    expect(leaf(USER_STACK_TOP)).toBeNull();
    expect(leaf(RING_VADDR)! & (PTE_W | PTE_NX | PTE_U)).toBe(PTE_W | PTE_NX | PTE_U);
    expect(leaf(CAPSET_VADDR)! & (PTE_W | PTE_NX | PTE_U)).toBe(PTE_NX | PTE_U);
    expect(k.view.getUint32(physical(RING_VADDR), true)).toBe(0x474e4952); // "RING"
    expect(k.view.getUint32(physical(CAPSET_VADDR), true)).toBe(0x54455343); // "CSET"
  });

  it("starts at _start(RING_VADDR, pid, CAPSET_VADDR) in ring 3 with IF set and default x87/SSE state", async () => {
    const { k, p } = await loaded(tinyElf(text, data, 8));
    const ctx = k.call("processContext", p);
    const reg = (off: number) => k.u64(ctx + off);
    expect(reg(FRAME.rip)).toBe(0x40_0000n);
    expect(reg(FRAME.rsp)).toBe(USER_STACK_TOP - 8n);
    expect(reg(FRAME.rdi)).toBe(RING_VADDR);
    expect(reg(FRAME.rsi)).toBe(BigInt(k.call("processPid", p)));
    expect(reg(FRAME.rdx)).toBe(CAPSET_VADDR);
    expect(reg(FRAME.cs)).toBe(0x23n);
    expect(reg(FRAME.ss)).toBe(0x1bn);
    expect(reg(FRAME.rflags)).toBe(0x202n);
    const fpu = k.call("processFpu", p);
    expect(k.view.getUint16(fpu, true)).toBe(0x037f);
    expect(k.view.getUint32(fpu + 24, true)).toBe(0x1f80);
  });

  it("grants caps into the table and the CapSet page by name", async () => {
    const { k, p } = await loaded(tinyElf(text, data, 8));
    const name = k.put(new TextEncoder().encode("console"));
    expect(k.call64("processGrant", p, name, 7, CONSOLE_ID, 1)).toBe(0x0100_0000n);
    const capset = k.call("processCapset", p);
    expect(k.view.getUint32(capset + 8, true)).toBe(1);
    expect(k.u64(capset + 16)).toBe(CONSOLE_ID);
    expect(k.view.getUint32(capset + 24, true)).toBe(0x0100_0000);
    expect(new TextDecoder().decode(k.bytes.slice(capset + 32, capset + 39))).toBe("console");
  });

  it("releases every frame it took", async () => {
    const { k, p, before } = await loaded(tinyElf(text, data, 0x3000));
    k.call("processRelease", p);
    expect(k.call("physFreeCount")).toBe(before);
  });

  it("refuses a writable and executable segment before mapping anything", async () => {
    const { k, p, before, status } = await loaded(tinyElf(text, data, 8, { text: 7 }));
    expect(status).toBe(-1); // LOAD_ERR_ELF
    expect(k.call("processElfReason", p)).toBe(17); // ELF_ERR_WRITE_AND_EXECUTE
    expect(k.call("physFreeCount")).toBe(before);
  });
});

describe("Console CALL dispatch", () => {
  function message(build: (m: $.Message) => void): Uint8Array {
    const m = new $.Message();
    build(m);
    return new Uint8Array(m.toArrayBuffer());
  }

  function dispatch(k: Kernel, interfaceId: bigint, method: number, params: Uint8Array): { kind: number; reply: Uint8Array } {
    const buffer = k.call("callParamsBuffer");
    k.bytes.set(params, buffer);
    k.call("callBegin");
    const kind = k.call("dispatchCall", interfaceId, 1, method, buffer, params.length);
    const at = k.call("callBuffer");
    return { kind, reply: k.bytes.slice(at, at + k.call("callLength")) };
  }

  function exception(reply: Uint8Array): { type: ExceptionType; message: string } {
    const e = new $.Message(reply, false).getRoot(CapException);
    return { type: e.type, message: e.message };
  }

  it("writeLine writes the text and a newline to COM1 and replies with an empty results message", async () => {
    const k = await bootedKernel();
    const params = message((m) => (m.initRoot(Console_WriteLine$Params).text = "hello, console"));
    const r = dispatch(k, CONSOLE_ID, 1, params);
    expect(r.kind).toBe(0); // CALL_RESULTS
    expect(Buffer.from(k.com1).toString()).toBe("hello, console\n");
    expect(r.reply.length).toBe(16);
  });

  it("write writes raw bytes, and a CALL without params sees all defaults", async () => {
    const k = await bootedKernel();
    const params = message((m) => {
      const p = m.initRoot(Console_Write$Params);
      p._initData(3).copyBuffer(Uint8Array.from([0x61, 0x00, 0x62]));
    });
    expect(dispatch(k, CONSOLE_ID, 0, params).kind).toBe(0);
    expect(dispatch(k, CONSOLE_ID, 1, new Uint8Array(0)).kind).toBe(0);
    expect(k.com1).toEqual([0x61, 0x00, 0x62, 0x0a]);
  });

  it("malformed params, unknown methods and unserved interfaces come back as CapExceptions", async () => {
    const k = await bootedKernel();
    const garbage = dispatch(k, CONSOLE_ID, 1, new Uint8Array(24).fill(0xff));
    expect(garbage.kind).toBe(1); // CALL_EXCEPTION
    expect(exception(garbage.reply)).toEqual({ type: ExceptionType.FAILED, message: "malformed params message: bad segment table" });
    const unknown = dispatch(k, CONSOLE_ID, 9, new Uint8Array(0));
    expect(exception(unknown.reply)).toEqual({ type: ExceptionType.UNIMPLEMENTED, message: "Console has no method 9" });
    const timer = dispatch(k, TIMER_ID, 0, new Uint8Array(0));
    expect(exception(timer.reply)).toEqual({ type: ExceptionType.UNIMPLEMENTED, message: "Timer is not served by this kernel yet" });
    expect(k.com1).toEqual([]);
  });
});

describe("the kernel module", () => {
  /** The ids of a wasm binary's sections. */
  function sectionIds(wasm: Uint8Array): number[] {
    const ids: number[] = [];
    let at = 8;
    while (at < wasm.length) {
      ids.push(wasm[at]!);
      at++;
      let size = 0, shift = 0, b = 0;
      do {
        b = wasm[at++]!;
        size += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      at += size;
    }
    return ids;
  }

  it("has no wasm start function: nothing must run before kmain (entry.s calls only kmain)", async () => {
    const wasm = await compileAssemblyScript("kernel/main.ts");
    expect(sectionIds(wasm)).not.toContain(8); // the start section
    const exports = WebAssembly.Module.exports(await WebAssembly.compile(wasm)).map((e) => e.name);
    expect(exports).toEqual(expect.arrayContaining(["kmain", "kernel_trap", "kernel_syscall", "kernel_wasm_trap"]));
  });
});

describe("kernel fault reports", () => {
  it("print the exception, the registers that matter and the frame-pointer chain, then stop with status 1", async () => {
    const k = await bootedKernel();
    // Two frames of a fake kernel stack in the direct map: rbp -> [next rbp, return address].
    const stack = k.alloc(64, 16);
    const outer = stack + 32;
    k.view.setBigUint64(stack, DIRECT_MAP_BASE + BigInt(outer), true);
    k.view.setBigUint64(stack + 8, 0xffff_ffff_8010_0abcn, true);
    k.view.setBigUint64(outer, 0n, true);
    k.view.setBigUint64(outer + 8, 0n, true); // a zero return address ends the chain
    const frame = k.alloc(0xb0, 16);
    const set = (off: number, v: bigint) => k.view.setBigUint64(frame + off, v, true);
    set(0x78, 14n); // vector
    set(0x80, 2n); // error code
    set(FRAME.rip, 0xffff_ffff_8011_2345n);
    set(FRAME.cs, 0x08n);
    set(0x40, DIRECT_MAP_BASE + BigInt(stack)); // rbp
    k.cr2 = 0xdead_0000n;
    let status = -1;
    try {
      k.call("kernelFault", frame);
    } catch (e) {
      if (!(e instanceof MachineExit)) throw e;
      status = e.status;
    }
    expect(status).toBe(1);
    const lines = Buffer.from(k.com1).toString("latin1").split("\n");
    expect(lines[0]).toBe("[kernel] KERNEL FAULT: #PF page fault (vector 14), error code 0x2");
    expect(lines[1]).toBe("[kernel]   rip 0xffffffff80112345  cr2 0x00000000dead0000");
    expect(lines).toContain("[kernel] backtrace:");
    expect(lines).toContain("[kernel]   #0 0xffffffff80112345");
    expect(lines).toContain("[kernel]   #1 0xffffffff80100abc");
    expect(lines.some((l) => l.includes("#2"))).toBe(false);
  });
});
