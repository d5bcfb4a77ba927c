// Cross-check with GNU as (when installed): random instructions of every form,
// written as Intel text, must assemble to the same bytes with both assemblers,
// except for the few documented places where capos picks a different valid
// encoding. Skips with a notice when `as` is absent.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble, AsmError } from "../src/toolchain/x64/index.js";
import { operandText } from "../src/toolchain/x64/operands.js";
import { readElf } from "../src/toolchain/x64/elf-read.js";
import { Rng, formSizes, randomOperands, type Bits } from "./helpers/asm-gen.js";

function haveGnuAs(): boolean {
  try {
    execFileSync("as", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const HAVE_AS = haveGnuAs();
if (!HAVE_AS) console.warn("NOTICE: GNU as not found; skipping the GNU as cross-check.");

/**
 * Documented differences (docs/toolchain-x64.md): capos keeps REX.W for a 64-bit
 * register in mov r64, Sreg / sldt / str (GNU drops it: same effect), encodes
 * `int 3` as CD 03 (GNU: CC, which behaves differently in V86 mode) and
 * `xchg rax, rax` as 48 90 (GNU: 90).
 */
const DOCUMENTED = /^(mov r\w+, [c-gs]s|sldt r|str r|int 0x3$|xchg rax, rax$)/;

interface Case {
  text: string;
  mine: string;
}

/** Assembles every case with GNU as; returns bytes per case, or null for cases GNU rejects. */
function gnuAssemble(cases: Case[], bits: Bits): (string | null)[] {
  const dir = mkdtempSync(join(tmpdir(), "capos-gnu-"));
  const run = (list: Case[]) => {
    const src = [".intel_syntax noprefix", `.code${bits}`, ...list.map((c, k) => `L${k}: ${c.text}`), `L${list.length}:`].join("\n") + "\n";
    writeFileSync(join(dir, "g.s"), src);
    try {
      execFileSync("as", [bits === 64 ? "--64" : "--32", "-o", join(dir, "g.o"), join(dir, "g.s")], { stdio: ["ignore", "ignore", "pipe"] });
      return { ok: true as const, errs: new Set<number>() };
    } catch (e) {
      const errs = new Set<number>();
      for (const m of String((e as { stderr: Buffer }).stderr).matchAll(/g\.s:(\d+): Error/g)) errs.add(Number(m[1]) - 3);
      return { ok: false as const, errs };
    }
  };
  let r = run(cases);
  let kept = cases.map((_, k) => k);
  if (!r.ok) {
    kept = kept.filter((k) => !r.errs.has(k));
    r = run(kept.map((k) => cases[k]!));
    if (!r.ok) throw new Error("GNU as rejected a second time");
  }
  const elf = readElf(new Uint8Array(readFileSync(join(dir, "g.o"))));
  const text = elf.sections.find((s) => s.name === ".text")!;
  const data = elf.bytes.subarray(text.offset, text.offset + text.size);
  const at = new Map<number, number>();
  for (const s of elf.symbols) {
    const m = /^L(\d+)$/.exec(s.name);
    if (m) at.set(Number(m[1]), Number(s.value));
  }
  const out: (string | null)[] = cases.map(() => null);
  kept.forEach((k, i) => {
    out[k] = Buffer.from(data.subarray(at.get(i)!, at.get(i + 1)!)).toString("hex");
  });
  return out;
}

describe.skipIf(!HAVE_AS)("same bytes as GNU as", () => {
  for (const bits of [64, 32, 16] as Bits[]) {
    it(`${bits}-bit code, every form`, () => {
      const rng = new Rng(0x6e0 + bits);
      const cases: Case[] = [];
      for (const [form, S] of formSizes(bits)) {
        // Branch targets are addresses: GNU as places numeric targets differently (relocations against *ABS*).
        if (form.ops.some((o) => o.method === "J")) continue;
        for (let k = 0; k < 3; k++) {
          const ops = randomOperands(rng, form, S, bits, 0n);
          if (ops === null) continue;
          const text = `${form.name} ${ops.map(operandText).join(", ")}`.trim();
          try {
            cases.push({ text, mine: Buffer.from(assemble(text, { bits }).bytes).toString("hex") });
          } catch (e) {
            if (!(e instanceof AsmError)) throw e;
          }
        }
      }
      const gnu = gnuAssemble(cases, bits);
      let compared = 0;
      const diffs: string[] = [];
      cases.forEach((c, k) => {
        const g = gnu[k];
        if (g === null || g === undefined) return;
        compared++;
        if (g !== c.mine && !DOCUMENTED.test(c.text)) diffs.push(`${c.text}: capos ${c.mine}, GNU ${g}`);
      });
      // eslint-disable-next-line no-console
      console.log(`${bits}-bit: ${compared} instructions compared with GNU as`);
      expect(compared).toBeGreaterThan(2000);
      expect(diffs.slice(0, 20)).toEqual([]);
    });
  }
});
