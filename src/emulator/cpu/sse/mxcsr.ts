// MXCSR: its bit layout, the per-instruction floating-point context (rounding
// control, DAZ/FTZ, the exception flags an instruction raises) and the commit
// step that either makes the flags sticky or raises #XM / #UD before anything
// is written. Lane operations only accumulate flags here; handlers commit once.
import type { Cpu } from "../cpu.js";
import { EXC_UD, EXC_XM } from "../fault.js";

export const MX_IE = 0x01; // invalid operation
export const MX_DE = 0x02; // denormal operand
export const MX_ZE = 0x04; // divide by zero
export const MX_OE = 0x08; // overflow
export const MX_UE = 0x10; // underflow
export const MX_PE = 0x20; // precision (inexact)
export const MX_DAZ = 0x40; // denormals are zeros
export const MX_MASKS = 0x1f80; // IM DM ZM OM UM PM
export const MX_OM = 0x0400;
export const MX_UM = 0x0800;
export const MX_RC_SHIFT = 13;
export const MX_FTZ = 0x8000; // flush to zero
/** Bits software may set (the MXCSR_MASK FXSAVE reports): everything up to FTZ, DAZ included. */
export const MXCSR_WRITABLE = 0xffff;
export const MXCSR_RESET = 0x1f80;

/** Rounding-control values (MXCSR.RC and the ROUNDxx imm8 low bits). */
export const RC_NEAREST = 0;
export const RC_DOWN = 1; // toward -infinity
export const RC_UP = 2; // toward +infinity
export const RC_ZERO = 3;

const CR4_OSXMMEXCPT = 1 << 10;

/**
 * The floating-point context of the instruction being executed. `pre` holds the
 * pre-computation exceptions (IE DE ZE), `post` the post-computation ones (OE UE PE);
 * the SDM handles an unmasked one of each class differently (see commitFp).
 */
export const fp = {
  pre: 0,
  post: 0,
  rc: RC_NEAREST,
  daz: false,
  ftz: false,
  /** MXCSR.UM: a masked underflow needs tiny AND inexact; an unmasked one only tiny. */
  underflowMasked: true,
  /** MXCSR.OM: a masked overflow delivers infinity or the largest finite value (and PE). */
  overflowMasked: true,
};

/** Loads the context from MXCSR at the start of a floating-point instruction. */
export function beginFp(cpu: Cpu): void {
  const m = cpu.mxcsr;
  fp.pre = 0;
  fp.post = 0;
  fp.rc = (m >> MX_RC_SHIFT) & 3;
  fp.daz = (m & MX_DAZ) !== 0;
  fp.ftz = (m & MX_FTZ) !== 0;
  fp.underflowMasked = (m & MX_UM) !== 0;
  fp.overflowMasked = (m & MX_OM) !== 0;
}

/**
 * Ends the computation: an unmasked pre-computation exception sets only the
 * pre-computation flags and faults; otherwise an unmasked exception of either
 * class sets every detected flag and faults. Either way the destination is not
 * written (the handler writes only after this returns). Masked: flags become sticky.
 */
export function commitFp(cpu: Cpu): void {
  const all = fp.pre | fp.post;
  if (all === 0) return;
  const unmasked = ~(cpu.mxcsr >> 7) & 0x3f;
  if ((fp.pre & unmasked) !== 0) {
    cpu.mxcsr |= fp.pre;
    raiseSimdException(cpu);
  }
  cpu.mxcsr |= all;
  if ((all & unmasked) !== 0) raiseSimdException(cpu);
}

/** #XM when the OS handles SIMD exceptions (CR4.OSXMMEXCPT), #UD otherwise. */
export function raiseSimdException(cpu: Cpu): never {
  return cpu.fault((cpu.cr4 & CR4_OSXMMEXCPT) !== 0 ? EXC_XM : EXC_UD);
}
