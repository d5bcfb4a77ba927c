// Builds a process's read-only CapSet page (names, CapIds, interface ids in manifest
// order; layout in docs/abi.md). It only formats a kernel-owned page before mapping and
// never grants authority: the CapIds must already be in the process's table.
import {
  PAGE_SIZE,
  CAPSET_MAGIC,
  CAPSET_VERSION,
  CAPSET_ENTRY_SIZE,
  CAPSET_NAME_MAX,
  CAPSET_MAX_ENTRIES,
  CAPSET_MAGIC_OFF,
  CAPSET_VERSION_OFF,
  CAPSET_ENTRY_SIZE_OFF,
  CAPSET_COUNT_OFF,
  CAPSET_ENTRIES_OFF,
  CAPSET_ENTRY_INTERFACE_ID_OFF,
  CAPSET_ENTRY_CAP_ID_OFF,
  CAPSET_ENTRY_NAME_LEN_OFF,
  CAPSET_ENTRY_NAME_OFF,
} from "../abi";

export const CAPSET_OK: i32 = 0;
/** The page already holds CAPSET_MAX_ENTRIES entries. */
export const CAPSET_ERR_FULL: i32 = -1;
/** The name is empty or longer than CAPSET_NAME_MAX bytes. */
export const CAPSET_ERR_NAME: i32 = -2;
/** Another entry already has this name (lookups are by name, so names are unique). */
export const CAPSET_ERR_DUPLICATE: i32 = -3;

function entryAt(page: usize, index: u32): usize {
  return page + CAPSET_ENTRIES_OFF + <usize>index * CAPSET_ENTRY_SIZE;
}

/** Formats the page at kernel address `page` as an empty CapSet. */
export function capsetInit(page: usize): void {
  memory.fill(page, 0, <usize>PAGE_SIZE);
  store<u32>(page + CAPSET_MAGIC_OFF, CAPSET_MAGIC);
  store<u16>(page + CAPSET_VERSION_OFF, <u16>CAPSET_VERSION);
  store<u16>(page + CAPSET_ENTRY_SIZE_OFF, <u16>CAPSET_ENTRY_SIZE);
  store<u32>(page + CAPSET_COUNT_OFF, 0);
}

/** Entries so far. */
export function capsetCount(page: usize): u32 {
  return load<u32>(page + CAPSET_COUNT_OFF);
}

/**
 * The index of the entry named by the `nameLength` bytes at `name`, or -1.
 * Names compare as bytes.
 */
export function capsetFind(page: usize, name: usize, nameLength: u32): i32 {
  const count = capsetCount(page);
  for (let i: u32 = 0; i < count; i++) {
    const entry = entryAt(page, i);
    if (<u32>load<u16>(entry + CAPSET_ENTRY_NAME_LEN_OFF) != nameLength) continue;
    if (memory.compare(entry + CAPSET_ENTRY_NAME_OFF, name, <usize>nameLength) == 0) return <i32>i;
  }
  return -1;
}

/**
 * Appends an entry: `nameLength` bytes of UTF-8 at `name` (1..32, stored
 * zero-padded), the CapId, the interface id. Returns the entry's index or a
 * CAPSET_ERR_* (and leaves the page unchanged).
 */
export function capsetAdd(page: usize, name: usize, nameLength: u32, capId: u32, interfaceId: u64): i32 {
  if (nameLength == 0 || nameLength > CAPSET_NAME_MAX) return CAPSET_ERR_NAME;
  const count = capsetCount(page);
  if (count >= CAPSET_MAX_ENTRIES) return CAPSET_ERR_FULL;
  if (capsetFind(page, name, nameLength) >= 0) return CAPSET_ERR_DUPLICATE;
  const entry = entryAt(page, count);
  memory.fill(entry, 0, <usize>CAPSET_ENTRY_SIZE);
  store<u64>(entry + CAPSET_ENTRY_INTERFACE_ID_OFF, interfaceId);
  store<u32>(entry + CAPSET_ENTRY_CAP_ID_OFF, capId);
  store<u16>(entry + CAPSET_ENTRY_NAME_LEN_OFF, <u16>nameLength);
  memory.copy(entry + CAPSET_ENTRY_NAME_OFF, name, <usize>nameLength);
  store<u32>(page + CAPSET_COUNT_OFF, count + 1);
  return <i32>count;
}
