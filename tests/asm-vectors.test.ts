// The assembler and disassembler on every shared x86-64 conformance vector:
// the asm text assembles to the same instruction as the code bytes, and the code
// disassembles to the asm text modulo the documented formatting differences.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readdirSync } from "node:fs";
import { loadVectorFiles } from "../src/cli/vectors.js";
import { checkAsmVector, normalizeAsmText, summarize, type AsmVectorCheck } from "../src/toolchain/x64/selftest.js";
import { selftestAsm } from "../src/cli/selftest-asm.js";
import { SHARED_DIR, sharedNotice } from "./helpers/shared.js";

const dir = SHARED_DIR ? join(SHARED_DIR, "conformance/x86-64") : null;
sharedNotice("the x86-64 conformance vectors (assembler)");
const files = dir ? readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort() : [];

describe.skipIf(dir === null)("assembler and disassembler on the shared vectors", () => {
  const all: AsmVectorCheck[] = [];
  for (const name of files) {
    it(name, () => {
      const [file] = loadVectorFiles(join(dir!, name));
      const checks = file!.vectors.map((v) => checkAsmVector(v));
      all.push(...checks);
      const failures = checks.filter((c) => !(c.asmPass && c.disasmPass)).map((c) => `${c.id}: ${c.problems.join("; ")}`);
      expect(failures.slice(0, 10), `${failures.length} of ${checks.length} failed`).toEqual([]);
    });
  }

  it("reports the byte-identical share", () => {
    const s = summarize(all);
    // eslint-disable-next-line no-console
    console.log(`asm vectors: ${s.passed}/${s.total} pass; byte-identical ${s.identical}/${s.total} (${((100 * s.identical) / s.total).toFixed(1)}%)`);
    expect(s.total).toBe(30292);
    // The rest are raw-encoded forms GNU syntax cannot select (rel32 jumps to near targets,
    // shifts by 1 through C0/C1, NOPs with redundant displacements, #UD cases).
    expect(s.identical / s.total).toBeGreaterThan(0.985);
  });
});

describe("documented formatting differences", () => {
  it("normalizes exactly the documented cases", () => {
    expect(normalizeAsmText("rcr bl, 1")).toBe(normalizeAsmText("rcr bl, 0x1"));
    expect(normalizeAsmText("lock nop (#UD)")).toBe("lock nop");
    expect(normalizeAsmText("{disp32} nop dword ptr [rax+0x0]")).toBe(normalizeAsmText("nop dword ptr [rax+0x0]"));
    expect(normalizeAsmText("data16 data16 cs nop word ptr [rax]")).toBe(normalizeAsmText("data16 data16 nop word ptr cs:[rax]"));
    expect(normalizeAsmText("xchg eax, r13d")).toBe(normalizeAsmText("xchg r13d, eax"));
    expect(normalizeAsmText("movmskps r13, xmm2")).toBe(normalizeAsmText("movmskps r13d, xmm2"));
    expect(normalizeAsmText("xchg rax, rax")).toBe("nop");
    // Not normalized: different registers, sizes or mnemonics.
    expect(normalizeAsmText("add eax, ebx")).not.toBe(normalizeAsmText("add ebx, eax"));
    expect(normalizeAsmText("mov al, 0x1")).not.toBe(normalizeAsmText("mov ax, 0x1"));
  });
});

describe.skipIf(dir === null)("capos selftest asm", () => {
  it("ends with the N passed, M failed line", () => {
    let out = "";
    const code = selftestAsm({ vectors: join(dir!, "flags.jsonl") }, (s) => { out += s; });
    expect(code).toBe(0);
    expect(out.trimEnd().split("\n").pop()).toBe("280 passed, 0 failed");
  });
});
