// `capos build` when something is wrong: compile errors with file:line:col
// and asc's message, assembler and linker errors, bad build.json files and
// unknown targets; a failed target leaves its previous images and cache record
// untouched and no temporary files behind; the command exits 1. Also the
// progress output (terminal and plain), the command line and the manifest hook.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, createBuildHook, formatDiagnostic, plainReporter, terminalReporter, autoReporter, BuildError } from "../src/build/index.js";
import { runBuildCommand } from "../src/cli/build.js";
import { makeFixtureTree } from "./fixtures/build/tree.js";

let root = "";
let buildDir = "";

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every file of the build directory with its bytes, to compare before and after a failure. */
function snapshot(): Map<string, string> {
  return new Map(allFiles(buildDir).map((f) => [f, readFileSync(f).toString("base64")]));
}

function io(opts: { tty?: boolean; env?: Record<string, string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      cwd: root, env: opts.env ?? {},
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s), isTTY: opts.tty === true },
    },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

function edit(path: string, f: (text: string) => string): string {
  const full = join(root, path);
  const old = readFileSync(full, "utf8");
  writeFileSync(full, f(old));
  return old;
}

beforeAll(async () => {
  root = makeFixtureTree();
  buildDir = join(root, "build");
  const summary = await build({ root, buildDir, targets: ["hello", "counter"] });
  expect(summary.ok).toBe(true);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("capos build: errors", () => {
  it("reports an asc error with file:line:col and the message, and writes nothing", async () => {
    const before = snapshot();
    const old = edit("user/hello/main.ts", (t) => t.replace("print(greeting());", "print(greeting());\n  return notDefined;"));
    const summary = await build({ root, buildDir, targets: ["hello", "counter"], force: true });
    edit("user/hello/main.ts", () => old);
    expect(summary.ok).toBe(false);
    const hello = summary.outcomes.find((o) => o.target === "user/hello")!;
    expect(hello.status).toBe("failed");
    expect(hello.error?.stage).toBe("asc");
    const d = hello.error!.diagnostics.find((x) => x.severity === "error")!;
    expect(d).toMatchObject({ file: "user/hello/main.ts", line: 6, column: 10, code: "TS2304", message: "Cannot find name 'notDefined'." });
    expect(formatDiagnostic(d)).toBe(
      "user/hello/main.ts:6:10: error TS2304: Cannot find name 'notDefined'.\n" +
      "  6 |   return notDefined;\n" +
      "    |          ^",
    );
    // The other target still built; the failed one's files are exactly as they were.
    expect(summary.outcomes.find((o) => o.target === "user/counter")!.status).toBe("built");
    const after = snapshot();
    for (const f of ["user/hello.elf", "user/hello.map", ".cache/user/hello.json", ".cache/user/hello.wasm"]) {
      expect(after.get(join(buildDir, f))).toBe(before.get(join(buildDir, f)));
    }
    expect([...after.keys()].filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("exits 1 from the command line and prints the diagnostic", async () => {
    const old = edit("user/hello/main.ts", (t) => t.replace("print(greeting());", "print(greeting(42));"));
    const c = io();
    const code = await runBuildCommand(["hello"], {}, c.io);
    edit("user/hello/main.ts", () => old);
    expect(code).toBe(1);
    expect(c.err()).toMatch(/user\/hello\/main\.ts:5:9: error TS2554: Expected 0 arguments, but got 1\./);
    expect(c.err()).toMatch(/capos build: 1 target: 1 failed/);
  });

  it("builds again once the error is fixed", async () => {
    const c = io();
    expect(await runBuildCommand(["hello"], {}, c.io)).toBe(0);
    expect(c.err()).toMatch(/user\/hello: (up to date|built|sources changed)/);
  });

  it("points errors in the shared runtime at the runtime's file", async () => {
    const old = edit("user/rt/start.ts", (t) => t.replace("return RT_OK;\n}", "return RT_OK + undefinedInRuntime;\n}"));
    const summary = await build({ root, buildDir, targets: ["counter"] });
    edit("user/rt/start.ts", () => old);
    const d = summary.outcomes[0]!.error!.diagnostics[0]!;
    expect(d.file).toBe("user/rt/start.ts");
    expect(d.message).toBe("Cannot find name 'undefinedInRuntime'.");
    expect(d.line).toBeGreaterThan(0);
  });

  it("reports assembler errors with file:line:col", async () => {
    const old = edit("kernel/arch/x86_64/answer.s", (t) => t.replace("mov eax, 42", "mov eax, 42\n  frobnicate eax"));
    const summary = await build({ root, buildDir, targets: ["kernel"] });
    edit("kernel/arch/x86_64/answer.s", () => old);
    const e = summary.outcomes[0]!.error!;
    expect(e.stage).toBe("assemble");
    expect(e.diagnostics[0]).toMatchObject({ file: "kernel/arch/x86_64/answer.s", line: 6, column: 3 });
    expect(existsSync(join(buildDir, "kernel.elf"))).toBe(false);
  });

  it("reports link errors (an import nothing defines)", async () => {
    const old = edit("kernel/arch/x86_64/answer.s", (t) => t.replace(/fixture_answer/g, "something_else"));
    const summary = await build({ root, buildDir, targets: ["kernel"] });
    edit("kernel/arch/x86_64/answer.s", () => old);
    const e = summary.outcomes[0]!.error!;
    expect(e.stage).toBe("link");
    expect(e.diagnostics[0]!.message).toMatch(/fixture_answer/);
  });

  it("reports an asc crash as a failed target instead of ending the process", async () => {
    // asc 0.28 asserts when the abort handler reaches a global of another file
    // whose type it infers from a non-constant initializer.
    mkdirSync(join(root, "user/crash"), { recursive: true });
    writeFileSync(join(root, "user/crash/state.ts"), "@unmanaged export class Box { n: i32 = 0; }\nexport const box = new Box();\n");
    writeFileSync(join(root, "user/crash/main.ts"), [
      `import { box } from "./state";`,
      "export function myAbort(m: string | null, f: string | null, l: u32, c: u32): void { box.n = 1; }",
      "export function main(): i32 { assert(box.n == 0); return 0; }",
      "",
    ].join("\n"));
    writeFileSync(join(root, "user/crash/build.json"), `{ "asc": { "use": ["abort=user/crash/main/myAbort"] } }\n`);
    const exit = process.exit;
    const summary = await build({ root, buildDir, targets: ["crash"] });
    rmSync(join(root, "user/crash"), { recursive: true });
    const e = summary.outcomes[0]!.error!;
    expect(e.stage).toBe("asc");
    expect(e.diagnostics[0]!.message).toMatch(/crashed during compile: AssertionError/);
    expect(process.exit).toBe(exit);
  });

  it("rejects a bad build.json naming the problem", async () => {
    writeFileSync(join(root, "user/counter/build.json"), `{ "asc": { "optimiseLevel": 2 } }\n`);
    let summary = await build({ root, buildDir, targets: ["counter"] });
    expect(summary.outcomes[0]!.error?.stage).toBe("config");
    expect(summary.outcomes[0]!.error?.diagnostics[0]).toMatchObject({ file: "user/counter/build.json" });
    expect(summary.outcomes[0]!.error?.diagnostics[0]!.message).toMatch(/unknown field "asc.optimiseLevel"/);
    writeFileSync(join(root, "user/counter/build.json"), `{ "asc": { "optimizeLevel": 7 } }\n`);
    summary = await build({ root, buildDir, targets: ["counter"] });
    expect(summary.outcomes[0]!.error?.diagnostics[0]!.message).toMatch(/"asc.optimizeLevel" must be an integer from 0 to 3/);
    writeFileSync(join(root, "user/counter/build.json"), `{ "asc": `);
    summary = await build({ root, buildDir, targets: ["counter"] });
    expect(summary.outcomes[0]!.error?.diagnostics[0]!.message).toMatch(/not valid JSON/);
    rmSync(join(root, "user/counter/build.json"));
  });

  it("names the targets there are when asked for one that does not exist", async () => {
    await expect(build({ root, buildDir, targets: ["nosuch"] })).rejects.toThrow(BuildError);
    const c = io();
    expect(await runBuildCommand(["nosuch"], {}, c.io)).toBe(1);
    expect(c.err()).toBe("capos build: error: no target named 'nosuch' (targets: kernel, user/counter, user/hello)\n");
  });

  it("lists the targets", async () => {
    const c = io();
    expect(await runBuildCommand([], { list: true }, c.io)).toBe(0);
    expect(c.out()).toBe("kernel\nuser/counter\nuser/hello\n");
  });
});

describe("capos build: progress output", () => {
  it("prints plain lines without control characters outside a terminal", async () => {
    const c = io();
    expect(await runBuildCommand(["hello"], { force: true }, c.io)).toBe(0);
    const text = c.err();
    expect(text).not.toMatch(/[\r\x1b]/);
    expect(text.split("\n")).toEqual([
      "capos build: user/hello: asc ...",
      "capos build: user/hello: x86-64 + link ...",
      expect.stringMatching(/^capos build: user\/hello: built in [\d.]+ m?s \(asc [\d.]+ m?s, x86-64 [\d.]+ m?s, link [\d.]+ m?s\) -> build\/user\/hello\.elf \(\d+ KiB\)$/),
      expect.stringMatching(/^capos build: 1 target: 1 built in [\d.]+ m?s$/),
      "",
    ]);
  });

  it("redraws a status line on a terminal, and falls back to plain lines in CI", async () => {
    const tty = io({ tty: true });
    expect(await runBuildCommand(["hello"], { force: true }, tty.io)).toBe(0);
    expect(tty.err()).toMatch(/\r\x1b\[2K. \[1\/1\] user\/hello: asc \d+ ms/);
    expect(tty.err()).toMatch(/✓ user\/hello: built in/);
    const ci = io({ tty: true, env: { CI: "true" } });
    expect(await runBuildCommand(["hello"], {}, ci.io)).toBe(0);
    expect(ci.err()).not.toMatch(/[\r\x1b]/);
  });

  it("prints every diagnostic of a failure in both modes", () => {
    const e = new BuildError("user/x", "asc", [{ severity: "error", file: "user/x/main.ts", line: 2, column: 3, code: "TS1", message: "bad" }]);
    const outcome = { target: "user/x", status: "failed" as const, output: "user/x.elf", bytes: 0, ms: 1, stageMs: {}, warnings: [], error: e };
    for (const make of [plainReporter, terminalReporter]) {
      const out: string[] = [];
      const r = make({ write: (s: string) => out.push(s) }, "/");
      r.begin(["user/x"], "/b");
      r.done(outcome);
      expect(out.join("")).toMatch(/user\/x: asc failed\nuser\/x\/main\.ts:2:3: error TS1: bad\n/);
    }
    expect(autoReporter({ write: () => true, isTTY: false }, {})).toBeDefined();
  });
});

describe("capos build: the manifest hook", () => {
  it("builds the programs a manifest names and ignores names it has no source for", async () => {
    const hookDir = join(root, "hook-build");
    const hook = createBuildHook({ reporter: plainReporter({ write: () => true }) });
    await hook(["counter", "not-a-program"], hookDir);
    expect(statSync(join(hookDir, "user/counter.elf")).size).toBeGreaterThan(0);
    expect(existsSync(join(hookDir, "user/hello.elf"))).toBe(false);
  });

  it("does nothing for a build directory outside any capos source tree", async () => {
    const hook = createBuildHook({ reporter: plainReporter({ write: () => true }) });
    await hook(["counter"], "/nonexistent-capos-dir/build");
    expect(existsSync("/nonexistent-capos-dir")).toBe(false);
  });

  it("throws the build error when a program fails", async () => {
    const old = edit("user/counter/main.ts", (t) => t.replace("return sum;", "return sum + oops;"));
    const hook = createBuildHook({ reporter: plainReporter({ write: () => true }) });
    await expect(hook(["counter"], join(root, "hook-build"))).rejects.toThrow(/user\/counter\/main\.ts:\d+:\d+: error TS2304: Cannot find name 'oops'/);
    edit("user/counter/main.ts", () => old);
  });
});
