// The ring client (docs/abi.md "The ring page"): fills SQEs, makes the kernel
// progress with cap_enter, and matches completions to calls by user_data, in
// whatever order they arrive. It trusts nothing the kernel writes beyond one
// range check, and never blocks unless the caller waits for a call.
import {
  CAP_ENTER_WAIT_FOREVER, CQ_ENTRIES, CQ_OFFSET, CQE_CAP_COUNT_OFF, CQE_FLAGS_OFF, CQE_LEN_OFF, CQE_RESULT_OFF, CQE_SIZE,
  CQE_USER_DATA_OFF, MAX_PARAMS_BYTES, MAX_RESULT_BYTES, OP_CALL, OP_NOP, OP_RELEASE, RING_CQ_ENTRIES_OFF, RING_CQ_HEAD_OFF,
  RING_CQ_OFFSET_OFF, RING_CQ_TAIL_OFF, RING_CQE_SIZE_OFF, RING_MAGIC, RING_MAGIC_OFF, RING_SQ_ENTRIES_OFF, RING_SQ_HEAD_OFF,
  RING_SQ_OFFSET_OFF, RING_SQ_TAIL_OFF, RING_SQE_SIZE_OFF, RING_VERSION, RING_VERSION_OFF, SQ_ENTRIES, SQ_OFFSET, SQE_CAP_ID_OFF,
  SQE_INTERFACE_ID_OFF, SQE_METHOD_ID_OFF, SQE_OPCODE_OFF, SQE_PARAMS_ADDR_OFF, SQE_PARAMS_LEN_OFF, SQE_RESULT_ADDR_OFF,
  SQE_RESULT_LEN_OFF, SQE_SIZE, SQE_USER_DATA_OFF,
} from "../../kernel/abi";
import { capEnter } from "./syscall";
import {
  RT_ERR_BAD_RING, RT_ERR_BUSY, RT_ERR_LOST, RT_ERR_NOT_STARTED, RT_ERR_RING_BROKEN, RT_ERR_SQ_FULL, RT_ERR_TOO_LARGE,
  RT_ERR_UNKNOWN_TOKEN, RT_OK,
} from "./status";

/** A completion as the caller receives it (a copy: the CQ slot is reused at once). */
@unmanaged export class Completion {
  /** The call's token (its SQE's user_data). */
  userData: u64 = 0;
  /** ≥ 0: bytes written to the result buffer; < 0: a CAP_ERR_* transport error. */
  result: i32 = 0;
  flags: u32 = 0;
  /** Result bytes written, or bytes needed (CAP_ERR_RESULT_TOO_SMALL, …_TRUNCATED). */
  len: u32 = 0;
  capCount: u32 = 0;
}

/**
 * Calls in flight at once. Every in-flight call holds at most one SQ entry,
 * one owed completion or one unread CQE, so with no more than CQ_ENTRIES in
 * flight the kernel always has a CQ credit for the next SQE and the ring never
 * stalls.
 */
export const MAX_IN_FLIGHT: u32 = CQ_ENTRIES;

// The in-flight table: one 32-byte record per slot, in static memory.
const SLOT_SIZE: usize = 32;
const SLOT_TOKEN: usize = 0; // u64; 0 = free
const SLOT_STATE: usize = 8; // u32
const SLOT_RESULT: usize = 12; // i32
const SLOT_FLAGS: usize = 16; // u32
const SLOT_LEN: usize = 20; // u32
const SLOT_CAP_COUNT: usize = 24; // u32
const STATE_PENDING: u32 = 1;
const STATE_DONE: u32 = 2;
/** Tokens are (rc.sequence << TOKEN_SLOT_BITS) | slot: unique, never 0, and name their slot directly. */
const TOKEN_SLOT_BITS: u64 = 8;

const slots: usize = memory.data(<i32>(MAX_IN_FLIGHT * <u32>SLOT_SIZE), 16);

