// The kernel image: an ELF64 file whose first loaded bytes carry a Multiboot 1
// header with the address ("a.out") kludge, so QEMU's -kernel and capos's
// Multiboot loader load it without reading the ELF64 program headers. Code is
// linked at its physical address (identity mapped) from 1 MiB; the wasm
// module's linear memory is physical memory (kernel memory model), so its data
// segments are stored at their own addresses, which must lie above the image.
// A 32-bit entry stub slot is filled by the kernel's boot object (symbol
// `_start32`) or, by default, by a minimal boot stub that enters long mode.
import { assembleObject } from "../x64/index.js";
import { compileModule, type CompiledModule } from "../wasm/compile-module.js";
import type { TargetFeatures } from "../wasm/context.js";
import { PF_R, PF_W, PF_X, PT_LOAD, writeExecutable, type ExecSegment } from "./elf-exec.js";
import { LinkError } from "./linker.js";
import { fromAssemblerObject, type LinkObject } from "./object.js";
import { formatSymbolMap, IMAGE_PREFIX, staticLink, type StaticImage } from "./static-link.js";

export const KERNEL_LOAD_ADDRESS = 0x100000;
/** Virtual base of the default boot stub's direct map of physical memory (R15 in kernel code). */
export const DEFAULT_DIRECT_MAP_BASE = 0xffff_8000_0000_0000n;

export const MULTIBOOT_MAGIC = 0x1badb002;
/** Flags: bit 1 (memory information wanted), bit 16 (address fields valid: the a.out kludge). */
export const MULTIBOOT_FLAGS = 0x00010002;

export interface KernelImageOptions {
  /** Native objects: the kernel's boot stub (defines `_start32`), entry stubs, trap handler ... */
  natives?: LinkObject[];
  /** Export the default boot stub calls with (multiboot magic, info address) after init; default "kmain" if exported. */
  entry?: string;
  /** Boot stack size of the default stub (default 128 KiB). */
  stackSize?: number;
  features?: TargetFeatures;
}

export interface KernelImage {
  elf: Uint8Array;
  symbolMap: string;
  image: StaticImage;
  /** Physical entry (the 32-bit `_start32`). */
  entry: number;
}

const STACK_RESERVE = 16384;

function headerObject(): LinkObject {
  return fromAssemblerObject("multiboot header", assembleObject(`
    .text
    .align 4
    __multiboot_header:
      .long ${MULTIBOOT_MAGIC}
      .long ${MULTIBOOT_FLAGS}
      .long ${(-(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)) >>> 0}
      .long __multiboot_header
      .long __kernel_load_start
      .long __kernel_load_end
      .long __kernel_bss_end
      .long _start32
  `));
}

/** Default runtime symbols for a kernel: a halting trap entry, no memory growth, the stack-limit cell. */
function runtimeDefaults(): LinkObject {
  return fromAssemblerObject("kernel runtime defaults", assembleObject(`
    .text
    __wasm_trap:
      cli
      hlt
      jmp __wasm_trap
    __wasm_memory_grow:
      mov eax, -1
      ret
    .data
    .align 8
    __wasm_stack_limit:
      .quad 0
  `));
}

/**
 * The default boot stub: from the Multiboot state (32-bit protected mode, paging
 * off) to long mode with physical memory mapped twice (identity, and at the
 * direct-map base in R15), then wasm init, the start function and the entry export.
 */
