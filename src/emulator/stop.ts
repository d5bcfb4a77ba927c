// Why a run ended, and the exit status each reason maps to. Guest exits through
// isa-debug-exit give QEMU's odd statuses ((v << 1) | 1); every other reason has
// an even status, so the two can never be confused.

export type StopReason =
  | "exit" // the guest wrote to isa-debug-exit
  | "budget" // the instruction budget ran out
  | "halt" // HLT with interrupts disabled: nothing can ever wake the CPU
  | "idle" // HLT with interrupts enabled, but no timer armed and no input possible
  | "reset" // the guest reset the machine (keyboard controller, port 0x92, 0xCF9)
  | "triple-fault" // a fault while delivering a double fault (or another machine stop raised by the CPU)
  | "stopped" // the embedder asked the run to stop
  | "error"; // an internal emulator error (a bug in capos, reported with RIP and bytes)

export interface RunResult {
  reason: StopReason;
  /** Process exit status: the debug-exit status for "exit", else EXIT_STATUS[reason]. */
  exitCode: number;
  /** Instructions retired since power-on. */
  instructions: number;
  /** Virtual time at the stop, in clock ticks (instructions plus skipped idle time). */
  ticks: number;
  /** Human-readable explanation (what reset, where the CPU halted, the error). */
  detail: string;
}

export const EXIT_STATUS: Record<Exclude<StopReason, "exit">, number> = {
  reset: 64,
  "triple-fault": 66,
  halt: 68,
  idle: 70,
  budget: 72,
  error: 76,
  stopped: 130,
};

/** Status for usage and image errors in the command line (never produced by a run). */
export const EXIT_USAGE = 2;
