// The disassembler: decodes with the emulator's decoder (one source of truth),
// turns the decoded instruction into an operand view (the same facts the
// assembler matches), and prints Intel syntax as GNU as reads it back. Where the
// bytes use an encoding the assembler would not pick by default, the text says
// so with GNU pseudo-prefixes ({load}, {disp8}, {disp32}), so that assembling the
// output reproduces the input.
import { decode, decodeInfo, DECODE_OK } from "../../emulator/cpu/decode.js";
import { Insn, MODE_16, MODE_32, MODE_64, NO_REG, REP_E, REP_NE } from "../../emulator/cpu/insn.js";
import { allRows, MODRM_NONE, PFX_66, PFX_F2, PFX_F3, type OpRow, type OperandSpec } from "../../emulator/cpu/table.js";
import { ADDRESS_NAMED, NO_16BIT_OPERANDS, SIZE_NAMED, SIZE_SUFFIXED } from "./facts.js";
import { specSize } from "./encode.js";
import { defaultOpSize, formsFor, rowKey, type Form } from "./forms.js";
import { SIZE_NAMES } from "./operands.js";
import { byteRegById, controlReg, debugReg, gpr, ipReg, registerByName, segReg, xmmReg, zeroIndex, type Register } from "./registers.js";

export type Bits = 16 | 32 | 64;

export type OperandView =
  | { kind: "reg"; reg: Register }
  | {
    kind: "mem";
    /** Bytes accessed (0: no size printed: lea, lgdt, fxsave ...). */
    size: number;
    /** Segment override (null: the default segment). */
    seg: Register | null;
    base: Register | null;
    index: Register | null;
    scale: number;
    /** Displacement as a signed number of the address width (moffs: unsigned address). */
    disp: bigint;
    adsize: number;
    /** How the displacement is printed: omitted when zero and not encoded. */
    dispShown: boolean;
  }
  | {
    kind: "imm";
    /** The value the instruction uses (extended to the operation width, unsigned). */
    value: bigint;
    /** The value as printed (signed when the CPU sign-extends the field). */
    shown: bigint;
    /** The fixed operand "1" of the shift-by-one forms (printed as 1). */
    one: boolean;
  }
  | { kind: "rel"; target: bigint }
  | { kind: "far"; sel: bigint; off: bigint };

export interface InsnView {
  valid: boolean;
  address: bigint;
  length: number;
  bytes: Uint8Array;
  row: OpRow | null;
  mnemonic: string;
  /** Prefix mnemonics printed before the instruction (lock, rep, data16, cs, rex.W ...). */
  prefixes: string[];
  /** GNU pseudo-prefixes needed to reassemble the same encoding ({load}, {disp8}, {disp32}). */
  pseudo: string[];
  operands: OperandView[];
  /** Operand size the instruction ran with (bytes). */
  opSize: number;
  /** The operand size changes what the instruction does (v-sized forms). */
  sizeSensitive: boolean;
}

export interface DisasmOptions {
  bits?: Bits;
  /** Address of the first byte (default 0). */
  address?: bigint | number;
  /** Names for addresses: branch targets and RIP-relative references print as name or name+off. */
  symbols?: Map<bigint, string> | ((addr: bigint) => string | null);
}

const insnScratch = new Insn();

function modeOf(bits: Bits): number {
  return bits === 64 ? MODE_64 : bits === 32 ? MODE_32 : MODE_16;
}

function le(bytes: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[at + k] ?? 0);
  return v;
}

/** Rows that are the same instruction with the operand order reversed (01 /r and 03 /r): the later one needs {load}/{store}. */
let twinOf: Map<OpRow, OpRow> | null = null;
let twinRows = -1;

