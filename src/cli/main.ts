// The `capos` command line.
import { Command } from "commander";
import { selftestCpu } from "./selftest.js";
import { registerManifestCommand } from "./manifest.js";
import { registerAsmCommand } from "./asm.js";
import { registerDisasmCommand } from "./disasm.js";
import { registerSelftestAsmCommand } from "./selftest-asm.js";
import { registerEmulate } from "./emulate.js";
import { registerBenchCpu } from "./bench-cpu.js";
import { registerWasmCommands } from "./wasm.js";
import { registerBuildCommand } from "./build.js";
import { registerBootCommand } from "./boot.js";

const program = new Command();
program.name("capos").description("capos: a capability OS and the x86-64 machine it runs on").version("0.1.0");

const selftest = program.command("selftest").description("run built-in conformance suites");
selftest
  .command("cpu")
  .description("run x86-64 single-instruction conformance vectors (JSONL file or directory)")
  .option("--vectors <path>", "vector file or directory (default: ../shared/conformance/x86-64)")
  .option("--filter <prefix>", "only vectors whose id starts with this prefix")
  .option("--max-failures <n>", "how many failures to print in detail", "20")
  .option("-v, --verbose", "print every failure")
  .action((opts) => {
    process.exitCode = selftestCpu(opts);
  });

registerManifestCommand(program);
registerBuildCommand(program);
registerBootCommand(program);
registerSelftestAsmCommand(selftest);
registerAsmCommand(program);
registerDisasmCommand(program);
registerEmulate(program);

const bench = program.command("bench").description("benchmarks: commands that print numbers");
registerBenchCpu(bench);
registerWasmCommands(program, selftest, bench);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`capos: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
