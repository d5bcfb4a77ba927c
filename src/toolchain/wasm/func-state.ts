// The abstract operand stack of one function being compiled, and its register
// allocator. Stack entries are constants, registers, references to locals,
// spilled slots, or pending comparison flags; nothing is materialised until an
// operation needs it. Each stack position has a canonical spill slot in the
// frame ([rbp - slotBase - 8(i+1)]), so a spilled value's place never depends on
// the path that got there.
import { SCRATCH_GPRS, SCRATCH_XMMS, XMM_TEMP } from "./abi.js";
import { F32, F64, I32, I64, isFloat, type ValType } from "./types.js";
import { NONE, R11, RBP, X64Writer } from "./x64-writer.js";

export const K_CONST = 0;
export const K_REG = 1;
export const K_LOCAL = 2;
export const K_SLOT = 3;
export const K_FLAGS = 4;

/** x86 condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
export const CC_O = 0, CC_NO = 1, CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7;
export const CC_S = 8, CC_NS = 9, CC_P = 10, CC_NP = 11, CC_L = 12, CC_GE = 13, CC_LE = 14, CC_G = 15;
/** Float equality: ZF=1 and PF=0 (ordered and equal); its inverse: ZF=0 or PF=1. */
export const CC_FEQ = 16, CC_FNE = 17;
export const CC_NAMES = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

export function invertCC(cc: number): number {
  return cc ^ 1;
}

/** A value location for moves: a register (GPR or XMM by type), frame memory [rbp+disp], or a constant. */
export const L_GPR = 0, L_XMM = 1, L_MEM = 2, L_CONST = 3;
export interface Loc {
  k: number;
  /** Register number, or rbp displacement for L_MEM. */
  r: number;
  lo: number;
  hi: number;
}

export function locKey(l: Loc): number {
  return l.k === L_GPR ? l.r : l.k === L_XMM ? 16 + l.r : l.k === L_MEM ? 1_000_000 + l.r : -1;
}

/** Bytes of a value type in a register or slot (i32/f32: 4, i64/f64: 8). */
export function sizeOf(t: ValType): number {
  return t === I32 || t === F32 ? 4 : 8;
}

/** Supplies float constants from the module's read-only pool. */
export interface ConstPool {
  /** Symbol and addend of `size` bytes (4, 8 or 16, aligned to size) holding lo/hi repeated. */
  floatConst(lo: number, hi: number, size: 4 | 8 | 16): { symbol: string; addend: number };
}

export class StackState {
  sp = 0;
  kind = new Int8Array(64);
  vtype = new Int8Array(64);
  reg = new Int8Array(64);
  lo = new Int32Array(64);
  hi = new Int32Array(64);
  /** Deepest stack height seen (sizes the spill area). */
  maxDepth = 0;
  /** Entries below this height are known to be K_SLOT or K_CONST. */
  cleanHeight = 0;
  /** Owner stack index per register; -1 free; -2 never allocatable. */
  readonly gprOwner = new Int32Array(16).fill(-2);
  readonly xmmOwner = new Int32Array(16).fill(-2);

  // Locals: home register (or -1) and rbp displacement of the frame home.
  localType: ValType[] = [];
  localReg: number[] = [];
  localDisp: number[] = [];
  localRefs: Int32Array = new Int32Array(0);
  /** Bytes between rbp and spill slot 0 (saved registers and local slots). */
  slotBase = 0;

  constructor(readonly w: X64Writer, readonly pool: ConstPool) {
    for (const r of SCRATCH_GPRS) this.gprOwner[r] = -1;
    for (const r of SCRATCH_XMMS) this.xmmOwner[r] = -1;
  }

  reset(): void {
    this.sp = 0;
    this.maxDepth = 0;
    this.cleanHeight = 0;
    for (const r of SCRATCH_GPRS) this.gprOwner[r] = -1;
    for (const r of SCRATCH_XMMS) this.xmmOwner[r] = -1;
  }