function twins(): Map<OpRow, OpRow> {
  const rows = allRows();
  if (twinOf !== null && twinRows === rows.length) return twinOf;
  twinOf = new Map();
  twinRows = rows.length;
  const byName = new Map<string, OpRow[]>();
  for (const r of rows) byName.set(r.m, [...(byName.get(r.m) ?? []), r]);
  const flip: Record<string, string> = { E: "G", G: "E", W: "V", V: "W" };
  for (const list of byName.values()) {
    for (const r of list) {
      if (r.operands.length !== 2) continue;
      const [a, b] = r.operands as [OperandSpec, OperandSpec];
      if (flip[a.method] !== b.method) continue;
      const t = list.find((x) => x !== r && x.operands.length === 2 && x.vex === r.vex
        && x.operands[0]!.method === b.method && x.operands[0]!.size === b.size
        && x.operands[1]!.method === a.method && x.operands[1]!.size === a.size);
      if (t !== undefined) twinOf.set(r, t);
    }
  }
  return twinOf;
}

/** The assembler form the disassembler names the instruction by (for size-named and implicit forms). */
function formFor(name: string, row: OpRow): Form | undefined {
  return formsFor(name).find((f) => f.row === row);
}

/** Decodes one instruction at `offset` and builds its view. */
export function viewAt(bytes: Uint8Array, offset: number, opts: DisasmOptions = {}): InsnView {
  const bits = opts.bits ?? 64;
  const address = BigInt(opts.address ?? 0) + BigInt(offset);
  const insn = insnScratch;
  let threw = false;
  try {
    decode({ byte: (o) => bytes[offset + o] ?? 0 }, modeOf(bits), insn);
  } catch {
    threw = true;
  }
  const avail = bytes.length - offset;
  if (threw || decodeInfo.status !== DECODE_OK || insn.row === null || insn.len > avail) {
    const n = Math.max(1, Math.min(threw || insn.row === null ? Math.max(insn.len, 1) : insn.len, avail));
    return {
      valid: false, address, length: n, bytes: bytes.slice(offset, offset + n), row: insn.row, mnemonic: "(bad)",
      prefixes: [], pseudo: [], operands: [], opSize: 0, sizeSensitive: false,
    };
  }
  // Segment register fields 6 and 7 name no register (#UD at execution).
  if (insn.row.operands.some((o) => o.method === "S") && (insn.reg & 7) > 5) {
    return { valid: false, address, length: insn.len, bytes: bytes.slice(offset, offset + insn.len), row: insn.row, mnemonic: "(bad)", prefixes: [], pseudo: [], operands: [], opSize: 0, sizeSensitive: false };
  }
  return buildView(insn, bytes.slice(offset, offset + insn.len), address, bits);
}

