// A 16550A UART (COM1-COM4): divisor latch, 16-byte FIFOs with trigger levels,
// the four interrupt sources in datasheet priority, modem control with loopback,
// and the PC's OUT2 gate on the IRQ line. Transmission is instantaneous (the
// byte reaches the host sink when THR is written); received bytes wait in an
// unbounded host-side queue and enter the receiver as it has room, so host input
// is never lost. The character-timeout interrupt runs on the virtual clock.
import type { PortDevice } from "../bus/ports.js";
import type { Timer, VirtualClock } from "../clock.js";

/** Standard PC serial ports: base I/O address and ISA IRQ. */
export const COM_PORTS: readonly { base: number; irq: number }[] = [
  { base: 0x3f8, irq: 4 },
  { base: 0x2f8, irq: 3 },
  { base: 0x3e8, irq: 4 },
  { base: 0x2e8, irq: 3 },
];

/** Input clock of a PC UART divided by 16: divisor 1 = 115200 baud. */
const BAUD_BASE = 115200;
const FIFO_SIZE = 16;

// Register offsets.
const REG_DATA = 0; // RBR / THR / DLL
const REG_IER = 1; // IER / DLM
const REG_IIR = 2; // IIR (read) / FCR (write)
const REG_LCR = 3;
const REG_MCR = 4;
const REG_LSR = 5;
const REG_MSR = 6;
const REG_SCR = 7;

// IER bits.
const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;

// IIR identification codes (bit 0 clear = interrupt pending).
export const IIR_NONE = 0x01;
export const IIR_MSI = 0x00;
export const IIR_THRE = 0x02;
export const IIR_RDA = 0x04;
export const IIR_RLS = 0x06;
export const IIR_TIMEOUT = 0x0c;
const IIR_FIFO_ENABLED = 0xc0;

// FCR bits.
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const FCR_CLEAR_TX = 0x04;

const LCR_DLAB = 0x80;

// MCR bits.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

// LSR bits.
export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
const LSR_FIFO_ERROR = 0x80;
const LSR_ERRORS = 0x1e;

// MSR bits: deltas in the low nibble, line states in the high nibble.
const MSR_DELTAS = 0x0f;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
const MSR_TERI = 0x04;

/** RX trigger levels selected by FCR bits 7:6. */
const RX_TRIGGER = [1, 4, 8, 14];

export class Uart16550 implements PortDevice {
  // Registers.
  ier = 0;
  lcr = 0;
  mcr = MCR_OUT2; // as QEMU's reset leaves it
  lsr = LSR_THRE | LSR_TEMT;
  msr = MSR_DCD | MSR_DSR | MSR_CTS; // no modem: carrier, data set ready, clear to send
  scr = 0;
  divisor = 12; // 9600 baud
  fcr = 0;
  /** Receiver: FIFO (or the single RBR when FIFOs are off). */
  private readonly rx: number[] = [];
  /** Host bytes not yet taken in by the receiver. */
  private readonly hostQueue: number[] = [];
  private hostHead = 0;
  /** THR-empty interrupt condition (cleared by reading IIR while it is reported, or writing THR). */
  private thrPending = false;
  private timeoutPending = false;
  private readonly timeoutTimer: Timer;
  private irqLevel = false;

  /** Transmitted bytes go here (the embedder's sink). */
  sink: ((byte: number) => void) | null = null;

  constructor(
    readonly base: number,
    private readonly clock: VirtualClock,
    private readonly irq: (level: boolean) => void,
  ) {
    this.timeoutTimer = clock.timer(`uart@${base.toString(16)}`, () => {
      if (this.rx.length > 0 && (this.fcr & FCR_ENABLE) !== 0) this.timeoutPending = true;
      this.update();
    });
  }

  /** Queues bytes arriving from the host; none are dropped. */
  receive(bytes: ArrayLike<number>): void {
    for (let k = 0; k < bytes.length; k++) this.hostQueue.push(bytes[k]! & 0xff);
    if ((this.mcr & MCR_LOOP) === 0) this.fillReceiver();
    this.update();
  }

  /** Host bytes not yet read by the guest (queued plus in the receiver). */
  get pendingInput(): number {
    return this.hostQueue.length - this.hostHead + this.rx.length;
  }

