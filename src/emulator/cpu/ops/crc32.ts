// CRC32 (SSE4.2, F2 0F 38 F0/F1): accumulates the CRC-32C (Castagnoli)
// checksum of a byte/word/dword/qword source into a 32-bit general register.
// It works on general registers only, so it lives apart from the SSE files.
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { defineRows } from "../table.js";
import { readE } from "./operands.js";

/** Reflected CRC-32C polynomial, as the instruction defines it (bit-reversed 0x1EDC6F41). */
const POLY = 0x82f63b78;

/** One table step per byte: the standard reflected table for POLY. */
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}

function crcBytes(crc: number, value: number, bytes: number): number {
  for (let k = 0; k < bytes; k++) {
    crc = TABLE[(crc ^ (value >>> (8 * k))) & 0xff]! ^ (crc >>> 8);
  }
  return crc;
}

/** Source width: 1 for F0; for F1, 2 with a 66 prefix, 8 with REX.W, else 4. */
function sourceSize(i: Insn): number {
  if (i.row!.opcode === 0xf0) return 1;
  if ((i.rex & 8) !== 0) return 8;
  return i.prefix66 ? 2 : 4;
}

function crc32(cpu: Cpu, i: Insn): void {
  const size = sourceSize(i);
  const lo = readE(cpu, i, size);
  const hi = cpu.rhi;
  let crc = cpu.r[i.reg << 1]!;
  if (size === 8) {
    crc = crcBytes(crc, lo, 4);
    crc = crcBytes(crc, hi, 4);
  } else {
    crc = crcBytes(crc, lo, size);
  }
  // The destination is 32 bits wide (a 64-bit destination gets the CRC zero-extended).
  cpu.r[i.reg << 1] = crc;
  cpu.r[(i.reg << 1) + 1] = 0;
}

defineRows("crc32", [
  { m: "crc32", op: "F2 0F 38 F0 /r", args: "Gy,Eb", exec: crc32, feature: "sse4_2" },
  { m: "crc32", op: "F2 0F 38 F1 /r", args: "Gy,Ev", exec: crc32, feature: "sse4_2" },
]);
