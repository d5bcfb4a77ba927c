// The instruction decoder: bytes → Insn, driven entirely by the rows in table.ts.
// Mode (16/32/64-bit) and the operand/address sizes are parameters, so real mode
// needs no second decoder. It never executes anything and never touches CPU state;
// the CPU, the disassembler and the assembler's tests all use it.
import {
  Insn, MODE_16, MODE_64, NO_REG, R8_HIGH_BASE, REP_E, REP_NE, REP_NONE,
  SEG_DS, SEG_SS, type ExecFn,
} from "./insn.js";
import {
  allRows, FORM_MEM, FORM_REG, MAP_0F, MAP_0F38, MAP_0F3A, MAP_1, MODRM_DIGIT, MODRM_NONE,
  PFX_66, PFX_F2, PFX_F3, PFX_NP, type OpRow, type OperandSpec,
} from "./table.js";

/** Reads instruction bytes; offset counts from the instruction's first byte. May throw a CPU fault. */
export interface CodeSource {
  byte(offset: number): number;
}

/** Why a byte sequence does not decode to a valid instruction. */
export const DECODE_OK = 0;
export const DECODE_UD = 1; // invalid opcode → #UD
export const DECODE_TOO_LONG = 2; // more than 15 bytes → #GP(0)

interface OpcodeSlot {
  rows: OpRow[];
  hasModrm: boolean;
  /** Which mandatory-prefix classes appear among the rows (bit per PFX_*). */
  prefixMask: number;
}

let slots: (OpcodeSlot | undefined)[] | null = null;
/** VEX rows, keyed the same way (map * 256 + opcode) in their own opcode space; built with `slots`. */
let vexSlots: (OpcodeSlot | undefined)[] = [];

function buildSlots(): (OpcodeSlot | undefined)[] {
  const legacy: (OpcodeSlot | undefined)[] = new Array(4 * 256);
  vexSlots = new Array(4 * 256);
  for (const row of allRows()) {
    const table = row.vex ? vexSlots : legacy;
    const opcodes = row.plusReg ? [0, 1, 2, 3, 4, 5, 6, 7].map((r) => row.opcode + r) : [row.opcode];
    for (const opc of opcodes) {
      const key = row.map * 256 + opc;
      let slot = table[key];
      if (!slot) table[key] = slot = { rows: [], hasModrm: row.modrm !== MODRM_NONE, prefixMask: 0 };
      if (slot.hasModrm !== (row.modrm !== MODRM_NONE)) {
        throw new Error(`instruction table: rows for opcode map ${row.map} ${opc.toString(16)} disagree on ModRM (${row.m})`);
      }
      slot.rows.push(row);
      slot.prefixMask |= 1 << row.prefix;
    }
  }
  return legacy;
}

/** Forget the derived decode tables (after rows were added). */
export function resetDecoder(): void {
  slots = null;
}

/** Per-decode scratch results beyond the Insn (kept module-level to avoid allocation). */
export const decodeInfo = { status: DECODE_OK };

export interface DecodeHooks {
  /** Handler installed for invalid encodings (raises #UD when executed). */
  invalid: ExecFn;
  /** Handler installed for instructions longer than 15 bytes (raises #GP(0) when executed). */
  tooLong: ExecFn;
  /** Wraps a handler of a CPL-0-only row with the privilege check. */
  privileged: (exec: ExecFn) => ExecFn;
}

const defaultHooks: DecodeHooks = {
  invalid: () => { throw new Error("invalid opcode"); },
  tooLong: () => { throw new Error("instruction too long"); },
  privileged: (e) => e,
};

/**
 * Decodes one instruction. On an invalid encoding the Insn gets hooks.invalid as
 * its handler (and decodeInfo.status says why), so #UD is raised at execution.
 */
