// Model-specific registers the kernel programs: EFER, the syscall/sysret MSRs and the
// GS bases that `swapgs` exchanges. One place for their numbers and the boot-time setup.
import { rdmsr, wrmsr } from "./cpu";
import { archSyscallEntry } from "./native";
import { KERNEL_CS } from "../../mem/layout";

const IA32_EFER: i32 = 0xC000_0080;
const IA32_STAR: i32 = 0xC000_0081;
const IA32_LSTAR: i32 = 0xC000_0082;
const IA32_FMASK: i32 = 0xC000_0084;
const IA32_GS_BASE: i32 = 0xC000_0101;
const IA32_KERNEL_GS_BASE: i32 = 0xC000_0102;

const EFER_SCE: i64 = 1 << 0;
const EFER_NXE: i64 = 1 << 11;
/** Flags cleared on syscall entry: TF, IF, DF, NT, AC (the kernel runs with interrupts off, DF clear). */
const SYSCALL_FLAGS_MASK: i64 = 0x0100 | 0x0200 | 0x0400 | 0x4000 | 0x4_0000;

/**
 * Enables `syscall`: kernel CS/SS from STAR[47:32] (0x08, 0x10), user CS/SS for
 * sysret from STAR[63:48] + 16 / + 8 (0x23, 0x1B), the entry point, the flag mask.
 */
export function syscallMsrInit(): void {
  wrmsr(IA32_EFER, rdmsr(IA32_EFER) | EFER_SCE | EFER_NXE);
  const userBase: i64 = 0x10; // sysret: CS = base + 16, SS = base + 8 (both with RPL 3)
  wrmsr(IA32_STAR, (<i64>KERNEL_CS << 32) | (userBase << 48));
  wrmsr(IA32_LSTAR, archSyscallEntry());
  wrmsr(IA32_FMASK, SYSCALL_FLAGS_MASK);
}

/** GS base while in the kernel (the per-CPU block); user GS base 0 waits in KERNEL_GS_BASE for swapgs. */
export function gsBaseInit(kernelGsBase: u64): void {
  wrmsr(IA32_GS_BASE, <i64>kernelGsBase);
  wrmsr(IA32_KERNEL_GS_BASE, 0);
}