  read(port: number, _size: number): number {
    const reg = port - this.base;
    switch (reg) {
      case REG_DATA:
        if ((this.lcr & LCR_DLAB) !== 0) return this.divisor & 0xff;
        return this.readRbr();
      case REG_IER:
        if ((this.lcr & LCR_DLAB) !== 0) return (this.divisor >>> 8) & 0xff;
        return this.ier;
      case REG_IIR: {
        const id = this.interruptId();
        // Reading IIR while it reports THR empty acknowledges that source.
        if (id === IIR_THRE) this.thrPending = false;
        const v = id | ((this.fcr & FCR_ENABLE) !== 0 ? IIR_FIFO_ENABLED : 0);
        this.update();
        return v;
      }
      case REG_LCR:
        return this.lcr;
      case REG_MCR:
        return this.mcr;
      case REG_LSR: {
        const v = this.lsr;
        this.lsr &= ~(LSR_ERRORS | LSR_FIFO_ERROR);
        this.update();
        return v;
      }
      case REG_MSR: {
        const v = this.msr;
        this.msr &= ~MSR_DELTAS;
        this.update();
        return v;
      }
      default:
        return this.scr;
    }
  }

  write(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    switch (port - this.base) {
      case REG_DATA:
        if ((this.lcr & LCR_DLAB) !== 0) this.divisor = (this.divisor & 0xff00) | v;
        else this.transmit(v);
        break;
      case REG_IER:
        if ((this.lcr & LCR_DLAB) !== 0) {
          this.divisor = (this.divisor & 0xff) | (v << 8);
        } else {
          const enabledThre = (v & IER_THRE) !== 0 && (this.ier & IER_THRE) === 0;
          this.ier = v & 0x0f;
          // Enabling the THR-empty interrupt with THR already empty interrupts at once.
          if (enabledThre && (this.lsr & LSR_THRE) !== 0) this.thrPending = true;
        }
        break;
      case REG_IIR:
        this.writeFcr(v);
        break;
      case REG_LCR:
        this.lcr = v;
        break;
      case REG_MCR:
        this.writeMcr(v & 0x1f);
        break;
      case REG_SCR:
        this.scr = v;
        break;
      default: // LSR and MSR are read-only
        break;
    }
    this.update();
  }

  /** Current interrupt identification (IIR bits 3:0) in datasheet priority order. */
  interruptId(): number {
    if ((this.ier & IER_RLS) !== 0 && (this.lsr & LSR_ERRORS) !== 0) return IIR_RLS;
    if ((this.ier & IER_RDA) !== 0) {
      if (this.timeoutPending) return IIR_TIMEOUT;
      if (this.rx.length > 0 && ((this.fcr & FCR_ENABLE) === 0 || this.rx.length >= this.rxTrigger())) return IIR_RDA;
    }
    if ((this.ier & IER_THRE) !== 0 && this.thrPending) return IIR_THRE;
    if ((this.ier & IER_MS) !== 0 && (this.msr & MSR_DELTAS) !== 0) return IIR_MSI;
    return IIR_NONE;
  }

  private rxTrigger(): number {
    return RX_TRIGGER[this.fcr >>> 6]!;
  }

  private rxCapacity(): number {
    return (this.fcr & FCR_ENABLE) !== 0 ? FIFO_SIZE : 1;
  }

  private readRbr(): number {
    if (this.rx.length === 0) return 0;
    const b = this.rx.shift()!;
    this.timeoutPending = false;
    if ((this.mcr & MCR_LOOP) === 0) this.fillReceiver();
    if (this.rx.length === 0) this.lsr &= ~LSR_DR;
    this.restartTimeout();
    this.update();
    return b;
  }

  private transmit(b: number): void {
    this.thrPending = false;
    if ((this.mcr & MCR_LOOP) !== 0) {
      // Loopback: the byte comes straight back to the receiver; with no room it overruns.
      if (this.rx.length >= this.rxCapacity()) {
        this.lsr |= LSR_OE;
      } else {
        this.rx.push(b);
        this.lsr |= LSR_DR;
        this.restartTimeout();
      }
    } else if (this.sink !== null) {
      this.sink(b);
    }
    // Sent at once: THR and the shift register are empty again.
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrPending = true;
  }

