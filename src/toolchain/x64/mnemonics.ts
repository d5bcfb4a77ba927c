// The mnemonics the assembler accepts, as a TypeScript type for the typed API
// (a.add(rax, 1)). The list mirrors the instruction table (forms.ts derives the
// same names from the rows); tests/asm-api.test.ts fails when they drift apart, and
// prints the list to paste here.
import type { Assembler } from "./assembler.js";
import type { OperandInput } from "./operands.js";

export const MNEMONICS = [
  "adc", "add", "addpd", "addps", "addsd", "addss", "addsubpd", "addsubps", "and", "andn", "andnpd", "andnps",
  "andpd", "andps", "arpl", "bextr", "blendpd", "blendps", "blendvpd", "blendvps", "blsi", "blsmsk", "blsr", "bound", "bsf",
  "bsr", "bswap", "bt", "btc", "btr", "bts", "bzhi", "call", "cbw", "cdq", "cdqe", "clac", "clc", "cld", "clflush",
  "cli", "clts", "cmc", "cmova", "cmovae", "cmovb", "cmovbe", "cmovc", "cmove", "cmovg", "cmovge", "cmovl", "cmovle",
  "cmovna", "cmovnae", "cmovnb", "cmovnbe", "cmovnc", "cmovne", "cmovng", "cmovnge", "cmovnl", "cmovnle", "cmovno",
  "cmovnp", "cmovns", "cmovnz", "cmovo", "cmovp", "cmovpe", "cmovpo", "cmovs", "cmovz", "cmp", "cmppd", "cmpps",
  "cmps", "cmpsb", "cmpsd", "cmpsq", "cmpss", "cmpsw", "cmpxchg", "cmpxchg16b", "cmpxchg8b", "comisd", "comiss",
  "cpuid", "cqo", "crc32", "cvtdq2pd", "cvtdq2ps", "cvtpd2dq", "cvtpd2ps", "cvtps2dq", "cvtps2pd", "cvtsd2si",
  "cvtsd2ss", "cvtsi2sd", "cvtsi2ss", "cvtss2sd", "cvtss2si", "cvttpd2dq", "cvttps2dq", "cvttsd2si", "cvttss2si",
  "cwd", "cwde", "dec", "div", "divpd", "divps", "divsd", "divss", "dppd", "dpps", "endbr32", "endbr64", "enter",
  "extractps", "fxrstor", "fxrstor64", "fxsave", "fxsave64", "haddpd", "haddps", "hlt", "hsubpd", "hsubps", "idiv",
  "imul", "in", "inc", "ins", "insb", "insd", "insertps", "insw", "int", "int1", "int3", "into", "invd", "invlpg",
  "iret", "iretd", "iretq", "iretw", "ja", "jae", "jb", "jbe", "jc", "jcxz", "je", "jecxz", "jg", "jge", "jl", "jle",
  "jmp", "jna", "jnae", "jnb", "jnbe", "jnc", "jne", "jng", "jnge", "jnl", "jnle", "jno", "jnp", "jns", "jnz", "jo",
  "jp", "jpe", "jpo", "jrcxz", "js", "jz", "lahf", "lar", "lddqu", "ldmxcsr", "lds", "lea", "leave", "les", "lfence",
  "lfs", "lgdt", "lgs", "lidt", "lldt", "lmsw", "lods", "lodsb", "lodsd", "lodsq", "lodsw", "loop", "loope",
  "loopne", "lsl", "lss", "ltr", "lzcnt", "maskmovdqu", "maxpd", "maxps", "maxsd", "maxss", "mfence", "minpd",
  "minps", "minsd", "minss", "mov", "movabs", "movapd", "movaps", "movbe", "movd", "movddup", "movdqa", "movdqu",
  "movhlps", "movhpd", "movhps", "movlhps", "movlpd", "movlps", "movmskpd", "movmskps", "movntdq", "movntdqa",
  "movnti", "movntpd", "movntps", "movq", "movs", "movsb", "movsd", "movshdup", "movsldup", "movsq", "movss",
  "movsw", "movsx", "movsxd", "movupd", "movups", "movzx", "mpsadbw", "mul", "mulpd", "mulps", "mulsd", "mulss",
  "mulx", "neg", "nop", "not", "or", "orpd", "orps", "out", "outs", "outsb", "outsd", "outsw", "pabsb", "pabsd",
  "pabsw", "packssdw", "packsswb", "packusdw", "packuswb", "paddb", "paddd", "paddq", "paddsb", "paddsw", "paddusb",
  "paddusw", "paddw", "palignr", "pand", "pandn", "pause", "pavgb", "pavgw", "pblendvb", "pblendw", "pcmpeqb",
  "pcmpeqd", "pcmpeqq", "pcmpeqw", "pcmpestri", "pcmpestrm", "pcmpgtb", "pcmpgtd", "pcmpgtq", "pcmpgtw", "pcmpistri",
  "pcmpistrm", "pdep", "pext", "pextrb", "pextrd", "pextrq", "pextrw", "phaddd", "phaddsw", "phaddw", "phminposuw",
  "phsubd", "phsubsw", "phsubw", "pinsrb", "pinsrd", "pinsrq", "pinsrw", "pmaddubsw", "pmaddwd", "pmaxsb", "pmaxsd",
  "pmaxsw", "pmaxub", "pmaxud", "pmaxuw", "pminsb", "pminsd", "pminsw", "pminub", "pminud", "pminuw", "pmovmskb",
  "pmovsxbd", "pmovsxbq", "pmovsxbw", "pmovsxdq", "pmovsxwd", "pmovsxwq", "pmovzxbd", "pmovzxbq", "pmovzxbw",
  "pmovzxdq", "pmovzxwd", "pmovzxwq", "pmuldq", "pmulhrsw", "pmulhuw", "pmulhw", "pmulld", "pmullw", "pmuludq",
  "pop", "popa", "popad", "popaw", "popcnt", "popd", "popf", "popfd", "popfq", "popfw", "popq", "popw", "por",
  "prefetch", "prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2", "prefetchw", "psadbw", "pshufb", "pshufd",
  "pshufhw", "pshuflw", "psignb", "psignd", "psignw", "pslld", "pslldq", "psllq", "psllw", "psrad", "psraw", "psrld",
  "psrldq", "psrlq", "psrlw", "psubb", "psubd", "psubq", "psubsb", "psubsw", "psubusb", "psubusw", "psubw", "ptest",
  "punpckhbw", "punpckhdq", "punpckhqdq", "punpckhwd", "punpcklbw", "punpckldq", "punpcklqdq", "punpcklwd", "push",
  "pusha", "pushad", "pushaw", "pushd", "pushf", "pushfd", "pushfq", "pushfw", "pushq", "pushw", "pxor", "rcl",
  "rcpps", "rcpss", "rcr", "rdmsr", "rdtsc", "rdtscp", "ret", "retf", "rol", "ror", "rorx", "roundpd", "roundps",
  "roundsd", "roundss", "rsqrtps", "rsqrtss", "sahf", "sal", "sar", "sarx", "sbb", "scas", "scasb", "scasd", "scasq",
  "scasw", "seta", "setae", "setb", "setbe", "setc", "sete", "setg", "setge", "setl", "setle", "setna", "setnae",
  "setnb", "setnbe", "setnc", "setne", "setng", "setnge", "setnl", "setnle", "setno", "setnp", "setns", "setnz",
  "seto", "setp", "setpe", "setpo", "sets", "setz", "sfence", "sgdt", "shl", "shld", "shlx", "shr", "shrd", "shrx",
  "shufpd", "shufps", "sidt", "sldt", "smsw", "sqrtpd", "sqrtps", "sqrtsd", "sqrtss", "stac", "stc", "std", "sti",
  "stmxcsr", "stos", "stosb", "stosd", "stosq", "stosw", "str", "sub", "subpd", "subps", "subsd", "subss", "swapgs",
  "syscall", "sysenter", "sysexit", "sysexitq", "sysret", "sysretq", "test", "tzcnt", "ucomisd", "ucomiss", "ud0",
  "ud1", "ud2", "unpckhpd", "unpckhps", "unpcklpd", "unpcklps", "verr", "verw", "wbinvd", "wrmsr", "xadd", "xchg",
  "xlat", "xlatb", "xor", "xorpd", "xorps",
] as const;

export type Mnemonic = (typeof MNEMONICS)[number];

/** One method per mnemonic on Assembler: `a.mov(rax, qword(rbp, -8))`. */
export type InstructionMethods = { [M in Mnemonic]: (...operands: OperandInput[]) => Assembler };