export function decode(src: CodeSource, mode: number, insn: Insn, hooks: DecodeHooks = defaultHooks): Insn {
  if (slots === null) slots = buildSlots();
  decodeInfo.status = DECODE_OK;
  const is64 = mode === MODE_64;
  insn.mode = mode;
  insn.row = null;
  insn.next = null;
  insn.jump = null;
  insn.jumpRip = -1;
  insn.lock = false;
  insn.rep = REP_NONE;
  insn.rex = 0;
  insn.prefix66 = false;
  insn.prefix67 = false;
  insn.segOverride = false;
  insn.isMem = false;
  insn.base = NO_REG;
  insn.index = NO_REG;
  insn.scale = 0;
  insn.dispLo = 0;
  insn.dispHi = 0;
  insn.ripRel = false;
  insn.immLo = 0;
  insn.immHi = 0;
  insn.imm2 = 0;
  insn.reg = 0;
  insn.rm = 0;
  insn.modrm = -1;
  insn.vex = false;
  insn.vexL = 0;
  insn.vvvv = 0;

  let pos = 0;
  let seg = -1;
  let lastRep = 0; // 0, 0xF2 or 0xF3 (the last one wins)
  let rex = 0;
  let b = 0;
  // Legacy prefixes, then (64-bit mode) REX, which must immediately precede the opcode.
  for (;;) {
    if (pos >= 15) return fail(insn, hooks, DECODE_TOO_LONG, pos);
    b = src.byte(pos++);
    switch (b) {
      case 0x66: insn.prefix66 = true; rex = 0; continue;
      case 0x67: insn.prefix67 = true; rex = 0; continue;
      case 0xf0: insn.lock = true; rex = 0; continue;
      case 0xf2: case 0xf3: lastRep = b; rex = 0; continue;
      case 0x26: seg = 0; rex = 0; continue;
      case 0x2e: seg = 1; rex = 0; continue;
      case 0x36: seg = 2; rex = 0; continue;
      case 0x3e: seg = 3; rex = 0; continue;
      case 0x64: seg = 4; rex = 0; continue;
      case 0x65: seg = 5; rex = 0; continue;
    }
    if (is64 && (b & 0xf0) === 0x40) { rex = b; continue; }
    break;
  }
  // VEX prefix (C4 three-byte, C5 two-byte). In 64-bit mode C4/C5 always start one;
  // elsewhere only when the next byte looks like ModRM.mod = 11, else they are LES/LDS.
  // VEX.R/X/B/W are folded into `rex` (W only in 64-bit mode, where it sizes y operands).
  let vexMap = MAP_1;
  let vexPfx = PFX_NP;
  let vexW = 0;
  let vvvv = 0;
  if ((b & 0xfe) === 0xc4 && (is64 || (src.byte(pos) & 0xc0) === 0xc0)) {
    // 66, F2, F3, LOCK or REX before VEX is #UD.
    if (rex !== 0 || insn.prefix66 || lastRep !== 0 || insn.lock) return fail(insn, hooks, DECODE_UD, pos);
    const b1 = src.byte(pos++);
    let last = b1; // the byte holding W vvvv L pp
    let rxb = (~b1 >> 5) & 4; // R
    if (b === 0xc4) {
      rxb |= (~b1 >> 5) & 3; // X, B
      const mmmmm = b1 & 0x1f;
      if (mmmmm < 1 || mmmmm > 3) return fail(insn, hooks, DECODE_UD, pos);
      vexMap = mmmmm; // 1 = 0F, 2 = 0F 38, 3 = 0F 3A: the MAP_* numbering
      last = src.byte(pos++);
      vexW = last >> 7;
    } else {
      vexMap = MAP_0F;
    }
    vvvv = (~last >> 3) & 15;
    insn.vex = true;
    insn.vexL = (last >> 2) & 1;
    vexPfx = last & 3; // 0 none, 1 66, 2 F3, 3 F2: the PFX_* numbering
    rex = is64 ? 0x40 | (vexW << 3) | rxb : 0;
    b = src.byte(pos++);
  }
  insn.rex = insn.vex ? 0 : rex;
  const rexW = (rex & 8) !== 0;
  const rexR = (rex & 4) << 1; // → 8
  const rexX = (rex & 2) << 2;
  const rexB = (rex & 1) << 3;

  let map = vexMap;
  if (b === 0x0f && !insn.vex) {
    map = MAP_0F;
    b = src.byte(pos++);
    if (b === 0x38) { map = MAP_0F38; b = src.byte(pos++); }
    else if (b === 0x3a) { map = MAP_0F3A; b = src.byte(pos++); }
  }
  const opcode = b;
  const slot = (insn.vex ? vexSlots : slots)[map * 256 + opcode];
  if (!slot) return fail(insn, hooks, DECODE_UD, pos);

  // Mandatory prefix: F2/F3 (last wins) take precedence over 66, and only count
  // as mandatory when a row of this opcode uses them.
  let pfx = PFX_NP;
  if (insn.vex) pfx = vexPfx;
  else if (lastRep === 0xf3 && (slot.prefixMask & (1 << PFX_F3))) pfx = PFX_F3;
  else if (lastRep === 0xf2 && (slot.prefixMask & (1 << PFX_F2))) pfx = PFX_F2;
  else if (insn.prefix66 && (slot.prefixMask & (1 << PFX_66))) pfx = PFX_66;

  let modrm = -1;
  let mod = 0;
  let regField = 0;
  let rmField = 0;
  if (slot.hasModrm) {
    modrm = src.byte(pos++);
    mod = modrm >> 6;
    regField = (modrm >> 3) & 7;
    rmField = modrm & 7;
  }
  insn.modrm = modrm;

  // Select the row. A VEX row checks the VEX.W bit itself (it is ignored only for sizing).
  const wBit = insn.vex ? vexW === 1 : rexW;
  let row: OpRow | null = null;
  for (let k = 0; k < slot.rows.length; k++) {
    const r = slot.rows[k]!;
    if (r.prefix !== pfx) continue;
    if (r.modrm === MODRM_DIGIT && r.digit !== regField) continue;
    if (r.form === FORM_REG && mod !== 3) continue;
    if (r.form === FORM_MEM && mod === 3) continue;
    if (r.fixedModrm >= 0 && r.fixedModrm !== modrm) continue;
    if (r.rexW === 1 && !wBit) continue;
    if (r.rexW === 0 && wBit) continue;
    if (r.vexL >= 0 && r.vexL !== insn.vexL) continue;
    if (r.mode64 === "o64" && !is64) continue;
    if (r.mode64 === "i64" && is64) continue;
    // A fixed-ModRM row beats a generic one for the same digit: keep looking if generic.
    if (row !== null && row.fixedModrm >= 0) continue;
    row = r;
    if (r.fixedModrm >= 0) break;
  }
  if (row === null) return fail(insn, hooks, DECODE_UD, pos);
  insn.row = row;
  if (insn.vex) {
    // VEX.vvvv must be 1111b unless the row has a vvvv operand; outside 64-bit mode
    // its top bit is ignored when it names a register.
    if (vvvv !== 0 && !usesVvvv(row)) return fail(insn, hooks, DECODE_UD, pos);
    insn.vvvv = is64 ? vvvv : vvvv & 7;
  }

  // A mandatory 66 does not change the operand size; a mandatory F2/F3 is not a REP.
  const sizePrefix66 = insn.prefix66 && pfx !== PFX_66;
  if (lastRep !== 0 && !(pfx === PFX_F3 || pfx === PFX_F2)) insn.rep = lastRep === 0xf3 ? REP_E : REP_NE;

  // Operand size for v/z/y operands.
  const defOp = mode === MODE_16 ? 2 : 4;
  let vsize: number;
  if (rexW) vsize = 8;
  else if (is64 && row.mode64 === "f64") vsize = 8;
  else if (sizePrefix66) vsize = defOp === 2 ? 4 : 2;
  else if (is64 && row.mode64 === "d64") vsize = 8;
  else vsize = defOp;
  insn.opsize = rowOperandSize(row, vsize, rexW);

  // Address size.
  if (is64) insn.adsize = insn.prefix67 ? 4 : 8;
  else if (mode === MODE_16) insn.adsize = insn.prefix67 ? 4 : 2;
  else insn.adsize = insn.prefix67 ? 2 : 4;

  // ModRM operands.
  if (modrm >= 0) {
    insn.reg = regField | rexR;
    if (mod === 3) {
      insn.rm = rmField | rexB;
    } else {
      insn.isMem = true;
      pos = decodeMemory(src, pos, mod, rmField, insn, rexX, rexB, is64);
    }
  } else if (row.plusReg) {
    insn.reg = (opcode & 7) | rexB;
  }

  // Byte-register operands: without REX, ids 4..7 mean AH, CH, DH, BH.
  for (const o of row.operands) {
    if (o.size !== "b") continue;
    if (o.method === "G" || o.method === "Z") insn.reg = byteReg(insn.reg, rex);
    else if (o.method === "E" && !insn.isMem) insn.rm = byteReg(insn.rm, rex);
  }

  // Segment: default DS, or SS for rSP/rBP-based addressing; an override replaces it.
  if (seg >= 0) { insn.seg = seg; insn.segOverride = true; }
  else insn.seg = insn.isMem && (insn.base === 4 || insn.base === 5) && !insn.ripRel ? SEG_SS : SEG_DS;
  if (insn.adsize === 2 && insn.isMem && seg < 0) insn.seg = insn.base === 5 ? SEG_SS : SEG_DS; // [bp+...] uses SS

  // Immediates, relative offsets, moffs and far pointers, in operand order.
  for (const o of row.operands) {
    pos = decodeImmediate(src, pos, o, insn, vsize);
  }
  if (pos > 15) return fail(insn, hooks, DECODE_TOO_LONG, pos);

  // LOCK is only valid on a lockable row with a memory destination.
  if (insn.lock && !(row.lock && insn.isMem)) return fail(insn, hooks, DECODE_UD, pos);

  insn.len = pos;
  let exec = row.pick ? row.pick(insn) : row.exec!;
  if (row.cpl0) exec = hooks.privileged(exec);
  insn.exec = exec;
  return insn;
}

