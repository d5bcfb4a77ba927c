# The kernel's first instructions: the Multiboot 1 entry in 32-bit protected mode, boot
# page tables, long mode, then the jump to the higher half, where kmain is called on the
# boot stack. The code is position-independent: it finds itself with call/pop and never
# uses a link-time address before it runs in the higher half, so it works whether the
# image is linked at its physical address or at KERNEL_VBASE + that address.
.intel_syntax noprefix

.equ BOOT_MULTIBOOT_MAGIC, 0x2BADB002
.equ BOOT_KERNEL_VBASE, 0xFFFFFFFF80000000
.equ BOOT_DIRECT_MAP_BASE, 0xFFFF800000000000
.equ BOOT_STACK_RESERVE, 8192
.equ BOOT_TABLE_PAGES, 7                  # PML4, low PDPT, four PDs (0-4 GiB), high PDPT
.equ BOOT_PTE_PRESENT_WRITABLE, 0x3
.equ BOOT_PDE_LARGE_PAGE, 0x83            # present, writable, 2 MiB
.equ BOOT_CR0_SET, 0x80010022             # PG, WP, NE, MP
.equ BOOT_CR0_EM, 0x4
.equ BOOT_CR4_SET, 0x620                  # PAE, OSFXSR, OSXMMEXCPT
.equ BOOT_IA32_EFER, 0xC0000080
.equ BOOT_EFER_SET, 0x901                 # SCE, LME, NXE
.equ BOOT_DEBUG_EXIT_PORT, 0xF4
.equ BOOT_EXIT_BOOT_ERROR, 2

.text
.code32
.globl _start32
_start32:
  cli
  cld
  mov esi, ebx                            # the Multiboot information, kept in ESI until kmain
  cmp eax, BOOT_MULTIBOOT_MAGIC
  jne boot_not_multiboot
  call 1f
1:
  pop ebp                                 # EBP = where label 1 runs: boot_* = EBP + (boot_* - 1b)

  lea edi, [ebp + (boot_pml4 - 1b)]
  mov ecx, BOOT_TABLE_PAGES * 4096 / 4
  xor eax, eax
  rep stosd

  # Four PDs of 2 MiB pages: physical 0-4 GiB.
  lea edi, [ebp + (boot_pd - 1b)]
  xor ecx, ecx
2:
  mov eax, ecx
  shl eax, 21
  or eax, BOOT_PDE_LARGE_PAGE
  mov dword ptr [edi + ecx * 8], eax
  inc ecx
  cmp ecx, 2048
  jb 2b

  # The low PDPT serves the identity map (PML4[0], used until the jump to the higher
  # half) and the direct map (PML4[256]); the high PDPT maps KERNEL_VBASE + 0-1 GiB.
  lea edi, [ebp + (boot_pdpt_low - 1b)]
  lea eax, [ebp + (boot_pd - 1b) + BOOT_PTE_PRESENT_WRITABLE]
  mov ecx, 4
3:
  mov dword ptr [edi], eax
  add eax, 4096
  add edi, 8
  dec ecx
  jnz 3b
  lea eax, [ebp + (boot_pd - 1b) + BOOT_PTE_PRESENT_WRITABLE]
  mov dword ptr [ebp + (boot_pdpt_high - 1b) + 510 * 8], eax
  lea eax, [ebp + (boot_pdpt_low - 1b) + BOOT_PTE_PRESENT_WRITABLE]
  mov dword ptr [ebp + (boot_pml4 - 1b)], eax
  mov dword ptr [ebp + (boot_pml4 - 1b) + 256 * 8], eax
  lea eax, [ebp + (boot_pdpt_high - 1b) + BOOT_PTE_PRESENT_WRITABLE]
  mov dword ptr [ebp + (boot_pml4 - 1b) + 511 * 8], eax

  # Long mode: PAE and SSE on, the tables in CR3, EFER.LME (with NX and syscall), then
  # paging with write protection for the kernel too.
  mov eax, BOOT_CR4_SET
  mov cr4, eax
  lea eax, [ebp + (boot_pml4 - 1b)]
  mov cr3, eax
  mov ecx, BOOT_IA32_EFER
  rdmsr
  or eax, BOOT_EFER_SET
  wrmsr
  mov eax, cr0
  and eax, ~BOOT_CR0_EM
  or eax, BOOT_CR0_SET
  mov cr0, eax

  # The GDT's base is where it runs; the far jump goes through the stack for the same reason.
  lea eax, [ebp + (boot_gdt - 1b)]
  mov dword ptr [ebp + (boot_gdt_pointer - 1b) + 2], eax
  lgdt [ebp + (boot_gdt_pointer - 1b)]
  lea eax, [ebp + (boot_long_mode - 1b)]
  push 0x08
  push eax
  retf

boot_not_multiboot:
  # Not started by a Multiboot loader: nothing is known about the machine.
  mov al, BOOT_EXIT_BOOT_ERROR
  out BOOT_DEBUG_EXIT_PORT, al
4:
  hlt
  jmp 4b

.code64
# Still at the physical address (identity map); next, the same code's higher-half alias.
boot_long_mode:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  xor eax, eax
  mov fs, ax
  mov gs, ax
  lea rax, [rip + boot_higher_half]
  movabs rdx, BOOT_KERNEL_VBASE
  add rax, rdx
  jmp rax

# In the higher half. Compiled code reaches physical memory through R15 (the direct map),
# and every kernel stack is addressed through the direct map too (trap.s relies on it):
# RSP = DIRECT_MAP_BASE + the boot stack's physical address.
boot_higher_half:
  movabs r15, BOOT_DIRECT_MAP_BASE
  movabs rdx, BOOT_KERNEL_VBASE
  lea rax, [rip + boot_stack_top]
  sub rax, rdx
  lea rsp, [rax + r15]
  lea rax, [rip + boot_stack_bottom + BOOT_STACK_RESERVE]
  sub rax, rdx
  add rax, r15
  mov qword ptr [rip + __wasm_stack_limit], rax
  xor ebp, ebp
  mov edi, esi
  call kmain
  # kmain enters init and never returns; if it does, the boot failed.
  mov al, BOOT_EXIT_BOOT_ERROR
  out BOOT_DEBUG_EXIT_PORT, al
5:
  cli
  hlt
  jmp 5b

# Boot data lives in this section so the 32-bit code can reach it relative to itself.
# It is only written before paging is on; later the boot stack is used through the
# direct map, and the page tables are never used again once kmain loads its own.
.balign 8
boot_gdt:
  .quad 0
  .quad 0x00AF9A000000FFFF                # 0x08: 64-bit kernel code
  .quad 0x00CF92000000FFFF                # 0x10: kernel data
boot_gdt_end:
boot_gdt_pointer:
  .word boot_gdt_end - boot_gdt - 1
  .long 0                                 # the base, filled in at run time

.balign 4096
boot_pml4:
  .skip 4096
boot_pdpt_low:
  .skip 4096
boot_pd:
  .skip 4 * 4096
boot_pdpt_high:
  .skip 4096
boot_stack_bottom:
  .skip 32768
boot_stack_top:
