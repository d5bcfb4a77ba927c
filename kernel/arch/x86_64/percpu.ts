// The per-CPU block that syscall.s reaches through GS, and the kernel stacks: one trap
// stack for every entry from ring 3 (syscalls and interrupts alike) with the #DF and #PF
// IST stacks above it. The layout of the block is shared with the assembly.
import { DIRECT_MAP_BASE } from "../../mem/layout";
import { gdtInit } from "./gdt";
import { gsBaseInit } from "./msr";

/** Per-CPU block offsets (syscall.s and trap.s use the same numbers). */
export const PERCPU_KERNEL_RSP: usize = 0x00; // top of the trap stack (virtual)
export const PERCPU_USER_RSP: usize = 0x08; // the user RSP while syscall.s builds the frame
export const PERCPU_STACK_LIMIT: usize = 0x10; // __wasm_stack_limit while on the trap stack
const PERCPU_BYTES: i32 = 64;

const TRAP_STACK_BYTES: usize = 64 * 1024;
const IST_STACK_BYTES: usize = 16 * 1024;
/** Space below the limit left for the wasm trap entry and the fault report. */
const STACK_RESERVE: usize = 8 * 1024;

// One region, lowest address first: reserve, trap stack, #DF stack, #PF stack. The IST
// stacks sit above the trap stack so compiled code running on them passes the same
// stack-limit check.
const stacks: usize = memory.data(<i32>(STACK_RESERVE + TRAP_STACK_BYTES + 2 * IST_STACK_BYTES), 16);
const block: usize = memory.data(PERCPU_BYTES, 64);

function virtual(kernelAddress: usize): u64 {
  return DIRECT_MAP_BASE + <u64>kernelAddress;
}

/** Sets up the stacks, the GDT and TSS that point at them, and the GS bases. */
export function percpuInit(): void {
  const trapTop = stacks + STACK_RESERVE + TRAP_STACK_BYTES;
  const doubleFaultTop = trapTop + IST_STACK_BYTES;
  const pageFaultTop = doubleFaultTop + IST_STACK_BYTES;
  store<u64>(block + PERCPU_KERNEL_RSP, virtual(trapTop));
  store<u64>(block + PERCPU_USER_RSP, 0);
  store<u64>(block + PERCPU_STACK_LIMIT, virtual(stacks + STACK_RESERVE));
  gdtInit(virtual(trapTop), virtual(doubleFaultTop), virtual(pageFaultTop));
  gsBaseInit(virtual(block));
}
