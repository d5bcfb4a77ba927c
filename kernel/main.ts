// The kernel's entry points: kmain (from the boot stub in entry.s) brings up the CPU
// tables, memory and the boot package, builds init and enters it; kernel_trap,
// kernel_syscall and kernel_wasm_trap are where trap.s and syscall.s call in.
import { COM1, serialInit } from "./arch/x86_64/serial";
import { percpuInit } from "./arch/x86_64/percpu";
import { idtInit } from "./arch/x86_64/idt";
import { syscallMsrInit } from "./arch/x86_64/msr";
import { picInit } from "./arch/x86_64/pic";
import { pitInit } from "./arch/x86_64/pit";
import { cpuidEax, cpuidEbx, readCr4, writeCr3, writeCr4 } from "./arch/x86_64/cpu";
import { archEnterUser, archImageSymbol } from "./arch/x86_64/native";
import { EXIT_BOOT_ERROR, EXIT_OUT_OF_MEMORY, machineExit } from "./arch/x86_64/debug-exit";
import {
  IMAGE_TEXT_START, IMAGE_TEXT_END, IMAGE_RODATA_START, IMAGE_RODATA_END, IMAGE_DATA_START, IMAGE_DATA_END,
  IMAGE_PHYS_START, IMAGE_PHYS_END,
} from "./mem/layout";
import { physInit, physRamTop } from "./mem/physical";
import { kernelSpaceBuild } from "./mem/address-space";
import { FRAMES_OK } from "./mem/frames";
import { manifestCheck, manifestInitCap } from "./boot/manifest";
import { processNew, processLoad, processGrant, processLayoutOk, processRelease, LOAD_OK, LOAD_ERR_ELF, LOAD_ERR_NO_MEMORY } from "./proc/process";
import { logProcess } from "./proc/exit";
import { elfReasonText } from "./proc/elf";
import { kernelSourceInterface, kernelSourceObject } from "./cap/objects";
import { schedAdd, schedNext } from "./sched/scheduler";
import { trapEntry } from "./trap";
import { syscallEntry } from "./syscall";
import { kernelWasmTrap, kernelPanic } from "./panic";
import { TextReader } from "../schema/as/runtime/index";
import { LOG_INFO, logEnabled, logSetLevel, logLine, logPrefix, logStr, logBytes, logDec, logNl } from "./log";

// Multiboot 1 information structure.
const MBI_FLAGS: usize = 0;
const MBI_MEM_UPPER: usize = 8;
const MBI_MODS_COUNT: usize = 20;
const MBI_MODS_ADDR: usize = 24;
const MBI_HAS_MEMORY: u32 = 1 << 0;
const MBI_HAS_MODS: u32 = 1 << 3;

const IRQ_TIMER_ONLY: u32 = 1 << 0;
const CR4_SMEP: i64 = 1 << 20;
const CR4_SMAP: i64 = 1 << 21;

const capName = changetype<TextReader>(memory.data(<i32>offsetof<TextReader>(), 8));

function bootError(): void {
  machineExit(EXIT_BOOT_ERROR);
}

/**
 * SMEP and SMAP when the CPU has them: the kernel never executes or touches user
 * pages through user addresses (it copies through the direct map), so both can be on.
 */
function enableUserIsolation(): void {
  if (cpuidEax(0, 0) < 7) return;
  const features = cpuidEbx(7, 0);
  let cr4 = readCr4();
  if ((features & (1 << 7)) != 0) cr4 |= CR4_SMEP;
  if ((features & (1 << 20)) != 0) cr4 |= CR4_SMAP;
  writeCr4(cr4);
}

/** Physical memory and the kernel's final page tables. */
function memoryInit(mbi: usize): void {
  // The kernel's footprint: the loaded image plus its wasm memory, whose zero-filled
  // static buffers (memory.data) end at __heap_base, past the last stored data segment.
  const physEnd = max(<u64>archImageSymbol(IMAGE_PHYS_END), <u64>__heap_base);
  const status = physInit(mbi, <u64>archImageSymbol(IMAGE_PHYS_START), physEnd);
  if (status != FRAMES_OK) {
    logLine("boot error: no usable memory map from the boot loader");
    bootError();
  }
  const root = kernelSpaceBuild(physRamTop(),
    <u64>archImageSymbol(IMAGE_TEXT_START), <u64>archImageSymbol(IMAGE_TEXT_END),
    <u64>archImageSymbol(IMAGE_RODATA_START), <u64>archImageSymbol(IMAGE_RODATA_END),
    <u64>archImageSymbol(IMAGE_DATA_START), <u64>archImageSymbol(IMAGE_DATA_END));
  if (root < 0) {
    logLine("boot error: cannot build the kernel page tables");
    machineExit(EXIT_OUT_OF_MEMORY);
  }
  writeCr3(root);
  enableUserIsolation();
}

