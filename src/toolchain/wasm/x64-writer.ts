// The wasm compiler's machine-code writer: a growable code buffer with labels,
// local branch fixups and symbol relocations. Every instruction is encoded by the
// project assembler's encoder (x64/encode.ts, derived from the CPU's instruction
// table); this file only caches each encoding per operand *shape* (mnemonic,
// registers, displacement and immediate width classes) and patches displacement
// and immediate bytes into the cached template, so the table-driven encoder runs
// once per shape instead of once per instruction (it costs ~50 µs a call).
import { encodeAll, type EncodeContext } from "../x64/encode.js";
import { constValue, imm, memOf, sym, type Operand } from "../x64/operands.js";
import { controlReg, gpr, ipReg, xmmReg, type Register } from "../x64/registers.js";

/** Register numbers (hardware encoding). */
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
/** Memory-operand base meaning "RIP-relative" and "no register". */
export const RIP = 16;
export const NONE = -1;

/** Relocation kinds (ELF x86-64 names: R_X86_64_PC32, _64, _32, _32S). */
export type RelocKind = "pc32" | "abs64" | "abs32" | "abs32s";

export interface Reloc {
  /** Offset of the field in the section. */
  offset: number;
  kind: RelocKind;
  symbol: string;
  /** Field = S + addend (abs) or S + addend - P (pc32, P = field address). */
  addend: number;
}

interface Template {
  bytes: Uint8Array;
  /** The shape has a memory operand / an immediate (fields to patch). */
  mem: boolean;
  imm: boolean;
  /** Offset of the displacement field (-1: none or zero-class). */
  dispOff: number;
  dispW: number;
  /** Offset of the immediate field (-1: none); it runs to the end of the instruction. */
  immOff: number;
  immW: number;
}

const ctx: EncodeContext = {
  bits: 64,
  prefixes: [],
  rex: 0,
  pseudo: new Set<string>(),
  constant: (e) => constValue(e),
};

// ---- Operand codes: small integers naming a shape; three per key ------------------

const SIZE_IDX = [0, 0, 1, 0, 2, 0, 0, 0, 3];
const SIZE_OF_IDX = [1, 2, 4, 8];
const MEM_SIZES = [0, 1, 2, 4, 8, 16, 10, 6];
function memSizeIdx(size: number): number {
  const k = MEM_SIZES.indexOf(size);
  if (k < 0) throw new Error(`x64-writer: no memory operand size ${size}`);
  return k;
}

const CLS_GPR = 0, CLS_XMM = 1, CLS_CR = 2;
const OP_REG_BASE = 1; // + (cls * 4 + sizeIdx) * 16 + num   (< 200)
const OP_MEM_BASE = 200; // + ((((base+1)*18 + (index+1))*4 + scale)*3 + dispClass)*8 + memSizeIdx
const OP_IMM_BASE = 32000; // + class (0: 8, 1: 16, 2: 32, 3: 64)
const OP_REL_BASE = 32010; // + width class (0: rel8, 1: rel32)
// Codes fit 15 bits, so two operands make a small-integer key (fast Map lookups); a third is rare.
const K1 = 32768;
const K2 = 32768 * 32768;

const DISP_REP: readonly [number, number][] = [[0, 0], [0x11, 0x22], [0x12345678, 0x23456789]];
const IMM_REP: readonly [bigint, bigint][] = [[0x11n, 0x22n], [0x1234n, 0x2345n], [0x12345678n, 0x23456789n], [0x123456789abcn, 0x23456789abcdn]];

