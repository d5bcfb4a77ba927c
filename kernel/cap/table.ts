// The per-process capability table: CapId = generation:8 | index:24 slots in a caller-
// provided region, with a slot quota, reservations and retirement on generation wrap.
// It never dispatches calls or touches kernel objects; a slot only records what it holds.
import {
  CAP_OK,
  CAP_ERR_INVALID_CAP,
  CAP_ERR_STALE_CAP,
  CAP_ERR_QUOTA_EXCEEDED,
  CAP_ERR_TABLE_FULL,
  CAP_ERR_INVALID_ARGUMENT,
  CAP_INDEX_BITS,
  CAP_INDEX_MASK,
  CAP_FIRST_GENERATION,
  CAP_LAST_GENERATION,
} from "../abi";

const NONE: u32 = 0xFFFF_FFFF;

const SLOT_FREE: u8 = 0;
const SLOT_LIVE: u8 = 1;
const SLOT_RETIRED: u8 = 2;

/** The table header; CAP_TABLE_HEADER_BYTES at the start of the region. */
@unmanaged class CapTable {
  /** Slots in the region (the largest index + 1). */
  capacity: u32 = 0;
  /** Most live slots the process may hold (plus outstanding reservations). */
  quota: u32 = 0;
  live: u32 = 0;
  /** Slots promised to reserve() callers and not yet inserted. */
  reserved: u32 = 0;
  /** Free slots form a FIFO list so a released index is reused as late as possible. */
  freeHead: u32 = 0;
  freeTail: u32 = 0;
  freeCount: u32 = 0;
  retired: u32 = 0;
}

/** One slot. A free slot's generation is the one its next occupant will get. */
@unmanaged class CapSlot {
  interfaceId: u64 = 0;
  /** Opaque reference to the kernel object (its dispatch layer decides the meaning). */
  object: u32 = 0;
  /** Hold metadata owned by the dispatch layer (facet kind, transfer mode). */
  aux: u32 = 0;
  generation: u8 = 0;
  state: u8 = 0;
  pad: u16 = 0;
  /** Next free slot index, or NONE. */
  next: u32 = 0;
}

export const CAP_TABLE_HEADER_BYTES: u32 = offsetof<CapTable>();
export const CAP_SLOT_BYTES: u32 = offsetof<CapSlot>();
/** Largest capacity a table may have: every index must fit the CapId's 24 bits. */
export const CAP_TABLE_MAX_CAPACITY: u32 = CAP_INDEX_MASK + 1;

/** Bytes a table of `capacity` slots needs. */
export function capTableBytes(capacity: u32): u64 {
  return <u64>CAP_TABLE_HEADER_BYTES + <u64>capacity * <u64>CAP_SLOT_BYTES;
}

// @ts-ignore: decorator
@inline function slotAt(t: CapTable, index: u32): CapSlot {
  return changetype<CapSlot>(changetype<usize>(t) + CAP_TABLE_HEADER_BYTES + <usize>index * CAP_SLOT_BYTES);
}

/** Composes a CapId. */
export function capIdMake(generation: u32, index: u32): u32 {
  return (generation << CAP_INDEX_BITS) | (index & CAP_INDEX_MASK);
}

export function capIdGeneration(id: u32): u32 {
  return id >>> CAP_INDEX_BITS;
}

export function capIdIndex(id: u32): u32 {
  return id & CAP_INDEX_MASK;
}

/**
 * Formats `regionBytes` bytes at `region` as an empty table of `capacity`
 * slots allowing `quota` live ones. Returns CAP_OK or CAP_ERR_INVALID_ARGUMENT
 * (region not 8-byte aligned or too small, zero or oversized capacity, quota
 * above capacity).
 */
