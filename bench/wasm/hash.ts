// Hashing: FNV-1a (32-bit, byte at a time) and a 64-bit multiply-xorshift mix
// over a 16 KiB buffer.

const SIZE: i32 = 16 * 1024;
const BUF: usize = memory.data(SIZE);

function fnv1a(p: usize, len: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    h ^= load<u8>(p + <usize>i);
    h *= 0x01000193;
  }
  return h;
}

function mix64(p: usize, len: i32): u64 {
  let h: u64 = 0x9e3779b97f4a7c15;
  for (let i = 0; i < len; i += 8) {
    let k = load<u64>(p + <usize>i);
    k *= 0xbf58476d1ce4e5b9;
    k ^= k >> 31;
    h = (h ^ k) * 0x94d049bb133111eb;
    h = (h << 27) | (h >> 37);
  }
  return h;
}

export function run(n: i32): i32 {
  for (let i = 0; i < SIZE; i++) store<u8>(BUF + <usize>i, <u8>(i * 31 + (i >> 8)));
  let acc: u32 = 0;
  for (let r = 0; r < n; r++) {
    store<u32>(BUF, <u32>r);
    acc ^= fnv1a(BUF, SIZE);
    const m = mix64(BUF, SIZE);
    acc += <u32>m ^ <u32>(m >> 32);
  }
  return <i32>acc;
}