function buildView(insn: Insn, raw: Uint8Array, address: bigint, bits: Bits): InsnView {
  const row = insn.row!;
  const probeForm = formsFor(row.m).find((f) => f.row === row);
  const ctrl64 = row.operands.some((o) => o.method === "C" || o.method === "D");
  let S = ctrl64 && bits === 64 ? 8 : probeForm?.sizeKind === "v" ? vsizeOf(insn, row, bits) : insn.opsize;
  // Forms limited to 16/32 bits (in/out eAX, ins/outs) ignore REX.W: it stays a 32-bit operation.
  if (probeForm?.max32 && S === 8) S = 4;
  // BSWAP r16 (undefined result) has no text: print it as data16 with the 32-bit register.
  let sizeHidden = false;
  if (S === 2 && NO_16BIT_OPERANDS.has(rowKey(row))) { S = 4; sizeHidden = true; }
  const adsize = insn.adsize;
  const ops: OperandView[] = [];
  const sx8 = probeForm?.sxImm8 ?? false;
  // Operand bytes start after prefixes/opcode/ModRM/SIB/disp: immediates are the tail of the instruction.
  let immBytes = 0;
  for (const o of row.operands) immBytes += immWidth(o, S, adsize, bits);
  let immAt = raw.length - immBytes;
  const split = probeForm?.split ?? null;
  // An override naming the default segment changes nothing: print it as a prefix word (ds mov ...).
  const defaultSeg = insn.isMem && !insn.ripRel && (adsize === 2
    ? insn.base === 5
    : insn.base === 4 || insn.base === 5) ? 2 : 3;
  // Only a memory operand read through DS-or-override can use one (not es:[rdi], not registers).
  const segUsable = row.operands.some((o) => o.method === "O" || o.method === "X" || (insn.isMem && ["E", "M", "W"].includes(o.method)));
  const redundantSeg = insn.segOverride && (insn.seg === defaultSeg || !segUsable);
  const segOf = () => (insn.segOverride && !redundantSeg ? segReg(insn.seg) : null);

  const memView = (o: OperandSpec, k: number): OperandView => {
    let size = specSize(o.size, S, bits);
    if (split !== null && split[0] === k) size = split[2];
    if (o.size === "x" || o.size === "s" || o.size === "e") size = 0;
    const seg = segOf();
    if (insn.ripRel) {
      return { kind: "mem", size, seg, base: ipReg(adsize), index: null, scale: 1, disp: BigInt(insn.dispLo), adsize, dispShown: insn.dispLo !== 0 };
    }
    const base = insn.base === NO_REG ? null : gpr(insn.base, adsize);
    let index = insn.index === NO_REG ? null : gpr(insn.index, adsize);
    // A SIB byte that is not needed (no index, base not rSP/r12, or an absolute address
    // outside 64-bit code) prints its index as riz/eiz so the text keeps it.
    const sib = adsize !== 2 && (insn.modrm & 7) === 4;
    if (sib && index === null && (insn.scale !== 0 || (base !== null && (base.num & 7) !== 4) || (base === null && bits !== 64))) index = zeroIndex(adsize);
    const full = (BigInt(insn.dispHi) << 32n) | BigInt(insn.dispLo >>> 0);
    const disp = BigInt.asIntN(adsize * 8, full);
    // A zero displacement is printed only when it is encoded without being required (GNU: [rax+0x0]).
    const mod = insn.modrm >> 6;
    const required = adsize === 2 ? (insn.modrm & 7) === 6 : base !== null && (base.num & 7) === 5;
    const dispShown = disp !== 0n || base === null || (mod !== 0 && !required);
    return { kind: "mem", size, seg, base, index, scale: 1 << insn.scale, disp, adsize, dispShown };
  };

  row.operands.forEach((o, k) => {
    switch (o.method) {
      case "E": case "M": case "W": case "R": case "U":
        if (insn.isMem && o.method !== "R" && o.method !== "U") { ops.push(memView(o, k)); break; }
        if (o.method === "W" || o.method === "U") { ops.push({ kind: "reg", reg: xmmReg(insn.rm) }); break; }
        if (split !== null && split[0] === k) {
          const w = (insn.rex & 8) !== 0 && split[1].includes(8) ? 8 : split[1].includes(S) ? S : 4;
          ops.push({ kind: "reg", reg: gpr(insn.rm, w) });
          break;
        }
        ops.push({ kind: "reg", reg: gprOf(insn.rm, specSize(o.size, S, bits)) });
        break;
      case "G": case "Z":
        ops.push({ kind: "reg", reg: gprOf(insn.reg, specSize(o.size, S, bits)) });
        break;
      case "B":
        ops.push({ kind: "reg", reg: gpr(insn.vvvv, specSize(o.size, S, bits)) });
        break;
      case "V":
        ops.push({ kind: "reg", reg: xmmReg(insn.reg) });
        break;
      case "C": ops.push({ kind: "reg", reg: controlReg(insn.reg) }); break;
      case "D": ops.push({ kind: "reg", reg: debugReg(insn.reg) }); break;
      case "S": ops.push({ kind: "reg", reg: segReg(insn.reg & 7) }); break;
      case "I": {
        const w = immWidth(o, S, adsize, bits);
        const rawv = le(raw, immAt, w);
        immAt += w;
        let ext = w;
        if (o.size === "b" && sx8) ext = S;
        else if (o.size === "z" && S === 8) ext = 8;
        const signed = BigInt.asIntN(w * 8, rawv);
        const value = ext > w ? BigInt.asUintN(ext * 8, signed) : rawv;
        ops.push({ kind: "imm", value, shown: ext > w ? signed : rawv, one: false });
        break;
      }
      case "J": {
        const w = immWidth(o, S, adsize, bits);
        const rel = BigInt.asIntN(w * 8, le(raw, immAt, w));
        immAt += w;
        const next = address + BigInt(raw.length);
        const width = bits === 64 ? 64 : S === 2 ? 16 : 32;
        ops.push({ kind: "rel", target: BigInt.asUintN(width, next + rel) });
        break;
      }
      case "O": {
        const w = adsize;
        const addr = le(raw, immAt, w);
        immAt += w;
        ops.push({
          kind: "mem", size: specSize(o.size, S, bits), seg: segOf(), base: null, index: null, scale: 1,
          disp: addr, adsize, dispShown: true,
        });
        break;
      }
      case "A": {
        const w = S === 2 ? 2 : 4;
        const off = le(raw, immAt, w);
        const sel = le(raw, immAt + w, 2);
        immAt += w + 2;
        ops.push({ kind: "far", sel, off });
        break;
      }
      case "X": case "Y": {
        const seg = o.method === "X" ? segOf() : segReg(0);
        ops.push({ kind: "mem", size: specSize(o.size, S, bits), seg, base: gpr(o.method === "X" ? 6 : 7, adsize), index: null, scale: 1, disp: 0n, adsize, dispShown: false });
        break;
      }
      case "fixed": {
        const f = o.fixed!;
        if (f === "1") { ops.push({ kind: "imm", value: 1n, shown: 1n, one: true }); break; }
        const r = /^[er]/.test(f) ? gpr(registerByName(f.slice(1).toLowerCase())!.num, S) : registerByName(f.toLowerCase())!;
        ops.push({ kind: "reg", reg: r });
        break;
      }
    }
  });

  // Mnemonic and hidden operands.
  let mnemonic = row.m;
  let hide = false;
  const sized = SIZE_NAMED[row.m]?.[S as 2 | 4 | 8];
  if (sized !== undefined) mnemonic = sized;
  const addressed = ADDRESS_NAMED[row.m]?.[adsize as 2 | 4 | 8];
  if (addressed !== undefined) mnemonic = addressed;
  if (row.m === "mov") {
    const moffs = row.operands.some((o) => o.method === "O");
    const imm64 = row.plusReg && row.operands.some((o) => o.method === "I" && o.size === "v") && S === 8;
    if ((moffs && bits === 64 && adsize === 8) || imm64) mnemonic = "movabs";
  }
  const accXchg = rowKey(row) === "xchg 90+r";
  // 90 (register 0, no REX.B) is NOP at any operand size but 16 bits (66 90 reads as xchg ax, ax).
  const xchgNop = accXchg && insn.reg === 0 && (S === (bits === 16 ? 2 : 4) || S === 8);
  if (xchgNop) { mnemonic = "nop"; hide = true; }
  const implicitForm = formFor(mnemonic, row);
  const stringOps = row.operands.some((o) => o.method === "X" || o.method === "Y");
  if (stringOps && implicitForm?.implicit && (!insn.segOverride || redundantSeg)) hide = true;
  // Size not visible in any operand (push imm, push fs): name it (pushw), or keep the
  // prefix that sets it as a word (data16 leave).
  if (sized === undefined && probeForm && probeForm.sizeKind !== "" && S !== defaultOpSize(probeForm, bits) && !xchgNop) {
    const showsSize = !hide && ops.some((op, k) => (op.kind === "reg" && op.reg.class === "gpr") || (op.kind === "mem" && op.size !== 0 && row.operands[k]!.method !== "fixed"));
    if (!showsSize) {
      const suffixed = Object.entries(SIZE_SUFFIXED).find(([, [m, s]]) => m === row.m && s === S);
      if (suffixed) mnemonic = suffixed[0];
      else sizeHidden = true;
    }
  }

  // Prefixes the instruction does not consume are printed by name.
  const prefixes = unconsumedPrefixes(insn, raw, row, xchgNop || sizeHidden ? defaultOpSize(probeForm!, bits) : S, bits, hide, ops, redundantSeg);
  if (insn.lock) prefixes.push("lock");
  if (insn.rep === REP_E) prefixes.push(row.rep === "repe" ? "repe" : row.rep === "rep" ? "rep" : "repz");
  else if (insn.rep === REP_NE) prefixes.push(row.rep === "repe" ? "repne" : "repnz");

  // Pseudo-prefixes for encodings the assembler does not pick by default.
  const pseudo: string[] = [];
  const twin = twins().get(row);
  if (twin !== undefined && twin.index < row.index && !insn.isMem) {
    const first = row.operands[0]!.method;
    pseudo.push(first === "G" || first === "V" ? "{load}" : "{store}");
  }
  if (insn.isMem && !insn.ripRel && row.modrm !== MODRM_NONE) {
    const mod = insn.modrm >> 6;
    const m = ops.find((o) => o.kind === "mem" && o.base !== null && o.base.class === "gpr");
    if (m !== undefined && m.kind === "mem") {
      const needsDisp = adsize === 2 ? (insn.modrm & 7) === 6 : (m.base!.num & 7) === 5;
      if (mod === 1 && m.disp === 0n && !needsDisp) pseudo.push("{disp8}");
      if (mod === 2 && m.disp >= -128n && m.disp <= 127n) pseudo.push(adsize === 2 ? "{disp16}" : "{disp32}");
    }
  }
  return {
    valid: true, address, length: raw.length, bytes: raw, row, mnemonic, prefixes, pseudo,
    operands: hide ? [] : ops, opSize: S, sizeSensitive: probeForm?.sizeKind === "v",
  };
}

