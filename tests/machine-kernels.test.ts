// Test kernels built with the project assembler, booted end to end on the
// machine: serial output, PIT interrupts through a remapped PIC, exceptions
// with error codes, ring 3 with SYSCALL, the Multiboot information, UART
// interrupts, the clocks; determinism; and every way a run can end.
import { describe, expect, it } from "vitest";
import { Machine, type MachineOptions, type RunResult } from "../src/emulator/machine.js";
import { buildKernel } from "./helpers/multiboot-kernel.js";
import {
  clocksKernel, exceptionsKernel, helloKernel, multibootInfoKernel, pitKernel, ring3Kernel, serialIrqKernel,
} from "./helpers/multiboot-test-kernels.js";

interface Boot {
  out: string;
  result: RunResult;
  machine: Machine;
  trace: string[];
}

async function boot(
  image: Uint8Array,
  opts: MachineOptions & { input?: string; com2?: boolean; modules?: { data: Uint8Array; cmdline: string }[]; cmdline?: string; maxInstructions?: number } = {},
): Promise<Boot> {
  const trace: string[] = [];
  const machine = new Machine({ ...opts, trace: (c, m) => trace.push(`${c}: ${m}`) });
  let out = "";
  machine.attachSerial(0, { output: (b) => { out += String.fromCharCode(b); } });
  if (opts.com2) machine.attachSerial(1, {});
  if (opts.input !== undefined) machine.sendSerial(0, opts.input);
  machine.loadMultiboot(image, { cmdline: opts.cmdline ?? "", modules: opts.modules ?? [] });
  const result = await machine.run({ maxInstructions: opts.maxInstructions ?? 50_000_000 });
  return { out, result, machine, trace };
}