function decodeOperand(code: number, disp: number, immRep: bigint): Operand {
  if (code < OP_MEM_BASE) {
    const c = code - OP_REG_BASE;
    const num = c & 15;
    const cls = (c >> 4) >> 2;
    const size = SIZE_OF_IDX[(c >> 4) & 3]!;
    return cls === CLS_GPR ? gpr(num, size) : cls === CLS_XMM ? xmmReg(num) : controlReg(num);
  }
  if (code < OP_IMM_BASE) {
    let c = code - OP_MEM_BASE;
    const sizeIdx = c % 8; c = (c - sizeIdx) / 8;
    c = (c - (c % 3)) / 3; // disp class is carried by `disp`
    const scale = c % 4; c = (c - scale) / 4;
    const index = (c % 18) - 1; c = (c - (c % 18)) / 18;
    const base = c - 1;
    const baseReg: Register | null = base === NONE ? null : base === RIP ? ipReg(8) : gpr(base, 8);
    const indexReg: Register | null = index === NONE ? null : gpr(index, 8);
    return memOf(MEM_SIZES[sizeIdx]!, { base: baseReg, index: indexReg, scale: (1 << scale) as 1 | 2 | 4 | 8, disp: BigInt(disp) });
  }
  return imm(immRep);
}

const repCtx: EncodeContext = { ...ctx, prefixes: [0xf3] };

/** Encodes through the assembler; "rep <mn>" adds the REP prefix. */
function encodeOnce(mn: string, ops: Operand[]): Uint8Array {
  const encs = mn.startsWith("rep ") ? encodeAll(mn.slice(4), ops, repCtx) : encodeAll(mn, ops, ctx);
  return encs[0]!.bytes;
}

/** Builds a template for a non-branch instruction by encoding representative values and diffing. */
function buildTemplate(mn: string, codes: number[], dispClass: number, immClass: number): Template {
  const [d1, d2] = DISP_REP[dispClass]!;
  const [i1, i2] = immClass >= 0 ? IMM_REP[immClass]! : [0n, 0n];
  const mk = (d: number, i: bigint) => codes.map((c) => decodeOperand(c, d, i));
  const a = encodeOnce(mn, mk(d1, i1));
  let dispOff = -1, dispW = 0, immOff = -1, immW = 0;
  if (immClass >= 0) {
    const c = encodeOnce(mn, mk(d1, i2));
    immOff = firstDiff(a, c, mn);
    immW = a.length - immOff;
  }
  if (dispClass > 0) {
    const b = encodeOnce(mn, mk(d2, i1));
    dispOff = firstDiff(a, b, mn);
    dispW = (immOff >= 0 ? immOff : a.length) - dispOff;
    if (dispW !== (dispClass === 1 ? 1 : 4)) throw new Error(`x64-writer: unexpected displacement width ${dispW} in ${mn}`);
  }
  return { bytes: a, dispOff, dispW, immOff, immW, mem: dispClass > 0 || codes.some(isMemCode), imm: immClass >= 0 };
}

function isMemCode(c: number): boolean {
  return c >= OP_MEM_BASE && c < OP_IMM_BASE;
}

function firstDiff(a: Uint8Array, b: Uint8Array, mn: string): number {
  if (a.length !== b.length) throw new Error(`x64-writer: ${mn}: representative values changed the encoding length`);
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return k;
  throw new Error(`x64-writer: ${mn}: field not found in the encoding`);
}

const templates = new Map<string, Map<number, Template>>();

/** Number of distinct instruction shapes encoded so far (for compile-speed reports). */
export function templateCount(): number {
  let n = 0;
  for (const m of templates.values()) n += m.size;
  return n;
}

/** A code section under construction. */
export class X64Writer {
  buf = new Uint8Array(4096);
  len = 0;
  readonly relocs: Reloc[] = [];

  // Labels: position (-1 while unbound); pending fixups form one linked list per label.
  private labelPos: number[] = [];
  private labelFirstFix: number[] = [];
  private fixAt: number[] = [];
  private fixWidth: number[] = [];
  private fixNext: number[] = [];
  private unresolved = 0;

  // Operand side values of the instruction being built (set by the operand helpers).
  private dispV = 0;
  private dispClass = 0;
  private immLo = 0;
  private immHi = 0;
  private immClass = -1;
  private memSym: string | null = null;
  private memSymAddend = 0;
  private memLabel = -1;

