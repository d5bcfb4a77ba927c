// The port-I/O bus: a 64 Ki-entry table from port number to the device that
// claims it. Accesses wider than a device handles are split into byte accesses
// on consecutive ports (as the ISA bus does); unclaimed ports read all-ones,
// ignore writes, and are reported once each in the trace.
import type { PortIo } from "../cpu/cpu.js";
import { hex, type Trace } from "../trace.js";

/** A device's view of its ports. Values are zero-extended to `size` bytes (size 4 may return any int32). */
export interface PortDevice {
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
}

/** Access-size masks for register(): which widths a device decodes itself. */
export const SIZE_8 = 1;
export const SIZE_16 = 2;
export const SIZE_32 = 4;
export const SIZE_ANY = SIZE_8 | SIZE_16 | SIZE_32;

export class PortBus implements PortIo {
  private readonly owner: (PortDevice | null)[] = new Array<PortDevice | null>(0x10000).fill(null);
  private readonly widths = new Uint8Array(0x10000);
  private readonly reported = new Uint8Array(0x10000);

  constructor(private readonly trace: Trace) {}

  /** Claims `count` ports from `first` for a device; `widths` is a SIZE_* mask. Claims never overlap. */
  register(first: number, count: number, device: PortDevice, widths: number = SIZE_8): void {
    for (let p = first; p < first + count; p++) {
      if (p > 0xffff) throw new RangeError(`port ${hex(p)} is out of range`);
      if (this.owner[p] !== null && this.owner[p] !== device) throw new Error(`port ${hex(p, 4)} is already claimed`);
    }
    for (let p = first; p < first + count; p++) {
      this.owner[p] = device;
      this.widths[p] = widths;
    }
  }

  /** True when none of the ports is claimed (PCI BAR placement checks this before mapping). */
  isFree(first: number, count: number): boolean {
    if (first < 0 || first + count > 0x10000) return false;
    for (let p = first; p < first + count; p++) if (this.owner[p] !== null) return false;
    return true;
  }

  /** Releases ports claimed by `device` (PCI BARs move). */
  unregister(first: number, count: number, device: PortDevice): void {
    for (let p = first; p < first + count && p <= 0xffff; p++) {
      if (this.owner[p] === device) {
        this.owner[p] = null;
        this.widths[p] = 0;
      }
    }
  }

  isClaimed(port: number): boolean {
    return this.owner[port & 0xffff] !== null;
  }

  in(port: number, size: number): number {
    port &= 0xffff;
    const dev = this.owner[port]!;
    if (dev !== null && (this.widths[port]! & size) !== 0) {
      const v = dev.read(port, size);
      return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0;
    }
    if (size === 1) {
      this.unclaimed(port, 1, "read");
      return 0xff;
    }
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.in((port + k) & 0xffff, 1) << (8 * k);
    return size === 2 ? v & 0xffff : v | 0;
  }

  out(port: number, size: number, value: number): void {
    port &= 0xffff;
    const dev = this.owner[port]!;
    if (dev !== null && (this.widths[port]! & size) !== 0) {
      dev.write(port, size, size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value | 0);
      return;
    }
    if (size === 1) {
      this.unclaimed(port, 1, "write");
      return;
    }
    for (let k = 0; k < size; k++) this.out((port + k) & 0xffff, 1, (value >>> (8 * k)) & 0xff);
  }

  /** Notes an access nobody decodes (a claimed port at an unsupported width counts as absent). */
  private unclaimed(port: number, size: number, what: "read" | "write"): void {
    if (this.reported[port] === 0) {
      this.reported[port] = 1;
      if (this.owner[port] === null) this.trace.emit("ports", `unclaimed port ${hex(port, 4)} ${what} (reads all-ones, writes ignored; reported once)`);
      else this.trace.emit("ports", `port ${hex(port, 4)} ${what} of ${size} byte(s) is not decoded by its device`);
    }
  }
}
