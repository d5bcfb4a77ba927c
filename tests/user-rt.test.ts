// The user runtime library (user/rt) compiled with asc exactly as `capos build`
// compiles user programs, run in V8 against a fake kernel (host TypeScript)
// that serves cap_enter: start-up checks, CapSet lookup, the ring client
// (submission, completion matching by user_data, out-of-order completions,
// backpressure, lost and stray completions, broken rings), the heap, console
// output decoded with capnp-es, abort, and a whole program through the
// generated `_start`.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileWithAsc, defaultAscOptions, userEntrySource } from "../src/build/index.js";
import { Console$Client as Console, Timer$Client as Timer } from "../schema/host/capos.js";
import { REPO_ROOT } from "./helpers/asc.js";
import { ABI, CAP_ERR, FakeKernel, ProcessExit, type GuestMemory } from "./fixtures/build/fake-kernel.js";

// Runtime status codes, read from their single definition.
const RT: Record<string, number> = {};
for (const m of readFileSync(join(REPO_ROOT, "user/rt/status.ts"), "utf8").matchAll(/export const (\w+): i(?:32|64) = (-?\d+);/g)) RT[m[1]!] = Number(m[2]);

const MEMORY_PAGES = 1024;
const RING = MEMORY_PAGES * 65536 - 8192;
const CAPSET = MEMORY_PAGES * 65536 - 4096;
const CONSOLE_CAP = 0x0100_0000;
const TIMER_CAP = 0x0100_0001;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => any;

class Process {
  readonly kernel: FakeKernel;
  readonly exports: Record<string, Fn>;
  readonly memory: WebAssembly.Memory;

  constructor(module: WebAssembly.Module) {
    let mem: WebAssembly.Memory | null = null;
    const access: GuestMemory = {
      read: (addr, length) => new Uint8Array(mem!.buffer, addr, length).slice(),
      write: (addr, bytes) => new Uint8Array(mem!.buffer, addr, bytes.length).set(bytes),
    };
    const kernel = new FakeKernel(access, RING, CAPSET);
    const instance = new WebAssembly.Instance(module, {
      cpu: {
        syscall1: (nr: bigint, a1: bigint) => kernel.syscall(nr, a1, 0n),
        syscall2: (nr: bigint, a1: bigint, a2: bigint) => kernel.syscall(nr, a1, a2),
        // A whole program also links the runtime's memory.grow hook, which reads and
        // writes the linker's memory descriptor by virtual address. V8 grows memory
        // itself and never calls the hook, but instantiation needs the imports.
        peek32: (addr: bigint) => new DataView(mem!.buffer).getInt32(Number(addr), true),
        poke32: (addr: bigint, v: number) => new DataView(mem!.buffer).setInt32(Number(addr), v, true),
        poke64: (addr: bigint, v: bigint) => new DataView(mem!.buffer).setBigInt64(Number(addr), v, true),
      },
    });
    mem = instance.exports["memory"] as WebAssembly.Memory;
    // The ring and CapSet pages sit at the top of a 64 MiB memory, far above anything the tests allocate.
    mem.grow(MEMORY_PAGES - mem.buffer.byteLength / 65536);
    this.memory = mem;
    this.kernel = kernel;
    this.exports = instance.exports as Record<string, Fn>;
    kernel.initRing();
    kernel.writeCapSet([
      { name: "console", interfaceId: Console.interfaceId, capId: CONSOLE_CAP },
      { name: "timer", interfaceId: Timer.interfaceId, capId: TIMER_CAP },
      { name: "größe", interfaceId: 7n, capId: 0x0100_0002 },
    ]);
    kernel.addConsole(CONSOLE_CAP);
  }

  fn(name: string): Fn {
    const f = this.exports[name];
    if (typeof f !== "function") throw new Error(`no export ${name}`);
    return f;
  }

  start(pid = 7): number {
    return this.fn("start")(RING, pid, CAPSET) as number;
  }

  u32(addr: number): number {
    return new DataView(this.memory.buffer).getUint32(addr, true);
  }

