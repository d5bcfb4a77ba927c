// The scheduler: which process runs, round-robin among the runnable ones, switching
// contexts (registers, x87/SSE state, address space) at kernel exit. When no process is
// left the machine stops with success. It never runs a process that is not runnable.
import { Process, MAX_PROCESSES, PROC_RUNNABLE, processAt, processContext, processFpu } from "../proc/process";
import { TRAP_FRAME_BYTES } from "../arch/x86_64/trapframe";
import { archFpuSave, archFpuRestore } from "../arch/x86_64/native";
import { readCr3, writeCr3 } from "../arch/x86_64/cpu";
import { EXIT_SUCCESS, machineExit } from "../arch/x86_64/debug-exit";
import { LOG_INFO, logEnabled, logLine } from "../log";

const NONE: i32 = -1;
/** Index of the running process in the process table, or NONE. */
let current: i32 = -1; // NONE (a literal keeps it out of the wasm start function)

/** The running process, or null (at boot, and between an exit and the next switch). */
export function schedCurrent(): Process | null {
  return current == NONE ? null : processAt(<u32>current);
}

/** Makes a loaded process runnable. */
export function schedAdd(p: Process): void {
  p.state = PROC_RUNNABLE;
}

/** Forgets the running process (it exited and was released). */
export function schedDropCurrent(): void {
  current = NONE;
}

function nextRunnable(): i32 {
  const start = current == NONE ? 0 : current + 1;
  for (let k: u32 = 0; k < MAX_PROCESSES; k++) {
    const i = (<u32>start + k) % MAX_PROCESSES;
    if (processAt(i).state == PROC_RUNNABLE) return <i32>i;
  }
  return NONE;
}

/** Whether a process other than the running one could run. */
export function schedOtherRunnable(): bool {
  const next = nextRunnable();
  return next != NONE && next != current;
}

/**
 * Chooses what runs next and returns the kernel address of the context to resume:
 * `frame` itself when the running process continues, else the next process's saved
 * context. The running process's state is saved first when it is still alive. With no
 * runnable process left the machine stops with EXIT_SUCCESS.
 */
export function schedNext(frame: usize): usize {
  const next = nextRunnable();
  if (next == current && next != NONE) return frame;
  if (next == NONE) {
    if (logEnabled(LOG_INFO)) logLine("no runnable process remains: halting");
    machineExit(EXIT_SUCCESS);
    return frame;
  }
  if (current != NONE) {
    const running = processAt(<u32>current);
    memory.copy(processContext(running), frame, TRAP_FRAME_BYTES);
    archFpuSave(processFpu(running));
  }
  const p = processAt(<u32>next);
  archFpuRestore(processFpu(p));
  if (<usize>readCr3() != p.root) writeCr3(<i64>p.root);
  current = next;
  return processContext(p);
}