  // ---- Buffer ----------------------------------------------------------------

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u32(v: number): void {
    this.ensure(4);
    const at = this.len;
    this.buf[at] = v; this.buf[at + 1] = v >>> 8; this.buf[at + 2] = v >>> 16; this.buf[at + 3] = v >>> 24;
    this.len += 4;
  }

  patch32(at: number, v: number): void {
    this.buf[at] = v; this.buf[at + 1] = v >>> 8; this.buf[at + 2] = v >>> 16; this.buf[at + 3] = v >>> 24;
  }

  /** Pads with int3 to an alignment (padding between functions is never executed). */
  alignCode(boundary: number): void {
    while (this.len % boundary !== 0) this.byte(0xcc);
  }

  /** The finished bytes (a copy sized to the content). */
  finish(): Uint8Array {
    if (this.unresolved !== 0) throw new Error("x64-writer: branch to a label that was never bound");
    return this.buf.slice(0, this.len);
  }

  // ---- Labels ----------------------------------------------------------------

  newLabel(): number {
    this.labelPos.push(-1);
    this.labelFirstFix.push(-1);
    return this.labelPos.length - 1;
  }

  isBound(l: number): boolean {
    return this.labelPos[l]! >= 0;
  }

  labelOffset(l: number): number {
    return this.labelPos[l]!;
  }

  bind(l: number): void {
    const pos = this.len;
    this.labelPos[l] = pos;
    for (let k = this.labelFirstFix[l]!; k >= 0; k = this.fixNext[k]!) {
      const at = this.fixAt[k]!;
      const width = this.fixWidth[k]!;
      const rel = pos - (at + width);
      if (width === 1) {
        if (rel > 127) throw new Error("x64-writer: short branch out of range");
        this.buf[at] = rel;
      } else {
        this.patch32(at, rel);
      }
      this.unresolved--;
    }
    this.labelFirstFix[l] = -1;
  }

  /** Records a rel field (at, width) pointing to label l, relative to the field's end. */
  private refLabel(at: number, width: number, l: number): void {
    const pos = this.labelPos[l]!;
    if (pos >= 0) {
      const rel = pos - (at + width);
      if (width === 1) this.buf[at] = rel;
      else this.patch32(at, rel);
      return;
    }
    this.fixAt.push(at);
    this.fixWidth.push(width);
    this.fixNext.push(this.labelFirstFix[l]!);
    this.labelFirstFix[l] = this.fixAt.length - 1;
    this.unresolved++;
  }

  // ---- Operand helpers (return shape codes; side values go to fields) ---------

  /** General-purpose register `num` at `size` bytes. */
  R(size: number, num: number): number {
    return OP_REG_BASE + (CLS_GPR * 4 + SIZE_IDX[size]!) * 16 + num;
  }

  X(num: number): number {
    return OP_REG_BASE + CLS_XMM * 4 * 16 + num;
  }

  CR(num: number): number {
    return OP_REG_BASE + CLS_CR * 4 * 16 + num;
  }

  /** Memory [base + index*2^scale + disp] of `size` bytes (0: unsized). */
  M(size: number, base: number, index: number, scale: number, disp: number): number {
    let dc: number;
    if (disp === 0 && base !== NONE) dc = 0;
    else if (disp >= -128 && disp <= 127 && base !== NONE) dc = 1;
    else dc = 2;
    if (base === NONE) dc = 2;
    this.dispV = disp;
    this.dispClass = dc;
    this.memSym = null;
    this.memLabel = -1;
    return OP_MEM_BASE + (((((base + 1) * 18 + (index + 1)) * 4 + scale) * 3 + dc) * 8 + memSizeIdx(size));
  }

  /** RIP-relative memory at symbol + addend. */
  MS(size: number, symbol: string, addend = 0): number {
    const c = this.M(size, RIP, NONE, 0, 0x12345678);
    this.memSym = symbol;
    this.memSymAddend = addend;
    return c;
  }

