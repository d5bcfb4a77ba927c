// Links relocatable objects: places sections at addresses, collects symbol
// definitions, resolves every relocation (against definitions, aliases and
// linker-assigned signature ids) and reports anything undefined by name. Used
// in one batch for ELF images and incrementally by the spec-test harness.
import { SYM_SIG_PREFIX } from "../wasm/abi.js";
import type { LinkObject, LinkReloc, SectionKind } from "./object.js";

export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkError";
  }
}

const TWO32 = 4294967296;

/** The global view of symbols: definitions, aliases, signature ids. */
export class SymbolSpace {
  private readonly defs = new Map<string, number>();
  private readonly aliases = new Map<string, string>();
  private readonly sigIds = new Map<string, number>();
  /** Where each definition came from (for duplicate messages). */
  private readonly origin = new Map<string, string>();

  define(name: string, value: number, from = "?"): void {
    if (this.defs.has(name) || this.aliases.has(name)) {
      throw new LinkError(`symbol "${name}" is defined twice (${this.origin.get(name) ?? "?"} and ${from})`);
    }
    this.defs.set(name, value);
    this.origin.set(name, from);
  }

  /** `name` stands for `target` (export names, resolved imports). */
  alias(name: string, target: string): void {
    if (this.defs.has(name) || this.aliases.has(name)) throw new LinkError(`symbol "${name}" is defined twice`);
    this.aliases.set(name, target);
  }

  has(name: string): boolean {
    return this.defs.has(name) || this.aliases.has(name) || name.startsWith(SYM_SIG_PREFIX);
  }

  /** The value of a symbol, or undefined. Signature ids are assigned on first use (1, 2, ...). */
  lookup(name: string): number | undefined {
    for (let k = 0; k < 64; k++) {
      const v = this.defs.get(name);
      if (v !== undefined) return v;
      const a = this.aliases.get(name);
      if (a === undefined) break;
      name = a;
    }
    if (name.startsWith(SYM_SIG_PREFIX)) return this.sigId(name.slice(SYM_SIG_PREFIX.length));
    return undefined;
  }

  /** The id of a signature key (equal keys, equal ids; never 0, which marks a null table entry). */
  sigId(key: string): number {
    let id = this.sigIds.get(key);
    if (id === undefined) {
      id = this.sigIds.size + 1;
      this.sigIds.set(key, id);
    }
    return id;
  }

  entries(): IterableIterator<[string, number]> {
    return this.defs.entries();
  }
}

export interface PlacedObject {
  object: LinkObject;
  /** Address of each section. */
  addr: number[];
}

/** Assigns addresses to sections of the given kind across objects, from `start`; returns the end. */
export function placeKind(objs: PlacedObject[], kind: SectionKind, start: number): number {
  let at = start;
  for (const p of objs) {
    p.object.sections.forEach((s, k) => {
      if (s.kind !== kind) return;
      const a = Math.max(1, s.align);
      at = Math.ceil(at / a) * a;
      p.addr[k] = at;
      at += s.size;
    });
  }
  return at;
}

/** Adds every symbol the placed objects define to the space. */
export function defineSymbols(space: SymbolSpace, objs: PlacedObject[]): void {
  for (const p of objs) {
    for (const s of p.object.symbols) {
      const v = s.section < 0 ? s.value : p.addr[s.section]! + s.value;
      space.define(s.name, v, p.object.name);
    }
  }
}

function writeField(out: Uint8Array, at: number, width: number, v: number): void {
  if (width === 8) {
    const hi = Math.floor(v / TWO32);
    const lo = v - hi * TWO32;
    for (let k = 0; k < 4; k++) out[at + k] = (lo >>> (8 * k)) & 0xff;
    for (let k = 0; k < 4; k++) out[at + 4 + k] = ((hi | 0) >>> (8 * k)) & 0xff;
    return;
  }
  for (let k = 0; k < 4; k++) out[at + k] = (v >>> (8 * k)) & 0xff;
}

function relocValue(r: LinkReloc, s: number, p: number, where: string): { v: number; width: number } {
  switch (r.kind) {
    case "pc32": {
      const v = s + r.addend - p;
      if (v < -0x80000000 || v > 0x7fffffff) throw new LinkError(`${where}: "${r.symbol}" is out of reach of a 32-bit relative reference`);
      return { v, width: 4 };
    }
    case "abs32": {
      const v = s + r.addend;
      if (v < 0 || v >= TWO32) throw new LinkError(`${where}: "${r.symbol}" does not fit a 32-bit absolute field`);
      return { v, width: 4 };
    }
    case "abs32s": {
      const v = s + r.addend;
      if (v < -0x80000000 || v > 0x7fffffff) throw new LinkError(`${where}: "${r.symbol}" does not fit a sign-extended 32-bit field`);
      return { v, width: 4 };
    }
    default:
      return { v: s + r.addend, width: 8 };
  }
}

/**
 * The bytes of every section of a placed object with relocations applied.
 * `describe` turns an unresolved symbol into the error message (imports name themselves).
 */
export function relocate(p: PlacedObject, space: SymbolSpace, describe: (symbol: string) => string = (s) => `undefined symbol "${s}"`): Uint8Array[] {
  const missing = new Set<string>();
  const out = p.object.sections.map((s) => (s.kind === "bss" ? new Uint8Array(0) : new Uint8Array(s.bytes)));
  p.object.sections.forEach((s, k) => {
    for (const r of s.relocs) {
      const sv = space.lookup(r.symbol);
      if (sv === undefined) { missing.add(r.symbol); continue; }
      const at = p.addr[k]! + r.offset;
      const { v, width } = relocValue(r, sv, at, p.object.name);
      writeField(out[k]!, r.offset, width, v);
    }
  });
  if (missing.size > 0) {
    throw new LinkError(`${p.object.name}: ${[...missing].sort().map(describe).join("; ")}`);
  }
  return out;
}