describe("test kernels on the machine", () => {
  it("prints over COM1 and exits through isa-debug-exit", async () => {
    const { out, result } = await boot(helloKernel());
    expect(out).toBe("Hello from a Multiboot kernel!\nmagic ok\n");
    expect(result.reason).toBe("exit");
    expect(result.exitCode).toBe(33);
    expect(result.detail).toBe("guest wrote 0x10 to isa-debug-exit");
  });

  it("counts PIT interrupts through a remapped PIC with sti; hlt, skipping idle time", async () => {
    const { out, result } = await boot(pitKernel(50));
    expect(out).toBe("timer interrupts: 50\nISR 00000000 IMR 000000fe\n");
    expect(result.exitCode).toBe(35);
    // 50 ms of virtual time at 100 MHz passed, but only a few thousand instructions ran.
    expect(result.ticks).toBeGreaterThan(50 * 100_000 - 200_000);
    expect(result.ticks).toBeLessThan(51 * 100_000);
    expect(result.instructions).toBeLessThan(20_000);
  });

  it("delivers exceptions with their error codes and CR2", async () => {
    const { out, result } = await boot(exceptionsKernel(), { traceCategories: ["exceptions"] });
    expect(out).toBe([
      "exception 0 error 00000000",
      "exception 6 error 00000000",
      "exception 13 error 00001230",
      "exception 14 error 00000000 cr2 00800000",
      "exception 14 error 00000002 cr2 00800004",
      "exception 14 error 00000003 cr2 00400010",
      "exceptions done",
      "",
    ].join("\n"));
    expect(result.exitCode).toBe(37);
  });

  it("traces exceptions when asked", async () => {
    const { trace } = await boot(exceptionsKernel(), { traceCategories: ["exceptions"] });
    expect(trace.filter((t) => t.startsWith("exceptions:")).map((t) => t.split(" at ")[0])).toEqual([
      "exceptions: #DE", "exceptions: #UD", "exceptions: #GP(0x1230)", "exceptions: #PF(0x0)", "exceptions: #PF(0x2)", "exceptions: #PF(0x3)",
    ]);
  });

  it("runs ring 3 code with SYSCALL/SYSRET and takes its faults on the kernel stack", async () => {
    const { out, result } = await boot(ring3Kernel());
    expect(out).toBe([
      "long mode kernel, entering ring 3",
      "hello from ring 3, cpl=3",
      "exception 14 error 00000005 cs 00000023 cr2 00200000",
      "exception 13 error 00000000 cs 00000023",
      "user exit 7",
      "back in the kernel",
      "",
    ].join("\n"));
    expect(result.exitCode).toBe(41);
  });

  it("hands the kernel its memory map, command line and modules", async () => {
    const enc = new TextEncoder();
    const { out, result } = await boot(multibootInfoKernel(), {
      cmdline: "kernel.bin quiet",
      modules: [{ data: enc.encode("module one"), cmdline: "one.txt x=1" }, { data: enc.encode("2"), cmdline: "two" }],
    });
    expect(out).toBe([
      "flags 0000024f mem_lower 639 mem_upper 129920",
      "cmdline: kernel.bin quiet",
      "region 0000000000000000 000000000009fc00 1",
      "region 000000000009fc00 0000000000000400 2",
      "region 00000000000f0000 0000000000010000 2",
      "region 0000000000100000 0000000007ee0000 1",
      "region 0000000007fe0000 0000000000020000 2",
      "region 00000000fffc0000 0000000000040000 2",
      "region 000000fd00000000 0000000300000000 2",
      "modules: 2",
      "module 10 bytes, page-aligned, string \"one.txt x=1\", contents [module one]",
      "module 1 bytes, page-aligned, string \"two\", contents [2]",
      "",
    ].join("\n"));
    expect(result.exitCode).toBe(39);
  });

  it("drives the UART by interrupts and receives host input without loss", async () => {
    const { out, result } = await boot(serialIrqKernel(), { input: "abc xyz 123\n" });
    expect(out).toBe("interrupt-driven serial output\nyou said: ABC XYZ 123\n");
    expect(result.exitCode).toBe(45);
  });

  it("wakes a halted CPU when input arrives while the machine runs", async () => {
    const machine = new Machine();
    let out = "";
    machine.attachSerial(0, { output: (b) => { out += String.fromCharCode(b); }, input: true });
    machine.loadMultiboot(serialIrqKernel());
    const running = machine.run();
    setTimeout(() => machine.sendSerial(0, "late\n"), 20);
    const result = await running;
    expect(out).toBe("interrupt-driven serial output\nyou said: LATE\n");
    expect(result.reason).toBe("exit");
  });

  it("derives every clock from the instruction count: TSC, CMOS date, PIT channel 2, RTC interrupts", async () => {
    const { out, result } = await boot(clocksKernel());
    const lines = out.split("\n");
    expect(lines[0]).toBe("rtc date 2000-01-01 00:00:00");
    // A 10 ms PIT calibration loop of 4 instructions per pass at 100 MHz.
    const loops = Number(/loop: (\d+)/.exec(lines[1]!)![1]);
    expect(loops).toBeGreaterThan(240_000);
    expect(loops).toBeLessThan(260_000);
    expect(lines[2]).toBe("rtc periodic interrupts: 20");
    expect(Number(/delta: (\d+)/.exec(lines[3]!)![1])).toBeGreaterThan(loops * 4);
    expect(result.exitCode).toBe(43);
  });

  it("starts the RTC where asked", async () => {
    const { out } = await boot(clocksKernel(), { rtcStart: Date.UTC(2024, 1, 29, 23, 59, 58) / 1000 });
    expect(out.split("\n")[0]).toBe("rtc date 2024-02-29 23:59:58");
  });
});

describe("determinism", () => {
  it.each([
    ["clocks", clocksKernel],
    ["PIT interrupts", () => pitKernel(200)],
    ["ring 3", ring3Kernel],
  ])("boots the %s kernel twice to identical transcripts and instruction counts", async (_name, make) => {
    const a = await boot(make());
    const b = await boot(make());
    expect(b.out).toBe(a.out);
    expect(b.result).toEqual(a.result);
  });

  it("does not depend on how the host slices the run", async () => {
    const fast = await boot(clocksKernel());
    // A host clock that jumps ahead makes every slice end after one chunk.
    let t = 0;
    const sliced = await boot(clocksKernel(), { hostClock: () => (t += 1000) });
    expect(sliced.out).toBe(fast.out);
    expect(sliced.result).toEqual(fast.result);
  });
});

