// The Intel-syntax text front end (GNU as `.intel_syntax noprefix` spelling):
// tokenizes each statement, parses labels, directives, prefixes, instructions
// and their operands, and drives an Assembler. Every error names the line, the
// column and what was expected.
import { Assembler, AssemblyError, type Bits, type SourcePos } from "./assembler.js";
import { formsFor } from "./forms.js";
import { PREFIX_BYTES } from "./facts.js";
import { SIZE_BY_NAME, type Expr, type Mem, type Operand } from "./operands.js";
import { registerByName, type Register } from "./registers.js";

interface Tok {
  t: "id" | "num" | "str" | "punct" | "end";
  v: string;
  n: bigint;
  /** Decoded bytes of a string literal. */
  bytes?: number[];
  col: number;
}

class ParseError extends Error {
  constructor(readonly col: number, msg: string) {
    super(msg);
  }
}

const PUNCT2 = new Set(["<<", ">>", "==", "!=", "<=", ">=", "&&", "||", "<>"]);

/** Replaces block comments with spaces (keeping newlines so line numbers stay right). */
function stripBlockComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " "));
}

function escapeValue(s: string, i: number, out: number[]): number {
  const c = s[i]!;
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, "\\": 92, '"': 34, "'": 39, e: 27 };
  if (simple[c] !== undefined) { out.push(simple[c]!); return i + 1; }
  if (c === "x" || c === "X") {
    let j = i + 1;
    let v = 0;
    while (j < s.length && /[0-9a-fA-F]/.test(s[j]!)) v = (v * 16 + parseInt(s[j++]!, 16)) & 0xff;
    if (j === i + 1) throw new ParseError(i, "expected hex digits after \\x");
    out.push(v);
    return j;
  }
  if (/[0-7]/.test(c)) {
    let j = i;
    let v = 0;
    while (j < s.length && j < i + 3 && /[0-7]/.test(s[j]!)) v = v * 8 + Number(s[j++]);
    out.push(v & 0xff);
    return j;
  }
  out.push(c.charCodeAt(0) & 0xff);
  return i + 1;
}

/** Tokenizes one line (comments already removed by the caller's splitter). */
function tokenize(line: string, col0: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") { i++; continue; }
    const col = col0 + i;
    if (/[A-Za-z_.$]/.test(c)) {
      let j = i + 1;
      while (j < line.length && /[A-Za-z0-9_.$@]/.test(line[j]!)) j++;
      toks.push({ t: "id", v: line.slice(i, j), n: 0n, col });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < line.length && /[0-9A-Za-z_]/.test(line[j]!)) j++;
      const text = line.slice(i, j);
      // Numeric local-label references: 1f, 1b.
      if (/^[0-9]+[fb]$/.test(text)) { toks.push({ t: "id", v: text, n: 0n, col }); i = j; continue; }
      toks.push({ t: "num", v: text, n: parseNumber(text, col), col });
      i = j;
      continue;
    }
    if (c === '"') {
      const bytes: number[] = [];
      let j = i + 1;
      for (;;) {
        if (j >= line.length) throw new ParseError(col, "unterminated string");
        const d = line[j]!;
        if (d === '"') { j++; break; }
        if (d === "\\") { j = escapeValue(line, j + 1, bytes); continue; }
        const code = d.codePointAt(0)!;
        if (code < 0x80) bytes.push(code);
        else bytes.push(...new TextEncoder().encode(String.fromCodePoint(code)));
        j += code > 0xffff ? 2 : 1;
      }
      toks.push({ t: "str", v: line.slice(i, j), n: 0n, bytes, col });
      i = j;
      continue;
    }
    if (c === "'") {
      // Character constant: 'a' or 'a (GNU), with escapes.
      const bytes: number[] = [];
      let j = i + 1;
      if (j >= line.length) throw new ParseError(col, "expected a character after '");
      if (line[j] === "\\") j = escapeValue(line, j + 1, bytes);
      else { bytes.push(line.charCodeAt(j) & 0xff); j++; }
      if (line[j] === "'") j++;
      toks.push({ t: "num", v: line.slice(i, j), n: BigInt(bytes[0]!), col });
      i = j;
      continue;
    }
    const two = line.slice(i, i + 2);
    if (PUNCT2.has(two)) { toks.push({ t: "punct", v: two, n: 0n, col }); i += 2; continue; }
    if ("[](),:+-*/%&|^~!<>={}@".includes(c)) { toks.push({ t: "punct", v: c, n: 0n, col }); i++; continue; }
    throw new ParseError(col, `unexpected character "${c}"`);
  }
  toks.push({ t: "end", v: "", n: 0n, col: col0 + line.length });
  return toks;
}

