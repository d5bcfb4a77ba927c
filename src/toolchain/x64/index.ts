// The x86-64 assembler and disassembler: the public surface. `assemble` takes
// Intel-syntax text (GNU .intel_syntax noprefix); `Assembler` is the typed API;
// `disassemble` (disasm.ts) prints decoded instructions in the same syntax.
import { Assembler, type Bits, type FlatOutput, type ObjectFile } from "./assembler.js";
import { parseInto } from "./parser.js";

export { Assembler, AssemblyError, CONDITIONS } from "./assembler.js";
export type { Bits, FlatOutput, ObjectFile, ObjectSection, ObjectSymbol, Relocation, RelocKind, SourcePos, AssemblerOptions } from "./assembler.js";
export { AsmError } from "./encode.js";
export * from "./registers.js";
export {
  byte, word, dword, fword, qword, tbyte, xmmword, mem, imm, sym, far, withSeg, symExpr, num,
} from "./operands.js";
export type { Expr, Mem, Imm, FarPtr, Operand, OperandInput, Address } from "./operands.js";
export { parseInto } from "./parser.js";

export interface AssembleOptions {
  bits?: Bits;
  /** Address of the first byte (labels are absolute addresses from here). */
  origin?: number | bigint;
  /** File name used in error messages. */
  file?: string;
}

export interface AssembleResult {
  bytes: Uint8Array;
  /** Label and constant values; addresses as signed 64-bit numbers (exact for canonical addresses). */
  symbols: Map<string, number>;
  /** The same values as exact 64-bit integers. */
  addresses: Map<string, bigint>;
}

/** Assembles Intel-syntax source into a flat binary placed at `origin`. */
export function assemble(source: string, opts: AssembleOptions = {}): AssembleResult {
  const a = new Assembler({ bits: opts.bits ?? 64, origin: opts.origin ?? 0 });
  parseInto(a, source, opts.file);
  const out: FlatOutput = a.flat();
  return { bytes: out.bytes, symbols: out.symbols, addresses: out.addresses };
}

/** Assembles Intel-syntax source into a relocatable object (sections, symbols, relocations). */
export function assembleObject(source: string, opts: { bits?: Bits; file?: string } = {}): ObjectFile {
  const a = new Assembler({ bits: opts.bits ?? 64 });
  parseInto(a, source, opts.file);
  return a.object();
}

export { disassemble, disassembleOne, formatView, viewAt } from "./disasm.js";
export type { DisasmLine, DisasmOptions, InsnView, OperandView } from "./disasm.js";
export { encodeAll } from "./encode.js";
export type { EncodeContext, Encoding, Fixup } from "./encode.js";
export { writeElfObject } from "./elf-object.js";
export { readElf, readRelocations, isElf } from "./elf-read.js";
export type { ElfFile, ElfSection, ElfSegment, ElfSymbol, ElfRelocation } from "./elf-read.js";