/** The v operand size, by the decoder's rule (REX.W, f64/d64, a non-mandatory 66). */
function vsizeOf(insn: Insn, row: OpRow, bits: Bits): number {
  const defOp = bits === 16 ? 2 : 4;
  if ((insn.rex & 8) !== 0) return 8;
  if (bits === 64 && row.mode64 === "f64") return 8;
  if (insn.prefix66 && row.prefix !== PFX_66) return defOp === 2 ? 4 : 2;
  if (bits === 64 && row.mode64 === "d64") return 8;
  return defOp;
}

function gprOf(id: number, size: number): Register {
  return size === 1 ? byteRegById(id) : gpr(id, size);
}

function immWidth(o: OperandSpec, S: number, adsize: number, bits: number): number {
  switch (o.method) {
    case "I":
      switch (o.size) {
        case "b": return 1;
        case "w": return 2;
        case "d": return 4;
        case "q": return 8;
        case "z": return S === 2 ? 2 : 4;
        case "v": return S;
      }
      return 4;
    case "J": return o.size === "b" ? 1 : S === 2 ? 2 : 4;
    case "O": return adsize;
    case "A": return (S === 2 ? 2 : 4) + 2;
  }
  void bits;
  return 0;
}

const SEG_NAMES = ["es", "cs", "ss", "ds", "fs", "gs"];
const SEG_BYTES: Record<number, number> = { 0x26: 0, 0x2e: 1, 0x36: 2, 0x3e: 3, 0x64: 4, 0x65: 5 };