function parseNumber(text: string, col: number): bigint {
  const t = text.toLowerCase().replace(/_/g, "");
  try {
    if (/^0x[0-9a-f]+$/.test(t)) return BigInt(t);
    if (/^0b[01]+$/.test(t)) return BigInt(t);
    if (/^0o[0-7]+$/.test(t)) return BigInt(t);
    if (/^[0-9][0-9a-f]*h$/.test(t)) return BigInt("0x" + t.slice(0, -1));
    if (/^0[0-7]+$/.test(t)) return BigInt("0o" + t.slice(1)); // GNU: a leading 0 means octal
    if (/^[0-9]+$/.test(t)) return BigInt(t);
  } catch {
    // fall through to the error below
  }
  throw new ParseError(col, `bad number "${text}"`);
}

/** Splits a source line at ';' and at a comment start, outside string and character literals. */
function splitStatements(line: string): { text: string; col: number }[] {
  const out: { text: string; col: number }[] = [];
  let start = 0;
  let i = 0;
  let quote = "";
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== "") {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
      continue;
    }
    if (c === '"') { quote = c; continue; }
    if (c === "'") {
      // A character literal: GNU's 'c form, with an optional closing quote ('c').
      i += line[i + 1] === "\\" ? 2 : 1;
      if (line[i + 1] === "'") i++;
      continue;
    }
    if (c === "#" || (c === "/" && line[i + 1] === "/")) break;
    if (c === ";") { out.push({ text: line.slice(start, i), col: start + 1 }); start = i + 1; }
  }
  out.push({ text: line.slice(start, i), col: start + 1 });
  return out;
}

/** Parses statements into an Assembler. */
export class Parser {
  private toks: Tok[] = [];
  private k = 0;
  private line = 0;
  private localCounts = new Map<string, number>();

  constructor(private readonly asm: Assembler, private readonly file: string = "<input>") {}

  parse(source: string): void {
    const lines = stripBlockComments(source).split("\n");
    lines.forEach((text, n) => {
      this.line = n + 1;
      for (const st of splitStatements(text)) {
        try {
          this.toks = tokenize(st.text, st.col);
          this.k = 0;
          this.statement();
        } catch (e) {
          if (e instanceof ParseError) throw new AssemblyError(this.pos(e.col), e.message);
          throw e;
        }
      }
    });
  }

  private pos(col: number): SourcePos {
    return { file: this.file, line: this.line, col };
  }

  // ---- Token helpers --------------------------------------------------------------

  private peek(o = 0): Tok {
    return this.toks[Math.min(this.k + o, this.toks.length - 1)]!;
  }

  private next(): Tok {
    const t = this.peek();
    if (t.t !== "end") this.k++;
    return t;
  }

  private isPunct(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t.t === "punct" && t.v === v;
  }

  private accept(v: string): boolean {
    if (this.isPunct(v)) { this.k++; return true; }
    return false;
  }

  private expect(v: string, what: string): Tok {
    const t = this.peek();
    if (t.t === "punct" && t.v === v) return this.next();
    throw new ParseError(t.col, `expected ${what}${this.found(t)}`);
  }

  private found(t: Tok): string {
    return t.t === "end" ? " at the end of the statement" : `, found "${t.t === "str" ? t.v : t.v}"`;
  }

  private expectEnd(): void {
    const t = this.peek();
    if (t.t !== "end") throw new ParseError(t.col, `expected the end of the statement${this.found(t)}`);
  }

  // ---- Statements -----------------------------------------------------------------

