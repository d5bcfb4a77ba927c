// Random instructions for the assembler's property tests: for a table-derived
// form and an operand size, operands that the form accepts (registers of the
// right class and width, memory with every addressing shape, immediates that
// fit), from a seeded generator so failures reproduce.
import { specSize } from "../../src/toolchain/x64/encode.js";
import { allForms, opSizes, type Form } from "../../src/toolchain/x64/forms.js";
import { num, type Mem, type Operand } from "../../src/toolchain/x64/operands.js";
import { byteRegById, controlReg, debugReg, gpr, ipReg, registerByName, segReg, xmmReg, type Register } from "../../src/toolchain/x64/registers.js";

export type Bits = 16 | 32 | 64;

/** xorshift32: small, seeded, reproducible. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.next() % n; }
  chance(p: number): boolean { return this.next() / 4294967296 < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
}

function regCount(bits: Bits): number {
  return bits === 64 ? 16 : 8;
}

function randomGpr(rng: Rng, size: number, bits: Bits): Register {
  if (size === 1) {
    // Byte registers: AH..BH only outside 64-bit mode or sometimes (REX conflicts are retried by callers).
    if (bits !== 64 || rng.chance(0.15)) return byteRegById(rng.chance(0.5) ? 16 + rng.int(4) : rng.int(4));
    return byteRegById(rng.int(16));
  }
  return gpr(rng.int(regCount(bits)), size);
}

function randomDisp(rng: Rng, forceWide = false): bigint {
  const r = rng.int(forceWide ? 2 : 5);
  if (r === 0) return BigInt(rng.next() | 0);
  if (r === 1) return BigInt((rng.next() & 0xffff) - 0x8000);
  if (r === 2) return 0n;
  return BigInt(rng.int(256) - 128);
}

/** A random memory operand of `size` bytes (0 = unsized) for code of `bits`. */
export function randomMem(rng: Rng, size: number, bits: Bits, allowRip = true): Mem {
  let adsize = bits === 64 ? 8 : bits === 32 ? 4 : 2;
  if (rng.chance(0.1)) adsize = bits === 64 ? 4 : bits === 32 ? 2 : 4;
  if (adsize === 4 && bits === 16) adsize = 2;
  const seg = rng.chance(0.1) ? segReg(rng.pick([0, 1, 2, 3, 4, 5])) : null;
  if (adsize === 2) {
    const shapes: [string | null, string | null][] = [["bx", "si"], ["bx", "di"], ["bp", "si"], ["bp", "di"], ["si", null], ["di", null], ["bp", null], ["bx", null], [null, null]];
    const [b, i] = rng.pick(shapes);
    const disp = b === null ? BigInt(rng.int(0x10000)) : rng.chance(0.5) ? 0n : BigInt(rng.int(0x100) - 0x80);
    return { kind: "mem", size, seg, base: b ? registerByName(b)! : null, index: i ? registerByName(i)! : null, scale: 1, disp: num(disp) };
  }
  const shape = rng.int(allowRip && bits === 64 ? 7 : 6);
  const n = regCount(bits);
  const reg = () => gpr(rng.int(n), adsize);
  const index = () => { let r; do r = rng.int(n); while (r === 4); return gpr(r, adsize); };
  const scale = rng.pick([1, 2, 4, 8] as const);
  switch (shape) {
    case 0: return { kind: "mem", size, seg, base: reg(), index: null, scale: 1, disp: num(0) };
    case 1: case 2: return { kind: "mem", size, seg, base: reg(), index: null, scale: 1, disp: num(randomDisp(rng)) };
    case 3: return { kind: "mem", size, seg, base: reg(), index: index(), scale, disp: num(randomDisp(rng)) };
    case 4: return { kind: "mem", size, seg, base: null, index: index(), scale, disp: num(randomDisp(rng, true)) };
    case 5: {
      // An absolute address: its width is the mode's default address size (the text has no registers to say otherwise).
      const abs = bits === 64 ? rng.next() & 0x7fffffff : bits === 32 ? rng.next() : rng.next() & 0xffff;
      return { kind: "mem", size, seg, base: null, index: null, scale: 1, disp: num(BigInt(abs)) };
    }
    default: return { kind: "mem", size, seg, base: ipReg(adsize), index: null, scale: 1, disp: num(randomDisp(rng)) };
  }
}

function immRange(width: number, ext: number): [bigint, bigint] {
  const wb = BigInt(width * 8);
  if (ext > width) return [-(1n << (wb - 1n)), (1n << (wb - 1n)) - 1n];
  return [0n, (1n << wb) - 1n];
}

function randomImm(rng: Rng, width: number, ext: number): bigint {
  const [lo, hi] = immRange(width, ext);
  const r = rng.int(6);
  if (r === 0) return 0n;
  if (r === 1) return 1n;
  if (r === 2) return lo;
  if (r === 3) return hi;
  let v = 0n;
  for (let k = 0; k < width; k++) v = (v << 8n) | BigInt(rng.int(256));
  return lo + (v % (hi - lo + 1n));
}

