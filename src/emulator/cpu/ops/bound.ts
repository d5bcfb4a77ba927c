// BOUND (62 /r, outside 64-bit mode): checks a signed array index against a
// pair of bounds in memory and raises #BR (a fault: RIP stays at BOUND) when it
// lies outside them. In 64-bit mode 62 is the EVEX prefix, so the row is i64;
// the register form (mod = 11) is EVEX too and has no row (#UD).
import type { Cpu } from "../cpu.js";
import { EXC_BR } from "../fault.js";
import type { Insn } from "../insn.js";
import { defineRows } from "../table.js";

function bound(cpu: Cpu, i: Insn): void {
  const size = i.opsize; // 2 or 4: the bounds are a pair of operand-size values
  cpu.ea(i, size * 2);
  const at = cpu.eaLo;
  let index: number, lower: number, upper: number;
  if (size === 2) {
    index = (cpu.r[i.reg << 1]! << 16) >> 16;
    lower = (cpu.read16(at, 0) << 16) >> 16;
    upper = (cpu.read16((at + 2) | 0, 0) << 16) >> 16;
  } else {
    index = cpu.r[i.reg << 1]!;
    lower = cpu.read32(at, 0);
    upper = cpu.read32((at + 4) | 0, 0);
  }
  if (index < lower || index > upper) cpu.fault(EXC_BR);
}

defineRows("bound", [
  { m: "bound", op: "62 /r mem", args: "Gv,Mx", exec: bound, mode64: "i64" },
]);
