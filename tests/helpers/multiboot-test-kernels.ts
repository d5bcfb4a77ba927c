// The test kernels booted by the machine tests and, when QEMU is installed,
// by QEMU too: each prints a transcript on COM1 and exits via isa-debug-exit.
// They only print what both machines define identically (no timestamps, no
// addresses QEMU's firmware chooses), so the transcripts must match byte for byte.
import { buildKernel, LIB64 } from "./multiboot-kernel.js";

/** A flat GDT (0x08 code, 0x10 data), an IDT whose gates all start at `unexpected`, and set_gate (EAX vector, EBX handler). */
const SYS32 = `
.code32
load_gdt_idt:
  lgdt [gdt32_ptr]
  jmp 0x08:9f
9:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  push eax
  push ebx
  xor eax, eax
  mov ebx, offset unexpected
8:
  call set_gate
  inc eax
  cmp eax, 256
  jb 8b
  pop ebx
  pop eax
  lidt [idt32_ptr]
  ret
set_gate:
  push edi
  push ebx
  lea edi, [idt32 + eax*8]
  mov word ptr [edi], bx
  mov word ptr [edi+2], 0x08
  mov word ptr [edi+4], 0x8e00
  shr ebx, 16
  mov word ptr [edi+6], bx
  pop ebx
  pop edi
  ret
unexpected:
  mov esi, offset unexpected_msg
  call puts
  mov al, 0x7f
  call exit
remap_pic:
  push eax
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x20
  out 0x21, al
  mov al, 0x28
  out 0xa1, al
  mov al, 4
  out 0x21, al
  mov al, 2
  out 0xa1, al
  mov al, 1
  out 0x21, al
  out 0xa1, al
  mov al, 0xff
  out 0x21, al
  out 0xa1, al
  pop eax
  ret
unexpected_msg: .asciz "unexpected interrupt\\n"
.balign 8
gdt32:
  .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdt32_ptr:
  .word gdt32_ptr - gdt32 - 1
  .long gdt32
.balign 8
idt32:
  .zero 2048
idt32_ptr:
  .word 2047
  .long idt32
`;

/** Prints a greeting and checks the boot loader magic. Exit value 0x10 (status 33). */
export function helloKernel(): Uint8Array {
  return buildKernel(`
_start:
  mov esp, 0x90000
  cmp eax, 0x2badb002
  jne 1f
  mov esi, offset hello
  call puts
  mov al, 0x10
  call exit
1:
  mov esi, offset bad_magic
  call puts
  mov al, 0x7e
  call exit
hello: .asciz "Hello from a Multiboot kernel!\\nmagic ok\\n"
bad_magic: .asciz "bad boot loader magic\\n"
`);
}

/** Remaps the PIC, runs PIT channel 0 at 1 kHz and counts IRQ0 with sti; hlt. Exit value 0x11 (status 35). */
export function pitKernel(ticks = 50): Uint8Array {
  return buildKernel(`
_start:
  mov esp, 0x90000
  call load_gdt_idt
  call remap_pic
  mov eax, 0x20
  mov ebx, offset irq0
  call set_gate
  mov al, 0xfe
  out 0x21, al
  mov al, 0x34
  out 0x43, al
  mov ax, 1193
  out 0x40, al
  mov al, ah
  out 0x40, al
wait_tick:
  sti
  hlt
  cli
  cmp dword ptr [ticks], ${ticks}
  jb wait_tick
  mov esi, offset done
  call puts
  mov eax, dword ptr [ticks]
  call putdec
  call newline
  mov esi, offset isr_msg
  call puts
  mov al, 0x0b
  out 0x20, al
  in al, 0x20
  movzx eax, al
  call puthex
  mov esi, offset imr_msg
  call puts
  in al, 0x21
  movzx eax, al
  call puthex
  call newline
  mov al, 0x11
  call exit
irq0:
  push eax
  inc dword ptr [ticks]
  mov al, 0x20
  out 0x20, al
  pop eax
  iret
ticks: .long 0
done: .asciz "timer interrupts: "
isr_msg: .asciz "ISR "
imr_msg: .asciz " IMR "
${SYS32}
`);
}

/**
 * Raises #DE, #UD, #GP with a selector error code and three page faults
 * (not present read, not present write, write to a read-only page with
 * CR0.WP), printing each vector, error code and CR2. Exit value 0x12 (status 37).
 */
