// hostile: feeds the kernel every kind of bad input this ABI version can express — each
// SQE field malformed, stale and forged CapIds, buffers in the kernel half, unmapped,
// read-only or wrapping memory, corrupt ring indices, a full CQ, a NOP flood — and checks
// each gets its documented error (docs/abi.md) while the kernel keeps serving. It writes
// SQEs itself (the runtime's ring client refuses bad ones) and prints one line per case.
import {
  RING_VADDR, CAPSET_VADDR, KERNEL_HALF_BASE, USER_LIMIT, SQ_ENTRIES, CQ_ENTRIES, SQ_OFFSET, CQ_OFFSET, SQE_SIZE, CQE_SIZE,
  RING_SQ_HEAD_OFF, RING_SQ_TAIL_OFF, RING_CQ_HEAD_OFF, RING_CQ_TAIL_OFF, RING_FLAGS_OFF, RING_CQ_STALLS_OFF,
  RING_CORRUPT_EVENTS_OFF, RING_FLAG_SQ_CORRUPT, RING_FLAG_CQ_CORRUPT, RING_FLAG_CQ_STALLED,
  SQE_OPCODE_OFF, SQE_FLAGS_OFF, SQE_METHOD_ID_OFF, SQE_CAP_ID_OFF, SQE_USER_DATA_OFF, SQE_INTERFACE_ID_OFF,
  SQE_PARAMS_ADDR_OFF, SQE_RESULT_ADDR_OFF, SQE_PARAMS_LEN_OFF, SQE_RESULT_LEN_OFF, SQE_CALL_ID_OFF, SQE_XFER_CAP_COUNT_OFF,
  SQE_PIPELINE_FIELD_OFF, SQE_PIPELINE_DEP_OFF, SQE_RESERVED_OFF, CQE_USER_DATA_OFF, CQE_RESULT_OFF, CQE_LEN_OFF,
  OP_CALL, OP_RECV, OP_RETURN, OP_RELEASE, OP_FINISH, OP_NOP, MAX_PARAMS_BYTES, MAX_RESULT_BYTES, SYS_CAP_ENTER,
  CAP_ERR_INVALID_REQUEST, CAP_ERR_UNSUPPORTED_OPCODE, CAP_ERR_INVALID_CAP, CAP_ERR_STALE_CAP, CAP_ERR_WRONG_INTERFACE,
  CAP_ERR_BUFFER_TOO_LARGE, CAP_ERR_BAD_BUFFER, CAP_ERR_TRANSFER_NOT_SUPPORTED, CAP_ERR_APPLICATION_EXCEPTION,
  CAP_ERR_APPLICATION_EXCEPTION_TRUNCATED, CAP_ERR_RESULT_TOO_SMALL, CAP_ERR_INVALID_ARGUMENT, CAP_ERR_RING_CORRUPT,
  CAP_ERR_UNKNOWN_SYSCALL,
} from "../../kernel/abi";
import { MessageBuilder, MessageReader, TextReader, OK } from "../../schema/as/runtime/index";
import {
  Console, Console_WriteLineParamsBuilder, Timer, CapExceptionReader, ExceptionType,
} from "../../schema/as/capos";
import { print, ringAttach, capByName, RT_OK } from "../rt/index";

// @ts-ignore: decorator
@external("cpu", "syscall2") declare function syscall2(nr: i64, a1: i64, a2: i64): i64;

const RING: usize = <usize>RING_VADDR;

// ---------------------------------------------------------------------------
// A raw ring client: writes any SQE it is told to, reads CQEs in order.

/** The SQE the next submit() writes, field by field (static memory, zeroed by sqeClear). */
const sqe: usize = memory.data(<i32>SQE_SIZE, 16);

function sqeClear(opcode: u32): void {
  memory.fill(sqe, 0, SQE_SIZE);
  store<u8>(sqe + SQE_OPCODE_OFF, <u8>opcode);
}

function sqeCall(capId: u32, methodId: u32, params: u64, paramsLen: u32, result: u64, resultLen: u32): void {
  sqeClear(OP_CALL);
  store<u32>(sqe + SQE_CAP_ID_OFF, capId);
  store<u16>(sqe + SQE_METHOD_ID_OFF, <u16>methodId);
  store<u64>(sqe + SQE_PARAMS_ADDR_OFF, params);
  store<u32>(sqe + SQE_PARAMS_LEN_OFF, paramsLen);
  store<u64>(sqe + SQE_RESULT_ADDR_OFF, result);
  store<u32>(sqe + SQE_RESULT_LEN_OFF, resultLen);
}

