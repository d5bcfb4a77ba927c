// Integer-family checks beyond the conformance vectors: VEX prefix decoding
// (including the #UD rules and the LES/LDS aliasing outside 64-bit mode) and the
// BigInt-free 64-bit helpers in int64.ts, cross-checked against BigInt here.
import { describe, expect, it } from "vitest";
import "../src/emulator/cpu/ops/index.js";
import { decode, decodeInfo, DECODE_OK, DECODE_UD } from "../src/emulator/cpu/decode.js";
import { Insn, MODE_32, MODE_64 } from "../src/emulator/cpu/insn.js";
import { divS128, divU128, mulS32, mulS64, mulU32, mulU64, sar64, shl64, shr64, wide } from "../src/emulator/cpu/int64.js";

function dec(hex: string, mode = MODE_64): Insn {
  const bytes = hex.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16));
  return decode({ byte: (o) => bytes[o] ?? 0x90 }, mode, new Insn());
}

describe("VEX decoding", () => {
  it("decodes a three-byte VEX BMI instruction with vvvv, W and L", () => {
    const i = dec("C4 E2 70 F2 C3"); // andn eax, ecx, ebx
    expect(decodeInfo.status).toBe(DECODE_OK);
    expect(i.row?.m).toBe("andn");
    expect(i.vex).toBe(true);
    expect(i.rex).toBe(0);
    expect([i.reg, i.vvvv, i.rm, i.opsize, i.len]).toEqual([0, 1, 3, 4, 5]);
    const w = dec("C4 E2 F0 F2 C3"); // andn rax, rcx, rbx (W1)
    expect(w.opsize).toBe(8);
  });

  it("takes R and B from the inverted VEX bits and vvvv up to 15 in 64-bit mode", () => {
    const i = dec("C4 42 00 F2 C3"); // andn r8d, r15d, r11d
    expect(decodeInfo.status).toBe(DECODE_OK);
    expect([i.reg, i.vvvv, i.rm]).toEqual([8, 15, 11]);
  });

  it("uses pp as the implied prefix and mmmmm as the map", () => {
    expect(dec("C4 E2 73 F5 C3").row?.m).toBe("pdep"); // F2
    expect(dec("C4 E2 72 F5 C3").row?.m).toBe("pext"); // F3
    expect(dec("C4 E2 70 F5 C3").row?.m).toBe("bzhi"); // none
    expect(dec("C4 E2 71 F7 C3").row?.m).toBe("shlx"); // 66
    const rorx = dec("C4 E3 7B F0 C1 05"); // rorx eax, ecx, 5 (map 0F3A, immediate)
    expect(rorx.row?.m).toBe("rorx");
    expect([rorx.immLo, rorx.len]).toEqual([5, 6]);
    expect(dec("C4 E2 70 F3 CB").row?.m).toBe("blsr"); // ModRM.reg = 1 selects the group member
  });

  it("raises #UD for invalid VEX forms", () => {
    const ud = (hex: string, mode = MODE_64) => {
      dec(hex, mode);
      return decodeInfo.status;
    };
    expect(ud("C4 E2 74 F2 C3")).toBe(DECODE_UD); // VEX.L = 1 on an LZ row
    expect(ud("C4 E3 73 F0 C1 05")).toBe(DECODE_UD); // rorx with vvvv != 1111b
    expect(ud("C4 E2 78 F3 C3")).toBe(DECODE_UD); // BMI group F3 /0 does not exist
    expect(ud("C4 E0 70 F2 C3")).toBe(DECODE_UD); // mmmmm = 0 (reserved)
    expect(ud("C4 E4 70 F2 C3")).toBe(DECODE_UD); // mmmmm = 4 (reserved)
    expect(ud("66 C4 E2 70 F2 C3")).toBe(DECODE_UD); // 66 before VEX
    expect(ud("F3 C4 E2 70 F2 C3")).toBe(DECODE_UD); // F3 before VEX
    expect(ud("F0 C4 E2 70 F2 03")).toBe(DECODE_UD); // LOCK before VEX
    expect(ud("48 C4 E2 70 F2 C3")).toBe(DECODE_UD); // REX before VEX
    expect(ud("C5 F8 F2 C3")).toBe(DECODE_UD); // two-byte VEX implies map 0F: no BMI there
    // Segment overrides and 67 may precede VEX.
    expect(ud("65 67 C4 E2 70 F2 03")).toBe(DECODE_OK);
  });

  it("outside 64-bit mode, C4/C5 are VEX only when the next byte has its top bits set", () => {
    const v = dec("C4 E2 F0 F2 C3", MODE_32); // andn eax, ecx, ebx: W1 is ignored for size
    expect(decodeInfo.status).toBe(DECODE_OK);
    expect(v.vex).toBe(true);
    expect([v.row?.m, v.opsize, v.vvvv]).toEqual(["andn", 4, 1]);
    // VEX.vvvv's top bit is ignored when it names a register (vvvv = 1111b → 7).
    expect(dec("C4 E2 00 F2 C3", MODE_32).vvvv).toBe(7);
    // Next byte with mod != 11: LES, never VEX (whatever the table says about LES itself).
    expect(dec("C4 02 70 F2 C3", MODE_32).vex).toBe(false);
    // In 64-bit mode the same bytes are VEX, with R, X and B set: andn r8d, ecx, r11d.
    const v64 = dec("C4 02 70 F2 C3");
    expect([v64.vex, v64.row?.m, v64.reg, v64.rm]).toEqual([true, "andn", 8, 11]);
  });
});

