// Golden tests of the manifest compiler: evaluate -> encode -> decode with
// capnp-es equals the expected structure, the embedded programs come back
// byte for byte, and (when the `capnp` tool is installed) the reference
// Cap'n Proto implementation reads the same message.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileManifest, evaluateManifest, manifestToJson } from "../src/manifest/compile.js";
import { decodeManifest, type DecodedManifest } from "../src/manifest/decode.js";
import { BuildDirBinaries, userProgramPath } from "../src/manifest/host/build-dir.js";
import { NodeSourceTree } from "../src/manifest/host/node-tree.js";
import { ManifestInvalidError, formatIssue } from "../src/manifest/model.js";
import { interfaceId } from "../src/manifest/schema-tables.js";
import { FIXTURES, FixturePrograms, MANIFESTS, REPO, cueModule, defaults, fixtureElf } from "./manifest-helpers.js";

function hasCapnp(): boolean {
  try {
    execFileSync("capnp", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const CAPNP = hasCapnp();
if (!CAPNP) console.warn("NOTICE: the capnp tool is not installed; skipping the reference-decoder cross-checks.");

const input = async (file: string) => ({ cueModule: await cueModule(), tree: new NodeSourceTree(REPO), file, defaults });

const kernel = (name: string, iface: string, source: string) => ({ name, expectedInterfaceId: interfaceId(iface), source: { kernel: source } });
const imported = (name: string, iface: string, service: string, exp: string) => ({
  name,
  expectedInterfaceId: interfaceId(iface),
  source: { service: { service, export: exp } },
});

/** The golden graph, written out by hand from graph.cue and the schema. */
const GRAPH_EXPECTED: Omit<DecodedManifest, "binaries"> = {
  schemaVersion: 1,
  initConfig: {
    init: {
      name: "init",
      binary: "init",
      caps: [
        kernel("console", "Console", "console"),
        kernel("bootPackage", "BootPackage", "bootPackage"),
        kernel("spawner", "ProcessSpawner", "processSpawner"),
        kernel("timer", "Timer", "timer"),
      ],
      exports: [],
      lifetime: "resident",
    },
    services: [
      {
        name: "log-server",
        binary: "logger",
        caps: [kernel("console", "Console", "console"), kernel("log", "Endpoint", "endpoint"), kernel("frameAllocator", "FrameAllocator", "frameAllocator")],
        exports: ["log", "frameAllocator"],
        lifetime: "resident",
      },
      {
        name: "worker",
        binary: "worker",
        caps: [
          imported("log", "Endpoint", "log-server", "log"),
          imported("frames", "FrameAllocator", "log-server", "frameAllocator"),
          kernel("timer", "Timer", "timer"),
          kernel("virtualMemory", "VirtualMemory", "virtualMemory"),
        ],
        exports: [],
        lifetime: "oneShot",
      },
      { name: "worker-2", binary: "worker", caps: [kernel("console", "Console", "console")], exports: [], lifetime: "oneShot" },
    ],
  },
  kernelParams: {
    motd: "Welcome to capos, golden.",
    logLevel: "debug",
    timerHz: 250,
    processQuotas: { capSlots: 64, queuedCalls: 32, framePages: 4096, timers: 4 },
  },
};

/** The reference decoder's JSON (capnp convert binary:json), in decodeManifest's shape. */
function referenceDecode(bytes: Uint8Array): unknown {
  const json = execFileSync("capnp", ["convert", "binary:json", join(REPO, "schema", "capos.capnp"), "SystemManifest"], { input: bytes, maxBuffer: 64 << 20 });
  const value = JSON.parse(json.toString("utf8"), (key, v: unknown) => (key === "expectedInterfaceId" ? BigInt(v as string) : v)) as {
    binaries: { name: string; data: number[] }[];
  };
  return { ...value, binaries: value.binaries.map((b) => ({ name: b.name, data: new Uint8Array(b.data) })) };
}

describe("manifest golden: graph.cue", () => {
  const file = join(FIXTURES, "golden", "graph.cue");

  it("evaluates, encodes and decodes to the expected structure", async () => {
    const programs = new FixturePrograms();
    const compiled = await compileManifest(await input(file), programs);
    const decoded = decodeManifest(compiled.bytes);
    const { binaries, ...rest } = decoded;
    expect(rest).toEqual(GRAPH_EXPECTED);
    // Binaries: every program run, in first-use order, then programs started by name.
    expect(binaries.map((b) => b.name)).toEqual(["init", "logger", "worker", "tool"]);
    for (const b of binaries) expect(Buffer.from(b.data).equals(Buffer.from(fixtureElf(b.name))), b.name).toBe(true);
    expect(programs.prepared).toEqual([["init", "logger", "worker", "tool"]]);
  });

  it("is one segment in standard framing (what the kernel reads)", async () => {
    const { bytes } = await compileManifest(await input(file), new FixturePrograms());
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(v.getUint32(0, true)).toBe(0); // segment count - 1
    expect(v.getUint32(4, true) * 8 + 8).toBe(bytes.length);
  });

  it("plans grants: kernel, copy, mint, and client facets for endpoint exports", async () => {
    const e = await evaluateManifest(await input(file));
    expect(e.grants).toEqual({
      init: ["kernel", "kernel", "kernel", "kernel"],
      services: [["copy", "mint", "mint"], ["clientFacet", "copy", "copy", "mint"], ["copy"]],
    });
    const json = manifestToJson(e) as { initConfig: { services: { caps: { grant: string; expectedInterfaceId: string }[] }[] } };
    expect(json.initConfig.services[1]!.caps[0]).toMatchObject({ grant: "clientFacet", expectedInterfaceId: `0x${interfaceId("Endpoint").toString(16)}` });
  });

  it.skipIf(!CAPNP)("reads back identically through the reference Cap'n Proto decoder", async () => {
    const { bytes } = await compileManifest(await input(file), new FixturePrograms());
    expect(referenceDecode(bytes)).toEqual(decodeManifest(bytes));
  });

  it("is deterministic: the same inputs give the same bytes", async () => {
    const a = await compileManifest(await input(file), new FixturePrograms());
    const b = await compileManifest(await input(file), new FixturePrograms());
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });
});

describe("manifest golden: the repository's manifests", () => {
  it("system.cue: init with the kernel caps it needs and passes on", async () => {
    const compiled = await compileManifest(await input(join(MANIFESTS, "system.cue")), new FixturePrograms());
    const d = decodeManifest(compiled.bytes);
    expect(d.binaries.map((b) => b.name)).toEqual(["init"]);
    expect(d.initConfig.init).toEqual({
      name: "init",
      binary: "init",
      caps: [
        kernel("console", "Console", "console"),
        kernel("bootPackage", "BootPackage", "bootPackage"),
        kernel("processSpawner", "ProcessSpawner", "processSpawner"),
        kernel("timer", "Timer", "timer"),
        kernel("terminal", "TerminalSession", "terminal"),
      ],
      exports: [],
      lifetime: "resident",
    });
    expect(d.kernelParams).toEqual({
      motd: "Welcome to capos, operator.",
      logLevel: "info",
      timerHz: 100,
      processQuotas: { capSlots: 256, queuedCalls: 32, framePages: 4096, timers: 16 },
    });
    if (CAPNP) expect(referenceDecode(compiled.bytes)).toEqual(d);
  });

  it("spawn.cue: an endpoint export imported as a client facet", async () => {
    const e = await evaluateManifest(await input(join(MANIFESTS, "spawn.cue")));
    expect(e.manifest.initConfig.services.map((s) => s.name)).toEqual(["ipc-server", "ipc-client", "timer-smoke"]);
    expect(e.grants.services[1]).toEqual(["copy", "clientFacet"]);
  });

  it("hostile.cue: one one-shot service holding only a console and child-local caps", async () => {
    const e = await evaluateManifest(await input(join(MANIFESTS, "hostile.cue")));
    const [hostile] = e.manifest.initConfig.services;
    expect(hostile!.lifetime).toBe("oneShot");
    expect(e.grants.services[0]).toEqual(["copy", "mint", "mint"]);
  });
});

describe("manifest programs from the build directory", () => {
  it("reads build/user/<name>.elf, runs the build hook first, and names the missing file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-build-"));
    try {
      const built: string[][] = [];
      const buildHook = async (names: readonly string[], buildDir: string) => {
        built.push([...names]);
        mkdirSync(join(buildDir, "user"), { recursive: true });
        for (const n of names) if (n !== "tool") writeFileSync(userProgramPath(buildDir, n), fixtureElf(`built ${n}`));
      };
      const file = join(FIXTURES, "golden", "graph.cue");
      const err = await compileManifest(await input(file), new BuildDirBinaries(dir, buildHook, dir)).catch((e: unknown) => e);
      expect(built).toEqual([["init", "logger", "worker", "tool"]]);
      expect(err).toBeInstanceOf(ManifestInvalidError);
      expect((err as ManifestInvalidError).issues.map(formatIssue)).toEqual([
        "binaries[3].name: found no program for binary 'tool'; expected user/tool.elf (run capos build)",
      ]);
      writeFileSync(userProgramPath(dir, "tool"), fixtureElf("built tool"));
      const compiled = await compileManifest(await input(file), new BuildDirBinaries(dir, null, dir));
      const d = decodeManifest(compiled.bytes);
      for (const b of d.binaries) expect(Buffer.from(b.data).equals(Buffer.from(fixtureElf(`built ${b.name}`)))).toBe(true);
      expect(compiled.programs.map((p) => p.origin)).toEqual(["user/init.elf", "user/logger.elf", "user/worker.elf", "user/tool.elf"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