/** The one boot module: its kernel address and length (stops the boot unless there is exactly one). */
function bootModule(mbi: usize, lengthOut: usize): usize {
  const flags = load<u32>(mbi + MBI_FLAGS);
  const count = (flags & MBI_HAS_MODS) != 0 ? load<u32>(mbi + MBI_MODS_COUNT) : 0;
  if (count != 1) {
    logPrefix();
    logStr("boot error: expected exactly one boot module (the SystemManifest), found ");
    logDec(<u64>count);
    logNl();
    bootError();
  }
  const entry = <usize>load<u32>(mbi + MBI_MODS_ADDR);
  const start = load<u32>(entry);
  const end = load<u32>(entry + 4);
  if (end <= start) {
    logLine("boot error: the boot module is empty");
    bootError();
  }
  store<u32>(lengthOut, end - start);
  return <usize>start;
}

const moduleLength: usize = memory.data(4, 4);

export function kmain(mbi: u32): void {
  serialInit(COM1);
  logStr("capos kernel (x86-64)\n");
  if (!processLayoutOk()) kernelPanic("process record layout");
  percpuInit();
  idtInit();
  syscallMsrInit();
  picInit(IRQ_TIMER_ONLY);
  const info = <usize>mbi;
  const module = bootModule(info, moduleLength);
  memoryInit(info);

  const plan = manifestCheck(module, load<u32>(moduleLength));
  if (plan == null) {
    bootError();
    return;
  }
  logSetLevel(plan.logLevel);
  pitInit(plan.timerHz);
  if (logEnabled(LOG_INFO)) {
    if ((load<u32>(info + MBI_FLAGS) & MBI_HAS_MEMORY) != 0) {
      logPrefix();
      logStr("memory: ");
      logDec(<u64>load<u32>(info + MBI_MEM_UPPER) / 1024 + 1);
      logStr(" MiB");
      logNl();
    }
    logPrefix();
    logStr("boot package: ");
    logDec(<u64>plan.binaryCount);
    logStr(plan.binaryCount == 1 ? " program, init is " : " programs, init is ");
    logBytes(plan.initName, plan.initNameLength);
    logStr(" with ");
    logDec(<u64>plan.initCapCount);
    logStr(plan.initCapCount == 1 ? " capability" : " capabilities");
    logNl();
  }
  if (plan.motdLength != 0) {
    logBytes(plan.motd, plan.motdLength);
    logNl();
  }

  const p = processNew(plan.initName, plan.initNameLength);
  if (p == null) {
    kernelPanic("no free process record for init");
    return;
  }
  const loaded = processLoad(p, plan.initImage, plan.initImageLength, plan.capSlots);
  if (loaded != LOAD_OK) {
    logPrefix();
    logStr("boot error: cannot load ");
    logProcess(p);
    logStr(": ");
    logStr(loaded == LOAD_ERR_ELF ? elfReasonText(p.elfReason) : loaded == LOAD_ERR_NO_MEMORY ? "out of memory" : "bad capability quota");
    logNl();
    processRelease(p);
    bootError();
  }
  for (let i: u32 = 0; i < plan.initCapCount; i++) {
    const source = manifestInitCap(i, capName);
    const id = processGrant(p, capName.ptr, capName.length, kernelSourceInterface(source), kernelSourceObject(source));
    if (id < 0) {
      logLine("boot error: cannot grant init its capabilities");
      bootError();
    }
  }
  schedAdd(p);
  if (logEnabled(LOG_INFO)) {
    logPrefix();
    logStr("starting ");
    logProcess(p);
    logNl();
  }
  archEnterUser(schedNext(0));
}

/** Every interrupt and exception (trap.s). Returns the context to resume. */
export function kernel_trap(frame: usize): usize {
  return trapEntry(frame);
}

/** Every syscall (syscall.s). Returns the context to resume. */
export function kernel_syscall(frame: usize): usize {
  return syscallEntry(frame);
}

/** A wasm trap in kernel code (__wasm_trap in trap.s). Never returns. */
export function kernel_wasm_trap(kind: u32, functionIndex: u32, offset: u32): void {
  kernelWasmTrap(kind, functionIndex, offset);
}