// ---- int64.ts against BigInt --------------------------------------------------------

const M64 = (1n << 64n) - 1n;
let seed = 12345;
function rand16(): bigint {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return BigInt(seed >>> 16);
}
const EDGES = [0n, 1n, 2n, M64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x100000000n, 0x7fffffffn, 0x80000000n];
function rand64(k: number): bigint {
  if (k % 5 === 0) return EDGES[Number(rand16()) % EDGES.length]!;
  let v = 0n;
  for (let n = 0; n < 4; n++) v = (v << 16n) | rand16();
  return k % 5 === 1 ? v >> (rand16() % 64n) : v;
}
const lo = (v: bigint) => Number(BigInt.asIntN(32, v));
const hi = (v: bigint) => Number(BigInt.asIntN(32, v >> 32n));
const u64 = (l: number, h: number) => (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
const wide128 = () => (u64(wide.w2, wide.w3) << 64n) | u64(wide.w0, wide.w1);

describe("int64 helpers", () => {
  it("multiply 32x32 and 64x64 exactly, signed and unsigned", () => {
    for (let k = 0; k < 3000; k++) {
      const a = rand64(k), b = rand64(k + 2);
      mulU64(lo(a), hi(a), lo(b), hi(b));
      expect(wide128()).toBe(a * b);
      mulS64(lo(a), hi(a), lo(b), hi(b));
      expect(wide128()).toBe(BigInt.asUintN(128, BigInt.asIntN(64, a) * BigInt.asIntN(64, b)));
      const a32 = lo(a), b32 = lo(b);
      const u = mulU32(a32, b32);
      expect(u64(u, wide.hi)).toBe(BigInt(a32 >>> 0) * BigInt(b32 >>> 0));
      const s = mulS32(a32, b32);
      expect(u64(s, wide.hi)).toBe(BigInt.asUintN(64, BigInt(a32) * BigInt(b32)));
    }
  });

  it("divide 128/64 with the #DE conditions of DIV and IDIV", () => {
    for (let k = 0; k < 3000; k++) {
      const d = rand64(k + 1);
      let h = rand64(k + 3);
      if (k % 3 !== 0 && d !== 0n) h %= d; // mostly quotients that fit
      const l = rand64(k + 4);
      const n = (h << 64n) | l;
      const ok = divU128(lo(l), hi(l), lo(h), hi(h), lo(d), hi(d));
      expect(ok).toBe(d !== 0n && n / d <= M64);
      if (ok) {
        expect(u64(wide.w0, wide.w1)).toBe(n / d);
        expect(u64(wide.w2, wide.w3)).toBe(n % d);
      }
      // Signed: a sign-extended dividend half the time, so most quotients fit.
      const hs = k % 2 === 0 ? (BigInt.asIntN(64, l) < 0n ? M64 : 0n) : h;
      const ns = BigInt.asIntN(128, (hs << 64n) | l), ds = BigInt.asIntN(64, d);
      const oks = divS128(lo(l), hi(l), lo(hs), hi(hs), lo(d), hi(d));
      const fits = ds !== 0n && ns / ds >= -(1n << 63n) && ns / ds < 1n << 63n;
      expect(oks).toBe(fits);
      if (oks) {
        expect(BigInt.asIntN(64, u64(wide.w0, wide.w1))).toBe(ns / ds);
        expect(BigInt.asIntN(64, u64(wide.w2, wide.w3))).toBe(ns % ds);
      }
    }
    // INT64_MIN / -1 overflows; a quotient of exactly INT64_MIN does not.
    expect(divS128(0, 0x80000000 | 0, -1, -1, -1, -1)).toBe(false);
    expect(divS128(0, 0x80000000 | 0, -1, -1, 1, 0)).toBe(true);
    expect(u64(wide.w0, wide.w1)).toBe(1n << 63n);
  });

  it("shift 64-bit values by 0..64", () => {
    for (let k = 0; k < 1000; k++) {
      const a = rand64(k);
      const c = k % 65;
      expect(u64(shl64(lo(a), hi(a), c), wide.hi)).toBe((a << BigInt(c)) & M64);
      expect(u64(shr64(lo(a), hi(a), c), wide.hi)).toBe(a >> BigInt(c));
      expect(u64(sar64(lo(a), hi(a), c), wide.hi)).toBe(BigInt.asUintN(64, BigInt.asIntN(64, a) >> BigInt(c)));
    }
  });
});
