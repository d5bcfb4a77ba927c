// The ring's kernel side: own SQ head / CQ tail, one-read SQE copies validated field by
// field, CQ credits (an SQE is consumed only when its CQE has a reserved entry), CQE posting.
// It never trusts a user-writable value twice, never runs methods, never overwrites an unread CQE.
import {
  SQ_ENTRIES,
  CQ_ENTRIES,
  SQE_SIZE,
  CQE_SIZE,
  SQ_OFFSET,
  CQ_OFFSET,
  PAGE_SIZE,
  RING_MAGIC,
  RING_VERSION,
  RING_MAGIC_OFF,
  RING_VERSION_OFF,
  RING_SQ_ENTRIES_OFF,
  RING_CQ_ENTRIES_OFF,
  RING_SQ_OFFSET_OFF,
  RING_CQ_OFFSET_OFF,
  RING_SQE_SIZE_OFF,
  RING_CQE_SIZE_OFF,
  RING_SQ_HEAD_OFF,
  RING_SQ_TAIL_OFF,
  RING_CQ_HEAD_OFF,
  RING_CQ_TAIL_OFF,
  RING_FLAGS_OFF,
  RING_CQ_STALLS_OFF,
  RING_CORRUPT_EVENTS_OFF,
  RING_FLAG_SQ_CORRUPT,
  RING_FLAG_CQ_CORRUPT,
  RING_FLAG_CQ_STALLED,
  SQE_OPCODE_OFF,
  SQE_FLAGS_OFF,
  SQE_METHOD_ID_OFF,
  SQE_CAP_ID_OFF,
  SQE_USER_DATA_OFF,
  SQE_INTERFACE_ID_OFF,
  SQE_PARAMS_ADDR_OFF,
  SQE_RESULT_ADDR_OFF,
  SQE_PARAMS_LEN_OFF,
  SQE_RESULT_LEN_OFF,
  SQE_CALL_ID_OFF,
  SQE_XFER_CAP_COUNT_OFF,
  SQE_PIPELINE_FIELD_OFF,
  SQE_PIPELINE_DEP_OFF,
  SQE_RESERVED_OFF,
  CQE_USER_DATA_OFF,
  CQE_RESULT_OFF,
  CQE_FLAGS_OFF,
  CQE_LEN_OFF,
  CQE_CAP_COUNT_OFF,
  CQE_RESERVED_OFF,
  OP_CALL,
  OP_RELEASE,
  OP_NOP,
  MAX_PARAMS_BYTES,
  MAX_RESULT_BYTES,
  CAP_OK,
  CAP_ERR_INVALID_REQUEST,
  CAP_ERR_UNSUPPORTED_OPCODE,
  CAP_ERR_WRONG_INTERFACE,
  CAP_ERR_BUFFER_TOO_LARGE,
  CAP_ERR_BAD_BUFFER,
  CAP_ERR_TRANSFER_NOT_SUPPORTED,
  CAP_ERR_INVALID_ARGUMENT,
  CAP_ERR_RING_CORRUPT,
} from "../abi";
import { capTableGet, capTableRemove, capSlotInterface, capSlotObject, capSlotAux } from "./table";
import { userRangeOk } from "../mem/user";

// ringNext() outcomes. These are kernel-internal, not ABI.
/** The SQ is empty. */
export const NEXT_EMPTY: i32 = 0;
/** One SQE was consumed and its CQE posted (a NOP, or any SQE that failed validation). */
export const NEXT_DONE: i32 = 1;
/** One valid CALL was consumed; its CQ entry is reserved; finish it with ringComplete(). */
export const NEXT_CALL: i32 = 2;
/** One RELEASE removed a slot and posted its CQE; drop the object reference in the Request. */
export const NEXT_RELEASED: i32 = 3;
/** SQEs are waiting but the CQ has no entry to promise them; stop for this cap_enter. */
export const NEXT_CQ_FULL: i32 = 4;
/** sq_tail or cq_head is out of range; nothing was consumed. */
export const NEXT_CORRUPT: i32 = 5;

