// Architectural exceptions. A fault is raised by recording it on the CPU and
// throwing the one preallocated CpuFault sentinel; the run loop catches it and
// delivers the exception to the guest. It never escapes the CPU to an embedder.

export const EXC_DE = 0; // divide error
export const EXC_DB = 1; // debug
export const EXC_NMI = 2;
export const EXC_BP = 3; // breakpoint (int3)
export const EXC_OF = 4; // overflow (into)
export const EXC_BR = 5; // bound range
export const EXC_UD = 6; // invalid opcode
export const EXC_NM = 7; // device not available
export const EXC_DF = 8; // double fault
export const EXC_TS = 10; // invalid TSS
export const EXC_NP = 11; // segment not present
export const EXC_SS = 12; // stack-segment fault
export const EXC_GP = 13; // general protection
export const EXC_PF = 14; // page fault
export const EXC_MF = 16; // x87 floating-point
export const EXC_AC = 17; // alignment check
export const EXC_MC = 18;
export const EXC_XM = 19; // SIMD floating-point

export const EXCEPTION_NAMES: Record<number, string> = {
  0: "DE", 1: "DB", 2: "NMI", 3: "BP", 4: "OF", 5: "BR", 6: "UD", 7: "NM", 8: "DF",
  10: "TS", 11: "NP", 12: "SS", 13: "GP", 14: "PF", 16: "MF", 17: "AC", 18: "MC", 19: "XM",
};

/** Exceptions that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** Contributory exceptions for the double-fault rules (SDM Vol. 3 Table 6-5). */
export function isContributory(vector: number): boolean {
  return vector === 0 || (vector >= 10 && vector <= 13);
}

/** Page-fault error code bits. */
export const PF_P = 1; // protection violation (0: not present)
export const PF_W = 2; // write access
export const PF_U = 4; // user-mode access
export const PF_RSVD = 8; // reserved bit set in a paging entry
export const PF_I = 16; // instruction fetch

/** The single object thrown for every guest exception; details live on the CPU. */
export class CpuFault {
  readonly isCpuFault = true;
}
export const CPU_FAULT = new CpuFault();

/** Thrown when the machine must stop (triple fault, shutdown); caught by the run loop. */
export class MachineStop {
  constructor(readonly reason: string, readonly detail: string) {}
}
