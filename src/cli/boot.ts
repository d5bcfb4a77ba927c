// `capos boot [manifest.cue] [--qemu]`: builds what is missing (the kernel and the
// programs the manifest names), compiles the manifest into the boot package, boots
// both on capos's PC machine (or QEMU), streams COM1 to stdout and exits with the
// status the kernel gave isa-debug-exit (0 when it halted cleanly).
import type { Command } from "commander";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, BuildError, formatDiagnostic } from "../build/index.js";
import { createBuildHook } from "../build/hook.js";
import { defaultBuildDir, findSourceRoot } from "../build/locate.js";
import { terminalReporter, type ReporterStream } from "../build/progress.js";
import type { BuildReporter } from "../build/pipeline.js";
import { CueEvaluationError } from "../manifest/cue/evaluate.js";
import { compileManifestFile, TAGS_ENV } from "../manifest/host/compile-file.js";
import { ManifestInvalidError, formatIssue } from "../manifest/model.js";
import { Machine } from "../emulator/machine.js";
import { BootError } from "../emulator/boot/errors.js";

/** The manifest booted when none is named. */
export const DEFAULT_MANIFEST = "system.cue";
/** capos boot could not get as far as starting a guest (build, manifest or QEMU failure). */
export const EXIT_NOT_BOOTED = 125;
/** The names the kernel and the boot module go by (their Multiboot strings), on both machines. */
const KERNEL_FILE = "kernel.elf";
const KERNEL_MAP_FILE = "kernel.map";
const MODULE_FILE = "manifest.bin";

export interface BootOptions {
  /** The manifest as the user named it (a bare name is looked for under manifests/). */
  manifest?: string;
  qemu?: boolean;
  inject?: string[];
  buildDir?: string;
  ram?: string;
  maxInstructions?: string;
  stats?: boolean;
}

/** Where the command reads and writes: the real process unless a test says otherwise. */
export interface BootIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** COM1, byte for byte. */
  console(bytes: Uint8Array): void;
  stderr: ReporterStream & { isTTY?: boolean };
}