function fail(insn: Insn, hooks: DecodeHooks, status: number, pos: number): Insn {
  decodeInfo.status = status;
  insn.len = pos;
  insn.exec = status === DECODE_TOO_LONG ? hooks.tooLong : hooks.invalid;
  return insn;
}

function usesVvvv(row: OpRow): boolean {
  for (const o of row.operands) if (o.method === "B") return true;
  return false;
}

function byteReg(n: number, rex: number): number {
  return rex === 0 && n >= 4 && n < 8 ? R8_HIGH_BASE + (n - 4) : n;
}

/** The operand size a row's handler sees: v/z resolved, or the row's fixed size. */
function rowOperandSize(row: OpRow, vsize: number, rexW: boolean): number {
  let first = "";
  for (const o of row.operands) {
    if (o.size === "v" || o.size === "z") return vsize;
    if (o.size === "y") return rexW ? 8 : 4;
    if (first === "" && o.method !== "I") first = o.size;
  }
  switch (first) {
    case "b": return 1;
    case "w": return 2;
    case "d": return 4;
    case "q": return 8;
  }
  return vsize;
}

/** Reads ModRM memory addressing (SIB, displacement) for the insn's address size. */
function decodeMemory(src: CodeSource, pos: number, mod: number, rm: number, insn: Insn, rexX: number, rexB: number, is64: boolean): number {
  const adsize = is64 ? (insn.prefix67 ? 4 : 8) : modeAdsize(insn);
  if (adsize === 2) {
    // 16-bit addressing: fixed base/index pairs.
    const bases = [3, 3, 5, 5, 6, 7, 5, 3]; // BX, BX, BP, BP, SI, DI, BP, BX
    const idx = [6, 7, 6, 7, NO_REG, NO_REG, NO_REG, NO_REG]; // SI, DI, SI, DI
    if (mod === 0 && rm === 6) {
      const d = src.byte(pos) | (src.byte(pos + 1) << 8);
      insn.dispLo = (d << 16) >> 16;
      insn.dispHi = insn.dispLo >> 31;
      return pos + 2;
    }
    insn.base = bases[rm]!;
    insn.index = idx[rm]!;
    if (mod === 1) { insn.dispLo = (src.byte(pos) << 24) >> 24; pos += 1; }
    else if (mod === 2) { insn.dispLo = ((src.byte(pos) | (src.byte(pos + 1) << 8)) << 16) >> 16; pos += 2; }
    insn.dispHi = insn.dispLo >> 31;
    return pos;
  }
  let baseField = rm;
  if (rm === 4) {
    const sib = src.byte(pos++);
    insn.scale = sib >> 6;
    const index = ((sib >> 3) & 7) | rexX;
    insn.index = index === 4 ? NO_REG : index;
    baseField = sib & 7;
    if (baseField === 5 && mod === 0) {
      insn.base = NO_REG;
      pos = readDisp32(src, pos, insn);
      return pos;
    }
    insn.base = baseField | rexB;
  } else if (rm === 5 && mod === 0) {
    // disp32: RIP-relative in 64-bit mode, absolute otherwise.
    if (is64) insn.ripRel = true;
    pos = readDisp32(src, pos, insn);
    return pos;
  } else {
    insn.base = rm | rexB;
  }
  if (mod === 1) {
    insn.dispLo = (src.byte(pos++) << 24) >> 24;
    insn.dispHi = insn.dispLo >> 31;
  } else if (mod === 2) {
    pos = readDisp32(src, pos, insn);
  }
  return pos;
}