describe("how runs end", () => {
  const tiny = (body: string): Uint8Array => buildKernel(`_start:\n  mov esp, 0x90000\n${body}`);

  it("stops at the instruction budget", async () => {
    const { result } = await boot(tiny("1:\n  jmp 1b"), { maxInstructions: 12345 });
    expect(result).toMatchObject({ reason: "budget", exitCode: 72, instructions: 12345 });
  });

  it("ends a HLT with interrupts disabled", async () => {
    const { result } = await boot(tiny("  cli\n  hlt"));
    expect(result.reason).toBe("halt");
    expect(result.exitCode).toBe(68);
    expect(result.detail).toMatch(/interrupts disabled/);
  });

  it("ends a HLT with interrupts enabled when no timer is armed and no input can come", async () => {
    // Stop the BIOS tick: a new control word leaves channel 0 waiting for a count.
    const { result } = await boot(tiny("  mov al, 0x30\n  out 0x43, al\n  sti\n  hlt"));
    expect(result.reason).toBe("idle");
    expect(result.exitCode).toBe(70);
  });

  it("reports a triple fault", async () => {
    const { result } = await boot(tiny("  lidt [empty_idt]\n  ud2\nempty_idt:\n  .word 0\n  .long 0"));
    expect(result.reason).toBe("triple-fault");
    expect(result.exitCode).toBe(66);
  });

  it.each([
    ["keyboard controller", "  mov al, 0xfe\n  out 0x64, al\n  hlt", /0x64/],
    ["port 0x92", "  mov al, 0x01\n  out 0x92, al\n  hlt", /0x92/],
    ["reset control register", "  mov dx, 0xcf9\n  mov al, 0x06\n  out dx, al\n  hlt", /0xCF9/],
  ])("stops on a guest reset through the %s", async (_name, body, source) => {
    const { result } = await boot(tiny(body));
    expect(result.reason).toBe("reset");
    expect(result.exitCode).toBe(64);
    expect(result.detail).toMatch(source);
  });

  it("stops on request", async () => {
    const machine = new Machine();
    machine.loadMultiboot(tiny("1:\n  jmp 1b"));
    const running = machine.run();
    setTimeout(() => machine.requestStop(), 10);
    const result = await running;
    expect(result.reason).toBe("stopped");
    expect(result.exitCode).toBe(130);
    expect(result.instructions).toBeGreaterThan(0);
  });

  it("reads unclaimed ports as all-ones and reports each once", async () => {
    const { out, trace } = await boot(tiny(`
  mov dx, 0x1234
  in al, dx
  in al, dx
  movzx eax, al
  call puthex
  in ax, dx
  movzx eax, ax
  call puthex
  mov dx, 0x2fd
  in al, dx
  movzx eax, al
  call puthex
  out dx, al
  mov al, 0
  call exit`), { traceCategories: ["ports"] });
    expect(out).toBe("000000ff0000ffff000000ff");
    expect(trace).toEqual([
      "ports: unclaimed port 0x1234 read (reads all-ones, writes ignored; reported once)",
      "ports: unclaimed port 0x1235 read (reads all-ones, writes ignored; reported once)",
      "ports: unclaimed port 0x02fd read (reads all-ones, writes ignored; reported once)",
    ]);
  });

  it("has COM2 only when the embedder attaches it", async () => {
    const probe = tiny(`
  mov dx, 0x2fd
  in al, dx
  movzx eax, al
  call puthex
  mov al, 0
  call exit`);
    expect((await boot(probe)).out).toBe("000000ff");
    expect((await boot(probe, { com2: true })).out).toBe("00000060");
  });
});

describe("realtime mode", () => {
  it("paces virtual time to the host clock", async () => {
    const started = performance.now();
    const { out } = await boot(pitKernel(50), { realtime: true });
    expect(out).toContain("timer interrupts: 50");
    // 50 ticks of a 1 kHz timer cannot finish before 50 ms of host time, give or take the pacing slack.
    expect(performance.now() - started).toBeGreaterThan(40);
  });
});
