// `capos emulate`: boots a Multiboot kernel on the PC machine the way
// `qemu-system-x86_64 -kernel` does. COM1 is stdout (and stdin feeds it, as
// with QEMU's -serial stdio), COM2 is optional, and the process exits with
// QEMU's isa-debug-exit status so scripts can swap one machine for the other.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { Machine } from "../emulator/machine.js";
import { BootError } from "../emulator/boot/errors.js";
import { EXIT_USAGE } from "../emulator/stop.js";
import { parseTraceCategories } from "../emulator/trace.js";

export interface EmulateOptions {
  kernel: string;
  module: string[];
  append?: string;
  ram: string;
  maxInstructions?: string;
  com2?: string;
  realtime?: boolean;
  stats?: boolean;
  trace?: string;
  clockHz?: string;
}

/** Ctrl-A then X ends an interactive session (as in QEMU); Ctrl-A Ctrl-A sends one Ctrl-A. */
const ESCAPE = 0x01;

export function registerEmulate(program: Command): void {
  program
    .command("emulate")
    .description("boot a Multiboot 1 kernel on the PC machine; COM1 goes to stdout, exit status as QEMU's isa-debug-exit")
    .requiredOption("--kernel <file>", "Multiboot 1 kernel image (a.out kludge, ELF32 or ELF64)")
    .option("--module <file[=cmdline]>", "boot module (repeatable); its string is \"file cmdline\", as QEMU's -initrd gives", collect, [])
    .option("--append <cmdline>", "kernel command line (the kernel sees \"file cmdline\", as with QEMU's -append)")
    .option("--ram <MiB>", "guest RAM in MiB", "128")
    .option("--max-instructions <n>", "stop after this many instructions (exit status 72)")
    .option("--com2 <path|->", "attach COM2: '-' is the terminal (raw mode; Ctrl-A X quits), a path receives its output")
    .option("--realtime", "pace virtual time to the host clock (interactive use)")
    .option("--stats", "print instructions, wall time, MIPS and the stop reason to stderr")
    .option("--trace <categories>", "trace to stderr: ports, irq, exceptions, boot, devices, or all")
    .option("--clock-hz <hz>", "virtual clock frequency (one instruction per tick; default 100000000)")
    .action(async (opts: EmulateOptions) => {
      process.exitCode = await emulate(opts);
      // stdin listeners would otherwise keep the process alive.
      process.stdin.destroy();
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function fail(message: string): number {
  process.stderr.write(`capos emulate: ${message}\n`);
  return EXIT_USAGE;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer (got "${text}")`);
  return n;
}

export async function emulate(opts: EmulateOptions): Promise<number> {
  let machine: Machine;
  let kernel: Uint8Array;
  const modules: { data: Uint8Array; cmdline: string }[] = [];
  let maxInstructions: number | undefined;
  try {
    const traceCategories = opts.trace !== undefined ? parseTraceCategories(opts.trace) : [];
    machine = new Machine({
      ramMiB: positiveInt(opts.ram, "--ram"),
      realtime: opts.realtime ?? false,
      ...(opts.clockHz !== undefined ? { clockHz: positiveInt(opts.clockHz, "--clock-hz") } : {}),
      trace: (category, message) => process.stderr.write(`[trace:${category}] ${message}\n`),
      traceCategories,
    });
    if (opts.maxInstructions !== undefined) maxInstructions = positiveInt(opts.maxInstructions, "--max-instructions");
    kernel = readFileSync(opts.kernel);
    for (const spec of opts.module) {
      const eq = spec.indexOf("=");
      const file = eq < 0 ? spec : spec.slice(0, eq);
      modules.push({ data: readFileSync(file), cmdline: eq < 0 ? file : `${file} ${spec.slice(eq + 1)}` });
    }
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }

  const stdout = new BatchedWriter(1);
  const interactive = opts.com2 === "-";
  // stdin feeds COM1 (QEMU's -serial stdio), or COM2 when COM2 is the terminal.
  machine.attachSerial(0, { output: (b) => stdout.push(b), input: !interactive });
  let com2File: number | null = null;
  let com2Writer: BatchedWriter | null = null;
  if (opts.com2 !== undefined) {
    if (interactive) {
      machine.attachSerial(1, { output: (b) => stdout.push(b), input: true });
    } else {
      try {
        com2File = openSync(opts.com2, "w");
      } catch (e) {
        return fail(`cannot open --com2 ${opts.com2}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const file = (com2Writer = new BatchedWriter(com2File));
      machine.attachSerial(1, { output: (b) => file.push(b) });
    }
  }
  const inputPort = interactive ? 1 : 0;

  try {
    machine.loadMultiboot(kernel, { cmdline: `${opts.kernel} ${opts.append ?? ""}`, modules });
  } catch (e) {
    if (e instanceof BootError) return fail(`${opts.kernel}: ${e.message}`);
    throw e;
  }

  // Host input: the terminal (raw when interactive) or whatever is piped in.
  const raw = interactive && process.stdin.isTTY === true;
  if (raw) process.stdin.setRawMode(true);
  let escape = false;
  process.stdin.on("data", (chunk: Buffer) => {
    if (!raw) {
      machine.sendSerial(inputPort, chunk);
      return;
    }
    const bytes: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 || b === 0x58) machine.requestStop();
        else bytes.push(b);
      } else if (b === ESCAPE) {
        escape = true;
      } else {
        bytes.push(b);
      }
    }
    if (bytes.length > 0) machine.sendSerial(inputPort, bytes);
  });
  process.stdin.on("end", () => machine.closeSerialInput(inputPort));
  process.stdin.on("error", () => machine.closeSerialInput(inputPort));
  const onSigint = (): void => machine.requestStop();
  process.on("SIGINT", onSigint);

  const started = performance.now();
  const result = await machine.run(maxInstructions !== undefined ? { maxInstructions } : {});
  const wallMs = performance.now() - started;
  process.off("SIGINT", onSigint);
  if (raw) process.stdin.setRawMode(false);
  stdout.flush();
  com2Writer?.flush();
  if (com2File !== null) closeSync(com2File);

  if (opts.stats) {
    const mips = wallMs > 0 ? result.instructions / wallMs / 1000 : 0;
    process.stderr.write(
      `capos: ${result.instructions} instructions in ${wallMs.toFixed(1)} ms (${mips.toFixed(1)} MIPS); ` +
        `virtual time ${(result.ticks / machine.clock.hz).toFixed(6)} s; stopped: ${result.reason} (${result.detail}); exit status ${result.exitCode & 0xff}\n`,
    );
  } else if (result.reason !== "exit") {
    process.stderr.write(`capos: ${result.reason}: ${result.detail}\n`);
  }
  return result.exitCode & 0xff;
}

/** Collects guest output bytes and writes them in one system call per run slice. */
class BatchedWriter {
  private buf: number[] = [];
  private scheduled = false;

  constructor(private readonly fd: number) {}

  push(b: number): void {
    this.buf.push(b);
    if (!this.scheduled) {
      this.scheduled = true;
      // Runs when the machine yields to the event loop (the end of the slice).
      setTimeout(() => this.flush(), 0);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0) return;
    const bytes = Uint8Array.from(this.buf);
    this.buf = [];
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.fd, bytes, off);
      } catch (e) {
        // A non-blocking terminal can refuse a write; try again.
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      }
    }
  }
}
