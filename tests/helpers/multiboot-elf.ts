// Minimal ELF32/ELF64 executables for the Multiboot loader tests: an ELF
// header, PT_LOAD program headers, a Multiboot header (no address flag) at file
// offset 0x200 and each segment's bytes from 0x1000 on. Only what the loader reads.

export interface ElfSegmentSpec {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  /** Memory size (default data.length): the rest is zero-filled BSS. */
  memSize?: number;
}

export interface ElfSpec {
  bits: 32 | 64;
  entry: number;
  segments: ElfSegmentSpec[];
  /** Multiboot header flags (default 0x3: page-aligned modules, memory info). */
  multibootFlags?: number;
}

const MB_OFFSET = 0x200;
const DATA_OFFSET = 0x1000;

export function elfImage(spec: ElfSpec): Uint8Array {
  const is64 = spec.bits === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  let offset = DATA_OFFSET;
  const placed = spec.segments.map((s) => {
    const at = offset;
    offset += Math.ceil(s.data.length / 16) * 16;
    return at;
  });
  const out = new Uint8Array(Math.max(offset, DATA_OFFSET));
  const dv = new DataView(out.buffer);
  const put = (o: number, v: number, size: number): void => {
    if (size === 2) dv.setUint16(o, v, true);
    else if (size === 4) dv.setUint32(o, v >>> 0, true);
    else {
      dv.setUint32(o, v % 0x100000000, true);
      dv.setUint32(o + 4, Math.floor(v / 0x100000000), true);
    }
  };
  const word = is64 ? 8 : 4;
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1], 0);
  put(16, 2, 2); // ET_EXEC
  put(18, is64 ? 62 : 3, 2);
  put(20, 1, 4);
  put(24, spec.entry, word);
  put(is64 ? 32 : 28, ehsize, word); // phoff
  put(is64 ? 52 : 40, ehsize, 2);
  put(is64 ? 54 : 42, phentsize, 2);
  put(is64 ? 56 : 44, spec.segments.length, 2);
  spec.segments.forEach((s, k) => {
    const p = ehsize + k * phentsize;
    const memSize = s.memSize ?? s.data.length;
    put(p, 1, 4); // PT_LOAD
    if (is64) {
      put(p + 4, 7, 4);
      put(p + 8, placed[k]!, 8);
      put(p + 16, s.vaddr ?? s.paddr, 8);
      put(p + 24, s.paddr, 8);
      put(p + 32, s.data.length, 8);
      put(p + 40, memSize, 8);
      put(p + 48, 0x1000, 8);
    } else {
      put(p + 4, placed[k]!, 4);
      put(p + 8, s.vaddr ?? s.paddr, 4);
      put(p + 12, s.paddr, 4);
      put(p + 16, s.data.length, 4);
      put(p + 20, memSize, 4);
      put(p + 24, 7, 4);
      put(p + 28, 0x1000, 4);
    }
    out.set(s.data, placed[k]!);
  });
  const flags = spec.multibootFlags ?? 0x3;
  put(MB_OFFSET, 0x1badb002, 4);
  put(MB_OFFSET + 4, flags, 4);
  put(MB_OFFSET + 8, (-(0x1badb002 + flags)) >>> 0, 4);
  return out;
}
