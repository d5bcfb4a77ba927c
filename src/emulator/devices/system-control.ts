// The chipset's small system-control ports: port 0x61 (PIT channel-2 gate and
// output, speaker enable, DRAM refresh toggle), port 0x92 (fast A20 and reset),
// the keyboard controller's status and reset command at 0x64, and the POST
// diagnostic port 0x80 (accepted and ignored). A20 is always enabled.
import type { PortDevice } from "../bus/ports.js";
import type { VirtualClock } from "../clock.js";
import type { Pit8254 } from "./pit.js";

export const PORT_SYSTEM_B = 0x61;
export const PORT_SYSTEM_A = 0x92;
export const PORT_KBC_STATUS = 0x64;
export const PORT_POST = 0x80;

/** DRAM refresh request toggles every 15.085 µs (bit 4 of port 0x61); timing loops watch it. */
const REFRESH_NS = 15085;
/** Keyboard controller status: self-test passed, last write was a command, keyboard unlocked; both buffers empty. */
const KBC_STATUS = 0x1c;
const KBC_CMD_PULSE_RESET = 0xfe;

export class SystemControl implements PortDevice {
  /** Port 0x61 bits 0-3 as last written (gate 2, speaker data, parity and channel check enables). */
  private portB = 0;
  /** Port 0x92 bits as last written (bit 1: A20, kept set). */
  private portA = 0x02;

  constructor(
    private readonly clock: VirtualClock,
    private readonly pit: Pit8254,
    private readonly reset: (source: string) => void,
  ) {}

  read(port: number, _size: number): number {
    switch (port) {
      case PORT_SYSTEM_B: {
        const refresh = Math.floor(this.clock.nanoseconds() / REFRESH_NS) & 1;
        return (this.portB & 0x0f) | (refresh << 4) | (this.pit.output(2) ? 0x20 : 0);
      }
      case PORT_SYSTEM_A:
        return this.portA;
      case PORT_KBC_STATUS:
        return KBC_STATUS;
      default: // POST port: write-only
        return 0xff;
    }
  }

  write(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    switch (port) {
      case PORT_SYSTEM_B:
        this.portB = v & 0x0f;
        this.pit.setGate2((v & 1) !== 0);
        return;
      case PORT_SYSTEM_A:
        this.portA = (v & ~1) | 0x02;
        if ((v & 1) !== 0) this.reset("port 0x92 fast reset");
        return;
      case PORT_KBC_STATUS:
        if (v === KBC_CMD_PULSE_RESET) this.reset("keyboard controller reset (0xFE to port 0x64)");
        return;
      default: // POST codes are ignored
        return;
    }
  }
}
