// PCI bus 0 with configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF data)
// and the PIIX reset control register at 0xCF9. Functions plug in with a
// config-space image, BARs backed by port or MMIO handlers, and an INTx pin;
// the bus maps BARs when their decoding is enabled, and routes INTx through the
// ISA bridge's PIRQ registers onto PIC lines (level-triggered, shared, as on a PC).
import type { PortBus, PortDevice } from "../bus/ports.js";
import { SIZE_ANY } from "../bus/ports.js";
import type { MmioBus } from "../bus/mmio.js";
import type { MmioHandler } from "../memory/phys.js";
import { hex, type Trace } from "../trace.js";

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_RESET_CONTROL = 0xcf9;
export const PCI_CONFIG_DATA = 0xcfc;

// Standard header offsets.
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x01;
export const PCI_COMMAND_MEMORY = 0x02;
const PCI_COMMAND_WRITABLE = 0x0547; // I/O, memory, bus master, parity, SERR, INTx disable
const PCI_COMMAND_INTX_DISABLE = 0x0400;

/** Where the machine's firmware places BARs (like SeaBIOS: I/O from 0xC000, memory high below the I/O APIC). */
export const PCI_IO_ALLOC_BASE = 0xc000;
export const PCI_MEM_ALLOC_BASE = 0xfe000000;
export const PCI_MEM_ALLOC_END = 0xfec00000;

export interface PciBar {
  kind: "io" | "mem";
  /** Power of two; at least 4 for I/O and 16 for memory. */
  size: number;
  /** Handler for an I/O BAR (called with absolute port numbers). */
  io?: PortDevice;
  /** Handler for a memory BAR (called with offsets into the BAR). */
  mmio?: MmioHandler;
  prefetchable?: boolean;
}

export interface PciIdentity {
  vendor: number;
  device: number;
  classCode: number; // base << 16 | sub << 8 | prog-if
  revision?: number;
  subsystemVendor?: number;
  subsystemId?: number;
  headerType?: number;
  /** INTx pin: 0 = none, 1..4 = INTA#..INTD#. */
  interruptPin?: number;
}

/** One PCI function: its configuration space and resources. Device models extend or compose it. */
export class PciFunction {
  readonly config = new Uint8Array(256);
  /** Writable bits of each config byte outside the header fields the bus manages (command, BARs). */
  readonly writeMask = new Uint8Array(256);
  readonly bars: (PciBar | null)[] = [null, null, null, null, null, null];
  /** Called by the bus at plug time: drives this function's INTx pin. */
  setIntx: (level: boolean) => void = () => {};
  /** Device hook after a config write (e.g. routing registers), with the byte range written. */
  onConfigWrite: ((offset: number, size: number) => void) | null = null;