  private statement(): void {
    // Labels: `name:` and numeric local labels `1:` (several may share a line).
    for (;;) {
      const t = this.peek();
      if ((t.t === "id" || (t.t === "num" && /^[0-9]+$/.test(t.v))) && this.isPunct(":", 1) && !registerByName(t.v)) {
        this.k += 2;
        this.asm.pos = this.pos(t.col);
        this.asm.label(t.t === "num" ? this.defineLocal(t.v) : t.v);
        continue;
      }
      break;
    }
    const t = this.peek();
    if (t.t === "end") return;
    this.asm.pos = this.pos(t.col);
    if (t.t === "id" && this.isPunct("=", 1)) {
      this.k += 2;
      this.asm.equ(t.v, this.expr());
      this.expectEnd();
      return;
    }
    if (t.t === "id" && t.v.startsWith(".") && !this.isPunct(":", 1)) { this.directive(); return; }
    this.instruction();
  }

  private defineLocal(n: string): string {
    const c = (this.localCounts.get(n) ?? 0) + 1;
    this.localCounts.set(n, c);
    return `.L${n}\u0002${c}`;
  }

  private localRef(ref: string, col: number): string {
    const n = ref.slice(0, -1);
    const c = this.localCounts.get(n) ?? 0;
    if (ref.endsWith("b")) {
      if (c === 0) throw new ParseError(col, `no local label ${n}: before this reference to ${ref}`);
      return `.L${n}\u0002${c}`;
    }
    return `.L${n}\u0002${c + 1}`;
  }

  // ---- Directives -----------------------------------------------------------------

  private directive(): void {
    const t = this.next();
    const d = t.v.toLowerCase();
    const a = this.asm;
    switch (d) {
      case ".intel_syntax": {
        const m = this.peek();
        if (m.t === "id" && m.v.toLowerCase() === "noprefix") this.next();
        else if (m.t !== "end") throw new ParseError(m.col, `only ".intel_syntax noprefix" is supported`);
        break;
      }
      case ".att_syntax":
        throw new ParseError(t.col, "AT&T syntax is not supported; use .intel_syntax noprefix");
      case ".code16": a.code16(); break;
      case ".code32": a.code32(); break;
      case ".code64": a.code64(); break;
      case ".bits": {
        const v = this.constExpr("16, 32 or 64");
        if (v !== 16n && v !== 32n && v !== 64n) throw new ParseError(t.col, "expected 16, 32 or 64 after .bits");
        a.bits = Number(v) as Bits;
        break;
      }
      case ".text": case ".data": case ".bss": case ".rodata": a.section(d); break;
      case ".section": this.sectionDirective(); break;
      case ".globl": case ".global":
        for (const n of this.symbolList()) a.global(n);
        break;
      case ".local": case ".extern":
        this.symbolList();
        break;
      case ".type": {
        const name = this.symbolName();
        this.expect(",", `"," after the symbol name`);
        if (this.isPunct("@") || this.isPunct("%")) this.next();
        const kind = this.next();
        const k = kind.v.toLowerCase();
        if (k === "function" || k === "stt_func") a.symbolType(name, "func");
        else if (k === "object" || k === "stt_object") a.symbolType(name, "object");
        else throw new ParseError(kind.col, `expected @function or @object${this.found(kind)}`);
        break;
      }
      case ".size": {
        const name = this.symbolName();
        this.expect(",", `"," after the symbol name`);
        a.symbolSize(name, this.expr());
        break;
      }
      case ".equ": case ".set": {
        const name = this.symbolName();
        this.expect(",", `"," after the symbol name`);
        a.equ(name, this.expr());
        break;
      }
      case ".byte": this.dataList(1); break;
      case ".word": case ".short": case ".value": case ".hword": case ".2byte": this.dataList(2); break;
      case ".long": case ".int": case ".4byte": this.dataList(4); break;
      case ".quad": case ".8byte": this.dataList(8); break;
      case ".ascii": case ".asciz": case ".string": {
        do {
          const s = this.peek();
          if (s.t !== "str") throw new ParseError(s.col, `expected a string${this.found(s)}`);
          this.next();
          const bytes = Uint8Array.from(s.bytes!);
          if (d === ".ascii") a.ascii(bytes);
          else a.asciz(bytes);
        } while (this.accept(","));
        break;
      }
      case ".zero": a.zero(this.expr()); break;
      case ".skip": case ".space": {
        const n = this.expr();
        const fill = this.accept(",") ? Number(this.constExpr("a fill byte")) : 0;
        a.space(n, fill);
        break;
      }
      case ".fill": {
        const repeat = this.constExpr("a repeat count");
        let size = 1n;
        let value = 0n;
        if (this.accept(",")) size = this.constExpr("a size");
        if (this.accept(",")) value = this.constExpr("a value");
        if (size < 0n || size > 8n) throw new ParseError(t.col, ".fill size must be 0..8");
        const unit = new Uint8Array(Number(size));
        for (let b = 0; b < unit.length; b++) unit[b] = b < 4 ? Number((BigInt.asUintN(32, value) >> BigInt(8 * b)) & 0xffn) : 0;
        const out = new Uint8Array(unit.length * Number(repeat));
        for (let r = 0; r < Number(repeat); r++) out.set(unit, r * unit.length);
        a.bytes(out);
        break;
      }
      case ".align": case ".balign": case ".p2align": {
        let n = this.constExpr("an alignment");
        if (d === ".p2align") n = 1n << n;
        let fill: number | undefined;
        let max = Infinity;
        if (this.accept(",")) {
          if (!this.isPunct(",")) fill = Number(this.constExpr("a fill byte"));
          if (this.accept(",")) max = Number(this.constExpr("a maximum padding"));
        }
        a.align(Number(n), fill, max);
        break;
      }
      case ".org": {
        const e = this.expr();
        const fill = this.accept(",") ? Number(this.constExpr("a fill byte")) : 0;
        a.org(e, fill);
        break;
      }
      default:
        throw new ParseError(t.col, `unknown directive "${t.v}"`);
    }
    this.expectEnd();
  }