export function capTableInit(region: usize, regionBytes: u64, capacity: u32, quota: u32): i32 {
  if ((region & 7) != 0) return CAP_ERR_INVALID_ARGUMENT;
  if (capacity == 0 || capacity > CAP_TABLE_MAX_CAPACITY) return CAP_ERR_INVALID_ARGUMENT;
  if (quota > capacity) return CAP_ERR_INVALID_ARGUMENT;
  if (regionBytes < capTableBytes(capacity)) return CAP_ERR_INVALID_ARGUMENT;
  const t = changetype<CapTable>(region);
  t.capacity = capacity;
  t.quota = quota;
  t.live = 0;
  t.reserved = 0;
  t.retired = 0;
  t.freeHead = 0;
  t.freeTail = capacity - 1;
  t.freeCount = capacity;
  for (let i: u32 = 0; i < capacity; i++) {
    const s = slotAt(t, i);
    s.interfaceId = 0;
    s.object = 0;
    s.aux = 0;
    s.generation = <u8>CAP_FIRST_GENERATION;
    s.state = SLOT_FREE;
    s.pad = 0;
    s.next = i + 1 < capacity ? i + 1 : NONE;
  }
  return CAP_OK;
}

/** Live slots. */
export function capTableLive(table: usize): u32 {
  return changetype<CapTable>(table).live;
}

/** Slots permanently out of use because their generation ran out. */
export function capTableRetired(table: usize): u32 {
  return changetype<CapTable>(table).retired;
}

/** Outstanding reservations. */
export function capTableReserved(table: usize): u32 {
  return changetype<CapTable>(table).reserved;
}

export function capTableQuota(table: usize): u32 {
  return changetype<CapTable>(table).quota;
}

/**
 * Promises `count` future inserts (for all-or-nothing multi-cap operations
 * such as transfers and spawn grants): charges the quota now, before any side
 * effect, so the later insertReserved() calls cannot fail. Returns CAP_OK,
 * CAP_ERR_QUOTA_EXCEEDED or CAP_ERR_TABLE_FULL; on failure nothing changes.
 */
export function capTableReserve(table: usize, count: u32): i32 {
  const t = changetype<CapTable>(table);
  const charged = <u64>t.live + <u64>t.reserved + <u64>count;
  if (charged > <u64>t.quota) return CAP_ERR_QUOTA_EXCEEDED;
  if (<u64>t.reserved + <u64>count > <u64>t.freeCount) return CAP_ERR_TABLE_FULL;
  t.reserved += count;
  return CAP_OK;
}

/** Returns `count` unused reservations (rollback path). Returns CAP_ERR_INVALID_ARGUMENT if fewer are held. */
export function capTableUnreserve(table: usize, count: u32): i32 {
  const t = changetype<CapTable>(table);
  if (count > t.reserved) return CAP_ERR_INVALID_ARGUMENT;
  t.reserved -= count;
  return CAP_OK;
}

function takeFreeSlot(t: CapTable, interfaceId: u64, object: u32, aux: u32): i64 {
  const index = t.freeHead;
  const s = slotAt(t, index);
  t.freeHead = s.next;
  if (t.freeHead == NONE) t.freeTail = NONE;
  t.freeCount--;
  s.next = NONE;
  s.state = SLOT_LIVE;
  s.interfaceId = interfaceId;
  s.object = object;
  s.aux = aux;
  t.live++;
  return <i64>capIdMake(<u32>s.generation, index);
}

/**
 * Inserts a capability and returns its CapId (a non-negative value), or
 * CAP_ERR_QUOTA_EXCEEDED / CAP_ERR_TABLE_FULL (negative). Outstanding
 * reservations count against both limits, so an unreserved insert can never
 * take a slot someone was promised.
 */
export function capTableInsert(table: usize, interfaceId: u64, object: u32, aux: u32): i64 {
  const t = changetype<CapTable>(table);
  if (<u64>t.live + <u64>t.reserved >= <u64>t.quota) return CAP_ERR_QUOTA_EXCEEDED;
  if (t.freeCount <= t.reserved) return CAP_ERR_TABLE_FULL;
  return takeFreeSlot(t, interfaceId, object, aux);
}

