// The assembler proper: sections of items (encoded instructions, relaxable
// branches, data, alignment), labels and constants, branch relaxation (short
// rel8 first, grown to rel32 until every offset fits), and the two outputs:
// a flat binary at an origin, or a relocatable object (sections + symbols +
// relocations) for the linker. Instructions are encoded by encode.ts.
import { AsmError, encodeAll, type EncodeContext, type Encoding, type Fixup } from "./encode.js";
import { allMnemonics } from "./forms.js";
import type { InstructionMethods } from "./mnemonics.js";
import { PREFIX_BYTES } from "./facts.js";
import { binop, exprText, num, toOperand, type Expr, type Operand, type OperandInput } from "./operands.js";
import { CONDITION_NAMES } from "../../emulator/cpu/table.js";

export type Bits = 16 | 32 | 64;

export interface SourcePos {
  file?: string;
  line: number;
  col: number;
}

/** An error with the source position of the statement that caused it (when known). */
export class AssemblyError extends AsmError {
  constructor(readonly pos: SourcePos | null, readonly detail: string) {
    super(pos ? `${pos.file ?? "<input>"}:${pos.line}:${pos.col}: ${detail}` : detail);
  }
}

/** Relocation kinds for the linker (ELF64: R_X86_64_64, _32, _32S, _PC32, _16, _PC16, _8, _PC8). */
export type RelocKind = "abs64" | "abs32" | "abs32s" | "pc32" | "abs16" | "pc16" | "abs8" | "pc8";

export interface Relocation {
  /** Offset of the field in its section. */
  offset: number;
  kind: RelocKind;
  /** The symbol the value is relative to: a section name for local labels, else the symbol's own name. */
  symbol: string;
  /** ELF addend: the field gets S + A (abs) or S + A - P (pc, P = address of the field). */
  addend: bigint;
}

export interface ObjectSection {
  name: string;
  bytes: Uint8Array; // empty for nobits sections
  size: number;
  align: number;
  flags: string; // "a" allocated, "w" writable, "x" executable
  nobits: boolean;
  relocations: Relocation[];
}

export interface ObjectSymbol {
  name: string;
  /** Section name, or null for an absolute value (.equ) or an undefined (external) symbol. */
  section: string | null;
  value: bigint;
  global: boolean;
  defined: boolean;
  type: "func" | "object" | "";
  size: bigint | null;
}

export interface ObjectFile {
  /** The code size the assembler started with (.code32/.code64 may switch it inside): the ELF class. */
  bits: Bits;
  sections: ObjectSection[];
  symbols: ObjectSymbol[];
}

export interface FlatOutput {
  /** The image: progbits sections in order, each at its alignment, starting at the origin. */
  bytes: Uint8Array;
  /** Symbol addresses as numbers: the signed 64-bit value, exact for canonical addresses (like cpu.rip). */
  symbols: Map<string, number>;
  /** Symbol addresses as exact 64-bit values. */
  addresses: Map<string, bigint>;
  /** Section start addresses. */
  sectionAddresses: Map<string, bigint>;
  origin: bigint;
}

type Item =
  | { kind: "bytes"; bytes: Uint8Array; fixups: Fixup[]; pos: SourcePos | null; insn: boolean }
  | { kind: "branch"; options: Encoding[]; choice: number; pos: SourcePos | null }
  | { kind: "align"; boundary: number; fill: number | null; max: number; bits: Bits; pos: SourcePos | null }
  | { kind: "org"; target: Expr; fill: number; pos: SourcePos | null }
  | { kind: "space"; count: Expr; fill: number; pos: SourcePos | null };

interface Section {
  name: string;
  items: Item[];
  align: number;
  flags: string;
  nobits: boolean;
  /** Offsets of items (and one past the end) from the last layout. */
  offsets: number[];
}

interface LabelDef {
  section: Section;
  item: number;
  pos: SourcePos | null;
}

/** A value during final evaluation: v + (address of `base`), base a section name or an undefined symbol. */
interface RelValue {
  v: bigint;
  base: string | null;
}