function modeAdsize(insn: Insn): number {
  if (insn.mode === MODE_16) return insn.prefix67 ? 4 : 2;
  return insn.prefix67 ? 2 : 4;
}

function readDisp32(src: CodeSource, pos: number, insn: Insn): number {
  insn.dispLo = src.byte(pos) | (src.byte(pos + 1) << 8) | (src.byte(pos + 2) << 16) | (src.byte(pos + 3) << 24);
  insn.dispHi = insn.dispLo >> 31;
  return pos + 4;
}

function readLE(src: CodeSource, pos: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) v |= src.byte(pos + k) << (8 * k);
  return v;
}

function decodeImmediate(src: CodeSource, pos: number, o: OperandSpec, insn: Insn, vsize: number): number {
  switch (o.method) {
    case "I": {
      // Second immediate (ENTER Iw,Ib): goes to imm2.
      const second = insn.row!.operands.indexOf(o) > 0 && insn.row!.operands[0]!.method === "I";
      let n: number;
      switch (o.size) {
        case "b": n = 1; break;
        case "w": n = 2; break;
        case "z": n = vsize === 2 ? 2 : 4; break;
        case "v": n = vsize; break;
        case "d": n = 4; break;
        case "q": n = 8; break;
        default: n = 4;
      }
      if (second) { insn.imm2 = readLE(src, pos, n); return pos + n; }
      if (n === 8) {
        insn.immLo = readLE(src, pos, 4);
        insn.immHi = readLE(src, pos + 4, 4);
      } else if (n === 1) {
        insn.immLo = (src.byte(pos) << 24) >> 24; // sign-extended; users mask when zero-extension is meant
        insn.immHi = insn.immLo >> 31;
      } else if (n === 2) {
        const v = readLE(src, pos, 2);
        insn.immLo = o.size === "w" ? v : (v << 16) >> 16;
        insn.immHi = insn.immLo >> 31;
      } else {
        insn.immLo = readLE(src, pos, 4);
        insn.immHi = insn.immLo >> 31;
      }
      return pos + n;
    }
    case "J": {
      const n = o.size === "b" ? 1 : vsize === 2 ? 2 : 4;
      const v = readLE(src, pos, n);
      insn.immLo = n === 1 ? (v << 24) >> 24 : n === 2 ? (v << 16) >> 16 : v;
      insn.immHi = insn.immLo >> 31;
      return pos + n;
    }
    case "O": {
      // moffs: an absolute address of address-size width, treated as a memory operand.
      insn.isMem = true;
      const n = insn.adsize;
      if (n === 8) {
        insn.dispLo = readLE(src, pos, 4);
        insn.dispHi = readLE(src, pos + 4, 4);
      } else {
        insn.dispLo = n === 2 ? readLE(src, pos, 2) : readLE(src, pos, 4);
        insn.dispHi = 0;
      }
      return pos + n;
    }
    case "A": {
      const n = vsize === 2 ? 2 : 4;
      insn.immLo = readLE(src, pos, n);
      if (n === 2) insn.immLo &= 0xffff;
      insn.immHi = 0;
      insn.imm2 = readLE(src, pos + n, 2) & 0xffff;
      return pos + n + 2;
    }
  }
  return pos;
}

/** Exposed for the disassembler and tests: which maps exist. */
export const OPCODE_MAPS = { MAP_1, MAP_0F, MAP_0F38, MAP_0F3A } as const;
export { FORM_MEM, FORM_REG, PFX_66, PFX_F2, PFX_F3, PFX_NP };
