// Encodes one instruction: matches the operands against every table-derived
// form of the mnemonic (register class and width, memory, immediate ranges),
// encodes each match (prefixes, REX, ModRM/SIB/displacement, immediates), checks
// each encoding by decoding it with the CPU's own decoder, and returns them
// shortest first. An operand combination the CPU does not support is an error.
import { decode, decodeInfo, DECODE_OK } from "../../emulator/cpu/decode.js";
import { Insn, MODE_16, MODE_32, MODE_64, NO_REG } from "../../emulator/cpu/insn.js";
import {
  FORM_MEM, FORM_REG, MAP_0F, MAP_0F38, MAP_0F3A, MODRM_DIGIT, MODRM_NONE, PFX_66, PFX_F2, PFX_F3,
  type OperandSpec,
} from "../../emulator/cpu/table.js";
import { COMMUTATIVE, DUPLICATED_DESTINATION } from "./facts.js";
import { defaultOpSize, formsFor, opSizes, type Form } from "./forms.js";
import { constValue, exprText, SIZE_NAMES, type Expr, type FarPtr, type Imm, type Mem, type Operand } from "./operands.js";
import { gpr, registerByName, type Register } from "./registers.js";

export class AsmError extends Error {}

/** A field whose value is known only after layout (a symbol, or a branch target). */
export interface Fixup {
  /** Offset of the field in the instruction's bytes. */
  offset: number;
  width: 1 | 2 | 4 | 8;
  /** abs: the field holds the value; rel: the value minus the address of the instruction's end. */
  kind: "abs" | "rel";
  /** Bytes the CPU sign-extends the field to (== width when it is not extended). */
  ext: number;
  /** True when the field is read as a signed number (displacements, branch offsets, sign-extended immediates). */
  signed: boolean;
  expr: Expr;
  /** Length of the instruction (rel fields count from its end). */
  end: number;
  /** Width of the instruction pointer in bits (16, 32, 64): a rel target wraps around it. */
  ipBits: number;
}

export interface Encoding {
  bytes: Uint8Array;
  fixups: Fixup[];
  form: Form;
  opSize: number;
  /** Width of the branch-offset field (J operand), 0 when none. */
  relWidth: number;
  /** Bytes of immediate operands. */
  immBytes: number;
}

export interface EncodeContext {
  bits: 16 | 32 | 64;
  /** Prefix mnemonics written before the instruction (lock, rep, data16, cs ...), as bytes in written order. */
  prefixes: readonly number[];
  /** REX bits written explicitly (`rex.W` ...): 0 when none, else 0x40..0x4F. */
  rex: number;
  /** GNU pseudo-prefixes: "load", "store", "disp8", "disp16", "disp32" (disp16/disp32: the wide displacement). */
  pseudo: ReadonlySet<string>;
  /** The value of an expression when it is a known constant now, else null. */
  constant(e: Expr): bigint | null;
}

const SCALE_BITS: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/** Operand width in bytes of a size code at operand size S (0: no fixed width). */
export function specSize(code: string, S: number, bits: number): number {
  switch (code) {
    case "b": return 1;
    case "w": return 2;
    case "d": return 4;
    case "q": return 8;
    case "v": return S;
    case "z": return S === 2 ? 2 : 4;
    case "y": return S === 8 ? 8 : 4;
    case "dq": case "ps": case "pd": return 16;
    case "ss": return 4;
    case "sd": return 8;
    case "p": return S === 8 ? 10 : S + 2;
    case "s": return bits === 64 ? 10 : 6;
    case "e": return 512;
    default: return 0; // x: no access
  }
}

const SIZED = new Set(["v", "z", "y", "p"]);

/** An operand matched to a form at an operand size, ready to encode. */
interface Plan {
  form: Form;
  S: number;
  regField: number;
  regOp: Register | null;
  rm: Register | Mem | null;
  opReg: Register | null;
  /** The register in VEX.vvvv (B operand). */
  vvvvReg: Register | null;
  imms: { expr: Expr; width: number; ext: number; value: bigint | null; second: boolean; signed: boolean }[];
  rel: { expr: Expr; width: number } | null;
  moffs: { mem: Mem; width: number } | null;
  far: { ptr: FarPtr; width: number } | null;
  strMem: Mem[];
  /** Segment override written on the string source operand (X: ds:[rsi] by default). */
  strSeg: Register | null;
  /** An operand fixed the operand size (a register, a sized memory operand). */
  determined: boolean;
  /** An unsized memory operand was matched against a size-dependent spec. */
  unsizedVar: boolean;
  /** Width the memory operand took (0: none or any). */
  memSize: number;
}

function isReg(o: Operand): o is Register {
  return o.kind === "reg";
}

function regId(r: Register): number {
  // Byte-register id as the decoder reports it: AH..BH are 16..19.
  return r.high8 ? 16 + (r.num - 4) : r.num;
}

const fixedCache = new Map<string, Register | number | undefined>();

/** The register a fixed operand names ("AL", "DX", "rAX" at operand size S). */
function fixedRegister(name: string, S: number): Register | undefined {
  let f = fixedCache.get(name);
  if (f === undefined && !fixedCache.has(name)) {
    // eAX/rAX-style names are a register number sized by the operand size; others are one register.
    f = /^[er][A-D]X$|^[er][SB]P$|^[er][SD]I$/.test(name) ? registerByName(name.slice(1).toLowerCase())?.num : registerByName(name.toLowerCase());
    fixedCache.set(name, f);
  }
  return typeof f === "number" ? gpr(f, S) : f;
}

