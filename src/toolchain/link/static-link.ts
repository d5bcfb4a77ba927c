// Static linking of one compiled wasm module with native (assembly) objects
// into a fixed address layout: text, rodata and data/bss grouped by kind, the
// module's table and linear-memory contents laid out from its element and data
// segments, imports bound to native symbols, exports made linkable symbols.
// The user and kernel image builders (user-image.ts, kernel-image.ts) use it.
import { TABLE_ENTRY, TABLE_HEADER, ENTRY_CODE, ENTRY_SIG, SYM_SIG_PREFIX } from "../wasm/abi.js";
import type { CompiledModule } from "../wasm/compile-module.js";
import { CPU_MODULE } from "../wasm/intrinsics.js";
import type { ConstExpr } from "../wasm/types.js";
import { defineSymbols, LinkError, placeKind, relocate, SymbolSpace, type PlacedObject } from "./linker.js";
import type { LinkObject, SectionKind } from "./object.js";

/** Symbol prefix of the wasm module's own entities in images. */
export const IMAGE_PREFIX = "wasm.";

export interface StaticLayout {
  /** Address of the first text byte. */
  textBase: number;
  /** Round each kind's start up to a page (separate permissions), or pack them. */
  pageAlignKinds: boolean;
}

export interface LinkedSegment {
  kind: SectionKind;
  addr: number;
  /** Contents (empty for bss). */
  bytes: Uint8Array;
  size: number;
}

/** One active data segment of linear memory, at its wasm address. */
export interface MemoryContents {
  offset: number;
  bytes: Uint8Array;
}

export interface StaticImage {
  space: SymbolSpace;
  segments: LinkedSegment[];
  memory: MemoryContents[];
  /** Initial and maximum pages of the module's linear memory (null: no memory). */
  memoryPages: { initial: number; maximum: number | null } | null;
  /** Address → names, for symbol maps. */
  symbols: { name: string; addr: number; size: number; kind: "func" | "object" | ""; wasmName?: string }[];
  end: number;
}

function constValue(e: ConstExpr, what: string): number {
  if (e.op !== "const") throw new LinkError(`${what}: an offset from global.get is only known at instantiation; static images need constant offsets`);
  return e.lo >>> 0;
}

/** Checks the module can be linked statically (own memory and table, or none). */
function checkModule(c: CompiledModule): void {
  const m = c.module;
  for (const t of m.tables) if (t.import !== null) throw new LinkError(`import "${t.import.module}" "${t.import.field}": a static image must define its table, not import it`);
  for (const mm of m.memories) if (mm.import !== null) throw new LinkError(`import "${mm.import.module}" "${mm.import.field}": a static image must define its memory, not import it (build without --importMemory)`);
}

/** Adds the element segments to the table in the module's data section as relocations. */
function staticTable(c: CompiledModule): void {
  const m = c.module;
  if (m.elems.length === 0) return;
  const obj = c.object;
  const tableSym = obj.symbols.find((s) => s.name === c.symbols.table(0));
  if (tableSym === undefined) throw new LinkError("element segments without a table");
  const data = obj.sections[tableSym.section]!;
  const size = m.tables[0]!.limits.initial;
  m.elems.forEach((seg, k) => {
    const off = constValue(seg.offset, `element segment ${k}`);
    if (off + seg.funcs.length > size) throw new LinkError(`element segment ${k} does not fit the table (${off} + ${seg.funcs.length} > ${size})`);
    seg.funcs.forEach((fi, j) => {
      if (fi < 0) return;
      const at = tableSym.value + TABLE_HEADER + TABLE_ENTRY * (off + j);
      data.relocs.push({ offset: at + ENTRY_CODE, kind: "abs64", symbol: c.symbols.func(fi), addend: 0 });
      data.relocs.push({ offset: at + ENTRY_SIG, kind: "abs32", symbol: SYM_SIG_PREFIX + m.funcs[fi]!.type.key, addend: 0 });
    });
  });
}

