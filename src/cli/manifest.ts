// `capos manifest <file.cue>`: compiles a CUE system description into the
// Cap'n Proto boot package (manifest.bin), or prints the checked manifest as
// JSON. On any error it prints every problem, writes nothing and exits 1.
import type { Command } from "commander";
import { relative, resolve } from "node:path";
import { manifestToJson } from "../manifest/compile.js";
import { CueEvaluationError } from "../manifest/cue/evaluate.js";
import { compileManifestFile, evaluateManifestFile, TAGS_ENV } from "../manifest/host/compile-file.js";
import { writeFileAtomic } from "../manifest/host/write-atomic.js";
import { ManifestInvalidError, formatIssue } from "../manifest/model.js";
import { createBuildHook } from "../build/hook.js";
import { autoReporter } from "../build/progress.js";

interface ManifestOptions {
  output?: string;
  json?: boolean;
  inject: string[];
  buildDir?: string;
}

const DEFAULT_OUTPUT = "manifest.bin";

export function registerManifestCommand(program: Command): void {
  program
    .command("manifest")
    .description("compile a CUE manifest (system.cue) into the Cap'n Proto boot package")
    .argument("<file>", "the manifest .cue file; a bare name is also looked for under manifests/")
    .option("-o, --output <path>", `where to write the boot package, '-' for stdout (default: ${DEFAULT_OUTPUT})`)
    .option("--json", "print the checked manifest as JSON instead (with -o, write the boot package as well)")
    .option("--inject <key=value>", `set a CUE @tag (repeatable); ${TAGS_ENV}=k=v,… sets tags for every manifest declaring them`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--build-dir <dir>", "build output directory holding user/<name>.elf (default: build/ of the capos checkout)")
    .action(async (file: string, opts: ManifestOptions) => {
      process.exitCode = await runManifestCommand(file, opts);
    });
}

/** Where the command reads and writes; the real process unless a test says otherwise. */
export interface CommandIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(data: string | Uint8Array): unknown };
  stderr: { write(data: string): unknown };
}

const processIo = (): CommandIo => ({ cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr });

export async function runManifestCommand(file: string, opts: ManifestOptions, io: CommandIo = processIo()): Promise<number> {
  const started = performance.now();
  const common = { file, tags: opts.inject, cwd: io.cwd, env: io.env };
  try {
    if (opts.json === true && opts.output === undefined) {
      const evaluated = await evaluateManifestFile(common);
      io.stdout.write(JSON.stringify(manifestToJson(evaluated), null, 2) + "\n");
      return 0;
    }
    const compiled = await compileManifestFile({
      ...common,
      buildDir: opts.buildDir === undefined ? undefined : resolve(io.cwd, opts.buildDir),
      // Builds the programs the manifest names when the build directory belongs to a capos source tree.
      build: createBuildHook({ reporter: autoReporter(io.stderr, io.env, io.cwd) }),
    });
    const output = opts.output ?? DEFAULT_OUTPUT;
    if (output === "-") io.stdout.write(compiled.bytes);
    else writeFileAtomic(resolve(io.cwd, output), compiled.bytes);
    if (opts.json === true && output !== "-") io.stdout.write(JSON.stringify(manifestToJson(compiled), null, 2) + "\n");
    const total = performance.now() - started;
    const m = compiled.manifest;
    io.stderr.write(
      `capos manifest: ${output === "-" ? "wrote" : `wrote ${output}:`} ${compiled.bytes.length} bytes, ` +
        `${compiled.programs.length} program(s), init + ${m.initConfig.services.length} service(s) ` +
        `from ${relative(io.cwd, compiled.file) || compiled.file} in ${total.toFixed(0)} ms (CUE ${compiled.cueMs.toFixed(0)} ms)\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof CueEvaluationError) {
      io.stderr.write(`capos manifest: CUE evaluation failed:\n${e.message}\n`);
    } else if (e instanceof ManifestInvalidError) {
      const n = e.issues.length;
      io.stderr.write(`capos manifest: the manifest is invalid (${n} problem${n === 1 ? "" : "s"}):\n`);
      for (const issue of e.issues) io.stderr.write(`  ${formatIssue(issue)}\n`);
    } else {
      io.stderr.write(`capos manifest: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    return 1;
  }
}