/**
 * Legacy prefixes and REX bits that do not change the instruction as the
 * assembler would write it: printed by name (data16, addr32, cs, rex.W) so the
 * text keeps them.
 */
function unconsumedPrefixes(
  insn: Insn, raw: Uint8Array, row: OpRow, S: number, bits: Bits, hidden: boolean, ops: OperandView[], redundantSeg: boolean,
): string[] {
  const out: string[] = [];
  const memShown = ops.some((o) => o.kind === "mem");
  const form = formsFor(row.m).find((f) => f.row === row);
  const sizeV = form !== undefined && form.sizeKind === "v";
  const used66 = row.prefix === PFX_66 || (sizeV && ((bits !== 16 && S === 2) || (bits === 16 && S === 4)));
  // The address size shows only in address registers ([esi], [r9d+...]); otherwise 67 is printed (addr32).
  const regAddress = ops.some((o) => o.kind === "mem" && (o.base !== null || o.index !== null));
  const used67 = (regAddress && !hidden) || ADDRESS_NAMED[row.m] !== undefined;
  const usedSeg = memShown && insn.segOverride && !redundantSeg;
  const usedRep = row.prefix === PFX_F3 || row.prefix === PFX_F2;
  // Legacy prefixes, and the REX that counts: the one right before the opcode (a legacy
  // prefix after a REX cancels it; of several REX bytes only the last counts).
  const prefixBytes: number[] = [];
  let rex = 0;
  for (const b of raw) {
    if (b === 0x66 || b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3 || SEG_BYTES[b] !== undefined) { prefixBytes.push(b); rex = 0; }
    else if (bits === 64 && (b & 0xf0) === 0x40) rex = b;
    else break;
  }
  if (row.vex) return out;
  // The last occurrence of each prefix is the one that counts; earlier repeats are printed.
  const lastOf = (x: number) => prefixBytes.lastIndexOf(x);
  let lastSeg = -1;
  prefixBytes.forEach((b, i) => { if (SEG_BYTES[b] !== undefined) lastSeg = i; });
  prefixBytes.forEach((b, i) => {
    if (b === 0x66) {
      if (used66 && i === lastOf(0x66)) return;
      out.push("data16");
    } else if (b === 0x67) {
      if (used67 && i === lastOf(0x67)) return;
      out.push(bits === 64 ? "addr32" : bits === 32 ? "addr16" : "addr32");
    } else if (b === 0xf0) {
      if (i === lastOf(0xf0)) return; // printed as lock below
      out.push("lock");
    } else if (b === 0xf2 || b === 0xf3) {
      const last = Math.max(lastOf(0xf2), lastOf(0xf3));
      if (i === last && (usedRep || insn.rep !== 0)) return; // mandatory, or printed as rep below
      out.push(b === 0xf3 ? "repz" : "repnz");
    } else {
      if (usedSeg && i === lastSeg) return;
      out.push(SEG_NAMES[SEG_BYTES[b]!]!);
    }
  });
  // REX: bits that select nothing, or a REX that selects nothing, are printed.
  if (rex !== 0) {
    let needed = 0;
    const wide = row.mode64 === "d64" || row.mode64 === "f64";
    if (form !== undefined && S === 8 && (form.sizeKind === "y" || (form.sizeKind === "v" && !wide && !form.max32)) && !form.ctrl64) needed |= 8;
    if (row.rexW === 1) needed |= 8;
    if (insn.reg >= 8 && insn.reg < 16) needed |= 4;
    if (insn.isMem) {
      if (insn.index >= 8) needed |= 2;
      if (insn.base >= 8) needed |= 1;
    } else if (row.modrm !== MODRM_NONE && insn.rm >= 8 && insn.rm < 16) needed |= 1;
    if (row.plusReg && insn.reg >= 8 && insn.reg < 16) { needed |= 1; needed &= ~4; }
    if (row.modrm !== MODRM_NONE && !row.operands.some((o) => ["G", "V", "C", "D", "S"].includes(o.method))) needed &= ~4;
    const byteRex = ops.some((o) => o.kind === "reg" && o.reg.needsRex);
    const extra = rex & 0xf & ~needed;
    if (extra !== 0 || (needed === 0 && !byteRex)) {
      const letters = (extra & 8 ? "W" : "") + (extra & 4 ? "R" : "") + (extra & 2 ? "X" : "") + (extra & 1 ? "B" : "");
      out.push(letters === "" ? "rex" : `rex.${letters}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

type Symbolizer = (addr: bigint) => string | null;

function symbolizer(opts: DisasmOptions): Symbolizer | null {
  const s = opts.symbols;
  if (s === undefined) return null;
  if (typeof s === "function") return s;
  const sorted = [...s.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return (addr) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]![0] <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (best < 0) return null;
    const [base, name] = sorted[best]!;
    const off = addr - base;
    if (off > 0x100000n) return null;
    return off === 0n ? name : `${name}+${hex(off)}`;
  };
}

function formatOperand(o: OperandView, sym: Symbolizer | null, view: InsnView): string {
  switch (o.kind) {
    case "reg": return o.reg.name;
    case "imm": return o.one ? "1" : hex(o.shown);
    case "rel": return (sym?.(o.target) ?? null) ?? hex(o.target);
    case "far": return `${hex(o.sel)}:${hex(o.off)}`;
    case "mem": {
      const size = o.size !== 0 ? `${SIZE_NAMES[o.size] ?? `m${o.size * 8}`} ptr ` : "";
      const seg = o.seg !== null ? `${o.seg.name}:` : "";
      let inner = "";
      if (o.base !== null) inner = o.base.name;
      if (o.index !== null) inner += `${inner === "" ? "" : "+"}${o.index.name}${o.adsize === 2 ? "" : `*${o.scale}`}`;
      if (o.base !== null && o.base.class === "ip") {
        const target = BigInt.asUintN(64, view.address + BigInt(view.length) + o.disp);
        const name = sym?.(target) ?? null;
        if (name !== null) return `${size}${seg}[${o.base.name}+${name}]`;
      }
      if (inner === "") {
        // Absolute: print the address unsigned (a sign-extended disp32 is a high address).
        const width = o.adsize === 8 ? 64 : o.adsize * 8;
        return `${size}${seg}[${hex(BigInt.asUintN(width, o.disp))}]`;
      }
      if (o.dispShown) inner += o.disp < 0n ? `-${hex(-o.disp)}` : `+${hex(o.disp)}`;
      return `${size}${seg}[${inner}]`;
    }
  }
}

/** Intel-syntax text of a view (without address or bytes). */
export function formatView(view: InsnView, opts: DisasmOptions = {}): string {
  if (!view.valid) return `.byte ${[...view.bytes].map((b) => `0x${b.toString(16).padStart(2, "0")}`).join(", ")}`;
  const sym = symbolizer(opts);
  const head = [...view.pseudo, ...view.prefixes, view.mnemonic].join(" ");
  if (view.operands.length === 0) return head;
  return `${head} ${view.operands.map((o) => formatOperand(o, sym, view)).join(", ")}`;
}

export interface DisasmLine {
  address: bigint;
  bytes: Uint8Array;
  text: string;
  valid: boolean;
}

/** Disassembles a whole buffer. Invalid bytes become `.byte` lines. */
export function disassemble(bytes: Uint8Array, opts: DisasmOptions = {}): DisasmLine[] {
  const out: DisasmLine[] = [];
  let off = 0;
  while (off < bytes.length) {
    const v = viewAt(bytes, off, opts);
    out.push({ address: v.address, bytes: v.bytes, text: formatView(v, opts), valid: v.valid });
    off += v.length;
  }
  return out;
}

/** Disassembles one instruction: its text and length. */
export function disassembleOne(bytes: Uint8Array, opts: DisasmOptions = {}): { text: string; length: number; valid: boolean } {
  const v = viewAt(bytes, 0, opts);
  return { text: formatView(v, opts), length: v.length, valid: v.valid };
}