let nextUserData: u64 = 0x1000;

/** Copies the prepared SQE into the SQ and admits it. Returns its user_data. */
function submit(): u64 {
  const tail = load<u32>(RING + RING_SQ_TAIL_OFF);
  const userData = nextUserData++;
  store<u64>(sqe + SQE_USER_DATA_OFF, userData);
  // Plain stores: bulk-memory operations cannot reach the ring page (it lies above linear memory).
  const slot = RING + SQ_OFFSET + <usize>(tail & (SQ_ENTRIES - 1)) * SQE_SIZE;
  for (let off: usize = 0; off < <usize>SQE_SIZE; off += 8) store<u64>(slot + off, load<u64>(sqe + off));
  store<u32>(RING + RING_SQ_TAIL_OFF, tail + 1);
  return userData;
}

function capEnter(minComplete: u64, timeoutNs: u64): i64 {
  return syscall2(<i64>SYS_CAP_ENTER, <i64>minComplete, <i64>timeoutNs);
}

// The last CQE taken.
let cqeUserData: u64 = 0;
let cqeResult: i32 = 0;
let cqeLen: u32 = 0;

/** Reads the CQE at cq_head and consumes it; false when none is unread. */
function take(): bool {
  const head = load<u32>(RING + RING_CQ_HEAD_OFF);
  if (load<u32>(RING + RING_CQ_TAIL_OFF) == head) return false;
  const cqe = RING + CQ_OFFSET + <usize>(head & (CQ_ENTRIES - 1)) * CQE_SIZE;
  cqeUserData = load<u64>(cqe + CQE_USER_DATA_OFF);
  cqeResult = load<i32>(cqe + CQE_RESULT_OFF);
  cqeLen = load<u32>(cqe + CQE_LEN_OFF);
  store<u32>(RING + RING_CQ_HEAD_OFF, head + 1);
  return true;
}

/** Sentinel results of run() when the ring itself misbehaved (outside the CAP_ERR range). */
const NO_COMPLETION: i32 = -1000;
const WRONG_COMPLETION: i32 = -1001;

/** Submits the prepared SQE, lets the kernel run it and returns its CQE's result. */
function run(): i32 {
  const userData = submit();
  const entered = capEnter(1, 0);
  if (entered < 0) return <i32>entered;
  if (!take()) return NO_COMPLETION;
  return cqeUserData == userData ? cqeResult : WRONG_COMPLETION;
}

// ---------------------------------------------------------------------------
// Messages and buffers.

const paramsBuffer: usize = memory.data(256, 16);
let paramsLength: u32 = 0;
const resultBuffer: usize = memory.data(256, 16);
const builder = changetype<MessageBuilder>(memory.data(<i32>offsetof<MessageBuilder>(), 16));
const lineParams = changetype<Console_WriteLineParamsBuilder>(memory.data(<i32>offsetof<Console_WriteLineParamsBuilder>(), 16));
const reader = changetype<MessageReader>(memory.data(<i32>offsetof<MessageReader>(), 16));
const exception = changetype<CapExceptionReader>(memory.data(<i32>offsetof<CapExceptionReader>(), 16));
const text = changetype<TextReader>(memory.data(<i32>offsetof<TextReader>(), 16));

/** Console.writeLine params for `s` in paramsBuffer. */
function lineMessage(s: string): void {
  builder.init(paramsBuffer, 256);
  lineParams.makeRoot(builder);
  lineParams.setTextString(s);
  paramsLength = builder.byteLength();
}

/** The CapException type in resultBuffer (cqeLen bytes), or 0xFFFF when it does not decode. */
function exceptionType(): u32 {
  if (reader.init(resultBuffer, cqeLen) != OK || exception.readRoot(reader) != OK) return 0xFFFF;
  if (exception.getMessage(text) != OK) return 0xFFFF;
  return <u32>exception.getType();
}

// ---------------------------------------------------------------------------
// Reporting.

let passed: u32 = 0;
let failed: u32 = 0;

