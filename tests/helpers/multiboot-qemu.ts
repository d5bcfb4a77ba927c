// Boots a Multiboot image on QEMU's `pc` machine with the command line the
// capos issue fixes (qemu64 CPU, COM1 on stdio, no reboot, isa-debug-exit at
// 0xF4) and returns its COM1 transcript and exit status. Files are written to a
// scratch directory under fixed names, so the strings the kernel sees
// ("kernel.bin args", "mod0.bin args") are the same on both machines.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The QEMU to run (CAPOS_QEMU overrides, e.g. to point at another build or to force the skip path). */
export const QEMU_BINARY = process.env.CAPOS_QEMU ?? "qemu-system-x86_64";

/** True when QEMU can be started. */
export const QEMU_AVAILABLE: boolean = (() => {
  const r = spawnSync(QEMU_BINARY, ["--version"], { encoding: "utf8" });
  return r.status === 0;
})();

export function qemuNotice(): void {
  if (!QEMU_AVAILABLE) {
    // eslint-disable-next-line no-console
    console.warn(`NOTICE: ${QEMU_BINARY} is not installed; skipping the QEMU cross-checks (apt-get install -y qemu-system-x86).`);
  }
}

export interface QemuBoot {
  kernel: Uint8Array;
  /** Appended to the kernel's file name in its command line (QEMU's -append). */
  append?: string;
  modules?: { data: Uint8Array; args?: string }[];
  /** Bytes piped into COM1. */
  input?: string;
}

export interface QemuResult {
  out: string;
  status: number | null;
}

/** The kernel command line and module strings QEMU produces for a QemuBoot (for the capos side). */
export function qemuStrings(b: QemuBoot): { cmdline: string; modules: { data: Uint8Array; cmdline: string }[] } {
  return {
    cmdline: `kernel.bin ${b.append ?? ""}`,
    modules: (b.modules ?? []).map((m, k) => ({ data: m.data, cmdline: m.args !== undefined ? `mod${k}.bin ${m.args}` : `mod${k}.bin` })),
  };
}

export function runQemu(b: QemuBoot): QemuResult {
  const dir = mkdtempSync(join(tmpdir(), "capos-qemu-"));
  try {
    writeFileSync(join(dir, "kernel.bin"), b.kernel);
    const args = [
      "-machine", "pc", "-cpu", "qemu64", "-display", "none", "-serial", "stdio", "-no-reboot",
      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", "kernel.bin",
    ];
    if (b.append !== undefined) args.push("-append", b.append);
    const strings = qemuStrings(b).modules;
    (b.modules ?? []).forEach((m, k) => writeFileSync(join(dir, `mod${k}.bin`), m.data));
    if (strings.length > 0) args.push("-initrd", strings.map((m) => m.cmdline).join(","));
    const r = spawnSync(QEMU_BINARY, args, { cwd: dir, input: b.input ?? "", timeout: 60_000, encoding: "latin1" });
    return { out: r.stdout ?? "", status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