  slotDisp(i: number): number {
    return -(this.slotBase + 8 * (i + 1));
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const k = new Int8Array(n); k.set(this.kind); this.kind = k;
    const t = new Int8Array(n); t.set(this.vtype); this.vtype = t;
    const r = new Int8Array(n); r.set(this.reg); this.reg = r;
    const l = new Int32Array(n); l.set(this.lo); this.lo = l;
    const h = new Int32Array(n); h.set(this.hi); this.hi = h;
  }

  private pushRaw(kind: number, t: ValType, reg: number, lo: number, hi: number): number {
    if (this.sp === this.kind.length) this.grow();
    const i = this.sp++;
    if (this.sp > this.maxDepth) this.maxDepth = this.sp;
    this.kind[i] = kind; this.vtype[i] = t; this.reg[i] = reg; this.lo[i] = lo; this.hi[i] = hi;
    return i;
  }

  pushConst(t: ValType, lo: number, hi: number): number {
    return this.pushRaw(K_CONST, t, -1, lo, hi);
  }

  /** Pushes a value held in a register the caller just allocated (or a result register). */
  pushReg(t: ValType, r: number): number {
    const i = this.pushRaw(K_REG, t, r, 0, 0);
    if (isFloat(t)) this.xmmOwner[r] = i; else this.gprOwner[r] = i;
    return i;
  }

  pushLocal(k: number): number {
    this.localRefs[k]!++;
    return this.pushRaw(K_LOCAL, this.localType[k]!, -1, k, 0);
  }

  pushSlot(t: ValType): number {
    return this.pushRaw(K_SLOT, t, -1, 0, 0);
  }

  pushFlags(cc: number): number {
    return this.pushRaw(K_FLAGS, I32, -1, cc, 0);
  }

  /** Releases whatever entry i holds (register ownership, local reference). */
  release(i: number): void {
    const k = this.kind[i];
    if (k === K_REG) {
      const r = this.reg[i]!;
      if (isFloat(this.vtype[i] as ValType)) this.xmmOwner[r] = -1; else this.gprOwner[r] = -1;
    } else if (k === K_LOCAL) {
      this.localRefs[this.lo[i]!]!--;
    }
  }

  /** Pops n entries, releasing them. */
  drop(n: number): void {
    for (let k = 0; k < n; k++) this.release(--this.sp);
    if (this.sp < this.cleanHeight) this.cleanHeight = this.sp;
  }

  /** Discards entries down to height h. */
  truncate(h: number): void {
    if (this.sp > h) this.drop(this.sp - h);
  }

  type(i: number): ValType {
    return this.vtype[i] as ValType;
  }

  /** The GPR holding entry i directly (its own register or its local's home register), or -1. */
  gprOf(i: number): number {
    const k = this.kind[i];
    if (k === K_REG) return this.reg[i]!;
    if (k === K_LOCAL) return this.localReg[this.lo[i]!]!;
    return -1;
  }

  /** Where entry i's value lives, as a move source. */
  loc(i: number): Loc {
    const t = this.type(i);
    const fl = isFloat(t);
    switch (this.kind[i]) {
      case K_CONST: return { k: L_CONST, r: 0, lo: this.lo[i]!, hi: this.hi[i]! };
      case K_REG: return { k: fl ? L_XMM : L_GPR, r: this.reg[i]!, lo: 0, hi: 0 };
      case K_LOCAL: {
        const l = this.lo[i]!;
        const lr = this.localReg[l]!;
        return lr >= 0 ? { k: L_GPR, r: lr, lo: 0, hi: 0 } : { k: L_MEM, r: this.localDisp[l]!, lo: 0, hi: 0 };
      }
      case K_SLOT: return { k: L_MEM, r: this.slotDisp(i), lo: 0, hi: 0 };
      default: throw new Error("wasm compiler: a comparison result has no location");
    }
  }

  // ---- Register allocation -------------------------------------------------------