  private sectionDirective(): void {
    const nameTok = this.next();
    if (nameTok.t !== "id" && nameTok.t !== "str") throw new ParseError(nameTok.col, `expected a section name${this.found(nameTok)}`);
    const name = nameTok.t === "str" ? String.fromCharCode(...nameTok.bytes!) : nameTok.v;
    let flags: string | undefined;
    let nobits: boolean | undefined;
    if (this.accept(",")) {
      const f = this.next();
      if (f.t !== "str") throw new ParseError(f.col, `expected a flags string like "ax"${this.found(f)}`);
      flags = String.fromCharCode(...f.bytes!);
      if (!/^[awx]*$/.test(flags)) throw new ParseError(f.col, `unsupported section flags "${flags}" (a, w, x)`);
      if (this.accept(",")) {
        if (this.isPunct("@") || this.isPunct("%")) this.next();
        const ty = this.next();
        const tv = ty.v.toLowerCase();
        if (tv === "nobits") nobits = true;
        else if (tv === "progbits") nobits = false;
        else throw new ParseError(ty.col, `expected @progbits or @nobits${this.found(ty)}`);
      }
    }
    const opts: { flags?: string; nobits?: boolean } = {};
    if (flags !== undefined) opts.flags = flags;
    if (nobits !== undefined) opts.nobits = nobits;
    this.asm.section(name, opts);
  }

  private symbolName(): string {
    const t = this.next();
    if (t.t !== "id" || registerByName(t.v)) throw new ParseError(t.col, `expected a symbol name${this.found(t)}`);
    return t.v;
  }

  private symbolList(): string[] {
    const names = [this.symbolName()];
    while (this.accept(",")) names.push(this.symbolName());
    return names;
  }

  /** A list of values; each is emitted before the next is read, so `.` is the address of its own value (GNU). */
  private dataList(width: 1 | 2 | 4 | 8): void {
    const emit = (v: Expr) => {
      if (width === 1) this.asm.db(v);
      else if (width === 2) this.asm.dw(v);
      else if (width === 4) this.asm.dd(v);
      else this.asm.dq(v);
    };
    do {
      const s = this.peek();
      if (s.t === "str" && width === 1) {
        this.next();
        for (const b of s.bytes!) emit({ op: "num", v: BigInt(b) });
        continue;
      }
      emit(this.expr());
    } while (this.accept(","));
  }

