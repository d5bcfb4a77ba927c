// A random generator of valid, terminating wasm modules for differential
// testing (V8 vs compile + emulate). Functions are built by a typed,
// stack-correct expression generator: arithmetic of every width, conversions,
// loads/stores on a small memory (sometimes out of bounds), globals, calls to
// earlier functions (no recursion), call_indirect, blocks/ifs/loops with
// results and parameters, br/br_if/br_table, select, bulk memory. Loops are
// bounded by counter locals. NaN bits, which engines may produce differently,
// are canonicalised wherever they could become observable.

type T = 0x7f | 0x7e | 0x7d | 0x7c; // i32 i64 f32 f64
const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c;
const TYPES: T[] = [I32, I64, F32, F64];

class Rng {
  constructor(private s: number) {}
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number { return this.next() % n; }
  pick<X>(a: readonly X[]): X { return a[this.int(a.length)]!; }
  chance(p: number): boolean { return this.next() / 4294967296 < p; }
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do { let b = v & 0x7f; v >>>= 7; if (v !== 0) b |= 0x80; out.push(b); } while (v !== 0);
  return out;
}

function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

interface FuncSig { params: T[]; results: T[] }

const UNOPS: Record<number, number[]> = {
  [I32]: [0x67, 0x68, 0x69, 0xc0, 0xc1],
  [I64]: [0x79, 0x7a, 0x7b, 0xc2, 0xc3, 0xc4],
  [F32]: [0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91],
  [F64]: [0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f],
};
const BINOPS: Record<number, number[]> = {
  [I32]: [0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78],
  [I64]: [0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a],
  [F32]: [0x92, 0x93, 0x94, 0x95, 0x96, 0x97],
  [F64]: [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5],
};
/** Comparisons by operand type (all produce i32). */
const CMPOPS: Record<number, number[]> = {
  [I32]: [0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f],
  [I64]: [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a],
  [F32]: [0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60],
  [F64]: [0x61, 0x62, 0x63, 0x64, 0x65, 0x66],
};
/** Conversions: [opcode, from, to]. */
const CONVERSIONS: [number, T, T][] = [
  [0xa7, I64, I32], [0xa8, F32, I32], [0xa9, F32, I32], [0xaa, F64, I32], [0xab, F64, I32],
  [0xac, I32, I64], [0xad, I32, I64], [0xae, F32, I64], [0xaf, F32, I64], [0xb0, F64, I64], [0xb1, F64, I64],
  [0xb2, I32, F32], [0xb3, I32, F32], [0xb4, I64, F32], [0xb5, I64, F32], [0xb6, F64, F32],
  [0xb7, I32, F64], [0xb8, I32, F64], [0xb9, I64, F64], [0xba, I64, F64], [0xbb, F32, F64],
  [0xbe, I32, F32], [0xbf, I64, F64],
];
const SAT_CONVERSIONS: [number, T, T][] = [
  [0, F32, I32], [1, F32, I32], [2, F64, I32], [3, F64, I32], [4, F32, I64], [5, F32, I64], [6, F64, I64], [7, F64, I64],
];
const LOADS: Record<number, [number, number][]> = { // [opcode, alignment log2]
  [I32]: [[0x28, 2], [0x2c, 0], [0x2d, 0], [0x2e, 1], [0x2f, 1]],
  [I64]: [[0x29, 3], [0x30, 0], [0x31, 0], [0x32, 1], [0x33, 1], [0x34, 2], [0x35, 2]],
  [F32]: [[0x2a, 2]],
  [F64]: [[0x2b, 3]],
};
const STORES: Record<number, [number, number][]> = {
  [I32]: [[0x36, 2], [0x3a, 0], [0x3b, 1]],
  [I64]: [[0x37, 3], [0x3c, 0], [0x3d, 1], [0x3e, 2]],
  [F32]: [[0x38, 2]],
  [F64]: [[0x39, 3]],
};