  /** A free scratch GPR not in `avoid` (bit mask), spilling the oldest holder if none is free. */
  allocGpr(avoid = 0): number {
    for (const r of SCRATCH_GPRS) if (this.gprOwner[r] === -1 && (avoid & (1 << r)) === 0) return r;
    let victim = -1;
    for (const r of SCRATCH_GPRS) {
      const o = this.gprOwner[r]!;
      if (o >= 0 && (avoid & (1 << r)) === 0 && (victim < 0 || o < this.gprOwner[victim]!)) victim = r;
    }
    if (victim < 0) throw new Error("wasm compiler: no general-purpose register can be freed");
    this.spill(this.gprOwner[victim]!);
    return victim;
  }

  allocXmm(avoid = 0): number {
    for (const r of SCRATCH_XMMS) if (this.xmmOwner[r] === -1 && (avoid & (1 << r)) === 0) return r;
    let victim = -1;
    for (const r of SCRATCH_XMMS) {
      const o = this.xmmOwner[r]!;
      if (o >= 0 && (avoid & (1 << r)) === 0 && (victim < 0 || o < this.xmmOwner[victim]!)) victim = r;
    }
    if (victim < 0) throw new Error("wasm compiler: no XMM register can be freed");
    this.spill(this.xmmOwner[victim]!);
    return victim;
  }

  allocFor(t: ValType, avoid = 0): number {
    return isFloat(t) ? this.allocXmm(avoid) : this.allocGpr(avoid);
  }

  /** Writes register entry i to its canonical slot. */
  spill(i: number): void {
    const t = this.type(i);
    const r = this.reg[i]!;
    const w = this.w;
    const d = this.slotDisp(i);
    if (isFloat(t)) {
      w.op(t === F32 ? "movss" : "movsd", w.M(sizeOf(t), RBP, NONE, 0, d), w.X(r));
      this.xmmOwner[r] = -1;
    } else {
      const s = sizeOf(t);
      w.op("mov", w.M(s, RBP, NONE, 0, d), w.R(s, r));
      this.gprOwner[r] = -1;
    }
    this.kind[i] = K_SLOT;
  }

  /** Frees a specific GPR: its holder moves to another register (not in avoid) or to its slot. */
  evictGpr(r: number, avoid = 0): void {
    const o = this.gprOwner[r]!;
    if (o < 0) return;
    let to = -1;
    for (const s of SCRATCH_GPRS) if (s !== r && this.gprOwner[s] === -1 && (avoid & (1 << s)) === 0) { to = s; break; }
    if (to < 0) { this.spill(o); return; }
    this.w.op("mov", this.w.R(8, to), this.w.R(8, r));
    this.gprOwner[r] = -1;
    this.gprOwner[to] = o;
    this.reg[o] = to;
  }

  evictXmm(r: number): void {
    const o = this.xmmOwner[r]!;
    if (o >= 0) this.spill(o);
  }

  /** Spills every register-held entry (before calls: all scratch registers are caller-saved). */
  spillAllBelow(h: number): void {
    for (const r of SCRATCH_GPRS) { const o = this.gprOwner[r]!; if (o >= 0 && o < h) this.spill(o); }
    for (const r of SCRATCH_XMMS) { const o = this.xmmOwner[r]!; if (o >= 0 && o < h) this.spill(o); }
  }

  /**
   * Makes every entry below h a slot or constant (block entry): register values
   * are spilled and local references copied, so all paths agree on where they are.
   */
  cleanBelow(h: number): void {
    for (let i = this.cleanHeight; i < h; i++) {
      const k = this.kind[i];
      if (k === K_REG) this.spill(i);
      else if (k === K_LOCAL) {
        const t = this.type(i);
        const src = this.loc(i);
        this.storeToMem(this.slotDisp(i), t, src);
        this.localRefs[this.lo[i]!]!--;
        this.kind[i] = K_SLOT;
      }
    }
    if (h > this.cleanHeight) this.cleanHeight = h;
  }