  constructor(readonly name: string, id: PciIdentity, bars: (PciBar | null)[] = []) {
    const c = this.config;
    put16(c, PCI_VENDOR_ID, id.vendor);
    put16(c, PCI_DEVICE_ID, id.device);
    c[PCI_REVISION] = id.revision ?? 0;
    c[PCI_CLASS_PROG] = id.classCode & 0xff;
    c[PCI_CLASS_PROG + 1] = (id.classCode >>> 8) & 0xff;
    c[PCI_CLASS_PROG + 2] = (id.classCode >>> 16) & 0xff;
    c[PCI_HEADER_TYPE] = id.headerType ?? 0;
    put16(c, PCI_SUBSYSTEM_VENDOR, id.subsystemVendor ?? 0);
    put16(c, PCI_SUBSYSTEM_ID, id.subsystemId ?? 0);
    c[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    // Cache line size, latency timer and interrupt line are plain storage.
    this.writeMask[0x0c] = 0xff;
    this.writeMask[0x0d] = 0xff;
    this.writeMask[PCI_INTERRUPT_LINE] = 0xff;
    bars.forEach((b, k) => {
      if (b === null) return;
      if ((b.size & (b.size - 1)) !== 0 || b.size < (b.kind === "io" ? 4 : 16)) throw new Error(`${name}: BAR${k} size ${b.size} is not a valid power of two`);
      this.bars[k] = b;
      put32(c, PCI_BAR0 + 4 * k, b.kind === "io" ? 1 : b.prefetchable ? 8 : 0);
    });
  }

  get command(): number {
    return this.config[PCI_COMMAND]! | (this.config[PCI_COMMAND + 1]! << 8);
  }

  /** Base address currently programmed in BAR k. */
  barAddress(k: number): number {
    const raw = get32(this.config, PCI_BAR0 + 4 * k);
    return this.bars[k]?.kind === "io" ? (raw & 0xfffffffc) >>> 0 : (raw & 0xfffffff0) >>> 0;
  }
}

/** Maps of a BAR that is currently decoded. */
interface LiveBar {
  kind: "io" | "mem";
  base: number;
  size: number;
}

interface Slot {
  fn: PciFunction;
  devfn: number;
  live: (LiveBar | null)[];
  intxLevel: boolean;
  pirq: number; // -1 without a pin
}

export class PciBus {
  private readonly slots = new Map<number, Slot>();
  private nextIo = PCI_IO_ALLOC_BASE;
  private nextMem = PCI_MEM_ALLOC_BASE;
  /** PIRQ A-D -> ISA IRQ (bit 7 set: disabled); kept in the ISA bridge's config space at 0x60. */
  private router: PciFunction | null = null;
  private readonly pirqIrq = [-1, -1, -1, -1];

  constructor(
    private readonly ports: PortBus,
    private readonly mmio: MmioBus,
    private readonly setIsaIrq: (irq: number, level: boolean) => void,
    private readonly trace: Trace,
  ) {}

  /**
   * Plugs a function in at device `dev`, function `fn`, and does what firmware
   * would: assigns BAR addresses, routes its INTx pin and records the IRQ in the
   * interrupt-line register, and enables I/O and memory decoding.
   */
  plug(dev: number, fn: number, f: PciFunction): void {
    const devfn = (dev << 3) | fn;
    if (dev > 31 || fn > 7 || this.slots.has(devfn)) throw new Error(`PCI slot ${dev}.${fn} is invalid or taken`);
    const slot: Slot = { fn: f, devfn, live: [null, null, null, null, null, null], intxLevel: false, pirq: -1 };
    this.slots.set(devfn, slot);
    f.bars.forEach((b, k) => {
      if (b === null) return;
      const flags = get32(f.config, PCI_BAR0 + 4 * k) & (b.kind === "io" ? 0x3 : 0xf);
      let addr: number;
      if (b.kind === "io") {
        addr = alignUp(this.nextIo, b.size);
        this.nextIo = addr + b.size;
      } else {
        addr = alignUp(this.nextMem, b.size);
        this.nextMem = addr + b.size;
        if (this.nextMem > PCI_MEM_ALLOC_END) throw new Error(`PCI memory window exhausted placing ${f.name} BAR${k}`);
      }
      put32(f.config, PCI_BAR0 + 4 * k, addr | flags);
    });
    const pin = f.config[PCI_INTERRUPT_PIN]!;
    if (pin >= 1 && pin <= 4) {
      // The standard swizzle: the slot number rotates which PIRQ line each pin uses.
      slot.pirq = (dev + pin - 1) & 3;
      const irq = this.pirqIrq[slot.pirq]!;
      f.config[PCI_INTERRUPT_LINE] = irq >= 0 ? irq : 0xff;
      f.setIntx = (level: boolean) => {
        slot.intxLevel = level;
        this.driveIrqs();
      };
    }
    const hasIo = f.bars.some((b) => b?.kind === "io");
    const hasMem = f.bars.some((b) => b?.kind === "mem");
    const cmd = f.command | (hasIo ? PCI_COMMAND_IO : 0) | (hasMem ? PCI_COMMAND_MEMORY : 0);
    put16(f.config, PCI_COMMAND, cmd);
    this.remap(slot);
    this.trace.emit("devices", `PCI 00:${dev.toString(16).padStart(2, "0")}.${fn} ${f.name}${slot.pirq >= 0 ? ` INT${"ABCD"[pin - 1]}# -> IRQ${f.config[PCI_INTERRUPT_LINE]}` : ""}`);
  }

  /** Makes `f` (already plugged) the PIRQ router: its config bytes 0x60-0x63 route PIRQA-D. */
  setRouter(f: PciFunction): void {
    this.router = f;
    for (let k = 0; k < 4; k++) f.writeMask[0x60 + k] = 0x8f;
    this.updateRouting();
  }

  /** Config read of `size` bytes at `offset` of bus 0 device/function `devfn`. */
  configRead(devfn: number, offset: number, size: number): number {
    const slot = this.slots.get(devfn);
    if (slot === undefined) return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
    const c = slot.fn.config;
    let v = 0;
    for (let k = 0; k < size; k++) v |= c[(offset + k) & 0xff]! << (8 * k);
    return size === 4 ? v | 0 : v;
  }

  configWrite(devfn: number, offset: number, size: number, value: number): void {
    const slot = this.slots.get(devfn);
    if (slot === undefined) return;
    const f = slot.fn;
    let remap = false;
    let routing = false;
    for (let k = 0; k < size; k++) {
      const off = (offset + k) & 0xff;
      const b = (value >>> (8 * k)) & 0xff;
      if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
        this.writeBarByte(f, off, b);
        remap = true;
      } else if (off === PCI_COMMAND || off === PCI_COMMAND + 1) {
        const mask = (PCI_COMMAND_WRITABLE >>> (8 * (off - PCI_COMMAND))) & 0xff;
        f.config[off] = (f.config[off]! & ~mask) | (b & mask);
        remap = true;
      } else {
        const mask = f.writeMask[off]!;
        f.config[off] = (f.config[off]! & ~mask) | (b & mask);
        if (f === this.router && off >= 0x60 && off < 0x64) routing = true;
      }
    }
    if (remap) {
      this.remap(slot);
      this.driveIrqs(); // INTx disable may have changed
    }
    if (routing) this.updateRouting();
    f.onConfigWrite?.(offset, size);
  }

