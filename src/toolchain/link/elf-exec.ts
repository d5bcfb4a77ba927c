// Writes ELF64 executables (x86-64, little-endian): PT_LOAD program headers for
// the loader, plus section headers and a symbol table so standard tools
// (readelf, objdump, nm) and capos's own disassembler can name addresses.
// Format constants come from the ELF reader (x64/elf-read.ts).
import {
  EM_X86_64, ET_EXEC, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_NOBITS, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB,
  STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_NOTYPE, STT_OBJECT,
} from "../x64/elf-read.js";

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export { PT_LOAD };

export interface ExecSegment {
  /** p_type (PT_LOAD, or an OS-specific type). */
  type: number;
  flags: number;
  vaddr: number;
  paddr: number;
  /** Bytes stored in the file (may be shorter than memSize: the rest is zero). */
  data: Uint8Array;
  memSize: number;
  align: number;
  /** Optional section name describing this segment's contents (".text", ".data" ...). */
  section?: { name: string; type: "progbits" | "nobits"; flags: "ax" | "a" | "aw" };
}

export interface ExecSymbol {
  name: string;
  value: number;
  size: number;
  kind: "func" | "object" | "";
  global: boolean;
}

export interface ExecImage {
  entry: number;
  segments: ExecSegment[];
  symbols: ExecSymbol[];
  /** Place every segment at fileBase + (vaddr - vbase): one contiguous file image (Multiboot). */
  fileLayout?: { vbase: number; fileBase: number };
}

const TWO32 = 4294967296;
const PAGE = 0x1000;

class Out {
  b: number[] = [];
  u8(v: number): void { this.b.push(v & 0xff); }
  u16(v: number): void { this.u8(v); this.u8(v >>> 8); }
  u32(v: number): void { for (let k = 0; k < 4; k++) this.u8(v >>> (8 * k)); }
  u64(v: number): void {
    const hi = Math.floor(v / TWO32);
    this.u32(v - hi * TWO32);
    this.u32(hi);
  }
  pad(to: number): void { while (this.b.length < to) this.b.push(0); }
  bytes(d: Uint8Array): void { for (const x of d) this.b.push(x); }
}