// ringComplete() outcomes besides CAP_OK.
/** The CQ has no free entry (only when userspace moved cq_head backwards); the credit is kept, retry later. */
export const COMPLETE_DEFERRED: i32 = 1;

/** The kernel's private view of one process ring. Nothing here is read back from the ring page. */
@unmanaged export class Ring {
  /** Kernel pointer to the ring page's frame. */
  page: usize = 0;
  sqHead: u32 = 0;
  cqTail: u32 = 0;
  /** Consumed SQEs whose completion is not yet posted: each holds one CQ entry. */
  credits: u32 = 0;
  flags: u32 = 0;
  stalls: u32 = 0;
  corruptEvents: u32 = 0;
}

/**
 * One SQE as the kernel read it (each field exactly once), plus what
 * validation found. Everything after validation uses this copy only.
 */
@unmanaged export class Request {
  userData: u64 = 0;
  interfaceId: u64 = 0;
  paramsAddr: u64 = 0;
  resultAddr: u64 = 0;
  opcode: u32 = 0;
  flags: u32 = 0;
  methodId: u32 = 0;
  capId: u32 = 0;
  paramsLen: u32 = 0;
  resultLen: u32 = 0;
  callId: u32 = 0;
  xferCapCount: u32 = 0;
  pipelineField: u32 = 0;
  pipelineDep: u32 = 0;
  reserved: u32 = 0;
  /** CAP_OK or the CAP_ERR_* the SQE completed with. */
  status: i32 = 0;
  /** For CALL / RELEASE: the slot index and what it held. */
  slot: i32 = -1;
  object: u32 = 0;
  aux: u32 = 0;
  /** The target slot's interface id (CALL dispatches on this, never on the SQE's). */
  slotInterfaceId: u64 = 0;
}

export const RING_STATE_BYTES: u32 = offsetof<Ring>();
export const REQUEST_BYTES: u32 = offsetof<Request>();

/**
 * Formats the ring page at kernel address `page` (zeroed, header constants
 * written) and binds the kernel state at `ring` to it.
 */
export function ringInit(ring: usize, page: usize): void {
  memory.fill(page, 0, <usize>PAGE_SIZE);
  store<u32>(page + RING_MAGIC_OFF, RING_MAGIC);
  store<u32>(page + RING_VERSION_OFF, RING_VERSION);
  store<u32>(page + RING_SQ_ENTRIES_OFF, SQ_ENTRIES);
  store<u32>(page + RING_CQ_ENTRIES_OFF, CQ_ENTRIES);
  store<u32>(page + RING_SQ_OFFSET_OFF, SQ_OFFSET);
  store<u32>(page + RING_CQ_OFFSET_OFF, CQ_OFFSET);
  store<u32>(page + RING_SQE_SIZE_OFF, SQE_SIZE);
  store<u32>(page + RING_CQE_SIZE_OFF, CQE_SIZE);
  const r = changetype<Ring>(ring);
  r.page = page;
  r.sqHead = 0;
  r.cqTail = 0;
  r.credits = 0;
  r.flags = 0;
  r.stalls = 0;
  r.corruptEvents = 0;
}

/** Writes the kernel-owned header fields out for userspace to see. */
function publish(r: Ring): void {
  store<u32>(r.page + RING_SQ_HEAD_OFF, r.sqHead);
  store<u32>(r.page + RING_CQ_TAIL_OFF, r.cqTail);
  store<u32>(r.page + RING_FLAGS_OFF, r.flags);
  store<u32>(r.page + RING_CQ_STALLS_OFF, r.stalls);
  store<u32>(r.page + RING_CORRUPT_EVENTS_OFF, r.corruptEvents);
}

/** CQEs posted and not yet consumed, or -1 when cq_head is out of range. */
function cqUsed(r: Ring): i64 {
  const used = r.cqTail - load<u32>(r.page + RING_CQ_HEAD_OFF);
  return used > CQ_ENTRIES ? -1 : <i64>used;
}