function say(s: string): void {
  // The raw client moved the ring's indices; the runtime's client re-reads them.
  ringAttach(RING);
  print(s);
}

function errorName(code: i64): string {
  switch (<i32>code) {
    case 0: return "ok";
    case CAP_ERR_INVALID_REQUEST: return "INVALID_REQUEST";
    case CAP_ERR_UNSUPPORTED_OPCODE: return "UNSUPPORTED_OPCODE";
    case CAP_ERR_INVALID_CAP: return "INVALID_CAP";
    case CAP_ERR_STALE_CAP: return "STALE_CAP";
    case CAP_ERR_WRONG_INTERFACE: return "WRONG_INTERFACE";
    case CAP_ERR_BUFFER_TOO_LARGE: return "BUFFER_TOO_LARGE";
    case CAP_ERR_BAD_BUFFER: return "BAD_BUFFER";
    case CAP_ERR_TRANSFER_NOT_SUPPORTED: return "TRANSFER_NOT_SUPPORTED";
    case CAP_ERR_APPLICATION_EXCEPTION: return "APPLICATION_EXCEPTION";
    case CAP_ERR_APPLICATION_EXCEPTION_TRUNCATED: return "APPLICATION_EXCEPTION_TRUNCATED";
    case CAP_ERR_RESULT_TOO_SMALL: return "RESULT_TOO_SMALL";
    case CAP_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case CAP_ERR_RING_CORRUPT: return "RING_CORRUPT";
    case CAP_ERR_UNKNOWN_SYSCALL: return "UNKNOWN_SYSCALL";
    case NO_COMPLETION: return "no completion";
    case WRONG_COMPLETION: return "a completion for another SQE";
    default: return code.toString();
  }
}

/** The kernel still serves this ring: a NOP completes with 0. */
function kernelServes(): bool {
  sqeClear(OP_NOP);
  return run() == 0;
}

/** Records one case: `actual` must be `expected`, and the kernel must still serve NOPs. */
function check(name: string, actual: i64, expected: i64): void {
  const alive = kernelServes();
  if (actual == expected && alive) {
    passed++;
    say("hostile: " + name + ": " + errorName(expected));
  } else {
    failed++;
    say("hostile: " + name + ": FAILED: expected " + errorName(expected) + ", got " + errorName(actual) + (alive ? "" : "; NOP no longer completes"));
  }
}

/** Records a case that is a condition rather than an error code. */
function checkThat(name: string, ok: bool, what: string): void {
  if (ok && kernelServes()) {
    passed++;
    say("hostile: " + name + ": " + what);
  } else {
    failed++;
    say("hostile: " + name + ": FAILED: " + what);
  }
}

// ---------------------------------------------------------------------------
// The cases.

function opcodes(console: u32): void {
  const bad: u32[] = [0, 7, 255];
  for (let i = 0; i < bad.length; i++) {
    sqeClear(bad[i]);
    check("opcode " + bad[i].toString(), run(), CAP_ERR_UNSUPPORTED_OPCODE);
  }
  sqeClear(OP_FINISH);
  check("FINISH (reserved)", run(), CAP_ERR_UNSUPPORTED_OPCODE);
  sqeCall(console, Console.Method.writeLine, 0, 0, 0, 0);
  store<u8>(sqe + SQE_OPCODE_OFF, <u8>OP_RECV);
  check("RECV (next milestone)", run(), CAP_ERR_UNSUPPORTED_OPCODE);
  sqeCall(console, Console.Method.writeLine, 0, 0, 0, 0);
  store<u8>(sqe + SQE_OPCODE_OFF, <u8>OP_RETURN);
  check("RETURN (next milestone)", run(), CAP_ERR_UNSUPPORTED_OPCODE);
}