/** Serialises an executable. Segments keep file offset ≡ vaddr (mod page) as loaders require. */
export function writeExecutable(img: ExecImage): Uint8Array {
  const phnum = img.segments.length;
  const headerEnd = 64 + 56 * phnum;
  // File layout: headers, optional prefix, then each segment's data at an offset congruent to its vaddr.
  let at = headerEnd;
  const offsets: number[] = [];
  const fl = img.fileLayout;
  if (fl !== undefined && fl.fileBase < headerEnd) throw new Error("ELF writer: the fixed file layout starts inside the headers");
  for (const s of img.segments) {
    if (fl !== undefined) {
      const off = fl.fileBase + (s.vaddr - fl.vbase);
      offsets.push(off);
      at = Math.max(at, off + s.data.length);
      continue;
    }
    if (s.data.length === 0) { offsets.push(at); continue; }
    const want = s.vaddr % PAGE;
    at = Math.ceil((at - want) / PAGE) * PAGE + want;
    if (at < headerEnd) at += PAGE;
    offsets.push(at);
    at += s.data.length;
  }
  const fileDataEnd = at;

  // String tables and symbols.
  const shstr = new Out();
  const shName = (n: string) => { const o = shstr.b.length; for (const c of new TextEncoder().encode(n)) shstr.u8(c); shstr.u8(0); return o; };
  shName("");
  const strtab = new Out();
  strtab.u8(0);
  const symtab = new Out();
  for (let k = 0; k < 24; k++) symtab.u8(0); // the null symbol
  // Section header index of the section holding an address (SHN_ABS when none does).
  const described = img.segments.filter((s) => s.section !== undefined);
  const sectionOf = (addr: number): number => {
    const k = described.findIndex((s) => addr >= s.vaddr && addr < s.vaddr + Math.max(s.memSize, 1));
    return k < 0 ? SHN_ABS : k + 1;
  };
  const locals = img.symbols.filter((s) => !s.global);
  const globals = img.symbols.filter((s) => s.global);
  for (const s of [...locals, ...globals]) {
    const nameOff = strtab.b.length;
    for (const c of new TextEncoder().encode(s.name)) strtab.u8(c);
    strtab.u8(0);
    symtab.u32(nameOff);
    const type = s.kind === "func" ? STT_FUNC : s.kind === "object" ? STT_OBJECT : STT_NOTYPE;
    symtab.u8(((s.global ? STB_GLOBAL : STB_LOCAL) << 4) | type);
    symtab.u8(0);
    symtab.u16(sectionOf(s.value)); // values are addresses in either case (ET_EXEC)
    symtab.u64(s.value);
    symtab.u64(s.size);
  }
  const sections = img.segments.map((s, k) => ({ s, k })).filter((x) => x.s.section !== undefined);
  const names = {
    sections: sections.map((x) => shName(x.s.section!.name)),
    symtab: shName(".symtab"),
    strtab: shName(".strtab"),
    shstrtab: shName(".shstrtab"),
  };
  let tail = Math.ceil(fileDataEnd / 8) * 8;
  const symtabOff = tail; tail += symtab.b.length;
  const strtabOff = tail; tail += strtab.b.length;
  const shstrOff = tail; tail += shstr.b.length;
  const shoff = Math.ceil(tail / 8) * 8;
  const shnum = 1 + sections.length + 3;

  const o = new Out();
  // ELF header.
  o.bytes(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  o.u16(ET_EXEC);
  o.u16(EM_X86_64);
  o.u32(1);
  o.u64(img.entry);
  o.u64(64);
  o.u64(shoff);
  o.u32(0);
  o.u16(64);
  o.u16(56);
  o.u16(phnum);
  o.u16(64);
  o.u16(shnum);
  o.u16(shnum - 1);
  // Program headers.
  img.segments.forEach((s, k) => {
    o.u32(s.type);
    o.u32(s.flags);
    o.u64(offsets[k]!);
    o.u64(s.vaddr);
    o.u64(s.paddr);
    o.u64(s.data.length);
    o.u64(s.memSize);
    o.u64(s.align);
  });
  // Segments in file order (a fixed layout may list them out of order).
  const order = img.segments.map((_, k) => k).filter((k) => img.segments[k]!.data.length > 0).sort((a, b) => offsets[a]! - offsets[b]!);
  for (const k of order) {
    if (o.b.length > offsets[k]!) throw new Error("ELF writer: segments overlap in the file");
    o.pad(offsets[k]!);
    o.bytes(img.segments[k]!.data);
  }
  o.pad(symtabOff); o.bytes(Uint8Array.from(symtab.b));
  o.pad(strtabOff); o.bytes(Uint8Array.from(strtab.b));
  o.pad(shstrOff); o.bytes(Uint8Array.from(shstr.b));
  o.pad(shoff);
  // Section headers: null, one per described segment, .symtab, .strtab, .shstrtab.
  const sh = (name: number, type: number, flags: number, addr: number, off: number, size: number, link: number, info: number, align: number, entsize: number) => {
    o.u32(name); o.u32(type); o.u64(flags); o.u64(addr); o.u64(off); o.u64(size); o.u32(link); o.u32(info); o.u64(align); o.u64(entsize);
  };
  sh(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  sections.forEach(({ s, k }, j) => {
    const sec = s.section!;
    const flags = SHF_ALLOC | (sec.flags.includes("w") ? SHF_WRITE : 0) | (sec.flags.includes("x") ? SHF_EXECINSTR : 0);
    const nobits = sec.type === "nobits";
    sh(names.sections[j]!, nobits ? SHT_NOBITS : SHT_PROGBITS, flags, s.vaddr, offsets[k]!, nobits ? s.memSize : s.data.length, 0, 0, 16, 0);
  });
  const strtabIndex = 1 + sections.length + 1;
  sh(names.symtab, SHT_SYMTAB, 0, 0, symtabOff, symtab.b.length, strtabIndex, 1 + locals.length, 8, 24);
  sh(names.strtab, SHT_STRTAB, 0, 0, strtabOff, strtab.b.length, 0, 0, 1, 0);
  sh(names.shstrtab, SHT_STRTAB, 0, 0, shstrOff, shstr.b.length, 0, 0, 1, 0);
  return Uint8Array.from(o.b);
}

/** The file offset of a virtual address inside a written image (for tests and loaders). */
export function fileOffsetOf(elf: Uint8Array, vaddr: number): number {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(dv.getBigUint64(32, true));
  const phnum = dv.getUint16(56, true);
  for (let k = 0; k < phnum; k++) {
    const p = phoff + 56 * k;
    const off = Number(dv.getBigUint64(p + 8, true));
    const va = Number(dv.getBigUint64(p + 16, true));
    const filesz = Number(dv.getBigUint64(p + 32, true));
    if (vaddr >= va && vaddr < va + filesz) return off + (vaddr - va);
  }
  return -1;
}
