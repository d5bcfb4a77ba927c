// The device state a PC BIOS leaves behind, applied at power-on in place of
// running one. It reproduces what SeaBIOS leaves on QEMU's `pc` machine when it
// hands over to a Multiboot kernel, so devices a kernel does not reprogram
// behave alike on both: the PICs initialised with vectors 0x08/0x70 and the
// BIOS's masks, PIT channel 0 ticking at 18.2 Hz, the ELCR marking the PCI
// interrupt lines level-triggered, and CMOS memory-size bytes filled in.
import type { PicPair } from "../devices/pic.js";
import type { Pit8254 } from "../devices/pit.js";

export interface FirmwareDevices {
  pic: PicPair;
  pit: Pit8254;
  /** ISA IRQs of the UARTs that exist (SeaBIOS probes each, which leaves its IRQ latched). */
  uartIrqs: number[];
}

/** Master: IRQ0 (timer), IRQ1 (keyboard), IRQ2 (cascade) and IRQ6 (floppy) unmasked. */
export const BIOS_MASTER_MASK = 0xb8;
/** Slave: IRQ8 (RTC), IRQ12 (mouse), IRQ13 (FPU) and IRQ14 (IDE) unmasked. */
export const BIOS_SLAVE_MASK = 0x8e;
export const BIOS_MASTER_VECTORS = 0x08;
export const BIOS_SLAVE_VECTORS = 0x70;

export function applyFirmwareState(d: FirmwareDevices): void {
  // Channel 0: rate generator, lobyte/hibyte, count 0 (65536): the 18.2 Hz BIOS tick.
  // Programmed before the PICs, so the PIC initialisation swallows the edge it makes.
  d.pit.write(0x43, 1, 0x34);
  d.pit.write(0x40, 1, 0x00);
  d.pit.write(0x40, 1, 0x00);
  const pic = d.pic;
  // ICW1 (edge, cascade, ICW4), ICW2 (vector base), ICW3 (cascade wiring), ICW4 (8086 mode).
  for (const [port, v] of [[0x20, 0x11], [0x21, BIOS_MASTER_VECTORS], [0x21, 0x04], [0x21, 0x01], [0x21, BIOS_MASTER_MASK],
    [0xa0, 0x11], [0xa1, BIOS_SLAVE_VECTORS], [0xa1, 0x02], [0xa1, 0x01], [0xa1, BIOS_SLAVE_MASK],
    [0x4d1, 0x0c]] as const) {
    pic.write(port, 1, v);
  }
  // The BIOS's serial probe enables the THR-empty interrupt for a moment; the masked
  // edge stays latched in IRR until the kernel reinitialises the PIC.
  for (const irq of d.uartIrqs) {
    pic.setIrq(irq, true);
    pic.setIrq(irq, false);
  }
}