  /** BAR bytes: address bits below the BAR's size and the type bits are read-only (sizing reads them back as zero). */
  private writeBarByte(f: PciFunction, off: number, b: number): void {
    const k = (off - PCI_BAR0) >>> 2;
    const bar = f.bars[k];
    if (bar === null || bar === undefined) return;
    const shift = 8 * ((off - PCI_BAR0) & 3);
    const lowBits = bar.kind === "io" ? 0x3 : 0xf;
    const mask = ~(bar.size - 1) & ~lowBits;
    const m = (mask >>> shift) & 0xff;
    f.config[off] = (f.config[off]! & ~m) | (b & m);
  }

  /** Re-establishes a function's BAR mappings after its command register or a BAR changed. */
  private remap(slot: Slot): void {
    const f = slot.fn;
    const cmd = f.command;
    f.bars.forEach((bar, k) => {
      if (bar === null) return;
      const enabled = (cmd & (bar.kind === "io" ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) !== 0;
      const base = f.barAddress(k);
      const old = slot.live[k] ?? null;
      if (old !== null && enabled && old.base === base) return;
      if (old !== null) {
        if (old.kind === "io") this.ports.unregister(old.base, old.size, bar.io!);
        else this.mmio.unmap(old.base, bar.mmio!);
        slot.live[k] = null;
      }
      if (!enabled || base === 0) return;
      if (bar.kind === "io") {
        if (bar.io === undefined || !this.ports.isFree(base, bar.size)) {
          this.trace.emit("devices", `PCI ${f.name} BAR${k}: I/O ${hex(base, 4)}+${bar.size} not mapped (in use or out of range)`);
          return;
        }
        this.ports.register(base, bar.size, bar.io, SIZE_ANY);
      } else {
        if (bar.mmio === undefined || !this.mmio.isFree(base, bar.size)) {
          this.trace.emit("devices", `PCI ${f.name} BAR${k}: memory ${hex(base)}+${hex(bar.size)} not mapped (outside the window or in use)`);
          return;
        }
        this.mmio.map(base, bar.size, bar.mmio);
      }
      slot.live[k] = { kind: bar.kind, base, size: bar.size };
    });
  }

  private updateRouting(): void {
    const old = this.pirqIrq.slice();
    for (let k = 0; k < 4; k++) {
      const r = this.router === null ? 0x80 : this.router.config[0x60 + k]!;
      this.pirqIrq[k] = (r & 0x80) !== 0 ? -1 : r & 0x0f;
    }
    // Lines that lost their PIRQ are released before the new routing drives them.
    for (const irq of old) if (irq >= 0 && !this.pirqIrq.includes(irq)) this.setIsaIrq(irq, false);
    this.driveIrqs();
  }

  /** Each routed ISA IRQ is the wired-OR of the INTx pins sharing it. */
  private driveIrqs(): void {
    const levels = new Map<number, boolean>();
    for (const irq of this.pirqIrq) if (irq >= 0) levels.set(irq, false);
    for (const slot of this.slots.values()) {
      if (slot.pirq < 0 || !slot.intxLevel) continue;
      if ((slot.fn.command & PCI_COMMAND_INTX_DISABLE) !== 0) continue;
      const irq = this.pirqIrq[slot.pirq]!;
      if (irq >= 0) levels.set(irq, true);
    }
    for (const [irq, level] of levels) this.setIsaIrq(irq, level);
  }
}

/**
 * The host side of configuration mechanism #1: the address register at 0xCF8
 * (32-bit accesses only), data at 0xCFC-0xCFF (any width), and the reset
 * control register at 0xCF9 (byte accesses; bit 2 resets the machine).
 */
export class PciHostPorts implements PortDevice {
  private address = 0;
  private resetControl = 0;

