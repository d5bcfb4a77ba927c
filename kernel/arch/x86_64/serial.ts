// The 16550A UARTs: COM1 is the kernel console log (and Console's device), COM2 the
// terminal of later milestones. Polled output only; it never enables UART interrupts
// and never blocks forever on a missing or stuck device.
import { inb, outb } from "./cpu";

export const COM1: i32 = 0x3F8;
export const COM2: i32 = 0x2F8;

const REG_DATA = 0;
const REG_IER = 1;
const REG_FCR = 2;
const REG_LCR = 3;
const REG_MCR = 4;
const REG_LSR = 5;
const LSR_THR_EMPTY = 0x20;
/** Polls of LSR before a byte is sent anyway (an absent UART reads 0xFF, so this only matters for a wedged one). */
const MAX_POLLS = 100_000;

/** 115200 baud 8N1, FIFOs on, interrupts off, DTR/RTS/OUT2 set (what firmware usually leaves). */
export function serialInit(port: i32): void {
  outb(port + REG_IER, 0x00);
  outb(port + REG_LCR, 0x80);
  outb(port + REG_DATA, 0x01);
  outb(port + REG_IER, 0x00);
  outb(port + REG_LCR, 0x03);
  outb(port + REG_FCR, 0xC7);
  outb(port + REG_MCR, 0x0B);
}

/** Sends one byte once the transmitter has room. */
export function serialPut(port: i32, byte: i32): void {
  for (let i = 0; i < MAX_POLLS; i++) {
    if ((inb(port + REG_LSR) & LSR_THR_EMPTY) != 0) break;
  }
  outb(port + REG_DATA, byte & 0xFF);
}

/** Sends `length` bytes from kernel address `bytes`. */
export function serialWrite(port: i32, bytes: usize, length: u32): void {
  for (let i: u32 = 0; i < length; i++) serialPut(port, <i32>load<u8>(bytes + i));
}
