// The Intel-syntax text front end: statements, operands, expressions,
// directives, sections and modes, and errors that name the line, the column and
// what was expected.
import { describe, expect, it } from "vitest";
import { assemble, assembleObject, AsmError } from "../src/toolchain/x64/index.js";

const hex = (s: string, opts: { bits?: 16 | 32 | 64; origin?: number } = {}) =>
  [...assemble(s, opts).bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

function error(src: string, opts: { bits?: 16 | 32 | 64 } = {}): string {
  try {
    assemble(src, opts);
  } catch (e) {
    if (e instanceof AsmError) return e.message;
    throw e;
  }
  throw new Error(`no error for: ${src}`);
}

describe("instructions and operands", () => {
  it("reads the GNU .intel_syntax noprefix spelling", () => {
    expect(hex(".intel_syntax noprefix\nadd dword ptr [r14-0x61], ebx")).toBe("41015e9f");
    expect(hex("ADD DWORD PTR [R14-0X61], EBX")).toBe("41015e9f");
    expect(hex("mov rax, qword ptr [rbx+rcx*8+0x10]")).toBe("488b44cb10");
    expect(hex("mov rax, [rcx*8+rbx+16]")).toBe("488b44cb10");
    expect(hex("mov rax, 16[rbx][rcx*8]")).toBe("488b44cb10");
    expect(hex("mov rax, [8*rcx+rbx+0x10]")).toBe("488b44cb10");
    expect(hex("lea rax, [rip+0x10]")).toBe("488d0510000000");
    expect(hex("mov eax, dword ptr [0x1234]")).toBe("8b042534120000");
    expect(hex("mov eax, [ebx]")).toBe("678b03");
    expect(hex("mov eax, [bx+si+4]", { bits: 32 })).toBe("678b4004");
  });

  it("chooses the shortest encoding (short immediates, accumulator forms, no displacement)", () => {
    expect(hex("add eax, 1")).toBe("83c001");
    expect(hex("add eax, 0x12345678")).toBe("0578563412");
    expect(hex("add ecx, 0x12345678")).toBe("81c178563412");
    expect(hex("add rax, -1")).toBe("4883c0ff");
    expect(hex("add eax, 0xffffffff")).toBe("83c0ff"); // -1 as a 32-bit value
    expect(hex("mov rax, 1")).toBe("48c7c001000000");
    expect(hex("mov rax, 0x80000000")).toBe("48b80000008000000000");
    expect(hex("mov eax, 1")).toBe("b801000000");
    expect(hex("mov eax, [rbp]")).toBe("8b4500");
    expect(hex("mov eax, [r12]")).toBe("418b0424");
    expect(hex("mov eax, [r13]")).toBe("418b4500");
  });

  it("encodes byte registers with the REX rules and refuses AH with REX", () => {
    expect(hex("mov sil, al")).toBe("4088c6");
    expect(hex("mov ah, al")).toBe("88c4");
    expect(error("mov ah, sil")).toMatch(/1:1: ah cannot be encoded in an instruction that needs a REX prefix/);
    expect(error("add ah, byte ptr [r8]")).toMatch(/ah cannot be encoded/);
  });

  it("takes segment overrides, dropping the default segment as GNU as does", () => {
    expect(hex("mov rax, qword ptr fs:[0x28]")).toBe("64488b042528000000");
    expect(hex("mov rax, fs:0x28")).toBe("64488b042528000000");
    expect(hex("mov eax, gs:[rax]")).toBe("658b00");
    expect(hex("mov eax, ds:[rax]")).toBe("8b00");
    expect(hex("mov eax, ds:[rbp]")).toBe("3e8b4500");
    expect(hex("ds mov eax, [rax]")).toBe("3e8b00"); // a prefix word always emits its byte
  });

  it("knows the GNU meaning of bare symbols: memory, unless offset or a constant", () => {
    const src = ".equ K, 5\nmov eax, var\nmov eax, offset var\nmov eax, K\nvar: .long 1\n";
    // 7 + 5 + 5 bytes of code: var is at 0x1011.
    expect(hex(src, { origin: 0x1000 })).toBe("8b0425" + "11100000" + "b811100000" + "b805000000" + "01000000");
    expect(hex("jmp t\nt: call t", { origin: 0 })).toBe("eb00e8fbffffff");
  });

  it("accepts prefixes, pseudo-prefixes and size suffixes", () => {
    expect(hex("lock add dword ptr [rax], 1")).toBe("f0830001");
    expect(hex("rep movsb")).toBe("f3a4");
    expect(hex("repne scasb")).toBe("f2ae");
    expect(hex("addr32 rep stosd")).toBe("67f3ab");
    expect(hex("add eax, ebx")).toBe("01d8");
    expect(hex("{load} add eax, ebx")).toBe("03c3");
    expect(hex("{disp32} mov eax, [rax]")).toBe("8b8000000000");
    expect(hex("{disp8} mov eax, [rax]")).toBe("8b4000");
    expect(hex("pushw 0x1234")).toBe("66683412");
    expect(hex("push 0x1234")).toBe("6834120000");
    expect(hex("cdqe; cwde; cqo")).toBe("48989848" + "99");
    expect(hex("movsq; lodsd; stosw")).toBe("48a5ad66ab");
    expect(hex("movs qword ptr [rdi], qword ptr [rsi]")).toBe("48a5");
    expect(hex("jz x; jnae x; setpo al; cmovnbe eax, ebx\nx:")).toBe("7408" + "7206" + "0f9bc0" + "0f47c3");
  });

  it("accepts GNU's short spellings", () => {
    expect(hex("imul eax, 10")).toBe("6bc00a"); // imul eax, eax, 10
    expect(hex("lgdt [rax]\nlgdt fword ptr [rax]\nlgdt tbyte ptr [rax]")).toBe("0f0110".repeat(3));
    expect(hex("sal eax, 2\nxlatb")).toBe("c1e002d7");
  });

  it("keeps a redundant SIB byte written with riz/eiz", () => {
    expect(hex("mov eax, [rax+riz*1]")).toBe("8b0420");
    expect(hex("mov eax, [eiz*1+0x1234]", { bits: 32 })).toBe("8b042534120000");
    expect(hex("mov eax, [0x1234]", { bits: 32 })).toBe("a134120000");
  });

  it("far pointers and control registers in 32-bit code", () => {
    expect(hex("jmp 0x08:0x100000", { bits: 32 })).toBe("ea000010000800");
    expect(hex("mov cr0, eax\nmov eax, cr3", { bits: 32 })).toBe("0f22c00f20d8");
    expect(hex("mov cr3, rax\nmov rax, cr8")).toBe("0f22d8440f20c0");
    expect(error("mov cr0, eax")).toMatch(/mov does not take cr0, eax/);
  });

  it("refuses what the CPU does not support", () => {
    expect(error("lock add eax, ebx")).toMatch(/lock needs a memory destination/);
    expect(error("lock mov dword ptr [rax], 1")).toMatch(/lock is not allowed with mov/);
    expect(error("lea eax, eax")).toMatch(/lea does not take eax \(r32\), eax \(r32\); expected one of: r16\/32\/64, m/);
    expect(error("movbe eax, ebx")).toMatch(/movbe does not take/);
    expect(error("mov rax, ebx")).toMatch(/mov does not take rax \(r64\), ebx \(r32\)/);
    expect(error("add eax, 0x100000000")).toMatch(/or the immediate is out of range/);
    expect(error("inc [rax]")).toMatch(/operand size not specified/);
    expect(error("movzx eax, [rax]")).toMatch(/ambiguous operand size for "movzx": write byte ptr or word ptr/);
    expect(error("mov eax, [rsp*2]")).toMatch(/rsp cannot be an index register/);
    expect(error("mov eax, [rax+ebx]")).toMatch(/must be registers of the same width/);
    expect(error("push eax")).toMatch(/push does not take eax/);
    expect(error("mov r8d, eax", { bits: 32 })).toMatch(/register r8d exists only in 64-bit code/);
    expect(error("add rax, rbx", { bits: 32 })).toMatch(/64-bit operand size exists only in 64-bit code|does not take rax/);
    expect(error("bswap ax")).toMatch(/bswap does not take ax/);
    expect(hex("xchg eax, eax")).toBe("87c0"); // never the one-byte 90: that is nop, which does not zero-extend
    expect(hex("xchg eax, eax", { bits: 32 })).toBe("90");
    expect(hex("nop")).toBe("90");
    expect(hex("xchg ax, ax")).toBe("6690");
  });
});

describe("expressions, labels and symbols", () => {
  it("evaluates with GNU precedence, characters and the location counter", () => {
    // GNU precedence: & | ^ bind tighter than + and -.
    expect(hex(".byte 1 + 2 * 3, (1 + 2) * 3, 1 << 4 | 1, ~0 & 0xff, -1, 'A', '\\n', 10 % 4, 0b101, 010, 1 + 2 & 3, 1fh"))
      .toBe("07" + "09" + "11" + "ff" + "ff" + "41" + "0a" + "02" + "05" + "08" + "03" + "1f");
  });

  it("ends a closed character literal at its quote, so ';' and '#' after it still work", () => {
    expect(hex("mov al, 'Y'; out 0xe9, al")).toBe("b059" + "e6e9");
    expect(hex(".byte 'a', 'b'; nop # comment 'x")).toBe("6162" + "90");
    expect(hex(".byte 'a' # trailing comment")).toBe("61");
  });

  it("defines constants with .equ, .set and =, and numeric local labels", () => {
    expect(hex(".equ A, 3\n.set B, A*2\nC = B+1\n.byte A, B, C")).toBe("030607");
    expect(hex("1: jmp 1f\n1: jmp 1b\n2: jmp 2b")).toBe("eb00ebfeebfe");
    // `.` is the address of each value as it is emitted.
    expect(hex("start: .quad . - start, . - start")).toBe("0000000000000000" + "0800000000000000");
  });

  it("names the line and column of every error", () => {
    expect(error("nop\n  foo eax")).toBe("<input>:2:3: unknown instruction \"foo\"");
    expect(error("add eax,")).toBe("<input>:1:9: expected an operand at the end of the statement");
    expect(error("mov eax, [rax")).toMatch(/^<input>:1:14: expected "]"/);
    expect(error("mov eax, [rax+*2]")).toMatch(/^<input>:1:15: expected a number, a symbol or "\("/);
    expect(error("x:\nx:")).toBe("<input>:2:1: symbol \"x\" is already defined");
    expect(error("  .bogus 1")).toBe("<input>:1:3: unknown directive \".bogus\"");
    expect(error(".att_syntax")).toMatch(/AT&T syntax is not supported/);
    expect(error("jmp nowhere")).toMatch(/^<input>:1:1: undefined symbol "nowhere"/);
    expect(error("nop\n.byte 300")).toBe("<input>:2:1: value 0x12c does not fit in 1 byte");
    expect(error(".org 4\n.byte 1,2,3,4,5\n.org 2")).toMatch(/^<input>:3:1: \.org 0x2 would move backwards/);
    expect(error("jmp 1b")).toMatch(/^<input>:1:5: no local label 1: before this reference to 1b/);
    expect(error("mov eax, [rax*3]")).toMatch(/^<input>:1:15: scale must be 1, 2, 4 or 8 \(got 3\)/);
    expect(error("add al, 0x1ff")).toMatch(/^<input>:1:1: add does not take al \(r8\), immediate \(or the immediate is out of range\); expected one of: r\/m8, r8 \|/);
  });

  it("keeps comments and statement separators apart from strings", () => {
    expect(hex("nop # comment\nnop // comment\n/* block\n comment */ nop; nop\n.ascii \"a;b#c\"")).toBe("90909090" + "613b622363");
  });
});

describe("directives, sections and modes", () => {
  it("lays out data directives", () => {
    expect(hex(".byte 1\n.word 0x203\n.short 4\n.long 0x5060708\n.quad -1\n.ascii \"ab\"\n.asciz \"c\"\n.string \"d\"\n.zero 2\n.skip 2, 0x11\n.fill 2, 2, 0x1234"))
      .toBe("01" + "0302" + "0400" + "08070605" + "ffffffffffffffff" + "6162" + "6300" + "6400" + "0000" + "1111" + "34123412");
  });

  it("aligns code with NOPs and data with zeros", () => {
    expect(hex("ret\n.align 8\nret")).toBe("c3" + "0f1f8000000000" + "c3");
    expect(hex("ret\n.p2align 2\nret")).toBe("c3" + "0f1f00" + "c3");
    expect(hex(".data\n.byte 1\n.balign 4\n.byte 2")).toBe("01000000" + "02");
    expect(hex(".byte 1\n.align 4, 0xcc\n.byte 2")).toBe("01cccccc02");
    expect(hex(".org 3, 0xaa\n.byte 1")).toBe("aaaaaa01");
  });

  it("places sections in order, each aligned, with .bss after the image", () => {
    const out = assemble(".text\nret\n.data\n.align 16\nd: .byte 7\n.bss\nb: .skip 16\n.text\nt2: ret", { origin: 0x1000 });
    expect([...out.bytes].map((b) => b.toString(16).padStart(2, "0")).join("")).toBe("c3c3" + "00".repeat(14) + "07");
    expect(out.symbols.get("t2")).toBe(0x1001);
    expect(out.symbols.get("d")).toBe(0x1010);
    expect(out.symbols.get("b")).toBe(0x1011);
  });

  it("switches between 16-, 32- and 64-bit code per label", () => {
    expect(hex(".code32\nmov eax, ebx\npush eax\n.code64\nmov eax, ebx\npush rax\n.code16\nmov ax, bx\n.bits 32\nmov ax, bx"))
      .toBe("89d850" + "89d850" + "89d8" + "6689d8");
  });

  it("writes symbols and relocations into objects", () => {
    const obj = assembleObject(".globl f\nf: call g\nmov rax, offset d\n.data\nd: .quad f\n");
    const text = obj.sections.find((s) => s.name === ".text")!;
    expect(text.relocations.map((r) => [r.kind, r.symbol, r.addend])).toEqual([["pc32", "g", -4n], ["abs32s", ".data", 0n]]);
    expect(obj.sections.find((s) => s.name === ".data")!.relocations.map((r) => [r.kind, r.symbol])).toEqual([["abs64", ".text"]]);
    expect(obj.symbols.map((s) => [s.name, s.defined, s.global])).toEqual([["f", true, true], ["d", true, false], ["g", false, true]]);
  });
});
