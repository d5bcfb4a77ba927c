// `capos manifest`: writes the boot package atomically, prints JSON, and on any
// error prints every problem, writes nothing and exits non-zero.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runManifestCommand, type CommandIo } from "../src/cli/manifest.js";
import { decodeManifest } from "../src/manifest/decode.js";
import { FIXTURES, MANIFESTS, REPO, fixtureElf } from "./manifest-helpers.js";

function capture(cwd: string): CommandIo & { out: () => string; outBytes: () => Uint8Array; err: () => string } {
  const out: Uint8Array[] = [];
  let err = "";
  const enc = new TextEncoder();
  return {
    cwd,
    env: {},
    stdout: { write: (d: string | Uint8Array) => out.push(typeof d === "string" ? enc.encode(d) : d) },
    stderr: { write: (d: string) => (err += d) },
    out: () => Buffer.concat(out).toString("utf8"),
    outBytes: () => Buffer.concat(out),
    err: () => err,
  };
}

function withTemp(run: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-manifest-cli-"));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function buildInit(dir: string): void {
  mkdirSync(join(dir, "build", "user"), { recursive: true });
  writeFileSync(join(dir, "build", "user", "init.elf"), fixtureElf("init"));
}

describe("capos manifest", () => {
  it(
    "writes manifest.bin (atomically, nothing else left behind) and reports what it wrote",
    withTemp(async (dir) => {
      buildInit(dir);
      const io = capture(dir);
      const code = await runManifestCommand(join(MANIFESTS, "system.cue"), { inject: ["user=tester"], buildDir: "build" }, io);
      expect(io.err()).toMatch(/^capos manifest: wrote manifest.bin: \d+ bytes, 1 program\(s\), init \+ 0 service\(s\) from .*system.cue in \d+ ms \(CUE \d+ ms\)\n$/);
      expect(code).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(["build", "manifest.bin"]);
      const d = decodeManifest(readFileSync(join(dir, "manifest.bin")));
      expect(d.kernelParams.motd).toBe("Welcome to capos, tester.");
      expect(Buffer.from(d.binaries[0]!.data).equals(Buffer.from(fixtureElf("init")))).toBe(true);
    }),
  );

  it(
    "writes to stdout with -o -",
    withTemp(async (dir) => {
      buildInit(dir);
      const io = capture(dir);
      expect(await runManifestCommand(join(MANIFESTS, "system.cue"), { inject: [], buildDir: "build", output: "-" }, io)).toBe(0);
      expect(decodeManifest(io.outBytes()).initConfig.init.name).toBe("init");
      expect(readdirSync(dir)).toEqual(["build"]);
    }),
  );

  it(
    "prints the checked manifest with --json and writes nothing",
    withTemp(async (dir) => {
      const io = capture(dir);
      expect(await runManifestCommand(join(MANIFESTS, "spawn.cue"), { inject: [], json: true }, io)).toBe(0);
      const json = JSON.parse(io.out()) as { initConfig: { services: { name: string; caps: { grant: string }[] }[] } };
      expect(json.initConfig.services[1]!.name).toBe("ipc-client");
      expect(json.initConfig.services[1]!.caps.map((c) => c.grant)).toEqual(["copy", "clientFacet"]);
      expect(readdirSync(dir)).toEqual([]);
    }),
  );

  it(
    "fails without output when a program is missing",
    withTemp(async (dir) => {
      const io = capture(dir);
      expect(await runManifestCommand(join(MANIFESTS, "system.cue"), { inject: [], buildDir: "build" }, io)).toBe(1);
      expect(io.err()).toBe(
        "capos manifest: the manifest is invalid (1 problem):\n" +
          "  binaries[0].name: found no program for binary 'init'; expected build/user/init.elf (run capos build)\n",
      );
      expect(readdirSync(dir)).toEqual([]);
    }),
  );

  it(
    "fails without output on an invalid manifest, naming the path",
    withTemp(async (dir) => {
      buildInit(dir);
      const io = capture(dir);
      const file = join(FIXTURES, "invalid", "reexport.cue");
      expect(await runManifestCommand(file, { inject: [], buildDir: "build", output: "out.bin" }, io)).toBe(1);
      expect(io.err()).toContain('  initConfig.services[1].exports[0]: found "upstream", a cap service "proxy" imports');
      expect(existsSync(join(dir, "out.bin"))).toBe(false);
    }),
  );

  it(
    "exits 1 from the real command line with CUE's diagnostics, and writes nothing",
    withTemp(async (dir) => {
      const tsx = join(REPO, "node_modules", ".bin", "tsx");
      const r = spawnSync(tsx, [join(REPO, "src", "cli", "main.ts"), "manifest", join(FIXTURES, "invalid", "cue-conflict.cue"), "-o", "m.bin"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, CAPOS_CUE_TAGS: "" },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("capos manifest: CUE evaluation failed:");
      expect(r.stderr).toMatch(/cue-conflict\.cue:8:\d+/);
      expect(readdirSync(dir)).toEqual([]);
    }),
  );
});
