# arch_image_symbol(which: EDI) -> RAX: facts about the linked kernel image that only the
# linker knows, by the IMAGE_* numbers of kernel/mem/layout.ts. Section bounds come back
# as the addresses the kernel runs at (RIP-relative, so they are right whatever base the
# image was linked at); the load extent is the physical range the boot loader was given.
.intel_syntax noprefix

.text
.globl arch_image_symbol
arch_image_symbol:
  mov edi, edi
  cmp edi, 0                            # IMAGE_TEXT_START
  jne 1f
  lea rax, [rip + __kernel_text_start]
  ret
1:
  cmp edi, 1                            # IMAGE_TEXT_END
  jne 2f
  lea rax, [rip + __kernel_text_end]
  ret
2:
  cmp edi, 2                            # IMAGE_RODATA_START
  jne 3f
  lea rax, [rip + __kernel_rodata_start]
  ret
3:
  cmp edi, 3                            # IMAGE_RODATA_END
  jne 4f
  lea rax, [rip + __kernel_rodata_end]
  ret
4:
  cmp edi, 4                            # IMAGE_DATA_START
  jne 5f
  lea rax, [rip + __kernel_data_start]
  ret
5:
  cmp edi, 5                            # IMAGE_DATA_END
  jne 6f
  lea rax, [rip + __kernel_data_end]
  ret
6:
  cmp edi, 6                              # IMAGE_PHYS_START
  jne 7f
  mov rax, qword ptr [rip + image_extent]
  ret
7:
  cmp edi, 7                              # IMAGE_PHYS_END
  jne 8f
  mov rax, qword ptr [rip + image_extent + 8]
  ret
8:
  xor eax, eax
  ret

# Physical addresses (absolute values the linker defines for the Multiboot header).
.balign 8
image_extent:
  .quad __kernel_load_start
  .quad __kernel_bss_end
