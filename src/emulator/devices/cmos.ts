// The MC146818-compatible CMOS RTC at 0x70/0x71: the clock registers (BCD or
// binary, 12- or 24-hour), status registers A-D with update-in-progress,
// periodic / alarm / update-ended interrupts on IRQ8, and 114 bytes of CMOS
// RAM holding the memory sizes a PC BIOS leaves there. Time of day is the
// machine's start time plus virtual time, so deterministic runs see the same dates.
import type { PortDevice } from "../bus/ports.js";
import type { Timer, VirtualClock } from "../clock.js";

export const CMOS_INDEX = 0x70;
export const CMOS_DATA = 0x71;

/** The RTC's crystal: 32.768 kHz. */
const RTC_HZ = 32768;
/** UIP rises this long before each update. */
const UIP_LEAD_SECONDS = 244e-6;

// Clock registers.
const R_SECONDS = 0x00;
const R_SECONDS_ALARM = 0x01;
const R_MINUTES = 0x02;
const R_MINUTES_ALARM = 0x03;
const R_HOURS = 0x04;
const R_HOURS_ALARM = 0x05;
const R_DAY_OF_WEEK = 0x06;
const R_DAY_OF_MONTH = 0x07;
const R_MONTH = 0x08;
const R_YEAR = 0x09;
const R_A = 0x0a;
const R_B = 0x0b;
const R_C = 0x0c;
const R_D = 0x0d;
const R_CENTURY = 0x32;

// Register A/B/C bits.
const A_UIP = 0x80;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_DM_BINARY = 0x04;
const B_24HOUR = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
const D_VRT = 0x80;

export class CmosRtc implements PortDevice {
  private index = 0;
  /** CMOS RAM (indices 0x0E-0x7F are plain storage; the clock registers live in fields). */
  readonly ram = new Uint8Array(128);
  private regA = 0x26; // 32.768 kHz divider, 1024 Hz periodic rate
  private regB = B_24HOUR;
  private flags = 0; // register C without IRQF
  private readonly alarm = [0, 0, 0]; // seconds, minutes, hours as written
  /** Offset (seconds) added to the start time by guest writes to the clock. */
  private offsetSeconds = 0;
  /** While SET is on, time stands still at this (Unix) second. */
  private frozenAt = -1;
  private lastPeriod = 0;
  private lastSecond = 0;
  private readonly periodicTimer: Timer;
  private readonly updateTimer: Timer;
  private irqLevel = false;

  /** `startSeconds`: Unix time at virtual time zero (whole seconds). */
  constructor(
    private readonly clock: VirtualClock,
    private readonly startSeconds: number,
    private readonly irq8: (level: boolean) => void,
  ) {
    this.periodicTimer = clock.timer("rtc-periodic", () => {
      this.flags |= C_PF;
      this.lastPeriod = this.periodIndex();
      this.armPeriodic();
      this.updateIrq();
    });
    this.updateTimer = clock.timer("rtc-update", () => {
      this.collectSecondFlags();
      this.armUpdate();
      this.updateIrq();
    });
    this.lastSecond = this.virtualSecond();
  }

  /** Records the memory sizes a BIOS stores (base, extended, above 16 MiB, above 4 GiB) and the century. */
  setMemorySize(ramBytes: number): void {
    const put16 = (lo: number, v: number): void => {
      this.ram[lo] = v & 0xff;
      this.ram[lo + 1] = (v >>> 8) & 0xff;
    };
    put16(0x15, 640);
    const extKiB = Math.min(0xffff, Math.max(0, Math.floor(ramBytes / 1024) - 1024));
    put16(0x17, extKiB);
    put16(0x30, extKiB);
    const above16M = Math.min(0xffff, Math.max(0, Math.floor((Math.min(ramBytes, 0xe0000000) - 0x1000000) / 0x10000)));
    put16(0x34, above16M);
    this.ram[0x5b] = 0;
    this.ram[0x5c] = 0;
    this.ram[0x5d] = 0;
  }

  /** Unix time (whole seconds) the RTC shows now. */
  unixSeconds(): number {
    if (this.frozenAt >= 0) return this.frozenAt;
    return this.startSeconds + this.offsetSeconds + this.virtualSecond();
  }

