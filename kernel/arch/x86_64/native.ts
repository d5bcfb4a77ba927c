// The kernel's hand-written assembly (kernel/arch/x86_64/*.s) as seen from compiled code:
// imports of the `arch` module, each linked to the assembly symbol of the same name.
// Declarations only; the contracts (registers, stacks, frames) are in docs/kernel.md.

/**
 * Leaves the kernel for the user context in the trap frame at kernel address `frame`
 * (TRAP_FRAME_BYTES, see trapframe.ts): switches to the trap stack the frame sits on,
 * restores every register and returns with iretq. Never returns.
 */
// @ts-ignore: decorator
@external("arch", "arch_enter_user") export declare function archEnterUser(frame: usize): void;

/** The virtual address of the entry stub for interrupt vector `vector` (0..255), for the IDT. */
// @ts-ignore: decorator
@external("arch", "arch_trap_stub") export declare function archTrapStub(vector: i32): i64;

/** The virtual address of the `syscall` entry, for IA32_LSTAR. */
// @ts-ignore: decorator
@external("arch", "arch_syscall_entry") export declare function archSyscallEntry(): i64;

/**
 * A fact about the kernel image the linker placed (IMAGE_* in layout.ts): section
 * boundaries as virtual addresses, the physical extent of everything loaded.
 */
// @ts-ignore: decorator
@external("arch", "arch_image_symbol") export declare function archImageSymbol(which: i32): i64;

/** fxsave64 into the 512-byte, 16-aligned area at kernel address `area`. */
// @ts-ignore: decorator
@external("arch", "arch_fpu_save") export declare function archFpuSave(area: usize): void;

/** fxrstor64 from the 512-byte, 16-aligned area at kernel address `area`. */
// @ts-ignore: decorator
@external("arch", "arch_fpu_restore") export declare function archFpuRestore(area: usize): void;

/** The caller's frame pointer (RBP): where a backtrace of the kernel starts. */
// @ts-ignore: decorator
@external("arch", "arch_frame_pointer") export declare function archFramePointer(): i64;
