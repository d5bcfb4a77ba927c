// Ending a process: by its own exit(code) or because it faulted. It logs why, leaves
// the process's address space, releases everything the process held and forgets it as
// the running process; the caller then asks the scheduler what runs next.
import { Process, processName, processRelease } from "./process";
import { schedCurrent, schedDropCurrent } from "../sched/scheduler";
import { kernelSpaceRoot } from "../mem/address-space";
import { readCr3, writeCr3 } from "../arch/x86_64/cpu";
import { LOG_INFO, logEnabled, logPrefix, logStr, logBytes, logDec, logSigned, logNl } from "../log";

/** Logs "<name> (pid N)" for a process. */
export function logProcess(p: Process): void {
  logBytes(processName(p), p.nameLength);
  logStr(" (pid ");
  logDec(<u64>p.pid);
  logStr(")");
}

function release(p: Process): void {
  if (<usize>readCr3() == p.root) writeCr3(<i64>kernelSpaceRoot());
  const running = schedCurrent();
  const wasCurrent = running != null && changetype<usize>(running) == changetype<usize>(p);
  processRelease(p);
  if (wasCurrent) schedDropCurrent();
}

/** The process called exit(code). */
export function processExit(p: Process, code: i64): void {
  if (logEnabled(LOG_INFO)) {
    logPrefix();
    logProcess(p);
    logStr(" exited with status ");
    logSigned(code);
    logNl();
  }
  release(p);
}

/** The process faulted; the caller has logged the fault. */
export function processKill(p: Process): void {
  release(p);
}