@unmanaged class RingClient {
  base: usize = 0;
  /** Our copies of the two indices only we write; the page's copies are for the kernel. */
  sqTail: u32 = 0;
  cqHead: u32 = 0;
  sequence: u64 = 0;
  inFlight: u32 = 0;
  strayCompletions: u32 = 0;
}

// Runtime state lives in static memory, never in mutable globals: asc compiles
// the abort handler (abort.ts, which prints through this ring) before any
// module's top-level code, and everything it reaches must already work then.
const rc: RingClient = changetype<RingClient>(memory.data(<i32>offsetof<RingClient>(), 16));

/**
 * Checks the ring header at `base` against the ABI's geometry and makes it the
 * ring this process submits to. Indices are taken from the page (all zero for
 * a new process).
 */
export function ringAttach(base: usize): i32 {
  if (load<u32>(base + RING_MAGIC_OFF) != RING_MAGIC) return RT_ERR_BAD_RING;
  if (load<u32>(base + RING_VERSION_OFF) != RING_VERSION) return RT_ERR_BAD_RING;
  if (load<u32>(base + RING_SQ_ENTRIES_OFF) != SQ_ENTRIES || load<u32>(base + RING_CQ_ENTRIES_OFF) != CQ_ENTRIES) return RT_ERR_BAD_RING;
  if (load<u32>(base + RING_SQ_OFFSET_OFF) != SQ_OFFSET || load<u32>(base + RING_CQ_OFFSET_OFF) != CQ_OFFSET) return RT_ERR_BAD_RING;
  if (load<u32>(base + RING_SQE_SIZE_OFF) != SQE_SIZE || load<u32>(base + RING_CQE_SIZE_OFF) != CQE_SIZE) return RT_ERR_BAD_RING;
  const tail = load<u32>(base + RING_SQ_TAIL_OFF);
  const head = load<u32>(base + RING_CQ_HEAD_OFF);
  if (tail - load<u32>(base + RING_SQ_HEAD_OFF) > SQ_ENTRIES) return RT_ERR_BAD_RING;
  if (load<u32>(base + RING_CQ_TAIL_OFF) - head > CQ_ENTRIES) return RT_ERR_BAD_RING;
  rc.base = base;
  rc.sqTail = tail;
  rc.cqHead = head;
  memory.fill(slots, 0, <usize>MAX_IN_FLIGHT * SLOT_SIZE);
  rc.inFlight = 0;
  return RT_OK;
}

/** Calls submitted and not yet collected with ringWait / ringPoll. */
export function ringInFlight(): u32 {
  return rc.inFlight;
}

/** Completions whose user_data matched no call in flight (a kernel that invents or repeats completions). */
export function ringStrayCompletions(): u32 {
  return rc.strayCompletions;
}

@inline function slotAt(index: u32): usize {
  return slots + <usize>index * SLOT_SIZE;
}

/** The slot record of a token in flight, or 0. */
function slotOf(token: u64): usize {
  const index = <u32>(token & ((<u64>1 << TOKEN_SLOT_BITS) - 1));
  if (token == 0 || index >= MAX_IN_FLIGHT) return 0;
  const s = slotAt(index);
  return load<u64>(s + SLOT_TOKEN) == token ? s : 0;
}

/**
 * Reads every unread CQE into the in-flight table and hands the CQ slots back
 * to the kernel. Returns the number read, or RT_ERR_RING_BROKEN when the
 * kernel's cq_tail is out of range (then nothing is read).
 */
