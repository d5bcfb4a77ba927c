// `capos disasm <file>`: prints the instructions of a raw binary or of the
// executable sections (or segments) of an ELF file, with symbol names.
import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { disassemble, type Bits } from "../toolchain/x64/disasm.js";
import {
  EM_386, isElf, readElf, readRelocations, PF_X, PT_LOAD, R_386, R_X86_64, SHF_EXECINSTR, SHT_NOBITS, STT_FUNC, STT_NOTYPE,
  STT_OBJECT, type ElfFile,
} from "../toolchain/x64/elf-read.js";
import { parseAddress, parseBits } from "./asm.js";
import { parseSymbolMap } from "../toolchain/link/static-link.js";

export interface DisasmCliOptions {
  base?: string;
  bits?: string;
  /** A capos symbol map (the linker's `.map`); default: the `.map` beside an ELF file, if any. */
  map?: string;
}

/**
 * The names a capos symbol map (the linker's format, parsed by parseSymbolMap)
 * gives to code addresses: the wasm function name when the module had one,
 * else the symbol name; untyped size-less symbols (absolute constants) are left out.
 */
export function readSymbolMap(text: string): Map<bigint, string> {
  const out = new Map<bigint, string>();
  for (const s of parseSymbolMap(text)) {
    if (s.kind === "" && s.size === 0) continue;
    const label = s.wasmName !== null && !s.wasmName.startsWith("$") ? s.wasmName : s.name;
    out.set(BigInt(s.addr), label);
  }
  return out;
}

/** The symbol map to use: --map, or FILE.map / FILE-without-.elf.map beside an ELF. */
function symbolMapFor(file: string, opts: DisasmCliOptions): Map<bigint, string> | null {
  const candidates = opts.map !== undefined ? [opts.map] : [file.replace(/\.elf$/, "") + ".map", file + ".map"];
  for (const c of candidates) {
    if (existsSync(c)) return readSymbolMap(readFileSync(c, "utf8"));
    if (opts.map !== undefined) throw new Error(`symbol map ${c} not found`);
  }
  return null;
}

function hex(v: bigint, width = 0): string {
  return v.toString(16).padStart(width, "0");
}

function printRange(out: string[], bytes: Uint8Array, address: bigint, bits: Bits, symbols: Map<bigint, string>, relocs = new Map<bigint, string>()): void {
  const lines = disassemble(bytes, { bits, address, symbols });
  for (const l of lines) {
    const name = symbols.get(l.address);
    if (name !== undefined) out.push(`\n${hex(l.address, 16)} <${name}>:`);
    const raw = [...l.bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    out.push(`${hex(l.address).padStart(8)}:\t${raw.padEnd(30)}\t${l.text}`);
    // Relocations whose field lies in this instruction (objects: the linker fills these bytes).
    for (let k = 0n; k < BigInt(l.bytes.length); k++) {
      const r = relocs.get(l.address + k);
      if (r !== undefined) out.push(`${"".padStart(8)}\t\t\t\t\t# ${hex(l.address + k)}: ${r}`);
    }
  }
}

const RELOC_NAMES_64: Record<number, string> = Object.fromEntries(Object.entries(R_X86_64).map(([k, v]) => [v, `R_X86_64_${k}`]));
const RELOC_NAMES_32: Record<number, string> = Object.fromEntries(Object.entries(R_386).map(([k, v]) => [v, `R_386_${k}`]));

/** Relocations applying to one section, by offset, as text (R_X86_64_PC32 name-0x4). */
function relocationsOf(elf: ElfFile, section: number): Map<bigint, string> {
  const out = new Map<bigint, string>();
  for (const r of readRelocations(elf)) {
    if (r.section !== section) continue;
    const sym = elf.symbols[r.symbol - 1];
    const symName = sym === undefined ? "*ABS*" : sym.name !== "" ? sym.name : elf.sections[sym.shndx]?.name ?? "?";
    const type = (elf.bits === 64 ? RELOC_NAMES_64 : RELOC_NAMES_32)[r.type] ?? `type ${r.type}`;
    const addend = r.addend === null || r.addend === 0n ? "" : r.addend < 0n ? `-0x${(-r.addend).toString(16)}` : `+0x${r.addend.toString(16)}`;
    out.set(r.offset, `${type} ${symName}${addend}`);
  }
  return out;
}

function elfSymbols(elf: ElfFile, sectionIndex: number | null, base: bigint): Map<bigint, string> {
  const map = new Map<bigint, string>();
  for (const s of elf.symbols) {
    if (s.name === "" || s.shndx === 0 || ![STT_FUNC, STT_NOTYPE, STT_OBJECT].includes(s.type)) continue;
    if (sectionIndex !== null && s.shndx !== sectionIndex) continue;
    const at = s.value + base;
    if (!map.has(at)) map.set(at, s.name);
  }
  return map;
}

export function runDisasm(file: string, opts: DisasmCliOptions): string {
  const bytes = new Uint8Array(readFileSync(file));
  const out: string[] = [];
  if (!isElf(bytes)) {
    printRange(out, bytes, parseAddress(opts.base), parseBits(opts.bits, 64), new Map());
    return out.join("\n") + "\n";
  }
  const elf = readElf(bytes);
  const bits = parseBits(opts.bits, elf.machine === EM_386 ? 32 : elf.bits);
  out.push(`${file}: ELF${elf.bits} ${elf.type === 1 ? "relocatable" : elf.type === 2 ? "executable" : `type ${elf.type}`}, ${bits}-bit code`);
  const code = elf.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type !== SHT_NOBITS);
  // Executables: the linker's symbol map names compiled wasm functions.
  const mapped = elf.type === 2 ? symbolMapFor(file, opts) : null;
  const withMap = (symbols: Map<bigint, string>): Map<bigint, string> => {
    if (mapped !== null) for (const [at, name] of mapped) symbols.set(at, name);
    return symbols;
  };
  if (code.length > 0) {
    for (const s of code) {
      // Relocatable objects place every section at 0: symbols are section offsets.
      out.push(`\nDisassembly of section ${s.name}:`);
      printRange(out, bytes.subarray(s.offset, s.offset + s.size), s.addr, bits, withMap(elfSymbols(elf, s.index, 0n)), relocationsOf(elf, s.index));
    }
  } else {
    const symbols = withMap(elfSymbols(elf, null, 0n));
    for (const p of elf.segments.filter((x) => x.type === PT_LOAD && (x.flags & PF_X) !== 0)) {
      out.push(`\nDisassembly of segment at 0x${hex(p.vaddr)}:`);
      printRange(out, bytes.subarray(p.offset, p.offset + p.filesz), p.vaddr, bits, symbols);
    }
  }
  return out.join("\n") + "\n";
}

export function registerDisasmCommand(program: Command): void {
  program
    .command("disasm")
    .description("disassemble a raw binary or the code of an ELF file (Intel syntax)")
    .argument("<file>", "raw binary or ELF file")
    .option("--base <addr>", "address of the first byte of a raw binary", "0")
    .option("--bits <n>", "code size: 16, 32 or 64 (default: 64, or from the ELF machine)")
    .option("--map <file>", "capos symbol map naming wasm functions (default: the .map beside an ELF file)")
    .action((file: string, opts: DisasmCliOptions) => {
      process.stdout.write(runDisasm(file, opts));
    });
}