  /** Runs `f`; returns the exit code if the guest exited. */
  exitCodeOf(f: () => unknown): bigint | null {
    try {
      f();
      return null;
    } catch (e) {
      if (e instanceof ProcessExit) return e.code;
      throw e;
    }
  }
}

async function compileModule(entry: string, generated?: Map<string, string>): Promise<WebAssembly.Module> {
  const r = await compileWithAsc({ root: REPO_ROOT, entry, generated, options: defaultAscOptions("user"), target: entry });
  return WebAssembly.compile(r.wasm as Uint8Array<ArrayBuffer>);
}

let probe: WebAssembly.Module;
beforeAll(async () => {
  probe = await compileModule("user/rt/test/probe.ts");
});

describe("user/rt: start-up", () => {
  it("imports only the two syscall intrinsics and exports the runtime's memory", () => {
    const imports = WebAssembly.Module.imports(probe).map((i) => `${i.module}.${i.name}`).sort();
    expect(imports).toEqual(["cpu.syscall1", "cpu.syscall2"]);
  });

  it("attaches a well-formed ring and CapSet and records the pid", () => {
    const p = new Process(probe);
    expect(p.start(42)).toBe(RT["RT_OK"]);
    expect(p.fn("pid")()).toBe(42);
  });

  it("refuses a ring whose header is not the ABI's", () => {
    for (const bad of [{ magic: 0x12345678 }, { version: 2 }, { sqEntries: 8 }]) {
      const p = new Process(probe);
      p.kernel.initRing(bad);
      expect(p.start()).toBe(RT["RT_ERR_BAD_RING"]);
    }
  });

  it("refuses a CapSet whose header is not the ABI's", () => {
    const p = new Process(probe);
    p.kernel.writeCapSet([], 0x11111111);
    expect(p.start()).toBe(RT["RT_ERR_BAD_CAPSET"]);
  });

  it("reports use before start instead of touching address 0", () => {
    const p = new Process(probe);
    expect(Number(p.fn("nop")())).toBe(RT["RT_ERR_NOT_STARTED"]);
    expect(p.fn("flush")()).toBe(RT["RT_ERR_NOT_STARTED"]);
  });
});

describe("user/rt: CapSet lookup", () => {
  it("finds capabilities by name, compares UTF-8 names, and reports missing ones", () => {
    const p = new Process(probe);
    p.start();
    expect(p.fn("count")()).toBe(3);
    expect(p.fn("findConsole")()).toBe(0);
    expect(p.fn("findUnicode")()).toBe(2);
    expect(p.fn("nameLength")(2)).toBe(new TextEncoder().encode("größe").length);
    expect(p.fn("findMissing")()).toBe(-1);
    expect(p.fn("capId")(1)).toBe(TIMER_CAP);
    expect(BigInt.asUintN(64, p.fn("interfaceId")(1) as bigint)).toBe(Timer.interfaceId);
    expect(p.fn("capId")(3)).toBe(0);
    const at = p.fn("scratchAddr")() as number;
    new Uint8Array(p.memory.buffer, at, 5).set(new TextEncoder().encode("timer"));
    expect(p.fn("findBytes")(at, 5)).toBe(1);
    expect(p.fn("findBytes")(at, 4)).toBe(-1);
  });

  it("checks the interface when asked to", () => {
    const p = new Process(probe);
    p.start();
    expect(p.fn("consoleByName")(0n)).toBe(CONSOLE_CAP);
    expect(p.fn("consoleByName")(BigInt.asIntN(64, Console.interfaceId))).toBe(CONSOLE_CAP);
    expect(p.fn("consoleByName")(BigInt.asIntN(64, Timer.interfaceId))).toBe(0);
  });
});