/** Matches operand `o` to spec `spec`; fills the plan; returns false on mismatch. */
function matchOperand(spec: OperandSpec, o: Operand, plan: Plan, ctx: EncodeContext, secondImm: boolean, index: number): boolean {
  const { S, form } = plan;
  const bits = ctx.bits;
  const want = specSize(spec.size, S, bits);
  const sized = SIZED.has(spec.size);
  const row = form.row;
  const memOk = (m: Mem): boolean => {
    if (m.size === 0) {
      if (sized) plan.unsizedVar = true;
      plan.memSize = want;
      return true;
    }
    // A pseudo-descriptor (lgdt) may be written fword (6) or tbyte (10) in either mode.
    if (want !== 0 && m.size !== want && !(spec.size === "s" && (m.size === 6 || m.size === 10))) return false;
    if (sized) plan.determined = true;
    plan.memSize = m.size;
    return true;
  };
  const gprOk = (r: Register): boolean => {
    if (r.class !== "gpr" || r.size !== want) return false;
    if (sized) plan.determined = true;
    return true;
  };
  if (form.split !== null && form.split[0] === index) {
    // A GPR of 32/64 bits, or memory of the element width (pextrb eax / byte ptr [rax]).
    const [, widths, memWidth, setsSize] = form.split;
    if (isReg(o)) {
      if (o.class !== "gpr" || !widths.includes(o.size) || (setsSize && o.size !== S)) return false;
      if (setsSize) plan.determined = true;
      plan.rm = o;
      return true;
    }
    if (o.kind !== "mem" || row.form === FORM_REG || (o.size !== 0 && o.size !== memWidth)) return false;
    plan.memSize = memWidth;
    plan.rm = o;
    return true;
  }
  switch (spec.method) {
    case "E":
      if (isReg(o)) {
        if (row.form === FORM_MEM || !gprOk(o)) return false;
        plan.rm = o;
        return true;
      }
      if (o.kind !== "mem" || row.form === FORM_REG || !memOk(o)) return false;
      plan.rm = o;
      return true;
    case "M":
      if (o.kind !== "mem" || !memOk(o)) return false;
      plan.rm = o;
      return true;
    case "R":
      if (!isReg(o) || !gprOk(o)) return false;
      plan.rm = o;
      return true;
    case "G":
      if (!isReg(o)) return false;
      if (!gprOk(o) && !(form.gdR64 && spec.size === "d" && o.class === "gpr" && o.size === 8)) return false;
      plan.regOp = o;
      plan.regField = o.num;
      return true;
    case "B":
      if (!isReg(o) || !gprOk(o)) return false;
      plan.vvvvReg = o;
      return true;
    case "Z":
      if (!isReg(o) || !gprOk(o)) return false;
      plan.opReg = o;
      return true;
    case "V":
      if (!isReg(o) || o.class !== "xmm") return false;
      plan.regOp = o;
      plan.regField = o.num;
      return true;
    case "U":
      if (!isReg(o) || o.class !== "xmm") return false;
      plan.rm = o;
      return true;
    case "W":
      if (isReg(o)) {
        if (o.class !== "xmm" || row.form === FORM_MEM) return false;
        plan.rm = o;
        return true;
      }
      if (o.kind !== "mem" || row.form === FORM_REG || !memOk(o)) return false;
      plan.rm = o;
      return true;
    case "C": case "D": case "S": {
      const cls = spec.method === "C" ? "cr" : spec.method === "D" ? "dr" : "seg";
      if (!isReg(o) || o.class !== cls) return false;
      plan.regOp = o;
      plan.regField = o.num;
      return true;
    }
    case "fixed": {
      const name = spec.fixed!;
      if (name === "1") {
        if (o.kind !== "imm") return false;
        return ctx.constant(o.expr) === 1n;
      }
      const r = fixedRegister(name, S);
      if (!isReg(o) || r === undefined || o !== r) return false;
      if (sized || /^[er]/.test(name)) plan.determined = true;
      return true;
    }
    case "I":
      return o.kind === "imm" && matchImm(spec, o, plan, ctx, secondImm);
    case "J": {
      if (o.kind !== "imm") return false;
      plan.rel = { expr: o.expr, width: spec.size === "b" ? 1 : S === 2 ? 2 : 4 };
      return true;
    }
    case "O": {
      if (o.kind !== "mem" || o.base !== null || o.index !== null || !memOk(o)) return false;
      plan.moffs = { mem: o, width: bits === 64 ? 8 : bits === 32 ? 4 : 2 };
      return true;
    }
    case "A": {
      if (o.kind !== "far") return false;
      plan.far = { ptr: o, width: S === 2 ? 2 : 4 };
      return true;
    }
    case "X": case "Y": {
      if (o.kind !== "mem" || !memOk(o) || o.index !== null || ctx.constant(o.disp) !== 0n) return false;
      const b = o.base;
      if (b === null || b.class !== "gpr" || b.num !== (spec.method === "X" ? 6 : 7)) return false;
      if (spec.method === "Y" && o.seg !== null && o.seg.name !== "es") return false;
      plan.strMem.push(o);
      if (spec.method === "X") plan.strSeg = o.seg;
      return true;
    }
  }
  return false;
}

function immFits(v: bigint, width: number, ext: number): boolean {
  const wb = BigInt(width * 8);
  const eb = BigInt(ext * 8);
  if (ext === width) return v >= -(1n << (wb - 1n)) && v < 1n << wb;
  if (v < -(1n << (eb - 1n)) || v >= 1n << eb) return false;
  const m = BigInt.asIntN(ext * 8, v);
  return m >= -(1n << (wb - 1n)) && m < 1n << (wb - 1n);
}