  read(port: number, _size: number): number {
    if (port === CMOS_INDEX) return 0xff; // the index register is write-only
    const i = this.index;
    switch (i) {
      case R_SECONDS:
      case R_MINUTES:
      case R_HOURS:
      case R_DAY_OF_WEEK:
      case R_DAY_OF_MONTH:
      case R_MONTH:
      case R_YEAR:
      case R_CENTURY:
        return this.readClock(i);
      case R_SECONDS_ALARM: return this.alarm[0]!;
      case R_MINUTES_ALARM: return this.alarm[1]!;
      case R_HOURS_ALARM: return this.alarm[2]!;
      case R_A: return this.regA | (this.updateInProgress() ? A_UIP : 0);
      case R_B: return this.regB;
      case R_C: return this.readC();
      case R_D: return D_VRT;
      default: return this.ram[i]!;
    }
  }

  write(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    if (port === CMOS_INDEX) {
      // Bit 7 gates NMI on a PC; the machine has no NMI sources, so only the index matters.
      this.index = v & 0x7f;
      return;
    }
    const i = this.index;
    switch (i) {
      case R_SECONDS:
      case R_MINUTES:
      case R_HOURS:
      case R_DAY_OF_WEEK:
      case R_DAY_OF_MONTH:
      case R_MONTH:
      case R_YEAR:
      case R_CENTURY:
        this.writeClock(i, v);
        return;
      case R_SECONDS_ALARM: this.alarm[0] = v; this.armUpdate(); return;
      case R_MINUTES_ALARM: this.alarm[1] = v; this.armUpdate(); return;
      case R_HOURS_ALARM: this.alarm[2] = v; this.armUpdate(); return;
      case R_A:
        this.regA = v & 0x7f;
        this.lastPeriod = this.periodIndex();
        this.armPeriodic();
        return;
      case R_B: this.writeB(v); return;
      case R_C:
      case R_D:
        return; // read-only
      default:
        this.ram[i] = v;
    }
  }

  // ---- Time of day.

  private virtualSecond(): number {
    return Math.floor(this.clock.now() / this.clock.hz);
  }

  private updateInProgress(): boolean {
    if ((this.regB & B_SET) !== 0 || !this.dividerRunning()) return false;
    const hz = this.clock.hz;
    return this.clock.now() % hz >= hz - Math.ceil(UIP_LEAD_SECONDS * hz);
  }

  private dividerRunning(): boolean {
    return (this.regA & 0x70) === 0x20;
  }

  private encode(v: number): number {
    return (this.regB & B_DM_BINARY) !== 0 ? v : ((Math.floor(v / 10) % 10) << 4) | (v % 10);
  }

  private decode(v: number): number {
    return (this.regB & B_DM_BINARY) !== 0 ? v : (v >>> 4) * 10 + (v & 0xf);
  }

  private readClock(reg: number): number {
    const d = new Date(this.unixSeconds() * 1000);
    switch (reg) {
      case R_SECONDS: return this.encode(d.getUTCSeconds());
      case R_MINUTES: return this.encode(d.getUTCMinutes());
      case R_HOURS: return this.encodeHours(d.getUTCHours());
      case R_DAY_OF_WEEK: return this.encode(d.getUTCDay() + 1);
      case R_DAY_OF_MONTH: return this.encode(d.getUTCDate());
      case R_MONTH: return this.encode(d.getUTCMonth() + 1);
      case R_YEAR: return this.encode(d.getUTCFullYear() % 100);
      default: return this.encode(Math.floor(d.getUTCFullYear() / 100));
    }
  }

