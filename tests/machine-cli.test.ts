// `capos emulate` end to end: COM1 on stdout, QEMU's exit status, --stats,
// --max-instructions, modules and command line, and a clear error for a bad image.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildKernel } from "./helpers/multiboot-kernel.js";
import { helloKernel, multibootInfoKernel } from "./helpers/multiboot-test-kernels.js";

const repo = resolve(__dirname, "..");
/** tsx runs the TypeScript CLI directly; imported by absolute URL because the commands run in a scratch directory. */
const tsxLoader = pathToFileURL(join(repo, "node_modules/tsx/dist/loader.mjs")).href;
const dir = mkdtempSync(join(tmpdir(), "capos-emulate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capos(args: string[], input = ""): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ["--import", tsxLoader, join(repo, "src/cli/main.ts"), "emulate", ...args], {
    cwd: dir, input, encoding: "latin1", timeout: 120_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe("capos emulate", () => {
  it("prints COM1 to stdout, exits with the debug-exit status, and reports --stats on stderr", () => {
    writeFileSync(join(dir, "hello.bin"), helloKernel());
    const r = capos(["--kernel", "hello.bin", "--stats"]);
    expect(r.stdout).toBe("Hello from a Multiboot kernel!\nmagic ok\n");
    expect(r.status).toBe(33);
    expect(r.stderr).toMatch(/\d+ instructions in [\d.]+ ms \([\d.]+ MIPS\).*stopped: exit/);
  });

  it("passes modules and the command line the way QEMU does", () => {
    writeFileSync(join(dir, "info.bin"), multibootInfoKernel());
    writeFileSync(join(dir, "m.txt"), "module text");
    const r = capos(["--kernel", "info.bin", "--append", "a=1 b", "--module", "m.txt=x y", "--module", "m.txt", "--ram", "64"]);
    expect(r.status).toBe(39);
    expect(r.stdout).toContain("cmdline: info.bin a=1 b\n");
    expect(r.stdout).toContain("mem_upper 64384\n");
    expect(r.stdout).toContain("string \"m.txt x y\", contents [module text]\n");
    expect(r.stdout).toContain("string \"m.txt\", contents [module text]\n");
  });

  it("stops at --max-instructions with status 72, and refuses a bad image with status 2", () => {
    writeFileSync(join(dir, "spin.bin"), buildKernel("_start:\n1:\n  jmp 1b"));
    const spin = capos(["--kernel", "spin.bin", "--max-instructions", "5000"]);
    expect(spin.status).toBe(72);
    expect(spin.stderr).toContain("budget: instruction budget of 5000 reached");
    writeFileSync(join(dir, "junk.bin"), new Uint8Array(100));
    const junk = capos(["--kernel", "junk.bin"]);
    expect(junk.status).toBe(2);
    expect(junk.stderr).toContain("junk.bin: no Multiboot header");
  });
});
