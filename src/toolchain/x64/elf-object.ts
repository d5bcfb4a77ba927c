// Writes an assembler ObjectFile as an ELF relocatable object (ET_REL): ELF64
// with RELA relocations for x86-64 code, ELF32 with REL relocations (addend in
// the field) for i386 code. The linker and standard tools (readelf, objdump, ld)
// read the result.
import type { ObjectFile, RelocKind } from "./assembler.js";
import {
  ELFCLASS32, ELFCLASS64, EM_386, EM_X86_64, ET_REL, R_386, R_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_INFO_LINK, SHF_WRITE,
  SHN_ABS, SHN_UNDEF, SHT_NOBITS, SHT_PROGBITS, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL,
  STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION,
} from "./elf-read.js";

const X64_TYPES: Record<RelocKind, number> = {
  abs64: R_X86_64["64"], abs32: R_X86_64["32"], abs32s: R_X86_64["32S"], pc32: R_X86_64.PC32,
  abs16: R_X86_64["16"], pc16: R_X86_64.PC16, abs8: R_X86_64["8"], pc8: R_X86_64.PC8,
};
const I386_TYPES: Partial<Record<RelocKind, number>> = {
  abs32: R_386["32"], abs32s: R_386["32"], pc32: R_386.PC32, abs16: R_386["16"], pc16: R_386.PC16, abs8: R_386["8"], pc8: R_386.PC8,
};
const RELOC_WIDTH: Record<RelocKind, number> = { abs64: 8, abs32: 4, abs32s: 4, pc32: 4, abs16: 2, pc16: 2, abs8: 1, pc8: 1 };

class StringTable {
  readonly bytes: number[] = [0];
  private readonly at = new Map<string, number>();
  add(s: string): number {
    if (s === "") return 0;
    const k = this.at.get(s);
    if (k !== undefined) return k;
    const off = this.bytes.length;
    this.bytes.push(...new TextEncoder().encode(s), 0);
    this.at.set(s, off);
    return off;
  }
}