/** Random operands accepted by `form` at operand size S, or null when the form has none to give. */
export function randomOperands(rng: Rng, form: Form, S: number, bits: Bits, origin: bigint): Operand[] | null {
  if (form.xchgNop) return [];
  if (form.implicit && rng.chance(0.7)) return [];
  const row = form.row;
  const ops: Operand[] = [];
  for (let k = 0; k < form.ops.length; k++) {
    const spec = form.ops[k]!;
    const size = spec.size === "x" || spec.size === "s" || spec.size === "e" ? 0 : specSize(spec.size, S, bits);
    const memOnly = row.form === 2;
    const regOnly = row.form === 1;
    if (form.split !== null && form.split[0] === k) {
      // A register whose width is the operand size must be S wide; otherwise any accepted width.
      const widths = form.split[3] ? [S] : form.split[1].filter((w) => w !== 8 || bits === 64);
      ops.push(!regOnly && (memOnly || rng.chance(0.5)) ? randomMem(rng, form.split[2], bits) : gpr(rng.int(regCount(bits)), rng.pick(widths)));
      continue;
    }
    switch (spec.method) {
      case "E":
        ops.push(!regOnly && (memOnly || rng.chance(0.5)) ? randomMem(rng, size, bits) : randomGpr(rng, size, bits));
        break;
      case "M": ops.push(randomMem(rng, size, bits)); break;
      case "G": case "R": case "Z": case "B":
        ops.push(size === 1 ? randomGpr(rng, 1, bits) : gpr(rng.int(regCount(bits)), size));
        break;
      case "V": case "U": ops.push(xmmReg(rng.int(regCount(bits)))); break;
      case "W": ops.push(!regOnly && (memOnly || rng.chance(0.5)) ? randomMem(rng, size, bits) : xmmReg(rng.int(regCount(bits)))); break;
      case "C": ops.push(controlReg(rng.pick(bits === 64 ? [0, 2, 3, 4, 8] : [0, 2, 3, 4]))); break;
      case "D": ops.push(debugReg(rng.pick([0, 1, 2, 3, 6, 7]))); break;
      case "S": ops.push(segReg(k === 0 ? rng.pick([0, 2, 3, 4, 5]) : rng.int(6))); break;
      case "I": {
        let width: number;
        switch (spec.size) {
          case "b": width = 1; break;
          case "w": width = 2; break;
          case "d": width = 4; break;
          case "q": width = 8; break;
          case "z": width = S === 2 ? 2 : 4; break;
          default: width = S;
        }
        const ext = spec.size === "b" && form.sxImm8 ? S : spec.size === "z" && S === 8 ? 8 : width;
        ops.push({ kind: "imm", expr: num(randomImm(rng, width, ext)) });
        break;
      }
      case "J": {
        const span = spec.size === "b" ? 60 : bits === 16 ? 0x800 : 0x100000;
        ops.push({ kind: "imm", expr: num(origin + BigInt(rng.int(2 * span) - span + 0x20)) });
        break;
      }
      case "O":
        ops.push({ kind: "mem", size, seg: rng.chance(0.2) ? segReg(4) : null, base: null, index: null, scale: 1, disp: num(bits === 64 ? BigInt(rng.next()) << 20n : bits === 32 ? BigInt(rng.next()) : BigInt(rng.next() & 0xffff)) });
        break;
      case "A":
        // A far pointer does not show the operand size: the assembler uses the mode's default.
        ops.push({ kind: "far", sel: num(BigInt(rng.int(0x10000))), off: num(BigInt(bits === 16 || S === 2 ? rng.int(0x10000) : rng.next())) });
        break;
      case "X": case "Y": {
        const ad = bits === 64 ? 8 : bits === 32 ? 4 : 2;
        const seg = spec.method === "Y" ? (rng.chance(0.5) ? segReg(0) : null) : null;
        ops.push({ kind: "mem", size, seg, base: gpr(spec.method === "X" ? 6 : 7, ad), index: null, scale: 1, disp: num(0) });
        break;
      }
      case "fixed": {
        const f = spec.fixed!;
        if (f === "1") { ops.push({ kind: "imm", expr: num(1) }); break; }
        const r = /^[er][A-Z]{2}$/.test(f) ? gpr(registerByName(f.slice(1).toLowerCase())!.num, S) : registerByName(f.toLowerCase());
        if (r === undefined) return null;
        ops.push(r);
        break;
      }
      default:
        return null;
    }
  }
  return ops;
}

/** Every (form, operand size) pair valid in a mode. */
export function formSizes(bits: Bits): [Form, number][] {
  const out: [Form, number][] = [];
  for (const f of allForms()) for (const S of opSizes(f, bits)) out.push([f, S]);
  return out;
}
