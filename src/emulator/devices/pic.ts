// The 8259A programmable interrupt controller pair of a PC: master at 0x20/0x21,
// slave at 0xA0/0xA1 cascaded on the master's IR2, plus the PIIX edge/level
// control registers (ELCR) at 0x4D0/0x4D1. It owns interrupt priority, the
// IRR/ISR/IMR state and the vector handed to the CPU on acknowledge; it never
// decides whether the CPU accepts an interrupt (IF and the STI shadow are the CPU's).
import type { PortDevice } from "../bus/ports.js";
import { hex, type Trace } from "../trace.js";

/** One 8259A chip. */
export class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Input levels last seen (edge detection). */
  lastLevel = 0;
  /** Edge/level control: 1 = level-triggered input (PIIX ELCR). */
  elcr = 0;
  vectorBase = 0;
  /** ICW3: the master's cascade inputs, or the slave's identity. */
  icw3 = 0;
  /** Next initialization word expected (2, 3, 4), or 0 when operational. */
  initStep = 0;
  needIcw4 = false;
  single = false;
  /** ICW1 LTIM: every input level-triggered. */
  ltim = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;
  /** The IR with the highest priority; priorities rotate by changing it. */
  priorityAdd = 0;

  constructor(
    readonly isMaster: boolean,
    readonly elcrMask: number,
  ) {}

  /** Priority rank (0 = highest) of the best request in `mask`, or 8 when empty. */
  priorityOf(mask: number): number {
    if ((mask & 0xff) === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IR that would interrupt now (an unmasked request beating everything in service), or -1. */
  pendingIrq(): number {
    const p = this.priorityOf(this.irr & ~this.imr);
    if (p === 8) return -1;
    let inService = this.isr;
    // Special mask mode: masked in-service levels no longer block lower priorities.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: a slave in service does not block its own higher-priority requests.
    if (this.isMaster && this.specialFullyNested) inService &= ~this.icw3;
    return p < this.priorityOf(inService) ? (p + this.priorityAdd) & 7 : -1;
  }

  isLevel(irq: number): boolean {
    return this.ltim || (this.elcr & (1 << irq)) !== 0;
  }

  /** Drives one input line. Edge inputs latch IRR on a rising edge; level inputs follow the line. */
  setInput(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (this.isLevel(irq)) {
      if (level) {
        this.irr |= bit;
        this.lastLevel |= bit;
      } else {
        this.irr &= ~bit;
        this.lastLevel &= ~bit;
      }
    } else if (level) {
      if ((this.lastLevel & bit) === 0) this.irr |= bit;
      this.lastLevel |= bit;
    } else {
      this.lastLevel &= ~bit;
    }
  }

  /** Interrupt acknowledge for `irq`: moves it to in-service (unless auto-EOI) and clears an edge request. */
  acknowledge(irq: number): void {
    const bit = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= bit;
    }
    if (!this.isLevel(irq)) this.irr &= ~bit;
  }

  /** Poll command read: acknowledges the best request and returns 0x80 | IR, or 0 when none. */
  pollRead(): number {
    this.poll = false;
    const irq = this.pendingIrq();
    if (irq < 0) return 0;
    this.acknowledge(irq);
    return 0x80 | irq;
  }

  /** Command port (A0 = 0) write: ICW1, OCW2 or OCW3. */
  writeCommand(v: number): void {
    if ((v & 0x10) !== 0) {
      this.icw1(v);
    } else if ((v & 0x08) !== 0) {
      this.ocw3(v);
    } else {
      this.ocw2(v);
    }
  }

  /** Data port (A0 = 1) write: ICW2..4 during initialization, OCW1 (the mask) otherwise. */
  writeData(v: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4:
        this.autoEoi = (v & 0x02) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = v;
    }
  }

  readCommand(): number {
    if (this.poll) return this.pollRead();
    return this.readIsr ? this.isr : this.irr;
  }

  readData(): number {
    return this.imr;
  }

  /**
   * ICW1 starts initialization: the mask, in-service state, priority rotation,
   * special mask and status-read selection are reset, and edge sensing restarts:
   * latched edge requests are dropped (as QEMU does; level ones stay), and an
   * input that is already high must go low and high again to request.
   */
  private icw1(v: number): void {
    this.needIcw4 = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.ltim = (v & 0x08) !== 0;
    this.irr &= this.elcr;
    this.imr = 0;
    this.isr = 0;
    this.priorityAdd = 0;
    this.vectorBase = 0;
    this.readIsr = false;
    this.poll = false;
    this.specialMask = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.initStep = 2;
  }

  private ocw2(v: number): void {
    const level = v & 7;
    switch (v >> 5) {
      case 0: // clear rotate in auto-EOI mode
        this.rotateOnAutoEoi = false;
        return;
      case 4: // set rotate in auto-EOI mode
        this.rotateOnAutoEoi = true;
        return;
      case 1: // non-specific EOI
      case 5: { // rotate on non-specific EOI
        const p = this.priorityOf(this.isr);
        if (p === 8) return;
        const irq = (p + this.priorityAdd) & 7;
        this.isr &= ~(1 << irq);
        if (v >> 5 === 5) this.priorityAdd = (irq + 1) & 7;
        return;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        return;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        return;
      case 6: // set priority: `level` becomes the lowest
        this.priorityAdd = (level + 1) & 7;
        return;
      default: // 2: no operation
        return;
    }
  }

  private ocw3(v: number): void {
    if ((v & 0x04) !== 0) this.poll = true;
    if ((v & 0x02) !== 0) this.readIsr = (v & 0x01) !== 0;
    if ((v & 0x40) !== 0) this.specialMask = (v & 0x20) !== 0;
  }
}