export function exceptionsKernel(): Uint8Array {
  const stubs = [0, 6, 13, 14].map((v) => `
exc_${v}:
  ${v === 13 || v === 14 ? "" : "push 0"}
  push ${v}
  jmp exc_common`).join("\n");
  return buildKernel(`
_start:
  mov esp, 0x90000
  call load_gdt_idt
  ${[0, 6, 13, 14].map((v) => `mov eax, ${v}\n  mov ebx, offset exc_${v}\n  call set_gate`).join("\n  ")}
  mov dword ptr [resume], offset r1
  xor edx, edx
  mov eax, 7
  xor ecx, ecx
  div ecx
r1:
  mov dword ptr [resume], offset r2
  ud2
r2:
  mov dword ptr [resume], offset r3
  mov ax, 0x1230
  mov ds, ax
r3:
  mov ax, 0x10
  mov ds, ax
  mov dword ptr [page_dir], 0x83
  mov dword ptr [page_dir + 4], 0x400081
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  mov eax, offset page_dir
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000
  mov cr0, eax
  mov dword ptr [resume], offset r4
  mov eax, dword ptr [0x800000]
r4:
  mov dword ptr [resume], offset r5
  mov dword ptr [0x800004], 1
r5:
  mov dword ptr [resume], offset r6
  mov dword ptr [0x400010], 1
r6:
  mov esi, offset done
  call puts
  mov al, 0x12
  call exit
${stubs}
exc_common:
  push eax
  mov esi, offset m_exc
  call puts
  mov eax, dword ptr [esp + 4]
  call putdec
  mov esi, offset m_err
  call puts
  mov eax, dword ptr [esp + 8]
  call puthex
  cmp dword ptr [esp + 4], 14
  jne 1f
  mov esi, offset m_cr2
  call puts
  mov eax, cr2
  call puthex
1:
  call newline
  mov eax, dword ptr [resume]
  mov dword ptr [esp + 12], eax
  pop eax
  add esp, 8
  iret
resume: .long 0
m_exc: .asciz "exception "
m_err: .asciz " error "
m_cr2: .asciz " cr2 "
done: .asciz "exceptions done\\n"
${SYS32}
.balign 4096
page_dir:
  .zero 4096
`);
}

/**
 * Prints what the Multiboot information structure says: flags, memory sizes,
 * the kernel command line, the memory map and every module (size, alignment,
 * string, contents). Exit value 0x13 (status 39).
 */
export function multibootInfoKernel(): Uint8Array {
  return buildKernel(`
_start:
  mov esp, 0x90000
  mov ebp, ebx
  mov esi, offset m_flags
  call puts
  mov eax, dword ptr [ebp]
  call puthex
  mov esi, offset m_lower
  call puts
  mov eax, dword ptr [ebp + 4]
  call putdec
  mov esi, offset m_upper
  call puts
  mov eax, dword ptr [ebp + 8]
  call putdec
  call newline
  mov esi, offset m_cmdline
  call puts
  mov esi, dword ptr [ebp + 16]
  call puts
  call newline
  mov ebx, dword ptr [ebp + 48]
  mov ecx, ebx
  add ecx, dword ptr [ebp + 44]
mmap_loop:
  cmp ebx, ecx
  jae mmap_done
  mov esi, offset m_region
  call puts
  mov eax, dword ptr [ebx + 8]
  call puthex
  mov eax, dword ptr [ebx + 4]
  call puthex
  mov al, 0x20
  call putc
  mov eax, dword ptr [ebx + 16]
  call puthex
  mov eax, dword ptr [ebx + 12]
  call puthex
  mov al, 0x20
  call putc
  mov eax, dword ptr [ebx + 20]
  call putdec
  call newline
  add ebx, dword ptr [ebx]
  add ebx, 4
  jmp mmap_loop
mmap_done:
  mov esi, offset m_mods
  call puts
  mov eax, dword ptr [ebp + 20]
  call putdec
  call newline
  mov ecx, dword ptr [ebp + 20]
  mov ebx, dword ptr [ebp + 24]
mod_loop:
  test ecx, ecx
  jz mods_done
  mov esi, offset m_module
  call puts
  mov eax, dword ptr [ebx + 4]
  sub eax, dword ptr [ebx]
  call putdec
  mov esi, offset m_bytes
  call puts
  test dword ptr [ebx], 0xfff
  jnz 1f
  mov esi, offset m_aligned
  call puts
1:
  mov esi, offset m_string
  call puts
  mov esi, dword ptr [ebx + 8]
  call puts
  mov esi, offset m_contents
  call puts
  mov esi, dword ptr [ebx]
2:
  cmp esi, dword ptr [ebx + 4]
  jae 3f
  mov al, byte ptr [esi]
  call putc
  inc esi
  jmp 2b
3:
  mov al, 0x5d
  call putc
  call newline
  add ebx, 16
  dec ecx
  jmp mod_loop
mods_done:
  mov al, 0x13
  call exit
m_flags: .asciz "flags "
m_lower: .asciz " mem_lower "
m_upper: .asciz " mem_upper "
m_cmdline: .asciz "cmdline: "
m_region: .asciz "region "
m_mods: .asciz "modules: "
m_module: .asciz "module "
m_bytes: .asciz " bytes"
m_aligned: .asciz ", page-aligned"
m_string: .asciz ", string \\""
m_contents: .asciz "\\", contents ["
`);
}