export interface GeneratedModule {
  bytes: Uint8Array;
  /** Exported test entry points: name, parameter types and result types (results are i32/i64 only). */
  entries: { name: string; params: T[]; results: T[] }[];
}

interface Label { results: T[] }

class FuncGen {
  code: number[] = [];
  locals: T[] = [];
  labels: Label[] = [];
  budget = 0;
  loopDepth = 0;
  /** Calls left in this body (keeps the cost of call chains polynomial). */
  callsLeft = 2;

  constructor(readonly g: ModuleGen, readonly index: number, readonly sig: FuncSig) {
    this.locals = [...sig.params];
    const extra = g.rng.int(6);
    for (let k = 0; k < extra; k++) this.locals.push(g.rng.pick(TYPES));
  }

  newLocal(t: T): number {
    this.locals.push(t);
    return this.locals.length - 1;
  }

  /** Loop counters: never chosen by random local.set/tee (loops must end). */
  readonly reserved = new Set<number>();

  localsOf(t: T): number[] {
    return this.locals.map((x, k) => (x === t && !this.reserved.has(k) ? k : -1)).filter((k) => k >= 0);
  }

  emit(...b: number[]): void { this.code.push(...b); }

  constant(t: T): void {
    const r = this.g.rng;
    const specials32 = [0, 1, -1, 0x7fffffff, -0x80000000, 31, 32, 63, 64, 255, 65535];
    switch (t) {
      case I32: this.emit(0x41, ...sleb(BigInt(r.chance(0.5) ? r.pick(specials32) : (r.next() | 0) >> r.int(32)))); break;
      case I64: {
        const v = r.chance(0.4) ? BigInt(r.pick(specials32)) : BigInt.asIntN(64, (BigInt(r.next()) << 32n) | BigInt(r.next())) >> BigInt(r.int(64));
        this.emit(0x42, ...sleb(v));
        break;
      }
      case F32: {
        const vals = [0, -0, 1, -1, 0.5, 1.5, 2.5, -2.5, 3e9, -3e9, 1e20, 2147483648, 4294967296, 1e-40, Infinity, -Infinity];
        const v = r.chance(0.5) ? r.pick(vals) : (r.next() / 65536 - 32768) * (r.chance(0.2) ? 1e6 : 1);
        const d = new DataView(new ArrayBuffer(4)); d.setFloat32(0, v, true);
        this.emit(0x43, ...new Uint8Array(d.buffer));
        break;
      }
      default: {
        const vals = [0, -0, 1, -1, 0.5, 1.5, 2.5, -2.5, 3e9, -3e9, 1e20, 9.3e18, 1.8e19, 2147483648, -2147483649, 1e-310, Infinity, -Infinity];
        const v = r.chance(0.5) ? r.pick(vals) : (r.next() / 65536 - 32768) * (r.chance(0.2) ? 1e12 : 1);
        const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, v, true);
        this.emit(0x44, ...new Uint8Array(d.buffer));
      }
    }
  }

  /** Makes a float on the stack NaN-free in its bits: canonical NaN when x != x. */
  canonicalize(t: T): void {
    if (t !== F32 && t !== F64) return;
    const k = this.newLocal(t);
    this.emit(0x22, ...uleb(k)); // local.tee
    if (t === F32) this.emit(0x43, 0x00, 0x00, 0xc0, 0x7f); else this.emit(0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f);
    this.emit(0x20, ...uleb(k), 0x20, ...uleb(k), t === F32 ? 0x5b : 0x61); // x == x
    this.emit(0x1b); // select: x if equal, else canonical NaN... (select a b c) = c ? a : b
  }

  address(): void {
    const r = this.g.rng;
    // Mostly in bounds; sometimes near or past the end of the 1-page memory.
    if (r.chance(0.1)) { this.emit(0x41, ...sleb(BigInt(r.pick([65530, 65535, 65536, -1, 70000])))); return; }
    this.expr(I32, 2);
    this.emit(0x41, ...sleb(0x3ff8n), 0x71);
  }

  /** Pushes one value of type t. */
  expr(t: T, depth: number): void {
    const r = this.g.rng;
    this.budget--;
    if (depth <= 0 || this.budget <= 0) {
      const ls = this.localsOf(t);
      if (ls.length > 0 && r.chance(0.6)) this.emit(0x20, ...uleb(r.pick(ls)));
      else this.constant(t);
      return;
    }
    const choice = r.int(18);
    switch (choice) {
      case 17: {
        // Many live values at once (more than the registers): push them all, then fold.
        const n = 6 + r.int(14);
        for (let k = 0; k < n; k++) this.expr(t, Math.min(depth - 1, 1));
        for (let k = 1; k < n; k++) this.emit(r.pick(BINOPS[t]!.slice(0, t === I32 || t === I64 ? 3 : 3)));
        return;
      }
      case 0: this.constant(t); return;
      case 1: {
        const ls = this.localsOf(t);
        if (ls.length === 0) { this.constant(t); return; }
        this.emit(0x20, ...uleb(r.pick(ls)));
        return;
      }
      case 2: case 3: {
        this.expr(t, depth - 1);
        this.expr(t, depth - 1);
        this.emit(r.pick(BINOPS[t]!));
        return;
      }
      case 4: {
        this.expr(t, depth - 1);
        this.emit(r.pick(UNOPS[t]!));
        return;
      }
      case 5: {
        if (t !== I32) { this.expr(t, depth - 1); return; }
        const ot = r.pick(TYPES);
        this.expr(ot, depth - 1);
        if (r.chance(0.2) && (ot === I32 || ot === I64)) { this.emit(ot === I32 ? 0x45 : 0x50); return; }
        this.expr(ot, depth - 1);
        this.emit(r.pick(CMPOPS[ot]!));
        return;
      }
      case 6: {
        const conv = CONVERSIONS.filter((c) => c[2] === t);
        const [op, from] = r.pick(conv);
        const trapping = (op >= 0xa8 && op <= 0xab) || (op >= 0xae && op <= 0xb1);
        if (trapping && r.chance(0.7)) {
          // Mostly the saturating form: random floats are often out of range, and a trap ends the test call.
          const sat = SAT_CONVERSIONS.filter((c) => c[1] === from && c[2] === t);
          const [sub] = r.pick(sat);
          this.expr(from, depth - 1);
          this.emit(0xfc, sub);
          return;
        }
        this.expr(from, depth - 1);
        this.emit(op);
        return;
      }
      case 7: {
        if (t !== I32 && t !== I64) { this.expr(t, depth - 1); return; }
        if (r.chance(0.5)) {
          const [sub, from] = r.pick(SAT_CONVERSIONS.filter((c) => c[2] === t)).slice(0, 2) as [number, T];
          this.expr(from, depth - 1);
          this.emit(0xfc, sub);
        } else {
          // reinterpret of a canonicalised float
          const from = t === I32 ? F32 : F64;
          this.expr(from, depth - 1);
          this.canonicalize(from);
          this.emit(t === I32 ? 0xbc : 0xbd);
        }
        return;
      }
      case 8: {
        const [op, align] = r.pick(LOADS[t]!);
        this.address();
        this.emit(op, ...uleb(align), ...uleb(r.chance(0.2) ? r.int(64) : 0));
        return;
      }
      case 9: {
        const gi = this.g.globals.findIndex((gt) => gt === t);
        if (gi < 0) { this.constant(t); return; }
        this.emit(0x23, ...uleb(gi));
        return;
      }
      case 10: {
        // select
        this.expr(t, depth - 1);
        this.expr(t, depth - 1);
        this.expr(I32, depth - 1);
        this.emit(0x1b);
        return;
      }
      case 11: this.blockExpr(t, depth); return;
      case 12: this.ifExpr(t, depth); return;
      case 13: this.callExpr(t, depth); return;
      case 14: this.loopExpr(t, depth); return;
      case 15: {
        // local.tee
        const ls = this.localsOf(t);
        if (ls.length === 0) { this.constant(t); return; }
        this.expr(t, depth - 1);
        this.emit(0x22, ...uleb(r.pick(ls)));
        return;
      }
      default: {
        // a statement, then a value
        this.stmt(depth - 1);
        this.expr(t, depth - 1);
      }
    }
  }

  blockType(results: T[], params: T[] = []): number[] {
    if (params.length === 0 && results.length === 0) return [0x40];
    if (params.length === 0 && results.length === 1) return [results[0]!];
    return sleb(BigInt(this.g.typeIndex({ params, results })));
  }

  /** (block (result t) stmts (br_if 0 value cond)? value) */
  blockExpr(t: T, depth: number): void {
    const r = this.g.rng;
    const multi = r.chance(0.25);
    const params: T[] = r.chance(0.3) ? [r.pick(TYPES)] : [];
    for (const p of params) this.expr(p, depth - 1);
    const results: T[] = multi ? [t, r.pick(TYPES)] : [t];
    this.emit(0x02, ...this.blockType(results, params));
    this.labels.push({ results });
    // Consume the parameters.
    for (const p of params.slice().reverse()) this.dropValue(p);
    if (r.chance(0.5)) this.stmt(depth - 1);
    if (r.chance(0.4)) {
      for (const rt of results) this.expr(rt, depth - 1);
      this.expr(I32, depth - 1);
      this.emit(0x0d, 0x00); // br_if 0
      for (const rt of results.slice().reverse()) this.dropValue(rt);
    }
    if (r.chance(0.15)) {
      // br_table to this block or an outer one carrying no values: only to this block when it has results
      for (const rt of results) this.expr(rt, depth - 1);
      this.expr(I32, depth - 1);
      this.emit(0x0e, ...uleb(2), 0, 0, 0); // all targets: this block
      this.labels.pop();
      this.emit(0x0b);
      if (multi) this.dropValue(results[1]!);
      return;
    }
    for (const rt of results) this.expr(rt, depth - 1);
    this.labels.pop();
    this.emit(0x0b);
    if (multi) this.dropValue(results[1]!);
  }

  dropValue(t: T): void {
    const r = this.g.rng;
    const ls = this.localsOf(t);
    if (ls.length > 0 && r.chance(0.5)) this.emit(0x21, ...uleb(r.pick(ls)));
    else this.emit(0x1a);
  }

  ifExpr(t: T, depth: number): void {
    const r = this.g.rng;
    this.expr(I32, depth - 1);
    this.emit(0x04, ...this.blockType([t]));
    this.labels.push({ results: [t] });
    if (r.chance(0.3)) {
      this.expr(t, depth - 1);
      this.expr(I32, depth - 1);
      this.emit(0x0d, 0x00); // br_if 0 with the value
      this.dropValue(t);
    }
    this.expr(t, depth - 1);
    this.emit(0x05);
    if (r.chance(0.2)) {
      this.expr(t, depth - 1);
      this.emit(0x0c, 0x00); // br 0 (the rest is unreachable)
      this.expr(t, depth - 1);
      this.emit(0x1a);
      this.constant(t);
    } else {
      this.expr(t, depth - 1);
    }
    this.labels.pop();
    this.emit(0x0b);
  }

  /** A bounded loop accumulating into a local, then the local as the value. */
  loopExpr(t: T, depth: number): void {
    const r = this.g.rng;
    if (this.loopDepth >= 2) { this.expr(t, depth - 1); return; }
    this.loopDepth++;
    const counter = this.newLocal(I32);
    this.reserved.add(counter);
    const acc = this.newLocal(t);
    this.emit(0x41, ...sleb(BigInt(1 + r.int(4))), 0x21, ...uleb(counter));
    this.expr(t, depth - 1);
    this.emit(0x21, ...uleb(acc));
    this.emit(0x03, 0x40); // loop
    this.labels.push({ results: [] });
    this.emit(0x20, ...uleb(acc));
    this.expr(t, depth - 1);
    this.emit(r.pick(t === I32 || t === I64 ? [BINOPS[t]![0]!, BINOPS[t]![2]!, BINOPS[t]![9]!] : [BINOPS[t]![0]!, BINOPS[t]![2]!]));
    this.emit(0x21, ...uleb(acc));
    if (r.chance(0.5)) this.stmt(depth - 1);
    this.emit(0x20, ...uleb(counter), 0x41, 0x01, 0x6b, 0x22, ...uleb(counter)); // counter - 1, tee
    this.emit(0x0d, 0x00); // br_if loop
    this.labels.pop();
    this.emit(0x0b);
    this.emit(0x20, ...uleb(acc));
    this.loopDepth--;
  }

  callExpr(t: T, depth: number): void {
    const r = this.g.rng;
    const candidates = this.g.sigs.slice(0, this.index).map((s, k) => ({ s, k })).filter((x) => x.s.results[0] === t);
    if (candidates.length === 0 || this.loopDepth > 0 || this.callsLeft <= 0) { this.expr(t, depth - 1); return; }
    this.callsLeft--;
    const { s, k } = r.pick(candidates);
    for (const p of s.params) this.expr(p, depth - 1);
    if (r.chance(0.3)) {
      // call_indirect through the table (entry k holds function k; sometimes a wrong index)
      // A wrong index names a lower function (a signature mismatch, never recursion) or lies past the table.
      const wrong = r.chance(0.5) ? r.int(this.index) : this.g.sigs.length + r.int(2);
      this.emit(0x41, ...sleb(BigInt(r.chance(0.85) ? k : wrong)));
      this.emit(0x11, ...uleb(this.g.typeIndex(s)), 0x00);
    } else {
      this.emit(0x10, ...uleb(k));
    }
    for (const rt of s.results.slice(1).reverse()) this.dropValue(rt);
  }

  stmt(depth: number): void {
    const r = this.g.rng;
    switch (r.int(9)) {
      case 0: case 1: {
        const t = r.pick(TYPES);
        const ls = this.localsOf(t);
        this.expr(t, depth);
        if (ls.length > 0) this.emit(0x21, ...uleb(r.pick(ls)));
        else this.emit(0x1a);
        return;
      }
      case 2: {
        const t = r.pick(TYPES);
        const [op, align] = r.pick(STORES[t]!);
        this.address();
        this.expr(t, depth);
        this.canonicalize(t);
        this.emit(op, ...uleb(align), ...uleb(r.chance(0.2) ? r.int(64) : 0));
        return;
      }
      case 3: {
        const gi = r.int(this.g.globals.length);
        this.expr(this.g.globals[gi]!, depth);
        this.emit(0x24, ...uleb(gi));
        return;
      }
      case 4: {
        // if without results, with a br out of an enclosing block sometimes
        this.expr(I32, depth);
        this.emit(0x04, 0x40);
        this.labels.push({ results: [] });
        this.stmt(depth - 1);
        if (r.chance(0.3)) this.emit(0x0c, 0x00);
        this.labels.pop();
        this.emit(0x0b);
        return;
      }
      case 5: {
        // br_table over nested empty blocks
        const n = 1 + r.int(3);
        for (let k = 0; k < n; k++) { this.emit(0x02, 0x40); this.labels.push({ results: [] }); }
        this.expr(I32, depth);
        const targets = Array.from({ length: 1 + r.int(4) }, () => r.int(n));
        this.emit(0x0e, ...uleb(targets.length - 1), ...targets.flatMap((x) => uleb(x)));
        for (let k = 0; k < n; k++) {
          this.labels.pop();
          this.emit(0x0b);
          if (k < n - 1 && r.chance(0.5)) this.stmt(depth - 1);
        }
        return;
      }
      case 6: {
        // bulk memory with small lengths (sometimes out of bounds)
        const op = r.int(2);
        this.address();
        if (op === 0) this.expr(I32, depth); else this.address();
        this.emit(0x41, ...sleb(BigInt(r.chance(0.9) ? r.int(64) : 70000)));
        this.emit(0xfc, op === 0 ? 0x0b : 0x0a, 0x00, ...(op === 1 ? [0x00] : []));
        return;
      }
      case 7: {
        if (r.chance(0.1)) {
          // an unreachable trap behind a rarely true condition
          this.expr(I32, depth);
          this.emit(0x41, ...sleb(0x7fffn), 0x71, 0x45, 0x04, 0x40, 0x00, 0x0b);
          return;
        }
        this.emit(0x23, ...uleb(0), 0x41, 0x01, 0x6a, 0x24, ...uleb(0)); // g0++
        return;
      }
      default: {
        const t = r.pick(TYPES);
        this.expr(t, depth);
        this.emit(0x1a);
      }
    }
  }

  body(): number[] {
    const r = this.g.rng;
    this.budget = 60 + r.int(120);
    for (let k = 0, n = r.int(4); k < n; k++) this.stmt(3);
    for (const t of this.sig.results) this.expr(t, 4);
    this.emit(0x0b);
    // Locals beyond the parameters, one entry each.
    const extra = this.locals.slice(this.sig.params.length);
    return [...vec(extra.map((t) => [1, t])), ...this.code];
  }
}

