// The kernel console log on COM1: strings, byte runs and numbers, formatted without a
// heap, and the log level from KernelParams. It prints only what the machine defines
// identically on capos's emulator and QEMU (no time, no host-dependent values).
import { COM1, serialPut, serialWrite } from "./arch/x86_64/serial";

export const LOG_QUIET: u32 = 0;
export const LOG_INFO: u32 = 1;
export const LOG_DEBUG: u32 = 2;
export const LOG_TRACE: u32 = 3;

let level: u32 = 1; // LOG_INFO (a literal keeps it out of the wasm start function)

/** Sets the level (KernelParams.logLevel: quiet, info, debug, trace). */
export function logSetLevel(newLevel: u32): void {
  level = newLevel;
}

/** Whether messages of `messageLevel` are printed. Errors are printed at every level. */
export function logEnabled(messageLevel: u32): bool {
  return messageLevel <= level;
}

export function logChar(c: i32): void {
  serialPut(COM1, c);
}

/** An ASCII string literal (kernel messages are ASCII; anything else prints as '?'). */
export function logStr(s: string): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    serialPut(COM1, c < 0x80 ? c : 0x3F);
  }
}

/** `length` raw bytes at kernel address `bytes`. */
export function logBytes(bytes: usize, length: u32): void {
  serialWrite(COM1, bytes, length);
}

export function logNl(): void {
  serialPut(COM1, 0x0A);
}

/** A line: the kernel's prefix, then `s`, then a newline. */
export function logLine(s: string): void {
  logPrefix();
  logStr(s);
  logNl();
}

/** The prefix every kernel message starts with. */
export function logPrefix(): void {
  logStr("[kernel] ");
}

export function logDec(value: u64): void {
  // The largest power of ten not above the value, then one digit per power.
  let scale: u64 = 1;
  while (value / scale >= 10) scale *= 10;
  while (scale > 0) {
    serialPut(COM1, <i32>(0x30 + (value / scale) % 10));
    scale /= 10;
  }
}

export function logSigned(value: i64): void {
  if (value < 0) {
    serialPut(COM1, 0x2D);
    logDec(<u64>(-(value + 1)) + 1);
  } else {
    logDec(<u64>value);
  }
}

/** `value` in hexadecimal with a 0x prefix and at least `minDigits` digits. */
export function logHex(value: u64, minDigits: u32 = 1): void {
  logStr("0x");
  let digits: u32 = 1;
  while (digits < 16 && (value >> (<u64>digits * 4)) != 0) digits++;
  if (digits < minDigits) digits = min(minDigits, 16);
  for (let i = digits; i > 0; i--) {
    const nibble = <i32>((value >> (<u64>(i - 1) * 4)) & 0xF);
    serialPut(COM1, nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10);
  }
}