function reservedFields(console: u32): void {
  lineMessage("hostile: this line must never appear");
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u8>(sqe + SQE_FLAGS_OFF, 1);
  check("CALL flags = 1", run(), CAP_ERR_INVALID_REQUEST);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u32>(sqe + SQE_CALL_ID_OFF, 1);
  check("CALL call_id = 1", run(), CAP_ERR_INVALID_REQUEST);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u16>(sqe + SQE_PIPELINE_FIELD_OFF, 1);
  check("CALL pipeline_field = 1", run(), CAP_ERR_INVALID_REQUEST);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u32>(sqe + SQE_PIPELINE_DEP_OFF, 1);
  check("CALL pipeline_dep = 1", run(), CAP_ERR_INVALID_REQUEST);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u32>(sqe + SQE_RESERVED_OFF, 0x8000_0000);
  check("CALL reserved = 0x80000000", run(), CAP_ERR_INVALID_REQUEST);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u16>(sqe + SQE_XFER_CAP_COUNT_OFF, 1);
  check("CALL xfer_cap_count = 1", run(), CAP_ERR_TRANSFER_NOT_SUPPORTED);
  sqeClear(OP_NOP);
  store<u32>(sqe + SQE_CAP_ID_OFF, console);
  check("NOP with a cap_id", run(), CAP_ERR_INVALID_REQUEST);
  sqeClear(OP_NOP);
  store<u32>(sqe + SQE_PARAMS_LEN_OFF, 8);
  check("NOP with params_len", run(), CAP_ERR_INVALID_REQUEST);
  sqeClear(OP_NOP);
  store<u64>(sqe + SQE_INTERFACE_ID_OFF, Console.INTERFACE_ID);
  check("NOP with interface_id", run(), CAP_ERR_INVALID_REQUEST);
  sqeClear(OP_RELEASE);
  store<u32>(sqe + SQE_CAP_ID_OFF, console);
  store<u16>(sqe + SQE_METHOD_ID_OFF, 1);
  check("RELEASE with method_id", run(), CAP_ERR_INVALID_REQUEST);
}

function capIds(console: u32, log: u32): void {
  lineMessage("hostile: this line must never appear");
  sqeCall(0, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  check("CapId 0", run(), CAP_ERR_INVALID_CAP);
  sqeCall(0x01FF_FFFF, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  check("CapId index 0xffffff (beyond the table)", run(), CAP_ERR_INVALID_CAP);
  sqeCall(0x0100_0040, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  check("CapId of a slot never issued", run(), CAP_ERR_INVALID_CAP);
  sqeCall((console & 0x00FF_FFFF) | 0x0700_0000, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  check("CapId with a forged generation", run(), CAP_ERR_STALE_CAP);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  store<u64>(sqe + SQE_INTERFACE_ID_OFF, Timer.INTERFACE_ID);
  check("CALL expecting the wrong interface", run(), CAP_ERR_WRONG_INTERFACE);
  sqeClear(OP_RELEASE);
  store<u32>(sqe + SQE_CAP_ID_OFF, log);
  check("RELEASE of \"log\"", run(), 0);
  sqeCall(log, Console.Method.writeLine, paramsBuffer, paramsLength, 0, 0);
  check("CALL on the released \"log\"", run(), CAP_ERR_STALE_CAP);
  sqeClear(OP_RELEASE);
  store<u32>(sqe + SQE_CAP_ID_OFF, log);
  check("RELEASE of \"log\" again", run(), CAP_ERR_STALE_CAP);
}

function buffers(console: u32): void {
  lineMessage("hostile: this line must never appear");
  sqeCall(console, Console.Method.writeLine, KERNEL_HALF_BASE, paramsLength, 0, 0);
  check("params in the kernel half", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, 0xFFFF_FFFF_8010_0000, paramsLength, 0, 0);
  check("params in the kernel image", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, 0x0000_0000_8000_0000, paramsLength, 0, 0);
  check("params in unmapped memory", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, CAPSET_VADDR, 64);
  check("result in the read-only CapSet page", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, KERNEL_HALF_BASE + 0x1000, 64);
  check("result in the kernel half", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, 0xFFFF_FFFF_FFFF_FF00, 0x200, 0, 0);
  check("params range wrapping around 2^64", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, USER_LIMIT - 8, 16, 0, 0);
  check("params range crossing USER_LIMIT", run(), CAP_ERR_BAD_BUFFER);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, MAX_PARAMS_BYTES + 1, 0, 0);
  check("params_len above the maximum", run(), CAP_ERR_BUFFER_TOO_LARGE);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, resultBuffer, MAX_RESULT_BYTES + 1);
  check("result_len above the maximum", run(), CAP_ERR_BUFFER_TOO_LARGE);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, 0, 0, 0);
  check("params length 0 with an address", run(), CAP_ERR_INVALID_REQUEST);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, resultBuffer, 0);
  check("result length 0 with an address", run(), CAP_ERR_INVALID_REQUEST);

  // Accepted shapes: the kernel has no alignment rules, and may write results into the ring page.
  lineMessage("hostile: params at an odd address arrive intact");
  memory.copy(paramsBuffer + 1, paramsBuffer, paramsLength);
  sqeCall(console, Console.Method.writeLine, paramsBuffer + 1, paramsLength, 0, 0);
  check("params at an odd address", run(), 0);
  lineMessage("hostile: results may land in the ring page's spare bytes");
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, RING_VADDR + 0x900, 64);
  check("result in the ring page (16-byte results)", run(), 16);
  sqeCall(console, Console.Method.writeLine, CAPSET_VADDR, 64, resultBuffer, 256);
  const got = run();
  check("params from the CapSet page (not a message)", got, CAP_ERR_APPLICATION_EXCEPTION);
}