function reap(): i32 {
  const tail = load<u32>(rc.base + RING_CQ_TAIL_OFF);
  if (tail - rc.cqHead > CQ_ENTRIES) return RT_ERR_RING_BROKEN;
  let n = 0;
  while (rc.cqHead != tail) {
    const cqe = rc.base + CQ_OFFSET + <usize>(rc.cqHead & (CQ_ENTRIES - 1)) * CQE_SIZE;
    const s = slotOf(load<u64>(cqe + CQE_USER_DATA_OFF));
    if (s != 0 && load<u32>(s + SLOT_STATE) == STATE_PENDING) {
      store<i32>(s + SLOT_RESULT, load<i32>(cqe + CQE_RESULT_OFF));
      store<u32>(s + SLOT_FLAGS, load<u32>(cqe + CQE_FLAGS_OFF));
      store<u32>(s + SLOT_LEN, load<u32>(cqe + CQE_LEN_OFF));
      store<u32>(s + SLOT_CAP_COUNT, load<u32>(cqe + CQE_CAP_COUNT_OFF));
      store<u32>(s + SLOT_STATE, STATE_DONE);
    } else {
      rc.strayCompletions++;
    }
    rc.cqHead++;
    n++;
  }
  store<u32>(rc.base + RING_CQ_HEAD_OFF, rc.cqHead);
  return n;
}

/** Copies a finished call out and frees its slot. */
function collect(s: usize, out: Completion): void {
  out.userData = load<u64>(s + SLOT_TOKEN);
  out.result = load<i32>(s + SLOT_RESULT);
  out.flags = load<u32>(s + SLOT_FLAGS);
  out.len = load<u32>(s + SLOT_LEN);
  out.capCount = load<u32>(s + SLOT_CAP_COUNT);
  memory.fill(s, 0, SLOT_SIZE);
  rc.inFlight--;
}

/**
 * Queues one SQE. Returns its token (> 0, the SQE's user_data) or a negative
 * status; nothing reaches the kernel until the next cap_enter (ringFlush,
 * ringWait).
 */
function submit(opcode: u8, capId: u32, methodId: u16, interfaceId: u64, params: usize, paramsLen: u32, result: usize, resultLen: u32): i64 {
  if (rc.base == 0) return RT_ERR_NOT_STARTED;
  let index: u32 = 0;
  while (index < MAX_IN_FLIGHT && load<u64>(slotAt(index) + SLOT_TOKEN) != 0) index++;
  if (index == MAX_IN_FLIGHT) return RT_ERR_BUSY;
  if (rc.sqTail - load<u32>(rc.base + RING_SQ_HEAD_OFF) >= SQ_ENTRIES) {
    // The kernel has not consumed the SQ yet: let it, without waiting.
    const r = reap();
    if (r < 0) return r;
    const entered = capEnter(0, 0);
    if (entered < 0) return entered;
    const again = reap();
    if (again < 0) return again;
    if (rc.sqTail - load<u32>(rc.base + RING_SQ_HEAD_OFF) >= SQ_ENTRIES) return RT_ERR_SQ_FULL;
  }
  rc.sequence++;
  const token = (rc.sequence << TOKEN_SLOT_BITS) | <u64>index;
  const s = slotAt(index);
  store<u64>(s + SLOT_TOKEN, token);
  store<u32>(s + SLOT_STATE, STATE_PENDING);
  rc.inFlight++;

  // The whole SQE is written before sq_tail admits it (fields this opcode does not use stay 0).
  const sqe = rc.base + SQ_OFFSET + <usize>(rc.sqTail & (SQ_ENTRIES - 1)) * SQE_SIZE;
  // Plain stores: the ring page lies above linear memory, where bulk-memory operations
  // trap (their range check is the memory size); loads and stores reach it (docs/abi.md).
  for (let off: usize = 0; off < <usize>SQE_SIZE; off += 8) store<u64>(sqe + off, 0);
  store<u8>(sqe + SQE_OPCODE_OFF, opcode);
  store<u16>(sqe + SQE_METHOD_ID_OFF, methodId);
  store<u32>(sqe + SQE_CAP_ID_OFF, capId);
  store<u64>(sqe + SQE_USER_DATA_OFF, token);
  store<u64>(sqe + SQE_INTERFACE_ID_OFF, interfaceId);
  store<u64>(sqe + SQE_PARAMS_ADDR_OFF, <u64>params);
  store<u64>(sqe + SQE_RESULT_ADDR_OFF, <u64>result);
  store<u32>(sqe + SQE_PARAMS_LEN_OFF, paramsLen);
  store<u32>(sqe + SQE_RESULT_LEN_OFF, resultLen);
  rc.sqTail++;
  store<u32>(rc.base + RING_SQ_TAIL_OFF, rc.sqTail);
  return <i64>token;
}