function matchImm(spec: OperandSpec, o: Imm, plan: Plan, ctx: EncodeContext, second: boolean): boolean {
  const { S, form } = plan;
  let width: number;
  switch (spec.size) {
    case "b": width = 1; break;
    case "w": width = 2; break;
    case "d": width = 4; break;
    case "q": width = 8; break;
    case "z": width = S === 2 ? 2 : 4; break;
    case "v": width = S; break;
    default: return false;
  }
  let ext = width;
  if (spec.size === "b" && form.sxImm8) ext = S;
  else if (spec.size === "z" && S === 8) ext = 8;
  const value = ctx.constant(o.expr);
  if (value === null) {
    // A symbol's value goes into a field of at least 32 bits (sign-extended imm32 included, as
    // GNU as does: the range is checked when the value is known); never into an imm8/imm16 that
    // is narrower than the operation, where the choice would depend on the value.
    if (width < 4 && (ext !== width || (form.sizeKind !== "" && width < S))) return false;
  } else if (!immFits(value, width, ext)) {
    return false;
  }
  plan.imms.push({ expr: o.expr, width, ext, value, second, signed: ext !== width });
  return true;
}

/** The operands a form implies when the text leaves them out: movsb = movs byte ptr es:[rdi], byte ptr [rsi]. */
function implicitOperands(form: Form, S: number, ctx: EncodeContext): Operand[] {
  if (form.xchgNop) return [gpr(0, S), gpr(0, S)];
  const ad = form.fixedAdsize !== 0 ? form.fixedAdsize : ctx.prefixes.includes(0x67) ? alternateAdsize(ctx.bits) : defaultAdsize(ctx.bits);
  return form.ops.map((spec): Operand => {
    if (spec.method === "X" || spec.method === "Y") {
      const base = gpr(spec.method === "X" ? 6 : 7, ad);
      return { kind: "mem", size: specSize(spec.size, S, ctx.bits), seg: null, base, index: null, scale: 1, disp: { op: "num", v: 0n } };
    }
    if (spec.fixed === "1") return { kind: "imm", expr: { op: "num", v: 1n } };
    const r = fixedRegister(spec.fixed ?? "", S);
    if (r === undefined) throw new AsmError(`internal: cannot imply operand ${spec.method}${spec.size} of ${form.name}`);
    return r;
  });
}

/** All forms of `mnemonic` that accept `ops` in this mode, each at each operand size that fits. */
function matchAll(forms: readonly Form[], ops: readonly Operand[], ctx: EncodeContext): Plan[] {
  const plans: Plan[] = [];
  for (const form of forms) {
    const implied = ops.length === 0 && form.ops.length > 0 && form.implicit;
    if (form.ops.length !== ops.length && !implied) continue;
    for (const S of opSizes(form, ctx.bits)) {
      const given = implied ? implicitOperands(form, S, ctx) : ops;
      const plan: Plan = {
        form, S, regField: form.row.modrm === MODRM_DIGIT ? form.row.digit : 0, regOp: null, rm: null, opReg: null, vvvvReg: null,
        imms: [], rel: null, moffs: null, far: null, strMem: [], strSeg: null, determined: form.fixedSize !== 0, unsizedVar: false, memSize: 0,
      };
      let ok = true;
      let immCount = 0;
      for (let k = 0; k < ops.length && ok; k++) {
        const spec = form.ops[k]!;
        ok = matchOperand(spec, given[k]!, plan, ctx, spec.method === "I" && immCount++ > 0, k);
      }
      // 90+r with register 0 is nop: in 64-bit code it cannot be `xchg eax, eax` (which zero-extends).
      if (ok && form.accumulatorXchg && !form.xchgNop && plan.opReg?.num === 0 && S === 4 && ctx.bits === 64) ok = false;
      if (ok) plans.push(plan);
    }
  }
  return plans;
}

/**
 * The instruction's encodings, confirmed by the decoder: the best one first (the
 * shortest; ties as below) and, for relative branches, the best one of each
 * offset width (rel8, rel32) for branch relaxation. Throws AsmError naming what
 * was expected when nothing fits.
 */