/**
 * Inserts using one reservation from capTableReserve(). Returns the CapId, or
 * CAP_ERR_INVALID_ARGUMENT if no reservation is held (a kernel bug, reported
 * rather than trusted).
 */
export function capTableInsertReserved(table: usize, interfaceId: u64, object: u32, aux: u32): i64 {
  const t = changetype<CapTable>(table);
  if (t.reserved == 0) return CAP_ERR_INVALID_ARGUMENT;
  t.reserved--;
  return takeFreeSlot(t, interfaceId, object, aux);
}

/**
 * Looks up a CapId: returns its slot index (non-negative), CAP_ERR_INVALID_CAP
 * when the id names no slot or one that was never issued under it, or
 * CAP_ERR_STALE_CAP when the slot has since been released, reused or retired.
 */
export function capTableGet(table: usize, id: u32): i32 {
  const t = changetype<CapTable>(table);
  const index = capIdIndex(id);
  const generation = capIdGeneration(id);
  if (index >= t.capacity || generation < CAP_FIRST_GENERATION) return CAP_ERR_INVALID_CAP;
  const s = slotAt(t, index);
  if (s.state == SLOT_LIVE) {
    return <u32>s.generation == generation ? <i32>index : CAP_ERR_STALE_CAP;
  }
  if (s.state == SLOT_RETIRED) return CAP_ERR_STALE_CAP;
  // A free slot carries the generation its next occupant will get: an id
  // with that generation was never handed out; any other one is stale.
  return <u32>s.generation == generation ? CAP_ERR_INVALID_CAP : CAP_ERR_STALE_CAP;
}

/**
 * Removes the capability `id` names. The slot's generation advances so the
 * id (and every copy of it) goes stale; a slot released at the last
 * generation is retired instead of wrapping to a generation that old ids
 * could match. Returns CAP_OK or the capTableGet() error.
 */
export function capTableRemove(table: usize, id: u32): i32 {
  const found = capTableGet(table, id);
  if (found < 0) return found;
  const t = changetype<CapTable>(table);
  const index = <u32>found;
  const s = slotAt(t, index);
  s.interfaceId = 0;
  s.object = 0;
  s.aux = 0;
  t.live--;
  if (<u32>s.generation >= CAP_LAST_GENERATION) {
    s.state = SLOT_RETIRED;
    t.retired++;
    return CAP_OK;
  }
  s.generation = <u8>(<u32>s.generation + 1);
  s.state = SLOT_FREE;
  s.next = NONE;
  if (t.freeTail == NONE) {
    t.freeHead = index;
  } else {
    slotAt(t, t.freeTail).next = index;
  }
  t.freeTail = index;
  t.freeCount++;
  return CAP_OK;
}

/** The interface id of live slot `index` (from capTableGet). */
export function capSlotInterface(table: usize, index: u32): u64 {
  return slotAt(changetype<CapTable>(table), index).interfaceId;
}

/** The object reference of live slot `index`. */
export function capSlotObject(table: usize, index: u32): u32 {
  return slotAt(changetype<CapTable>(table), index).object;
}

/** The hold metadata of live slot `index`. */
export function capSlotAux(table: usize, index: u32): u32 {
  return slotAt(changetype<CapTable>(table), index).aux;
}

/** The CapId currently naming live slot `index`. */
export function capSlotId(table: usize, index: u32): u32 {
  return capIdMake(<u32>slotAt(changetype<CapTable>(table), index).generation, index);
}

/**
 * The first live slot at or after `from`, or -1. Process exit walks the table
 * with this to release every hold.
 */
export function capTableNextLive(table: usize, from: u32): i32 {
  const t = changetype<CapTable>(table);
  for (let i = from; i < t.capacity; i++) {
    if (slotAt(t, i).state == SLOT_LIVE) return <i32>i;
  }
  return -1;
}