  private encodeHours(h: number): number {
    if ((this.regB & B_24HOUR) !== 0) return this.encode(h);
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.encode(h12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHours(v: number): number {
    if ((this.regB & B_24HOUR) !== 0) return this.decode(v);
    const h12 = this.decode(v & 0x7f) % 12;
    return (v & 0x80) !== 0 ? h12 + 12 : h12;
  }

  /** A guest write to a clock field: rebuilds the date with that field changed and keeps the sub-second phase. */
  private writeClock(reg: number, v: number): void {
    const now = this.unixSeconds();
    const d = new Date(now * 1000);
    const val = reg === R_HOURS ? this.decodeHours(v) : this.decode(v);
    switch (reg) {
      case R_SECONDS: d.setUTCSeconds(val); break;
      case R_MINUTES: d.setUTCMinutes(val); break;
      case R_HOURS: d.setUTCHours(val); break;
      case R_DAY_OF_WEEK: return; // derived from the date
      case R_DAY_OF_MONTH: d.setUTCDate(val); break;
      case R_MONTH: d.setUTCMonth(val - 1); break;
      case R_YEAR: d.setUTCFullYear(Math.floor(d.getUTCFullYear() / 100) * 100 + val); break;
      default: d.setUTCFullYear(val * 100 + (d.getUTCFullYear() % 100)); break;
    }
    const target = Math.floor(d.getTime() / 1000);
    if (this.frozenAt >= 0) this.frozenAt = target;
    else this.offsetSeconds += target - now;
  }

  private writeB(v: number): void {
    const wasSet = (this.regB & B_SET) !== 0;
    if ((v & B_SET) !== 0 && !wasSet) {
      this.frozenAt = this.unixSeconds();
      v &= ~B_UIE; // setting SET clears UIE
    } else if ((v & B_SET) === 0 && wasSet) {
      this.offsetSeconds = this.frozenAt - this.startSeconds - this.virtualSecond();
      this.frozenAt = -1;
      this.lastSecond = this.virtualSecond();
    }
    this.regB = v;
    this.armPeriodic();
    this.armUpdate();
    this.updateIrq();
  }

  // ---- Interrupt flags.

  /** Periodic interrupt period in 32.768 kHz cycles, or 0 when off. Rates 1 and 2 behave as 8 and 9. */
  private periodCycles(): number {
    const rate = this.regA & 0x0f;
    if (rate === 0 || !this.dividerRunning()) return 0;
    return 1 << ((rate < 3 ? rate + 7 : rate) - 1);
  }

  private periodIndex(): number {
    const p = this.periodCycles();
    return p === 0 ? 0 : Math.floor(this.clock.toUnits(this.clock.now(), RTC_HZ) / p);
  }

  /** Sets UF (and AF when the alarm matches) if a second boundary passed since last looked at. */
  private collectSecondFlags(): void {
    const sec = this.virtualSecond();
    if (sec > this.lastSecond && (this.regB & B_SET) === 0 && this.dividerRunning()) {
      this.flags |= C_UF;
      if (this.alarmMatches()) this.flags |= C_AF;
    }
    this.lastSecond = sec;
  }

  private alarmMatches(): boolean {
    const d = new Date(this.unixSeconds() * 1000);
    const fields = [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours()];
    for (let k = 0; k < 3; k++) {
      const a = this.alarm[k]!;
      if ((a & 0xc0) === 0xc0) continue; // don't-care
      const want = k === 2 ? this.decodeHours(a) : this.decode(a);
      if (want !== fields[k]) return false;
    }
    return true;
  }

  private readC(): number {
    const p = this.periodIndex();
    if (this.periodCycles() !== 0 && p > this.lastPeriod) this.flags |= C_PF;
    this.lastPeriod = p;
    this.collectSecondFlags();
    const v = this.flags | (this.irqCondition() ? C_IRQF : 0);
    this.flags = 0;
    this.updateIrq();
    return v;
  }

  private irqCondition(): boolean {
    return ((this.flags & C_PF) !== 0 && (this.regB & B_PIE) !== 0) ||
      ((this.flags & C_AF) !== 0 && (this.regB & B_AIE) !== 0) ||
      ((this.flags & C_UF) !== 0 && (this.regB & B_UIE) !== 0);
  }

  /** IRQ8 stays asserted until register C is read (so an unread flag blocks further edges, as on a PC). */
  private updateIrq(): void {
    const level = this.irqCondition();
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq8(level);
    }
  }

  private armPeriodic(): void {
    const p = this.periodCycles();
    if (p === 0 || (this.regB & B_PIE) === 0) {
      this.periodicTimer.cancel();
      return;
    }
    const next = (Math.floor(this.clock.toUnits(this.clock.now(), RTC_HZ) / p) + 1) * p;
    this.periodicTimer.set(this.clock.fromUnits(next, RTC_HZ));
  }

  private armUpdate(): void {
    if ((this.regB & (B_UIE | B_AIE)) === 0 || (this.regB & B_SET) !== 0 || !this.dividerRunning()) {
      this.updateTimer.cancel();
      return;
    }
    this.updateTimer.set((this.virtualSecond() + 1) * this.clock.hz);
  }
}
