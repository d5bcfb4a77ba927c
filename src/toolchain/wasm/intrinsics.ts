// The `cpu` import module: privileged and special instructions a wasm program
// calls like functions and the compiler emits inline. One row per intrinsic
// (name, signature, what it compiles to); docs/toolchain.md prints this table.
// Arguments arrive in the registers the instruction wants; results leave in RAX.
import type { IntrinsicDef, IntrinsicHost } from "./context.js";
import { I32, I64 } from "./types.js";
import { R8, R9, R10, R11, RAX, RBX, RCX, RDI, RDX, RSI, RSP } from "./x64-writer.js";
import { MEMORY_BASE_REG } from "./abi.js";

type Emit = (h: IntrinsicHost) => void;

function row(name: string, params: number[], results: number[], doc: string, emit: Emit): IntrinsicDef {
  return { name, params, results, doc, emit };
}

/** RDX:RAX (as left by rdmsr/rdtsc) into one 64-bit RAX. */
function joinEdxEax(h: IntrinsicHost): void {
  const w = h.w;
  w.op("shl", w.R(8, RDX), w.U8(32));
  w.op("or", w.R(8, RAX), w.R(8, RDX));
}

function portIn(size: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([RDX], [RAX]);
    w.op("in", w.R(size, RAX), w.R(2, RDX));
    if (size < 4) w.op("movzx", w.R(4, RAX), w.R(size, RAX));
    h.pushGprResult(I32, RAX);
  };
}

function portOut(size: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([RDX, RAX]);
    w.op("out", w.R(2, RDX), w.R(size, RAX));
  };
}

function readCr(n: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([], [RAX]);
    w.op("mov", w.R(8, RAX), w.CR(n));
    h.pushGprResult(I64, RAX);
  };
}

function writeCr(n: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([RAX]);
    w.op("mov", w.CR(n), w.R(8, RAX));
  };
}

function plain(mn: string): Emit {
  return (h) => { h.w.op(mn); };
}

function descriptorLoad(mn: string): Emit {
  return (h) => {
    h.wasmAddressToR11();
    h.w.op(mn, h.w.M(0, R11, -1, 0, 0));
  };
}

function syscall(n: number): Emit {
  const regs = [RAX, RDI, RSI, RDX, R10, R8, R9].slice(0, n + 1);
  return (h) => {
    h.spillAll();
    h.argsToGprs(regs, [RCX, RAX]);
    h.w.op("syscall");
    h.pushGprResult(I64, RAX);
  };
}

function peek(size: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([RAX]);
    if (size === 8) w.op("mov", w.R(8, RAX), w.M(8, RAX, -1, 0, 0));
    else if (size === 4) w.op("mov", w.R(4, RAX), w.M(4, RAX, -1, 0, 0));
    else w.op("movzx", w.R(4, RAX), w.M(size, RAX, -1, 0, 0));
    h.pushGprResult(size === 8 ? I64 : I32, RAX);
  };
}

function poke(size: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([RAX, RDX]);
    w.op("mov", w.M(size, RAX, -1, 0, 0), w.R(size, RDX));
  };
}

function cpuid(reg: number): Emit {
  return (h) => {
    const w = h.w;
    h.argsToGprs([RAX, RCX], [RDX]);
    // cpuid writes RBX, which may hold a local: keep it.
    w.op("push", w.R(8, RBX));
    w.op("cpuid");
    w.op("mov", w.R(4, R11), w.R(4, reg));
    w.op("pop", w.R(8, RBX));
    w.op("mov", w.R(4, RAX), w.R(4, R11));
    h.pushGprResult(I32, RAX);
  };
}