  /** Copies every reference to local k into its own register or slot (before local k changes). */
  detachLocal(k: number): void {
    if (this.localRefs[k] === 0) return;
    for (let i = this.sp - 1; i >= 0 && this.localRefs[k]! > 0; i--) {
      if (this.kind[i] !== K_LOCAL || this.lo[i] !== k) continue;
      const t = this.type(i);
      if (i < this.cleanHeight) {
        this.storeToMem(this.slotDisp(i), t, this.loc(i));
        this.localRefs[k]!--;
        this.kind[i] = K_SLOT;
      } else {
        this.toReg(i);
      }
    }
  }

  // ---- Moves ---------------------------------------------------------------------

  /** Loads a float constant into an XMM register. */
  loadFloatConst(x: number, t: ValType, lo: number, hi: number): void {
    const w = this.w;
    if (lo === 0 && hi === 0) { w.op("xorps", w.X(x), w.X(x)); return; }
    const c = this.pool.floatConst(lo, t === F64 ? hi : 0, t === F64 ? 8 : 4);
    w.op(t === F64 ? "movsd" : "movss", w.X(x), w.MS(sizeOf(t), c.symbol, c.addend));
  }

  /** Emits dst <- src for a value of type t (dst a register or memory; never both memory without R11). */
  move(t: ValType, dst: Loc, src: Loc): void {
    const w = this.w;
    const s = sizeOf(t);
    if (dst.k === L_MEM) { this.storeToMem(dst.r, t, src); return; }
    if (dst.k === L_GPR) {
      switch (src.k) {
        case L_GPR: if (src.r !== dst.r) w.op("mov", w.R(s, dst.r), w.R(s, src.r)); return;
        case L_MEM: w.op("mov", w.R(s, dst.r), w.M(s, RBP, NONE, 0, src.r)); return;
        case L_CONST: w.op("mov", w.R(s, dst.r), w.I(s, src.lo, src.hi)); return;
        default: w.op(s === 4 ? "movd" : "movq", w.R(s, dst.r), w.X(src.r)); return;
      }
    }
    switch (src.k) {
      case L_XMM: if (src.r !== dst.r) w.op("movaps", w.X(dst.r), w.X(src.r)); return;
      case L_MEM: w.op(t === F32 ? "movss" : "movsd", w.X(dst.r), w.M(s, RBP, NONE, 0, src.r)); return;
      case L_CONST: this.loadFloatConst(dst.r, t, src.lo, src.hi); return;
      default: w.op(s === 4 ? "movd" : "movq", w.X(dst.r), w.R(s, src.r)); return;
    }
  }

  /** Stores a value of type t from src into [rbp+disp] (memory sources go through R11). */
  storeToMem(disp: number, t: ValType, src: Loc): void {
    const w = this.w;
    const s = sizeOf(t);
    switch (src.k) {
      case L_GPR: w.op("mov", w.M(s, RBP, NONE, 0, disp), w.R(s, src.r)); return;
      case L_XMM: w.op(t === F32 ? "movss" : "movsd", w.M(s, RBP, NONE, 0, disp), w.X(src.r)); return;
      case L_MEM:
        if (src.r === disp) return;
        w.op("mov", w.R(s, R11), w.M(s, RBP, NONE, 0, src.r));
        w.op("mov", w.M(s, RBP, NONE, 0, disp), w.R(s, R11));
        return;
      default:
        if (s === 4 || src.hi === (src.lo >> 31)) {
          w.op("mov", w.M(s, RBP, NONE, 0, disp), w.I(s, src.lo, src.hi));
        } else {
          w.op("mov", w.M(4, RBP, NONE, 0, disp), w.I(4, src.lo));
          w.op("mov", w.M(4, RBP, NONE, 0, disp + 4), w.I(4, src.hi));
        }
    }
  }

