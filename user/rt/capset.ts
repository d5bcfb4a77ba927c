// Reading the CapSet page (docs/abi.md "The CapSet page"): the process's
// bootstrap capabilities, looked up by name. The page is read-only and
// complete before the process starts, so lookups read it in place.
import {
  CAPSET_COUNT_OFF, CAPSET_ENTRIES_OFF, CAPSET_ENTRY_CAP_ID_OFF, CAPSET_ENTRY_INTERFACE_ID_OFF, CAPSET_ENTRY_NAME_LEN_OFF,
  CAPSET_ENTRY_NAME_OFF, CAPSET_ENTRY_SIZE, CAPSET_ENTRY_SIZE_OFF, CAPSET_MAGIC, CAPSET_MAGIC_OFF, CAPSET_MAX_ENTRIES,
  CAPSET_NAME_MAX, CAPSET_VERSION, CAPSET_VERSION_OFF,
} from "../../kernel/abi";
import { utf8Equals } from "../../schema/as/runtime/index";
import { RT_ERR_BAD_CAPSET, RT_OK } from "./status";

@unmanaged class CapSetView {
  base: usize = 0;
  entries: u32 = 0;
}

// In static memory, not mutable globals (see RingClient in ring.ts for why).
const view: CapSetView = changetype<CapSetView>(memory.data(<i32>offsetof<CapSetView>(), 16));

/** Checks the CapSet header at `base` and makes it the one lookups read. */
export function capsetAttach(base: usize): i32 {
  if (load<u32>(base + CAPSET_MAGIC_OFF) != CAPSET_MAGIC) return RT_ERR_BAD_CAPSET;
  if (<u32>load<u16>(base + CAPSET_VERSION_OFF) != CAPSET_VERSION) return RT_ERR_BAD_CAPSET;
  if (<u32>load<u16>(base + CAPSET_ENTRY_SIZE_OFF) != CAPSET_ENTRY_SIZE) return RT_ERR_BAD_CAPSET;
  const count = load<u32>(base + CAPSET_COUNT_OFF);
  if (count > CAPSET_MAX_ENTRIES) return RT_ERR_BAD_CAPSET;
  view.base = base;
  view.entries = count;
  return RT_OK;
}

/** Number of bootstrap capabilities (0 before capsetAttach). */
export function capsetCount(): u32 {
  return view.entries;
}

@inline function entryAt(index: u32): usize {
  return view.base + CAPSET_ENTRIES_OFF + <usize>index * CAPSET_ENTRY_SIZE;
}

/** The name length of entry `index`, clamped to the ABI's maximum so a bad page cannot make a lookup read past the entry. */
export function capsetNameLength(index: u32): u32 {
  if (index >= view.entries) return 0;
  const n = <u32>load<u16>(entryAt(index) + CAPSET_ENTRY_NAME_LEN_OFF);
  return n <= CAPSET_NAME_MAX ? n : 0;
}

/** Address of entry `index`'s name bytes (UTF-8, capsetNameLength bytes). */
export function capsetNamePtr(index: u32): usize {
  return index < view.entries ? entryAt(index) + CAPSET_ENTRY_NAME_OFF : 0;
}

/** The CapId of entry `index`, or 0 (never a valid CapId) when there is no such entry. */
export function capsetCapId(index: u32): u32 {
  return index < view.entries ? load<u32>(entryAt(index) + CAPSET_ENTRY_CAP_ID_OFF) : 0;
}

/** The interface id of entry `index`, or 0. */
export function capsetInterfaceId(index: u32): u64 {
  return index < view.entries ? load<u64>(entryAt(index) + CAPSET_ENTRY_INTERFACE_ID_OFF) : 0;
}

/** Index of the entry named `name` (compared as UTF-8, without allocating), or -1. */
export function capsetFind(name: string): i32 {
  for (let i: u32 = 0; i < view.entries; i++) {
    const n = capsetNameLength(i);
    if (n != 0 && utf8Equals(entryAt(i) + CAPSET_ENTRY_NAME_OFF, n, name)) return <i32>i;
  }
  return -1;
}

/** Index of the entry whose name is the `len` bytes at `ptr`, or -1. */
export function capsetFindBytes(ptr: usize, len: u32): i32 {
  if (len == 0 || len > CAPSET_NAME_MAX) return -1;
  for (let i: u32 = 0; i < view.entries; i++) {
    if (capsetNameLength(i) == len && memory.compare(entryAt(i) + CAPSET_ENTRY_NAME_OFF, ptr, len) == 0) return <i32>i;
  }
  return -1;
}

/**
 * The CapId of the capability named `name`, or 0 when there is none. With a
 * non-zero `interfaceId`, an entry of another interface also gives 0: the
 * program holds something other than what it expects.
 */
export function capByName(name: string, interfaceId: u64 = 0): u32 {
  const i = capsetFind(name);
  if (i < 0) return 0;
  if (interfaceId != 0 && capsetInterfaceId(<u32>i) != interfaceId) return 0;
  return capsetCapId(<u32>i);
}
