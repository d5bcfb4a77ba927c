// Instructions that do nothing architecturally: pause, the multi-byte and hint
// NOPs (0F 18..0F 1F), prefetches, endbr32/endbr64 (CET is not enabled, so they
// are NOPs); and the deliberately undefined opcodes ud0/ud1/ud2, which raise #UD.
// The plain 90 NOP is the register-0 case of xchg 90+r (move.ts).
import type { Cpu } from "../cpu.js";
import type { ExecFn, Insn } from "../insn.js";
import { defineRows, type RowSpec } from "../table.js";
import { xchgWithAccumulator } from "./move.js";

function nop(): void {}

function undefinedOpcode(cpu: Cpu): void {
  cpu.ud();
}

/**
 * CLFLUSH: the emulator has no caches, but the instruction still checks its
 * operand like a one-byte read (#PF/#GP on a bad address), so it reads it.
 */
function clflush(cpu: Cpu, i: Insn): void {
  cpu.ea(i, 1);
  cpu.read8(cpu.eaLo, cpu.eaHi);
}

/**
 * F3 90 is PAUSE only without REX.B: with it the opcode names r8 and the
 * instruction is xchg r8, rAX (the F3 is an ignored prefix). A hint to a
 * spinning loop; the emulator has nothing to yield to within an instruction.
 */
function pickPause(i: Insn): ExecFn {
  if ((i.rex & 1) === 0) return nop;
  i.reg = 8;
  return xchgWithAccumulator;
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");

const rows: RowSpec[] = [
  { m: "pause", op: "F3 90", args: "", pick: pickPause },

  // Hint NOPs: every ModRM form of 0F 19..0F 1F (reg or memory; memory is never
  // accessed), including 0F 1F /0, the recommended multi-byte NOP. Where a more
  // specific row follows a generic one, the later row wins (decode.ts).
  ...[0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e].map((op): RowSpec => (
    { m: "nop", op: `0F ${hex(op)} /r`, args: "Ev", exec: nop, note: "reserved hint NOP" }
  )),
  { m: "nop", op: "0F 1F /r", args: "Ev", exec: nop },
  // With F3, 0F 1E holds the CET instructions; with CET off all of them are NOPs.
  { m: "nop", op: "F3 0F 1E /r", args: "Ev", exec: nop, note: "rdssp/CET forms: NOP while CET is off" },
  { m: "endbr64", op: "F3 0F 1E FA", args: "", exec: nop, feature: "cet" },
  { m: "endbr32", op: "F3 0F 1E FB", args: "", exec: nop, feature: "cet" },

  // 0F 18: /0../3 with memory are the prefetches; the other forms are hint NOPs.
  { m: "nop", op: "0F 18 /r", args: "Ev", exec: nop, note: "reserved hint NOP" },
  { m: "prefetchnta", op: "0F 18 /0 mem", args: "Mb", exec: nop, feature: "sse" },
  { m: "prefetcht0", op: "0F 18 /1 mem", args: "Mb", exec: nop, feature: "sse" },
  { m: "prefetcht1", op: "0F 18 /2 mem", args: "Mb", exec: nop, feature: "sse" },
  { m: "prefetcht2", op: "0F 18 /3 mem", args: "Mb", exec: nop, feature: "sse" },
  // 0F 0D: the 3DNow!-era prefetches that compilers still emit for write intent.
  { m: "prefetch", op: "0F 0D /0 mem", args: "Mb", exec: nop, feature: "3dnowprefetch" },
  { m: "prefetchw", op: "0F 0D /1 mem", args: "Mb", exec: nop, feature: "3dnowprefetch" },

  // Fences: every access completes in program order in this emulator, so they
  // only need to exist (compilers emit them). ModRM rm bits are ignored.
  { m: "lfence", op: "0F AE /5 reg", args: "", exec: nop, feature: "sse2" },
  { m: "mfence", op: "0F AE /6 reg", args: "", exec: nop, feature: "sse2" },
  { m: "sfence", op: "0F AE /7 reg", args: "", exec: nop, feature: "sse" },
  { m: "clflush", op: "0F AE /7 mem", args: "Mb", exec: clflush, feature: "clfsh" },

  // Deliberately undefined opcodes (rows so that they disassemble by name).
  { m: "ud2", op: "0F 0B", args: "", exec: undefinedOpcode },
  { m: "ud1", op: "0F B9 /r", args: "Gv,Ev", exec: undefinedOpcode },
  { m: "ud0", op: "0F FF /r", args: "Gv,Ev", exec: undefinedOpcode },
];
defineRows("misc", rows);
