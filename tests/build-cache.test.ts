// `capos build` cache behaviour on a fixture source tree (a fixture kernel and
// two user programs): a cold build makes every image, a warm build runs
// nothing, and each kind of change re-runs exactly the stages that depend on
// it. The kernel image it makes boots on the machine.
import { readFileSync, rmSync, statSync, writeFileSync, appendFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, type BuildReporter, type BuildSummary, type TargetStatus, type WorkStage } from "../src/build/index.js";
import { readElf, PT_LOAD } from "../src/toolchain/x64/elf-read.js";
import { Machine } from "../src/emulator/machine.js";
import { makeFixtureTree } from "./fixtures/build/tree.js";

/** Records which stages ran for which target. */
class Recorder implements BuildReporter {
  readonly stages: string[] = [];
  begin(): void {}
  stage(target: string, stage: WorkStage): void {
    this.stages.push(`${target}:${stage}`);
  }
  done(): void {}
  end(): void {}
}

let root = "";
let buildDir = "";

async function run(opts: { targets?: string[]; force?: boolean } = {}): Promise<{ summary: BuildSummary; stages: string[]; status: Record<string, TargetStatus> }> {
  const recorder = new Recorder();
  const summary = await build({ root, buildDir, reporter: recorder, ...opts });
  const status: Record<string, TargetStatus> = {};
  for (const o of summary.outcomes) status[o.target] = o.status;
  return { summary, stages: recorder.stages, status };
}

const mtime = (path: string) => statSync(join(buildDir, path)).mtimeMs;
const bytes = (path: string) => readFileSync(join(buildDir, path));