  // ---- Instructions ---------------------------------------------------------------

  private instruction(): void {
    const a = this.asm;
    const prefixes: string[] = [];
    let t = this.peek();
    // Prefixes and pseudo-prefixes before the mnemonic.
    for (;;) {
      t = this.peek();
      if (this.isPunct("{")) {
        const name = this.peek(1);
        if (name.t !== "id" || !this.isPunct("}", 2)) throw new ParseError(t.col, "expected {load}, {store}, {disp8} or {disp32}");
        prefixes.push(`{${name.v}}`);
        this.k += 3;
        continue;
      }
      if (t.t !== "id") break;
      const lower = t.v.toLowerCase();
      const isPrefixWord = PREFIX_BYTES[lower] !== undefined || /^rex(\.[wrxb]+)?$/.test(lower);
      const followed = this.peek(1);
      if (isPrefixWord && (followed.t === "id" || (followed.t === "punct" && followed.v === "{"))) {
        prefixes.push(lower);
        this.k++;
        continue;
      }
      break;
    }
    if (t.t !== "id") throw new ParseError(t.col, `expected an instruction, a directive or a label${this.found(t)}`);
    this.next();
    const mnemonic = t.v.toLowerCase();
    const forms = formsFor(mnemonic);
    if (forms.length === 0) {
      if (PREFIX_BYTES[mnemonic] !== undefined) throw new ParseError(t.col, `expected an instruction after the prefix "${t.v}"`);
      throw new ParseError(t.col, `unknown instruction "${t.v}"`);
    }
    const branchy = forms.some((f) => f.ops.some((o) => o.method === "J" || o.method === "A"));
    const ops: Operand[] = [];
    if (this.peek().t !== "end") {
      do ops.push(this.operand(branchy));
      while (this.accept(","));
    }
    this.expectEnd();
    try {
      if (prefixes.length > 0) a.prefix(...prefixes);
      a.emit(mnemonic, ...ops);
    } catch (e) {
      if (e instanceof AssemblyError && e.pos === null) throw new AssemblyError(this.pos(t.col), e.detail);
      throw e;
    }
  }

  /** One operand: register, memory, immediate, branch target or far pointer. */
  private operand(branchy: boolean): Operand {
    const start = this.peek();
    let size = 0;
    let explicitPtr = false;
    // [size] ptr
    if (start.t === "id" && SIZE_BY_NAME[start.v.toLowerCase()] !== undefined) {
      const p = this.peek(1);
      if (p.t === "id" && p.v.toLowerCase() === "ptr") {
        size = SIZE_BY_NAME[start.v.toLowerCase()]!;
        explicitPtr = true;
        this.k += 2;
      }
    }
    let offset = false;
    const o = this.peek();
    if (o.t === "id" && o.v.toLowerCase() === "offset") {
      offset = true;
      this.next();
      const f = this.peek();
      if (f.t === "id" && f.v.toLowerCase() === "flat" && this.isPunct(":", 1)) this.k += 2;
    }
    // A lone register.
    const r0 = this.peek();
    if (!offset && r0.t === "id" && registerByName(r0.v) && !this.isPunct(":", 1)) {
      const after = this.peek(1);
      if (after.t === "end" || (after.t === "punct" && after.v === ",")) {
        this.next();
        const reg = registerByName(r0.v)!;
        if (explicitPtr) throw new ParseError(start.col, `"${start.v} ptr" cannot apply to the register ${reg.name}`);
        if (reg.class === "ip") throw new ParseError(r0.col, `${reg.name} can only be used inside [ ] as a base`);
        return reg;
      }
    }
    // Segment override: seg:...
    let seg: Register | null = null;
    if (r0.t === "id" && this.isPunct(":", 1)) {
      const r = registerByName(r0.v);
      if (r && r.class === "seg") {
        seg = r;
        this.k += 2;
      }
    }
    const parts = this.addressParts(branchy && !explicitPtr && seg === null);
    if (parts.far !== null) {
      if (offset || explicitPtr || seg) throw new ParseError(start.col, "a far pointer is written sel:offset");
      return { kind: "far", sel: parts.far.sel, off: parts.far.off };
    }
    const disp: Expr = parts.disp ?? { op: "num", v: 0n };
    if (offset) {
      if (parts.bracket || parts.base || parts.index) throw new ParseError(start.col, "offset applies to a symbol or constant, not a memory reference");
      return { kind: "imm", expr: disp };
    }
    const hasRegs = parts.base !== null || parts.index !== null;
    if (!parts.bracket && !hasRegs && seg === null && !explicitPtr) {
      // A bare expression: an immediate when constant (or a branch target); a memory reference to a label otherwise (GNU).
      if (branchy || this.asm.constant(disp) !== null) return { kind: "imm", expr: disp };
    }
    const m: Mem = { kind: "mem", size, seg, base: parts.base, index: parts.index, scale: parts.scale, disp };
    return m;
  }

