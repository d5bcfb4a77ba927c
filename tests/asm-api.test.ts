// The typed assembler API: one method per mnemonic (typed by mnemonics.ts,
// which must list exactly the table-derived mnemonics), operand helpers,
// prefixes, sections, data, and errors.
import { describe, expect, it } from "vitest";
import {
  Assembler, AsmError, al, eax, ebx, ecx, fs, imm, qword, dword, byte, rax, rbp, rbx, rcx, rsi, rdi, sym, withSeg, xmm0, xmm1,
} from "../src/toolchain/x64/index.js";
import { MNEMONICS } from "../src/toolchain/x64/mnemonics.js";
import { allMnemonics } from "../src/toolchain/x64/forms.js";

const hex = (a: Assembler) => [...a.flat().bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("typed API", () => {
  it("lists exactly the mnemonics the instruction table gives (update mnemonics.ts when this fails)", () => {
    const derived = allMnemonics();
    const missing = derived.filter((m) => !(MNEMONICS as readonly string[]).includes(m));
    const stale = MNEMONICS.filter((m) => !derived.includes(m));
    if (missing.length > 0 || stale.length > 0) {
      // eslint-disable-next-line no-console
      console.log(`MNEMONICS for src/toolchain/x64/mnemonics.ts:\n${JSON.stringify(derived)}`);
    }
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
    for (const m of derived) expect(typeof (Assembler.prototype as unknown as Record<string, unknown>)[m]).toBe("function");
  });

  it("assembles with registers, memory helpers, labels and condition codes", () => {
    const a = new Assembler({ bits: 64 });
    a.add(rax, qword(rbp, -8));
    a.label("loop");
    a.dec(ecx);
    a.jcc("ne", "loop");
    a.mov(eax, dword(rbx, rcx, 4, 16));
    a.cmovcc("z", ebx, ecx).setcc("nz", al);
    a.mov(rax, qword(withSeg(qword(0x28), fs)));
    a.ret();
    expect(hex(a)).toBe("480345f8" + "ffc9" + "75fc" + "8b448b10" + "0f44d9" + "0f95c0" + "64488b042528000000" + "c3");
  });

  it("takes numbers, bigints, symbols and explicit immediates", () => {
    const a = new Assembler({ bits: 64, origin: 0x1000 });
    a.mov(rax, 0x1122334455667788n);
    a.mov(eax, sym("target"));
    a.push(imm(-1));
    a.label("target");
    // 10 + 5 + 2 bytes: target is at 0x1011.
    expect(hex(a)).toBe("48b88877665544332211" + "b811100000" + "6aff");
  });

  it("has prefix helpers, implicit string operands and SSE forms", () => {
    const a = new Assembler({ bits: 64 });
    a.lock().add(qword(rdi), 1);
    a.rep().movsb();
    a.repne().scasb();
    a.movs(qword(rdi), qword(rsi));
    a.addps(xmm0, xmm1).movq(rax, xmm0);
    expect(hex(a)).toBe("f048830701" + "f3a4" + "f2ae" + "48a5" + "0f58c1" + "66480f7ec0");
  });

  it("builds sections, data and alignment", () => {
    const a = new Assembler({ bits: 32, origin: 0x8000 });
    a.mov(ebx, sym("value")).ret();
    a.data().align(4).label("value").dd(0x11223344).db(1, 2).dw(3).ascii("ok").asciz("!");
    const out = a.flat();
    expect(out.symbols.get("value")).toBe(0x8008);
    expect(hex(a)).toBe("bb08800000c3" + "0000" + "44332211" + "0102" + "0300" + "6f6b" + "2100");
  });

  it("reports unsupported operand combinations as AsmError", () => {
    expect(() => new Assembler().add(al, rbx)).toThrow(AsmError);
    expect(() => new Assembler().add(al, rbx)).toThrow(/add does not take al \(r8\), rbx \(r64\)/);
    expect(() => new Assembler().mov(byte(rax), 0x100)).toThrow(/out of range/);
    expect(() => new Assembler().prefix("bogus")).toThrow(/unknown prefix "bogus"/);
    expect(() => new Assembler({ bits: 32 }).mov(rax, 1)).toThrow(/mov does not take rax \(r64\)/);
    expect(() => new Assembler({ bits: 32 }).mov(eax, dword(rax))).toThrow(/64-bit address register rax in 32-bit code/);
  });
});
