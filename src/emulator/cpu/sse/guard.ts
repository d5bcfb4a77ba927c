// Availability checks every SSE instruction makes before touching any state:
// CR0.EM or a clear CR4.OSFXSR make SSE undefined (#UD), CR0.TS defers the
// state switch to the OS (#NM); the prefix rule of SSE encodings (#UD); and the
// 16-byte alignment rule of legacy-SSE memory operands (#GP(0)). Bit positions
// are architectural, kept local so this module does not depend on cpu.ts's load order.
import type { Cpu } from "../cpu.js";
import { EXC_NM, EXC_UD } from "../fault.js";
import { REP_NONE, type ExecFn, type Insn } from "../insn.js";
import { PFX_66, PFX_NP, type RowSpec } from "../table.js";

const CR0_EM = 1 << 2;
const CR0_TS = 1 << 3;
const CR4_OSFXSR = 1 << 9;

/** Raises #UD / #NM when SSE instructions are unavailable. */
export function sseGuard(cpu: Cpu): void {
  if (((cpu.cr0 & (CR0_EM | CR0_TS)) | (~cpu.cr4 & CR4_OSFXSR)) !== 0) sseUnavailable(cpu);
}

function sseUnavailable(cpu: Cpu): never {
  if ((cpu.cr0 & CR0_EM) !== 0 || (cpu.cr4 & CR4_OSFXSR) === 0) return cpu.fault(EXC_UD);
  return cpu.fault(EXC_NM);
}

/**
 * FXSAVE/FXRSTOR: they work with CR4.OSFXSR clear (then without the SSE state)
 * and report CR0.EM as well as CR0.TS with #NM.
 */
export function fxGuard(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) cpu.fault(EXC_NM);
}

/** True when the SSE state (XMM registers, MXCSR) takes part in FXSAVE/FXRSTOR. */
export function fxsrEnabled(cpu: Cpu): boolean {
  return (cpu.cr4 & CR4_OSFXSR) !== 0;
}

/** #GP(0) unless the linear address in cpu.eaLo is 16-byte aligned. */
export function checkAligned16(cpu: Cpu): void {
  if ((cpu.eaLo & 15) !== 0) cpu.gp(0);
}

function undefinedEncoding(cpu: Cpu): void {
  cpu.fault(EXC_UD);
}

/**
 * SSE opcodes give 66/F2/F3 a meaning per form ("NP" in the SDM: none allowed).
 * When a prefix selects no form, the decoder falls back to the unprefixed or
 * 66 row and would treat the prefix as an operand-size or REP prefix; real
 * processors raise #UD instead (66 F2/F3 combinations: the F2/F3 form wins and
 * 66 is ignored). This wraps each row's handler with that check at decode time.
 */
export function strictPrefixes(specs: RowSpec[]): RowSpec[] {
  return specs.map((spec) => {
    const exec = spec.exec;
    const pick = spec.pick;
    const chosen = (i: Insn): ExecFn => (pick !== undefined ? pick(i) : exec!);
    const { exec: _drop, ...rest } = spec;
    return { ...rest, pick: (i: Insn) => (prefixesAllowed(i) ? chosen(i) : undefinedEncoding) };
  });
}

function prefixesAllowed(i: Insn): boolean {
  const p = i.row!.prefix;
  if (p === PFX_NP) return !i.prefix66 && i.rep === REP_NONE;
  if (p === PFX_66) return i.rep === REP_NONE;
  return true;
}
