// QEMU's isa-debug-exit device at 0xF4 (4 ports): a write of value v ends the
// run with exit status (v << 1) | 1, so a guest's own exit can never be
// confused with status 0. Reads return 0, as QEMU's device does.
import type { PortDevice } from "../bus/ports.js";

export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_EXIT_PORTS = 4;

/** The exit status QEMU's device produces for a written value (unsigned, before the host truncates it to 8 bits). */
export function debugExitStatus(value: number): number {
  return (value >>> 0) * 2 + 1;
}

export class DebugExit implements PortDevice {
  constructor(private readonly exit: (status: number, value: number) => void) {}

  read(_port: number, _size: number): number {
    return 0;
  }

  write(_port: number, size: number, value: number): void {
    const v = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    this.exit(debugExitStatus(v), v);
  }
}