/**
 * Records whether the user-written indices, as read once by the caller, are
 * in range: keeps the corrupt flags and counter current. Returns true when
 * either is out of range.
 */
function noteCorruption(r: Ring, pending: u32, used: u32): bool {
  let corrupt: u32 = 0;
  if (pending > SQ_ENTRIES) corrupt |= RING_FLAG_SQ_CORRUPT;
  if (used > CQ_ENTRIES) corrupt |= RING_FLAG_CQ_CORRUPT;
  r.flags = (r.flags & ~(RING_FLAG_SQ_CORRUPT | RING_FLAG_CQ_CORRUPT)) | corrupt;
  if (corrupt != 0) r.corruptEvents++;
  publish(r);
  return corrupt != 0;
}

/**
 * Checks both user-written indices. Returns CAP_OK or CAP_ERR_RING_CORRUPT,
 * and keeps the corrupt flags and counter in the header current.
 */
export function ringCheck(ring: usize): i32 {
  const r = changetype<Ring>(ring);
  const pending = load<u32>(r.page + RING_SQ_TAIL_OFF) - r.sqHead;
  const used = r.cqTail - load<u32>(r.page + RING_CQ_HEAD_OFF);
  return noteCorruption(r, pending, used) ? CAP_ERR_RING_CORRUPT : CAP_OK;
}

/** Completions waiting for userspace (cq_tail - cq_head), or CAP_ERR_RING_CORRUPT. */
export function ringAvailable(ring: usize): i32 {
  const used = cqUsed(changetype<Ring>(ring));
  return used < 0 ? CAP_ERR_RING_CORRUPT : <i32>used;
}

/** Completions the kernel has promised (consumed SQEs) and not yet posted. */
export function ringCredits(ring: usize): u32 {
  return changetype<Ring>(ring).credits;
}

/** The kernel's SQ head (SQEs consumed so far, modulo 2^32). */
export function ringSqHead(ring: usize): u32 {
  return changetype<Ring>(ring).sqHead;
}

/** The kernel's CQ tail (CQEs posted so far, modulo 2^32). */
export function ringCqTail(ring: usize): u32 {
  return changetype<Ring>(ring).cqTail;
}

/**
 * Validates cap_enter's min_complete before anything else happens. Returns
 * CAP_OK or CAP_ERR_INVALID_ARGUMENT (more completions than the CQ holds).
 */
export function capEnterCheck(minComplete: u64): i32 {
  return minComplete > <u64>CQ_ENTRIES ? CAP_ERR_INVALID_ARGUMENT : CAP_OK;
}

/**
 * Whether cap_enter, after processing SQEs, should block: fewer than
 * `minComplete` completions are available, the caller allows waiting, and
 * enough completions are still promised to reach `minComplete` (otherwise
 * waiting could never end, so cap_enter returns at once).
 */
export function ringMustWait(ring: usize, minComplete: u32, timeoutNs: u64): bool {
  const available = ringAvailable(ring);
  if (available < 0) return false;
  if (<u32>available >= minComplete || timeoutNs == 0) return false;
  return <u64>available + <u64>changetype<Ring>(ring).credits >= <u64>minComplete;
}

function postCqe(r: Ring, userData: u64, result: i32, length: u32, flags: u32, capCount: u32): void {
  const cqe = r.page + CQ_OFFSET + <usize>(r.cqTail & (CQ_ENTRIES - 1)) * CQE_SIZE;
  store<u64>(cqe + CQE_USER_DATA_OFF, userData);
  store<i32>(cqe + CQE_RESULT_OFF, result);
  store<u32>(cqe + CQE_FLAGS_OFF, flags);
  store<u32>(cqe + CQE_LEN_OFF, length);
  store<u32>(cqe + CQE_CAP_COUNT_OFF, capCount);
  store<u64>(cqe + CQE_RESERVED_OFF, 0);
  // The body is complete before cq_tail admits it.
  r.cqTail++;
  r.credits--;
  publish(r);
}