/** The `cpu` intrinsics, by import field name. */
export const CPU_INTRINSICS: readonly IntrinsicDef[] = [
  row("inb", [I32], [I32], "in al, dx (port → zero-extended byte)", portIn(1)),
  row("inw", [I32], [I32], "in ax, dx", portIn(2)),
  row("inl", [I32], [I32], "in eax, dx", portIn(4)),
  row("outb", [I32, I32], [], "out dx, al (port, value)", portOut(1)),
  row("outw", [I32, I32], [], "out dx, ax", portOut(2)),
  row("outl", [I32, I32], [], "out dx, eax", portOut(4)),
  row("rdmsr", [I32], [I64], "ecx = msr; rdmsr; EDX:EAX joined", (h) => {
    h.argsToGprs([RCX], [RAX, RDX]);
    h.w.op("rdmsr");
    joinEdxEax(h);
    h.pushGprResult(I64, RAX);
  }),
  row("wrmsr", [I32, I64], [], "ecx = msr; EDX:EAX = value; wrmsr", (h) => {
    const w = h.w;
    h.argsToGprs([RCX, RAX], [RDX]);
    w.op("mov", w.R(8, RDX), w.R(8, RAX));
    w.op("shr", w.R(8, RDX), w.U8(32));
    w.op("wrmsr");
  }),
  row("readCr0", [], [I64], "mov rax, cr0", readCr(0)),
  row("writeCr0", [I64], [], "mov cr0, rax", writeCr(0)),
  row("readCr2", [], [I64], "mov rax, cr2 (page-fault address)", readCr(2)),
  row("readCr3", [], [I64], "mov rax, cr3", readCr(3)),
  row("writeCr3", [I64], [], "mov cr3, rax (switches address space, flushes the TLB)", writeCr(3)),
  row("readCr4", [], [I64], "mov rax, cr4", readCr(4)),
  row("writeCr4", [I64], [], "mov cr4, rax", writeCr(4)),
  row("invlpg", [I64], [], "invlpg [virtual address]", (h) => {
    h.argsToGprs([RAX]);
    h.w.op("invlpg", h.w.M(0, RAX, -1, 0, 0));
  }),
  row("hlt", [], [], "hlt", plain("hlt")),
  row("cli", [], [], "cli", plain("cli")),
  row("sti", [], [], "sti", plain("sti")),
  row("pause", [], [], "pause", plain("pause")),
  row("rdtsc", [], [I64], "rdtsc; EDX:EAX joined", (h) => {
    h.argsToGprs([], [RAX, RDX]);
    h.w.op("rdtsc");
    joinEdxEax(h);
    h.pushGprResult(I64, RAX);
  }),
  row("lgdt", [I32], [], "lgdt [wasm address of a 10-byte pseudo-descriptor]", descriptorLoad("lgdt")),
  row("lidt", [I32], [], "lidt [wasm address of a 10-byte pseudo-descriptor]", descriptorLoad("lidt")),
  row("ltr", [I32], [], "ltr (TSS selector)", (h) => {
    h.argsToGprs([RAX]);
    h.w.op("ltr", h.w.R(2, RAX));
  }),
  row("swapgs", [], [], "swapgs", plain("swapgs")),
  row("readRsp", [], [I64], "mov rax, rsp", (h) => {
    h.argsToGprs([], [RAX]);
    h.w.op("mov", h.w.R(8, RAX), h.w.R(8, RSP));
    h.pushGprResult(I64, RAX);
  }),
  row("readFlags", [], [I64], "pushfq; pop rax (RFLAGS)", (h) => {
    h.argsToGprs([], [RAX]);
    h.w.op("pushfq");
    h.w.op("pop", h.w.R(8, RAX));
    h.pushGprResult(I64, RAX);
  }),
  row("directMapBase", [], [I64], "mov rax, r15 (kernel/checked models: the memory base register)", (h) => {
    h.argsToGprs([], [RAX]);
    h.w.op("mov", h.w.R(8, RAX), h.w.R(8, MEMORY_BASE_REG));
    h.pushGprResult(I64, RAX);
  }),
  row("peek8", [I64], [I32], "movzx eax, byte [virtual address]", peek(1)),
  row("peek16", [I64], [I32], "movzx eax, word [virtual address]", peek(2)),
  row("peek32", [I64], [I32], "mov eax, [virtual address]", peek(4)),
  row("peek64", [I64], [I64], "mov rax, [virtual address]", peek(8)),
  row("poke8", [I64, I32], [], "mov byte [virtual address], value", poke(1)),
  row("poke16", [I64, I32], [], "mov word [virtual address], value", poke(2)),
  row("poke32", [I64, I32], [], "mov dword [virtual address], value", poke(4)),
  row("poke64", [I64, I64], [], "mov qword [virtual address], value", poke(8)),
  row("cpuidEax", [I32, I32], [I32], "cpuid (leaf in EAX, subleaf in ECX) → EAX", cpuid(RAX)),
  row("cpuidEbx", [I32, I32], [I32], "cpuid → EBX", cpuid(RBX)),
  row("cpuidEcx", [I32, I32], [I32], "cpuid → ECX", cpuid(RCX)),
  row("cpuidEdx", [I32, I32], [I32], "cpuid → EDX", cpuid(RDX)),
  row("syscall0", [I64], [I64], "RAX = number; syscall; → RAX (RCX, R11 clobbered)", syscall(0)),
  row("syscall1", [I64, I64], [I64], "RDI = a1", syscall(1)),
  row("syscall2", [I64, I64, I64], [I64], "RDI, RSI", syscall(2)),
  row("syscall3", [I64, I64, I64, I64], [I64], "RDI, RSI, RDX", syscall(3)),
  row("syscall4", [I64, I64, I64, I64, I64], [I64], "RDI, RSI, RDX, R10", syscall(4)),
  row("syscall5", [I64, I64, I64, I64, I64, I64], [I64], "RDI, RSI, RDX, R10, R8", syscall(5)),
  row("syscall6", [I64, I64, I64, I64, I64, I64, I64], [I64], "RDI, RSI, RDX, R10, R8, R9", syscall(6)),
];

const byName = new Map(CPU_INTRINSICS.map((r) => [r.name, r]));

/** The intrinsic named `field` of module "cpu", or undefined. */
export function cpuIntrinsic(field: string): IntrinsicDef | undefined {
  return byName.get(field);
}

export const CPU_MODULE = "cpu";