export function encodeAll(mnemonic: string, operands: readonly Operand[], ctx: EncodeContext): Encoding[] {
  let ops = operands;
  const forms = formsFor(mnemonic);
  if (forms.length === 0) throw new AsmError(`unknown instruction "${mnemonic}"`);
  // imul r, imm is GNU's short spelling of imul r, r, imm.
  if (DUPLICATED_DESTINATION.has(mnemonic) && ops.length === 2 && ops[0]!.kind === "reg" && ops[1]!.kind === "imm") ops = [ops[0]!, ops[0]!, ops[1]!];
  let plans = matchAll(forms, ops, ctx);
  // xchg and test: GNU accepts the operands in either order; both orders compete for the shortest encoding.
  if (ops.length === 2 && COMMUTATIVE.has(mnemonic)) plans = plans.concat(matchAll(forms, [ops[1]!, ops[0]!], ctx));
  if (plans.length === 0) throw new AsmError(noMatchMessage(mnemonic, forms, ops, ctx));

  // Operands that do not fix the operand size take the mode's default; unsized memory
  // operands of size-dependent forms are only accepted where the default is the natural size
  // (push/pop/call/jmp: d64/f64 rows).
  // A written data16 selects the other operand size when no operand decides it (data16 leave).
  const explicit66 = ctx.prefixes.includes(0x66);
  const undeterminedSize = (p: Plan) => {
    const def = defaultOpSize(p.form, ctx.bits);
    const alt = ctx.bits === 16 ? 4 : 2;
    return explicit66 && p.form.sizeKind === "v" && opSizes(p.form, ctx.bits).includes(alt) ? alt : def;
  };
  const matched = plans;
  plans = plans.filter((p) => p.determined || p.S === undeterminedSize(p));
  if (plans.length === 0) {
    const sizes = [...new Set(matched.map((p) => p.S * 8))].join(" or ");
    throw new AsmError(`operand size of "${mnemonic}" not determined by its operands: write it in the mnemonic or on a memory operand (${sizes} bits possible)`);
  }
  const natural = (p: Plan) => !p.unsizedVar || p.determined || p.form.row.mode64 === "d64" || p.form.row.mode64 === "f64";
  if (plans.some((p) => !natural(p))) {
    throw new AsmError(`operand size not specified: write byte/word/dword/qword ptr on the memory operand of "${mnemonic}"`);
  }
  const memSizes = new Set(plans.filter((p) => p.memSize !== 0).map((p) => p.memSize));
  if (memSizes.size > 1 && ops.some((o) => o.kind === "mem" && o.size === 0)) {
    throw new AsmError(
      `ambiguous operand size for "${mnemonic}": write ${[...memSizes].sort((a, b) => a - b).map((s) => `${SIZE_NAMES[s] ?? s} ptr`).join(" or ")}`,
    );
  }
  // {load} / {store}: pick the direction of a reg,reg form (GNU pseudo-prefixes).
  const dir = ctx.pseudo.has("load") ? "load" : ctx.pseudo.has("store") ? "store" : "";
  if (dir !== "") {
    const kept = plans.filter((p) => {
      const first = p.form.ops[0]?.method;
      const isLoad = first === "G" || first === "V";
      return dir === "load" ? isLoad : !isLoad;
    });
    if (kept.length > 0) plans = kept;
  }
  const built: Built[] = [];
  let firstError: AsmError | null = null;
  for (const p of plans) {
    try {
      built.push(emit(p, ctx));
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
      firstError ??= e;
    }
  }
  // Shortest first; on a tie prefer the row the mnemonic names directly (movq's own rows over
  // movd with REX.W), then the shorter immediate (GNU: 66 83 /0 ib over 66 05 iw), then the
  // earlier table row (the SDM's primary encoding comes first).
  const direct = (e: Encoding) => (e.form.name === e.form.row.m ? 0 : 1);
  built.sort((a, b) => a.enc.bytes.length - b.enc.bytes.length || direct(a.enc) - direct(b.enc) || a.enc.immBytes - b.enc.immBytes
    || a.enc.form.row.index - b.enc.form.row.index);
  // Decode-check candidates in that order, keeping the best one and the best of each branch width.
  const out: Encoding[] = [];
  const widths = new Set<number>();
  for (const b of built) {
    if (out.length > 0 && (b.enc.relWidth === 0 || widths.has(b.enc.relWidth))) continue;
    const problem = b.check();
    if (problem !== null) { firstError ??= new AsmError(problem); continue; }
    out.push(b.enc);
    widths.add(b.enc.relWidth);
  }
  if (out.length === 0) throw firstError ?? new AsmError(`internal: no encoding for ${mnemonic}`);
  return out;
}

/** An encoding and the decoder check that confirms it (run only for the candidates that are used). */
interface Built {
  enc: Encoding;
  check(): string | null;
}

// ---------------------------------------------------------------------------
// Emission
// ---------------------------------------------------------------------------

class Bytes {
  readonly b: number[] = [];
  readonly fixups: Fixup[] = [];
  push(...x: number[]): void {
    for (const v of x) this.b.push(v & 0xff);
  }
  le(v: bigint, width: number): void {
    const u = BigInt.asUintN(width * 8, v);
    for (let k = 0; k < width; k++) this.b.push(Number((u >> BigInt(8 * k)) & 0xffn));
  }
  field(expr: Expr, value: bigint | null, width: number, kind: "abs" | "rel", ext: number, signed: boolean): void {
    if (value !== null && kind === "abs") { this.le(value, width); return; }
    this.fixups.push({ offset: this.b.length, width: width as 1 | 2 | 4 | 8, kind, ext, signed, expr, end: 0, ipBits: 64 });
    this.le(0n, width);
  }
}

interface MemEncoding {
  mod: number;
  rm: number;
  sib: number; // -1: none
  dispWidth: number; // 0, 1, 2, 4
  disp: bigint | null; // null: symbolic
  dispExpr: Expr;
  ripRel: boolean;
  rexX: number;
  rexB: number;
  adsize: number;
}

function defaultAdsize(bits: number): number {
  return bits === 64 ? 8 : bits === 32 ? 4 : 2;
}

/** The address size a 67 prefix selects. */
function alternateAdsize(bits: number): number {
  return bits === 64 ? 4 : bits === 32 ? 2 : 4;
}

function dispRangeOk(v: bigint, adsize: number): boolean {
  if (adsize === 8) {
    // A 64-bit address written unsigned (0xffffffff80000000) is the sign-extended disp32 it encodes.
    const n = v >= 1n << 63n && v < 1n << 64n ? BigInt.asIntN(64, v) : v;
    return n >= -(1n << 31n) && n < 1n << 31n;
  }
  if (adsize === 4) return v >= -(1n << 31n) && v < 1n << 32n;
  return v >= -(1n << 15n) && v < 1n << 16n;
}

function fitsDisp8(v: bigint, adsize: number): boolean {
  const n = BigInt.asIntN(adsize * 8, v);
  return n >= -128n && n <= 127n;
}

/** The address size of a memory operand (from its registers), or 0 when it has none. */
function memRegSize(m: Mem, bits: number): number {
  if (m.index !== null && m.index.class === "zero" && bits !== 64 && m.index.size === 8) throw new AsmError("riz exists only in 64-bit code");
  if (m.base !== null && m.index !== null && m.base.class === "gpr" && m.base.size !== m.index.size) {
    throw new AsmError(`base ${m.base.name} and index ${m.index.name} must be registers of the same width`);
  }
  const r = m.base ?? m.index;
  if (r === null) return 0;
  if (r.class === "zero") return r.size;
  if (r.class === "ip") {
    if (bits !== 64) throw new AsmError(`${r.name}-relative addressing exists only in 64-bit code`);
    if (r.size === 2) throw new AsmError("ip cannot address memory; use rip or eip");
    return r.size;
  }
  if (r.class !== "gpr" || r.size === 1) throw new AsmError(`${r.name} cannot address memory`);
  if (r.size === 8 && bits !== 64) throw new AsmError(`64-bit address register ${r.name} in ${bits}-bit code`);
  if (r.size === 2 && bits === 64) throw new AsmError(`16-bit addressing (${r.name}) does not exist in 64-bit code`);
  return r.size;
}

