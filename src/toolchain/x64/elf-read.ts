// ELF file format for the assembler's tools: the constants the object writer
// uses, and a reader for ELF32/ELF64 little-endian files (headers, sections,
// program headers, symbols, relocations) for `capos disasm` and the tests.

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const EM_386 = 3;
export const EM_X86_64 = 62;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;

export const SHF_WRITE = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;
export const SHF_INFO_LINK = 0x40;

export const PT_LOAD = 1;
export const PF_X = 1;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;

/** x86-64 relocation types (System V AMD64 psABI). */
export const R_X86_64 = { "64": 1, PC32: 2, "32": 10, "32S": 11, "16": 12, PC16: 13, "8": 14, PC8: 15 } as const;
/** i386 relocation types (System V i386 ABI); i386 objects use REL with the addend in the field. */
export const R_386 = { "32": 1, PC32: 2, "16": 20, PC16: 21, "8": 22, PC8: 23 } as const;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  bind: number;
  type: number;
  shndx: number;
}

export interface ElfFile {
  bits: 32 | 64;
  type: number;
  machine: number;
  entry: bigint;
  sections: ElfSection[];
  segments: ElfSegment[];
  /** The symbol table without its null entry 0 (symbol index k is symbols[k - 1]). */
  symbols: ElfSymbol[];
  bytes: Uint8Array;
}

export interface ElfRelocation {
  /** Index of the section the relocation applies to. */
  section: number;
  offset: bigint;
  type: number;
  /** Symbol table index (symbols[symbol - 1]). */
  symbol: number;
  /** RELA addend; for REL (i386) the addend is in the field and this is null. */
  addend: bigint | null;
}

export function isElf(b: Uint8Array): boolean {
  return b.length >= 16 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

function cstr(b: Uint8Array, at: number): string {
  let end = at;
  while (end < b.length && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(at, end));
}

/** Parses an ELF file; throws Error with a reason when it is not a little-endian ELF32/ELF64. */
export function readElf(bytes: Uint8Array): ElfFile {
  if (!isElf(bytes)) throw new Error("not an ELF file");
  const cls = bytes[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw new Error(`unknown ELF class ${cls}`);
  if (bytes[5] !== 1) throw new Error("only little-endian ELF files are supported");
  const is64 = cls === ELFCLASS64;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const addr = (at: number): bigint => (is64 ? dv.getBigUint64(at, true) : BigInt(dv.getUint32(at, true)));
  const word = (at: number): number => (is64 ? Number(dv.getBigUint64(at, true)) : dv.getUint32(at, true));
  const check = (off: number, len: number, what: string) => {
    if (off < 0 || off + len > bytes.length) throw new Error(`truncated ELF file (${what})`);
  };
  check(0, is64 ? 64 : 52, "header");
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  const entry = addr(24);
  const phoff = word(is64 ? 32 : 28);
  const shoff = word(is64 ? 40 : 32);
  const phentsize = dv.getUint16(is64 ? 54 : 42, true);
  const phnum = dv.getUint16(is64 ? 56 : 44, true);
  const shentsize = dv.getUint16(is64 ? 58 : 46, true);
  const shnum = dv.getUint16(is64 ? 60 : 48, true);
  const shstrndx = dv.getUint16(is64 ? 62 : 50, true);

  const segments: ElfSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const p = phoff + k * phentsize;
    check(p, phentsize, "program header");
    segments.push(is64
      ? { type: dv.getUint32(p, true), flags: dv.getUint32(p + 4, true), offset: word(p + 8), vaddr: addr(p + 16), filesz: word(p + 32), memsz: word(p + 40) }
      : { type: dv.getUint32(p, true), offset: dv.getUint32(p + 4, true), vaddr: addr(p + 8), filesz: dv.getUint32(p + 16, true), memsz: dv.getUint32(p + 20, true), flags: dv.getUint32(p + 24, true) });
  }

  const raw: Omit<ElfSection, "name">[] = [];
  const nameOffsets: number[] = [];
  for (let k = 0; k < shnum; k++) {
    const s = shoff + k * shentsize;
    check(s, shentsize, "section header");
    nameOffsets.push(dv.getUint32(s, true));
    raw.push(is64
      ? {
        index: k, type: dv.getUint32(s + 4, true), flags: word(s + 8), addr: addr(s + 16), offset: word(s + 24), size: word(s + 32),
        link: dv.getUint32(s + 40, true), info: dv.getUint32(s + 44, true), align: word(s + 48), entsize: word(s + 56),
      }
      : {
        index: k, type: dv.getUint32(s + 4, true), flags: dv.getUint32(s + 8, true), addr: addr(s + 12), offset: dv.getUint32(s + 16, true),
        size: dv.getUint32(s + 20, true), link: dv.getUint32(s + 24, true), info: dv.getUint32(s + 28, true), align: dv.getUint32(s + 32, true),
        entsize: dv.getUint32(s + 36, true),
      });
  }
  const shstr = raw[shstrndx];
  const sections: ElfSection[] = raw.map((s, k) => ({ ...s, name: shstr ? cstr(bytes, shstr.offset + nameOffsets[k]!) : "" }));

  const symbols: ElfSymbol[] = [];
  for (const symtab of sections.filter((s) => s.type === SHT_SYMTAB)) {
    const strtab = sections[symtab.link];
    const ent = symtab.entsize || (is64 ? 24 : 16);
    check(symtab.offset, symtab.size, "symbol table");
    for (let at = symtab.offset + ent; at < symtab.offset + symtab.size; at += ent) {
      const nameOff = dv.getUint32(at, true);
      const info = is64 ? bytes[at + 4]! : bytes[at + 12]!;
      const shndx = dv.getUint16(is64 ? at + 6 : at + 14, true);
      const value = is64 ? dv.getBigUint64(at + 8, true) : BigInt(dv.getUint32(at + 4, true));
      const size = is64 ? dv.getBigUint64(at + 16, true) : BigInt(dv.getUint32(at + 8, true));
      symbols.push({ name: strtab ? cstr(bytes, strtab.offset + nameOff) : "", value, size, bind: info >> 4, type: info & 15, shndx });
    }
  }
  return { bits: is64 ? 64 : 32, type, machine, entry, sections, segments, symbols, bytes };
}

/** The relocation entries of an ELF file (SHT_RELA and SHT_REL sections). */
export function readRelocations(elf: ElfFile): ElfRelocation[] {
  const out: ElfRelocation[] = [];
  const is64 = elf.bits === 64;
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  for (const s of elf.sections) {
    if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
    const rela = s.type === SHT_RELA;
    const ent = s.entsize || (is64 ? (rela ? 24 : 16) : rela ? 12 : 8);
    for (let at = s.offset; at + ent <= s.offset + s.size; at += ent) {
      if (is64) {
        const info = dv.getBigUint64(at + 8, true);
        out.push({
          section: s.info, offset: dv.getBigUint64(at, true), type: Number(info & 0xffffffffn), symbol: Number(info >> 32n),
          addend: rela ? dv.getBigInt64(at + 16, true) : null,
        });
      } else {
        const info = dv.getUint32(at + 4, true);
        out.push({
          section: s.info, offset: BigInt(dv.getUint32(at, true)), type: info & 0xff, symbol: info >>> 8,
          addend: rela ? BigInt(dv.getInt32(at + 8, true)) : null,
        });
      }
    }
  }
  return out;
}
