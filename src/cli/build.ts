// `capos build [targets...]`: compiles the kernel and the user programs of the
// capos source tree into build/ (kernel.elf, user/<name>.elf), skipping what
// the cache says is current. Exits 1 when any target fails.
import type { Command } from "commander";
import { relative, resolve } from "node:path";
import { build, BuildError, formatDiagnostic, listTargets } from "../build/index.js";
import { defaultBuildDir, findSourceRoot } from "../build/locate.js";
import { autoReporter, type ReporterStream } from "../build/progress.js";

interface BuildCommandOptions {
  buildDir?: string;
  root?: string;
  force?: boolean;
  list?: boolean;
  plain?: boolean;
}

export interface BuildCommandIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown };
  stderr: ReporterStream;
}

export function registerBuildCommand(program: Command): void {
  program
    .command("build")
    .description("compile the kernel and user programs (AssemblyScript → wasm → x86-64) into build/, rebuilding only what changed")
    .argument("[targets...]", "targets to build: kernel, user/<name> or <name> (default: all)")
    .option("--build-dir <dir>", "output directory (default: build/ of the capos source tree)")
    .option("--root <dir>", "the source tree holding kernel/ and user/ (default: the capos checkout around the current directory)")
    .option("-f, --force", "rebuild even targets the cache says are current")
    .option("--list", "print the targets and exit")
    .option("--plain", "plain progress lines even on a terminal")
    .action(async (targets: string[], opts: BuildCommandOptions) => {
      process.exitCode = await runBuildCommand(targets, opts);
    });
}

const processIo = (): BuildCommandIo => ({ cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr });

export async function runBuildCommand(targets: readonly string[], opts: BuildCommandOptions, io: BuildCommandIo = processIo()): Promise<number> {
  const root = opts.root !== undefined ? resolve(io.cwd, opts.root) : findSourceRoot(io.cwd);
  if (root === null) {
    io.stderr.write("capos build: not inside a capos source tree (no package.json named capos above this directory); use --root\n");
    return 1;
  }
  if (opts.list === true) {
    for (const t of listTargets(root)) io.stdout.write(`${t.id}\n`);
    return 0;
  }
  const buildDir = opts.buildDir !== undefined ? resolve(io.cwd, opts.buildDir) : defaultBuildDir(root);
  const stderr = opts.plain === true ? { write: (s: string) => io.stderr.write(s) } : io.stderr;
  try {
    const summary = await build({ root, buildDir, targets, force: opts.force === true, reporter: autoReporter(stderr, io.env, io.cwd) });
    if (summary.outcomes.length === 0) io.stderr.write(`capos build: nothing to build in ${relative(io.cwd, root) || "."}\n`);
    return summary.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof BuildError) {
      for (const d of e.diagnostics) io.stderr.write(`capos build: ${formatDiagnostic(d)}\n`);
      return 1;
    }
    throw e;
  }
}
