// 8254 PIT: counting modes 0-5, access modes, counter latch, read-back,
// BCD, gate behaviour on channel 2, and channel 0's IRQ0 edges on the virtual
// clock (Intel 8254 datasheet). The clock runs at exactly the PIT input
// frequency here, so one tick is one PIT clock.
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../src/emulator/clock.js";
import { Pit8254, PIT_HZ } from "../src/emulator/devices/pit.js";
import { Trace } from "../src/emulator/trace.js";

function makePit(): {
  pit: Pit8254; clock: VirtualClock; at: (t: number) => void; irq: boolean[]; rises: number[]; level: () => boolean;
} {
  const counter = { icount: 0 };
  const clock = new VirtualClock(counter, PIT_HZ);
  let line = false;
  const irq: boolean[] = [];
  const rises: number[] = [];
  const pit = new Pit8254(clock, (l) => {
    if (l && !line) rises.push(clock.now());
    line = l;
    irq.push(l);
  }, new Trace());
  return { pit, clock, at: (t) => { counter.icount = t; }, irq, rises, level: () => line };
}

/** Runs the clock to `t`, firing timers on the way (as the machine does). */
function runTo(clock: VirtualClock, at: (t: number) => void, t: number): void {
  for (;;) {
    const d = clock.nextDeadline();
    if (d > t) break;
    at(d);
    clock.fireDue();
  }
  at(t);
}

const latch = (pit: Pit8254, ch: number): number => {
  pit.write(0x43, 1, ch << 6);
  return pit.read(0x40 + ch, 1) | (pit.read(0x40 + ch, 1) << 8);
};