function bootStub(c: CompiledModule, entry: string | null, stackSize: number): LinkObject {
  const m = c.module;
  const entryIdx = entry === null ? -1 : m.exports.findIndex((e) => e.kind === "func" && e.name === entry);
  const base = DEFAULT_DIRECT_MAP_BASE;
  return fromAssemblerObject("kernel boot stub", assembleObject(`
    .code32
    .text
    _start32:
      cli
      mov esp, offset __kboot_stack_top
      mov [__kboot_mb_magic], eax
      mov [__kboot_mb_info], ebx
      mov edi, offset __kboot_pd
      xor ecx, ecx
    __kboot_fill_pd:
      mov eax, ecx
      shl eax, 21
      or eax, 0x83
      mov [edi + ecx*8], eax
      inc ecx
      cmp ecx, 2048
      jb __kboot_fill_pd
      mov edi, offset __kboot_pdpt
      mov eax, offset __kboot_pd
      or eax, 3
      mov [edi], eax
      add eax, 4096
      mov [edi + 8], eax
      add eax, 4096
      mov [edi + 16], eax
      add eax, 4096
      mov [edi + 24], eax
      mov edi, offset __kboot_pml4
      mov eax, offset __kboot_pdpt
      or eax, 3
      mov [edi], eax
      mov [edi + ${Number((base >> 39n) & 511n) * 8}], eax
      mov eax, cr4
      or eax, 0x620
      mov cr4, eax
      mov eax, offset __kboot_pml4
      mov cr3, eax
      mov ecx, 0xc0000080
      rdmsr
      or eax, 0x100
      wrmsr
      mov eax, cr0
      and eax, 0xfffffffb
      or eax, 0x80000003
      mov cr0, eax
      lgdt [__kboot_gdt_ptr]
      jmp 0x08:__kboot_long
    .code64
    __kboot_long:
      mov ax, 0x10
      mov ds, ax
      mov es, ax
      mov ss, ax
      xor eax, eax
      mov fs, ax
      mov gs, ax
      lea rsp, [rip + __kboot_stack_top]
      lea rax, [rip + __kboot_stack_bottom + ${STACK_RESERVE}]
      mov [rip + __wasm_stack_limit], rax
      movabs r15, 0x${base.toString(16)}
      call ${c.symbols.init}
      ${m.start !== null ? `call ${c.symbols.func(m.start)}` : ""}
      mov edi, [rip + __kboot_mb_magic]
      mov esi, [rip + __kboot_mb_info]
      ${entryIdx >= 0 ? `call ${c.symbols.func(m.exports[entryIdx]!.index)}` : ""}
    __kboot_halt:
      cli
      hlt
      jmp __kboot_halt
    .data
    .align 16
    __kboot_gdt:
      .quad 0
      .quad 0x00af9a000000ffff
      .quad 0x00cf92000000ffff
    __kboot_gdt_ptr:
      .word 23
      .quad __kboot_gdt
    __kboot_mb_magic:
      .long 0
    __kboot_mb_info:
      .long 0
    .bss
    .align 4096
    __kboot_pml4:
      .zero 4096
    __kboot_pdpt:
      .zero 4096
    __kboot_pd:
      .zero 16384
    __kboot_stack_bottom:
      .zero ${stackSize}
    __kboot_stack_top:
  `));
}