/** Ports decoded by the pair. */
export const PIC_MASTER_CMD = 0x20;
export const PIC_MASTER_DATA = 0x21;
export const PIC_SLAVE_CMD = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
export const PIC_ELCR_MASTER = 0x4d0;
export const PIC_ELCR_SLAVE = 0x4d1;

/** The cascaded pair as the CPU and the ISA devices see it: 16 IRQ inputs, one INTR output. */
export class PicPair implements PortDevice {
  // PIIX: IRQ0-2 (timer, keyboard, cascade) and IRQ8/IRQ13 (RTC, FPU) are always edge-triggered.
  readonly master = new Pic8259(true, 0xf8);
  readonly slave = new Pic8259(false, 0xde);
  private intr = false;

  constructor(
    private readonly setIntr: (level: boolean) => void,
    private readonly trace: Trace,
  ) {}

  /** Drives ISA IRQ line 0..15. */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setInput(irq, level);
    else this.slave.setInput(irq - 8, level);
    this.update();
  }

  /**
   * The CPU's interrupt acknowledge cycle: returns the vector to deliver. With
   * nothing left to deliver it returns the spurious IR7 vector of the chip that
   * lost its request (IR15's for the slave, with the master's IR2 in service).
   */
  acknowledge(): number {
    const m = this.master;
    let vector: number;
    let irq = m.pendingIrq();
    if (irq < 0) {
      vector = m.vectorBase + 7;
      irq = 7;
    } else {
      m.acknowledge(irq);
      if (this.isCascade(irq)) {
        const s = this.slave;
        const sirq = s.pendingIrq();
        if (sirq < 0) {
          vector = s.vectorBase + 7;
          irq = 15;
        } else {
          s.acknowledge(sirq);
          vector = s.vectorBase + sirq;
          irq = 8 + sirq;
        }
      } else {
        vector = m.vectorBase + irq;
      }
    }
    this.update();
    if (this.trace.on("irq")) this.trace.emit("irq", `acknowledge IRQ${irq} -> vector ${hex(vector, 2)}`);
    return vector;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case PIC_MASTER_CMD: return this.afterPoll(this.master.readCommand());
      case PIC_MASTER_DATA: return this.master.readData();
      case PIC_SLAVE_CMD: return this.afterPoll(this.slave.readCommand());
      case PIC_SLAVE_DATA: return this.slave.readData();
      case PIC_ELCR_MASTER: return this.master.elcr;
      case PIC_ELCR_SLAVE: return this.slave.elcr;
      default: return 0xff;
    }
  }

  write(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    switch (port) {
      case PIC_MASTER_CMD: this.master.writeCommand(v); break;
      case PIC_MASTER_DATA: this.master.writeData(v); break;
      case PIC_SLAVE_CMD: this.slave.writeCommand(v); break;
      case PIC_SLAVE_DATA: this.slave.writeData(v); break;
      case PIC_ELCR_MASTER: this.master.elcr = v & this.master.elcrMask; break;
      case PIC_ELCR_SLAVE: this.slave.elcr = v & this.slave.elcrMask; break;
      default: return;
    }
    this.update();
  }

  /** Output of the pair (the CPU's INTR line). */
  get intrLevel(): boolean {
    return this.intr;
  }

  /** A poll read changes in-service state; outputs must follow. */
  private afterPoll(v: number): number {
    this.update();
    return v;
  }

  private isCascade(irq: number): boolean {
    return !this.master.single && (this.master.icw3 & (1 << irq)) !== 0;
  }

  /**
   * Recomputes the slave's INT (seen by the master's cascade input as a level,
   * so a slave holding several requests is never lost) and the master's INTR.
   */
  private update(): void {
    const cascadeBits = this.master.single ? 0 : this.master.icw3 & 0xff;
    if (cascadeBits !== 0) {
      if (this.slave.pendingIrq() >= 0) this.master.irr |= cascadeBits;
      else this.master.irr &= ~cascadeBits;
    }
    const level = this.master.pendingIrq() >= 0;
    if (level !== this.intr) {
      this.intr = level;
      this.setIntr(level);
    }
  }
}