describe("user/rt: the ring client", () => {
  it("submits a NOP, enters the kernel and matches the completion by user_data", () => {
    const p = new Process(probe);
    p.start();
    const token = p.fn("nop")() as bigint;
    expect(token > 0n).toBe(true);
    expect(p.kernel.consumed).toHaveLength(0); // nothing reaches the kernel before cap_enter
    expect(p.fn("wait")(token)).toBe(RT["RT_OK"]);
    expect(p.kernel.consumed).toHaveLength(1);
    expect(p.kernel.consumed[0]!.userData).toBe(BigInt.asUintN(64, token));
    expect(BigInt.asUintN(64, p.fn("outUserData")() as bigint)).toBe(BigInt.asUintN(64, token));
    expect(p.fn("outResult")()).toBe(0);
    expect(p.fn("inFlight")()).toBe(0);
    // The runtime handed the CQ slot back.
    expect(p.u32(RING + 0x28)).toBe(1);
    const enter = p.kernel.capEnterCalls[0]!;
    expect([enter.minComplete, BigInt.asUintN(64, enter.timeout)]).toEqual([1n, 0xffff_ffff_ffff_ffffn]); // CAP_ENTER_WAIT_FOREVER
  });

  it("fills every SQE field the ABI defines and leaves the rest zero", () => {
    const p = new Process(probe);
    p.start();
    const params = p.fn("scratchAddr")() as number;
    const token = p.fn("call")(0x0100_0005, 3, 0x1122334455667788n, params, 24, params + 64, 100) as bigint;
    p.fn("flush")();
    expect(p.kernel.consumed[0]).toEqual({
      opcode: 1, flags: 0, methodId: 3, capId: 0x0100_0005, userData: BigInt.asUintN(64, token), interfaceId: 0x1122334455667788n,
      paramsAddr: BigInt(params), resultAddr: BigInt(params + 64), paramsLen: 24, resultLen: 100, reservedNonZero: false,
    });
  });

  it("delivers out-of-order completions to the calls they belong to", () => {
    const p = new Process(probe);
    p.start();
    p.kernel.policy = "reverse";
    const results = new Map<number, number>();
    // Five CALLs whose results differ, so a mix-up would show.
    const base = p.fn("scratchAddr")() as number;
    for (let k = 0; k < 5; k++) {
      const cap = 0x0200_0000 + k;
      p.kernel.objects.set(cap, { interfaceId: 0n, call: () => new Uint8Array(k + 1) });
    }
    const tokens = [0, 1, 2, 3, 4].map((k) => p.fn("call")(0x0200_0000 + k, 0, 0n, 0, 0, base + 16 * k, 16) as bigint);
    // Waiting for the first one makes the kernel post all five, newest first.
    for (const [k, token] of tokens.entries()) {
      expect(p.fn("wait")(token)).toBe(RT["RT_OK"]);
      results.set(k, p.fn("outResult")() as number);
      expect(BigInt.asUintN(64, p.fn("outUserData")() as bigint)).toBe(BigInt.asUintN(64, token));
    }
    expect([...results.values()]).toEqual([1, 2, 3, 4, 5]);
    expect(p.fn("inFlight")()).toBe(0);
    expect(p.fn("strays")()).toBe(0);
    // One blocking cap_enter served them all; the later waits found their completions already read.
    expect(p.kernel.capEnterCalls).toHaveLength(1);
  });

  it("polls without entering the kernel and collects once", () => {
    const p = new Process(probe);
    p.start();
    const a = p.fn("nop")() as bigint;
    expect(p.fn("poll")(a)).toBe(0);
    expect(p.kernel.capEnterCalls).toHaveLength(0);
    expect(p.fn("flush")()).toBe(1);
    expect(p.fn("poll")(a)).toBe(1);
    expect(p.fn("poll")(a)).toBe(RT["RT_ERR_UNKNOWN_TOKEN"]);
    expect(p.fn("wait")(a)).toBe(RT["RT_ERR_UNKNOWN_TOKEN"]);
    expect(p.fn("wait")(0n)).toBe(RT["RT_ERR_UNKNOWN_TOKEN"]);
  });

  it("enters the kernel when the SQ is full, and refuses more calls than it can match", () => {
    const p = new Process(probe);
    p.start();
    p.kernel.policy = "reverse"; // consumed calls stay owed, so in-flight calls pile up
    const tokens: bigint[] = [];
    for (let k = 0; k < 32; k++) tokens.push(p.fn("nop")() as bigint);
    expect(tokens.every((t) => t > 0n)).toBe(true);
    // The 17th submission found the SQ full and let the kernel consume it first.
    expect(p.kernel.capEnterCalls.length).toBeGreaterThanOrEqual(1);
    expect(p.kernel.capEnterCalls[0]).toMatchObject({ minComplete: 0n, timeout: 0n });
    expect(Number(p.fn("nop")())).toBe(RT["RT_ERR_BUSY"]);
    expect(new Set(tokens).size).toBe(32);
    for (const t of tokens.reverse()) expect(p.fn("wait")(t)).toBe(RT["RT_OK"]);
    expect(p.fn("inFlight")()).toBe(0);
    expect(Number(p.fn("nop")()) > 0).toBe(true);
  });

  it("counts completions that match no call and keeps going", () => {
    const p = new Process(probe);
    p.start();
    p.kernel.post({ userData: 0xdead_beefn, result: 0, len: 0 });
    const t = p.fn("nop")() as bigint;
    expect(p.fn("wait")(t)).toBe(RT["RT_OK"]);
    expect(p.fn("strays")()).toBe(1);
  });

  it("passes transport errors through in the completion", () => {
    const p = new Process(probe);
    p.start();
    expect(p.fn("callAndWait")(0x0100_0099, 0, 0n, 0, 0, 0, 0)).toBe(RT["RT_OK"]);
    expect(p.fn("outResult")()).toBe(CAP_ERR.INVALID_CAP);
    expect(p.fn("callAndWait")(CONSOLE_CAP, 1, BigInt.asIntN(64, Timer.interfaceId), 0, 0, 0, 0)).toBe(RT["RT_OK"]);
    expect(p.fn("outResult")()).toBe(CAP_ERR.WRONG_INTERFACE);
    const release = p.fn("release")(TIMER_CAP) as bigint;
    expect(p.fn("wait")(release)).toBe(RT["RT_OK"]);
    expect(p.fn("outResult")()).toBe(CAP_ERR.INVALID_CAP); // the fake kernel has no Timer object
  });

  it("refuses oversized buffers before the kernel sees them", () => {
    const p = new Process(probe);
    p.start();
    expect(Number(p.fn("call")(CONSOLE_CAP, 1, 0n, 16, 16385, 0, 0))).toBe(RT["RT_ERR_TOO_LARGE"]);
    expect(Number(p.fn("call")(CONSOLE_CAP, 1, 0n, 0, 0, 16, 16385))).toBe(RT["RT_ERR_TOO_LARGE"]);
    expect(p.fn("inFlight")()).toBe(0);
  });

  it("reports a call the kernel can never complete instead of spinning", () => {
    const p = new Process(probe);
    p.start();
    p.kernel.policy = "lose";
    const t = p.fn("nop")() as bigint;
    expect(p.fn("wait")(t)).toBe(RT["RT_ERR_LOST"]);
  });

  it("stops at a kernel-written cq_tail that is out of range", () => {
    const p = new Process(probe);
    p.start();
    const t = p.fn("nop")() as bigint;
    p.kernel.corruptCqTail(1000);
    expect(p.fn("poll")(t)).toBe(RT["RT_ERR_RING_BROKEN"]);
    expect(p.fn("wait")(t)).toBe(RT["RT_ERR_RING_BROKEN"]);
  });

  it("returns cap_enter's errors", () => {
    const p = new Process(probe);
    p.start();
    p.fn("nop")();
    // Break sq_tail on the page (the client keeps its own copy and rewrites it on the next submission).
    new DataView(p.memory.buffer).setUint32(RING + 0x24, 100, true);
    expect(p.fn("flush")()).toBe(CAP_ERR.RING_CORRUPT);
  });
});

