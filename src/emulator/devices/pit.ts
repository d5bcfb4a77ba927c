// The 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz
// from the virtual clock. Counters are evaluated lazily from the tick at which
// their count was loaded, so reading one costs a division and nothing runs per
// tick; only channel 0's output edges are scheduled, to drive IRQ0.
import type { PortDevice } from "../bus/ports.js";
import type { Timer, VirtualClock } from "../clock.js";
import { hex, type Trace } from "../trace.js";

export const PIT_HZ = 1_193_182;
export const PIT_PORT_BASE = 0x40;
export const PIT_CONTROL = 0x43;

/** Read/write access modes from the control word (RW1:RW0). */
const RW_LATCH = 0;
const RW_LSB = 1;
const RW_MSB = 2;
const RW_LOHI = 3;

/** One counter. Times are in PIT input clocks. */
export class PitChannel {
  mode = 3;
  bcd = false;
  rwMode = RW_LATCH;
  /** Active initial count N (1..65536, or 1..10000 in BCD). */
  count = 0x10000;
  /** A count is loaded (written after the control word). */
  armed = false;
  /** PIT tick at which the counting element holds N (elapsed 0); Infinity while awaiting a gate trigger. */
  startTick = Infinity;
  /** Tick at which counting froze (gate low), or -1. */
  pausedAt = -1;
  gate = true;
  /** A count written while counting (modes 1, 2, 3, 5) waiting for its reload point. */
  pendingCount = 0;
  pendingAt = Infinity;
  nullCount = true;
  // Access state.
  private writeLow = -1; // first byte of a lo/hi write, or -1
  private readHigh = false; // next lo/hi read returns the MSB
  private latchValue = -1; // latched count (encoded), or -1
  private latchHigh = false;
  private statusValue = -1; // latched status, or -1

  /** Control word for this channel (mode/access/BCD), which resets the counter logic. */
  program(rw: number, mode: number, bcd: boolean): void {
    this.rwMode = rw;
    this.mode = mode > 5 ? mode - 4 : mode;
    this.bcd = bcd;
    this.armed = false;
    this.startTick = Infinity;
    this.pausedAt = -1;
    this.pendingCount = 0;
    this.pendingAt = Infinity;
    this.nullCount = true;
    this.writeLow = -1;
    this.readHigh = false;
    this.latchValue = -1;
    this.statusValue = -1;
  }

  /** A byte written to the counter port at PIT time t. */
  writeByte(v: number, t: number): void {
    switch (this.rwMode) {
      case RW_MSB:
        this.load(v << 8, t);
        return;
      case RW_LOHI:
        if (this.writeLow < 0) {
          this.writeLow = v;
          // Mode 0: writing the first byte stops the count (OUT stays low until the new count runs out).
          if (this.mode === 0) {
            this.armed = false;
            this.startTick = Infinity;
          }
          return;
        }
        this.load(this.writeLow | (v << 8), t);
        this.writeLow = -1;
        return;
      default: // RW_LSB, and RW_LATCH on a channel never programmed since reset
        this.load(v, t);
    }
  }

  /** A byte read from the counter port at PIT time t. */
  readByte(t: number): number {
    if (this.statusValue >= 0) {
      const s = this.statusValue;
      this.statusValue = -1;
      return s;
    }
    if (this.latchValue >= 0) {
      const v = this.latchValue;
      if (this.rwMode === RW_LOHI && !this.latchHigh) {
        this.latchHigh = true;
        return v & 0xff;
      }
      this.latchValue = -1;
      this.latchHigh = false;
      return this.rwMode === RW_MSB || this.rwMode === RW_LOHI ? v >>> 8 : v & 0xff;
    }
    const v = this.encodedCount(t);
    switch (this.rwMode) {
      case RW_MSB:
        return v >>> 8;
      case RW_LOHI:
        this.readHigh = !this.readHigh;
        return this.readHigh ? v & 0xff : v >>> 8;
      case RW_LSB:
      default:
        return v & 0xff;
    }
  }

  /** Counter latch command: freezes the current count for reading (ignored while a latch is unread). */
  latchCount(t: number): void {
    if (this.latchValue < 0) {
      this.latchValue = this.encodedCount(t);
      this.latchHigh = false;
    }
  }