export function registerBootCommand(program: Command): void {
  program
    .command("boot")
    .description("build, boot a manifest on the PC machine (or QEMU) and stream the kernel console (COM1) to stdout")
    .argument("[manifest]", `the manifest .cue file; a bare name is also looked for under manifests/ (default: ${DEFAULT_MANIFEST})`)
    .option("--qemu", "boot on qemu-system-x86_64 instead of capos's machine (same image, same console, same exit status)")
    .option("--inject <key=value>", `set a CUE @tag (repeatable); ${TAGS_ENV}=k=v,… sets tags for every manifest declaring them`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--build-dir <dir>", "build output directory (default: build/ of the capos checkout)")
    .option("--ram <MiB>", "guest RAM in MiB", "128")
    .option("--max-instructions <n>", "stop the emulated machine after this many instructions")
    .option("--stats", "print instructions retired, wall time and the stop reason to stderr")
    .action(async (manifest: string | undefined, opts: BootOptions) => {
      process.exitCode = await runBootCommand({ ...opts, ...(manifest === undefined ? {} : { manifest }) });
    });
}

const processIo = (): BootIo => ({
  cwd: process.cwd(),
  env: process.env,
  console: (bytes) => writeAll(1, bytes),
  stderr: process.stderr,
});

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (e) {
      // A non-blocking terminal can refuse a write; try again.
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
}

/** Progress on a terminal only: a piped or captured boot prints nothing but the console. */
function bootReporter(io: BootIo): BuildReporter | undefined {
  const ci = io.env["CI"] !== undefined && io.env["CI"] !== "" && io.env["CI"] !== "false";
  if (io.stderr.isTTY === true && !ci) return terminalReporter(io.stderr, io.cwd);
  return { begin() {}, stage() {}, done() {}, end() {} };
}

/** The capos checkout whose kernel/ and user/ are built: around cwd, else the one this program is part of. */
function sourceRoot(cwd: string): string | null {
  return findSourceRoot(cwd) ?? findSourceRoot(dirname(fileURLToPath(import.meta.url)));
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer (got "${text}")`);
  return n;
}

/** The kernel image and boot package of a manifest, built and compiled as needed. */
export interface BootImages {
  kernel: Uint8Array;
  manifest: Uint8Array;
  manifestFile: string;
  /** The kernel's symbol map (build/kernel.map), for naming backtrace addresses; null if absent. */
  symbolMap: string | null;
}

const KERNEL_VBASE = 0xffff_ffff_8000_0000n;
const BACKTRACE_LINE = /^\[kernel\]   #\d+ 0x([0-9a-f]{16})$/;

/**
 * Names the addresses of the kernel's backtrace lines from its symbol map: the kernel
 * prints bare addresses (it carries no symbol table), and both machines' consoles pass
 * through here, so their transcripts stay identical. The kernel runs at KERNEL_VBASE +
 * physical whatever base the image was linked at, so both forms are looked up.
 */
export function backtraceNamer(symbolMap: string | null): (line: string) => string {
  if (symbolMap === null) return (line) => line;
  const symbols: { addr: bigint; name: string }[] = [];
  for (const text of symbolMap.split("\n")) {
    const [addr, , kind, name, wasmName] = text.split(" ");
    if (text.startsWith("#") || addr === undefined || name === undefined || kind === "object" || !/^[0-9a-f]{16}$/.test(addr)) continue;
    symbols.push({ addr: BigInt(`0x${addr}`), name: wasmName !== undefined && !wasmName.startsWith("$") ? wasmName : name });
  }
  symbols.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const lookup = (addr: bigint): string | null => {
    let best: { addr: bigint; name: string } | null = null;
    for (const s of symbols) {
      if (s.addr > addr) break;
      if (s.addr > 0xfffn) best = s; // absolute constants (.equ) name nothing
    }
    return best === null ? null : `${best.name}+0x${(addr - best.addr).toString(16)}`;
  };
  // An image linked at its physical address has a map of physical addresses.
  const linkedHigh = symbols.some((s) => s.addr >= KERNEL_VBASE);
  return (line) => {
    const m = BACKTRACE_LINE.exec(line);
    if (m === null) return line;
    const va = BigInt(`0x${m[1]!}`);
    if (va < KERNEL_VBASE) return line;
    const name = lookup(linkedHigh ? va : va - KERNEL_VBASE);
    return name === null ? line : `${line} ${name}`;
  };
}

/** Passes console bytes through, line by line, naming backtrace addresses on the way. */
class ConsoleLines {
  private pending: number[] = [];

  constructor(private readonly out: (bytes: Uint8Array) => void, private readonly name: (line: string) => string) {}

  push(bytes: Uint8Array): void {
    for (const b of bytes) {
      this.pending.push(b);
      if (b === 0x0a) this.flushLine();
    }
  }

  private flushLine(): void {
    const raw = Uint8Array.from(this.pending);
    this.pending = [];
    const text = Buffer.from(raw.subarray(0, raw.length - 1)).toString("latin1");
    const named = this.name(text);
    this.out(named === text ? raw : Buffer.from(`${named}\n`, "latin1"));
  }

  /** Whatever is left without a newline (the end of the run). */
  end(): void {
    if (this.pending.length === 0) return;
    this.out(Uint8Array.from(this.pending));
    this.pending = [];
  }
}

/** Compiles the manifest (building its programs), builds the kernel (when stale) and returns both images. */
export async function prepareBoot(opts: BootOptions, io: BootIo): Promise<BootImages> {
  const root = sourceRoot(io.cwd);
  if (root === null) throw new Error("not inside a capos source tree, and this capos has none beside it: nothing to build the kernel from");
  const buildDir = opts.buildDir !== undefined ? resolve(io.cwd, opts.buildDir) : defaultBuildDir(root);
  const reporter = bootReporter(io);
  // The manifest first: its mistakes are reported before minutes of kernel build.
  const compiled = await compileManifestFile({
    file: opts.manifest ?? DEFAULT_MANIFEST,
    cwd: io.cwd,
    env: io.env,
    tags: opts.inject ?? [],
    buildDir,
    build: createBuildHook({ root, ...(reporter === undefined ? {} : { reporter }) }),
  });
  const summary = await build({ root, buildDir, targets: ["kernel"], ...(reporter === undefined ? {} : { reporter }) });
  const failed = summary.outcomes.find((o) => o.error !== null);
  if (failed?.error) throw failed.error;
  let symbolMap: string | null = null;
  try {
    symbolMap = readFileSync(join(buildDir, KERNEL_MAP_FILE), "utf8");
  } catch {
    symbolMap = null;
  }
  return { kernel: readFileSync(join(buildDir, KERNEL_FILE)), manifest: compiled.bytes, manifestFile: compiled.file, symbolMap };
}

/** How a boot ended. `status` is what capos boot exits with. */
export interface BootOutcome {
  status: number;
  /** The machine's stop reason ("exit" when the kernel wrote to isa-debug-exit). */
  reason: string;
  detail: string;
  instructions: number | null;
  ms: number;
}

/** Boots on capos's PC machine, streaming COM1. */
export async function bootEmulator(images: BootImages, opts: BootOptions, io: BootIo): Promise<BootOutcome> {
  const machine = new Machine({ ramMiB: positiveInt(opts.ram ?? "128", "--ram") });
  const lines = new ConsoleLines(io.console, backtraceNamer(images.symbolMap));
  const byte = new Uint8Array(1);
  machine.attachSerial(0, {
    output: (b) => {
      byte[0] = b;
      lines.push(byte);
    },
  });
  machine.loadMultiboot(images.kernel, { cmdline: KERNEL_FILE, modules: [{ data: images.manifest, cmdline: MODULE_FILE }] });
  const stop = () => machine.requestStop();
  process.on("SIGINT", stop);
  const started = performance.now();
  try {
    const r = await machine.run(opts.maxInstructions === undefined ? {} : { maxInstructions: positiveInt(opts.maxInstructions, "--max-instructions") });
    lines.end();
    // isa-debug-exit gives (v << 1) | 1; capos boot exits with the kernel's own v.
    const status = r.reason === "exit" ? r.exitCode >> 1 : r.exitCode;
    return { status, reason: r.reason, detail: r.detail, instructions: r.instructions, ms: performance.now() - started };
  } finally {
    process.off("SIGINT", stop);
  }
}

/** The QEMU binary (CAPOS_QEMU overrides). */
export function qemuBinary(env: Readonly<Record<string, string | undefined>>): string {
  return env["CAPOS_QEMU"] ?? "qemu-system-x86_64";
}

/** Boots the same image and boot package on QEMU's `pc` machine, streaming COM1. */
export async function bootQemu(images: BootImages, opts: BootOptions, io: BootIo): Promise<BootOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "capos-boot-"));
  const started = performance.now();
  try {
    writeFileSync(join(dir, KERNEL_FILE), images.kernel);
    writeFileSync(join(dir, MODULE_FILE), images.manifest);
    const args = [
      "-machine", "pc", "-cpu", "qemu64", "-m", `${positiveInt(opts.ram ?? "128", "--ram")}M`, "-display", "none",
      "-serial", "stdio", "-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-kernel", KERNEL_FILE, "-initrd", MODULE_FILE,
    ];
    const child = spawn(qemuBinary(io.env), args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let errors = "";
    const lines = new ConsoleLines(io.console, backtraceNamer(images.symbolMap));
    child.stdout.on("data", (chunk: Buffer) => lines.push(new Uint8Array(chunk)));
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise<number | null>((done, fail) => {
      child.on("error", fail);
      child.on("close", (c) => done(c));
    });
    lines.end();
    // QEMU exits with (v << 1) | 1 after isa-debug-exit; anything else means it stopped another way.
    if (code !== null && (code & 1) === 1) {
      return { status: code >> 1, reason: "exit", detail: `guest wrote 0x${(code >> 1).toString(16)} to isa-debug-exit`, instructions: null, ms: performance.now() - started };
    }
    return { status: EXIT_NOT_BOOTED, reason: "qemu", detail: `QEMU exited with ${code === null ? "a signal" : `status ${code}`} without the kernel's exit${errors === "" ? "" : `: ${errors.trim()}`}`, instructions: null, ms: performance.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(io: BootIo, message: string): void {
  io.stderr.write(`capos boot: ${message}\n`);
}

/** The command: prepare, boot, report. Returns the exit status. */
export async function runBootCommand(opts: BootOptions, io: BootIo = processIo()): Promise<number> {
  let images: BootImages;
  try {
    images = await prepareBoot(opts, io);
  } catch (e) {
    if (e instanceof BuildError) {
      for (const d of e.diagnostics) report(io, formatDiagnostic(d));
    } else if (e instanceof ManifestInvalidError) {
      report(io, `the manifest is invalid (${e.issues.length} problem${e.issues.length === 1 ? "" : "s"}):`);
      for (const issue of e.issues) io.stderr.write(`  ${formatIssue(issue)}\n`);
    } else if (e instanceof CueEvaluationError) {
      report(io, `CUE evaluation failed:\n${e.message}`);
    } else if (e instanceof Error) {
      report(io, e.message);
    } else {
      throw e;
    }
    return EXIT_NOT_BOOTED;
  }
  let outcome: BootOutcome;
  try {
    outcome = opts.qemu === true ? await bootQemu(images, opts, io) : await bootEmulator(images, opts, io);
  } catch (e) {
    if (e instanceof BootError || e instanceof Error) {
      report(io, e.message);
      return EXIT_NOT_BOOTED;
    }
    throw e;
  }
  if (outcome.reason !== "exit") report(io, `the machine stopped (${outcome.reason}): ${outcome.detail}`);
  if (opts.stats === true) {
    const mips = outcome.instructions === null ? "" : `, ${(outcome.instructions / outcome.ms / 1000).toFixed(1)} MIPS`;
    const count = outcome.instructions === null ? "" : `${outcome.instructions} instructions, `;
    report(io, `${count}${outcome.ms.toFixed(0)} ms${mips}, ${outcome.reason}: ${outcome.detail}, status ${outcome.status}`);
  }
  return outcome.status;
}
