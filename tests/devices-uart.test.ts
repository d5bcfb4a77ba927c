// 16550A UART: divisor latch, transmit, receive without loss, FIFOs and
// trigger levels, the character timeout, interrupt identification in
// datasheet priority, loopback, OUT2 gating of the IRQ line, scratch.
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../src/emulator/clock.js";
import { IIR_MSI, IIR_NONE, IIR_RDA, IIR_RLS, IIR_THRE, IIR_TIMEOUT, Uart16550 } from "../src/emulator/devices/uart.js";

const B = 0x3f8;

function makeUart(): { uart: Uart16550; out: number[]; irq: () => boolean; clock: VirtualClock; at: (t: number) => void } {
  const counter = { icount: 0 };
  const clock = new VirtualClock(counter, 100_000_000);
  let line = false;
  const uart = new Uart16550(B, clock, (l) => { line = l; });
  const out: number[] = [];
  uart.sink = (b) => out.push(b);
  return { uart, out, irq: () => line, clock, at: (t) => { counter.icount = t; } };
}

const iir = (u: Uart16550): number => u.read(B + 2, 1);

describe("16550A UART", () => {
  it("resets like QEMU's: LSR THR empty, MSR carrier/DSR/CTS, MCR OUT2, IIR no interrupt", () => {
    const { uart } = makeUart();
    expect(uart.read(B + 5, 1)).toBe(0x60);
    expect(uart.read(B + 6, 1)).toBe(0xb0);
    expect(uart.read(B + 4, 1)).toBe(0x08);
    expect(iir(uart)).toBe(0x01);
    expect(uart.read(B + 1, 1)).toBe(0);
    expect(uart.read(B + 3, 1)).toBe(0);
  });

  it("exposes the divisor latch at offsets 0/1 while DLAB is set", () => {
    const { uart, out } = makeUart();
    uart.write(B + 3, 1, 0x80);
    uart.write(B + 0, 1, 0x01);
    uart.write(B + 1, 1, 0x00);
    expect(uart.read(B + 0, 1)).toBe(0x01);
    expect(uart.read(B + 1, 1)).toBe(0x00);
    expect(uart.divisor).toBe(1);
    uart.write(B + 3, 1, 0x03);
    expect(uart.read(B + 3, 1)).toBe(0x03);
    expect(out).toEqual([]);
    uart.write(B + 1, 1, 0x00);
    expect(uart.divisor).toBe(1);
  });

  it("transmits THR bytes to the host at once and stays THR-empty", () => {
    const { uart, out } = makeUart();
    for (const c of "hi\n") uart.write(B, 1, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe("hi\n");
    expect(uart.read(B + 5, 1) & 0x60).toBe(0x60);
  });

  it("raises THR-empty when enabled, clears it on IIR read, re-raises after a write", () => {
    const { uart, irq } = makeUart();
    uart.write(B + 1, 1, 0x02);
    expect(irq()).toBe(true);
    expect(iir(uart)).toBe(IIR_THRE);
    expect(irq()).toBe(false);
    expect(iir(uart)).toBe(IIR_NONE);
    uart.write(B, 1, 0x41);
    expect(irq()).toBe(true);
    expect(iir(uart)).toBe(IIR_THRE);
  });

  it("receives without FIFOs: one byte in RBR, the rest queued, none lost", () => {
    const { uart, irq } = makeUart();
    uart.write(B + 1, 1, 0x01);
    uart.receive([1, 2, 3]);
    expect(irq()).toBe(true);
    expect(iir(uart)).toBe(IIR_RDA);
    const got: number[] = [];
    while (uart.read(B + 5, 1) & 1) got.push(uart.read(B, 1));
    expect(got).toEqual([1, 2, 3]);
    expect(irq()).toBe(false);
    expect(uart.read(B + 5, 1) & 1).toBe(0);
  });

  it("keeps every byte of a large burst and delivers them in order through the FIFO", () => {
    const { uart } = makeUart();
    uart.write(B + 2, 1, 0xc7); // FIFO on, clear both, trigger 14
    const data = Array.from({ length: 1000 }, (_, k) => (k * 7) & 0xff);
    uart.receive(data);
    const got: number[] = [];
    while (uart.read(B + 5, 1) & 1) got.push(uart.read(B, 1));
    expect(got).toEqual(data);
    expect(uart.pendingInput).toBe(0);
  });

  it("reports the FIFO state in IIR bits 7:6 and applies the RX trigger level", () => {
    const { uart } = makeUart();
    uart.write(B + 2, 1, 0x41); // FIFO on, trigger 4
    uart.write(B + 1, 1, 0x01);
    expect(iir(uart)).toBe(0xc0 | IIR_NONE);
    uart.receive([1, 2, 3]);
    expect(iir(uart) & 0x0f).toBe(IIR_NONE);
    uart.receive([4]);
    expect(iir(uart)).toBe(0xc0 | IIR_RDA);
  });

  it("raises the character timeout when data sits below the trigger level for four character times", () => {
    const { uart, irq, clock, at } = makeUart();
    uart.write(B + 3, 1, 0x80);
    uart.write(B + 0, 1, 1); // 115200 baud
    uart.write(B + 3, 1, 0x03); // 8N1: 10 bits per character
    uart.write(B + 2, 1, 0xc1); // FIFO on, trigger 14
    uart.write(B + 1, 1, 0x01);
    uart.receive([0x61, 0x62]);
    expect(irq()).toBe(false);
    const deadline = clock.nextDeadline();
    // 4 characters of 10 bits at 115200 baud on a 100 MHz clock.
    expect(deadline).toBe(Math.ceil((10 * 100_000_000) / 115200) * 4);
    at(deadline);
    clock.fireDue();
    expect(irq()).toBe(true);
    expect(iir(uart)).toBe(0xc0 | IIR_TIMEOUT);
    expect(uart.read(B, 1)).toBe(0x61);
    expect(iir(uart) & 0x0f).toBe(IIR_NONE); // reading a byte clears the timeout
  });

  it("orders interrupt sources: line status > received data > THR empty > modem status", () => {
    const { uart } = makeUart();
    uart.write(B + 4, 1, 0x18); // loopback + OUT2
    uart.write(B + 1, 1, 0x0f);
    // Modem status: loopback RTS -> CTS changes.
    uart.write(B + 4, 1, 0x1a);
    uart.write(B + 2, 1, 0x00);
    expect(iir(uart)).toBe(IIR_THRE); // THR empty pending since IER was written
    expect(iir(uart)).toBe(IIR_MSI);
    uart.write(B, 1, 0x55); // loops back into RBR; THR empty again
    expect(iir(uart)).toBe(IIR_RDA);
    uart.write(B, 1, 0x56); // RBR full without FIFO: overrun
    expect(iir(uart)).toBe(IIR_RLS);
    expect(uart.read(B + 5, 1) & 0x02).toBe(0x02); // reading LSR clears the error
    expect(iir(uart)).toBe(IIR_RDA);
    expect(uart.read(B, 1)).toBe(0x55);
    expect(iir(uart)).toBe(IIR_THRE);
    expect(iir(uart)).toBe(IIR_MSI);
    expect(uart.read(B + 6, 1) & 0x0f).toBe(0x03); // delta CTS and DSR (entering loopback dropped DSR), cleared by the read
    expect(iir(uart)).toBe(IIR_NONE);
  });

  it("loops MCR outputs back to MSR inputs in loopback mode", () => {
    const { uart, out } = makeUart();
    uart.write(B + 4, 1, 0x10 | 0x01 | 0x04); // loop, DTR, OUT1
    expect(uart.read(B + 6, 1) & 0xf0).toBe(0x20 | 0x40); // DSR, RI
    uart.write(B, 1, 0x99);
    expect(out).toEqual([]);
    expect(uart.read(B, 1)).toBe(0x99);
  });

  it("gates the IRQ line with OUT2 (and keeps it off in loopback)", () => {
    const { uart, irq } = makeUart();
    uart.write(B + 4, 1, 0x03); // DTR, RTS, no OUT2
    uart.write(B + 1, 1, 0x02);
    expect(iir(uart) & 1).toBe(0); // pending inside the UART...
    uart.write(B, 1, 0x41);
    expect(irq()).toBe(false); // ...but not on the bus
    uart.write(B + 4, 1, 0x0b);
    expect(irq()).toBe(true);
    uart.write(B + 4, 1, 0x1b);
    expect(irq()).toBe(false);
  });

  it("keeps the scratch register", () => {
    const { uart } = makeUart();
    uart.write(B + 7, 1, 0x5a);
    expect(uart.read(B + 7, 1)).toBe(0x5a);
  });

  it("FCR clears the receive FIFO", () => {
    const { uart } = makeUart();
    uart.write(B + 2, 1, 0x01);
    uart.receive([1, 2, 3]);
    uart.write(B + 2, 1, 0x03);
    expect(uart.read(B + 5, 1) & 1).toBe(0);
    expect(uart.pendingInput).toBe(0);
  });
});