/**
 * Enters long mode, installs a TSS, an IDT and SYSCALL/SYSRET, drops to ring 3
 * with IRETQ and lets user code make system calls (print a character, get a
 * number, exit). The user code also touches a supervisor-only page (#PF from
 * CPL 3) and executes CLI (#GP from CPL 3); the kernel reports both from its
 * own stack and resumes the user. Exit value 0x14 (status 41).
 */
export function ring3Kernel(): Uint8Array {
  return buildKernel(`
_start:
  mov esp, 0x90000
  mov dword ptr [pml4], offset pdpt + 7
  mov dword ptr [pdpt], offset pd + 7
  mov dword ptr [pd], 0x87
  mov dword ptr [pd + 8], 0x200083
  mov eax, cr4
  or eax, 0x20
  mov cr4, eax
  mov eax, offset pml4
  mov cr3, eax
  mov ecx, 0xc0000080
  rdmsr
  or eax, 0x101
  wrmsr
  mov eax, cr0
  or eax, 0x80000001
  mov cr0, eax
  lgdt [gdt64_ptr]
  jmp 0x08:long_mode
.code64
long_mode:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov rsp, 0x90000
  mov eax, offset tss
  mov word ptr [gdt64 + 0x2a], ax
  shr eax, 16
  mov byte ptr [gdt64 + 0x2c], al
  mov byte ptr [gdt64 + 0x2f], ah
  mov qword ptr [tss + 4], 0x80000
  mov ax, 0x28
  ltr ax
  xor ecx, ecx
  mov ebx, offset unexpected64
1:
  call set_gate64
  inc ecx
  cmp ecx, 256
  jb 1b
  mov ecx, 13
  mov ebx, offset gp64
  call set_gate64
  mov ecx, 14
  mov ebx, offset pf64
  call set_gate64
  lidt [idt64_ptr]
  mov ecx, 0xc0000081
  xor eax, eax
  mov edx, 0x00100008
  wrmsr
  mov ecx, 0xc0000082
  mov eax, offset syscall_entry
  xor edx, edx
  wrmsr
  mov ecx, 0xc0000084
  mov eax, 0x200
  xor edx, edx
  wrmsr
  mov esi, offset m_kernel
  call puts64
  push 0x1b
  push 0x70000
  push 0x002
  push 0x23
  mov eax, offset user_entry
  push rax
  iretq

after_user:
  mov esi, offset m_back
  call puts64
  mov al, 0x14
  call exit64

set_gate64:
  push rdi
  push rbx
  mov edi, ecx
  shl edi, 4
  add edi, offset idt64
  mov word ptr [rdi], bx
  mov word ptr [rdi + 2], 0x08
  mov word ptr [rdi + 4], 0x8e00
  shr ebx, 16
  mov word ptr [rdi + 6], bx
  mov dword ptr [rdi + 8], 0
  mov dword ptr [rdi + 12], 0
  pop rbx
  pop rdi
  ret

syscall_entry:
  mov qword ptr [user_rsp], rsp
  mov rsp, 0x88000
  push rcx
  push r11
  cmp eax, 1
  je sys_putc
  cmp eax, 2
  je sys_answer
  cmp eax, 3
  je sys_exit
  mov esi, offset m_badsys
  call puts64
  mov al, 0x7d
  call exit64
sys_putc:
  mov eax, edi
  call putc64
  xor eax, eax
  jmp sys_return
sys_answer:
  mov eax, 42
  jmp sys_return
sys_exit:
  mov esi, offset m_exit
  call puts64
  mov eax, edi
  call putdec64
  call newline64
  jmp after_user
sys_return:
  pop r11
  pop rcx
  mov rsp, qword ptr [user_rsp]
  sysretq

gp64:
  push 13
  jmp exc64
pf64:
  push 14
  jmp exc64
exc64:
  push rax
  mov esi, offset m_exc
  call puts64
  mov eax, dword ptr [rsp + 8]
  call putdec64
  mov esi, offset m_err
  call puts64
  mov eax, dword ptr [rsp + 16]
  call puthex64
  mov esi, offset m_cs
  call puts64
  mov eax, dword ptr [rsp + 32]
  call puthex64
  cmp dword ptr [rsp + 8], 14
  jne 1f
  mov esi, offset m_cr2
  call puts64
  mov rax, cr2
  call puthex64
1:
  call newline64
  mov rax, qword ptr [resume]
  mov qword ptr [rsp + 24], rax
  pop rax
  add rsp, 16
  iretq
unexpected64:
  mov esi, offset m_unexpected
  call puts64
  mov al, 0x7f
  call exit64

user_entry:
  lea rsi, [rip + m_user]
1:
  movzx edi, byte ptr [rsi]
  test edi, edi
  jz 2f
  mov eax, 1
  syscall
  inc rsi
  jmp 1b
2:
  mov eax, 2
  syscall
  cmp eax, 42
  jne 3f
  mov ax, cs
  and eax, 3
  lea edi, [eax + 0x30]
  mov eax, 1
  syscall
  mov edi, 10
  mov eax, 1
  syscall
3:
  mov eax, offset user_after_pf
  mov qword ptr [resume], rax
  mov rax, qword ptr [0x200000]
user_after_pf:
  mov eax, offset user_after_gp
  mov qword ptr [resume], rax
  cli
user_after_gp:
  mov edi, 7
  mov eax, 3
  syscall
  jmp user_after_gp

user_rsp: .quad 0
resume: .quad 0
m_kernel: .asciz "long mode kernel, entering ring 3\\n"
m_user: .asciz "hello from ring 3, cpl="
m_exit: .asciz "user exit "
m_back: .asciz "back in the kernel\\n"
m_badsys: .asciz "bad system call\\n"
m_exc: .asciz "exception "
m_err: .asciz " error "
m_cs: .asciz " cs "
m_cr2: .asciz " cr2 "
m_unexpected: .asciz "unexpected interrupt\\n"
${LIB64}
.balign 8
gdt64:
  .quad 0
  .quad 0x00209a0000000000
  .quad 0x0000920000000000
  .quad 0x0000f20000000000
  .quad 0x0020fa0000000000
  .quad 0x0000890000000067
  .quad 0
gdt64_ptr:
  .word gdt64_ptr - gdt64 - 1
  .long gdt64
.balign 16
idt64:
  .zero 4096
idt64_ptr:
  .word 4095
  .quad idt64
.balign 16
tss:
  .zero 104
.balign 4096
pml4:
  .zero 4096
pdpt:
  .zero 4096
pd:
  .zero 4096
.code32
`);
}