describe("user/rt: console", () => {
  it("prints through Console.writeLine as a Cap'n Proto message the host decodes", () => {
    const p = new Process(probe);
    p.start();
    expect(p.fn("printHello")()).toBe(RT["RT_OK"]);
    expect(p.fn("printRaw")()).toBe(RT["RT_OK"]);
    expect(p.kernel.console).toEqual(["hello from the runtime, ünïcode ✓", "raw bytes"]);
    const sqe = p.kernel.consumed[0]!;
    expect(sqe).toMatchObject({ opcode: 1, capId: CONSOLE_CAP, methodId: 1, interfaceId: Console.interfaceId, resultAddr: 0n, resultLen: 0 });
  });

  it("refuses text that does not fit a params message", () => {
    const p = new Process(probe);
    p.start();
    expect(p.fn("printLong")(20000)).toBe(RT["RT_ERR_TOO_LARGE"]);
    expect(p.fn("printLong")(10000)).toBe(RT["RT_OK"]);
    expect(p.kernel.console[0]).toBe("x".repeat(10000));
  });

  it("has nothing to print to without a console", () => {
    const p = new Process(probe);
    p.kernel.writeCapSet([]);
    p.start();
    expect(p.fn("printHello")()).toBe(RT["RT_ERR_NO_CAP"]);
  });
});

