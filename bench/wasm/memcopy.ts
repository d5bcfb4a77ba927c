// Memory copies: a word-at-a-time copy loop and the bulk memory.copy /
// memory.fill operators over a 64 KiB buffer.

const SIZE: i32 = 64 * 1024;
const A: usize = memory.data(SIZE);
const B: usize = memory.data(SIZE);

export function run(n: i32): i32 {
  for (let i = 0; i < SIZE; i++) store<u8>(A + <usize>i, <u8>(i * 7));
  let sum: u32 = 0;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < SIZE; i += 4) {
      store<u32>(B + <usize>i, load<u32>(A + <usize>i) + <u32>r);
    }
    memory.copy(A, B, SIZE);
    memory.fill(B, <u8>r, SIZE / 2);
    sum += load<u32>(A + <usize>((r * 4) & (SIZE - 4))) + load<u8>(B + <usize>r);
  }
  return <i32>sum;
}