  /** RIP-relative memory at a local label (constant pools in the same section). */
  ML(size: number, label: number): number {
    const c = this.M(size, RIP, NONE, 0, 0x12345678);
    this.memLabel = label;
    return c;
  }

  /** Immediate (lo, hi) for an operation of `size` bytes; the value is taken modulo the size. */
  I(size: number, lo: number, hi = lo < 0 ? -1 : 0): number {
    let cls: number;
    if (size === 1) { lo = (lo << 24) >> 24; cls = 0; }
    else if (size === 2) { lo = (lo << 16) >> 16; cls = lo >= -128 && lo <= 127 ? 0 : 1; }
    else if (size === 4) { lo |= 0; cls = lo >= -128 && lo <= 127 ? 0 : 2; }
    else {
      lo |= 0;
      if (hi === (lo >> 31)) cls = lo >= -128 && lo <= 127 ? 0 : 2;
      else cls = 3;
    }
    this.immLo = lo;
    this.immHi = hi;
    this.immClass = cls;
    return OP_IMM_BASE + cls;
  }

  /** Unsigned 8-bit immediate (counts, ports, SSE control bytes). */
  U8(v: number): number {
    this.immLo = v & 0xff;
    this.immHi = 0;
    this.immClass = 0;
    return OP_IMM_BASE;
  }

  // ---- Instructions -----------------------------------------------------------

  /** Emits `mn` with up to three operand codes (from R/X/M/MS/I/U8). */
  op(mn: string, a = 0, b = 0, c = 0): void {
    let cache = templates.get(mn);
    if (cache === undefined) templates.set(mn, (cache = new Map()));
    const key = c === 0 ? a + b * K1 : a + b * K1 + c * K2;
    let t = cache.get(key);
    if (t === undefined) {
      const usesMem = isMemCode(a) || isMemCode(b) || isMemCode(c);
      const usesImm = a >= OP_IMM_BASE || b >= OP_IMM_BASE || c >= OP_IMM_BASE;
      const codes = [a, b, c].filter((x) => x !== 0);
      t = buildTemplate(mn, codes, usesMem ? this.dispClass : 0, usesImm ? this.immClass : -1);
      cache.set(key, t);
    }
    const at = this.len;
    const tb = t.bytes;
    const n = tb.length;
    if (at + n > this.buf.length) this.ensure(n);
    const buf = this.buf;
    for (let k = 0; k < n; k++) buf[at + k] = tb[k]!;
    this.len = at + n;
    if (t.mem && t.dispOff >= 0) {
      const p = at + t.dispOff;
      if (this.memSym !== null) {
        // pc32: S + A - P where P is the field; the CPU adds the address of the instruction's end.
        this.relocs.push({ offset: p, kind: "pc32", symbol: this.memSym, addend: this.memSymAddend - (t.bytes.length - t.dispOff) });
        this.patch32(p, 0);
      } else if (this.memLabel >= 0) {
        this.refLabelEnd(p, at + t.bytes.length, this.memLabel);
      } else if (t.dispW === 1) {
        this.buf[p] = this.dispV;
      } else {
        this.patch32(p, this.dispV);
      }
    }
    if (t.imm) {
      const p = at + t.immOff;
      switch (t.immW) {
        case 1: this.buf[p] = this.immLo; break;
        case 2: this.buf[p] = this.immLo; this.buf[p + 1] = this.immLo >> 8; break;
        case 4: this.patch32(p, this.immLo); break;
        default: this.patch32(p, this.immLo); this.patch32(p + 4, this.immHi); break;
      }
    }
  }

  /** A RIP-relative field at p, relative to `end`, pointing at a label (label may be unbound). */
  private refLabelEnd(p: number, end: number, l: number): void {
    // Store (label - end) as (label - (p + 4)) - (end - (p + 4)): fold the tail into a pre-bias.
    const tail = end - (p + 4);
    const pos = this.labelPos[l]!;
    if (pos >= 0) { this.patch32(p, pos - end); return; }
    this.patch32(p, 0);
    this.pendingTail.push(p, tail);
    this.refLabel(p, 4, l);
  }