  /** Materialises entry i into a register it owns (not in `avoid`); returns the register. */
  toReg(i: number, avoid = 0): number {
    const t = this.type(i);
    const fl = isFloat(t);
    if (this.kind[i] === K_REG) {
      const r = this.reg[i]!;
      if ((avoid & (1 << r)) === 0) return r;
    }
    if (this.kind[i] === K_FLAGS) throw new Error("wasm compiler: flags must be materialised by the compiler");
    const r = fl ? this.allocXmm(avoid | (this.kind[i] === K_REG ? 1 << this.reg[i]! : 0))
      : this.allocGpr(avoid | (this.kind[i] === K_REG ? 1 << this.reg[i]! : 0));
    this.move(t, { k: fl ? L_XMM : L_GPR, r, lo: 0, hi: 0 }, this.loc(i));
    this.release(i);
    this.becomesRegister(i);
    this.reg[i] = r;
    if (fl) this.xmmOwner[r] = i; else this.gprOwner[r] = i;
    return r;
  }

  /** Moves entry i into the specific register r (evicting r's holder first). */
  toSpecificGpr(i: number, r: number): void {
    if (this.kind[i] === K_REG && this.reg[i] === r) return;
    this.evictGpr(r, this.kind[i] === K_REG ? 1 << this.reg[i]! : 0);
    const t = this.type(i);
    this.move(t, { k: L_GPR, r, lo: 0, hi: 0 }, this.loc(i));
    this.release(i);
    this.becomesRegister(i);
    this.reg[i] = r;
    this.gprOwner[r] = i;
  }

  /**
   * Entry i now lives in a register. An operand can sit below cleanHeight (it
   * was pushed before a block that has since ended), so the clean watermark
   * drops to i: the next block entry must spill it again.
   */
  becomesRegister(i: number): void {
    this.kind[i] = K_REG;
    if (i < this.cleanHeight) this.cleanHeight = i;
  }

  /** Operand code for entry i as an integer source (register, memory or immediate; wide constants via R11). */
  intSrc(i: number, s: number): number {
    const w = this.w;
    switch (this.kind[i]) {
      case K_CONST: {
        const lo = this.lo[i]!, hi = this.hi[i]!;
        if (s === 4 || hi === (lo >> 31)) return w.I(s, lo, hi);
        w.op("mov", w.R(8, R11), w.I(8, lo, hi));
        return w.R(8, R11);
      }
      case K_REG: return w.R(s, this.reg[i]!);
      case K_LOCAL: {
        const l = this.lo[i]!;
        const lr = this.localReg[l]!;
        return lr >= 0 ? w.R(s, lr) : w.M(s, RBP, NONE, 0, this.localDisp[l]!);
      }
      case K_SLOT: return w.M(s, RBP, NONE, 0, this.slotDisp(i));
      default: throw new Error("wasm compiler: flags used as an operand");
    }
  }

  /** Like intSrc but never an immediate (constants go through R11). */
  intSrcRM(i: number, s: number): number {
    if (this.kind[i] === K_CONST) {
      const w = this.w;
      w.op("mov", w.R(s, R11), w.I(s, this.lo[i]!, this.hi[i]!));
      return w.R(s, R11);
    }
    return this.intSrc(i, s);
  }

  /** Operand code for entry i as a float source (XMM register or memory; constants from the pool). */
  floatSrc(i: number): number {
    const w = this.w;
    const t = this.type(i);
    const s = sizeOf(t);
    switch (this.kind[i]) {
      case K_CONST: {
        const c = this.pool.floatConst(this.lo[i]!, t === F64 ? this.hi[i]! : 0, s as 4 | 8);
        return w.MS(s, c.symbol, c.addend);
      }
      case K_REG: return w.X(this.reg[i]!);
      case K_LOCAL: return w.M(s, RBP, NONE, 0, this.localDisp[this.lo[i]!]!);
      case K_SLOT: return w.M(s, RBP, NONE, 0, this.slotDisp(i));
      default: throw new Error("wasm compiler: flags used as a float operand");
    }
  }

  /** Puts a float entry's value into XMM_TEMP unless it already sits in an XMM register; returns that register. */
  floatInXmm(i: number): number {
    if (this.kind[i] === K_REG) return this.reg[i]!;
    const t = this.type(i);
    this.move(t, { k: L_XMM, r: XMM_TEMP, lo: 0, hi: 0 }, this.loc(i));
    return XMM_TEMP;
  }
}

export { I32, I64, F32, F64 };