  /**
   * Parses the rest of an operand: expressions and [ ... ] groups, in any order
   * (`[rbx+8]`, `8[rbx]`, `label[rip]`, `[rbp][rax*4]`), or `sel:offset`.
   */
  private addressParts(allowFar: boolean): {
    base: Register | null; index: Register | null; scale: 1 | 2 | 4 | 8; disp: Expr | null; bracket: boolean;
    far: { sel: Expr; off: Expr } | null;
  } {
    const res = {
      base: null as Register | null, index: null as Register | null, scale: 1 as 1 | 2 | 4 | 8,
      disp: null as Expr | null, bracket: false, far: null as { sel: Expr; off: Expr } | null,
    };
    const addDisp = (e: Expr, neg: boolean) => {
      const term: Expr = neg ? { op: "neg", a: e } : e;
      res.disp = res.disp === null ? term : { op: "+", a: res.disp, b: term };
    };
    const first = this.peek();
    if (first.t === "end" || this.isPunct(",")) throw new ParseError(first.col, `expected an operand${this.found(first)}`);
    while (!(this.peek().t === "end" || this.isPunct(","))) {
      if (this.accept("[")) {
        res.bracket = true;
        this.bracketTerms(res, addDisp);
        this.expect("]", `"]"`);
        continue;
      }
      if (res.disp !== null && !this.isPunct("[")) {
        const t = this.peek();
        throw new ParseError(t.col, `expected "[", "," or the end of the operand${this.found(t)}`);
      }
      const e = this.expr();
      if (allowFar && this.accept(":")) {
        res.far = { sel: e, off: this.expr() };
        return res;
      }
      addDisp(e, false);
    }
    return res;
  }

  /** Terms inside [ ]: registers (base, index*scale), and displacement expressions, joined by + and -. */
  private bracketTerms(
    res: { base: Register | null; index: Register | null; scale: 1 | 2 | 4 | 8 },
    addDisp: (e: Expr, neg: boolean) => void,
  ): void {
    let neg = false;
    if (this.accept("-")) neg = true;
    else this.accept("+");
    // A segment inside the brackets: [fs:0x28] is accepted as fs:[0x28].
    for (;;) {
      const t = this.peek();
      const reg = t.t === "id" ? registerByName(t.v) : undefined;
      if (reg !== undefined && reg.class === "seg" && this.isPunct(":", 1)) {
        throw new ParseError(t.col, `write the segment before the brackets: ${reg.name}:[...]`);
      }
      if (reg !== undefined) {
        this.next();
        if (neg) throw new ParseError(t.col, `a register cannot be subtracted in an address`);
        if (this.accept("*")) {
          const sc = this.scaleValue();
          this.setIndex(res, reg, sc, t.col);
        } else if (reg.class === "zero") {
          this.setIndex(res, reg, 1, t.col);
        } else if (res.base === null && reg.class !== "gpr" && reg.class !== "ip") {
          throw new ParseError(t.col, `${reg.name} cannot address memory`);
        } else if (res.base === null) {
          res.base = reg;
        } else {
          this.setIndex(res, reg, 1, t.col);
        }
      } else if (t.t === "num" && this.isPunct("*", 1) && this.peek(2).t === "id" && registerByName(this.peek(2).v)) {
        // scale*reg
        this.next();
        this.next();
        const rt = this.next();
        if (neg) throw new ParseError(rt.col, `a register cannot be subtracted in an address`);
        this.setIndex(res, registerByName(rt.v)!, this.checkScale(t.n, t.col), rt.col);
      } else {
        addDisp(this.term(), neg);
      }
      if (this.accept("+")) { neg = false; continue; }
      if (this.accept("-")) { neg = true; continue; }
      return;
    }
  }

