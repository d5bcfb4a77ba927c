// The memory.grow hook of user programs (docs/toolchain.md, "runtime symbols"):
// the linker calls the wasm export `__wasm_memory_grow` with EDI = delta pages
// and RSI = the address of the linear-memory descriptor. It grows within the
// maximum the image reserved; the kernel backs the new pages on first touch.
// It must never call memory.grow itself (that would call back into this hook).

@external("cpu", "peek32") declare function peek32(addr: i64): i32;
@external("cpu", "poke32") declare function poke32(addr: i64, value: i32): void;
@external("cpu", "poke64") declare function poke64(addr: i64, value: i64): void;

/** Descriptor layout: u32 current pages, u32 maximum pages, u64 current size in bytes. */
const DESC_PAGES = 0;
const DESC_MAX_PAGES = 4;
const DESC_BYTES = 8;

/** Grows linear memory by `delta` pages; returns the old size in pages, or -1 past the reservation. */
export function memoryGrowHook(delta: i32, desc: i64): i32 {
  const current = <u32>peek32(desc + DESC_PAGES);
  const maximum = <u32>peek32(desc + DESC_MAX_PAGES);
  const wanted = <u64>current + <u64><u32>delta;
  if (wanted > <u64>maximum) return -1;
  poke32(desc + DESC_PAGES, <i32>wanted);
  poke64(desc + DESC_BYTES, <i64>(wanted << 16));
  return <i32>current;
}