  private writeFcr(v: number): void {
    // Changing the FIFO enable bit empties both FIFOs.
    if (((v ^ this.fcr) & FCR_ENABLE) !== 0 || (v & FCR_CLEAR_RX) !== 0) {
      this.rx.length = 0;
      this.lsr &= ~(LSR_DR | LSR_FIFO_ERROR);
      this.timeoutPending = false;
      this.timeoutTimer.cancel();
    }
    if ((v & FCR_CLEAR_TX) !== 0 || ((v ^ this.fcr) & FCR_ENABLE) !== 0) {
      this.lsr |= LSR_THRE | LSR_TEMT;
    }
    this.fcr = v & 0xc1;
    if ((this.mcr & MCR_LOOP) === 0) this.fillReceiver();
  }

  private writeMcr(v: number): void {
    const old = this.mcr;
    this.mcr = v;
    if ((v & MCR_LOOP) !== 0) {
      // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
      const lines = ((v & MCR_DTR) !== 0 ? MSR_DSR : 0) | ((v & MCR_RTS) !== 0 ? MSR_CTS : 0) |
        ((v & MCR_OUT1) !== 0 ? MSR_RI : 0) | ((v & MCR_OUT2) !== 0 ? MSR_DCD : 0);
      this.setModemLines(lines);
    } else {
      if ((old & MCR_LOOP) !== 0) this.setModemLines(MSR_DCD | MSR_DSR | MSR_CTS);
      this.fillReceiver();
    }
  }

  /** Updates MSR line states and their delta bits (TERI on RI's trailing edge). */
  private setModemLines(lines: number): void {
    const old = this.msr & 0xf0;
    const changed = old ^ lines;
    let deltas = this.msr & MSR_DELTAS;
    if ((changed & MSR_CTS) !== 0) deltas |= 0x01;
    if ((changed & MSR_DSR) !== 0) deltas |= 0x02;
    if ((old & MSR_RI) !== 0 && (lines & MSR_RI) === 0) deltas |= MSR_TERI;
    if ((changed & MSR_DCD) !== 0) deltas |= 0x08;
    this.msr = lines | deltas;
  }

  /** Moves host bytes into the receiver while it has room. */
  private fillReceiver(): void {
    const cap = this.rxCapacity();
    let moved = false;
    while (this.rx.length < cap && this.hostHead < this.hostQueue.length) {
      this.rx.push(this.hostQueue[this.hostHead++]!);
      moved = true;
    }
    if (this.hostHead === this.hostQueue.length && this.hostHead > 0) {
      this.hostQueue.length = 0;
      this.hostHead = 0;
    }
    if (this.rx.length > 0) this.lsr |= LSR_DR;
    if (moved) this.restartTimeout();
  }

  /**
   * The character timeout fires when the FIFO holds data below the trigger level
   * and nothing moved in or out for four character times.
   */
  private restartTimeout(): void {
    if ((this.fcr & FCR_ENABLE) === 0 || this.rx.length === 0) {
      this.timeoutTimer.cancel();
      return;
    }
    this.timeoutTimer.set(this.clock.now() + 4 * this.charTicks());
  }

  /** One character time in clock ticks (start + data + parity + stop bits at the programmed baud rate). */
  private charTicks(): number {
    const bits = 1 + 5 + (this.lcr & 3) + ((this.lcr & 0x08) !== 0 ? 1 : 0) + ((this.lcr & 0x04) !== 0 ? 2 : 1);
    const baud = BAUD_BASE / (this.divisor === 0 ? 0x10000 : this.divisor);
    return Math.max(1, Math.ceil((bits * this.clock.hz) / baud));
  }

  /**
   * Drives the IRQ line. On a PC the UART's INTR reaches the bus through a
   * buffer enabled by OUT2; loopback forces OUT2 inactive, so it gates the line too.
   */
  private update(): void {
    const level = this.interruptId() !== IIR_NONE && (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    this.irqLevel = level;
    this.irq(level);
  }

  get irqAsserted(): boolean {
    return this.irqLevel;
  }
}