  /** Read-back status latch: OUT, null count, access mode, mode, BCD. */
  latchStatus(t: number): void {
    if (this.statusValue < 0) {
      this.settle(t);
      this.statusValue = (this.output(t) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | (this.rwMode << 4) | (this.mode << 1) | (this.bcd ? 1 : 0);
    }
  }

  /** Drives the GATE input at PIT time t. */
  setGate(level: boolean, t: number): void {
    this.settle(t);
    if (level === this.gate) return;
    this.gate = level;
    switch (this.mode) {
      case 0:
      case 4: // gate low suspends counting; high resumes where it stopped
      case 2:
      case 3: // gate low stops counting (OUT forced high); the rising edge reloads
        if (!level) {
          if (this.pausedAt < 0) this.pausedAt = t;
        } else if (this.pausedAt >= 0) {
          if (this.mode === 0 || this.mode === 4) {
            if (this.startTick !== Infinity) this.startTick += t - this.pausedAt;
          } else if (this.armed) {
            this.reloadAt(t + 1);
          }
          this.pausedAt = -1;
        }
        return;
      default: // 1 and 5: a rising edge triggers (or retriggers) the count
        if (level && this.armed) this.reloadAt(t + 1);
    }
  }

  /** OUT at PIT time t. */
  output(t: number): boolean {
    this.settle(t);
    if (!this.armed) return this.mode !== 0;
    if ((this.mode === 2 || this.mode === 3) && !this.gate) return true;
    return outAfter(this.mode, this.count, this.elapsed(t));
  }

  /** First PIT tick after t at which OUT changes, or Infinity. */
  nextEdge(t: number): number {
    this.settle(t);
    if (!this.armed || this.pausedAt >= 0 || this.startTick === Infinity) return Infinity;
    const d = this.elapsed(t);
    const e = this.startTick + edgeAfter(this.mode, this.count, d);
    // A pending count takes over at a reload point, itself an edge of the current count.
    return e > this.pendingAt ? this.pendingAt : e;
  }

  /** Count as the counting element holds it at t (binary, 0..65535). */
  currentCount(t: number): number {
    this.settle(t);
    const n = this.count;
    const m = this.bcd ? 10000 : 0x10000;
    const d = this.elapsed(t);
    if (!this.armed || d < 0) return n % m;
    switch (this.mode) {
      case 2:
        return n - (d % n);
      case 3: {
        const high = (n + 1) >>> 1;
        const p = d % n;
        if ((n & 1) === 0) return n - 2 * (p < n / 2 ? p : p - n / 2);
        return p < high ? n - 1 - 2 * p : n - 1 - 2 * (p - high);
      }
      default: // 0, 1, 4, 5 count down through zero and wrap
        return (((n - d) % m) + m) % m;
    }
  }

  /** Applies a pending count once its reload point has passed; clears null count once loaded. */
  private settle(t: number): void {
    if (this.pendingAt <= t) {
      this.count = this.pendingCount;
      this.startTick = this.pendingAt;
      this.pendingCount = 0;
      this.pendingAt = Infinity;
    }
    if (this.armed && this.pendingCount === 0 && this.startTick <= t) this.nullCount = false;
  }

  private elapsed(t: number): number {
    const at = this.pausedAt >= 0 ? this.pausedAt : t;
    return this.startTick <= at ? at - this.startTick : -1;
  }

  private encodedCount(t: number): number {
    const v = this.currentCount(t);
    return this.bcd ? toBcd(v) : v;
  }

  private load(raw: number, t: number): void {
    this.settle(t);
    let n = this.bcd ? fromBcd(raw) : raw & 0xffff;
    if (n === 0) n = this.bcd ? 10000 : 0x10000;
    this.nullCount = true;
    const counting = this.armed && this.startTick !== Infinity && this.startTick <= t;
    if ((this.mode === 2 || this.mode === 3) && counting && this.pausedAt < 0) {
      // Periodic modes: the new count starts at the end of the current period.
      const d = t - this.startTick;
      this.pendingCount = n;
      this.pendingAt = this.startTick + (Math.floor(d / this.count) + 1) * this.count;
      return;
    }
    if ((this.mode === 1 || this.mode === 5) && this.armed) {
      // Hardware-triggered modes: the new count waits for the next trigger.
      this.pendingCount = n;
      this.pendingAt = Infinity;
      return;
    }
    this.count = n;
    this.armed = true;
    // The count reaches the counting element on the next input clock.
    this.startTick = this.mode === 1 || this.mode === 5 ? Infinity : t + 1;
    // With GATE low, modes 0, 2, 3 and 4 hold the fresh count until GATE rises.
    if (!this.gate && this.mode !== 1 && this.mode !== 5) this.pausedAt = t + 1;
  }

  private reloadAt(tick: number): void {
    if (this.pendingCount !== 0) {
      this.count = this.pendingCount;
      this.pendingCount = 0;
    }
    this.pendingAt = Infinity;
    this.startTick = tick;
  }
}

/** OUT of a running counter `d` clocks after it was loaded (d < 0: not yet loaded). */
function outAfter(mode: number, n: number, d: number): boolean {
  switch (mode) {
    case 0: // low until terminal count, then high
      return d >= n;
    case 1: // high until triggered, low while counting, high at terminal count
      return d < 0 || d >= n;
    case 2: // rate generator: low for the one clock at count 1
      return n < 2 || d < 0 || d % n !== n - 1;
    case 3: // square wave: high for ceil(N/2), low for floor(N/2)
      return n < 2 || d < 0 || d % n < (n + 1) >>> 1;
    default: // 4, 5: strobe: low for the one clock at terminal count
      return d !== n;
  }
}

/** The smallest elapsed count d' > d at which OUT differs from OUT at d, or Infinity. */
function edgeAfter(mode: number, n: number, d: number): number {
  switch (mode) {
    case 0:
      return d < n ? n : Infinity;
    case 1:
      return d < 0 ? 0 : d < n ? n : Infinity;
    case 2: {
      if (n < 2) return Infinity;
      if (d < 0) return n - 1;
      const p = d % n;
      return p < n - 1 ? d + (n - 1 - p) : d + 1;
    }
    case 3: {
      if (n < 2) return Infinity;
      const high = (n + 1) >>> 1;
      if (d < 0) return high;
      const p = d % n;
      return p < high ? d + (high - p) : d + (n - p);
    }
    default:
      return d < n ? n : d === n ? n + 1 : Infinity;
  }
}

function toBcd(v: number): number {
  return (v % 10) | ((Math.floor(v / 10) % 10) << 4) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 1000) % 10) << 12);
}

