// Flag instructions that touch only RFLAGS (and AH): clc stc cmc cld std lahf sahf.
// CLI/STI (privilege rules) belong to system.ts, PUSHF/POPF to stack.ts.
import type { Cpu } from "../cpu.js";
import { AF, CF, DF, getCF, materializeFlags, PF, SF, updateFlags, ZF } from "../flags.js";
import { R8_HIGH_BASE } from "../insn.js";
import { defineRows } from "../table.js";

/** AH in the byte-register numbering (AH, CH, DH, BH follow R8_HIGH_BASE). */
const REG_AH = R8_HIGH_BASE;

/** The RFLAGS bits LAHF/SAHF transfer: SF ZF AF PF CF (bits 7, 6, 4, 2, 0). */
const AH_FLAGS = SF | ZF | AF | PF | CF;

function clc(cpu: Cpu): void {
  updateFlags(cpu, CF, 0);
}

function stc(cpu: Cpu): void {
  updateFlags(cpu, CF, CF);
}

function cmc(cpu: Cpu): void {
  updateFlags(cpu, CF, getCF(cpu) ^ 1);
}

// DF is never lazy: it lives in cpu.flags directly.
function cld(cpu: Cpu): void {
  cpu.flags &= ~DF;
}

function std(cpu: Cpu): void {
  cpu.flags |= DF;
}

/** AH = SF:ZF:0:AF:0:PF:1:CF. */
function lahf(cpu: Cpu): void {
  cpu.setR8(REG_AH, (materializeFlags(cpu) & AH_FLAGS) | 2);
}

function sahf(cpu: Cpu): void {
  updateFlags(cpu, AH_FLAGS, cpu.getR8(REG_AH));
}

defineRows("flagops", [
  { m: "clc", op: "F8", args: "", exec: clc, flags: "w:c" },
  { m: "stc", op: "F9", args: "", exec: stc, flags: "w:c" },
  { m: "cmc", op: "F5", args: "", exec: cmc, flags: "r:c w:c" },
  { m: "cld", op: "FC", args: "", exec: cld, flags: "w:d" },
  { m: "std", op: "FD", args: "", exec: std, flags: "w:d" },
  // Valid in 64-bit mode on CPUs with CPUID.80000001h:ECX.LAHF-SAHF (modelled as present).
  { m: "lahf", op: "9F", args: "", exec: lahf, feature: "lahf_lm", flags: "r:szapc" },
  { m: "sahf", op: "9E", args: "", exec: sahf, feature: "lahf_lm", flags: "w:szapc" },
]);
