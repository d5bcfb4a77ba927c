// PCI configuration mechanism #1, the chipset identities QEMU's pc machine
// shows, and a test function with BARs and an INTx pin: firmware placement,
// BAR sizing and moving, decode enables, PIRQ routing to level-triggered IRQs.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/emulator/machine.js";
import { PciFunction, PCI_COMMAND } from "../src/emulator/devices/pci.js";

function cfg(m: Machine, dev: number, fn: number, off: number): number {
  m.ports.out(0xcf8, 4, (0x80000000 | (dev << 11) | (fn << 8) | off) | 0);
  return m.ports.in(0xcfc, 4) >>> 0;
}

function cfgWrite(m: Machine, dev: number, off: number, size: number, v: number): void {
  m.ports.out(0xcf8, 4, (0x80000000 | (dev << 11) | (off & 0xfc)) | 0);
  m.ports.out(0xcfc + (off & 3), size, v);
}

function testFunction(log: string[]): PciFunction {
  return new PciFunction(
    "test device",
    { vendor: 0x1234, device: 0x5678, classCode: 0x020000, interruptPin: 1 },
    [
      { kind: "io", size: 32, io: { read: (p, s) => { log.push(`in ${p.toString(16)}/${s}`); return 0xab; }, write: (p, s, v) => { log.push(`out ${p.toString(16)}/${s}=${v.toString(16)}`); } } },
      { kind: "mem", size: 4096, mmio: { read: (o, s) => { log.push(`rd ${o.toString(16)}/${s}`); return 0x11223344; }, write: (o, s, v) => { log.push(`wr ${o.toString(16)}/${s}=${(v >>> 0).toString(16)}`); } } },
    ],
  );
}

