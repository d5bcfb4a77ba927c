// The trap frame: the registers trap.s and syscall.s save on kernel entry, in the order
// they push them, and the context a process is resumed from. The assembly and this
// file must agree byte for byte; docs/kernel.md shows the same table.

export const FRAME_R15: usize = 0x00;
export const FRAME_R14: usize = 0x08;
export const FRAME_R13: usize = 0x10;
export const FRAME_R12: usize = 0x18;
export const FRAME_R11: usize = 0x20;
export const FRAME_R10: usize = 0x28;
export const FRAME_R9: usize = 0x30;
export const FRAME_R8: usize = 0x38;
export const FRAME_RBP: usize = 0x40;
export const FRAME_RDI: usize = 0x48;
export const FRAME_RSI: usize = 0x50;
export const FRAME_RDX: usize = 0x58;
export const FRAME_RCX: usize = 0x60;
export const FRAME_RBX: usize = 0x68;
export const FRAME_RAX: usize = 0x70;
/** The interrupt vector, or SYSCALL_VECTOR for the syscall entry. */
export const FRAME_VECTOR: usize = 0x78;
/** The CPU's error code, or 0 for vectors without one. */
export const FRAME_ERROR: usize = 0x80;
// What the CPU pushes for an interrupt (syscall.s builds the same five words).
export const FRAME_RIP: usize = 0x88;
export const FRAME_CS: usize = 0x90;
export const FRAME_RFLAGS: usize = 0x98;
export const FRAME_RSP: usize = 0xA0;
export const FRAME_SS: usize = 0xA8;
export const TRAP_FRAME_BYTES: usize = 0xB0;

/** The vector number syscall.s records: above every interrupt vector. */
export const SYSCALL_VECTOR: u64 = 0x100;

/** RFLAGS.IF and the always-one bit 1: what a new user context starts with. */
export const RFLAGS_USER: u64 = 0x202;

// @ts-ignore: decorator
@inline export function frameGet(frame: usize, field: usize): u64 {
  return load<u64>(frame + field);
}

// @ts-ignore: decorator
@inline export function frameSet(frame: usize, field: usize, value: u64): void {
  store<u64>(frame + field, value);
}

/** Whether the frame was saved from ring 3. */
export function frameFromUser(frame: usize): bool {
  return (load<u64>(frame + FRAME_CS) & 3) == 3;
}