describe("8254 PIT", () => {
  it("mode 0: OUT low until terminal count N+1 clocks after the write; count runs down through zero", () => {
    const { pit, clock, at, level } = makePit();
    pit.write(0x43, 1, 0x30); // ch0, lo/hi, mode 0
    expect(level()).toBe(false);
    pit.write(0x40, 1, 100);
    pit.write(0x40, 1, 0);
    expect(latch(pit, 0)).toBe(100);
    at(1 + 40);
    expect(latch(pit, 0)).toBe(60);
    expect(clock.nextDeadline()).toBe(101);
    runTo(clock, at, 100);
    expect(level()).toBe(false);
    runTo(clock, at, 101);
    expect(level()).toBe(true);
    at(103);
    expect(latch(pit, 0)).toBe(0xfffe);
    expect(clock.nextDeadline()).toBe(Infinity);
  });

  it("mode 2: a rising edge on IRQ0 every N clocks, OUT low for the one clock at count 1", () => {
    const { pit, clock, at, irq } = makePit();
    pit.write(0x43, 1, 0x34); // ch0, lo/hi, mode 2
    pit.write(0x40, 1, 10);
    pit.write(0x40, 1, 0);
    irq.length = 0;
    runTo(clock, at, 1 + 35);
    // Falls at 10, rises at 11, falls at 20, rises at 21, falls at 30, rises at 31.
    expect(irq).toEqual([false, true, false, true, false, true]);
    at(1 + 35);
    expect(latch(pit, 0)).toBe(5);
  });

  it("mode 3: square wave, high for ceil(N/2) and low for floor(N/2), counting by two", () => {
    const { pit, clock, at, level } = makePit();
    pit.write(0x43, 1, 0x36); // ch0, lo/hi, mode 3
    pit.write(0x40, 1, 9);
    pit.write(0x40, 1, 0);
    const seen: boolean[] = [];
    for (let t = 1; t < 1 + 18; t++) {
      runTo(clock, at, t);
      seen.push(level());
    }
    expect(seen).toEqual([true, true, true, true, true, false, false, false, false, true, true, true, true, true, false, false, false, false]);
    const even = makePit();
    even.pit.write(0x43, 1, 0x36);
    even.pit.write(0x40, 1, 8);
    even.pit.write(0x40, 1, 0);
    const counts: number[] = [];
    for (let t = 1; t < 9; t++) { even.at(t); counts.push(latch(even.pit, 0)); }
    expect(counts).toEqual([8, 6, 4, 2, 8, 6, 4, 2]);
  });

  it("mode 4: OUT pulses low for one clock at terminal count", () => {
    const { pit, clock, at, irq } = makePit();
    pit.write(0x43, 1, 0x38); // ch0, lo/hi, mode 4
    pit.write(0x40, 1, 5);
    pit.write(0x40, 1, 0);
    irq.length = 0;
    runTo(clock, at, 100);
    expect(irq).toEqual([false, true]);
    expect(clock.nextDeadline()).toBe(Infinity);
  });

  it("latches a count for reading while the counter keeps going", () => {
    const { pit, at } = makePit();
    pit.write(0x43, 1, 0x74); // ch1, lo/hi, mode 2
    pit.write(0x41, 1, 0x34);
    pit.write(0x41, 1, 0x12);
    at(1 + 0x100);
    pit.write(0x43, 1, 0x40); // latch ch1
    at(1 + 0x200);
    pit.write(0x43, 1, 0x40); // ignored: the first latch is unread
    expect(pit.read(0x41, 1)).toBe(0x34);
    expect(pit.read(0x41, 1)).toBe(0x11);
    // Unlatched reads follow the live count.
    expect(pit.read(0x41, 1) | (pit.read(0x41, 1) << 8)).toBe(0x1234 - 0x200);
  });

  it("supports LSB-only and MSB-only access", () => {
    const { pit, at } = makePit();
    pit.write(0x43, 1, 0x50); // ch1, LSB only, mode 0
    pit.write(0x41, 1, 0x80);
    at(1 + 0x10);
    expect(pit.read(0x41, 1)).toBe(0x70);
    pit.write(0x43, 1, 0x60); // ch1, MSB only, mode 0
    pit.write(0x41, 1, 0x02);
    at(1 + 0x10 + 1 + 0x100);
    expect(pit.read(0x41, 1)).toBe(0x01);
  });

  it("read-back latches status (OUT, null count, access, mode, BCD) and counts of several channels", () => {
    const { pit, at } = makePit();
    pit.write(0x43, 1, 0x34); // ch0 mode 2 lo/hi
    pit.write(0x43, 1, 0xb1); // ch2 mode 0 lo/hi BCD
    pit.write(0x43, 1, 0xe2); // read-back status of ch0
    expect(pit.read(0x40, 1)).toBe(0x80 | 0x40 | 0x30 | 0x04);
    pit.write(0x40, 1, 0x00);
    pit.write(0x40, 1, 0x10);
    at(5);
    pit.write(0x43, 1, 0xc2); // status + count of ch0
    expect(pit.read(0x40, 1)).toBe(0x80 | 0x30 | 0x04); // loaded: null count clear
    expect(pit.read(0x40, 1) | (pit.read(0x40, 1) << 8)).toBe(0x1000 - 4);
    pit.write(0x43, 1, 0xe8); // status of ch2
    expect(pit.read(0x42, 1)).toBe(0x40 | 0x30 | 0x01);
  });

  it("counts in BCD", () => {
    const { pit, at } = makePit();
    pit.write(0x43, 1, 0x71); // ch1, lo/hi, mode 0, BCD
    pit.write(0x41, 1, 0x00);
    pit.write(0x41, 1, 0x10); // 1000 decimal
    at(1 + 1);
    expect(latch(pit, 1)).toBe(0x0999);
    at(1 + 1000 + 1);
    expect(latch(pit, 1)).toBe(0x9999);
  });

  it("mode 2 takes a new count at the end of the current period", () => {
    const { pit, clock, at, rises } = makePit();
    pit.write(0x43, 1, 0x34);
    pit.write(0x40, 1, 10);
    pit.write(0x40, 1, 0);
    runTo(clock, at, 5);
    pit.write(0x40, 1, 4);
    pit.write(0x40, 1, 0);
    rises.length = 0;
    runTo(clock, at, 24);
    // The old period still ends at 11; then every 4 clocks.
    expect(rises).toEqual([11, 15, 19, 23]);
  });

  it("channel 2 gate (port 0x61 bit 0) holds a mode 0 count while low, and OUT shows in the pit's output", () => {
    const { pit, at } = makePit();
    pit.setGate2(false);
    pit.write(0x43, 1, 0xb0); // ch2, lo/hi, mode 0
    pit.write(0x42, 1, 50);
    pit.write(0x42, 1, 0);
    at(30);
    expect(latch(pit, 2)).toBe(50);
    pit.setGate2(true);
    at(30 + 20);
    expect(latch(pit, 2)).toBe(30);
    expect(pit.output(2)).toBe(false);
    pit.setGate2(false);
    at(200);
    expect(latch(pit, 2)).toBe(30);
    pit.setGate2(true);
    at(200 + 30);
    expect(pit.output(2)).toBe(true);
  });

  it("mode 1 and 5 wait for a gate trigger", () => {
    const { pit, at } = makePit();
    pit.setGate2(false);
    pit.write(0x43, 1, 0x92); // ch2, LSB, mode 1
    pit.write(0x42, 1, 10);
    at(20);
    expect(pit.output(2)).toBe(true);
    pit.setGate2(true); // trigger at 20: loads at 21
    at(22);
    expect(pit.output(2)).toBe(false);
    at(31);
    expect(pit.output(2)).toBe(true);
    pit.write(0x43, 1, 0x9a); // ch2, LSB, mode 5
    pit.write(0x42, 1, 3);
    pit.setGate2(false);
    at(40);
    pit.setGate2(true); // trigger: strobe at 41 + 3
    at(44);
    expect(pit.output(2)).toBe(false);
    at(45);
    expect(pit.output(2)).toBe(true);
  });

  it("gate low in mode 3 forces OUT high; the rising edge restarts the period", () => {
    const { pit, at } = makePit();
    pit.setGate2(true);
    pit.write(0x43, 1, 0xb6); // ch2, lo/hi, mode 3
    pit.write(0x42, 1, 100);
    pit.write(0x42, 1, 0);
    at(1 + 60);
    expect(pit.output(2)).toBe(false);
    pit.setGate2(false);
    expect(pit.output(2)).toBe(true);
    at(500);
    pit.setGate2(true);
    at(501 + 49);
    expect(pit.output(2)).toBe(true);
    at(501 + 50);
    expect(pit.output(2)).toBe(false);
  });

  it("converts PIT clocks to machine ticks exactly at other clock rates", () => {
    const counter = { icount: 0 };
    const clock = new VirtualClock(counter, 100_000_000);
    const pit = new Pit8254(clock, () => {}, new Trace());
    pit.write(0x43, 1, 0x34);
    pit.write(0x40, 1, 0);
    pit.write(0x40, 1, 0);
    // First falling edge at PIT clock 65536 (count 1): machine tick ceil(65536 * 1e8 / 1193182).
    expect(clock.nextDeadline()).toBe(Math.ceil((65536 * 100_000_000) / PIT_HZ));
    expect(clock.toUnits(clock.nextDeadline(), PIT_HZ)).toBe(65536);
    expect(clock.toUnits(clock.nextDeadline() - 1, PIT_HZ)).toBe(65535);
  });
});
