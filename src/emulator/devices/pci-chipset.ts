// The chipset functions on PCI bus 0, with the identities QEMU's `pc` machine
// shows after SeaBIOS: the i440FX host bridge at 00:00.0 and the PIIX3 ISA
// bridge at 00:01.0, whose PIRQ route registers (0x60-0x63) steer PCI INTx
// lines to IRQ 10/11 and which the bus uses as its interrupt router.
import { PCI_COMMAND, PciFunction, put16 } from "./pci.js";

const INTEL = 0x8086;
const QEMU_SUBSYSTEM_VENDOR = 0x1af4;
const QEMU_SUBSYSTEM_ID = 0x1100;

export function i440fxHostBridge(): PciFunction {
  const f = new PciFunction("i440FX host bridge", {
    vendor: INTEL,
    device: 0x1237,
    revision: 0x02,
    classCode: 0x060000,
    subsystemVendor: QEMU_SUBSYSTEM_VENDOR,
    subsystemId: QEMU_SUBSYSTEM_ID,
  });
  // Memory and I/O decoding plus SERR, as firmware leaves the bridge.
  put16(f.config, PCI_COMMAND, 0x0103);
  // Chipset registers (PAM, SMRAM, DRAM rows) are kept as plain storage: nothing in RAM moves.
  for (let off = 0x40; off < 0x100; off++) f.writeMask[off] = 0xff;
  return f;
}

/** PIRQ A-D routing as SeaBIOS programs it on QEMU: A, B -> IRQ10; C, D -> IRQ11. */
export const PIIX3_DEFAULT_PIRQ_ROUTES = [10, 10, 11, 11];

export function piix3IsaBridge(): PciFunction {
  const f = new PciFunction("PIIX3 ISA bridge", {
    vendor: INTEL,
    device: 0x7000,
    classCode: 0x060100,
    headerType: 0x80, // multi-function, as on QEMU (IDE and ACPI functions are not modelled here)
    subsystemVendor: QEMU_SUBSYSTEM_VENDOR,
    subsystemId: QEMU_SUBSYSTEM_ID,
  });
  put16(f.config, PCI_COMMAND, 0x0007);
  PIIX3_DEFAULT_PIRQ_ROUTES.forEach((irq, k) => {
    f.config[0x60 + k] = irq;
  });
  return f;
}
