// 64- and 32-bit integer operations for the differential tests: division and
// remainder of every signedness, shifts, rotates, bit counts, sign extension,
// mixed-width conversions and unaligned accesses of every width.

const BUF: usize = memory.data(4096);

function i64ops(a: i64, b: i64): i64 {
  let r: i64 = 0;
  if (b != 0) {
    r += a / b;
    r ^= a % b;
    r += i64(u64(a) / u64(b));
    r ^= i64(u64(a) % u64(b));
  }
  r += (a << (b & 63)) ^ (a >> (b & 31)) ^ i64(u64(a) >> u64(b & 17));
  r += rotl<i64>(a, b) ^ rotr<i64>(b, a);
  r += clz<i64>(a) + ctz<i64>(b) + popcnt<i64>(a ^ b);
  r += i64(i8(a)) + i64(i16(b)) + i64(i32(a ^ b));
  return r;
}

function i32ops(a: i32, b: i32): i32 {
  let r = 0;
  if (b != 0 && !(a == i32.MIN_VALUE && b == -1)) { r += a / b; r ^= a % b; }
  if (b != 0) { r += i32(u32(a) / u32(b)); r ^= i32(u32(a) % u32(b)); }
  r += (a << b) ^ (a >> b) ^ i32(u32(a) >>> b) ^ rotl<i32>(a, b) ^ rotr<i32>(b, a);
  r += clz<i32>(a) * 3 + ctz<i32>(b) * 5 + popcnt<i32>(a & b) * 7;
  r += select<i32>(a, b, a < b) + select<i32>(a, b, u32(a) > u32(b));
  return r;
}

function memops(seed: i32): i64 {
  for (let i = 0; i < 4096; i++) store<u8>(BUF + <usize>i, u8(seed * i + (i >> 3)));
  let acc: i64 = 0;
  for (let i = 0; i < 4000; i += 3) {
    acc += i64(load<i8>(BUF + <usize>i)) + i64(load<u16>(BUF + <usize>i)) + i64(load<i32>(BUF + <usize>i)) + load<i64>(BUF + <usize>i);
    store<u16>(BUF + <usize>i + 1, u16(acc));
    store<i64>(BUF + <usize>((i * 7) % 4088), acc);
  }
  return acc;
}

export function run(n: i32): i32 {
  let s: i64 = 0x1234_5678_9abc_def0;
  let t: i32 = 0;
  for (let k = 0; k < n; k++) {
    s = s * 6364136223846793005 + 1442695040888963407;
    const a = s ^ (s >> 29);
    const b = (s << 7) | i64(k);
    t += i32(i64ops(a, b) ^ i64ops(b, a >> (k & 63)));
    t ^= i32ops(i32(a), i32(b >> 32)) + i32ops(i32(b), k);
    t += i32(f64(a) / 1e15) ^ i32(f32(u64(b) >> 40)) ^ i32(u32(f64(u64(a)) / 1e12));
  }
  return t ^ i32(memops(t));
}