function methods(console: u32, timer: u32): void {
  lineMessage("hostile: this line must never appear");
  sqeCall(console, 7, paramsBuffer, paramsLength, resultBuffer, 256);
  const unknown = run();
  const unknownType = exceptionType();
  check("Console method 7", unknown, CAP_ERR_APPLICATION_EXCEPTION);
  checkThat("Console method 7 exception type", unknownType == ExceptionType.unimplemented, "unimplemented");
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, resultBuffer, 8);
  store<u16>(sqe + SQE_METHOD_ID_OFF, 9);
  const truncated = run();
  check("exception larger than the result buffer", truncated, CAP_ERR_APPLICATION_EXCEPTION_TRUNCATED);
  memory.fill(paramsBuffer, 0xAB, 64);
  sqeCall(console, Console.Method.writeLine, paramsBuffer, 64, resultBuffer, 256);
  const garbage = run();
  const garbageType = exceptionType();
  check("params that are not Cap'n Proto", garbage, CAP_ERR_APPLICATION_EXCEPTION);
  checkThat("malformed params exception type", garbageType == ExceptionType.failed, "failed");
  lineMessage("hostile: a reply that does not fit is refused after the call ran");
  sqeCall(console, Console.Method.writeLine, paramsBuffer, paramsLength, resultBuffer, 8);
  const small = run();
  const needed = cqeLen;
  check("results larger than the result buffer", small, CAP_ERR_RESULT_TOO_SMALL);
  checkThat("RESULT_TOO_SMALL reports the size needed", needed == 16, "len 16");
  if (timer != 0) {
    sqeCall(timer, Timer.Method.now, 0, 0, resultBuffer, 256);
    const unserved = run();
    const unservedType = exceptionType();
    check("Timer (not served yet)", unserved, CAP_ERR_APPLICATION_EXCEPTION);
    checkThat("Timer exception type", unservedType == ExceptionType.unimplemented, "unimplemented");
  }
}

function syscalls(): void {
  check("cap_enter min_complete 33", capEnter(33, 0), CAP_ERR_INVALID_ARGUMENT);
  check("cap_enter min_complete 2^63", capEnter(0x8000_0000_0000_0000, 0), CAP_ERR_INVALID_ARGUMENT);
  check("syscall 0", syscall2(0, 0, 0), CAP_ERR_UNKNOWN_SYSCALL);
  check("syscall 99", syscall2(99, 1, 2), CAP_ERR_UNKNOWN_SYSCALL);
}