function memoryContents(c: CompiledModule): MemoryContents[] {
  const out: MemoryContents[] = [];
  const mem = c.module.memories[0];
  c.module.datas.forEach((seg, k) => {
    if (!seg.active) return;
    const off = constValue(seg.offset!, `data segment ${k}`);
    const limit = mem === undefined ? 0 : mem.limits.initial * 65536;
    if (off + seg.bytes.length > limit) throw new LinkError(`data segment ${k} (${off} + ${seg.bytes.length} bytes) is outside the initial memory (${limit} bytes)`);
    out.push({ offset: off, bytes: seg.bytes });
  });
  return out;
}

/**
 * Links the module with native objects. Each of `defaults` supplies runtime
 * symbols (trap entry, memory.grow hook, stack limit, entry stub ...) and is
 * linked only when some of its symbols are defined nowhere else; it then
 * defines only those. Objects are laid out natives first, then defaults, then
 * the module. `extra` may define layout-dependent symbols before relocation.
 */
export function staticLink(
  c: CompiledModule, natives: LinkObject[], defaults: LinkObject[], layout: StaticLayout,
  extra?: (space: SymbolSpace, end: number, memory: MemoryContents[], ranges: readonly { kind: SectionKind; start: number; end: number }[]) => void,
): StaticImage {
  checkModule(c);
  staticTable(c);
  const memory = memoryContents(c);
  const m = c.module;
  const sym = c.symbols;

  // Defaults only for what nothing else defines (a native trap handler replaces the default one).
  const defined = new Set<string>();
  for (const o of [...natives, c.object]) for (const s of o.symbols) defined.add(s.name);
  // A wasm export may provide a runtime symbol too (e.g. the user runtime's __wasm_memory_grow).
  for (const e of m.exports) defined.add(e.name);
  const objects: LinkObject[] = [...natives];
  for (const d of defaults) {
    const needed = d.symbols.filter((s) => !defined.has(s.name));
    if (needed.length === 0) continue;
    objects.push({ ...d, symbols: needed });
    for (const s of needed) defined.add(s.name);
  }
  objects.push(c.object);

  const placed: PlacedObject[] = objects.map((object) => ({ object, addr: object.sections.map(() => 0) }));
  let at = layout.textBase;
  const page = (x: number) => (layout.pageAlignKinds ? Math.ceil(x / 4096) * 4096 : x);
  const kinds: SectionKind[] = ["text", "rodata", "data", "bss"];
  const ranges: { kind: SectionKind; start: number; end: number }[] = [];
  for (const kind of kinds) {
    const start = kind === "bss" ? at : page(at);
    const end = placeKind(placed, kind, start);
    ranges.push({ kind, start, end });
    at = end;
  }
  const space = new SymbolSpace();
  defineSymbols(space, placed);
  extra?.(space, at, memory, ranges);
  // Imports: cpu intrinsics are inline; everything else binds to a native symbol.
  m.funcs.forEach((f, i) => {
    if (f.import === null || f.import.module === CPU_MODULE) return;
    const full = `${f.import.module}.${f.import.field}`;
    const target = space.has(full) ? full : f.import.field;
    if (!space.has(target)) return; // reported by relocate with the import's name
    space.alias(sym.func(i), target);
  });
  m.globals.forEach((g, i) => {
    if (g.import === null) return;
    const full = `${g.import.module}.${g.import.field}`;
    const target = space.has(full) ? full : g.import.field;
    if (space.has(target)) space.alias(sym.global(i), target);
  });
  // Exports become linkable symbols (unless a native object already uses the name).
  for (const e of m.exports) {
    if (space.has(e.name)) continue;
    const target = e.kind === "func" ? sym.func(e.index) : e.kind === "global" ? sym.global(e.index) : e.kind === "table" ? sym.table(e.index) : sym.memory(e.index);
    space.alias(e.name, target);
  }
  const describe = (s: string): string => {
    const fi = m.funcs.findIndex((_, i) => sym.func(i) === s);
    if (fi >= 0 && m.funcs[fi]!.import) {
      const im = m.funcs[fi]!.import!;
      return `unsatisfied import "${im.module}" "${im.field}" (no native symbol "${im.module}.${im.field}" or "${im.field}")`;
    }
    const gi = m.globals.findIndex((_, i) => sym.global(i) === s);
    if (gi >= 0 && m.globals[gi]!.import) {
      const im = m.globals[gi]!.import!;
      return `unsatisfied import "${im.module}" "${im.field}" (global; no native symbol "${im.module}.${im.field}" or "${im.field}")`;
    }
    return `undefined symbol "${s}"`;
  };
  const bytesByObject = placed.map((p) => relocate(p, space, describe));

  // Gather each kind's bytes into one segment.
  const segments: LinkedSegment[] = [];
  for (const r of ranges) {
    if (r.end === r.start) continue;
    const bytes = r.kind === "bss" ? new Uint8Array(0) : new Uint8Array(r.end - r.start);
    if (r.kind === "text") bytes.fill(0xcc); // padding between objects traps if executed
    placed.forEach((p, j) => {
      p.object.sections.forEach((s, k) => {
        if (s.kind !== r.kind || r.kind === "bss") return;
        bytes.set(bytesByObject[j]![k]!.subarray(0, s.size), p.addr[k]! - r.start);
      });
    });
    segments.push({ kind: r.kind, addr: r.start, bytes, size: r.end - r.start });
  }

  // Symbols for the map: everything defined, with wasm names for functions.
  const wasmName = new Map<string, string>();
  m.funcs.forEach((f, i) => {
    if (f.import === null) wasmName.set(sym.func(i), f.name ?? `$${i}`);
  });
  const symbols: StaticImage["symbols"] = [];
  for (const p of placed) {
    for (const s of p.object.symbols) {
      if (s.name.includes(":")) continue; // section symbols of assembler objects
      const entry: StaticImage["symbols"][number] = { name: s.name, addr: space.lookup(s.name)!, size: s.size, kind: s.kind };
      const wn = wasmName.get(s.name);
      if (wn !== undefined) entry.wasmName = wn;
      symbols.push(entry);
    }
  }
  for (const e of m.exports) {
    const v = space.lookup(e.name);
    if (v !== undefined && !symbols.some((s) => s.name === e.name)) symbols.push({ name: e.name, addr: v, size: 0, kind: e.kind === "func" ? "func" : "object" });
  }
  symbols.sort((a, b) => a.addr - b.addr);
  const mem0 = m.memories[0];
  return {
    space, segments, memory, symbols, end: at,
    memoryPages: mem0 === undefined ? null : { initial: mem0.limits.initial, maximum: mem0.limits.maximum },
  };
}

/** The text symbol map: one line per symbol, "address size kind name [wasm-name]". */
export function formatSymbolMap(img: StaticImage): string {
  const lines = ["# capos symbol map: address size kind name [wasm function name]"];
  for (const s of img.symbols) {
    lines.push(`${s.addr.toString(16).padStart(16, "0")} ${s.size.toString(16).padStart(6, "0")} ${s.kind || "-"} ${s.name}${s.wasmName !== undefined ? ` ${s.wasmName}` : ""}`);
  }
  return lines.join("\n") + "\n";
}

/** Parses a symbol map back (for `capos disasm` and traces). */
export function parseSymbolMap(text: string): { addr: number; size: number; kind: string; name: string; wasmName: string | null }[] {
  const out: { addr: number; size: number; kind: string; name: string; wasmName: string | null }[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [a, s, kind, name, wasm] = line.split(" ");
    // kind "-" marks a symbol without a type (absolute constants, labels).
    out.push({ addr: parseInt(a!, 16), size: parseInt(s!, 16), kind: kind === "-" ? "" : kind!, name: name!, wasmName: wasm ?? null });
  }
  return out;
}
