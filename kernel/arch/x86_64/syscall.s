# The `syscall` entry: with interrupts off (IA32_FMASK), swap to the kernel GS, move
# to the trap stack, build the same trap frame an interrupt would (vector 0x100), call
# the compiled kernel_syscall and resume the context it returns through trap_exit
# (iretq restores everything, so RCX and R11 come back as syscall left them).
.intel_syntax noprefix

.equ SYS_DIRECT_MAP_BASE, 0xFFFF800000000000
.equ SYS_PERCPU_KERNEL_RSP, 0x00
.equ SYS_PERCPU_USER_RSP, 0x08
.equ SYS_USER_CS, 0x23
.equ SYS_USER_DS, 0x1B
.equ SYS_SYSCALL_VECTOR, 0x100

.text
syscall_entry:
  swapgs
  mov qword ptr gs:[SYS_PERCPU_USER_RSP], rsp
  mov rsp, qword ptr gs:[SYS_PERCPU_KERNEL_RSP]
  push SYS_USER_DS                        # ss
  push qword ptr gs:[SYS_PERCPU_USER_RSP] # rsp
  push r11                            # rflags, as syscall saved them
  push SYS_USER_CS                        # cs
  push rcx                            # rip: the instruction after syscall
  push 0                              # error code
  push SYS_SYSCALL_VECTOR                 # vector
  push rax
  push rbx
  push rcx
  push rdx
  push rsi
  push rdi
  push rbp
  push r8
  push r9
  push r10
  push r11
  push r12
  push r13
  push r14
  push r15
  movabs r15, SYS_DIRECT_MAP_BASE
  mov rdi, rsp
  sub rdi, r15
  mov edi, edi
  xor ebp, ebp
  call kernel_syscall
  mov eax, eax
  lea rsp, [rax + r15]
  jmp trap_exit

# arch_syscall_entry() -> RAX: the address of syscall_entry, for IA32_LSTAR.
.globl arch_syscall_entry
arch_syscall_entry:
  lea rax, [rip + syscall_entry]
  ret
