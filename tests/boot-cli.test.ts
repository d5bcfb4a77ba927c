// `capos boot` as a command: how it fails before a guest runs (a missing or invalid
// manifest: status 125 and the reason on stderr, nothing on the console) and how it
// names the addresses of a kernel backtrace from the kernel's symbol map.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backtraceNamer, EXIT_NOT_BOOTED, runBootCommand, type BootIo } from "../src/cli/boot.js";
import { REPO_ROOT } from "./helpers/asc.js";

function io(): { io: BootIo; err: () => string; out: () => number } {
  const errors: string[] = [];
  let bytes = 0;
  return {
    io: {
      cwd: REPO_ROOT,
      env: { ...process.env, CAPOS_CUE_TAGS: "" },
      console: (b) => (bytes += b.length),
      stderr: { write: (s: string) => (errors.push(s), true), isTTY: false },
    },
    err: () => errors.join(""),
    out: () => bytes,
  };
}

describe("capos boot refuses before booting", () => {
  it("a manifest that does not exist", async () => {
    const t = io();
    const status = await runBootCommand({ manifest: "no-such-manifest.cue" }, t.io);
    expect(status).toBe(EXIT_NOT_BOOTED);
    expect(t.err()).toMatch(/^capos boot: .*no-such-manifest\.cue/);
    expect(t.out()).toBe(0);
  });

  it("a manifest the compiler rejects, with every problem by CUE path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-boot-cli-"));
    const file = join(dir, "bad.cue");
    writeFileSync(file, `schemaVersion: 1
binaries: [{name: "init"}]
initConfig: {init: {name: "init", binary: "missing", caps: []}, services: []}
kernelParams: {}
`);
    const t = io();
    const status = await runBootCommand({ manifest: file }, t.io);
    expect(status).toBe(EXIT_NOT_BOOTED);
    expect(t.err()).toContain("capos boot: the manifest is invalid");
    expect(t.err()).toContain("initConfig.init.binary");
    expect(t.out()).toBe(0);
  });
});

describe("backtrace names", () => {
  const map = [
    "# capos symbol map: address size kind name [wasm function name]",
    "0000000000000090 000000 - TRAP_FRAME_CS",
    "0000000000101000 000000 - _start32",
    "0000000000118000 000200 func wasm.f12 kernel/main/kmain",
    "0000000000118200 000100 func wasm.f13 $13",
    "0000000000200000 000010 object wasm.g0",
  ].join("\n");
  const name = backtraceNamer(map);

  it("names an address the kernel runs at (KERNEL_VBASE + physical) by its wasm function", () => {
    expect(name("[kernel]   #1 0xffffffff80118010")).toBe("[kernel]   #1 0xffffffff80118010 kernel/main/kmain+0x10");
    expect(name("[kernel]   #0 0xffffffff80118204")).toBe("[kernel]   #0 0xffffffff80118204 wasm.f13+0x4");
  });

  it("leaves every other line, and addresses below every symbol, alone", () => {
    expect(name("[kernel]   rip 0xffffffff80118010  cr2 0x0000000000000000")).toBe("[kernel]   rip 0xffffffff80118010  cr2 0x0000000000000000");
    expect(name("init: hello")).toBe("init: hello");
    expect(name("[kernel]   #2 0x0000000000000100")).toBe("[kernel]   #2 0x0000000000000100");
    expect(backtraceNamer(null)("[kernel]   #1 0xffffffff80118010")).toBe("[kernel]   #1 0xffffffff80118010");
  });
});
