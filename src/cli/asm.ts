// `capos asm <file.s> -o <out>`: assembles an Intel-syntax source file into a
// flat binary (at --origin) or an ELF relocatable object.
import type { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import { Assembler, AsmError, parseInto, type Bits } from "../toolchain/x64/index.js";
import { writeElfObject } from "../toolchain/x64/elf-object.js";

export interface AsmOptions {
  output: string;
  bits?: string;
  format?: string;
  origin?: string;
}

export function parseBits(s: string | undefined, fallback: Bits): Bits {
  if (s === undefined) return fallback;
  if (s !== "16" && s !== "32" && s !== "64") throw new Error(`--bits must be 16, 32 or 64 (got ${s})`);
  return Number(s) as Bits;
}

export function parseAddress(s: string | undefined): bigint {
  if (s === undefined) return 0n;
  try {
    return BigInt(s);
  } catch {
    throw new Error(`not an address: ${s}`);
  }
}

export function runAsm(file: string, opts: AsmOptions): number {
  const format = opts.format ?? "bin";
  if (format !== "bin" && format !== "elf") throw new Error(`--format must be bin or elf (got ${format})`);
  const source = readFileSync(file, "utf8");
  const a = new Assembler({ bits: parseBits(opts.bits, 64), origin: parseAddress(opts.origin) });
  try {
    parseInto(a, source, file);
    const bytes = format === "bin" ? a.flat().bytes : writeElfObject(a.object(), { elf32: parseBits(opts.bits, 64) !== 64 });
    writeFileSync(opts.output, bytes);
  } catch (e) {
    if (e instanceof AsmError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 0;
}

export function registerAsmCommand(program: Command): void {
  program
    .command("asm")
    .description("assemble an Intel-syntax (GNU .intel_syntax noprefix) source file")
    .argument("<file>", "source file (.s)")
    .requiredOption("-o, --output <out>", "output file")
    .option("--bits <n>", "initial code size: 16, 32 or 64 (.code32/.code64 switch it)", "64")
    .option("--format <fmt>", "bin (flat image) or elf (relocatable object)", "bin")
    .option("--origin <addr>", "address of the first byte of a flat image", "0")
    .action((file: string, opts: AsmOptions) => {
      process.exitCode = runAsm(file, opts);
    });
}