function ringIndices(): void {
  const head = load<u32>(RING + RING_SQ_HEAD_OFF);
  const events = load<u32>(RING + RING_CORRUPT_EVENTS_OFF);
  store<u32>(RING + RING_SQ_TAIL_OFF, head + 17);
  const sqResult = capEnter(0, 0);
  const sqFlag = (load<u32>(RING + RING_FLAGS_OFF) & RING_FLAG_SQ_CORRUPT) != 0;
  store<u32>(RING + RING_SQ_TAIL_OFF, head);
  check("sq_tail 17 ahead of sq_head", sqResult, CAP_ERR_RING_CORRUPT);
  checkThat("sq corruption is flagged and counted", sqFlag && load<u32>(RING + RING_CORRUPT_EVENTS_OFF) == events + 1, "flag and counter");

  const head2 = load<u32>(RING + RING_SQ_HEAD_OFF);
  store<u32>(RING + RING_SQ_TAIL_OFF, head2 - 1);
  const behind = capEnter(0, 0);
  store<u32>(RING + RING_SQ_TAIL_OFF, head2);
  check("sq_tail behind sq_head", behind, CAP_ERR_RING_CORRUPT);

  const cqHead = load<u32>(RING + RING_CQ_HEAD_OFF);
  store<u32>(RING + RING_CQ_HEAD_OFF, cqHead + 5);
  const cqResult = capEnter(0, 0);
  const cqFlag = (load<u32>(RING + RING_FLAGS_OFF) & RING_FLAG_CQ_CORRUPT) != 0;
  store<u32>(RING + RING_CQ_HEAD_OFF, cqHead);
  check("cq_head ahead of cq_tail", cqResult, CAP_ERR_RING_CORRUPT);
  checkThat("cq corruption is flagged", cqFlag, "flag");

  // The kernel's own fields are published, never read back: overwriting them changes nothing.
  store<u32>(RING + RING_SQ_HEAD_OFF, 0xDEAD);
  store<u32>(RING + RING_CQ_TAIL_OFF, load<u32>(RING + RING_CQ_HEAD_OFF));
  sqeClear(OP_NOP);
  const forged = run();
  check("forged sq_head and cq_tail are ignored", forged, 0);
  checkThat("corrupt flags clear once indices are in range", (load<u32>(RING + RING_FLAGS_OFF) & 3) == 0, "flags clear");
}

function cqOverflow(): void {
  // 48 NOPs with nobody reading completions: 32 fit the CQ, 16 must wait in the SQ.
  const first = nextUserData;
  for (let round = 0; round < 3; round++) {
    for (let i: u32 = 0; i < SQ_ENTRIES; i++) {
      sqeClear(OP_NOP);
      submit();
    }
    capEnter(0, 0);
  }
  const stalled = (load<u32>(RING + RING_FLAGS_OFF) & RING_FLAG_CQ_STALLED) != 0;
  const waiting = load<u32>(RING + RING_SQ_TAIL_OFF) - load<u32>(RING + RING_SQ_HEAD_OFF);
  const stalls = load<u32>(RING + RING_CQ_STALLS_OFF);
  let inOrder = true;
  let count: u32 = 0;
  while (take()) {
    if (cqeUserData != first + count || cqeResult != 0) inOrder = false;
    count++;
  }
  capEnter(0, 0);
  while (take()) {
    if (cqeUserData != first + count || cqeResult != 0) inOrder = false;
    count++;
  }
  checkThat("CQ full: the SQ waits, flagged", stalled && waiting == SQ_ENTRIES && stalls >= 1, "16 SQEs held back, CQ_STALLED");
  checkThat("CQ full: no completion lost or reordered", inOrder && count == 3 * SQ_ENTRIES, "48 of 48 in order");
}

function nopFlood(): void {
  const total: u32 = 10_000;
  let done: u32 = 0;
  let bad: u32 = 0;
  while (done < total) {
    for (let i: u32 = 0; i < SQ_ENTRIES; i++) {
      sqeClear(OP_NOP);
      submit();
    }
    capEnter(SQ_ENTRIES, 0);
    while (take()) {
      if (cqeResult != 0) bad++;
      done++;
    }
  }
  checkThat("flood of " + total.toString() + " NOPs", bad == 0 && done == total, "all completed with 0");
}

export function main(): i32 {
  const console = capByName("console", Console.INTERFACE_ID);
  if (console == 0) return 1;
  const log = capByName("log", Console.INTERFACE_ID);
  const timer = capByName("timer", Timer.INTERFACE_ID);
  if (print("hostile: feeding the kernel bad input; each line names the error it must get") != RT_OK) return 1;
  opcodes(console);
  reservedFields(console);
  if (log != 0) capIds(console, log);
  buffers(console);
  methods(console, timer);
  syscalls();
  ringIndices();
  cqOverflow();
  nopFlood();
  say("hostile: " + passed.toString() + " cases passed, " + failed.toString() + " failed");
  if (failed != 0) return 1;
  say("hostile: last, a store to the read-only CapSet page: the kernel must end this process, not itself");
  store<u32>(<usize>CAPSET_VADDR, 0);
  return 2;
}
