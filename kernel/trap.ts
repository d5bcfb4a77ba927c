// Interrupts and exceptions after trap.s saved the frame: the PIT tick (with round-robin
// preemption of ring 3), other IRQs, faults from ring 3 (the process is terminated and
// the reason logged, the kernel goes on) and faults in the kernel (a report, then stop).
import {
  FRAME_VECTOR, FRAME_ERROR, FRAME_RIP, frameGet, frameFromUser,
} from "./arch/x86_64/trapframe";
import { VECTOR_IRQ_BASE, VECTOR_PAGE_FAULT } from "./arch/x86_64/idt";
import { picEoi } from "./arch/x86_64/pic";
import { pitTick } from "./arch/x86_64/pit";
import { readCr2 } from "./arch/x86_64/cpu";
import { schedCurrent, schedNext, schedOtherRunnable } from "./sched/scheduler";
import { processKill, logProcess } from "./proc/exit";
import { kernelFault, kernelPanic, exceptionName } from "./panic";
import { LOG_DEBUG, logEnabled, logPrefix, logStr, logHex, logNl } from "./log";

const IRQ_TIMER: u32 = 0;
const IRQ_COUNT: u32 = 16;
const EXCEPTION_VECTORS: u64 = 32;

function interrupt(frame: usize, irq: u32): usize {
  if (irq == IRQ_TIMER) pitTick();
  picEoi(irq);
  // Preempt only ring 3: the kernel itself runs with IF clear and is never preempted.
  if (irq == IRQ_TIMER && frameFromUser(frame) && schedOtherRunnable()) return schedNext(frame);
  return frame;
}

/** Logs a ring-3 fault and ends the process. */
function userFault(frame: usize): usize {
  const p = schedCurrent();
  if (p == null) {
    kernelPanic("fault in ring 3 with no current process");
    return frame;
  }
  const vector = frameGet(frame, FRAME_VECTOR);
  const error = frameGet(frame, FRAME_ERROR);
  logPrefix();
  logProcess(p);
  logStr(": ");
  logStr(exceptionName(vector));
  // The instruction address changes with every rebuild of the program, so the default
  // log leaves it out (transcripts stay comparable); debug level adds it.
  if (logEnabled(LOG_DEBUG)) {
    logStr(" at rip ");
    logHex(frameGet(frame, FRAME_RIP));
  }
  if (vector == <u64>VECTOR_PAGE_FAULT) {
    logStr(", address ");
    logHex(<u64>readCr2());
    logStr(" (");
    logStr((error & 1) != 0 ? "protection violation" : "not present");
    logStr((error & 2) != 0 ? ", write" : ", read");
    if ((error & 16) != 0) logStr(", instruction fetch");
    logStr(")");
  } else if (error != 0) {
    logStr(", error code ");
    logHex(error);
  }
  logStr(": terminated");
  logNl();
  processKill(p);
  return schedNext(frame);
}

/** The interrupt/exception entry (trap.s): returns the kernel address of the context to resume. */
export function trapEntry(frame: usize): usize {
  const vector = frameGet(frame, FRAME_VECTOR);
  if (vector >= <u64>VECTOR_IRQ_BASE && vector < <u64>(VECTOR_IRQ_BASE + IRQ_COUNT)) {
    return interrupt(frame, <u32>(vector - <u64>VECTOR_IRQ_BASE));
  }
  if (frameFromUser(frame)) return userFault(frame);
  if (vector >= EXCEPTION_VECTORS) {
    // No device raises other vectors; one arriving in the kernel is ignored like a spurious IRQ.
    return frame;
  }
  kernelFault(frame);
  return frame;
}