const SECTION_DEFAULTS: Record<string, { flags: string; nobits: boolean }> = {
  ".text": { flags: "ax", nobits: false },
  ".data": { flags: "aw", nobits: false },
  ".rodata": { flags: "a", nobits: false },
  ".bss": { flags: "aw", nobits: true },
};

/** Multi-byte NOPs recommended by the Intel SDM (vol. 2B, NOP), used to pad code. */
const NOPS: number[][] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/** Whether v fits a field of `width` bytes that the CPU extends to `ext` bytes (sign-extension when ext > width). */
function fitsField(v: bigint, width: number, ext: number): boolean {
  const wb = BigInt(width * 8);
  if (ext > width) {
    const eb = BigInt(ext * 8);
    if (v < -(1n << (eb - 1n)) || v >= 1n << eb) return false;
    const m = BigInt.asIntN(ext * 8, v);
    return m >= -(1n << (wb - 1n)) && m < 1n << (wb - 1n);
  }
  return v >= -(1n << (wb - 1n)) && v < 1n << wb;
}

function fitsSigned(v: bigint, width: number): boolean {
  const wb = BigInt(width * 8);
  return v >= -(1n << (wb - 1n)) && v < 1n << (wb - 1n);
}

function relocKind(f: Fixup): RelocKind {
  if (f.kind === "rel") {
    if (f.width === 4) return "pc32";
    if (f.width === 2) return "pc16";
    if (f.width === 1) return "pc8";
  } else {
    if (f.width === 8) return "abs64";
    if (f.width === 4) return f.ext === 8 ? "abs32s" : "abs32";
    if (f.width === 2) return "abs16";
    if (f.width === 1) return "abs8";
  }
  throw new AsmError(`no relocation for a ${f.width}-byte ${f.kind} field`);
}

export interface AssemblerOptions {
  bits?: Bits;
  /** Address of the first byte of the flat image (default 0). */
  origin?: number | bigint;
}

export class Assembler {
  /** The mode instructions are encoded for from now on (.code32 / .code64). */
  bits: Bits;
  origin: bigint;
  /** Source position of the statement being assembled (set by the text front end). */
  pos: SourcePos | null = null;

  private readonly sections: Section[] = [];
  private current: Section;
  private readonly labels = new Map<string, LabelDef>();
  private readonly equs = new Map<string, Expr>();
  private readonly globals = new Set<string>();
  private readonly types = new Map<string, "func" | "object">();
  private readonly sizes = new Map<string, Expr>();
  private pendingPrefixes: number[] = [];
  private pendingRex = 0;
  private pendingPseudo = new Set<string>();
  private anon = 0;

  /** The mode the assembler started in (an object's ELF class follows it). */
  readonly initialBits: Bits;

  constructor(opts: AssemblerOptions = {}) {
    this.bits = opts.bits ?? 64;
    this.initialBits = this.bits;
    this.origin = BigInt(opts.origin ?? 0);
    this.current = this.openSection(".text", {});
  }

  // ---- Modes, sections, symbols ------------------------------------------------

  code16(): this { this.bits = 16; return this; }
  code32(): this { this.bits = 32; return this; }
  code64(): this { this.bits = 64; return this; }

  /** Switches to (creating if needed) a section. Flags: a allocated, w writable, x executable. */
  section(name: string, opts: { flags?: string; nobits?: boolean } = {}): this {
    this.openSection(name, opts);
    return this;
  }

