// The user heap: malloc / calloc / realloc / free with reuse. Memory comes in
// 64 KiB chunks from the AssemblyScript stub runtime's bump allocator (the one
// `new` uses), so the two never hand out the same bytes; this file only
// recycles what it owns. Bad frees abort instead of corrupting the heap.

/** Every block's payload is aligned to this and preceded by a header of this size. */
const ALIGN: usize = 16;
const HEADER: usize = 16;
const HEADER_MAGIC: usize = 0; // u32
const HEADER_STATE: usize = 4; // u32
const HEADER_CAPACITY: usize = 8; // u32: payload bytes the block can hold
const HEADER_CLASS: usize = 12; // u32: small class index, or LARGE

const MAGIC: u32 = 0x5041_4548; // "HEAP"
const STATE_USED: u32 = 1;
const STATE_FREE: u32 = 2;

/** Small blocks hold 16 << class bytes (16 … 4096) and are carved from chunks. */
const SMALL_CLASSES: u32 = 9;
const SMALL_MAX: usize = 4096;
const LARGE: u32 = 0xffff;
const CHUNK: usize = 65536;
/** Large blocks are sized in pages so that reuse finds fits. */
const LARGE_GRANULE: usize = 4096;

/** Free-list heads: one per small class, then the large list. Free blocks link through their first payload word. */
const freeHeads: usize = memory.data(<i32>((SMALL_CLASSES + 1) * sizeof<usize>()), 16);

@unmanaged class HeapState {
  /** The unused rest of the current chunk. */
  carveAt: usize = 0;
  carveEnd: usize = 0;
  bytesInUse: usize = 0;
  blocksInUse: u32 = 0;
}

// In static memory, not mutable globals (see RingClient in ring.ts for why).
const hs: HeapState = changetype<HeapState>(memory.data(<i32>offsetof<HeapState>(), 16));

@inline function headOf(list: u32): usize {
  return freeHeads + <usize>list * sizeof<usize>();
}

@inline function classOf(size: usize): u32 {
  let c: u32 = 0;
  while ((<usize>16 << c) < size) c++;
  return c;
}

function take(block: usize): usize {
  store<u32>(block + HEADER_STATE, STATE_USED);
  hs.bytesInUse += load<u32>(block + HEADER_CAPACITY);
  hs.blocksInUse++;
  return block + HEADER;
}

function popFree(list: u32): usize {
  const head = headOf(list);
  const block = load<usize>(head);
  if (block != 0) store<usize>(head, load<usize>(block + HEADER));
  return block;
}

function allocSmall(size: usize): usize {
  const c = classOf(size);
  let block = popFree(c);
  if (block == 0) {
    const need = HEADER + (<usize>16 << c);
    if (hs.carveEnd - hs.carveAt < need) {
      // The rest of the old chunk (less than one block of this class) is left unused.
      hs.carveAt = heap.alloc(CHUNK);
      hs.carveAt = (hs.carveAt + ALIGN - 1) & ~(ALIGN - 1);
      hs.carveEnd = hs.carveAt + CHUNK - ALIGN;
    }
    block = hs.carveAt;
    hs.carveAt += need;
    store<u32>(block + HEADER_MAGIC, MAGIC);
    store<u32>(block + HEADER_CAPACITY, <u32>(<usize>16 << c));
    store<u32>(block + HEADER_CLASS, c);
  }
  return take(block);
}

function allocLarge(size: usize): usize {
  // First fit among freed large blocks, refusing blocks more than twice the
  // size so a small request does not pin a huge block.
  let prev = headOf(SMALL_CLASSES);
  let block = load<usize>(prev);
  while (block != 0) {
    const cap = <usize>load<u32>(block + HEADER_CAPACITY);
    if (cap >= size && cap <= size * 2) {
      store<usize>(prev, load<usize>(block + HEADER));
      return take(block);
    }
    prev = block + HEADER;
    block = load<usize>(prev);
  }
  const capacity = (size + LARGE_GRANULE - 1) & ~(LARGE_GRANULE - 1);
  const raw = heap.alloc(capacity + HEADER + ALIGN);
  block = (raw + ALIGN - 1) & ~(ALIGN - 1);
  store<u32>(block + HEADER_MAGIC, MAGIC);
  store<u32>(block + HEADER_CAPACITY, <u32>capacity);
  store<u32>(block + HEADER_CLASS, LARGE);
  return take(block);
}

/** `size` bytes aligned to 16 (contents undefined); never 0. Aborts when memory cannot grow. */
export function malloc(size: usize): usize {
  if (size > <usize>0x7fff_0000) abort("malloc: size too large");
  return size <= SMALL_MAX ? allocSmall(size == 0 ? 1 : size) : allocLarge(size);
}

/** `count * size` zeroed bytes. */
export function calloc(count: usize, size: usize): usize {
  if (size != 0 && count > <usize>0x7fff_0000 / size) abort("calloc: size too large");
  const bytes = count * size;
  const p = malloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}

/** The header of a block `ptr` returned by malloc, checked; aborts on anything else. */
function blockOf(ptr: usize, what: string): usize {
  if ((ptr & (ALIGN - 1)) != 0 || ptr < HEADER) abort(what);
  const block = ptr - HEADER;
  if (load<u32>(block + HEADER_MAGIC) != MAGIC || load<u32>(block + HEADER_STATE) != STATE_USED) abort(what);
  return block;
}

/** Returns a block to the heap. free(0) does nothing; a pointer malloc did not return, or a second free, aborts. */
export function free(ptr: usize): void {
  if (ptr == 0) return;
  const block = blockOf(ptr, "free: not an allocated block (double free?)");
  const c = load<u32>(block + HEADER_CLASS);
  const list = c == LARGE ? SMALL_CLASSES : c;
  store<u32>(block + HEADER_STATE, STATE_FREE);
  hs.bytesInUse -= load<u32>(block + HEADER_CAPACITY);
  hs.blocksInUse--;
  const head = headOf(list);
  store<usize>(block + HEADER, load<usize>(head));
  store<usize>(head, block);
}

/** Resizes a block, keeping its first min(old, new) bytes; realloc(0, n) is malloc(n). */
export function realloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return malloc(size);
  const block = blockOf(ptr, "realloc: not an allocated block");
  const capacity = <usize>load<u32>(block + HEADER_CAPACITY);
  if (size <= capacity) return ptr;
  const moved = malloc(size);
  memory.copy(moved, ptr, capacity);
  free(ptr);
  return moved;
}

/** Payload bytes `ptr` can hold (at least what was asked for). */
export function mallocCapacity(ptr: usize): usize {
  return <usize>load<u32>(blockOf(ptr, "mallocCapacity: not an allocated block") + HEADER_CAPACITY);
}

/** Bytes held by live blocks (their capacities). */
export function heapBytesInUse(): usize {
  return hs.bytesInUse;
}

/** Number of live blocks. */
export function heapBlocksInUse(): u32 {
  return hs.blocksInUse;
}
