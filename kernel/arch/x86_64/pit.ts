// The 8254 PIT's channel 0 as the scheduler tick on IRQ 0, and the tick count it
// drives. Time is the tick count: on capos's emulator it follows retired instructions.
import { outb } from "./cpu";

const PIT_HZ: u32 = 1_193_182;
const CHANNEL0 = 0x40;
const COMMAND = 0x43;

let ticks: u64 = 0;

/**
 * Programs channel 0 as a rate generator (mode 2) firing `hz` times a second
 * (1..10000; below 19 Hz it runs at 19 Hz, since the 16-bit divisor cannot go lower).
 */
export function pitInit(hz: u32): void {
  const rate = hz < 19 ? 19 : hz;
  const divisor = (PIT_HZ + rate / 2) / rate;
  outb(COMMAND, 0x34); // channel 0, lobyte/hibyte, mode 2, binary
  outb(CHANNEL0, <i32>(divisor & 0xFF));
  outb(CHANNEL0, <i32>((divisor >> 8) & 0xFF));
}

/** Called by the IRQ 0 handler. */
export function pitTick(): void {
  ticks++;
}

/** Ticks since pitInit: the kernel's monotonic clock. */
export function pitTicks(): u64 {
  return ticks;
}