describe("user/rt: heap", () => {
  it("returns aligned, non-overlapping blocks and reuses freed ones", () => {
    const p = new Process(probe);
    p.start();
    const malloc = p.fn("heapMalloc");
    const free = p.fn("heapFree");
    const a = malloc(24) as number;
    const b = malloc(24) as number;
    expect(a % 16).toBe(0);
    expect(b % 16).toBe(0);
    expect(Math.abs(a - b)).toBeGreaterThanOrEqual(32);
    expect(p.fn("heapCapacity")(a)).toBe(32);
    free(a);
    expect(malloc(20)).toBe(a);
    const big = malloc(100_000) as number;
    expect(p.fn("heapCapacity")(big)).toBeGreaterThanOrEqual(100_000);
    free(big);
    expect(malloc(90_000)).toBe(big);
    expect(malloc(0)).toBeGreaterThan(0);
  });

  it("keeps every live block intact under a random workload (checked against a model)", () => {
    const p = new Process(probe);
    p.start();
    const malloc = p.fn("heapMalloc");
    const free = p.fn("heapFree");
    const realloc = p.fn("heapRealloc");
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const live = new Map<number, { size: number; fill: number }>();
    const problems: string[] = [];
    const bytes = () => new Uint8Array(p.memory.buffer);
    const fill = (ptr: number, size: number, v: number) => bytes().fill(v, ptr, ptr + size);
    const check = (ptr: number, size: number, v: number) => bytes().subarray(ptr, ptr + size).every((x) => x === v);
    for (let step = 0; step < 2000; step++) {
      const op = rand(10);
      if (op < 5 || live.size === 0) {
        const size = rand(8) === 0 ? 4097 + rand(12000) : 1 + rand(600);
        const ptr = malloc(size) as number;
        if (ptr % 16 !== 0) problems.push(`misaligned ${ptr}`);
        for (const [q, b] of live) if (!(ptr + size <= q || q + b.size <= ptr)) problems.push(`${ptr}+${size} overlaps ${q}+${b.size}`);
        const v = rand(255) + 1;
        fill(ptr, size, v);
        live.set(ptr, { size, fill: v });
      } else if (op < 8) {
        const keys = [...live.keys()];
        const ptr = keys[rand(keys.length)]!;
        if (!check(ptr, live.get(ptr)!.size, live.get(ptr)!.fill)) problems.push(`block ${ptr} was overwritten`);
        free(ptr);
        live.delete(ptr);
      } else {
        const keys = [...live.keys()];
        const ptr = keys[rand(keys.length)]!;
        const old = live.get(ptr)!;
        const size = 1 + rand(3000);
        const moved = realloc(ptr, size) as number;
        if (!check(moved, Math.min(size, old.size), old.fill)) problems.push(`realloc ${ptr} -> ${moved} lost bytes`);
        live.delete(ptr);
        fill(moved, size, old.fill);
        live.set(moved, { size, fill: old.fill });
      }
    }
    for (const [ptr, b] of live) if (!check(ptr, b.size, b.fill)) problems.push(`block ${ptr} was overwritten`);
    expect(problems).toEqual([]);
    expect(p.fn("heapBlocks")()).toBe(live.size);
  });

  it("zeroes calloc memory even when it reuses a dirty block", () => {
    const p = new Process(probe);
    p.start();
    const a = p.fn("heapMalloc")(64) as number;
    new Uint8Array(p.memory.buffer).fill(0xaa, a, a + 64);
    p.fn("heapFree")(a);
    const b = p.fn("heapCalloc")(8, 8) as number;
    expect(b).toBe(a);
    expect([...new Uint8Array(p.memory.buffer, b, 64)].every((x) => x === 0)).toBe(true);
  });

  it("aborts on a double free, printing why, and exits with EXIT_ABORT", () => {
    const p = new Process(probe);
    p.start();
    const a = p.fn("heapMalloc")(10) as number;
    p.fn("heapFree")(a);
    expect(p.exitCodeOf(() => p.fn("heapFree")(a))).toBe(BigInt(RT["EXIT_ABORT"]!));
    expect(p.kernel.console).toHaveLength(1);
    expect(p.kernel.console[0]).toMatch(/^abort: free: not an allocated block \(double free\?\)/);
  });

  it("reports failed assertions with their place", () => {
    const p = new Process(probe);
    p.start();
    expect(p.exitCodeOf(() => p.fn("failAssert")())).toBe(BigInt(RT["EXIT_ABORT"]!));
    expect(p.kernel.console[0]).toMatch(/^abort: probe assertion at user\/rt\/test\/probe\.ts:\d+:\d+$/);
  });
});