function fromBcd(v: number): number {
  return (v & 0xf) + ((v >>> 4) & 0xf) * 10 + ((v >>> 8) & 0xf) * 100 + ((v >>> 12) & 0xf) * 1000;
}

export class Pit8254 implements PortDevice {
  readonly channels = [new PitChannel(), new PitChannel(), new PitChannel()];
  private readonly timer: Timer;
  /** The channel-0 edge the timer is armed for (PIT ticks). */
  private edgeTick = Infinity;

  constructor(
    private readonly clock: VirtualClock,
    private readonly irq0: (level: boolean) => void,
    private readonly trace: Trace,
  ) {
    this.timer = clock.timer("pit", () => this.onEdge());
  }

  /** Current time in PIT input clocks. */
  now(): number {
    return this.clock.toUnits(this.clock.now(), PIT_HZ);
  }

  read(port: number, _size: number): number {
    if (port === PIT_CONTROL) return 0xff; // the control register is write-only
    return this.channels[port - PIT_PORT_BASE]!.readByte(this.now());
  }

  write(port: number, _size: number, value: number): void {
    const t = this.now();
    if (port !== PIT_CONTROL) {
      const ch = port - PIT_PORT_BASE;
      this.channels[ch]!.writeByte(value & 0xff, t);
      if (ch === 0) this.rescheduleIrq0(t);
      return;
    }
    const sel = value >>> 6;
    if (sel === 3) {
      // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 1-3 pick channels.
      for (let c = 0; c < 3; c++) {
        if ((value & (2 << c)) === 0) continue;
        const ch = this.channels[c]!;
        if ((value & 0x10) === 0) ch.latchStatus(t);
        if ((value & 0x20) === 0) ch.latchCount(t);
      }
      return;
    }
    const ch = this.channels[sel]!;
    const rw = (value >>> 4) & 3;
    if (rw === RW_LATCH) {
      ch.latchCount(t);
      return;
    }
    ch.program(rw, (value >>> 1) & 7, (value & 1) !== 0);
    if (this.trace.on("devices")) this.trace.emit("devices", `PIT channel ${sel}: mode ${ch.mode}, access ${rw}, ${ch.bcd ? "BCD" : "binary"} (${hex(value, 2)})`);
    if (sel === 0) this.rescheduleIrq0(t);
  }

  /** GATE of channel 2 (port 0x61 bit 0). */
  setGate2(level: boolean): void {
    this.channels[2]!.setGate(level, this.now());
  }

  /** OUT of a channel now (channel 2 is visible at port 0x61 bit 5). */
  output(channel: number): boolean {
    return this.channels[channel]!.output(this.now());
  }

  /** Sets IRQ0 to channel 0's OUT and arms the timer for its next change. */
  private rescheduleIrq0(t: number): void {
    const ch = this.channels[0]!;
    this.irq0(ch.output(t));
    this.edgeTick = ch.nextEdge(t);
    if (this.edgeTick === Infinity) this.timer.cancel();
    else this.timer.set(this.clock.fromUnits(this.edgeTick, PIT_HZ));
  }

  /**
   * Channel 0's OUT changed: drive IRQ0 with the level just after the edge
   * (not "now", which may be later when time was skipped), then look for the
   * next edge from there; edges already in the past fire at once.
   */
  private onEdge(): void {
    const ch = this.channels[0]!;
    const edge = this.edgeTick;
    this.irq0(ch.output(edge));
    const t = this.now();
    const next = ch.nextEdge(Math.max(edge, t - 1));
    this.edgeTick = next;
    if (next === Infinity) this.timer.cancel();
    else this.timer.set(this.clock.fromUnits(next, PIT_HZ));
  }
}
