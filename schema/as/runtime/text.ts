// Views of Text and Data values inside a message (no copies), and UTF-8
// helpers that work on AssemblyScript strings without allocating: measuring,
// encoding into a caller's buffer, and comparing against message bytes.

/** A byte range inside a message (or inside a schema default). */
@unmanaged export class BlobReader {
  /** Address of the first byte. */
  ptr: usize = 0;
  /** Number of bytes (for Text, not counting the NUL terminator). */
  length: u32 = 0;

  /** Byte `i`, or 0 past the end. */
  byteAt(i: u32): u8 {
    return i < this.length ? load<u8>(this.ptr + i) : 0;
  }

  /** Whether the bytes equal `len` bytes at `other`. */
  equalsBytes(other: usize, len: u32): bool {
    if (len != this.length) return false;
    return memory.compare(this.ptr, other, len) == 0;
  }

  /** Copies up to `capacity` bytes to `dst`; returns how many were copied. */
  copyTo(dst: usize, capacity: u32): u32 {
    const n = this.length < capacity ? this.length : capacity;
    memory.copy(dst, this.ptr, n);
    return n;
  }
}

/** A Text value: UTF-8 bytes; the NUL terminator is checked but not counted. */
@unmanaged export class TextReader extends BlobReader {
  /** Whether the text equals `s` (compared as UTF-8, without allocating). */
  equals(s: string): bool {
    return utf8Equals(this.ptr, this.length, s);
  }
}

/** A Data value: raw bytes. */
@unmanaged export class DataReader extends BlobReader {}

const REPLACEMENT: u32 = 0xfffd;

/** Reads the code point starting at UTF-16 index `i`; lone surrogates become U+FFFD. */
@inline function codePointAt(s: string, i: i32, n: i32): u32 {
  const base = changetype<usize>(s);
  const c = <u32>load<u16>(base + (<usize>i << 1));
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < n) {
    const d = <u32>load<u16>(base + (<usize>(i + 1) << 1));
    if (d >= 0xdc00 && d <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return REPLACEMENT;
}

@inline function utf8Width(cp: u32): u32 {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** UTF-16 code units consumed by the code point `cp`. */
@inline function utf16Width(cp: u32): i32 {
  return cp >= 0x10000 ? 2 : 1;
}

/** The number of bytes `s` takes as UTF-8. */
export function utf8Length(s: string): u32 {
  const n = s.length;
  let bytes: u32 = 0;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(s, i, n);
    bytes += utf8Width(cp);
    i += utf16Width(cp);
  }
  return bytes;
}

/** Writes the UTF-8 encoding of code point `cp` at `dst`; returns its width. */
@inline function putCodePoint(dst: usize, cp: u32): u32 {
  if (cp < 0x80) {
    store<u8>(dst, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(dst, <u8>(0xc0 | (cp >> 6)));
    store<u8>(dst + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(dst, <u8>(0xe0 | (cp >> 12)));
    store<u8>(dst + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(dst + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(dst, <u8>(0xf0 | (cp >> 18)));
  store<u8>(dst + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(dst + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(dst + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}

/** Encodes `s` as UTF-8 at `dst` (which must hold utf8Length(s) bytes); returns the byte count. */
export function utf8Encode(s: string, dst: usize): u32 {
  const n = s.length;
  let at: u32 = 0;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(s, i, n);
    at += putCodePoint(dst + at, cp);
    i += utf16Width(cp);
  }
  return at;
}

/** Byte `k` of the `w`-byte UTF-8 encoding of code point `cp`. */
@inline function utf8Byte(cp: u32, w: u32, k: u32): u8 {
  if (w == 1) return <u8>cp;
  if (k == 0) {
    const lead: u32 = w == 2 ? 0xc0 : w == 3 ? 0xe0 : 0xf0;
    return <u8>(lead | (cp >> (6 * (w - 1))));
  }
  return <u8>(0x80 | ((cp >> (6 * (w - 1 - k))) & 0x3f));
}

/** Whether `len` UTF-8 bytes at `ptr` spell exactly `s`. */
export function utf8Equals(ptr: usize, len: u32, s: string): bool {
  const n = s.length;
  let at: u32 = 0;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(s, i, n);
    const w = utf8Width(cp);
    if (at + w > len) return false;
    for (let k: u32 = 0; k < w; k++) {
      if (load<u8>(ptr + at + k) != utf8Byte(cp, w, k)) return false;
    }
    at += w;
    i += utf16Width(cp);
  }
  return at == len;
}
