// Conditional data instructions: SETcc (byte store of a condition) and CMOVcc
// (conditional register load), all 16 conditions. Jcc lives in branch.ts.
// Both only read flags; handlers are specialised per condition at module load.
import type { Cpu } from "../cpu.js";
import { testCondition } from "../flags.js";
import type { ExecFn, Insn } from "../insn.js";
import { CONDITION_NAMES, defineRows, type RowSpec } from "../table.js";
import { readE, writeE } from "./operands.js";

/** Flags read by condition cc (documentation in the rows). */
const CONDITION_FLAGS = ["o", "o", "c", "c", "z", "z", "cz", "cz", "s", "s", "p", "p", "so", "so", "szo", "szo"];

function setcc(cc: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    writeE(cpu, i, 1, testCondition(cpu, cc) ? 1 : 0);
  };
}

/**
 * CMOVcc reads its source even when the condition is false (a memory source can
 * fault either way), and a 32-bit destination is zero-extended either way.
 */
function cmovcc(cc: number): ExecFn {
  return (cpu: Cpu, i: Insn) => {
    const size = i.opsize;
    const lo = readE(cpu, i, size);
    const k = i.reg << 1;
    if (testCondition(cpu, cc)) {
      cpu.setReg(i.reg, size, lo, cpu.rhi);
    } else if (size === 4) {
      cpu.r[k + 1] = 0;
    }
  };
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const rows: RowSpec[] = [];
CONDITION_NAMES.forEach((name, cc) => {
  const flags = `r:${CONDITION_FLAGS[cc]}`;
  // SETcc ignores ModRM.reg; "/r" only says that a ModRM byte follows.
  rows.push({ m: `set${name}`, op: `0F ${hex(0x90 + cc)} /r`, args: "Eb", exec: setcc(cc), flags });
  rows.push({ m: `cmov${name}`, op: `0F ${hex(0x40 + cc)} /r`, args: "Gv,Ev", exec: cmovcc(cc), feature: "cmov", flags });
});
defineRows("cond", rows);
