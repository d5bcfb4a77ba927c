// The guest test-program ABI shared by the programs in this folder: memory
// for inputs and outputs comes from `alloc`, and every entry point takes and
// returns plain integers (a byte length or a negative runtime status).

/** Raw memory for the host to place inputs and receive outputs. */
export function alloc(size: u32): usize {
  return heap.alloc(<usize>size);
}

/** Temporary memory released in reverse order (the stub allocator frees the top block). */
export function scratch(size: usize): usize {
  return heap.alloc(size);
}

export function release(ptr: usize): void {
  heap.free(ptr);
}