  private readonly pendingTail: number[] = [];

  /** Applies the tails of RIP-relative label references (after every label is bound). */
  resolveTails(): void {
    for (let k = 0; k < this.pendingTail.length; k += 2) {
      const p = this.pendingTail[k]!;
      const tail = this.pendingTail[k + 1]!;
      const v = (this.buf[p]! | (this.buf[p + 1]! << 8) | (this.buf[p + 2]! << 16) | (this.buf[p + 3]! << 24)) - tail;
      this.patch32(p, v);
    }
    this.pendingTail.length = 0;
  }

  /** Jump/call family with a label target: `mn` is "jmp", "call" or "j<cc>". short: rel8 (backward or known-near only). */
  branch(mn: string, label: number, short = false): void {
    const t = this.branchTemplate(mn, short ? 1 : 4);
    const at = this.len;
    this.bytes(t.bytes);
    this.refLabel(at + t.immOff, t.immW, label);
  }

  /** Branch to a label when it is bound and within rel8 range, else the rel32 form. */
  branchAuto(mn: string, label: number): void {
    const pos = this.labelPos[label]!;
    if (pos >= 0) {
      const t = this.branchTemplate(mn, 1);
      if (pos - (this.len + t.bytes.length) >= -128) { this.branch(mn, label, true); return; }
    }
    this.branch(mn, label, false);
  }

  /** call/jmp rel32 to a symbol (relocated by the linker). */
  branchSym(mn: string, symbol: string, addend = 0): void {
    const t = this.branchTemplate(mn, 4);
    const at = this.len;
    this.bytes(t.bytes);
    this.relocs.push({ offset: at + t.immOff, kind: "pc32", symbol, addend: addend - 4 });
  }

  private branchTemplate(mn: string, width: number): Template {
    let cache = templates.get(mn);
    if (cache === undefined) templates.set(mn, (cache = new Map()));
    const key = OP_REL_BASE + (width === 1 ? 0 : 1);
    let t = cache.get(key);
    if (t === undefined) {
      const encs = encodeAll(mn, [sym(".L.target")], ctx);
      const e = encs.find((x) => x.relWidth === width);
      if (e === undefined) throw new Error(`x64-writer: ${mn} has no rel${width * 8} form`);
      const f = e.fixups[0]!;
      t = { bytes: e.bytes, dispOff: -1, dispW: 0, immOff: f.offset, immW: f.width, mem: false, imm: false };
      cache.set(key, t);
    }
    return t;
  }

  /** mov r64, imm64 holding symbol + addend (absolute address, relocated). */
  movAbsSym(reg: number, symbol: string, addend = 0): void {
    this.op("mov", this.R(8, reg), this.I(8, 0x12345678, 0x1234));
    this.relocs.push({ offset: this.len - 8, kind: "abs64", symbol, addend });
  }

  /** An absolute 64-bit data word relocated to symbol + addend (jump tables, pointers). */
  dataSym64(symbol: string, addend = 0): void {
    this.ensure(8);
    this.relocs.push({ offset: this.len, kind: "abs64", symbol, addend });
    for (let k = 0; k < 8; k++) this.buf[this.len++] = 0;
  }

  /** A 32-bit data word holding (label - base label) once both are bound: jump-table entries. */
  dataLabelDiff(label: number, base: number): void {
    this.ensure(4);
    this.labelDiffs.push(this.len, label, base);
    this.u32(0);
  }

  private readonly labelDiffs: number[] = [];

  /** Fills label-difference words (call after all labels are bound). */
  resolveLabelDiffs(): void {
    for (let k = 0; k < this.labelDiffs.length; k += 3) {
      this.patch32(this.labelDiffs[k]!, this.labelPos[this.labelDiffs[k + 1]!]! - this.labelPos[this.labelDiffs[k + 2]!]!);
    }
    this.labelDiffs.length = 0;
  }
}