/** Links a module compiled with the kernel memory model into a Multiboot-loadable ELF64. */
export function linkKernelImage(c: CompiledModule, options: KernelImageOptions = {}): KernelImage {
  if (c.options.memoryModel === "user") throw new LinkError("the kernel uses the kernel (or checked) memory model");
  const natives = options.natives ?? [];
  const exported = new Set(c.module.exports.filter((e) => e.kind === "func").map((e) => e.name));
  const entry = options.entry ?? (exported.has("kmain") ? "kmain" : null);
  if (entry !== null && !exported.has(entry)) throw new LinkError(`the module has no exported function "${entry}" to call at boot`);
  let loadEnd = 0, bssEnd = 0;
  // A native `_start32` (the kernel's own boot code) replaces the default stub as a whole.
  const ownEntry = natives.some((o) => o.symbols.some((s) => s.name === "_start32"));
  const stub = ownEntry ? [] : [bootStub(c, entry, options.stackSize ?? 131072)];
  const img = staticLink(c, [headerObject(), ...natives], [...stub, runtimeDefaults()],
    { textBase: KERNEL_LOAD_ADDRESS, pageAlignKinds: true },
    (space, end, memory, ranges) => {
      const imageEnd = Math.ceil(end / 4096) * 4096;
      for (const s of memory) {
        if (s.offset < imageEnd && s.offset + s.bytes.length > KERNEL_LOAD_ADDRESS) {
          throw new LinkError(`kernel data segment at 0x${s.offset.toString(16)} overlaps the kernel image [0x${KERNEL_LOAD_ADDRESS.toString(16)}, 0x${imageEnd.toString(16)}): build the kernel with asc --memoryBase at or above 0x${imageEnd.toString(16)}`);
        }
        if (s.offset < KERNEL_LOAD_ADDRESS) throw new LinkError(`kernel data segment at 0x${s.offset.toString(16)} lies below the kernel image; build with asc --memoryBase at or above 0x${imageEnd.toString(16)}`);
      }
      const memEnd = memory.reduce((e, s) => Math.max(e, s.offset + s.bytes.length), 0);
      // With linear-memory contents above the image, the loaded range runs to their end (bss is stored as zeros).
      loadEnd = memEnd > 0 ? memEnd : end;
      bssEnd = Math.max(loadEnd, end);
      space.define("__kernel_load_start", KERNEL_LOAD_ADDRESS, "kernel image");
      space.define("__kernel_load_end", loadEnd, "kernel image");
      space.define("__kernel_bss_end", bssEnd, "kernel image");
      // Section bounds (link addresses) for the kernel's W^X mapping of its own image
      // (kernel/arch/x86_64/image.s; kernel/README.md "Linking the kernel").
      const bound = (kinds: string[], edge: "start" | "end"): number => {
        const r = ranges.filter((x) => kinds.includes(x.kind));
        return edge === "start" ? Math.min(...r.map((x) => x.start)) : Math.max(...r.map((x) => x.end));
      };
      space.define("__kernel_text_start", bound(["text"], "start"), "kernel image");
      space.define("__kernel_text_end", bound(["text"], "end"), "kernel image");
      space.define("__kernel_rodata_start", bound(["rodata"], "start"), "kernel image");
      space.define("__kernel_rodata_end", bound(["rodata"], "end"), "kernel image");
      space.define("__kernel_data_start", bound(["data", "bss"], "start"), "kernel image");
      space.define("__kernel_data_end", bound(["data", "bss"], "end"), "kernel image");
    });
  const entryAddr = img.space.lookup("_start32");
  if (entryAddr === undefined) throw new LinkError("no _start32 (the 32-bit entry)");
  const header = img.space.lookup("__multiboot_header")!;
  if (header !== KERNEL_LOAD_ADDRESS) throw new LinkError("the Multiboot header must be the first thing in the image");

  // Every segment at file offset 0x1000 + (address - 1 MiB): the Multiboot loader reads one contiguous range.
  const flags = { text: PF_R | PF_X, rodata: PF_R, data: PF_R | PF_W, bss: PF_R | PF_W } as const;
  const names = { text: ".text", rodata: ".rodata", data: ".data", bss: ".bss" } as const;
  const segments: ExecSegment[] = [];
  // Linear-memory contents after the image make bss part of the loaded range: store it as zeros.
  const storeBss = img.memory.length > 0;
  for (const s of img.segments) {
    const inFile = s.kind !== "bss" || storeBss;
    segments.push({
      type: PT_LOAD, flags: flags[s.kind], vaddr: s.addr, paddr: s.addr,
      data: inFile ? (s.kind === "bss" ? new Uint8Array(s.size) : s.bytes) : new Uint8Array(0), memSize: s.size, align: 0x1000,
      section: { name: names[s.kind], type: inFile ? "progbits" : "nobits", flags: s.kind === "text" ? "ax" : s.kind === "rodata" ? "a" : "aw" },
    });
  }
  // All linear-memory contents as one segment: a module has hundreds of data segments,
  // and one program header each would not fit before the fixed file layout's first page.
  if (img.memory.length > 0) {
    const lo = Math.min(...img.memory.map((s) => s.offset));
    const hi = Math.max(...img.memory.map((s) => s.offset + s.bytes.length));
    const data = new Uint8Array(hi - lo);
    for (const s of img.memory) data.set(s.bytes, s.offset - lo);
    segments.push({
      type: PT_LOAD, flags: PF_R | PF_W, vaddr: lo, paddr: lo, data, memSize: data.length, align: 0x1000,
      section: { name: ".wasm.data", type: "progbits", flags: "aw" },
    });
  }
  const elf = writeExecutable({
    entry: entryAddr,
    segments,
    symbols: img.symbols.map((s) => ({ name: s.name, value: s.addr, size: s.size, kind: s.kind, global: true })),
    fileLayout: { vbase: KERNEL_LOAD_ADDRESS, fileBase: 0x1000 },
  });
  return { elf, symbolMap: formatSymbolMap(img), image: img, entry: entryAddr };
}

/** Compiles and links in one step (the `capos wasm2elf --kernel` path). */
export function wasmToKernelElf(wasm: Uint8Array, options: KernelImageOptions = {}): KernelImage {
  const c = compileModule(wasm, { memoryModel: "kernel", prefix: IMAGE_PREFIX, features: options.features });
  return linkKernelImage(c, options);
}