describe("PCI", () => {
  it("shows the i440FX host bridge and PIIX3 ISA bridge as on QEMU", () => {
    const m = new Machine({ ramMiB: 16 });
    m.powerOn();
    expect(cfg(m, 0, 0, 0x00)).toBe(0x12378086);
    expect(cfg(m, 0, 0, 0x04)).toBe(0x00000103);
    expect(cfg(m, 0, 0, 0x08)).toBe(0x06000002);
    expect(cfg(m, 0, 0, 0x0c)).toBe(0x00000000);
    expect(cfg(m, 0, 0, 0x2c)).toBe(0x11001af4);
    expect(cfg(m, 1, 0, 0x00)).toBe(0x70008086);
    expect(cfg(m, 1, 0, 0x60)).toBe(0x0b0b0a0a);
    expect(m.ports.in(0xcf8, 4) >>> 0).toBe(0x80000860);
  });

  it("reads all-ones for absent functions, other buses, and with the enable bit clear", () => {
    const m = new Machine({ ramMiB: 16 });
    expect(cfg(m, 5, 0, 0)).toBe(0xffffffff);
    expect(cfg(m, 0, 3, 0)).toBe(0xffffffff);
    m.ports.out(0xcf8, 4, 0x80010000 | 0);
    expect(m.ports.in(0xcfc, 4) >>> 0).toBe(0xffffffff);
    m.ports.out(0xcf8, 4, 0x00000000);
    expect(m.ports.in(0xcfc, 4) >>> 0).toBe(0xffffffff);
  });

  it("supports byte and word config accesses at 0xCFC-0xCFF", () => {
    const m = new Machine({ ramMiB: 16 });
    m.ports.out(0xcf8, 4, 0x80000000 | 0);
    expect(m.ports.in(0xcfe, 2)).toBe(0x1237);
    expect(m.ports.in(0xcfd, 1)).toBe(0x80);
    cfgWrite(m, 0, 0x0d, 1, 0x40); // latency timer is writable
    expect((cfg(m, 0, 0, 0x0c) >>> 8) & 0xff).toBe(0x40);
    cfgWrite(m, 0, 0x00, 2, 0xffff); // vendor ID is read-only
    expect(cfg(m, 0, 0, 0) & 0xffff).toBe(0x8086);
  });

  it("places BARs like firmware, answers sizing, and moves and disables decoding", () => {
    const m = new Machine({ ramMiB: 16 });
    const log: string[] = [];
    m.pci.plug(3, 0, testFunction(log));
    expect(cfg(m, 3, 0, 0x10)).toBe(0xc001);
    expect(cfg(m, 3, 0, 0x14)).toBe(0xfe000000);
    expect(cfg(m, 3, 0, 0x04) & 3).toBe(3);
    expect(m.ports.in(0xc004, 1)).toBe(0xab);
    expect(m.mem.read(0xfe000010, 4)).toBe(0x11223344);
    m.mem.write(0xfe000020, 4, -1);
    expect(log).toEqual(["in c004/1", "rd 10/4", "wr 20/4=ffffffff"]);

    cfgWrite(m, 3, 0x10, 4, -1);
    expect(cfg(m, 3, 0, 0x10)).toBe(0xffffffe1);
    cfgWrite(m, 3, 0x14, 4, -1);
    expect(cfg(m, 3, 0, 0x14)).toBe(0xfffff000);
    cfgWrite(m, 3, 0x10, 4, 0xd000);
    cfgWrite(m, 3, 0x14, 4, 0xfe100000 | 0);
    log.length = 0;
    expect(m.ports.in(0xc004, 1)).toBe(0xff);
    expect(m.ports.in(0xd01f, 1)).toBe(0xab);
    expect(m.mem.read(0xfe000010, 4)).toBe(-1);
    expect(m.mem.read(0xfe100004, 4)).toBe(0x11223344);
    expect(log).toEqual(["in d01f/1", "rd 4/4"]);

    cfgWrite(m, 3, PCI_COMMAND, 2, 0x0002); // memory only
    expect(m.ports.in(0xd000, 1)).toBe(0xff);
    expect(m.mem.read(0xfe100004, 4)).toBe(0x11223344);
    cfgWrite(m, 3, PCI_COMMAND, 2, 0x0000);
    expect(m.mem.read(0xfe100004, 4)).toBe(-1);
  });

  it("routes INTx through the PIRQ registers to a level-triggered IRQ and records it in the interrupt line", () => {
    const m = new Machine({ ramMiB: 16 });
    m.powerOn();
    const f = testFunction([]);
    m.pci.plug(3, 0, f); // slot 3 INTA# -> PIRQD -> IRQ11
    expect(cfg(m, 3, 0, 0x3c) & 0xffff).toBe(0x010b);
    const slaveIrr = (): number => { m.ports.out(0xa0, 1, 0x0a); return m.ports.in(0xa0, 1); };
    f.setIntx(true);
    expect(slaveIrr() & 0x08).toBe(0x08);
    f.setIntx(false);
    expect(slaveIrr() & 0x08).toBe(0);
    // INTx disable in the command register masks the pin.
    cfgWrite(m, 3, PCI_COMMAND, 2, 0x0403);
    f.setIntx(true);
    expect(slaveIrr() & 0x08).toBe(0);
    cfgWrite(m, 3, PCI_COMMAND, 2, 0x0003);
    expect(slaveIrr() & 0x08).toBe(0x08);
    // Re-routing PIRQD to IRQ5 moves the request.
    cfgWrite(m, 1, 0x63, 1, 0x05);
    expect(slaveIrr() & 0x08).toBe(0);
    m.ports.out(0x20, 1, 0x0a);
    expect(m.ports.in(0x20, 1) & 0x20).toBe(0x20);
  });

  it("resets the machine through the reset control register at 0xCF9", async () => {
    const m = new Machine({ ramMiB: 16 });
    m.ports.out(0xcf9, 1, 0x02);
    expect(m.ports.in(0xcf9, 1)).toBe(0x02);
    m.ports.out(0xcf9, 1, 0x06);
    const r = await m.run();
    expect(r.reason).toBe("reset");
    expect(r.exitCode).toBe(64);
    expect(r.detail).toContain("0xCF9");
  });
});