class ModuleGen {
  readonly rng: Rng;
  readonly sigs: FuncSig[] = [];
  readonly types: FuncSig[] = [];
  readonly globals: T[] = [I32, I64, F32, F64, I32];

  constructor(seed: number) {
    this.rng = new Rng(seed || 1);
  }

  typeIndex(s: FuncSig): number {
    const key = `${s.params.join(",")}->${s.results.join(",")}`;
    const k = this.types.findIndex((x) => `${x.params.join(",")}->${x.results.join(",")}` === key);
    if (k >= 0) return k;
    this.types.push(s);
    return this.types.length - 1;
  }

  build(): GeneratedModule {
    const r = this.rng;
    const nfuncs = 3 + r.int(5);
    for (let k = 0; k < nfuncs; k++) {
      const params = Array.from({ length: r.int(r.chance(0.1) ? 9 : 4) }, () => r.pick(TYPES));
      const results = Array.from({ length: r.chance(0.2) ? 2 : r.chance(0.15) ? 0 : 1 }, () => r.pick(TYPES));
      this.sigs.push({ params, results });
    }
    const bodies = this.sigs.map((s, k) => new FuncGen(this, k, s).body());
    // Test entry points: call function k and fold its results into integers (floats canonicalised).
    const entries: { name: string; params: T[]; results: T[] }[] = [];
    const entryBodies: number[][] = [];
    const entrySigs: FuncSig[] = [];
    this.sigs.forEach((s, k) => {
      const fg = new FuncGen(this, nfuncs, { params: s.params, results: [] });
      fg.locals = [...s.params];
      const code: number[] = [];
      s.params.forEach((_, j) => code.push(0x20, ...uleb(j)));
      code.push(0x10, ...uleb(k));
      const resultTypes: T[] = s.results.map((t) => (t === I32 || t === F32 ? I32 : I64));
      // Results arrive bottom-up; store them to locals from the top, then reload converted.
      const tmp = s.results.map((t) => { fg.locals.push(t); return fg.locals.length - 1; });
      for (let j = s.results.length - 1; j >= 0; j--) code.push(0x21, ...uleb(tmp[j]!));
      fg.code = code;
      s.results.forEach((t, j) => {
        fg.emit(0x20, ...uleb(tmp[j]!));
        if (t === F32 || t === F64) { fg.canonicalize(t); fg.emit(t === F32 ? 0xbc : 0xbd); }
      });
      fg.emit(0x0b);
      const extra = fg.locals.slice(s.params.length);
      entryBodies.push([...vec(extra.map((t) => [1, t])), ...fg.code]);
      entrySigs.push({ params: s.params, results: resultTypes });
      entries.push({ name: `t${k}`, params: s.params, results: resultTypes });
    });
    const allSigs = [...this.sigs, ...entrySigs];
    const funcTypeIdx = allSigs.map((s) => this.typeIndex(s));
    const typeSec = vec(this.types.map((s) => [0x60, ...vec(s.params.map((t) => [t])), ...vec(s.results.map((t) => [t]))]));
    const funcSec = vec(funcTypeIdx.map((k) => uleb(k)));
    const tableSec = vec([[0x70, 0x00, ...uleb(nfuncs)]]);
    const memSec = vec([[0x00, 0x01]]);
    const globalSec = vec(this.globals.map((t, k) => {
      const init = t === I32 ? [0x41, ...sleb(BigInt(k * 7))] : t === I64 ? [0x42, ...sleb(BigInt(k) << 40n)] : t === F32 ? [0x43, 0, 0, 0x80, 0x3f] : [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f];
      return [t, 0x01, ...init, 0x0b];
    }));
    const exports: number[][] = [
      [...str("memory"), 0x02, 0x00],
      ...this.globals.map((_, k) => [...str(`g${k}`), 0x03, ...uleb(k)]),
      ...entries.map((e, k) => [...str(e.name), 0x00, ...uleb(nfuncs + k)]),
    ];
    const elemSec = vec([[0x00, 0x41, 0x00, 0x0b, ...vec(this.sigs.map((_, k) => uleb(k)))]]);
    const codeSec = vec([...bodies, ...entryBodies].map((b) => [...uleb(b.length), ...b]));
    const dataSec = vec([[0x00, 0x41, ...sleb(16n), 0x0b, ...vec(Array.from({ length: 32 }, (_, k) => [(k * 37) & 0xff]))]]);
    const bytes = [
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, typeSec), ...section(3, funcSec), ...section(4, tableSec), ...section(5, memSec),
      ...section(6, globalSec), ...section(7, vec(exports)), ...section(9, elemSec),
      ...section(10, codeSec), ...section(11, dataSec),
    ];
    return { bytes: Uint8Array.from(bytes), entries };
  }
}

