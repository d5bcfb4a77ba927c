// The PC machine: the composition root that wires RAM, the CPU, the port and
// MMIO buses and QEMU `pc` devices together, loads Multiboot kernels, and runs
// the CPU in slices on the virtual clock, yielding to the host event loop
// between slices. It is the embedding API shared by the CLI, the tests and the
// browser front end, and it uses no Node-only API.
import { Cpu, RUN_HALT, RUN_STOP } from "./cpu/cpu.js";
import { EXCEPTION_NAMES, MachineStop } from "./cpu/fault.js";
import { IF } from "./cpu/flags.js";
import { PhysicalMemory } from "./memory/phys.js";
import { DEFAULT_CLOCK_HZ, VirtualClock } from "./clock.js";
import { PortBus, SIZE_8, SIZE_ANY } from "./bus/ports.js";
import { MmioBus } from "./bus/mmio.js";
import { PicPair } from "./devices/pic.js";
import { Pit8254, PIT_PORT_BASE } from "./devices/pit.js";
import { COM_PORTS, Uart16550 } from "./devices/uart.js";
import { DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, DebugExit } from "./devices/debug-exit.js";
import { CMOS_INDEX, CmosRtc } from "./devices/cmos.js";
import { PciBus, PciHostPorts, PCI_CONFIG_ADDRESS } from "./devices/pci.js";
import { i440fxHostBridge, piix3IsaBridge } from "./devices/pci-chipset.js";
import { PORT_KBC_STATUS, PORT_POST, PORT_SYSTEM_A, PORT_SYSTEM_B, SystemControl } from "./devices/system-control.js";
import { applyFirmwareState } from "./boot/firmware.js";
import { loadMultiboot, type BootInfo, type MultibootLoadOptions } from "./boot/multiboot.js";
import { enterMultiboot } from "./boot/entry-state.js";
import { EXIT_STATUS, type RunResult, type StopReason } from "./stop.js";
import { hex, Trace, type TraceCategory, type TraceSink } from "./trace.js";

export type { RunResult, StopReason } from "./stop.js";
export type { BootInfo, MultibootModule, MultibootLoadOptions } from "./boot/multiboot.js";

export const DEFAULT_RAM_MIB = 128;
/** Unix time the RTC shows at power-on in deterministic mode: 2000-01-01 00:00:00 UTC. */
export const DETERMINISTIC_RTC_START = 946684800;
/** Start of the PCI hole that holds MMIO BARs (above the largest supported RAM). */
export const PCI_HOLE_BASE = 0xe0000000;
const PCI_HOLE_SIZE = 0xfec00000 - PCI_HOLE_BASE;

/** Instructions per CPU call between host checks (wall clock, stop requests). */
const CHUNK_INSTRUCTIONS = 200_000;
/** Wall time a slice may run before yielding to the host event loop. */
const SLICE_MS = 16;
/** Realtime mode: how far virtual time may run ahead of, or fall behind, the host clock. */
const REALTIME_AHEAD_MS = 2;
const REALTIME_BEHIND_MS = 50;

export interface MachineOptions {
  /** Guest RAM in MiB (default 128). */
  ramMiB?: number;
  /** Virtual clock frequency in Hz: one retired instruction is one tick (default 100 MHz). */
  clockHz?: number;
  /** Pace virtual time to the host clock (interactive use) instead of running as fast as possible. */
  realtime?: boolean;
  /** Unix seconds the RTC shows at power-on (default: 2000-01-01 deterministically, the host's time in realtime mode). */
  rtcStart?: number;
  trace?: TraceSink;
  traceCategories?: Iterable<TraceCategory>;
  /** Host clock in milliseconds (default performance.now); used for realtime pacing and slicing only. */
  hostClock?: () => number;
}

export interface SerialAttachment {
  /** Receives every byte the guest transmits. */
  output?: (byte: number) => void;
  /** The host may send input later: an idle guest waits for it instead of ending the run. */
  input?: boolean;
}

export interface RunOptions {
  /** Stop once this many instructions have retired since power-on. */
  maxInstructions?: number;
}

/** What a slice asks the async driver to do next. */
type SliceOutcome = { kind: "yield" } | { kind: "sleep"; ms: number } | { kind: "done" };

