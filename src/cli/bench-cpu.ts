// `capos bench cpu`: runs a CPU-bound long-mode program (paging on; ALU mix,
// loads and stores, branches, calls) on the interpreter and prints guest MIPS.
// A benchmark, not a test: it prints numbers and asserts only that the guest ran.
import type { Command } from "commander";
import { assemble } from "../toolchain/x64/index.js";
import { createLongModeTestbed } from "../emulator/testbed.js";
import { RUN_HALT } from "../emulator/cpu/cpu.js";

const CODE = 0x100000;
const DATA = 0x200000;
const STACK_TOP = 0x400000;

/** The workload: per iteration ~28 instructions of loads, stores, ALU, multiply, rotate, setcc, cmov, call/ret, push/pop and branches. */
export const BENCH_SOURCE = `
.intel_syntax noprefix
.code64
start:
    mov rsi, ${DATA}
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    mov r10, 0x9E3779B97F4A7C15
loop_top:
    mov r8, qword ptr [rsi + rdx*8]
    add rax, r8
    imul r9, rax, 31
    xor rax, r9
    rol rax, 13
    mov qword ptr [rsi + rdx*8], rax
    add edx, 1
    and edx, 255
    call mix
    test dil, 1
    jz skip
    add rbx, rax
skip:
    movzx r11d, byte ptr [rsi + rdx]
    add r11, rbx
    mov dword ptr [rsi + rdx*4 + 2048], r11d
    cmp r11, rcx
    setb cl
    dec rdi
    jnz loop_top
    hlt
mix:
    push rbx
    lea rax, [rax + rbx*2 + 7]
    shr rbx, 3
    xor rbx, r10
    cmp rax, rbx
    cmovb rax, rbx
    pop rbx
    ret
`;

export interface CpuBenchResult {
  instructions: number;
  /** Wall time of the run. */
  ms: number;
  mips: number;
  /** CPU time of this process during the run (user + system): robust when other work shares the cores. */
  cpuMs: number;
  cpuMips: number;
  checksum: string;
}

/** Runs the workload once for `iterations` loop trips. */
export function runCpuBench(iterations: number): CpuBenchResult {
  const { mem, cpu } = createLongModeTestbed(8);
  const { bytes } = assemble(BENCH_SOURCE, { bits: 64, origin: CODE });
  mem.ram.set(bytes, CODE);
  cpu.notifyRamWritten(CODE, bytes.length);
  cpu.r[7 * 2] = iterations; // rdi: loop count
  cpu.r[4 * 2] = STACK_TOP; // rsp
  cpu.rip = CODE;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const reason = cpu.run(Number.MAX_SAFE_INTEGER);
  const ms = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  const cpuMs = (c1.user + c1.system) / 1000;
  if (reason !== RUN_HALT) throw new Error(`benchmark program did not finish with hlt (run result ${reason}, rip 0x${cpu.rip.toString(16)})`);
  const checksum = (cpu.r[1]! >>> 0).toString(16).padStart(8, "0") + (cpu.r[0]! >>> 0).toString(16).padStart(8, "0");
  return { instructions: cpu.icount, ms, mips: cpu.icount / ms / 1000, cpuMs, cpuMips: cpu.icount / cpuMs / 1000, checksum };
}

export function registerBenchCpu(bench: Command): void {
  bench
    .command("cpu")
    .description("run a CPU-bound long-mode program on the interpreter and print guest MIPS")
    .option("--iterations <n>", "loop trips per run", "2000000")
    .option("--runs <n>", "timed runs (after one warm-up run)", "5")
    .action((opts: { iterations: string; runs: string }) => {
      const iterations = Number(opts.iterations);
      const runs = Number(opts.runs);
      if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(runs) || runs < 1) {
        throw new Error("--iterations and --runs take positive whole numbers");
      }
      runCpuBench(Math.min(iterations, 200000)); // warm up the JIT
      const results: CpuBenchResult[] = [];
      for (let k = 0; k < runs; k++) {
        const r = runCpuBench(iterations);
        results.push(r);
        process.stdout.write(
          `run ${k + 1}: ${r.instructions} instructions in ${r.ms.toFixed(0)} ms wall = ${r.mips.toFixed(1)} MIPS; ` +
            `${r.cpuMs.toFixed(0)} ms CPU = ${r.cpuMips.toFixed(1)} MIPS per CPU-second\n`,
        );
      }
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const best = (xs: number[]) => Math.max(...xs);
      const wall = results.map((r) => r.mips);
      const cpuTime = results.map((r) => r.cpuMips);
      process.stdout.write(
        `cpu: median ${median(wall).toFixed(1)} MIPS (best ${best(wall).toFixed(1)}) wall; ` +
          `median ${median(cpuTime).toFixed(1)} MIPS (best ${best(cpuTime).toFixed(1)}) per CPU-second; checksum ${results[0]!.checksum}\n`,
      );
    });
}