/**
 * Serial output driven by THR-empty interrupts through the remapped PIC (IRQ4,
 * OUT2 set), then received-data interrupts: echoes one line of input in upper
 * case. Exit value 0x16 (status 45).
 */
export function serialIrqKernel(): Uint8Array {
  return buildKernel(`
_start:
  mov esp, 0x90000
  call load_gdt_idt
  call remap_pic
  mov eax, 0x24
  mov ebx, offset com1_irq
  call set_gate
  mov dx, 0x3fb
  mov al, 0x80
  out dx, al
  mov dx, 0x3f8
  mov al, 1
  out dx, al
  mov dx, 0x3f9
  xor al, al
  out dx, al
  mov dx, 0x3fb
  mov al, 3
  out dx, al
  mov dx, 0x3fa
  xor al, al
  out dx, al
  mov dx, 0x3fc
  mov al, 0x0b
  out dx, al
  mov al, 0xef
  out 0x21, al
  mov dword ptr [tx_ptr], offset message
  mov dx, 0x3f9
  mov al, 0x02
  out dx, al
1:
  sti
  hlt
  cli
  cmp byte ptr [done], 0
  je 1b
  mov al, 0x16
  call exit
com1_irq:
  pusha
2:
  mov dx, 0x3fa
  in al, dx
  test al, 1
  jnz 9f
  and al, 0x0e
  cmp al, 0x02
  je 3f
  cmp al, 0x04
  je 5f
  mov dx, 0x3fd
  in al, dx
  jmp 2b
3:
  mov esi, dword ptr [tx_ptr]
  mov al, byte ptr [esi]
  test al, al
  jz 4f
  mov dx, 0x3f8
  out dx, al
  inc dword ptr [tx_ptr]
  jmp 2b
4:
  mov dx, 0x3f9
  mov al, 0x01
  out dx, al
  jmp 2b
5:
  mov dx, 0x3f8
  in al, dx
  cmp al, 10
  je 7f
  cmp al, 0x61
  jb 6f
  cmp al, 0x7a
  ja 6f
  sub al, 0x20
6:
  call putc
  jmp 2b
7:
  mov byte ptr [done], 1
  call newline
  jmp 2b
9:
  mov al, 0x20
  out 0x20, al
  popa
  iret
tx_ptr: .long 0
done: .byte 0
message: .asciz "interrupt-driven serial output\\nyou said: "
${SYS32}
`);
}

