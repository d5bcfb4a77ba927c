// User programs: a static ELF64 executable. Linear memory sits at virtual
// address 0 (the user memory model) as its own PT_LOAD; code, read-only data
// and data/bss follow high above the 8 GiB a wasm address can reach, each in a
// page-aligned PT_LOAD with W^X permissions. A generated entry stub sets up the
// stack and calls the module's entry export; default runtime stubs (trap → exit,
// memory.grow → -1) apply unless native code or a wasm export defines them.
import { assembleObject } from "../x64/index.js";
import type { CompiledModule } from "../wasm/compile-module.js";
import { compileModule } from "../wasm/compile-module.js";
import type { TargetFeatures } from "../wasm/context.js";
import { PF_R, PF_W, PF_X, PT_LOAD, writeExecutable, type ExecSegment } from "./elf-exec.js";
import { LinkError } from "./linker.js";
import { fromAssemblerObject, type LinkObject } from "./object.js";
import { formatSymbolMap, IMAGE_PREFIX, staticLink, type StaticImage } from "./static-link.js";

/** Where user code starts: above the 8 GiB reachable by a wasm address plus an offset. */
export const USER_TEXT_BASE = 0x10_0000_0000;
/** OS-specific program header recording the linear memory's reservation (vaddr 0, memsz = maximum). */
export const PT_CAPOS_WASM_MEMORY = 0x6341_5000;

/** Syscall numbers (docs/abi.md): the entry stub and the default trap entry end the process with exit. */
export const SYS_EXIT = 1;
export const SYS_CAP_ENTER = 2;

export interface UserImageOptions {
  /** The export called after initialisation (default "_start"; "" calls none). */
  entry?: string;
  /** Stack size in bytes (default 256 KiB). */
  stackSize?: number;
  /** Native objects (assembly) linked in; they may replace the default runtime stubs. */
  natives?: LinkObject[];
  features?: TargetFeatures;
}

export interface UserImage {
  elf: Uint8Array;
  symbolMap: string;
  image: StaticImage;
  entry: number;
}

/** Bytes between the stack limit and the true end of the stack: room for the trap entry. */
const STACK_RESERVE = 16384;

function defaultsObject(c: CompiledModule, opts: Required<Omit<UserImageOptions, "natives" | "features">>): LinkObject {
  const m = c.module;
  const entryIdx = opts.entry === "" ? -1 : m.exports.findIndex((e) => e.kind === "func" && e.name === opts.entry);
  if (opts.entry !== "" && entryIdx < 0) throw new LinkError(`the module has no exported function "${opts.entry}" to use as the program entry`);
  const entryFn = entryIdx >= 0 ? m.funcs[m.exports[entryIdx]!.index]! : null;
  const returnsI32 = entryFn !== null && entryFn.type.results.length === 1 && entryFn.type.results[0] === 0;
  const src = `
    .text
    _entry:
      lea rsp, [rip + __user_stack_top]
      lea rax, [rip + __user_stack_bottom + ${STACK_RESERVE}]
      mov [rip + __wasm_stack_limit], rax
      push rdi
      push rsi
      push rdx
      sub rsp, 8
      call ${c.symbols.init}
      ${m.start !== null ? `call ${c.symbols.func(m.start)}` : ""}
      add rsp, 8
      pop rdx
      pop rsi
      pop rdi
      ${entryFn !== null ? `call ${c.symbols.func(m.exports[entryIdx]!.index)}` : ""}
      ${returnsI32 ? "mov edi, eax" : "xor edi, edi"}
      mov eax, ${SYS_EXIT}
      syscall
      ud2
    __wasm_trap:
      lea edi, [rdi + 128]
      mov eax, ${SYS_EXIT}
      syscall
      ud2
    __wasm_memory_grow:
      mov eax, -1
      ret
    .data
    .align 8
    __wasm_stack_limit:
      .quad 0
    .bss
    .align 16
    __user_stack_bottom:
      .zero ${opts.stackSize}
    __user_stack_top:
  `;
  return fromAssemblerObject("user runtime", assembleObject(src));
}

/** Links a compiled module (compiled with the user memory model) into a static executable. */
export function linkUserImage(c: CompiledModule, options: UserImageOptions = {}): UserImage {
  if (c.options.memoryModel !== "user") throw new LinkError(`user programs use the user memory model (module compiled for "${c.options.memoryModel}")`);
  const opts = { entry: options.entry ?? "_start", stackSize: options.stackSize ?? 256 * 1024 };
  const defaults = defaultsObject(c, opts);
  const img = staticLink(c, options.natives ?? [], [defaults], { textBase: USER_TEXT_BASE, pageAlignKinds: true });
  const entry = img.space.lookup("_entry");
  if (entry === undefined) throw new LinkError("no _entry symbol");
  const segments: ExecSegment[] = [];
  // Linear memory at 0: the initial pages, data segments stored, the rest zero.
  if (img.memoryPages !== null) {
    const initial = img.memoryPages.initial * 65536;
    const fileEnd = img.memory.reduce((e, s) => Math.max(e, s.offset + s.bytes.length), 0);
    const data = new Uint8Array(fileEnd);
    for (const s of img.memory) data.set(s.bytes, s.offset);
    if (initial > 0) {
      segments.push({ type: PT_LOAD, flags: PF_R | PF_W, vaddr: 0, paddr: 0, data, memSize: initial, align: 0x1000, section: { name: ".wasm.memory", type: "progbits", flags: "aw" } });
    }
    const max = (img.memoryPages.maximum ?? 65536) * 65536;
    segments.push({ type: PT_CAPOS_WASM_MEMORY, flags: PF_R | PF_W, vaddr: 0, paddr: 0, data: new Uint8Array(0), memSize: max, align: 0x1000 });
  }
  const flags = { text: PF_R | PF_X, rodata: PF_R, data: PF_R | PF_W, bss: PF_R | PF_W } as const;
  const names = { text: ".text", rodata: ".rodata", data: ".data", bss: ".bss" } as const;
  for (const s of img.segments) {
    segments.push({
      type: PT_LOAD, flags: flags[s.kind], vaddr: s.addr, paddr: s.addr, data: s.bytes, memSize: s.size, align: 0x1000,
      section: { name: names[s.kind], type: s.kind === "bss" ? "nobits" : "progbits", flags: s.kind === "text" ? "ax" : s.kind === "rodata" ? "a" : "aw" },
    });
  }
  // A data+bss pair can share a page boundary: merge bss into the data segment when adjacent.
  mergeBss(segments);
  const elf = writeExecutable({
    entry,
    segments,
    symbols: img.symbols.map((s) => ({ name: s.name, value: s.addr, size: s.size, kind: s.kind, global: true })),
  });
  return { elf, symbolMap: formatSymbolMap(img), image: img, entry };
}

function mergeBss(segs: ExecSegment[]): void {
  const bss = segs.findIndex((s) => s.section?.type === "nobits");
  if (bss < 1) return;
  const prev = segs[bss - 1]!;
  const b = segs[bss]!;
  if (prev.flags === b.flags && prev.vaddr + prev.memSize === b.vaddr && prev.type === PT_LOAD) {
    prev.memSize += b.memSize;
    segs.splice(bss, 1);
  }
}

/** Compiles and links in one step (the `capos wasm2elf --user` path). */
export function wasmToUserElf(wasm: Uint8Array, options: UserImageOptions = {}): UserImage {
  const c = compileModule(wasm, { memoryModel: "user", prefix: IMAGE_PREFIX, features: options.features });
  return linkUserImage(c, options);
}