const ADDR16: Record<string, number> = { "bx+si": 0, "bx+di": 1, "bp+si": 2, "bp+di": 3, si: 4, di: 5, bp: 6, bx: 7 };

function encodeMem(m: Mem, ctx: EncodeContext, explicitAddr: boolean): MemEncoding {
  const bits = ctx.bits;
  let adsize = memRegSize(m, bits);
  if (adsize === 0) {
    adsize = explicitAddr ? alternateAdsize(bits) : defaultAdsize(bits);
  } else if (explicitAddr && adsize === defaultAdsize(bits)) {
    throw new AsmError(`an address-size prefix conflicts with the ${adsize * 8}-bit address registers`);
  }
  const value = ctx.constant(m.disp);
  if (value !== null && !dispRangeOk(value, adsize)) {
    throw new AsmError(`displacement ${exprText(m.disp)} does not fit a ${adsize === 2 ? 16 : 32}-bit ${adsize === 8 ? "sign-extended " : ""}displacement`);
  }
  const want8 = ctx.pseudo.has("disp8");
  const want32 = ctx.pseudo.has("disp32") || ctx.pseudo.has("disp16");
  const base = m.base;
  const index = m.index;
  const enc: MemEncoding = { mod: 0, rm: 0, sib: -1, dispWidth: 0, disp: value, dispExpr: m.disp, ripRel: false, rexX: 0, rexB: 0, adsize };
  // Displacement size for a base register: none, 8 or 32 (16 in 16-bit addressing).
  const chooseMod = (needsDisp: boolean, wide: number) => {
    if (value === null || want32) { enc.mod = 2; enc.dispWidth = wide; return; }
    if (value === 0n && !needsDisp && !want8) { enc.mod = 0; enc.dispWidth = 0; return; }
    if (fitsDisp8(value, adsize)) { enc.mod = 1; enc.dispWidth = 1; return; }
    enc.mod = 2;
    enc.dispWidth = wide;
  };
  if (adsize === 2) {
    if (m.scale !== 1) throw new AsmError("16-bit addressing has no scaled index");
    if (base === null && index === null) { enc.mod = 0; enc.rm = 6; enc.dispWidth = 2; return enc; }
    const names = [base?.name, index?.name].filter((x) => x !== undefined).sort() as string[];
    const key = names.length === 2 ? (names[0] === "bp" || names[0] === "bx" ? `${names[0]}+${names[1]}` : `${names[1]}+${names[0]}`) : names[0]!;
    const rm = ADDR16[key];
    if (rm === undefined) throw new AsmError(`[${key}] is not a 16-bit addressing form (bx/bp + si/di)`);
    enc.rm = rm;
    chooseMod(rm === 6, 2);
    return enc;
  }
  if (base !== null && base.class === "ip") {
    if (index !== null) throw new AsmError(`${base.name}-relative addressing takes no index register`);
    enc.mod = 0;
    enc.rm = 5;
    enc.dispWidth = 4;
    enc.ripRel = true;
    return enc;
  }
  // riz/eiz: a SIB byte whose index field is "none" (GNU's spelling of a redundant SIB).
  const zero = index !== null && index.class === "zero";
  if (index !== null) {
    if (index.num === 4 && !zero) throw new AsmError(`${index.name} cannot be an index register`);
  } else if (m.scale !== 1) {
    throw new AsmError("a scale needs an index register");
  }
  if (base === null && index === null) {
    // Absolute: in 64-bit code mod=00 rm=101 means RIP-relative, so use SIB with no base and no index.
    enc.mod = 0;
    enc.dispWidth = 4;
    if (bits === 64) { enc.rm = 4; enc.sib = 0x25; } else enc.rm = 5;
    return enc;
  }
  if (index === null && (base!.num & 7) !== 4 && !zero) {
    enc.rm = base!.num & 7;
    enc.rexB = base!.num >> 3;
    chooseMod((base!.num & 7) === 5, 4);
    return enc;
  }
  enc.rm = 4;
  const idx = index === null || zero ? 4 : index.num & 7;
  enc.rexX = index === null || zero ? 0 : index.num >> 3;
  if (base === null) {
    enc.mod = 0;
    enc.dispWidth = 4;
    enc.sib = (SCALE_BITS[m.scale]! << 6) | (idx << 3) | 5;
    return enc;
  }
  enc.rexB = base.num >> 3;
  enc.sib = (SCALE_BITS[m.scale]! << 6) | (idx << 3) | (base.num & 7);
  chooseMod((base.num & 7) === 5, 4);
  return enc;
}

/** The segment an address uses without an override: SS for rSP/rBP bases (BP in 16-bit addressing), else DS. */
function defaultSegment(m: Mem, enc: MemEncoding | null): number {
  if (enc !== null && enc.adsize === 2) return enc.rm === 2 || enc.rm === 3 || (enc.rm === 6 && enc.mod !== 0) ? 2 : 3;
  if (m.base !== null && m.base.class === "gpr" && (m.base.num === 4 || m.base.num === 5)) return 2;
  return 3;
}

const MAP_BYTES: Record<number, number[]> = { [MAP_0F]: [0x0f], [MAP_0F38]: [0x0f, 0x38], [MAP_0F3A]: [0x0f, 0x3a] };
const MANDATORY: Record<number, number> = { [PFX_66]: 0x66, [PFX_F3]: 0xf3, [PFX_F2]: 0xf2 };