  private openSection(name: string, opts: { flags?: string; nobits?: boolean }): Section {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      const d = SECTION_DEFAULTS[name] ?? { flags: "a", nobits: false };
      s = { name, items: [], align: 1, flags: opts.flags ?? d.flags, nobits: opts.nobits ?? d.nobits, offsets: [] };
      this.sections.push(s);
    } else if (opts.flags !== undefined) {
      s.flags = opts.flags;
    }
    this.current = s;
    return s;
  }

  text(): this { this.section(".text"); return this; }
  data(): this { this.section(".data"); return this; }
  rodata(): this { this.section(".rodata"); return this; }
  bss(): this { this.section(".bss"); return this; }

  get currentSection(): string {
    return this.current.name;
  }

  /** Defines a label at the current position. */
  label(name: string): this {
    if (this.labels.has(name) || this.equs.has(name)) this.fail(`symbol "${name}" is already defined`);
    this.labels.set(name, { section: this.current, item: this.current.items.length, pos: this.pos });
    return this;
  }

  /** A fresh label at the current position (the text front end's `.`). */
  here(): string {
    const name = `.L.here.${this.anon++}`;
    this.label(name);
    return name;
  }

  /** Defines a constant (or an alias of an expression over labels): `.equ name, value`. */
  equ(name: string, value: number | bigint | Expr): this {
    if (this.labels.has(name)) this.fail(`symbol "${name}" is already defined as a label`);
    this.equs.set(name, typeof value === "object" ? value : num(value));
    return this;
  }

  global(name: string): this { this.globals.add(name); return this; }
  symbolType(name: string, type: "func" | "object"): this { this.types.set(name, type); return this; }
  symbolSize(name: string, size: number | bigint | Expr): this { this.sizes.set(name, typeof size === "object" ? size : num(size)); return this; }

  isDefined(name: string): boolean {
    return this.labels.has(name) || this.equs.has(name);
  }

  /** The value of an expression if it is constant now (numbers and .equ constants). */
  constant(e: Expr, seen: Set<string> = new Set()): bigint | null {
    switch (e.op) {
      case "num": return e.v;
      case "sym": {
        const d = this.equs.get(e.name);
        if (d === undefined || seen.has(e.name)) return null;
        seen.add(e.name);
        const v = this.constant(d, seen);
        seen.delete(e.name);
        return v;
      }
      case "neg": case "not": {
        const a = this.constant(e.a, seen);
        return a === null ? null : e.op === "neg" ? -a : ~a;
      }
      default: {
        const a = this.constant(e.a, seen);
        if (a === null) return null;
        const b = this.constant(e.b, seen);
        if (b === null) return null;
        return this.guard(() => binop(e.op, a, b));
      }
    }
  }

  // ---- Prefixes for the next instruction ---------------------------------------

  /** Legacy prefixes for the next instruction: "lock", "rep", "repne", "data16", "addr32", "fs" ... */
  prefix(...names: string[]): this {
    for (const n of names) {
      const lower = n.toLowerCase();
      const b = PREFIX_BYTES[lower];
      if (b !== undefined) { this.pendingPrefixes.push(b); continue; }
      const rex = /^rex(?:\.([wrxb]+))?$/.exec(lower);
      if (rex) {
        let bits = 0x40;
        for (const c of rex[1] ?? "") bits |= c === "w" ? 8 : c === "r" ? 4 : c === "x" ? 2 : 1;
        this.pendingRex |= bits;
        continue;
      }
      const pseudo = /^\{(load|store|disp8|disp16|disp32)\}$/.exec(lower);
      if (pseudo) { this.pendingPseudo.add(pseudo[1]!); continue; }
      this.fail(`unknown prefix "${n}"`);
    }
    return this;
  }

  lock(): this { return this.prefix("lock"); }
  rep(): this { return this.prefix("rep"); }
  repe(): this { return this.prefix("repe"); }
  repne(): this { return this.prefix("repne"); }

  // ---- Instructions ------------------------------------------------------------

  /** Assembles one instruction. Strings are labels (branch targets, or symbol addresses as immediates). */
  emit(mnemonic: string, ...operands: OperandInput[]): this {
    const ops: Operand[] = operands.map(toOperand);
    const ctx: EncodeContext = {
      bits: this.bits,
      prefixes: this.pendingPrefixes,
      rex: this.pendingRex,
      pseudo: this.pendingPseudo,
      constant: (e) => this.constant(e),
    };
    this.pendingPrefixes = [];
    this.pendingRex = 0;
    this.pendingPseudo = new Set();
    const encs = this.guard(() => encodeAll(mnemonic.toLowerCase(), ops, ctx));
    const best = encs[0]!;
    if (best.relWidth !== 0) {
      const short = encs.find((e) => e.relWidth === 1);
      const long = encs.find((e) => e.relWidth > 1);
      const options = [short, long].filter((e): e is Encoding => e !== undefined);
      this.current.items.push({ kind: "branch", options, choice: 0, pos: this.pos });
    } else {
      this.current.items.push({ kind: "bytes", bytes: best.bytes, fixups: best.fixups, pos: this.pos, insn: true });
    }
    return this;
  }

  /** Jcc by condition name ("ne", "z", "ae" ...). */
  jcc(cc: string, target: OperandInput): this { return this.emit(`j${cc}`, target); }
  setcc(cc: string, dst: OperandInput): this { return this.emit(`set${cc}`, dst); }
  cmovcc(cc: string, dst: OperandInput, src: OperandInput): this { return this.emit(`cmov${cc}`, dst, src); }

  // ---- Data and layout directives -------------------------------------------------

  private data_(width: 1 | 2 | 4 | 8, values: (number | bigint | Expr)[]): this {
    const bytes = new Uint8Array(width * values.length);
    const fixups: Fixup[] = [];
    values.forEach((x, k) => {
      const e = typeof x === "object" ? x : num(x);
      const v = this.constant(e);
      if (v === null) {
        fixups.push({ offset: k * width, width, kind: "abs", ext: width, signed: false, expr: e, end: 0, ipBits: 64 });
        return;
      }
      if (!fitsField(v, width, width)) this.fail(`value ${exprText(e)} does not fit in ${width} byte${width > 1 ? "s" : ""}`);
      let u = BigInt.asUintN(width * 8, v);
      for (let b = 0; b < width; b++) { bytes[k * width + b] = Number(u & 0xffn); u >>= 8n; }
    });
    this.current.items.push({ kind: "bytes", bytes, fixups, pos: this.pos, insn: false });
    return this;
  }

  db(...v: (number | bigint | Expr)[]): this { return this.data_(1, v); }
  dw(...v: (number | bigint | Expr)[]): this { return this.data_(2, v); }
  dd(...v: (number | bigint | Expr)[]): this { return this.data_(4, v); }
  dq(...v: (number | bigint | Expr)[]): this { return this.data_(8, v); }

  /** Raw bytes. */
  bytes(b: Uint8Array | number[]): this {
    this.current.items.push({ kind: "bytes", bytes: Uint8Array.from(b), fixups: [], pos: this.pos, insn: false });
    return this;
  }

  ascii(s: string | Uint8Array): this { return this.bytes(typeof s === "string" ? new TextEncoder().encode(s) : s); }
  asciz(s: string | Uint8Array): this {
    const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
    const z = new Uint8Array(b.length + 1);
    z.set(b);
    return this.bytes(z);
  }

  /** `count` bytes of `fill` (.zero, .skip, .space); count may be an expression over labels. */
  space(count: number | bigint | Expr, fill = 0): this {
    const e = typeof count === "object" ? count : num(count);
    const v = this.constant(e);
    if (v !== null) {
      if (v < 0n) this.fail(`negative size ${v}`);
      if (this.current.nobits && fill !== 0) this.fail("a nobits section holds only zeros");
      this.current.items.push({ kind: "bytes", bytes: new Uint8Array(Number(v)).fill(fill & 0xff), fixups: [], pos: this.pos, insn: false });
    } else {
      this.current.items.push({ kind: "space", count: e, fill: fill & 0xff, pos: this.pos });
    }
    return this;
  }

  zero(count: number | bigint | Expr): this { return this.space(count, 0); }

  /** Aligns to a power-of-two boundary; code is padded with NOPs, data with `fill` (default 0). */
  align(boundary: number, fill?: number, max = Infinity): this {
    if (!Number.isInteger(boundary) || boundary <= 0 || (boundary & (boundary - 1)) !== 0) this.fail(`alignment ${boundary} is not a power of two`);
    this.current.align = Math.max(this.current.align, boundary);
    const useNops = fill === undefined && this.current.flags.includes("x");
    this.current.items.push({ kind: "align", boundary, fill: useNops ? null : (fill ?? 0) & 0xff, max, bits: this.bits, pos: this.pos });
    return this;
  }

  /** Advances the location counter to `offset` from the start of the section (.org). */
  org(offset: number | bigint | Expr, fill = 0): this {
    this.current.items.push({ kind: "org", target: typeof offset === "object" ? offset : num(offset), fill: fill & 0xff, pos: this.pos });
    return this;
  }

  // ---- Output --------------------------------------------------------------------

  /** Lays out every section at the origin and resolves all symbols: a flat binary. */
  flat(): FlatOutput {
    const bases = this.relax(true);
    const resolve = this.resolver(bases);
    const addresses = new Map<string, bigint>();
    for (const name of [...this.labels.keys(), ...this.equs.keys()]) {
      const r = this.guard(() => resolve(name, new Set()));
      if (r.base !== null) throw new AssemblyError(this.equPos(name), `undefined symbol "${r.base}" in the value of ${name}`);
      addresses.set(name, r.v);
    }
    const progbits = this.sections.filter((s) => !s.nobits);
    let end = this.origin;
    for (const s of progbits) end = bases.get(s)! + BigInt(s.offsets[s.items.length]!);
    const image = new Uint8Array(Number(end - this.origin));
    for (const s of progbits) {
      const base = bases.get(s)!;
      const start = Number(base - this.origin);
      this.emitSection(s, image, start, (f, item, at) => {
        const r = this.evalAt(f.expr, resolve, item);
        if (r.base !== null) throw this.errAt(item, `undefined symbol "${r.base}"`);
        let v = r.v;
        // The instruction pointer wraps: a target "below zero" is reached by a negative offset.
        if (f.kind === "rel") v = BigInt.asIntN(f.ipBits, v - (base + BigInt(at - f.offset + f.end)));
        this.writeField(image, start + at, f, v, item);
      });
    }
    const symbols = new Map<string, number>();
    for (const [n, a] of addresses) symbols.set(n, Number(BigInt.asIntN(64, a)));
    const sectionAddresses = new Map<string, bigint>();
    for (const [s, b] of bases) sectionAddresses.set(s.name, b);
    return { bytes: image, symbols, addresses, sectionAddresses, origin: this.origin };
  }

  /** A relocatable object: sections with relocations, and a symbol table. */
  object(): ObjectFile {
    this.relax(false);
    const resolve = this.resolver(null);
    const sections: ObjectSection[] = [];
    for (const s of this.sections) {
      const size = s.offsets[s.items.length]!;
      const bytes = s.nobits ? new Uint8Array(0) : new Uint8Array(size);
      const relocations: Relocation[] = [];
      this.emitSection(s, bytes, 0, (f, item, at) => {
        const r = this.evalAt(f.expr, resolve, item);
        if (f.kind === "rel") {
          if (r.base === s.name) {
            this.writeField(bytes, at, f, r.v - BigInt(at - f.offset + f.end), item);
            return;
          }
          if (r.base === null) throw this.errAt(item, `a branch or RIP-relative reference to the absolute address 0x${r.v.toString(16)} needs a flat binary`);
          relocations.push({ offset: at, kind: this.guardAt(item, () => relocKind(f)), symbol: r.base, addend: r.v - BigInt(f.end - f.offset) });
          return;
        }
        if (r.base === null) { this.writeField(bytes, at, f, r.v, item); return; }
        relocations.push({ offset: at, kind: this.guardAt(item, () => relocKind(f)), symbol: r.base, addend: r.v });
      });
      sections.push({ name: s.name, bytes, size, align: s.align, flags: s.flags, nobits: s.nobits, relocations });
    }
    const symbols: ObjectSymbol[] = [];
    const defined = new Set<string>();
    const sectionNames = new Set(this.sections.map((x) => x.name));
    for (const name of [...this.labels.keys(), ...this.equs.keys()]) {
      // Local labels (.L...) stay out of the symbol table, as with GNU as.
      if (name.startsWith(".L") && !this.globals.has(name)) continue;
      const r = this.guard(() => resolve(name, new Set()));
      const isSection = r.base !== null && sectionNames.has(r.base);
      if (r.base !== null && !isSection) continue; // an alias of an external symbol: relocations name the external
      defined.add(name);
      const size = this.sizes.get(name);
      let sizeValue: bigint | null = null;
      if (size !== undefined) {
        const sv = this.guard(() => this.evaluate(size, resolve, new Set()));
        if (sv.base !== null) throw new AssemblyError(this.equPos(name), `.size of "${name}" is not a constant`);
        sizeValue = sv.v;
      }
      symbols.push({
        name, section: r.base, value: r.v, global: this.globals.has(name), defined: true,
        type: this.types.get(name) ?? "", size: sizeValue,
      });
    }
    // Symbols that relocations name but nothing defines (and undefined globals) are external.
    const externals = new Set<string>();
    for (const s of sections) for (const r of s.relocations) if (!sectionNames.has(r.symbol) && !defined.has(r.symbol)) externals.add(r.symbol);
    for (const g of this.globals) if (!defined.has(g)) externals.add(g);
    for (const name of externals) symbols.push({ name, section: null, value: 0n, global: true, defined: false, type: "", size: null });
    return { bits: this.initialBits, sections, symbols };
  }

  // ---- Internals -----------------------------------------------------------------

  private equPos(name: string): SourcePos | null {
    return this.labels.get(name)?.pos ?? null;
  }

  /**
   * Resolves symbols for evaluation. With section bases (flat image) labels are
   * absolute addresses; without, a label is its offset relative to its section.
   * An undefined symbol resolves relative to itself (an external for the linker).
   */
  private resolver(bases: Map<Section, bigint> | null): (name: string, seen: Set<string>) => RelValue {
    const resolve = (name: string, seen: Set<string>): RelValue => {
      const d = this.labels.get(name);
      if (d !== undefined) {
        const off = BigInt(d.section.offsets[d.item] ?? 0);
        return bases !== null ? { v: bases.get(d.section)! + off, base: null } : { v: off, base: d.section.name };
      }
      const e = this.equs.get(name);
      if (e === undefined) return { v: 0n, base: name };
      if (seen.has(name)) throw new AsmError(`symbol "${name}" is defined in terms of itself`);
      seen.add(name);
      const r = this.evaluate(e, resolve, seen);
      seen.delete(name);
      return r;
    };
    return resolve;
  }

  private fail(msg: string): never {
    throw new AssemblyError(this.pos, msg);
  }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof AssemblyError) throw e;
      if (e instanceof AsmError || e instanceof RangeError) throw new AssemblyError(this.pos, e.message);
      throw e;
    }
  }

  private errAt(item: Item, msg: string): AssemblyError {
    return new AssemblyError(item.pos, msg);
  }

  private guardAt<T>(item: Item, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof AssemblyError) throw e;
      if (e instanceof AsmError || e instanceof RangeError) throw this.errAt(item, e.message);
      throw e;
    }
  }

  private evaluate(e: Expr, resolve: (n: string, s: Set<string>) => RelValue, seen: Set<string>): RelValue {
    switch (e.op) {
      case "num": return { v: e.v, base: null };
      case "sym": return resolve(e.name, seen);
      case "neg": case "not": {
        const a = this.evaluate(e.a, resolve, seen);
        if (a.base !== null) throw new AsmError(`cannot ${e.op === "neg" ? "negate" : "complement"} the address of ${a.base}`);
        return { v: e.op === "neg" ? -a.v : ~a.v, base: null };
      }
      default: {
        const a = this.evaluate(e.a, resolve, seen);
        const b = this.evaluate(e.b, resolve, seen);
        if (e.op === "+") {
          if (a.base !== null && b.base !== null) throw new AsmError(`cannot add two addresses (${a.base}, ${b.base})`);
          return { v: a.v + b.v, base: a.base ?? b.base };
        }
        if (e.op === "-") {
          if (b.base === null) return { v: a.v - b.v, base: a.base };
          if (a.base === b.base) return { v: a.v - b.v, base: null };
          throw new AsmError(`cannot subtract an address in ${b.base} from ${a.base ?? "a constant"}`);
        }
        if (a.base !== null || b.base !== null) throw new AsmError(`operator ${e.op} needs constants, not addresses`);
        return { v: binop(e.op, a.v, b.v), base: null };
      }
    }
  }

  private evalAt(e: Expr, resolve: (n: string, s: Set<string>) => RelValue, item: Item): RelValue {
    return this.guardAt(item, () => this.evaluate(e, resolve, new Set()));
  }

  private writeField(out: Uint8Array, at: number, f: Fixup, v: bigint, item: Item): void {
    const ok = f.kind === "rel" ? fitsSigned(v, f.width) : fitsField(v, f.width, f.ext);
    if (!ok) {
      const what = f.kind === "rel"
        ? `${exprText(f.expr)} is ${v} bytes away: does not fit a ${f.width * 8}-bit relative offset`
        : `value 0x${BigInt.asUintN(64, v).toString(16)} of ${exprText(f.expr)} does not fit a ${f.width * 8}-bit field${f.ext > f.width ? " (sign-extended)" : ""}`;
      throw this.errAt(item, what);
    }
    let u = BigInt.asUintN(f.width * 8, v);
    for (let k = 0; k < f.width; k++) { out[at + k] = Number(u & 0xffn); u >>= 8n; }
  }

  /** Copies a section's bytes into `out` at `start` and calls `fix` for every fixup (at = offset in the section). */
  private emitSection(s: Section, out: Uint8Array, start: number, fix: (f: Fixup, item: Item, at: number) => void): void {
    s.items.forEach((item, k) => {
      const off = s.offsets[k]!;
      const size = s.offsets[k + 1]! - off;
      if (s.nobits) {
        if ((item.kind === "bytes" && (item.bytes.some((b) => b !== 0) || item.fixups.length > 0)) || item.kind === "branch") {
          throw this.errAt(item, `section ${s.name} holds no data (nobits): only labels, alignment and zero space`);
        }
        return;
      }
      switch (item.kind) {
        case "bytes":
          out.set(item.bytes, start + off);
          for (const f of item.fixups) fix(f, item, off + f.offset);
          break;
        case "branch": {
          const e = item.options[item.choice]!;
          out.set(e.bytes, start + off);
          for (const f of e.fixups) fix(f, item, off + f.offset);
          break;
        }
        case "align":
          if (item.fill === null) this.nopFill(out, start + off, size, item.bits);
          else out.fill(item.fill, start + off, start + off + size);
          break;
        case "org": case "space":
          out.fill(item.fill, start + off, start + off + size);
          break;
      }
    });
  }

  private nopFill(out: Uint8Array, at: number, size: number, bits: Bits): void {
    while (size > 0) {
      const seq = bits === 16 ? NOPS[1]! : NOPS[Math.min(size, NOPS.length - 1)]!;
      out.set(seq, at);
      at += seq.length;
      size -= seq.length;
    }
  }

  /** Size of an item at section offset `offset` with the current branch choices. */
  private itemSize(s: Section, item: Item, offset: number): number {
    switch (item.kind) {
      case "bytes": return item.bytes.length;
      case "branch": return item.options[item.choice]!.bytes.length;
      case "align": {
        // Relative to the section start; the section itself is aligned to its largest boundary.
        const pad = (item.boundary - (offset % item.boundary)) % item.boundary;
        return pad > item.max ? 0 : pad;
      }
      case "org": {
        const t = this.sectionConstant(s, item.target, item);
        const n = Number(t) - offset;
        if (n < 0) throw this.errAt(item, `.org 0x${t.toString(16)} would move backwards (already at 0x${offset.toString(16)} in ${s.name})`);
        return n;
      }
      case "space": {
        const v = this.sectionConstant(s, item.count, item);
        if (v < 0n) throw this.errAt(item, `negative size ${v}`);
        return Number(v);
      }
    }
  }

  /** A constant, or a difference of labels of this section (offsets from the previous layout round). */
  private sectionConstant(s: Section, e: Expr, item: Item): bigint {
    const r = this.evalAt(e, this.resolver(null), item);
    if (r.base === s.name && item.kind === "org") return r.v; // .org label+n: an offset in this section
    if (r.base !== null) throw this.errAt(item, `needs a constant or a difference of labels, not an address in ${r.base}`);
    return r.v;
  }

  /** Computes item offsets; returns true when any offset moved. */
  private layout(): boolean {
    let moved = false;
    for (const s of this.sections) {
      if (s.offsets.length !== s.items.length + 1) { s.offsets = new Array<number>(s.items.length + 1).fill(0); moved = true; }
      const offsets = s.offsets;
      let off = 0;
      s.items.forEach((item, k) => {
        if (offsets[k] !== off) { offsets[k] = off; moved = true; }
        off += this.itemSize(s, item, off);
      });
      if (offsets[s.items.length] !== off) { offsets[s.items.length] = off; moved = true; }
    }
    return moved;
  }

  private sectionBases(): Map<Section, bigint> {
    const bases = new Map<Section, bigint>();
    let at = this.origin;
    for (const s of [...this.sections.filter((x) => !x.nobits), ...this.sections.filter((x) => x.nobits)]) {
      const a = BigInt(s.align);
      at = ((at + a - 1n) / a) * a;
      bases.set(s, at);
      at += BigInt(s.offsets[s.items.length]!);
    }
    return bases;
  }

  /**
   * Branch relaxation: every branch starts with its short form and grows (never
   * shrinks, so this terminates) until every offset fits. Returns the section bases.
   */
  private relax(flat: boolean): Map<Section, bigint> {
    for (const s of this.sections) for (const item of s.items) if (item.kind === "branch") item.choice = 0;
    for (let round = 0; ; round++) {
      if (round > 100000) throw new AsmError("layout did not converge");
      const moved = this.layout();
      const bases = this.sectionBases();
      let grew = false;
      const resolve = this.resolver(flat ? bases : null);
      for (const s of this.sections) {
        s.items.forEach((item, k) => {
          if (item.kind !== "branch" || item.choice === item.options.length - 1) return;
          const opt = item.options[item.choice]!;
          const f = opt.fixups.find((x) => x.kind === "rel")!;
          let target: RelValue | null;
          try { target = this.evaluate(f.expr, resolve, new Set()); } catch { target = null; }
          const here = (flat ? bases.get(s)! : 0n) + BigInt(s.offsets[k]! + opt.bytes.length);
          const known = target !== null && (flat ? target.base === null : target.base === s.name);
          if (!known || !fitsSigned(BigInt.asIntN(f.ipBits, target!.v - here), f.width)) { item.choice++; grew = true; }
        });
      }
      if (!grew && !moved) return bases;
    }
  }
}

// One method per mnemonic (a.add(rax, 1), a.movsb(), a.jne("loop")), typed by mnemonics.ts.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Assembler extends InstructionMethods {}
for (const m of allMnemonics()) {
  if (m in Assembler.prototype) throw new Error(`internal: mnemonic ${m} collides with an Assembler method`);
  Object.defineProperty(Assembler.prototype, m, {
    value: function (this: Assembler, ...operands: OperandInput[]): Assembler { return this.emit(m, ...operands); },
    writable: false, enumerable: false, configurable: false,
  });
}

/** Condition-code names (canonical), for API users building jcc/setcc/cmovcc names. */
export const CONDITIONS = CONDITION_NAMES;