  constructor(
    private readonly bus: PciBus,
    private readonly reset: (source: string) => void,
  ) {}

  read(port: number, size: number): number {
    if (port < PCI_CONFIG_DATA) {
      if (port === PCI_CONFIG_ADDRESS && size === 4) return this.address;
      if (port === PCI_RESET_CONTROL && size === 1) return this.resetControl;
      return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
    }
    const devfn = this.selected();
    if (devfn < 0) return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
    return this.bus.configRead(devfn, (this.address & 0xfc) + (port - PCI_CONFIG_DATA), size);
  }

  write(port: number, size: number, value: number): void {
    if (port < PCI_CONFIG_DATA) {
      if (port === PCI_CONFIG_ADDRESS && size === 4) this.address = value | 0;
      else if (port === PCI_RESET_CONTROL && size === 1) {
        this.resetControl = value & 0x02;
        if ((value & 0x04) !== 0) this.reset("PCI reset control register (0xCF9)");
      }
      return;
    }
    const devfn = this.selected();
    if (devfn >= 0) this.bus.configWrite(devfn, (this.address & 0xfc) + (port - PCI_CONFIG_DATA), size, value);
  }

  /** The addressed device/function on bus 0, or -1 (disabled, or another bus: nothing answers). */
  private selected(): number {
    if (this.address >= 0) return -1; // enable bit (31) clear
    if (((this.address >>> 16) & 0xff) !== 0) return -1;
    return (this.address >>> 8) & 0xff;
  }
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

export function put16(c: Uint8Array, off: number, v: number): void {
  c[off] = v & 0xff;
  c[off + 1] = (v >>> 8) & 0xff;
}

export function put32(c: Uint8Array, off: number, v: number): void {
  for (let k = 0; k < 4; k++) c[off + k] = (v >>> (8 * k)) & 0xff;
}

function get32(c: Uint8Array, off: number): number {
  return (c[off]! | (c[off + 1]! << 8) | (c[off + 2]! << 16) | (c[off + 3]! << 24)) >>> 0;
}