function emit(p: Plan, ctx: EncodeContext): Built {
  const row = p.form.row;
  const bits = ctx.bits;
  const out = new Bytes();
  const explicitAddr = ctx.prefixes.includes(0x67);
  const explicit66 = ctx.prefixes.includes(0x66);

  // Memory operand encoding first: it decides 67 and REX.X/B.
  let mem: MemEncoding | null = null;
  let memOp: Mem | null = null;
  if (p.rm !== null && p.rm.kind === "mem") { memOp = p.rm; mem = encodeMem(p.rm, ctx, explicitAddr); }
  let adsize = mem ? mem.adsize : defaultAdsize(bits);
  if (p.moffs) {
    memOp = p.moffs.mem;
    if (explicitAddr) p.moffs.width = adsize = alternateAdsize(bits);
  }
  for (const s of p.strMem) {
    const sz = memRegSize(s, bits);
    if (explicitAddr && sz === defaultAdsize(bits)) throw new AsmError("the string operands' address size conflicts with the address-size prefix");
    adsize = sz;
  }
  if (p.form.fixedAdsize !== 0) adsize = p.form.fixedAdsize;
  if (p.strMem.length === 0 && explicitAddr && !mem && !p.moffs) adsize = alternateAdsize(bits);
  // A segment override that names the default segment is dropped (as GNU as does); a
  // prefix word (`ds mov ...`) still emits the byte.
  let seg = memOp?.seg ?? p.strSeg;
  if (seg !== null && memOp !== null && seg.num === defaultSegment(memOp, mem)) seg = null;
  if (seg !== null && memOp === null && seg.name === "ds") seg = null;

  // REX.
  const sizeKind = p.form.sizeKind;
  const wide = p.form.row.mode64 === "d64" || p.form.row.mode64 === "f64";
  const rexW = row.vex
    ? row.rexW === 1 || (row.rexW === -1 && sizeKind === "y" && p.S === 8)
    : row.rexW === 1 || (p.S === 8 && !p.form.ctrl64 && (sizeKind === "y" || (sizeKind === "v" && !wide)));
  const regs = [p.regOp, p.rm !== null && p.rm.kind === "reg" ? p.rm : null, p.opReg, p.vvvvReg].filter((r): r is Register => r !== null);
  let rex = ctx.rex & 0xf;
  if (rexW && !row.vex) rex |= 8;
  if (p.regField >= 8) rex |= 4;
  if (mem) rex |= (mem.rexX << 1) | mem.rexB;
  const rmReg = p.rm !== null && p.rm.kind === "reg" ? p.rm : null;
  if (rmReg && rmReg.num >= 8) rex |= 1;
  if (p.opReg && p.opReg.num >= 8) rex |= 1;
  if (row.vex && bits !== 64 && p.vvvvReg !== null && p.vvvvReg.num >= 8) rex |= 1;
  const needRex = rex !== 0 || ctx.rex !== 0 || regs.some((r) => r.needsRex);
  if (needRex || (row.vex && rexW && bits !== 64 && row.rexW !== 1 && p.S === 8)) {
    if (bits !== 64) {
      const why = regs.find((r) => r.num >= 8 || r.needsRex) ?? (mem && (memOp!.base?.num ?? 0) >= 8 ? memOp!.base : null) ?? (mem && (memOp!.index?.num ?? 0) >= 8 ? memOp!.index : null);
      throw new AsmError(why ? `register ${why.name} exists only in 64-bit code` : `64-bit operand size exists only in 64-bit code`);
    }
    const high = regs.find((r) => r.high8);
    if (high) throw new AsmError(`${high.name} cannot be encoded in an instruction that needs a REX prefix (64-bit operand, r8-r15, spl/bpl/sil/dil)`);
  }
  if (p.regOp && p.regOp.class === "seg" && p.regOp.num > 5) throw new AsmError(`no segment register ${p.regOp.name}`);

  // Prefixes: written ones (except lock/rep) first, then segment, 67, 66, lock/rep, mandatory, REX.
  const group1: number[] = [];
  for (const b of ctx.prefixes) {
    if (b === 0xf0 || b === 0xf2 || b === 0xf3) group1.push(b);
    else out.push(b);
  }
  if (seg !== null) out.push([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65][seg.num]!);
  if (adsize !== defaultAdsize(bits) && !explicitAddr) out.push(0x67);
  // The operand-size prefix (a written data16 already provides it).
  if (sizeKind === "v" && ((bits !== 16 && p.S === 2) || (bits === 16 && p.S === 4)) && !explicit66) out.push(0x66);
  for (const b of group1) out.push(b);
  if (row.vex) {
    // VEX replaces the mandatory prefix, REX and the map bytes: C5 when it can (map 0F, no X/B/W), else C4.
    const vvvv = (~(p.vvvvReg?.num ?? 0) & 15) << 3;
    const tail = vvvv | ((row.vexL === 1 ? 1 : 0) << 2) | row.prefix;
    const R = (rex >> 2) & 1, X = (rex >> 1) & 1, B = rex & 1;
    if (row.map === MAP_0F && X === 0 && B === 0 && !rexW) out.push(0xc5, ((R ^ 1) << 7) | tail);
    else out.push(0xc4, ((R ^ 1) << 7) | ((X ^ 1) << 6) | ((B ^ 1) << 5) | row.map, ((rexW ? 1 : 0) << 7) | tail);
  } else {
    if (row.prefix !== 0) out.push(MANDATORY[row.prefix]!);
    if (needRex) out.push(0x40 | rex);
    out.push(...(MAP_BYTES[row.map] ?? []));
  }
  out.push(row.opcode + (row.plusReg && p.opReg ? p.opReg.num & 7 : 0));

  // ModRM, SIB, displacement.
  if (row.modrm !== MODRM_NONE) {
    if (row.fixedModrm >= 0) {
      out.push(row.fixedModrm);
    } else {
      const regBits = (row.modrm === MODRM_DIGIT ? row.digit : p.regField) & 7;
      if (mem) {
        out.push((mem.mod << 6) | (regBits << 3) | mem.rm);
        if (mem.sib >= 0) out.push(mem.sib);
        if (mem.dispWidth > 0) {
          if (mem.ripRel && mem.disp === null) out.field(mem.dispExpr, null, 4, "rel", 8, true);
          else out.field(mem.dispExpr, mem.disp, mem.dispWidth, "abs", mem.dispWidth === 2 ? 2 : adsize, true);
        }
      } else if (rmReg) {
        out.push(0xc0 | (regBits << 3) | (rmReg.num & 7));
      } else {
        // No r/m operand (lfence: 0F AE /5 reg): a register form with r/m 0.
        out.push((row.form === FORM_MEM ? 0 : 0xc0) | (regBits << 3));
      }
    }
  }

  // Immediates, branch offsets, moffs and far pointers in operand order.
  let immK = 0;
  for (const spec of p.form.ops) {
    switch (spec.method) {
      case "I": {
        const im = p.imms[immK++]!;
        out.field(im.expr, im.value, im.width, "abs", im.ext, im.signed);
        break;
      }
      case "J":
        out.field(p.rel!.expr, null, p.rel!.width, "rel", p.rel!.width, true);
        break;
      case "O": {
        const v = ctx.constant(p.moffs!.mem.disp);
        if (v !== null && !immFits(v, p.moffs!.width, p.moffs!.width)) throw new AsmError(`address ${exprText(p.moffs!.mem.disp)} does not fit ${p.moffs!.width * 8} bits`);
        out.field(p.moffs!.mem.disp, v, p.moffs!.width, "abs", p.moffs!.width, false);
        break;
      }
      case "A": {
        const f = p.far!;
        const off = ctx.constant(f.ptr.off);
        if (off !== null && !immFits(off, f.width, f.width)) throw new AsmError(`far pointer offset does not fit ${f.width * 8} bits`);
        out.field(f.ptr.off, off, f.width, "abs", f.width, false);
        const sel = ctx.constant(f.ptr.sel);
        if (sel !== null && !immFits(sel, 2, 2)) throw new AsmError("far pointer selector does not fit 16 bits");
        out.field(f.ptr.sel, sel, 2, "abs", 2, false);
        break;
      }
    }
  }
  if (out.b.length > 15) throw new AsmError(`instruction is ${out.b.length} bytes long (the limit is 15)`);
  for (const f of out.fixups) {
    f.end = out.b.length;
    f.ipBits = bits === 64 ? 64 : p.S === 2 && p.rel !== null ? 16 : bits === 16 ? 16 : 32;
  }
  const bytes = Uint8Array.from(out.b);
  const immBytes = p.imms.reduce((n, im) => n + im.width, 0);
  return {
    enc: { bytes, fixups: out.fixups, form: p.form, opSize: p.S, relWidth: p.rel ? p.rel.width : 0, immBytes },
    check: () => verify(bytes, p, ctx, mem, adsize, seg, rexW && (ctx.bits === 64 || !p.form.row.vex)),
  };
}

