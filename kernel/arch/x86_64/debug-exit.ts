// Ending the machine: QEMU's isa-debug-exit device (port 0xF4), which both capos's
// emulator and QEMU turn into the host exit status (value << 1) | 1. The kernel's
// own status values are below; `capos boot` exits with the value itself.
import { outb, cli, hlt } from "./cpu";

const DEBUG_EXIT_PORT: i32 = 0xF4;

/** No runnable process remains: a clean shutdown. */
export const EXIT_SUCCESS: i32 = 0;
/** The kernel faulted (CPU exception or wasm trap in kernel code). */
export const EXIT_KERNEL_FAULT: i32 = 1;
/** The boot could not proceed: bad boot module, manifest or init program. */
export const EXIT_BOOT_ERROR: i32 = 2;
/** The kernel ran out of a resource it cannot do without (frames for its own tables). */
export const EXIT_OUT_OF_MEMORY: i32 = 3;

/** Stops the machine with `status`. Never returns: without the device, halts with interrupts off. */
export function machineExit(status: i32): void {
  outb(DEBUG_EXIT_PORT, status);
  for (;;) {
    cli();
    hlt();
  }
}
