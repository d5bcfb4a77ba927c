// The linker's input: relocatable objects with sections, symbols and
// relocations. Compiled wasm modules produce them directly; assembly stubs
// arrive as the project assembler's ObjectFile and are converted here.
import type { ObjectFile } from "../x64/assembler.js";

export type SectionKind = "text" | "rodata" | "data" | "bss";

/** Relocation kinds (ELF x86-64: R_X86_64_PC32, R_X86_64_64, R_X86_64_32, R_X86_64_32S). */
export type LinkRelocKind = "pc32" | "abs64" | "abs32" | "abs32s";

export interface LinkReloc {
  offset: number;
  kind: LinkRelocKind;
  symbol: string;
  /** Field = S + addend (abs) or S + addend - P (pc32). */
  addend: number;
}

export interface LinkSection {
  kind: SectionKind;
  /** Contents (empty for bss). */
  bytes: Uint8Array;
  size: number;
  align: number;
  relocs: LinkReloc[];
}

export interface LinkSymbol {
  name: string;
  /** Index into the object's sections, or -1 for an absolute value. */
  section: number;
  value: number;
  size: number;
  kind: "func" | "object" | "";
}

export interface LinkObject {
  /** For messages (module or file name). */
  name: string;
  sections: LinkSection[];
  /** Definitions. Any symbol a relocation names and no object defines is an error (or resolved by the caller). */
  symbols: LinkSymbol[];
}

function kindOf(name: string, flags: string, nobits: boolean): SectionKind {
  if (nobits) return "bss";
  if (flags.includes("x")) return "text";
  if (flags.includes("w")) return "data";
  if (name === ".rodata" || name.startsWith(".rodata")) return "rodata";
  return "rodata";
}

const RELOC_KINDS: Record<string, LinkRelocKind> = { pc32: "pc32", abs64: "abs64", abs32: "abs32", abs32s: "abs32s" };

/** Converts the assembler's relocatable output (64-bit and 32-bit code, e.g. entry stubs). */
export function fromAssemblerObject(name: string, obj: ObjectFile): LinkObject {
  const sections: LinkSection[] = [];
  const index = new Map<string, number>();
  for (const s of obj.sections) {
    if (s.size === 0 && s.relocations.length === 0) continue;
    index.set(s.name, sections.length);
    sections.push({
      kind: kindOf(s.name, s.flags, s.nobits),
      bytes: s.nobits ? new Uint8Array(0) : s.bytes,
      size: s.size,
      align: s.align,
      relocs: s.relocations.map((r) => {
        const kind = RELOC_KINDS[r.kind];
        if (kind === undefined) throw new Error(`${name}: relocation kind ${r.kind} is not supported by the linker`);
        // Relocations against a section name refer to that section's start: keep them as section symbols.
        return { offset: r.offset, kind, symbol: index.has(r.symbol) || obj.sections.some((x) => x.name === r.symbol) ? `${name}:${r.symbol}` : r.symbol, addend: Number(r.addend) };
      }),
    });
  }
  const symbols: LinkSymbol[] = [];
  for (const s of obj.sections) {
    const k = index.get(s.name);
    if (k !== undefined) symbols.push({ name: `${name}:${s.name}`, section: k, value: 0, size: 0, kind: "" });
  }
  for (const sym of obj.symbols) {
    if (!sym.defined) continue;
    if (sym.section === null) {
      symbols.push({ name: sym.name, section: -1, value: Number(sym.value), size: 0, kind: "" });
      continue;
    }
    const k = index.get(sym.section);
    if (k === undefined) {
      // A label in an empty section: place it at the start of an empty text section.
      index.set(sym.section, sections.length);
      sections.push({ kind: "text", bytes: new Uint8Array(0), size: 0, align: 1, relocs: [] });
    }
    symbols.push({
      name: sym.name, section: index.get(sym.section)!, value: Number(sym.value),
      size: sym.size === null ? 0 : Number(sym.size), kind: sym.type,
    });
  }
  return { name, sections, symbols };
}
