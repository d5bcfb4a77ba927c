// 8259A PIC pair: initialization words, priority resolution, EOI forms,
// cascade, edge/level triggering, spurious IRQs, auto-EOI, rotation, poll
// mode, special mask and special fully nested modes (Intel 8259A datasheet).
import { describe, expect, it } from "vitest";
import { PicPair } from "../src/emulator/devices/pic.js";
import { Trace } from "../src/emulator/trace.js";

function makePair(opts: { masterIcw4?: number; slaveIcw4?: number } = {}): { pic: PicPair; intr: () => boolean } {
  let line = false;
  const pic = new PicPair((level) => { line = level; }, new Trace());
  // Remap: master vectors 0x20-0x27, slave 0x28-0x2F, cascade on IR2.
  pic.write(0x20, 1, 0x11);
  pic.write(0x21, 1, 0x20);
  pic.write(0x21, 1, 0x04);
  pic.write(0x21, 1, opts.masterIcw4 ?? 0x01);
  pic.write(0xa0, 1, 0x11);
  pic.write(0xa1, 1, 0x28);
  pic.write(0xa1, 1, 0x02);
  pic.write(0xa1, 1, opts.slaveIcw4 ?? 0x01);
  pic.write(0x21, 1, 0x00);
  pic.write(0xa1, 1, 0x00);
  return { pic, intr: () => line };
}

const readIrr = (pic: PicPair, port: number): number => { pic.write(port, 1, 0x0a); return pic.read(port, 1); };
const readIsr = (pic: PicPair, port: number): number => { pic.write(port, 1, 0x0b); return pic.read(port, 1); };
const pulse = (pic: PicPair, irq: number): void => { pic.setIrq(irq, true); pic.setIrq(irq, false); };