/**
 * Posts the completion of a consumed SQE (a CALL from ringNext, or later a
 * deferred operation), spending the CQ credit it holds. Returns CAP_OK,
 * COMPLETE_DEFERRED when the CQ has no free entry (the credit stays; post
 * again later), or CAP_ERR_INVALID_ARGUMENT when no completion is owed.
 */
export function ringComplete(ring: usize, userData: u64, result: i32, length: u32, flags: u32, capCount: u32): i32 {
  const r = changetype<Ring>(ring);
  if (r.credits == 0) return CAP_ERR_INVALID_ARGUMENT;
  const used = cqUsed(r);
  if (used < 0 || used >= <i64>CQ_ENTRIES) return COMPLETE_DEFERRED;
  postCqe(r, userData, result, length, flags, capCount);
  return CAP_OK;
}

function readSqe(r: Ring, q: Request): void {
  const sqe = r.page + SQ_OFFSET + <usize>(r.sqHead & (SQ_ENTRIES - 1)) * SQE_SIZE;
  q.opcode = <u32>load<u8>(sqe + SQE_OPCODE_OFF);
  q.flags = <u32>load<u8>(sqe + SQE_FLAGS_OFF);
  q.methodId = <u32>load<u16>(sqe + SQE_METHOD_ID_OFF);
  q.capId = load<u32>(sqe + SQE_CAP_ID_OFF);
  q.userData = load<u64>(sqe + SQE_USER_DATA_OFF);
  q.interfaceId = load<u64>(sqe + SQE_INTERFACE_ID_OFF);
  q.paramsAddr = load<u64>(sqe + SQE_PARAMS_ADDR_OFF);
  q.resultAddr = load<u64>(sqe + SQE_RESULT_ADDR_OFF);
  q.paramsLen = load<u32>(sqe + SQE_PARAMS_LEN_OFF);
  q.resultLen = load<u32>(sqe + SQE_RESULT_LEN_OFF);
  q.callId = load<u32>(sqe + SQE_CALL_ID_OFF);
  q.xferCapCount = <u32>load<u16>(sqe + SQE_XFER_CAP_COUNT_OFF);
  q.pipelineField = <u32>load<u16>(sqe + SQE_PIPELINE_FIELD_OFF);
  q.pipelineDep = load<u32>(sqe + SQE_PIPELINE_DEP_OFF);
  q.reserved = load<u32>(sqe + SQE_RESERVED_OFF);
  q.status = CAP_OK;
  q.slot = -1;
  q.object = 0;
  q.aux = 0;
  q.slotInterfaceId = 0;
}

/** Fields no opcode of this ABI version uses: they must be zero everywhere. */
function reservedFieldsSet(q: Request): bool {
  return (q.callId | q.pipelineField | q.pipelineDep | q.reserved) != 0;
}

/** Fields only CALL uses: NOP and RELEASE require them zero. */
function callFieldsSet(q: Request): bool {
  return (q.methodId | q.paramsLen | q.resultLen | q.xferCapCount) != 0 ||
    (q.interfaceId | q.paramsAddr | q.resultAddr) != 0;
}

function validateNop(q: Request): i32 {
  if (q.flags != 0 || q.capId != 0 || reservedFieldsSet(q) || callFieldsSet(q)) return CAP_ERR_INVALID_REQUEST;
  return CAP_OK;
}

/** Looks the cap up and records the slot in the Request. */
function resolveCap(q: Request, table: usize): i32 {
  const slot = capTableGet(table, q.capId);
  if (slot < 0) return slot;
  q.slot = slot;
  q.object = capSlotObject(table, <u32>slot);
  q.aux = capSlotAux(table, <u32>slot);
  q.slotInterfaceId = capSlotInterface(table, <u32>slot);
  return CAP_OK;
}

function validateRelease(q: Request, table: usize): i32 {
  if (q.flags != 0 || reservedFieldsSet(q) || callFieldsSet(q)) return CAP_ERR_INVALID_REQUEST;
  const found = resolveCap(q, table);
  if (found != CAP_OK) return found;
  return capTableRemove(table, q.capId);
}

