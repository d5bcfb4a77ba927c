// Builds small Multiboot 1 test kernels from Intel-syntax source with the
// project assembler: a header using the address ("a.out") kludge at the start
// of a flat image loaded at 1 MiB, a 32-bit entry, and a little library of
// serial and exit routines. Real kernel images come from the linker; this is
// only what the machine tests need.
import { assemble } from "../../src/toolchain/x64/index.js";

export const KERNEL_LOAD_ADDRESS = 0x100000;

/** Header flags: page-aligned modules, memory information, address fields valid. */
const HEADER_FLAGS = 0x00010003;

const HEADER = `
.code32
mb_header:
  .long 0x1BADB002
  .long ${HEADER_FLAGS}
  .long -(0x1BADB002 + ${HEADER_FLAGS})
  .long mb_header
  .long mb_header
  .long mb_load_end
  .long mb_bss_end
  .long _start
`;

/**
 * 32-bit routines every test kernel can call. putc: AL to COM1 (polling THR
 * empty); puts: the NUL-terminated string at ESI; puthex: EAX as 8 hex digits;
 * putdec: EAX in decimal; newline; exit: AL to isa-debug-exit. All preserve
 * every register they do not return.
 */
export const LIB32 = `
.code32
putc:
  push edx
  push eax
  mov dx, 0x3fd
9:
  in al, dx
  test al, 0x20
  jz 9b
  pop eax
  mov dx, 0x3f8
  out dx, al
  pop edx
  ret
puts:
  push eax
  push esi
9:
  mov al, byte ptr [esi]
  test al, al
  jz 8f
  call putc
  inc esi
  jmp 9b
8:
  pop esi
  pop eax
  ret
newline:
  push eax
  mov al, 10
  call putc
  pop eax
  ret
puthex:
  push eax
  push ecx
  push edx
  mov ecx, 8
9:
  rol eax, 4
  mov edx, eax
  and edx, 15
  push eax
  mov al, byte ptr [hex_digits + edx]
  call putc
  pop eax
  dec ecx
  jnz 9b
  pop edx
  pop ecx
  pop eax
  ret
putdec:
  push eax
  push ebx
  push ecx
  push edx
  mov ebx, 10
  xor ecx, ecx
9:
  xor edx, edx
  div ebx
  push edx
  inc ecx
  test eax, eax
  jnz 9b
8:
  pop eax
  add al, 0x30
  call putc
  dec ecx
  jnz 8b
  pop edx
  pop ecx
  pop ebx
  pop eax
  ret
exit:
  out 0xf4, al
  cli
9:
  hlt
  jmp 9b
hex_digits: .ascii "0123456789abcdef"
`;

/** The same routines for 64-bit code (putc64, puts64 from RSI, newline64, puthex64 and putdec64 of EAX, exit64); they need LIB32's hex_digits. */
export const LIB64 = `
.code64
putc64:
  push rdx
  push rax
  mov dx, 0x3fd
9:
  in al, dx
  test al, 0x20
  jz 9b
  pop rax
  mov dx, 0x3f8
  out dx, al
  pop rdx
  ret
puts64:
  push rax
  push rsi
9:
  mov al, byte ptr [rsi]
  test al, al
  jz 8f
  call putc64
  inc rsi
  jmp 9b
8:
  pop rsi
  pop rax
  ret
newline64:
  push rax
  mov al, 10
  call putc64
  pop rax
  ret
puthex64:
  push rax
  push rcx
  push rdx
  mov ecx, 8
9:
  rol eax, 4
  mov edx, eax
  and edx, 15
  push rax
  mov al, byte ptr [hex_digits + rdx]
  call putc64
  pop rax
  dec ecx
  jnz 9b
  pop rdx
  pop rcx
  pop rax
  ret
putdec64:
  push rax
  push rbx
  push rcx
  push rdx
  mov ebx, 10
  xor ecx, ecx
9:
  xor edx, edx
  div ebx
  push rdx
  inc ecx
  test eax, eax
  jnz 9b
8:
  pop rax
  add al, 0x30
  call putc64
  dec ecx
  jnz 8b
  pop rdx
  pop rcx
  pop rbx
  pop rax
  ret
exit64:
  out 0xf4, al
  cli
9:
  hlt
  jmp 9b
`;

export interface KernelOptions {
  /** Zeroed bytes after the image (the header's bss_end_addr). */
  bssBytes?: number;
}

/**
 * Assembles `body` (which defines _start, in 32-bit code at first) into a
 * Multiboot image loaded at 1 MiB, with LIB32 appended.
 */
export function buildKernel(body: string, opts: KernelOptions = {}): Uint8Array {
  const source = `${HEADER}\n${body}\n${LIB32}\n.balign 4\nmb_load_end:\n.set mb_bss_end, mb_load_end + ${opts.bssBytes ?? 0}\n`;
  return assemble(source, { bits: 32, origin: KERNEL_LOAD_ADDRESS, file: "test-kernel.s" }).bytes;
}
