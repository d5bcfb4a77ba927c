// A workaround for one wasmparser 5.11.1 defect: it reads an element segment's
// flags as a single byte, while the binary format makes them a u32 LEB128 that
// may use a non-minimal encoding ("\80\00" for 0, as binary-leb128.wast does).
// Such modules are valid (the engine's validator accepts them) but wasmparser
// throws. Only then does the decoder call this, which re-encodes those flags in
// one byte; every other byte of the module is copied unchanged.

function readLeb(b: Uint8Array, p: number): [number, number] {
  let v = 0, shift = 0, byte: number;
  do {
    byte = b[p++]!;
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [v, p];
}

function skipLeb(b: Uint8Array, p: number): number {
  while (b[p++]! & 0x80) { /* continuation bytes */ }
  return p;
}

function lebBytes(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

/** Skips a constant expression (through its `end`). */
function skipExpr(b: Uint8Array, p: number): number {
  for (;;) {
    const op = b[p++]!;
    switch (op) {
      case 0x0b: return p;
      case 0x41: case 0x42: case 0x23: case 0xd0: case 0xd2: p = skipLeb(b, p); break;
      case 0x43: p += 4; break;
      case 0x44: p += 8; break;
      default: break; // extended-constant arithmetic has no immediates
    }
  }
}

function skipVec(b: Uint8Array, p: number, item: (p: number) => number): number {
  const [n, q] = readLeb(b, p);
  p = q;
  for (let k = 0; k < n; k++) p = item(p);
  return p;
}

function rewriteElementSection(b: Uint8Array): number[] {
  const [count, start] = readLeb(b, 0);
  const out = lebBytes(count);
  let p = start;
  for (let k = 0; k < count; k++) {
    const [flags, q] = readLeb(b, p);
    out.push(flags);
    const from = q;
    p = q;
    if (flags === 2 || flags === 6) p = skipLeb(b, p); // table index
    if ((flags & 1) === 0) p = skipExpr(b, p); // offset of an active segment
    if ((flags & 3) !== 0) p += 1; // element kind or reference type byte
    p = (flags & 4) === 0 ? skipVec(b, p, (x) => skipLeb(b, x)) : skipVec(b, p, (x) => skipExpr(b, x));
    for (let i = from; i < p; i++) out.push(b[i]!);
  }
  return out;
}

/** The module with element-segment flags in their one-byte form. */
export function canonicalizeElementFlags(bytes: Uint8Array): Uint8Array {
  const out: number[] = Array.from(bytes.subarray(0, 8));
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const [size, q] = readLeb(bytes, p);
    const body = bytes.subarray(q, q + size);
    p = q + size;
    const content = id === 9 ? rewriteElementSection(body) : Array.from(body);
    out.push(id, ...lebBytes(content.length));
    for (const x of content) out.push(x);
  }
  return Uint8Array.from(out);
}
