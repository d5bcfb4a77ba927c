// CMOS/RTC: date from the virtual clock, BCD/binary and 12/24-hour formats,
// setting the clock, update-in-progress, periodic interrupts and register C,
// and the BIOS memory-size bytes (compared with what QEMU's pc machine shows).
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../src/emulator/clock.js";
import { CmosRtc } from "../src/emulator/devices/cmos.js";

const HZ = 100_000_000;
const Y2K = 946684800; // 2000-01-01 00:00:00 UTC, a Saturday

function makeRtc(start = Y2K): { rtc: CmosRtc; clock: VirtualClock; at: (t: number) => void; irq: () => boolean } {
  const counter = { icount: 0 };
  const clock = new VirtualClock(counter, HZ);
  let line = false;
  const rtc = new CmosRtc(clock, start, (l) => { line = l; });
  return { rtc, clock, at: (t) => { counter.icount = t; }, irq: () => line };
}

const reg = (rtc: CmosRtc, i: number): number => { rtc.write(0x70, 1, i); return rtc.read(0x71, 1); };
const setReg = (rtc: CmosRtc, i: number, v: number): void => { rtc.write(0x70, 1, i); rtc.write(0x71, 1, v); };

describe("CMOS RTC", () => {
  it("shows the start date in BCD, 24-hour mode, with the status registers a BIOS leaves", () => {
    const { rtc } = makeRtc();
    expect([0, 2, 4, 6, 7, 8, 9, 0x32].map((i) => reg(rtc, i))).toEqual([0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20]);
    expect(reg(rtc, 0x0a)).toBe(0x26);
    expect(reg(rtc, 0x0b)).toBe(0x02);
    expect(reg(rtc, 0x0d)).toBe(0x80);
    expect(rtc.read(0x70, 1)).toBe(0xff);
  });

  it("advances with virtual time", () => {
    const { rtc, at } = makeRtc();
    at(HZ * (3600 * 13 + 60 * 59 + 58));
    expect([reg(rtc, 4), reg(rtc, 2), reg(rtc, 0)]).toEqual([0x13, 0x59, 0x58]);
  });

  it("reads binary and 12-hour formats", () => {
    const { rtc, at } = makeRtc();
    at(HZ * (3600 * 13 + 45));
    setReg(rtc, 0x0b, 0x04); // binary, 12-hour
    expect(reg(rtc, 0)).toBe(45);
    expect(reg(rtc, 4)).toBe(0x80 | 1);
    setReg(rtc, 0x0b, 0x00); // BCD, 12-hour
    expect(reg(rtc, 4)).toBe(0x81);
    at(0);
    expect(reg(rtc, 4)).toBe(0x12); // midnight is 12 AM
  });

  it("sets the clock through SET and keeps running from the new time", () => {
    const { rtc, at } = makeRtc();
    setReg(rtc, 0x0b, 0x82); // SET, 24-hour, BCD
    setReg(rtc, 0x09, 0x24);
    setReg(rtc, 0x08, 0x02);
    setReg(rtc, 0x07, 0x29);
    setReg(rtc, 0x04, 0x23);
    setReg(rtc, 0x02, 0x59);
    setReg(rtc, 0x00, 0x59);
    at(HZ * 5); // frozen while SET
    expect(reg(rtc, 0)).toBe(0x59);
    setReg(rtc, 0x0b, 0x02);
    at(HZ * 6);
    expect([reg(rtc, 9), reg(rtc, 8), reg(rtc, 7), reg(rtc, 4), reg(rtc, 2), reg(rtc, 0)]).toEqual([0x24, 0x03, 0x01, 0x00, 0x00, 0x00]);
    expect(reg(rtc, 6)).toBe(0x06); // 2024-03-01 is a Friday
  });

  it("shows update-in-progress for the last 244 µs of each second", () => {
    const { rtc, at } = makeRtc();
    at(HZ - Math.ceil(244e-6 * HZ) - 1);
    expect(reg(rtc, 0x0a) & 0x80).toBe(0);
    at(HZ - Math.ceil(244e-6 * HZ));
    expect(reg(rtc, 0x0a) & 0x80).toBe(0x80);
    at(HZ);
    expect(reg(rtc, 0x0a) & 0x80).toBe(0);
  });

  it("raises IRQ8 for periodic interrupts and holds it until register C is read", () => {
    const { rtc, clock, at, irq } = makeRtc();
    setReg(rtc, 0x0b, 0x42); // PIE
    const first = clock.nextDeadline();
    // 1024 Hz: 32 cycles of 32768 Hz.
    expect(first).toBe(Math.ceil((32 * HZ) / 32768));
    at(first);
    clock.fireDue();
    expect(irq()).toBe(true);
    at(first * 3);
    clock.fireDue();
    expect(reg(rtc, 0x0c)).toBe(0xc0);
    expect(irq()).toBe(false);
    expect(reg(rtc, 0x0c)).toBe(0x00);
  });

  it("sets the update-ended and periodic flags with their interrupts off, without IRQF", () => {
    const { rtc, at, irq } = makeRtc();
    expect(reg(rtc, 0x0c)).toBe(0);
    at(HZ + 5);
    expect(irq()).toBe(false);
    expect(reg(rtc, 0x0c)).toBe(0x50); // UF, and PF (the 1024 Hz rate is running)
    expect(reg(rtc, 0x0c)).toBe(0);
    setReg(rtc, 0x0a, 0x20); // rate 0: periodic flag off
    at(3 * HZ + 5);
    expect(reg(rtc, 0x0c)).toBe(0x10);
  });

  it("fires the alarm interrupt at the matching second", () => {
    const { rtc, clock, at, irq } = makeRtc();
    setReg(rtc, 0x01, 0x05);
    setReg(rtc, 0x03, 0xc0);
    setReg(rtc, 0x05, 0xc0);
    setReg(rtc, 0x0b, 0x22); // AIE
    let t = 0;
    while (!irq()) {
      t = clock.nextDeadline();
      at(t);
      clock.fireDue();
    }
    expect(t).toBe(5 * HZ);
    expect(reg(rtc, 0x0c) & 0xa0).toBe(0xa0);
  });

  it("stores the memory sizes QEMU's BIOS leaves for 128 MiB", () => {
    const { rtc } = makeRtc();
    rtc.setMemorySize(128 * 1024 * 1024);
    expect([0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35].map((i) => reg(rtc, i))).toEqual([0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07]);
    setReg(rtc, 0x40, 0x12);
    expect(reg(rtc, 0x40)).toBe(0x12);
  });
});