/** A buffer is (0, 0), or a length within `max` at an address of the right access. */
function checkBufferShape(addr: u64, length: u32, max: u32): i32 {
  if (length > max) return CAP_ERR_BUFFER_TOO_LARGE;
  if (length == 0 && addr != 0) return CAP_ERR_INVALID_REQUEST;
  return CAP_OK;
}

function validateCall(q: Request, table: usize, root: usize): i32 {
  if (q.flags != 0 || reservedFieldsSet(q)) return CAP_ERR_INVALID_REQUEST;
  if (q.xferCapCount != 0) return CAP_ERR_TRANSFER_NOT_SUPPORTED;
  let status = checkBufferShape(q.paramsAddr, q.paramsLen, MAX_PARAMS_BYTES);
  if (status != CAP_OK) return status;
  status = checkBufferShape(q.resultAddr, q.resultLen, MAX_RESULT_BYTES);
  if (status != CAP_OK) return status;
  status = resolveCap(q, table);
  if (status != CAP_OK) return status;
  if (q.interfaceId != 0 && q.interfaceId != q.slotInterfaceId) return CAP_ERR_WRONG_INTERFACE;
  if (!userRangeOk(root, q.paramsAddr, <u64>q.paramsLen, false)) return CAP_ERR_BAD_BUFFER;
  if (!userRangeOk(root, q.resultAddr, <u64>q.resultLen, true)) return CAP_ERR_BAD_BUFFER;
  return CAP_OK;
}

/**
 * Consumes and handles at most one SQE. `table` is the process's capability
 * table, `root` its page-table root (for buffer checks), `request` a
 * REQUEST_BYTES scratch that receives the SQE. Returns a NEXT_* outcome; on
 * NEXT_DONE / NEXT_RELEASED the CQE is already posted, on NEXT_CALL the
 * caller dispatches and then calls ringComplete(). cap_enter calls this at
 * most SQ_ENTRIES times per syscall.
 */
export function ringNext(ring: usize, table: usize, root: usize, request: usize): i32 {
  const r = changetype<Ring>(ring);
  // Each user-written index is read exactly once; everything below uses these copies.
  const pending = load<u32>(r.page + RING_SQ_TAIL_OFF) - r.sqHead;
  const used = r.cqTail - load<u32>(r.page + RING_CQ_HEAD_OFF);
  if (noteCorruption(r, pending, used)) return NEXT_CORRUPT;
  if (pending == 0) {
    r.flags &= ~RING_FLAG_CQ_STALLED;
    publish(r);
    return NEXT_EMPTY;
  }
  // Consume only when the completion is guaranteed an entry: entries in use
  // plus completions already promised must leave one free.
  if (<u64>used + <u64>r.credits >= <u64>CQ_ENTRIES) {
    r.flags |= RING_FLAG_CQ_STALLED;
    r.stalls++;
    publish(r);
    return NEXT_CQ_FULL;
  }
  r.flags &= ~RING_FLAG_CQ_STALLED;
  const q = changetype<Request>(request);
  readSqe(r, q);
  r.sqHead++;
  r.credits++;
  let status: i32;
  const opcode = q.opcode;
  if (opcode == <u32>OP_CALL) {
    status = validateCall(q, table, root);
    if (status == CAP_OK) {
      publish(r);
      return NEXT_CALL;
    }
  } else if (opcode == <u32>OP_NOP) {
    status = validateNop(q);
  } else if (opcode == <u32>OP_RELEASE) {
    status = validateRelease(q, table);
  } else {
    // Unknown opcodes, FINISH, and RECV/RETURN until endpoints exist.
    status = CAP_ERR_UNSUPPORTED_OPCODE;
  }
  q.status = status;
  postCqe(r, q.userData, status, 0, 0, 0);
  return status == CAP_OK && opcode == <u32>OP_RELEASE ? NEXT_RELEASED : NEXT_DONE;
}