  private scaleValue(): 1 | 2 | 4 | 8 {
    const t = this.peek();
    const v = this.constExpr("a scale (1, 2, 4 or 8)", true);
    return this.checkScale(v, t.col);
  }

  private checkScale(v: bigint, col: number): 1 | 2 | 4 | 8 {
    if (v !== 1n && v !== 2n && v !== 4n && v !== 8n) throw new ParseError(col, `scale must be 1, 2, 4 or 8 (got ${v})`);
    return Number(v) as 1 | 2 | 4 | 8;
  }

  private setIndex(res: { base: Register | null; index: Register | null; scale: 1 | 2 | 4 | 8 }, reg: Register, scale: 1 | 2 | 4 | 8, col: number): void {
    if (res.index !== null) throw new ParseError(col, "an address has at most one index register");
    if (reg.class !== "gpr" && reg.class !== "zero") throw new ParseError(col, `${reg.name} cannot be an index register`);
    res.index = reg;
    res.scale = scale;
  }

  // ---- Expressions (GNU precedence: unary; * / % << >>; | & ^ !; + -) --------------

  private constExpr(what: string, term = false): bigint {
    const t = this.peek();
    const e = term ? this.term() : this.expr();
    const v = this.asm.constant(e);
    if (v === null) throw new ParseError(t.col, `expected ${what} (a constant)`);
    return v;
  }

  expr(): Expr {
    let a = this.bitwise();
    for (;;) {
      if (this.isPunct("+") || this.isPunct("-")) {
        const op = this.next().v as "+" | "-";
        a = { op, a, b: this.bitwise() };
        continue;
      }
      return a;
    }
  }

  private bitwise(): Expr {
    let a = this.mul();
    for (;;) {
      const t = this.peek();
      if (t.t === "punct" && (t.v === "|" || t.v === "&" || t.v === "^")) {
        this.next();
        a = { op: t.v as "|" | "&" | "^", a, b: this.mul() };
        continue;
      }
      return a;
    }
  }

  private mul(): Expr {
    let a = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t === "punct" && (t.v === "*" || t.v === "/" || t.v === "%" || t.v === "<<" || t.v === ">>")) {
        // In an address, "*" before a register is a scale: leave it to the caller.
        if (t.v === "*" && this.peek(1).t === "id" && registerByName(this.peek(1).v)) return a;
        this.next();
        a = { op: t.v as "*" | "/" | "%" | "<<" | ">>", a, b: this.unary() };
        continue;
      }
      return a;
    }
  }

  /** A term without + and - (in addresses, + and - separate registers from displacements). */
  private term(): Expr {
    return this.bitwise();
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.t === "punct" && (t.v === "-" || t.v === "~" || t.v === "+")) {
      this.next();
      const a = this.unary();
      return t.v === "+" ? a : { op: t.v === "-" ? "neg" : "not", a };
    }
    return this.atom();
  }

  private atom(): Expr {
    const t = this.next();
    if (t.t === "num") return { op: "num", v: t.n };
    if (t.t === "punct" && t.v === "(") {
      const e = this.expr();
      this.expect(")", `")"`);
      return e;
    }
    if (t.t === "id") {
      if (t.v === ".") return { op: "sym", name: this.asm.here() };
      if (/^[0-9]+[fb]$/.test(t.v)) return { op: "sym", name: this.localRef(t.v, t.col) };
      const reg = registerByName(t.v);
      if (reg) throw new ParseError(t.col, `register ${reg.name} is not allowed here (addresses go inside [ ])`);
      return { op: "sym", name: t.v };
    }
    throw new ParseError(t.col, `expected a number, a symbol or "("${this.found(t)}`);
  }
}

/** Assembles Intel-syntax source text into an existing Assembler (for multi-file use). */
export function parseInto(asm: Assembler, source: string, file?: string): void {
  new Parser(asm, file).parse(source);
}