// ---------------------------------------------------------------------------
// Verification: decode what was emitted and compare with what was meant.
// ---------------------------------------------------------------------------

const scratch = new Insn();

function modeOf(bits: number): number {
  return bits === 64 ? MODE_64 : bits === 32 ? MODE_32 : MODE_16;
}

/**
 * The operand size the decoder reports for the plan (its rule: the first v/z operand's
 * size, or y by REX.W/VEX.W); 0 when the decoder's number says nothing about the form.
 */
function expectedOpsize(p: Plan, rexW: boolean): number {
  if (p.form.ctrl64 || p.form.xchgNop) return 0;
  for (const o of p.form.row.operands) {
    if (o.size === "v" || o.size === "z") return p.S;
    if (o.size === "y") return rexW ? 8 : 4;
  }
  return p.form.sizeKind === "v" && !p.form.row.operands.some((o) => o.method !== "I") ? p.S : 0;
}

function verify(bytes: Uint8Array, p: Plan, ctx: EncodeContext, mem: MemEncoding | null, adsize: number, seg: Register | null, rexW: boolean): string | null {
  const row = p.form.row;
  const what = `${p.form.name} (${row.op})`;
  const insn = scratch;
  try {
    decode({ byte: (o) => (o < bytes.length ? bytes[o]! : 0) }, modeOf(ctx.bits), insn);
  } catch (e) {
    return `${what}: the decoder rejects the encoding (${e instanceof Error ? e.message : String(e)})`;
  }
  if (decodeInfo.status !== DECODE_OK) {
    if (insn.lock && !row.lock) return `lock is not allowed with ${p.form.name}`;
    if (insn.lock) return `lock needs a memory destination`;
    return `${what}: the CPU would raise #UD on this encoding`;
  }
  if (insn.row !== row) return `${what}: the encoding decodes as ${insn.row?.m ?? "?"} (${insn.row?.op ?? "?"}); no encoding of this operand combination`;
  if (insn.len !== bytes.length) return `${what}: internal length mismatch (${insn.len} vs ${bytes.length})`;
  // An explicit rex.W on a 16/32-bit-only form (in, outsd) changes nothing the decoder's number shows.
  // An explicit data16 or rex.W changes the operand size on purpose (data16 leave).
  const wantSize = (ctx.rex & 8) !== 0 || ctx.prefixes.includes(0x66) ? 0 : expectedOpsize(p, rexW);
  if (wantSize !== 0 && insn.opsize !== wantSize) return `${what}: operand size ${insn.opsize * 8} instead of ${wantSize * 8}`;
  if (p.regOp !== null) {
    const want = p.regOp.class === "gpr" && p.regOp.size === 1 ? regId(p.regOp) : p.regOp.num;
    if (insn.reg !== want && !(p.regOp.class === "seg" && (insn.reg & 7) === want)) return `${what}: reg field decodes as ${insn.reg}, not ${p.regOp.name}`;
  }
  if (p.vvvvReg !== null && insn.vvvv !== p.vvvvReg.num) return `${what}: VEX.vvvv decodes as ${insn.vvvv}, not ${p.vvvvReg.name}`;
  if (p.form.fixedAdsize !== 0 && insn.adsize !== p.form.fixedAdsize) return `${what}: address size ${insn.adsize * 8} instead of ${p.form.fixedAdsize * 8}`;
  if (p.opReg !== null) {
    const want = p.opReg.size === 1 ? regId(p.opReg) : p.opReg.num;
    if (insn.reg !== want) return `${what}: opcode register decodes as ${insn.reg}, not ${p.opReg.name}`;
  }
  if (p.rm !== null && p.rm.kind === "reg") {
    const want = p.rm.class === "gpr" && p.rm.size === 1 ? regId(p.rm) : p.rm.num;
    if (insn.isMem || insn.rm !== want) return `${what}: r/m decodes as ${insn.isMem ? "memory" : insn.rm}, not ${p.rm.name}`;
  }
  if (mem !== null) {
    const m = p.rm as Mem;
    if (!insn.isMem) return `${what}: r/m decodes as a register`;
    if (insn.adsize !== adsize) return `${what}: address size ${insn.adsize * 8} instead of ${adsize * 8}`;
    if (mem.ripRel !== insn.ripRel) return `${what}: RIP-relative addressing mismatch`;
    if (!mem.ripRel && adsize !== 2) {
      const wantBase = m.base === null ? NO_REG : m.base.num;
      const wantIndex = m.index === null || m.index.class === "zero" ? NO_REG : m.index.num;
      if (insn.base !== wantBase || insn.index !== wantIndex) return `${what}: address registers decode differently`;
      if (m.index !== null && insn.scale !== SCALE_BITS[m.scale]) return `${what}: scale decodes differently`;
      if (m.index !== null && m.index.class === "zero" && (insn.modrm & 7) !== 4) return `${what}: no SIB byte for ${m.index.name}`;
    }
    const d = mem.disp ?? 0n;
    const bitsCompared = adsize === 8 ? 64 : adsize * 8;
    const got = BigInt.asUintN(bitsCompared, (BigInt(insn.dispHi) << 32n) | BigInt(insn.dispLo >>> 0));
    if (got !== BigInt.asUintN(bitsCompared, d)) return `${what}: displacement decodes as 0x${got.toString(16)}`;
  }
  if (seg !== null && (!insn.segOverride || insn.seg !== seg.num)) return `${what}: segment override lost`;
  let immK = 0;
  for (const spec of p.form.ops) {
    if (spec.method !== "I") continue;
    const im = p.imms[immK++]!;
    const raw = BigInt.asUintN(im.width * 8, im.value ?? 0n);
    const got = im.second
      ? BigInt.asUintN(im.width * 8, BigInt(insn.imm2))
      : BigInt.asUintN(im.width * 8, (BigInt(insn.immHi) << 32n) | BigInt(insn.immLo >>> 0));
    if (got !== raw) return `${what}: immediate decodes as 0x${got.toString(16)}`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/** How an operand looks in a form description: r/m32, imm8, xmm/m128 ... */
export function describeSpec(spec: OperandSpec, form: Form, bits: number): string {
  const sizes = opSizes(form, bits);
  const widths = (code: string) => [...new Set(sizes.map((S) => specSize(code, S, bits) * 8))].sort((a, b) => a - b).join("/");
  const w = widths(spec.size);
  switch (spec.method) {
    case "E": return form.row.form === FORM_MEM ? `m${w}` : form.row.form === FORM_REG ? `r${w}` : `r/m${w}`;
    case "G": case "R": case "Z": return `r${w}`;
    case "M": return w === "0" ? "m" : `m${w}`;
    case "V": case "U": return "xmm";
    case "W": return `xmm/m${w}`;
    case "C": return "cr";
    case "D": return "dr";
    case "S": return "sreg";
    case "I": {
      const iw = [...new Set(sizes.map((S) => (spec.size === "z" ? (S === 2 ? 16 : 32) : spec.size === "v" ? S * 8 : specSize(spec.size, S, bits) * 8)))].sort((a, b) => a - b).join("/");
      return `imm${iw}`;
    }
    case "J": return spec.size === "b" ? "rel8" : "rel32";
    case "O": return `moffs${w}`;
    case "A": return "ptr16:32";
    case "X": return `m${w} [rsi]`;
    case "Y": return `m${w} es:[rdi]`;
    case "fixed": {
      const f = spec.fixed!;
      if (f === "1") return "1";
      if (/^[er]/.test(f)) return [...sizes].sort((a, b) => a - b).map((S) => fixedRegister(f, S)?.name).join("/");
      return f.toLowerCase();
    }
    default: return `${spec.method}${spec.size}`;
  }
}

function describeOperand(o: Operand): string {
  switch (o.kind) {
    case "reg": return o.class === "gpr" ? `${o.name} (r${o.size * 8})` : o.name;
    case "mem": return o.size === 0 ? "memory (size not written)" : `m${o.size * 8}`;
    case "imm": return "immediate";
    case "far": return "far pointer";
  }
}

function noMatchMessage(mnemonic: string, forms: readonly Form[], ops: readonly Operand[], ctx: EncodeContext): string {
  const valid = forms.filter((f) => opSizes(f, ctx.bits).length > 0);
  if (valid.length === 0) return `${mnemonic} does not exist in ${ctx.bits}-bit code`;
  const shown = new Set<string>();
  for (const f of valid) {
    shown.add(f.ops.length === 0 ? "(no operands)" : f.ops.map((s) => describeSpec(s, f, ctx.bits)).join(", "));
  }
  const given = ops.length === 0 ? "no operands" : ops.map(describeOperand).join(", ");
  const immNote = ops.some((o) => o.kind === "imm" && constValue(o.expr) !== null) ? " (or the immediate is out of range)" : "";
  return `${mnemonic} does not take ${given}${immNote}; expected one of: ${[...shown].join(" | ")}`;
}