beforeAll(() => {
  root = makeFixtureTree();
  buildDir = join(root, "build");
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("capos build: the cache", () => {
  it("builds every target cold", async () => {
    const { summary, stages, status } = await run();
    expect(summary.ok).toBe(true);
    expect(status).toEqual({ kernel: "built", "user/counter": "built", "user/hello": "built" });
    expect(stages).toEqual([
      "kernel:asc", "kernel:x86-64", "user/counter:asc", "user/counter:x86-64", "user/hello:asc", "user/hello:x86-64",
    ]);
    for (const out of ["kernel.elf", "user/counter.elf", "user/hello.elf"]) {
      const elf = readElf(new Uint8Array(bytes(out)));
      expect(elf.bits).toBe(64);
      expect(elf.type).toBe(2); // ET_EXEC
      expect(elf.segments.some((s) => s.type === PT_LOAD && (s.flags & 1) !== 0)).toBe(true);
    }
    // The symbol maps and the cache sit beside them.
    expect(bytes("user/hello.map").toString()).toMatch(/^# capos symbol map/);
    expect(JSON.parse(bytes(".cache/user/hello.json").toString())).toMatchObject({ target: "user/hello" });
    const hello = summary.outcomes.find((o) => o.target === "user/hello")!;
    expect(hello.bytes).toBe(bytes("user/hello.elf").length);
    expect(hello.stageMs.asc).toBeGreaterThan(0);
  });

  it("runs nothing when nothing changed", async () => {
    const before = mtime("user/hello.elf");
    const { stages, status } = await run();
    expect(stages).toEqual([]);
    expect(status).toEqual({ kernel: "up-to-date", "user/counter": "up-to-date", "user/hello": "up-to-date" });
    expect(mtime("user/hello.elf")).toBe(before);
  });

  it("rebuilds only the program a changed file belongs to", async () => {
    writeFileSync(join(root, "user/hello/greeting/index.ts"), `export function greeting(): string {\n  return "hello, changed";\n}\n`);
    const before = bytes("user/hello.elf");
    const { stages, status } = await run();
    expect(stages).toEqual(["user/hello:asc", "user/hello:x86-64"]);
    expect(status).toEqual({ kernel: "up-to-date", "user/counter": "up-to-date", "user/hello": "built" });
    expect(bytes("user/hello.elf").equals(before)).toBe(false);
  });

  it("keeps the images when asc produces the same wasm (a comment changed)", async () => {
    const before = mtime("user/hello.elf");
    appendFileSync(join(root, "user/hello/main.ts"), "// a comment changes the source, not the program\n");
    const { stages, status } = await run();
    expect(stages).toEqual(["user/hello:asc"]);
    expect(status["user/hello"]).toBe("unchanged");
    expect(mtime("user/hello.elf")).toBe(before);
    // ...and the record now knows the new source: the next build is a no-op.
    expect((await run()).stages).toEqual([]);
  });

  it("re-runs asc for every program when the runtime library changes, and not for the kernel", async () => {
    appendFileSync(join(root, "user/rt/status.ts"), "\n// touched by the cache test\n");
    const { stages } = await run();
    expect(stages).toEqual(["user/counter:asc", "user/hello:asc"]);
  });

  it("relinks the kernel without asc when only its assembly changes", async () => {
    const path = join(root, "kernel/arch/x86_64/answer.s");
    writeFileSync(path, readFileSync(path, "utf8").replace("mov eax, 42", "mov eax, 43"));
    const { stages, status } = await run();
    expect(stages).toEqual(["kernel:x86-64"]);
    expect(status.kernel).toBe("built");
  });

  it("notices a new assembly file", async () => {
    writeFileSync(join(root, "kernel/arch/x86_64/extra.s"), ".text\n.globl fixture_extra\nfixture_extra:\n  ret\n");
    expect((await run()).stages).toEqual(["kernel:x86-64"]);
    unlinkSync(join(root, "kernel/arch/x86_64/extra.s"));
    expect((await run()).stages).toEqual(["kernel:x86-64"]);
  });

  it("remakes a deleted or damaged image from the cached wasm", async () => {
    unlinkSync(join(buildDir, "user/counter.elf"));
    expect((await run()).stages).toEqual(["user/counter:x86-64"]);
    writeFileSync(join(buildDir, "user/hello.elf"), "garbage");
    expect((await run()).stages).toEqual(["user/hello:x86-64"]);
    expect(readElf(new Uint8Array(bytes("user/hello.elf"))).type).toBe(2);
  });

  it("rebuilds when a file appears where asc once looked and found nothing", async () => {
    // `import "./greeting"` resolved to greeting/index.ts after asc found no greeting.ts.
    writeFileSync(join(root, "user/hello/greeting.ts"), `export function greeting(): string {\n  return "from greeting.ts";\n}\n`);
    const { stages, status } = await run();
    expect(stages).toEqual(["user/hello:asc", "user/hello:x86-64"]);
    expect(status["user/hello"]).toBe("built");
    const record = JSON.parse(bytes(".cache/user/hello.json").toString()) as { sources: { path: string; hash: string | null }[] };
    expect(record.sources.find((s) => s.path === "user/hello/greeting.ts")?.hash).not.toBeNull();
  });

  it("rebuilds a target whose build.json changes its options", async () => {
    writeFileSync(join(root, "user/counter/build.json"), `{ "asc": { "optimizeLevel": 1 } }\n`);
    const { stages } = await run();
    expect(stages).toEqual(["user/counter:asc", "user/counter:x86-64"]);
  });

  it("builds only the targets named, by id or program name", async () => {
    const { summary } = await run({ targets: ["hello", "kernel"], force: true });
    expect(summary.outcomes.map((o) => `${o.target}:${o.status}`)).toEqual(["user/hello:built", "kernel:built"]);
  });

  it("rebuilds everything with force", async () => {
    const { stages } = await run({ force: true });
    expect(stages.filter((s) => s.endsWith(":asc"))).toHaveLength(3);
  });

  it("made a kernel image that boots: the fixture kernel prints its assembly's answer", async () => {
    const machine = new Machine({});
    let out = "";
    machine.attachSerial(0, { output: (b) => { out += String.fromCharCode(b); } });
    machine.loadMultiboot(new Uint8Array(bytes("kernel.elf")), { cmdline: "", modules: [] });
    const result = await machine.run({ maxInstructions: 20_000_000 });
    expect(out).toBe("fixture kernel: answer 43\n");
    expect(result.reason).toBe("exit");
    expect(result.exitCode).toBe(0x21); // (0x10 << 1) | 1: it saw the Multiboot magic
  });
});
