// The kernel booted end to end, the way `capos boot` does it: the kernel and the
// manifest's programs built by the pipeline (cached in build/), the manifest compiled,
// booted on capos's PC machine. The COM1 transcript of each focused manifest must equal
// its reviewed file in tests/fixtures/boot/ byte for byte; with QEMU installed the same
// images must print the same transcript there. Boot refusals (module count, manifest,
// init ELF) end with the kernel's boot-error status and a line naming the reason.
import { describe, expect, it, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootEmulator, bootQemu, prepareBoot, type BootImages, type BootIo } from "../src/cli/boot.js";
import { encodeManifest } from "../src/manifest/encode.js";
import type { Manifest } from "../src/manifest/model.js";
import { Console$Client, Timer$Client } from "../schema/host/capos.js";
import { Machine } from "../src/emulator/machine.js";
import { QEMU_AVAILABLE, qemuNotice } from "./helpers/multiboot-qemu.js";
import { REPO_ROOT } from "./helpers/asc.js";

const FIXTURES = join(REPO_ROOT, "tests", "fixtures", "boot");
/** Generous: the hostile run is about 6 M instructions. */
const BUDGET = 200_000_000;
// The kernel's isa-debug-exit values (kernel/arch/x86_64/debug-exit.ts).
const EXIT_SUCCESS = 0;
const EXIT_BOOT_ERROR = 2;

function captureIo(): { io: BootIo; text: () => string } {
  const chunks: Uint8Array[] = [];
  const io: BootIo = {
    cwd: REPO_ROOT,
    env: { ...process.env, CAPOS_CUE_TAGS: "" },
    console: (bytes) => chunks.push(bytes.slice()),
    stderr: { write: () => true, isTTY: false },
  };
  return { io, text: () => Buffer.concat(chunks).toString("latin1") };
}

/** A readable account of how two transcripts differ: the first differing lines and where the full output is. */
function transcriptDiff(name: string, expected: string, actual: string): string {
  const e = expected.split("\n");
  const a = actual.split("\n");
  const out = [`COM1 transcript of ${name} differs from tests/fixtures/boot/${name}.txt:`];
  let shown = 0;
  for (let i = 0; i < Math.max(e.length, a.length) && shown < 8; i++) {
    if (e[i] === a[i]) continue;
    out.push(`  line ${i + 1}:`, `    expected: ${JSON.stringify(e[i] ?? "<end of transcript>")}`, `    actual:   ${JSON.stringify(a[i] ?? "<end of transcript>")}`);
    shown++;
  }
  const dir = mkdtempSync(join(tmpdir(), "capos-boot-"));
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, actual, "latin1");
  out.push(`  full actual transcript: ${file} (review it, then copy it over the fixture if the change is intended)`);
  return out.join("\n");
}

function expectTranscript(name: string, actual: string): void {
  const expected = readFileSync(join(FIXTURES, `${name}.txt`), "latin1");
  if (actual !== expected) expect.fail(transcriptDiff(name, expected, actual));
}

const images = new Map<string, BootImages>();

beforeAll(async () => {
  for (const manifest of ["system", "hostile-ring"]) {
    const { io } = captureIo();
    images.set(manifest, await prepareBoot({ manifest: `${manifest}.cue` }, io));
  }
}, 900_000);

async function bootOnEmulator(name: string, imgs: BootImages = images.get(name)!): Promise<{ transcript: string; status: number; reason: string; instructions: number | null }> {
  const { io, text } = captureIo();
  const outcome = await bootEmulator(imgs, { maxInstructions: String(BUDGET) }, io);
  return { transcript: text(), status: outcome.status, reason: outcome.reason, instructions: outcome.instructions };
}

describe("boot on capos's PC machine", () => {
  it("system.cue: init greets, lists its caps over the ring and exits; the kernel halts with success", async () => {
    const r = await bootOnEmulator("system");
    expect(r.reason).toBe("exit");
    expectTranscript("system", r.transcript);
    expect(r.status).toBe(EXIT_SUCCESS);
  });

  it("hostile-ring.cue: every hostile case gets its documented error, the kernel survives the final user fault", async () => {
    const r = await bootOnEmulator("hostile-ring");
    expect(r.reason).toBe("exit");
    expectTranscript("hostile-ring", r.transcript);
    expect(r.transcript).not.toContain("FAILED");
    expect(r.status).toBe(EXIT_SUCCESS);
  });

  it("is deterministic: the same images retire the same instructions and print the same bytes", async () => {
    const a = await bootOnEmulator("system");
    const b = await bootOnEmulator("system");
    expect(b.transcript).toBe(a.transcript);
    expect(b.instructions).toBe(a.instructions);
  });
});

describe("boot on QEMU (the same images)", () => {
  qemuNotice();
  for (const name of ["system", "hostile-ring"]) {
    it.skipIf(!QEMU_AVAILABLE)(`${name}.cue prints the identical transcript and exits with the same status`, async () => {
      const { io, text } = captureIo();
      const outcome = await bootQemu(images.get(name)!, {}, io);
      expectTranscript(name, text());
      expect(outcome.status).toBe(EXIT_SUCCESS);
    });
  }
});