describe("user/rt: a whole program through the generated _start", () => {
  const main = "user/rt/test/program/main.ts";
  const entry = "user/rt/test/program/__start.ts";
  let program: WebAssembly.Module;
  beforeAll(async () => {
    program = await compileModule(entry, new Map([[entry, userEntrySource(main, "user/rt")]]));
  });

  it("starts, runs main, prints and exits with main's result", () => {
    const p = new Process(program);
    p.kernel.policy = "reverse";
    const code = p.exitCodeOf(() => p.fn("_start")(RING, 9, CAPSET));
    expect(p.kernel.console).toEqual(["program: pid 9, 3 capabilities", "program: 4 NOPs completed out of order"]);
    expect(code).toBe(42n);
  });

  it("exits with EXIT_START_FAILED when the start-up state is wrong", () => {
    const p = new Process(program);
    p.kernel.initRing({ magic: 0 });
    expect(p.exitCodeOf(() => p.fn("_start")(RING, 9, CAPSET))).toBe(BigInt(RT["EXIT_START_FAILED"]!));
    expect(p.kernel.console).toEqual([]);
  });
});

describe("user/rt: ABI numbers", () => {
  it("the fake kernel's numbers are kernel/abi.ts's", () => {
    const abi = new Map<string, number>();
    for (const m of readFileSync(join(REPO_ROOT, "kernel/abi.ts"), "utf8").matchAll(/export const (\w+): \w+ = (-?0x[0-9A-Fa-f_]+|-?\d+);/g)) {
      abi.set(m[1]!, Number(m[2]!.replace(/_/g, "")));
    }
    for (const [name, value] of Object.entries(ABI)) expect(abi.get(name), name).toBe(value);
    for (const [name, value] of Object.entries(CAP_ERR)) expect(abi.get(`CAP_ERR_${name}`), name).toBe(value);
  });

  it("come from kernel/abi.ts: the runtime defines none of its own", () => {
    const dir = join(REPO_ROOT, "user/rt");
    const abiNames = [...readFileSync(join(REPO_ROOT, "kernel/abi.ts"), "utf8").matchAll(/export const (\w+)/g)].map((m) => m[1]!);
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const text = readFileSync(join(dir, f), "utf8");
      for (const name of abiNames) expect(text, `${f} defines ${name}`).not.toMatch(new RegExp(`const ${name}\\b`));
      if (/\b(RING_|SQE_|CQE_|CAPSET_|SYS_|OP_)\w+/.test(text.replace(/import[^;]*;/gs, ""))) {
        expect(text, `${f} uses ABI names, so it imports them`).toMatch(/from "\.\.\/\.\.\/kernel\/abi"/);
      }
    }
  });
});
