// The two syscalls: cap_enter (drive the caller's ring: consume SQEs, run CALLs, post
// CQEs) and exit. Arguments come from the trap frame and the result goes back in RAX;
// nothing here trusts a user register or a ring field beyond what ring.ts validated.
import {
  SYS_EXIT, SYS_CAP_ENTER, SQ_ENTRIES, CAP_OK, CAP_ERR_INVALID_ARGUMENT, CAP_ERR_RING_CORRUPT,
  CAP_ERR_UNKNOWN_SYSCALL, CAP_ERR_BAD_BUFFER, CAP_ERR_RESULT_TOO_SMALL, CAP_ERR_APPLICATION_EXCEPTION,
  CAP_ERR_APPLICATION_EXCEPTION_TRUNCATED,
} from "./abi";
import {
  REQUEST_BYTES, Request, NEXT_CALL, NEXT_EMPTY, NEXT_CQ_FULL, NEXT_CORRUPT, COMPLETE_DEFERRED,
  capEnterCheck, ringCheck, ringNext, ringComplete, ringAvailable,
} from "./cap/ring";
import { copyFromUser, copyToUser } from "./mem/user";
import { callBegin, callParamsBuffer, CALL_RESULTS } from "./cap/call";
import { dispatchCall } from "./cap/dispatch";
import { Process, processRing } from "./proc/process";
import { processExit } from "./proc/exit";
import { schedCurrent, schedNext } from "./sched/scheduler";
import { FRAME_RAX, FRAME_RDI, frameGet, frameSet } from "./arch/x86_64/trapframe";
import { kernelPanic } from "./panic";

const request: usize = memory.data(<i32>REQUEST_BYTES, 16);

/**
 * Finishes a validated CALL (ringNext returned NEXT_CALL): copies the params in,
 * dispatches, copies the reply out as docs/abi.md's CALL outcome table says, and
 * posts the completion.
 */
function completeCall(p: Process, ring: usize): void {
  const q = changetype<Request>(request);
  const params = callParamsBuffer();
  let result: i32;
  let length: u32 = 0;
  if (!copyFromUser(p.root, params, q.paramsAddr, q.paramsLen)) {
    result = CAP_ERR_BAD_BUFFER;
  } else {
    const out = callBegin();
    const kind = dispatchCall(q.slotInterfaceId, q.object, q.methodId, params, q.paramsLen);
    const n = out.length;
    if (kind == CALL_RESULTS) {
      if (q.resultLen == 0) {
        result = 0; // the caller asked for no results
      } else if (n > q.resultLen) {
        result = CAP_ERR_RESULT_TOO_SMALL;
        length = n;
      } else if (copyToUser(p.root, q.resultAddr, out.buffer, n)) {
        result = <i32>n;
        length = n;
      } else {
        result = CAP_ERR_BAD_BUFFER;
      }
    } else if (n > q.resultLen) {
      result = CAP_ERR_APPLICATION_EXCEPTION_TRUNCATED;
      length = n;
    } else if (copyToUser(p.root, q.resultAddr, out.buffer, n)) {
      result = CAP_ERR_APPLICATION_EXCEPTION;
      length = n;
    } else {
      result = CAP_ERR_BAD_BUFFER;
    }
  }
  // ringNext reserved a CQ entry for this completion and nothing ran in between, so
  // posting cannot be deferred; if it were, a completion would be lost.
  if (ringComplete(ring, q.userData, result, length, 0, 0) == COMPLETE_DEFERRED) {
    kernelPanic("cap_enter: a reserved completion found the CQ full");
  }
}

/**
 * cap_enter(min_complete, timeout_ns). Every operation of this ABI version completes
 * while its SQE is consumed, so the wait of docs/abi.md step 5 never has anything to
 * wait for: ringMustWait() is false once the SQEs are processed, and the call returns
 * the available completions at once.
 */
function capEnter(p: Process, minComplete: u64): i64 {
  if (capEnterCheck(minComplete) != CAP_OK) return CAP_ERR_INVALID_ARGUMENT;
  const ring = processRing(p);
  if (ringCheck(ring) != CAP_OK) return CAP_ERR_RING_CORRUPT;
  for (let i: u32 = 0; i < SQ_ENTRIES; i++) {
    const outcome = ringNext(ring, p.table, p.root, request);
    if (outcome == NEXT_CALL) completeCall(p, ring);
    else if (outcome == NEXT_EMPTY || outcome == NEXT_CQ_FULL) break;
    else if (outcome == NEXT_CORRUPT) return CAP_ERR_RING_CORRUPT;
    // NEXT_DONE, NEXT_RELEASED: the CQE is posted; the kernel objects of this
    // milestone are singletons, so a released hold has nothing to free.
  }
  return <i64>ringAvailable(ring);
}

/** The syscall entry (syscall.s): returns the kernel address of the context to resume. */
export function syscallEntry(frame: usize): usize {
  const p = schedCurrent();
  if (p == null) {
    kernelPanic("syscall with no current process");
    return frame;
  }
  const number = frameGet(frame, FRAME_RAX);
  if (number == <u64>SYS_CAP_ENTER) {
    frameSet(frame, FRAME_RAX, <u64>capEnter(p, frameGet(frame, FRAME_RDI)));
    return frame;
  }
  if (number == <u64>SYS_EXIT) {
    processExit(p, <i64>frameGet(frame, FRAME_RDI));
    return schedNext(frame);
  }
  frameSet(frame, FRAME_RAX, <u64><i64>CAP_ERR_UNKNOWN_SYSCALL);
  return frame;
}