// ---------------------------------------------------------------------------
// Boot refusals: the kernel checks its boundary before any process exists.

const CONSOLE_ID = Console$Client.interfaceId;
const TIMER_ID = Timer$Client.interfaceId;

function manifestWith(change: (m: Manifest) => void): Manifest {
  const m: Manifest = {
    schemaVersion: 1,
    binaries: [{ name: "init" }],
    initConfig: {
      init: { name: "init", binary: "init", caps: [{ name: "console", interface: "Console", interfaceId: CONSOLE_ID, source: { kind: "kernel", kernel: "console" } }], exports: [], lifetime: "resident" },
      services: [],
    },
    kernelParams: { motd: "", logLevel: "info", timerHz: 100, processQuotas: { capSlots: 256, queuedCalls: 32, framePages: 4096, timers: 16 } },
  };
  change(m);
  return m;
}

/** Boots the built kernel with the given modules (unchecked bytes) and returns its transcript and status. */
async function bootModules(modules: Uint8Array[]): Promise<{ transcript: string; status: number }> {
  const machine = new Machine({ ramMiB: 128 });
  const out: number[] = [];
  machine.attachSerial(0, { output: (b) => out.push(b) });
  machine.loadMultiboot(images.get("system")!.kernel, { cmdline: "kernel.elf", modules: modules.map((data, k) => ({ data, cmdline: `mod${k}.bin` })) });
  const r = await machine.run({ maxInstructions: BUDGET });
  expect(r.reason).toBe("exit");
  return { transcript: Buffer.from(out).toString("latin1"), status: r.exitCode >> 1 };
}

function initElf(): Uint8Array {
  return readFileSync(join(REPO_ROOT, "build", "user", "init.elf"));
}

describe("boot refusals", () => {
  const refusals: { name: string; modules: () => Uint8Array[]; line: string }[] = [
    { name: "no boot module", modules: () => [], line: "[kernel] boot error: expected exactly one boot module (the SystemManifest), found 0" },
    {
      name: "two boot modules",
      modules: () => [images.get("system")!.manifest, images.get("system")!.manifest],
      line: "[kernel] boot error: expected exactly one boot module (the SystemManifest), found 2",
    },
    { name: "a module that is not Cap'n Proto", modules: () => [new Uint8Array(64).fill(0xee)], line: "[kernel] boot error: the boot module is not a Cap'n Proto message: bad segment table" },
    {
      name: "an unknown schema version",
      modules: () => [encodeManifest(manifestWith((m) => (m.schemaVersion = 2)), new Map([["init", initElf()]]))],
      line: "[kernel] boot error: schemaVersion is 2, this kernel reads 1",
    },
    {
      name: "init's binary is not an ELF file",
      modules: () => [encodeManifest(manifestWith(() => {}), new Map([["init", new Uint8Array(256).fill(0x41)]]))],
      line: "[kernel] boot error: cannot load init (pid 1): not an ELF file (bad magic)",
    },
    {
      name: "init's binary names no binary",
      modules: () => [encodeManifest(manifestWith((m) => (m.initConfig.init.binary = "shell")), new Map([["init", initElf()]]))],
      line: "[kernel] boot error: initConfig.init.binary names no binary in the boot package",
    },
    {
      name: "two binaries with one name",
      modules: () => [encodeManifest(manifestWith((m) => m.binaries.push({ name: "init" })), new Map([["init", initElf()]]))],
      line: "[kernel] boot error: binaries: two binaries have the same name",
    },
    {
      name: "a kernel cap expecting the wrong interface",
      modules: () => [encodeManifest(manifestWith((m) => (m.initConfig.init.caps[0]!.interfaceId = TIMER_ID)), new Map([["init", initElf()]]))],
      line: `[kernel] boot error: initConfig.init.caps[0]: kernel source console makes a Console, but the manifest expects interface 0x${TIMER_ID.toString(16)}`,
    },
    {
      name: "a service-sourced cap for init",
      modules: () => [encodeManifest(manifestWith((m) => (m.initConfig.init.caps[0]!.source = { kind: "service", service: "x", export: "y" })), new Map([["init", initElf()]]))],
      line: "[kernel] boot error: initConfig.init.caps[0]: init's caps must come from the kernel",
    },
    {
      name: "an omitted cap source",
      modules: () => [encodeManifest(manifestWith((m) => (m.initConfig.init.caps[0]!.source = { kind: "omitted" })), new Map([["init", initElf()]]))],
      line: "[kernel] boot error: initConfig.init.caps[0]: init's caps must come from the kernel",
    },
    {
      name: "a cap name longer than a CapSet entry holds",
      modules: () => [encodeManifest(manifestWith((m) => (m.initConfig.init.caps[0]!.name = "c".repeat(33))), new Map([["init", initElf()]]))],
      line: "[kernel] boot error: initConfig.init.caps[0]: the name must be 1 to 32 bytes",
    },
  ];
  for (const r of refusals) {
    it(`${r.name}: refused before any process exists`, async () => {
      const { transcript, status } = await bootModules(r.modules());
      expect(transcript.split("\n")).toContain(r.line);
      expect(transcript).not.toContain("starting init");
      expect(status).toBe(EXIT_BOOT_ERROR);
    });
  }
});