describe("8259A PIC", () => {
  it("delivers the programmed vector and records the request in ISR", () => {
    const { pic, intr } = makePair();
    expect(intr()).toBe(false);
    pulse(pic, 1);
    expect(intr()).toBe(true);
    expect(readIrr(pic, 0x20)).toBe(0x02);
    expect(pic.acknowledge()).toBe(0x21);
    expect(readIsr(pic, 0x20)).toBe(0x02);
    expect(readIrr(pic, 0x20)).toBe(0x00);
    expect(intr()).toBe(false);
  });

  it("resolves fixed priority: lower IR number first, higher priority nests over an in-service one", () => {
    const { pic, intr } = makePair();
    pulse(pic, 5);
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
    // IR5 is lower priority than IR3 in service: blocked.
    expect(intr()).toBe(false);
    pulse(pic, 0);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect(readIsr(pic, 0x20)).toBe(0x09);
    // Non-specific EOI clears the highest-priority in-service level (IR0), then IR3.
    pic.write(0x20, 1, 0x20);
    expect(readIsr(pic, 0x20)).toBe(0x08);
    expect(intr()).toBe(false);
    pic.write(0x20, 1, 0x20);
    expect(readIsr(pic, 0x20)).toBe(0x00);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
  });

  it("specific EOI clears exactly the named level", () => {
    const { pic } = makePair();
    pulse(pic, 4);
    pic.acknowledge();
    pulse(pic, 1);
    pic.acknowledge();
    expect(readIsr(pic, 0x20) & 0x12).toBe(0x12);
    pic.write(0x20, 1, 0x60 | 4); // specific EOI for IR4
    expect(readIsr(pic, 0x20) & 0x12).toBe(0x02);
  });

  it("masks requests with IMR without losing them", () => {
    const { pic, intr } = makePair();
    pic.write(0x21, 1, 0x08);
    expect(pic.read(0x21, 1)).toBe(0x08);
    pulse(pic, 3);
    expect(intr()).toBe(false);
    expect(readIrr(pic, 0x20)).toBe(0x08);
    pic.write(0x21, 1, 0x00);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x23);
  });

  it("cascades the slave through IR2: slave vector, both ISRs set, EOI to both", () => {
    const { pic, intr } = makePair();
    pulse(pic, 10);
    expect(intr()).toBe(true);
    expect(readIrr(pic, 0xa0)).toBe(0x04);
    expect(pic.acknowledge()).toBe(0x2a);
    expect(readIsr(pic, 0xa0)).toBe(0x04);
    expect(readIsr(pic, 0x20)).toBe(0x04);
    // While the cascade is in service, master IR3..7 are blocked; IR0/IR1 are not.
    pulse(pic, 4);
    expect(intr()).toBe(false);
    pic.write(0xa0, 1, 0x20);
    pic.write(0x20, 1, 0x20);
    expect(readIsr(pic, 0xa0)).toBe(0);
    expect(readIsr(pic, 0x20)).toBe(0);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it("does not lose a second slave request queued behind the first", () => {
    const { pic, intr } = makePair();
    pulse(pic, 9);
    pulse(pic, 12);
    expect(pic.acknowledge()).toBe(0x29);
    pic.write(0xa0, 1, 0x20);
    pic.write(0x20, 1, 0x20);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2c);
  });

  it("is edge-triggered: a line held high requests once; a new rising edge requests again", () => {
    const { pic, intr } = makePair();
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x23);
    pic.write(0x20, 1, 0x20);
    pic.setIrq(3, true); // still high: no new edge
    expect(intr()).toBe(false);
    pic.setIrq(3, false);
    pic.setIrq(3, true);
    expect(intr()).toBe(true);
  });

  it("keeps an edge latched after the line drops", () => {
    const { pic, intr } = makePair();
    pulse(pic, 6);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x26);
  });

  it("follows the line in level mode (ELCR): IRR clears when the line drops", () => {
    const { pic, intr } = makePair();
    pic.write(0x4d1, 1, 0x0c); // IRQ10, IRQ11 level-triggered
    expect(pic.read(0x4d1, 1)).toBe(0x0c);
    pic.setIrq(11, true);
    expect(intr()).toBe(true);
    pic.setIrq(11, false);
    expect(intr()).toBe(false);
    // Level requests stay in IRR after acknowledge while the line is high, and come back after EOI.
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x2b);
    expect(readIrr(pic, 0xa0)).toBe(0x08);
    pic.write(0xa0, 1, 0x20);
    pic.write(0x20, 1, 0x20);
    expect(intr()).toBe(true);
  });

  it("keeps the always-edge inputs out of ELCR", () => {
    const { pic } = makePair();
    pic.write(0x4d0, 1, 0xff);
    pic.write(0x4d1, 1, 0xff);
    expect(pic.read(0x4d0, 1)).toBe(0xf8);
    expect(pic.read(0x4d1, 1)).toBe(0xde);
  });

  it("answers an acknowledge with nothing pending with spurious IR7, without setting ISR", () => {
    const { pic } = makePair();
    expect(pic.acknowledge()).toBe(0x27);
    expect(readIsr(pic, 0x20)).toBe(0);
  });

  it("answers a vanished slave request with spurious IR15, leaving the master's IR2 in service", () => {
    const { pic } = makePair();
    pic.master.irr |= 0x04; // the master saw the slave's INT, which then went away before INTA
    expect(pic.acknowledge()).toBe(0x2f);
    expect(readIsr(pic, 0xa0)).toBe(0);
    expect(readIsr(pic, 0x20)).toBe(0x04);
  });

  it("auto-EOI mode does not set ISR", () => {
    const { pic, intr } = makePair({ masterIcw4: 0x03 });
    pulse(pic, 5);
    expect(pic.acknowledge()).toBe(0x25);
    expect(readIsr(pic, 0x20)).toBe(0);
    pulse(pic, 6);
    expect(intr()).toBe(true);
  });

  it("rotates priorities on non-specific EOI and with set-priority", () => {
    const { pic } = makePair();
    pulse(pic, 1);
    expect(pic.acknowledge()).toBe(0x21);
    pic.write(0x20, 1, 0xa0); // rotate on non-specific EOI: IR1 becomes lowest, IR2 highest
    pulse(pic, 1);
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
    pic.write(0x20, 1, 0x20);
    // Set priority: IR4 lowest, so IR5 is the highest.
    pic.write(0x20, 1, 0xc0 | 4);
    pulse(pic, 5);
    expect(pic.acknowledge()).toBe(0x25);
    pic.write(0x20, 1, 0x20);
    expect(pic.acknowledge()).toBe(0x21);
  });

  it("rotates in auto-EOI mode when asked", () => {
    const { pic } = makePair({ masterIcw4: 0x03 });
    pic.write(0x20, 1, 0x80); // set rotate in auto-EOI
    pulse(pic, 0);
    expect(pic.acknowledge()).toBe(0x20);
    pulse(pic, 0);
    pulse(pic, 7);
    // IR0 is now lowest priority, so IR7 wins.
    expect(pic.acknowledge()).toBe(0x27);
  });

  it("answers poll commands with 0x80 | level and acknowledges it", () => {
    const { pic, intr } = makePair();
    pic.write(0x20, 1, 0x0c); // OCW3 poll
    expect(pic.read(0x20, 1)).toBe(0);
    pulse(pic, 6);
    pic.write(0x20, 1, 0x0c);
    expect(pic.read(0x20, 1)).toBe(0x86);
    expect(readIsr(pic, 0x20)).toBe(0x40);
    expect(intr()).toBe(false);
  });

  it("special mask mode lets lower priorities through a masked in-service level", () => {
    const { pic, intr } = makePair();
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
    pulse(pic, 6);
    expect(intr()).toBe(false);
    pic.write(0x21, 1, 0x08); // mask IR3 (in service)
    pic.write(0x20, 1, 0x68); // OCW3: set special mask
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x26);
    pic.write(0x20, 1, 0x48); // reset special mask
    pic.write(0x20, 1, 0x66); // specific EOI IR6
    expect(readIsr(pic, 0x20)).toBe(0x08);
  });

  it("special fully nested mode lets a higher-priority slave request through while the slave is in service", () => {
    const normal = makePair();
    pulse(normal.pic, 12);
    expect(normal.pic.acknowledge()).toBe(0x2c);
    pulse(normal.pic, 9);
    expect(normal.intr()).toBe(false);

    const sfnm = makePair({ masterIcw4: 0x11 });
    pulse(sfnm.pic, 12);
    expect(sfnm.pic.acknowledge()).toBe(0x2c);
    pulse(sfnm.pic, 9);
    expect(sfnm.intr()).toBe(true);
    expect(sfnm.pic.acknowledge()).toBe(0x29);
  });

  it("ICW1 resets the mask, in-service state and latched edges", () => {
    const { pic, intr } = makePair();
    pic.write(0x21, 1, 0xff);
    pulse(pic, 4);
    pic.write(0x21, 1, 0x00);
    pic.acknowledge();
    pic.write(0x21, 1, 0xf0);
    pulse(pic, 5);
    pic.write(0x20, 1, 0x11);
    pic.write(0x21, 1, 0x30);
    pic.write(0x21, 1, 0x04);
    pic.write(0x21, 1, 0x01);
    expect(pic.read(0x21, 1)).toBe(0);
    expect(readIsr(pic, 0x20)).toBe(0);
    expect(readIrr(pic, 0x20)).toBe(0);
    expect(intr()).toBe(false);
    pulse(pic, 5);
    expect(pic.acknowledge()).toBe(0x35);
  });

  it("after ICW1, an input already high must go low and high again to request", () => {
    const { pic, intr } = makePair();
    pic.setIrq(3, true);
    pic.write(0x20, 1, 0x11);
    pic.write(0x21, 1, 0x20);
    pic.write(0x21, 1, 0x04);
    pic.write(0x21, 1, 0x01);
    pic.setIrq(3, true);
    expect(intr()).toBe(false);
    pic.setIrq(3, false);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x23);
  });
});