/**
 * Queues a CALL of `methodId` on `capId` with `paramsLen` bytes of Cap'n Proto
 * params at `params` and a result buffer of `resultLen` bytes at `result`
 * (either may be 0, 0). `interfaceId` (0 = unchecked) makes the kernel refuse
 * a target of another interface. Returns the call's token or a negative status.
 */
export function ringSubmitCall(capId: u32, methodId: u16, interfaceId: u64, params: usize, paramsLen: u32, result: usize, resultLen: u32): i64 {
  if (paramsLen > MAX_PARAMS_BYTES || resultLen > MAX_RESULT_BYTES) return RT_ERR_TOO_LARGE;
  return submit(OP_CALL, capId, methodId, interfaceId, paramsLen == 0 ? 0 : params, paramsLen, resultLen == 0 ? 0 : result, resultLen);
}

/** Queues a NOP (completes with result 0). */
export function ringSubmitNop(): i64 {
  return submit(OP_NOP, 0, 0, 0, 0, 0, 0, 0);
}

/** Queues a RELEASE of `capId`. */
export function ringSubmitRelease(capId: u32): i64 {
  return submit(OP_RELEASE, capId, 0, 0, 0, 0, 0, 0);
}

/**
 * Hands every queued SQE to the kernel without waiting and reads whatever has
 * completed. Returns the number of completions read, or a negative status.
 */
export function ringFlush(): i32 {
  if (rc.base == 0) return RT_ERR_NOT_STARTED;
  const r = capEnter(0, 0);
  if (r < 0) return <i32>r;
  return reap();
}

/**
 * If the call `token` has completed, copies its completion to `out`, forgets
 * the token and returns 1; returns 0 while it is pending (this does not enter
 * the kernel), or a negative status.
 */
export function ringPoll(token: u64, out: Completion): i32 {
  if (rc.base == 0) return RT_ERR_NOT_STARTED;
  const s = slotOf(token);
  if (s == 0) return RT_ERR_UNKNOWN_TOKEN;
  const r = reap();
  if (r < 0) return r;
  if (load<u32>(s + SLOT_STATE) != STATE_DONE) return 0;
  collect(s, out);
  return 1;
}

/**
 * Waits until the call `token` completes, copies its completion to `out` and
 * forgets the token. Completions of other calls that arrive meanwhile are kept
 * for their own ringWait / ringPoll. Returns RT_OK (the call's own outcome is
 * `out.result`) or a negative status.
 */
export function ringWait(token: u64, out: Completion): i32 {
  if (rc.base == 0) return RT_ERR_NOT_STARTED;
  const s = slotOf(token);
  if (s == 0) return RT_ERR_UNKNOWN_TOKEN;
  while (true) {
    const r = reap();
    if (r < 0) return r;
    if (load<u32>(s + SLOT_STATE) == STATE_DONE) {
      collect(s, out);
      return RT_OK;
    }
    const available = capEnter(1, CAP_ENTER_WAIT_FOREVER);
    if (available < 0) return <i32>available;
    if (available == 0) {
      // cap_enter returns 0 without waiting only when nothing the kernel owes
      // can arrive: this call will never complete.
      const last = reap();
      if (last < 0) return last;
      if (load<u32>(s + SLOT_STATE) != STATE_DONE) return RT_ERR_LOST;
    }
  }
}

/** Submits a CALL and waits for it: ringSubmitCall then ringWait. */
export function ringCall(capId: u32, methodId: u16, interfaceId: u64, params: usize, paramsLen: u32, result: usize, resultLen: u32, out: Completion): i32 {
  const token = ringSubmitCall(capId, methodId, interfaceId, params, paramsLen, result, resultLen);
  if (token < 0) return <i32>token;
  return ringWait(<u64>token, out);
}
