// Cross-checks with QEMU: the same test kernels boot on `qemu-system-x86_64
// -machine pc -cpu qemu64` and on capos, and their COM1 transcripts and exit
// statuses must be equal. Skips with a notice when QEMU is not installed.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/emulator/machine.js";
import { QEMU_AVAILABLE, qemuNotice, qemuStrings, runQemu, type QemuBoot } from "./helpers/multiboot-qemu.js";
import {
  exceptionsKernel, helloKernel, multibootInfoKernel, pitKernel, ring3Kernel, serialIrqKernel,
} from "./helpers/multiboot-test-kernels.js";

qemuNotice();

async function runCapos(b: QemuBoot): Promise<{ out: string; status: number }> {
  const machine = new Machine();
  let out = "";
  machine.attachSerial(0, { output: (x) => { out += String.fromCharCode(x); } });
  if (b.input !== undefined) machine.sendSerial(0, b.input);
  machine.loadMultiboot(b.kernel, qemuStrings(b));
  const result = await machine.run({ maxInstructions: 100_000_000 });
  return { out, status: result.exitCode & 0xff };
}

const enc = new TextEncoder();

describe.skipIf(!QEMU_AVAILABLE)("QEMU cross-check (same image, same transcript, same exit status)", () => {
  it.each<[string, () => QemuBoot]>([
    ["serial hello", () => ({ kernel: helloKernel() })],
    ["PIT interrupts through the remapped PIC", () => ({ kernel: pitKernel(50) })],
    ["exceptions with error codes", () => ({ kernel: exceptionsKernel() })],
    ["ring 3 with syscalls", () => ({ kernel: ring3Kernel() })],
    ["Multiboot memory map and modules", () => ({
      kernel: multibootInfoKernel(),
      append: "console=ttyS0 quiet",
      modules: [{ data: enc.encode("first module\n"), args: "alpha beta" }, { data: enc.encode("second") }],
    })],
    ["interrupt-driven UART with input", () => ({ kernel: serialIrqKernel(), input: "Hello, QEMU and capos\n" })],
  ])("%s", async (_name, make) => {
    const boot = make();
    const qemu = runQemu(boot);
    const capos = await runCapos(boot);
    expect(capos.out).toBe(qemu.out);
    expect(capos.status).toBe(qemu.status);
    expect(qemu.out.length).toBeGreaterThan(0);
  });
});
