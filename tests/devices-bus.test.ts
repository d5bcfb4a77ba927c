// The virtual clock (exact tick/unit conversion, timer order, skipping) and
// the port and MMIO buses (claims, width splitting, unclaimed all-ones).
import { describe, expect, it } from "vitest";
import { ticksToUnits, unitsToTicks, VirtualClock } from "../src/emulator/clock.js";
import { PortBus, SIZE_8, SIZE_ANY } from "../src/emulator/bus/ports.js";
import { MmioBus } from "../src/emulator/bus/mmio.js";
import { PhysicalMemory } from "../src/emulator/memory/phys.js";
import { Trace } from "../src/emulator/trace.js";

describe("virtual clock", () => {
  it("converts ticks to the PIT and RTC clocks exactly, and back to the first tick reaching a count", () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const hz of [1_000_000, 1_193_182, 100_000_000, 3_999_999_999]) {
      for (const units of [1_193_182, 32768]) {
        for (let k = 0; k < 200; k++) {
          const t = Math.floor(rand() * 2 ** 45);
          const u = ticksToUnits(t, hz, units);
          // floor(t * units / hz) computed exactly with BigInt as the reference.
          expect(BigInt(u)).toBe((BigInt(t) * BigInt(units)) / BigInt(hz));
          const back = unitsToTicks(u, hz, units);
          expect(ticksToUnits(back, hz, units)).toBeGreaterThanOrEqual(u);
          if (back > 0) expect(ticksToUnits(back - 1, hz, units)).toBeLessThan(u);
        }
      }
    }
  });

  it("fires timers in deadline order, ties in creation order, and lets them re-arm", () => {
    const counter = { icount: 0 };
    const clock = new VirtualClock(counter, 1_000_000);
    const log: string[] = [];
    const a = clock.timer("a", (d) => { log.push(`a@${d}`); if (d < 40) a.set(d + 20); });
    const b = clock.timer("b", (d) => log.push(`b@${d}`));
    const c = clock.timer("c", (d) => log.push(`c@${d}`));
    a.set(10);
    b.set(10);
    c.set(5);
    expect(clock.nextDeadline()).toBe(5);
    counter.icount = 40;
    expect(clock.fireDue()).toBe(4);
    expect(log).toEqual(["c@5", "a@10", "b@10", "a@30"]);
    expect(clock.nextDeadline()).toBe(50);
  });

  it("adds skipped idle time on top of retired instructions and never goes back", () => {
    const counter = { icount: 100 };
    const clock = new VirtualClock(counter, 1_000_000);
    clock.advanceTo(1000);
    expect(clock.now()).toBe(1000);
    clock.advanceTo(500);
    expect(clock.now()).toBe(1000);
    counter.icount = 150;
    expect(clock.now()).toBe(1050);
    expect(clock.skippedTicks).toBe(900);
    expect(clock.nanoseconds()).toBe(1_050_000);
  });

  it("refuses frequencies outside its range", () => {
    expect(() => new VirtualClock({ icount: 0 }, 999)).toThrow(/frequency/);
  });
});

describe("port bus", () => {
  it("dispatches claimed ports, splits wide accesses on byte devices, and reads all-ones elsewhere", () => {
    const bus = new PortBus(new Trace());
    const regs = new Uint8Array(4);
    const log: string[] = [];
    bus.register(0x100, 4, {
      read: (p) => regs[p - 0x100]!,
      write: (p, _s, v) => { log.push(`${p.toString(16)}=${v.toString(16)}`); regs[p - 0x100] = v; },
    }, SIZE_8);
    bus.out(0x100, 4, 0x44332211);
    expect(log).toEqual(["100=11", "101=22", "102=33", "103=44"]);
    expect(bus.in(0x102, 2)).toBe(0x4433);
    expect(bus.in(0x103, 2)).toBe(0xff44); // 0x104 is unclaimed
    expect(bus.in(0x200, 4)).toBe(-1);
    expect(bus.in(0x200, 1)).toBe(0xff);
  });

  it("passes native widths through and refuses overlapping claims", () => {
    const bus = new PortBus(new Trace());
    const dev = { read: (_p: number, s: number) => (s === 4 ? 0x12345678 : 0xab), write: () => {} };
    bus.register(0x10, 4, dev, SIZE_ANY);
    expect(bus.in(0x10, 4)).toBe(0x12345678);
    expect(() => bus.register(0x12, 1, { read: () => 0, write: () => {} })).toThrow(/already claimed/);
    expect(bus.isFree(0x14, 4)).toBe(true);
    bus.unregister(0x10, 4, dev);
    expect(bus.in(0x10, 1)).toBe(0xff);
  });
});

describe("MMIO bus", () => {
  it("routes regions inside its window and reads all-ones in the gaps", () => {
    const mem = new PhysicalMemory(2 * 1024 * 1024);
    const bus = new MmioBus(mem, 0xe0000000, 0x1000000);
    const handler = { read: (o: number) => 0x1000 + o, write: () => {} };
    bus.map(0xe0001000, 0x100, handler);
    expect(mem.read(0xe0001010, 4)).toBe(0x1010);
    expect(mem.read(0xe0002000, 4)).toBe(-1);
    expect(() => bus.map(0xe0001080, 0x100, handler)).toThrow(/overlaps/);
    expect(() => bus.map(0xd0000000, 0x100, handler)).toThrow(/outside the window/);
    bus.unmap(0xe0001000, handler);
    expect(mem.read(0xe0001010, 1)).toBe(0xff);
  });
});