export class Machine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly clock: VirtualClock;
  readonly trace: Trace;
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly pic: PicPair;
  readonly pit: Pit8254;
  readonly cmos: CmosRtc;
  readonly pci: PciBus;
  readonly system: SystemControl;
  /** COM1..COM4; absent ports are null (their I/O addresses read all-ones). */
  readonly uarts: (Uart16550 | null)[] = [null, null, null, null];
  readonly realtime: boolean;

  private readonly hostClock: () => number;
  private poweredOn = false;
  private readonly inputOpen = [false, false, false, false];
  private result: RunResult | null = null;
  private running = false;
  private waiter: (() => void) | null = null;
  private hostStart = 0;
  private tickStart = 0;

  constructor(opts: MachineOptions = {}) {
    const ramMiB = opts.ramMiB ?? DEFAULT_RAM_MIB;
    if (!Number.isInteger(ramMiB) || ramMiB < 2 || ramMiB > 2047) throw new RangeError(`RAM must be a whole number of MiB from 2 to 2047 (got ${ramMiB})`);
    this.realtime = opts.realtime ?? false;
    this.hostClock = opts.hostClock ?? (() => performance.now());
    this.trace = new Trace(opts.trace ?? null, opts.traceCategories ?? []);
    this.mem = new PhysicalMemory(ramMiB * 1024 * 1024);
    this.cpu = new Cpu(this.mem);
    this.clock = new VirtualClock(this.cpu, opts.clockHz ?? DEFAULT_CLOCK_HZ);
    this.cpu.readTsc = () => this.clock.now();
    this.ports = new PortBus(this.trace);
    this.cpu.io = this.ports;
    this.mmio = new MmioBus(this.mem, PCI_HOLE_BASE, PCI_HOLE_SIZE);

    this.pic = new PicPair((level) => this.cpu.setIntrLine(level), this.trace);
    this.cpu.intrAck = () => this.pic.acknowledge();
    this.ports.register(0x20, 2, this.pic);
    this.ports.register(0xa0, 2, this.pic);
    this.ports.register(0x4d0, 2, this.pic);

    this.pit = new Pit8254(this.clock, (level) => this.pic.setIrq(0, level), this.trace);
    this.ports.register(PIT_PORT_BASE, 4, this.pit);

    const reset = (source: string): void => this.finish("reset", `guest reset the machine: ${source}`);
    this.system = new SystemControl(this.clock, this.pit, reset);
    this.ports.register(PORT_SYSTEM_B, 1, this.system);
    this.ports.register(PORT_SYSTEM_A, 1, this.system);
    this.ports.register(PORT_KBC_STATUS, 1, this.system);
    this.ports.register(PORT_POST, 1, this.system);

    const rtcStart = opts.rtcStart ?? (this.realtime ? Math.floor(Date.now() / 1000) : DETERMINISTIC_RTC_START);
    this.cmos = new CmosRtc(this.clock, rtcStart, (level) => this.pic.setIrq(8, level));
    this.cmos.setMemorySize(this.mem.size);
    this.ports.register(CMOS_INDEX, 2, this.cmos);

    const debugExit = new DebugExit((status, value) => this.finish("exit", `guest wrote ${hex(value)} to isa-debug-exit`, status));
    this.ports.register(DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, debugExit, SIZE_ANY);

    this.pci = new PciBus(this.ports, this.mmio, (irq, level) => this.pic.setIrq(irq, level), this.trace);
    this.ports.register(PCI_CONFIG_ADDRESS, 8, new PciHostPorts(this.pci, reset), SIZE_ANY);
    this.pci.plug(0, 0, i440fxHostBridge());
    const isa = piix3IsaBridge();
    this.pci.plug(1, 0, isa);
    this.pci.setRouter(isa);

    this.createUart(0);
  }

  // ---------------------------------------------------------------------
  // Embedding API
  // ---------------------------------------------------------------------

  /**
   * Connects host byte sinks/sources to COM1..COM4 (index 0..3). COM1 always
   * exists; attaching index 1..3 before the machine starts creates that UART,
   * as a second `-serial` does on QEMU. Unattached ports do not exist.
   */
  attachSerial(index: number, attachment: SerialAttachment): void {
    if (!Number.isInteger(index) || index < 0 || index > 3) throw new RangeError(`serial port index must be 0..3 (got ${index})`);
    let uart = this.uarts[index];
    if (uart === null || uart === undefined) {
      if (this.poweredOn) throw new Error(`COM${index + 1} must be attached before the machine starts`);
      uart = this.createUart(index);
    }
    uart.sink = attachment.output ?? null;
    this.inputOpen[index] = attachment.input ?? false;
  }

  /** Bytes typed or piped into a serial port (strings are sent as UTF-8). */
  sendSerial(index: number, data: ArrayLike<number> | string): void {
    const uart = this.uarts[index];
    if (uart === null || uart === undefined) throw new Error(`COM${index + 1} is not attached`);
    uart.receive(typeof data === "string" ? new TextEncoder().encode(data) : data);
    this.wake();
  }

  /** The host will send no more input on this port (an idle guest may now end the run). */
  closeSerialInput(index: number): void {
    this.inputOpen[index] = false;
    this.wake();
  }

  /** Loads a Multiboot 1 kernel and its modules and sets the CPU to the Multiboot entry state. */
  loadMultiboot(kernel: Uint8Array, opts: MultibootLoadOptions = {}): BootInfo {
    this.powerOn();
    const info = loadMultiboot(this.mem, kernel, opts);
    this.cpu.notifyRamWritten(0, this.mem.size);
    enterMultiboot(this.cpu, this.mem, info.entry, info.infoAddress);
    if (this.trace.on("boot")) {
      this.trace.emit("boot", `${info.format} kernel: ${info.kernel.map((r) => `${hex(r.start)}-${hex(r.end)}`).join(", ")}; entry ${hex(info.entry)}; info ${hex(info.infoAddress)}`);
      info.modules.forEach((m, k) => this.trace.emit("boot", `module ${k} "${m.cmdline}": ${hex(m.start)}-${hex(m.end)}`));
      for (const n of info.notes) this.trace.emit("boot", n);
    }
    return info;
  }

  /** Asks a run in progress to stop at the next instruction boundary (reason "stopped"). */
  requestStop(): void {
    this.finish("stopped", "stop requested by the host");
    this.wake();
  }

  get instructions(): number {
    return this.cpu.icount;
  }

  /**
   * Runs until the guest exits, the budget is spent, the CPU can never wake, a
   * reset or triple fault, or a stop request. Executes in slices and yields to
   * the host event loop between them. A finished machine keeps its result.
   */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    if (this.running) throw new Error("the machine is already running");
    this.powerOn();
    this.running = true;
    try {
      const budget = opts.maxInstructions ?? Infinity;
      this.hostStart = this.hostClock();
      this.tickStart = this.clock.now();
      for (;;) {
        const outcome = this.runSlice(budget);
        if (outcome.kind === "done") return this.result!;
        if (outcome.kind === "sleep") await this.sleep(outcome.ms);
        else await new Promise<void>((resolve) => setTimeout(resolve, 0));
        if (this.realtime && outcome.kind === "sleep") this.catchUp();
      }
    } finally {
      this.running = false;
    }
  }

  // ---------------------------------------------------------------------
  // Run loop
  // ---------------------------------------------------------------------

  /** Runs synchronously until the slice's wall time is used, a sleep is needed, or the run ends. */
  private runSlice(budget: number): SliceOutcome {
    const cpu = this.cpu;
    const clock = this.clock;
    const sliceEnd = this.hostClock() + SLICE_MS;
    for (;;) {
      if (this.result !== null) return { kind: "done" };
      clock.fireDue();
      if (this.result !== null) return { kind: "done" };
      if (cpu.icount >= budget) {
        this.finish("budget", `instruction budget of ${budget} reached`);
        return { kind: "done" };
      }
      if (this.realtime) {
        const ahead = this.realtimeAheadMs();
        if (ahead > REALTIME_AHEAD_MS) return { kind: "sleep", ms: ahead };
        if (ahead < -REALTIME_BEHIND_MS) this.catchUp();
      }
      const deadline = clock.nextDeadline() - clock.skippedTicks;
      const limit = Math.min(budget, deadline, cpu.icount + CHUNK_INSTRUCTIONS);
      const r = this.execute(limit);
      if (this.result !== null) return { kind: "done" };
      if (r === RUN_HALT) {
        const idle = this.idle();
        if (idle !== null) return idle;
      }
      if (this.hostClock() >= sliceEnd) return { kind: "yield" };
    }
  }

  /**
   * The CPU is halted. With IF clear nothing can wake it: the run ends. With IF
   * set, time jumps to the next timer deadline (deterministic mode) or the host
   * sleeps until it (realtime); with no deadline, an open input keeps the
   * machine waiting and otherwise the run ends as idle forever.
   */
  private idle(): SliceOutcome | null {
    const cpu = this.cpu;
    if ((cpu.getFlags() & IF) === 0) {
      this.finish("halt", `CPU halted with interrupts disabled at RIP=${hex(cpu.rip)} (HLT with IF=0: nothing can wake it)`);
      return { kind: "done" };
    }
    if (cpu.intrLine) {
      // An interrupt is already waiting (e.g. raised while the CPU was in the STI shadow).
      cpu.eventFlag = 1;
      return null;
    }
    const next = this.clock.nextDeadline();
    if (next !== Infinity) {
      if (this.realtime) {
        const wait = ((next - this.wallTicks()) / this.clock.hz) * 1000;
        if (wait > 0) return { kind: "sleep", ms: wait };
      }
      this.clock.advanceTo(next);
      return null;
    }
    if (this.inputOpen.some((open, k) => open && this.uarts[k] !== null)) return { kind: "sleep", ms: Infinity };
    this.finish("idle", `CPU halted at RIP=${hex(cpu.rip)} with interrupts enabled, but no timer is armed and no input can arrive`);
    return { kind: "done" };
  }

  private execute(limit: number): number {
    try {
      return this.cpu.run(limit);
    } catch (e) {
      // The CPU's only machine stop is the triple fault (interrupts.ts); its detail names the chain.
      if (e instanceof MachineStop) this.finish("triple-fault", e.reason === "triple-fault" ? e.detail : `${e.reason}: ${e.detail}`);
      else this.finish("error", e instanceof Error ? e.message : String(e));
      return RUN_STOP;
    }
  }

  /** Records why the run ends (the first reason wins) and stops the CPU at the next boundary. */
  private finish(reason: StopReason, detail: string, exitCode?: number): void {
    if (this.result !== null) return;
    this.result = {
      reason,
      exitCode: reason === "exit" ? exitCode! : EXIT_STATUS[reason],
      instructions: this.cpu.icount,
      ticks: this.clock.now(),
      detail,
    };
    this.cpu.requestStop();
  }

  /**
   * Applies the firmware's device state (called by loadMultiboot and run; call
   * it directly only to poke devices of a machine that runs no kernel). Serial
   * ports must be attached before it.
   */
  powerOn(): void {
    if (this.poweredOn) return;
    this.poweredOn = true;
    this.pit.setGate2(false);
    applyFirmwareState({
      pic: this.pic,
      pit: this.pit,
      uartIrqs: this.uarts.flatMap((u, k) => (u === null ? [] : [COM_PORTS[k]!.irq])),
    });
    if (this.trace.on("exceptions")) {
      this.cpu.exceptionHook = (vector, code) => {
        const name = EXCEPTION_NAMES[vector] ?? `vector ${vector}`;
        this.trace.emit("exceptions", `#${name}${code >= 0 ? `(${hex(code)})` : ""} at RIP=${hex(this.cpu.rip)} after ${this.cpu.icount} instructions`);
        return false;
      };
    }
  }

  private createUart(index: number): Uart16550 {
    const { base, irq } = COM_PORTS[index]!;
    const uart = new Uart16550(base, this.clock, (level) => this.pic.setIrq(irq, level));
    this.ports.register(base, 8, uart, SIZE_8);
    this.uarts[index] = uart;
    return uart;
  }

  // ---------------------------------------------------------------------
  // Host time (realtime mode)
  // ---------------------------------------------------------------------

  /** Virtual ticks the host clock says should have elapsed by now. */
  private wallTicks(): number {
    return this.tickStart + ((this.hostClock() - this.hostStart) * this.clock.hz) / 1000;
  }

  private realtimeAheadMs(): number {
    return ((this.clock.now() - this.wallTicks()) / this.clock.hz) * 1000;
  }

  /** Realtime: a guest that fell behind the host (slow host, or a sleep ended) jumps forward to the host's time. */
  private catchUp(): void {
    const target = Math.floor(this.wallTicks());
    const next = this.clock.nextDeadline();
    // While halted, never jump past the next timer: it must fire at its own time.
    this.clock.advanceTo(this.cpu.halted ? Math.min(target, next) : target);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const done = (): void => {
        if (timer !== null) clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
      this.waiter = done;
      if (ms !== Infinity) timer = setTimeout(done, Math.max(0, Math.ceil(ms)));
    });
  }

  private wake(): void {
    this.waiter?.();
  }
}
