// Kernel fault reports: the CPU exception or wasm trap, the registers that matter
// (vector, error code, RIP, CR2), a backtrace along the frame-pointer chain, then the
// machine stops with EXIT_KERNEL_FAULT. Nothing here allocates or can fault again.
import { peek64, readCr2 } from "./arch/x86_64/cpu";
import { archFramePointer } from "./arch/x86_64/native";
import { EXIT_KERNEL_FAULT, machineExit } from "./arch/x86_64/debug-exit";
import {
  FRAME_VECTOR, FRAME_ERROR, FRAME_RIP, FRAME_CS, FRAME_RFLAGS, FRAME_RSP, FRAME_RBP, FRAME_RAX, FRAME_RBX,
  FRAME_RCX, FRAME_RDX, FRAME_RSI, FRAME_RDI, frameGet,
} from "./arch/x86_64/trapframe";
import { DIRECT_MAP_BASE, DIRECT_MAP_LIMIT, KERNEL_VBASE } from "./mem/layout";
import { logPrefix, logStr, logHex, logDec, logNl, logLine } from "./log";

const MAX_BACKTRACE: u32 = 16;

/** The CPU exception's mnemonic and name, for vectors 0..31. */
export function exceptionName(vector: u64): string {
  switch (<u32>vector) {
    case 0: return "#DE divide error";
    case 1: return "#DB debug";
    case 2: return "NMI";
    case 3: return "#BP breakpoint";
    case 4: return "#OF overflow";
    case 5: return "#BR bound range";
    case 6: return "#UD invalid opcode";
    case 7: return "#NM device not available";
    case 8: return "#DF double fault";
    case 10: return "#TS invalid TSS";
    case 11: return "#NP segment not present";
    case 12: return "#SS stack fault";
    case 13: return "#GP general protection";
    case 14: return "#PF page fault";
    case 16: return "#MF x87 floating-point error";
    case 17: return "#AC alignment check";
    case 18: return "#MC machine check";
    case 19: return "#XM SIMD floating-point exception";
    case 20: return "#VE virtualization exception";
    case 21: return "#CP control protection";
    default: return vector < 32 ? "reserved exception" : "unexpected interrupt";
  }
}

/** A frame pointer the report may follow: 8-byte aligned kernel memory (direct map). */
function followable(rbp: u64): bool {
  return (rbp & 7) == 0 && rbp >= DIRECT_MAP_BASE && rbp < DIRECT_MAP_BASE + DIRECT_MAP_LIMIT - 16;
}

/** Prints return addresses along the RBP chain starting at `rip`/`rbp`. */
export function logBacktrace(rip: u64, rbp: u64): void {
  logLine("backtrace:");
  logPrefix();
  logStr("  #0 ");
  logHex(rip, 16);
  logNl();
  let depth: u32 = 1;
  while (depth < MAX_BACKTRACE && followable(rbp)) {
    const ret = <u64>peek64(<i64>(rbp + 8));
    if (ret < KERNEL_VBASE) break; // left the kernel image (the chain ends at a stub's zero)
    logPrefix();
    logStr("  #");
    logDec(<u64>depth);
    logStr(" ");
    logHex(ret, 16);
    logNl();
    rbp = <u64>peek64(<i64>rbp);
    depth++;
  }
}

function logRegister(name: string, value: u64): void {
  logStr(name);
  logHex(value, 16);
}

/** Reports a CPU exception taken in kernel mode and stops the machine. */
export function kernelFault(frame: usize): void {
  const vector = frameGet(frame, FRAME_VECTOR);
  logPrefix();
  logStr("KERNEL FAULT: ");
  logStr(exceptionName(vector));
  logStr(" (vector ");
  logDec(vector);
  logStr("), error code ");
  logHex(frameGet(frame, FRAME_ERROR));
  logNl();
  logPrefix();
  logRegister("  rip ", frameGet(frame, FRAME_RIP));
  logRegister("  cr2 ", <u64>readCr2());
  logNl();
  logPrefix();
  logRegister("  rsp ", frameGet(frame, FRAME_RSP));
  logRegister("  rbp ", frameGet(frame, FRAME_RBP));
  logRegister("  rflags ", frameGet(frame, FRAME_RFLAGS));
  logRegister("  cs ", frameGet(frame, FRAME_CS));
  logNl();
  logPrefix();
  logRegister("  rax ", frameGet(frame, FRAME_RAX));
  logRegister("  rbx ", frameGet(frame, FRAME_RBX));
  logRegister("  rcx ", frameGet(frame, FRAME_RCX));
  logNl();
  logPrefix();
  logRegister("  rdx ", frameGet(frame, FRAME_RDX));
  logRegister("  rsi ", frameGet(frame, FRAME_RSI));
  logRegister("  rdi ", frameGet(frame, FRAME_RDI));
  logNl();
  logBacktrace(frameGet(frame, FRAME_RIP), frameGet(frame, FRAME_RBP));
  machineExit(EXIT_KERNEL_FAULT);
}

/** The wasm trap kinds of src/toolchain/wasm/abi.ts, by number. */
function wasmTrapName(kind: u32): string {
  switch (kind) {
    case 1: return "unreachable";
    case 2: return "integer divide by zero";
    case 3: return "integer overflow";
    case 4: return "invalid conversion to integer";
    case 5: return "out of bounds memory access";
    case 6: return "undefined element";
    case 7: return "uninitialized element";
    case 8: return "indirect call type mismatch";
    case 9: return "call stack exhausted";
    default: return "unknown trap";
  }
}

/** Reports a wasm trap in kernel code (the __wasm_trap entry) and stops the machine. */
export function kernelWasmTrap(kind: u32, functionIndex: u32, offset: u32): void {
  logPrefix();
  logStr("KERNEL FAULT: wasm trap: ");
  logStr(wasmTrapName(kind));
  logStr(" in wasm function ");
  logDec(<u64>functionIndex);
  logStr(" at module offset ");
  logHex(<u64>offset);
  logNl();
  const rbp = <u64>archFramePointer();
  if (followable(rbp)) logBacktrace(<u64>peek64(<i64>(rbp + 8)), <u64>peek64(<i64>rbp));
  machineExit(EXIT_KERNEL_FAULT);
}

/** A broken kernel invariant: reports it with a backtrace and stops the machine. */
export function kernelPanic(message: string): void {
  logPrefix();
  logStr("KERNEL PANIC: ");
  logStr(message);
  logNl();
  const rbp = <u64>archFramePointer();
  if (followable(rbp)) logBacktrace(<u64>peek64(<i64>(rbp + 8)), <u64>peek64(<i64>rbp));
  machineExit(EXIT_KERNEL_FAULT);
}