/**
 * Reads every clock the machine has: the TSC, the CMOS date, a PIT channel-2
 * calibration loop through port 0x61, and RTC periodic interrupts on IRQ8.
 * Its numbers depend on how fast time runs, so only capos (deterministic) can
 * promise the same transcript twice. Exit value 0x15 (status 43).
 */
export function clocksKernel(): Uint8Array {
  return buildKernel(`
_start:
  mov esp, 0x90000
  call load_gdt_idt
  call remap_pic
  rdtsc
  mov dword ptr [tsc0], eax
  mov esi, offset m_date
  call puts
  mov al, 0x32
  call cmos_hex
  mov al, 0x09
  call cmos_hex
  mov al, 0x2d
  call putc
  mov al, 0x08
  call cmos_hex
  mov al, 0x2d
  call putc
  mov al, 0x07
  call cmos_hex
  mov al, 0x20
  call putc
  mov al, 0x04
  call cmos_hex
  mov al, 0x3a
  call putc
  mov al, 0x02
  call cmos_hex
  mov al, 0x3a
  call putc
  mov al, 0x00
  call cmos_hex
  call newline
  in al, 0x61
  and al, 0xfc
  or al, 1
  out 0x61, al
  mov al, 0xb0
  out 0x43, al
  mov al, 0x9c
  out 0x42, al
  mov al, 0x2e
  out 0x42, al
  xor ecx, ecx
1:
  inc ecx
  in al, 0x61
  test al, 0x20
  jz 1b
  mov esi, offset m_pit
  call puts
  mov eax, ecx
  call putdec
  call newline
  mov eax, 0x28
  mov ebx, offset rtc_irq
  call set_gate
  mov al, 0xfb
  out 0x21, al
  mov al, 0xfe
  out 0xa1, al
  mov al, 0x8b
  out 0x70, al
  in al, 0x71
  or al, 0x40
  mov ah, al
  mov al, 0x8b
  out 0x70, al
  mov al, ah
  out 0x71, al
  mov al, 0x0c
  out 0x70, al
  in al, 0x71
2:
  sti
  hlt
  cli
  cmp dword ptr [rtc_ticks], 20
  jb 2b
  mov esi, offset m_rtc
  call puts
  mov eax, dword ptr [rtc_ticks]
  call putdec
  call newline
  rdtsc
  sub eax, dword ptr [tsc0]
  mov esi, offset m_tsc
  call puts
  call putdec
  call newline
  mov al, 0x15
  call exit
cmos_hex:
  push eax
  out 0x70, al
  in al, 0x71
  push eax
  shr al, 4
  movzx eax, al
  mov al, byte ptr [hex_digits + eax]
  call putc
  pop eax
  and eax, 15
  mov al, byte ptr [hex_digits + eax]
  call putc
  pop eax
  ret
rtc_irq:
  push eax
  mov al, 0x0c
  out 0x70, al
  in al, 0x71
  inc dword ptr [rtc_ticks]
  mov al, 0x20
  out 0xa0, al
  out 0x20, al
  pop eax
  iret
tsc0: .long 0
rtc_ticks: .long 0
m_date: .asciz "rtc date "
m_pit: .asciz "pit channel 2 calibration loop: "
m_rtc: .asciz "rtc periodic interrupts: "
m_tsc: .asciz "tsc delta: "
${SYS32}
`);
}