interface SectionOut {
  name: number;
  type: number;
  flags: number;
  data: Uint8Array;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

/** Serialises an object file. `elf32` selects ELF32/i386 (the default follows obj.bits). */
export function writeElfObject(obj: ObjectFile, opts: { elf32?: boolean } = {}): Uint8Array {
  const is32 = opts.elf32 ?? obj.bits !== 64;
  const shstr = new StringTable();
  const strtab = new StringTable();
  const out: SectionOut[] = [{ name: 0, type: 0, flags: 0, data: new Uint8Array(0), size: 0, link: 0, info: 0, align: 0, entsize: 0 }];
  const sectionIndex = new Map<string, number>();
  for (const s of obj.sections) {
    const flags = (s.flags.includes("a") ? SHF_ALLOC : 0) | (s.flags.includes("w") ? SHF_WRITE : 0) | (s.flags.includes("x") ? SHF_EXECINSTR : 0);
    sectionIndex.set(s.name, out.length);
    out.push({
      name: shstr.add(s.name), type: s.nobits ? SHT_NOBITS : SHT_PROGBITS, flags, data: s.nobits ? new Uint8Array(0) : s.bytes.slice(),
      size: s.size, link: 0, info: 0, align: s.align, entsize: 0,
    });
  }

  // Symbols: null, section symbols, locals, then globals (ELF requires locals first).
  type Sym = { name: number; value: bigint; size: bigint; info: number; shndx: number };
  const syms: Sym[] = [{ name: 0, value: 0n, size: 0n, info: 0, shndx: 0 }];
  const symIndex = new Map<string, number>();
  for (const s of obj.sections) {
    symIndex.set(`section:${s.name}`, syms.length);
    syms.push({ name: 0, value: 0n, size: 0n, info: (STB_LOCAL << 4) | STT_SECTION, shndx: sectionIndex.get(s.name)! });
  }
  const typeOf = (t: string) => (t === "func" ? STT_FUNC : t === "object" ? STT_OBJECT : STT_NOTYPE);
  const ordered = [...obj.symbols.filter((s) => !s.global), ...obj.symbols.filter((s) => s.global)];
  const firstGlobal = syms.length + ordered.filter((s) => !s.global).length;
  for (const s of ordered) {
    const shndx = !s.defined ? SHN_UNDEF : s.section === null ? SHN_ABS : sectionIndex.get(s.section)!;
    symIndex.set(s.name, syms.length);
    syms.push({ name: strtab.add(s.name), value: s.value, size: s.size ?? 0n, info: ((s.global ? STB_GLOBAL : STB_LOCAL) << 4) | typeOf(s.type), shndx });
  }

  // Relocation sections.
  const symtabIndex = out.length + obj.sections.filter((s) => s.relocations.length > 0).length;
  for (const s of obj.sections) {
    if (s.relocations.length === 0) continue;
    const target = sectionIndex.get(s.name)!;
    const data = out[target]!.data;
    const entsize = is32 ? 8 : 24;
    const rel = new Uint8Array(entsize * s.relocations.length);
    const dv = new DataView(rel.buffer);
    s.relocations.forEach((r, k) => {
      const sym = obj.sections.some((x) => x.name === r.symbol) ? symIndex.get(`section:${r.symbol}`) : symIndex.get(r.symbol);
      if (sym === undefined) throw new Error(`relocation against unknown symbol ${r.symbol}`);
      const at = k * entsize;
      if (is32) {
        const type = I386_TYPES[r.kind];
        if (type === undefined) throw new Error(`relocation ${r.kind} does not exist in ELF32 (i386)`);
        dv.setUint32(at, r.offset, true);
        dv.setUint32(at + 4, (sym << 8) | type, true);
        // REL: the addend lives in the field.
        let a = BigInt.asUintN(RELOC_WIDTH[r.kind] * 8, r.addend);
        for (let b = 0; b < RELOC_WIDTH[r.kind]; b++) { data[r.offset + b] = Number(a & 0xffn); a >>= 8n; }
      } else {
        dv.setBigUint64(at, BigInt(r.offset), true);
        dv.setBigUint64(at + 8, (BigInt(sym) << 32n) | BigInt(X64_TYPES[r.kind]), true);
        dv.setBigInt64(at + 16, BigInt.asIntN(64, r.addend), true);
      }
    });
    out.push({
      name: shstr.add(`${is32 ? ".rel" : ".rela"}${s.name}`), type: is32 ? SHT_REL : SHT_RELA, flags: SHF_INFO_LINK, data: rel, size: rel.length,
      link: symtabIndex, info: target, align: is32 ? 4 : 8, entsize,
    });
  }

  // .symtab, .strtab, .shstrtab
  const symEnt = is32 ? 16 : 24;
  const symData = new Uint8Array(symEnt * syms.length);
  const sdv = new DataView(symData.buffer);
  syms.forEach((s, k) => {
    const at = k * symEnt;
    sdv.setUint32(at, s.name, true);
    if (is32) {
      sdv.setUint32(at + 4, Number(BigInt.asUintN(32, s.value)), true);
      sdv.setUint32(at + 8, Number(BigInt.asUintN(32, s.size)), true);
      symData[at + 12] = s.info;
      sdv.setUint16(at + 14, s.shndx, true);
    } else {
      symData[at + 4] = s.info;
      sdv.setUint16(at + 6, s.shndx, true);
      sdv.setBigUint64(at + 8, BigInt.asUintN(64, s.value), true);
      sdv.setBigUint64(at + 16, BigInt.asUintN(64, s.size), true);
    }
  });
  out.push({ name: shstr.add(".symtab"), type: SHT_SYMTAB, flags: 0, data: symData, size: symData.length, link: out.length + 1, info: firstGlobal, align: 8, entsize: symEnt });
  const strData = Uint8Array.from(strtab.bytes);
  out.push({ name: shstr.add(".strtab"), type: SHT_STRTAB, flags: 0, data: strData, size: strData.length, link: 0, info: 0, align: 1, entsize: 0 });
  const shstrIndex = out.length;
  out.push({ name: shstr.add(".shstrtab"), type: SHT_STRTAB, flags: 0, data: new Uint8Array(0), size: 0, link: 0, info: 0, align: 1, entsize: 0 });
  const shstrData = Uint8Array.from(shstr.bytes);
  out[shstrIndex]!.data = shstrData;
  out[shstrIndex]!.size = shstrData.length;

  // Layout: header, section contents, section header table.
  const ehsize = is32 ? 52 : 64;
  const shentsize = is32 ? 40 : 64;
  let at = ehsize;
  const offsets: number[] = [];
  for (const s of out) {
    const align = Math.max(1, s.align);
    at = Math.ceil(at / align) * align;
    offsets.push(at);
    if (s.type !== SHT_NOBITS) at += s.data.length;
  }
  at = Math.ceil(at / 8) * 8;
  const shoff = at;
  const file = new Uint8Array(shoff + shentsize * out.length);
  const dv = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, is32 ? ELFCLASS32 : ELFCLASS64, 1, 1, 0], 0);
  dv.setUint16(16, ET_REL, true);
  dv.setUint16(18, is32 ? EM_386 : EM_X86_64, true);
  dv.setUint32(20, 1, true);
  if (is32) {
    dv.setUint32(32, shoff, true);
    dv.setUint16(40, ehsize, true);
    dv.setUint16(46, shentsize, true);
    dv.setUint16(48, out.length, true);
    dv.setUint16(50, shstrIndex, true);
  } else {
    dv.setBigUint64(40, BigInt(shoff), true);
    dv.setUint16(52, ehsize, true);
    dv.setUint16(58, shentsize, true);
    dv.setUint16(60, out.length, true);
    dv.setUint16(62, shstrIndex, true);
  }
  out.forEach((s, k) => {
    if (s.type !== SHT_NOBITS) file.set(s.data, offsets[k]!);
    const h = shoff + k * shentsize;
    dv.setUint32(h, s.name, true);
    dv.setUint32(h + 4, s.type, true);
    if (is32) {
      dv.setUint32(h + 8, s.flags, true);
      dv.setUint32(h + 16, k === 0 ? 0 : offsets[k]!, true);
      dv.setUint32(h + 20, s.size, true);
      dv.setUint32(h + 24, s.link, true);
      dv.setUint32(h + 28, s.info, true);
      dv.setUint32(h + 32, s.align, true);
      dv.setUint32(h + 36, s.entsize, true);
    } else {
      dv.setBigUint64(h + 8, BigInt(s.flags), true);
      dv.setBigUint64(h + 24, BigInt(k === 0 ? 0 : offsets[k]!), true);
      dv.setBigUint64(h + 32, BigInt(s.size), true);
      dv.setUint32(h + 40, s.link, true);
      dv.setUint32(h + 44, s.info, true);
      dv.setBigUint64(h + 48, BigInt(s.align), true);
      dv.setBigUint64(h + 56, BigInt(s.entsize), true);
    }
  });
  return file;
}
