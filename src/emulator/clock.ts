// The machine's virtual clock: time is the count of retired instructions plus
// the time skipped while the CPU idled, at a fixed virtual frequency. Every
// device timer (PIT, RTC, UART timeouts, TSC) reads it, so a run is a pure
// function of its inputs. Timers are deadlines in clock ticks, fired by the run loop.

/** Default virtual frequency: 100 MHz, i.e. one retired instruction = 10 ns. */
export const DEFAULT_CLOCK_HZ = 100_000_000;
export const MIN_CLOCK_HZ = 1_000_000;
export const MAX_CLOCK_HZ = 4_000_000_000;

/** Where the clock reads retired instructions from (the CPU's icount). */
export interface InstructionCounter {
  readonly icount: number;
}

/** One device timer: a deadline in clock ticks (Infinity = disarmed) and what to do then. */
export class Timer {
  deadline = Infinity;
  constructor(
    readonly name: string,
    readonly fire: (deadline: number) => void,
  ) {}

  /** Arms the timer for an absolute tick (replaces any earlier deadline). */
  set(deadline: number): void {
    this.deadline = deadline;
  }

  cancel(): void {
    this.deadline = Infinity;
  }
}

export class VirtualClock {
  /** Ticks per virtual second (each retired instruction is one tick). */
  readonly hz: number;
  /** Ticks added by idle fast-forward and realtime catch-up. */
  private skipped = 0;
  private readonly timers: Timer[] = [];

  constructor(
    private readonly counter: InstructionCounter,
    hz: number = DEFAULT_CLOCK_HZ,
  ) {
    if (!Number.isInteger(hz) || hz < MIN_CLOCK_HZ || hz > MAX_CLOCK_HZ) {
      throw new RangeError(`virtual clock frequency must be an integer between ${MIN_CLOCK_HZ} and ${MAX_CLOCK_HZ} Hz (got ${hz})`);
    }
    this.hz = hz;
  }

  /** Current virtual time in ticks. */
  now(): number {
    return this.counter.icount + this.skipped;
  }

  /** Ticks skipped so far (now() - retired instructions). */
  get skippedTicks(): number {
    return this.skipped;
  }

  /** Moves time forward to `tick` without executing (idle HLT, realtime catch-up). Never goes back. */
  advanceTo(tick: number): void {
    const n = this.now();
    if (tick > n) this.skipped += tick - n;
  }

  /** Creates a timer; timers fire in deadline order, ties in creation order. */
  timer(name: string, fire: (deadline: number) => void): Timer {
    const t = new Timer(name, fire);
    this.timers.push(t);
    return t;
  }

  /** Earliest armed deadline, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /** Fires every timer whose deadline has passed, earliest first. Returns how many fired. */
  fireDue(): number {
    let fired = 0;
    for (;;) {
      const now = this.now();
      let due: Timer | null = null;
      for (const t of this.timers) if (t.deadline <= now && (due === null || t.deadline < due.deadline)) due = t;
      if (due === null) return fired;
      const deadline = due.deadline;
      due.deadline = Infinity;
      due.fire(deadline);
      fired++;
    }
  }

  /** Converts ticks to whole units of a `unitsPerSecond` clock (floor). */
  toUnits(ticks: number, unitsPerSecond: number): number {
    return ticksToUnits(ticks, this.hz, unitsPerSecond);
  }

  /** The first tick at which toUnits(tick) >= units. */
  fromUnits(units: number, unitsPerSecond: number): number {
    return unitsToTicks(units, this.hz, unitsPerSecond);
  }

  /** Virtual nanoseconds (rounded down) since power-on. */
  nanoseconds(): number {
    return Math.floor((this.now() / this.hz) * 1e9);
  }
}

/**
 * floor(ticks * unitsPerSecond / hz), computed in two parts so the products stay
 * below 2^53: exact whenever unitsPerSecond * hz < 2^53, which holds for the
 * device clocks (PIT 1.193182 MHz, RTC 32.768 kHz) at every accepted frequency.
 */
export function ticksToUnits(ticks: number, hz: number, unitsPerSecond: number): number {
  const q = Math.floor(ticks / hz);
  const r = ticks - q * hz;
  return q * unitsPerSecond + Math.floor((r * unitsPerSecond) / hz);
}

/** The smallest tick t with ticksToUnits(t) >= units (the inverse used to schedule device deadlines). */
export function unitsToTicks(units: number, hz: number, unitsPerSecond: number): number {
  if (units <= 0) return 0;
  const q = Math.floor(units / unitsPerSecond);
  const r = units - q * unitsPerSecond;
  let t = q * hz + Math.ceil((r * hz) / unitsPerSecond);
  // The quotient above is rounded once; settle the last step exactly.
  while (t > 0 && ticksToUnits(t - 1, hz, unitsPerSecond) >= units) t--;
  while (ticksToUnits(t, hz, unitsPerSecond) < units) t++;
  return t;
}