export function generateModule(seed: number): GeneratedModule {
  return new ModuleGen(seed).build();
}

/** Random arguments for an entry: (lo, hi) halves plus the JavaScript value V8 takes. */
export function randomArgs(seed: number, params: readonly number[]): { bits: { lo: number; hi: number }[]; js: (number | bigint)[] } {
  const r = new Rng(seed || 7);
  const bits: { lo: number; hi: number }[] = [];
  const js: (number | bigint)[] = [];
  for (const t of params) {
    if (t === I32) {
      const v = r.chance(0.3) ? r.pick([0, 1, -1, 0x7fffffff, -0x80000000, 16, 65535]) : r.next() | 0;
      bits.push({ lo: v, hi: 0 }); js.push(v);
    } else if (t === I64) {
      const v = BigInt.asIntN(64, (BigInt(r.next()) << 32n) | BigInt(r.next())) >> BigInt(r.int(64));
      bits.push({ lo: Number(BigInt.asIntN(32, v)), hi: Number(BigInt.asIntN(32, v >> 32n)) }); js.push(v);
    } else if (t === F32) {
      const f = Math.fround((r.next() / 4294967296 - 0.5) * 2 ** r.int(40));
      const d = new DataView(new ArrayBuffer(4)); d.setFloat32(0, f, true);
      bits.push({ lo: d.getInt32(0, true), hi: 0 }); js.push(f);
    } else {
      const f = (r.next() / 4294967296 - 0.5) * 2 ** r.int(70);
      const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, f, true);
      bits.push({ lo: d.getInt32(0, true), hi: d.getInt32(4, true) }); js.push(f);
    }
  }
  return { bits, js };
}
