// Checks the assembler and disassembler against conformance vectors: the
// vector's `asm` text must assemble to bytes that decode to the same instruction
// as its `code` (same operation and operands; byte-identical counted apart), and
// disassembling `code` must give the `asm` text modulo the formatting
// differences documented in docs/toolchain-x64.md (see normalizeAsmText).
import { AsmError } from "./encode.js";
import { assemble } from "./index.js";
import { formatView, viewAt, type Bits, type InsnView, type OperandView } from "./disasm.js";

export interface AsmVector {
  id: string;
  asm: string;
  code: string;
  rip?: string;
  exception?: string;
}

export interface AsmVectorCheck {
  id: string;
  /** Assembling `asm` gave the same instruction as `code` (or, for #UD vectors, was refused). */
  asmPass: boolean;
  /** ... with exactly the bytes of `code`. */
  identical: boolean;
  /** Disassembling `code` gave `asm` modulo the documented formatting differences. */
  disasmPass: boolean;
  assembled: string;
  disasm: string;
  problems: string[];
}

function hexToBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(h.substr(k * 2, 2), 16);
  return out;
}

function bytesToHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** The vector text without its trailing note: "lock nop (#UD)" → "lock nop". */
export function stripNote(asm: string): string {
  return asm.replace(/\s*\([^()]*\)\s*$/, "").trim();
}

const R64_DESTINATION = new Set(["movmskps", "movmskpd", "pmovmskb", "pextrw"]);
const SEGMENTS = ["es", "cs", "ss", "ds", "fs", "gs"];
const PREFIX_WORDS = /^(es|cs|ss|ds|fs|gs|data16|data32|addr16|addr32|lock|rep|repe|repz|repne|repnz|rex(\.[wrxb]+)?|\{[a-z0-9]+\})$/;

/**
 * The documented formatting differences, applied to both texts before comparing:
 * notes dropped; {disp8}/{disp16}/{disp32} dropped; numbers compared by value; a
 * segment prefix word moved into the memory operand; the two operands of xchg
 * in either order; r64/r32 spellings of the movmskps-style destinations.
 */
export function normalizeAsmText(text: string): string {
  let s = stripNote(text).toLowerCase().replace(/\{disp(8|16|32)\}\s*/g, "").replace(/\s+/g, " ").trim();
  s = s.replace(/\b(0x[0-9a-f]+|[0-9]+)\b/g, (m) => `0x${BigInt(m).toString(16)}`);
  // "data16 cs nop word ptr [...]" → "data16 nop word ptr cs:[...]"
  const words = s.split(" ");
  const head: string[] = [];
  let seg = "";
  while (words.length > 1 && PREFIX_WORDS.test(words[0]!)) {
    const w = words.shift()!;
    if (SEGMENTS.includes(w)) seg = w;
    else head.push(w);
  }
  s = words.join(" ");
  if (seg !== "" && s.includes("[") && !/\b(es|cs|ss|ds|fs|gs):\[/.test(s)) s = s.replace("[", `${seg}:[`);
  else if (seg !== "") head.push(seg);
  if (head.length > 0) s = `${head.join(" ")} ${s}`;
  // xchg rax, rax is the one-byte NOP 90 (printed nop).
  s = s.replace(/\bxchg rax, rax$/, "nop");
  const m = /^((?:[a-z0-9.{}]+ )*?)(xchg) (.+), (.+)$/.exec(s);
  if (m) {
    const [a, b] = [m[3]!, m[4]!].sort();
    s = `${m[1]}${m[2]} ${a}, ${b}`;
  }
  const d = /^([a-z]+) ([a-z0-9]+)(,.*)$/.exec(s);
  if (d && R64_DESTINATION.has(d[1]!)) s = `${d[1]} ${d[2]!.replace(/^r([a-ds][xip]|[sb]p|[sd]i)$/, "e$1").replace(/^(r\d+)d?$/, "$1d")}${d[3]}`;
  return s;
}

function sameOperand(a: OperandView, b: OperandView): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "reg": return a.reg === (b as typeof a).reg;
    case "imm": return a.value === (b as typeof a).value;
    case "rel": return a.target === (b as typeof a).target;
    case "far": return a.sel === (b as typeof a).sel && a.off === (b as typeof a).off;
    case "mem": {
      const m = b as typeof a;
      return a.size === m.size && a.seg === m.seg && a.base === m.base && a.index === m.index
        && (a.index === null || a.scale === m.scale) && a.adsize === m.adsize
        && BigInt.asUintN(a.adsize * 8, a.disp) === BigInt.asUintN(m.adsize * 8, m.disp);
    }
  }
}

const SEMANTIC_PREFIXES = new Set(["lock", "rep", "repe", "repz", "repne", "repnz"]);

/** Why two decoded instructions differ (null when they are the same operation on the same operands). */
export function instructionDifference(a: InsnView, b: InsnView): string | null {
  if (!a.valid || !b.valid) return a.valid === b.valid ? null : "one of them does not decode";
  if (a.mnemonic !== b.mnemonic) return `mnemonic ${a.mnemonic} vs ${b.mnemonic}`;
  const pa = a.prefixes.filter((p) => SEMANTIC_PREFIXES.has(p)).join(" ");
  const pb = b.prefixes.filter((p) => SEMANTIC_PREFIXES.has(p)).join(" ");
  if (pa !== pb) return `prefixes "${pa}" vs "${pb}"`;
  if (a.opSize !== b.opSize && a.operands.length === 0 && a.sizeSensitive && a.mnemonic !== "nop") return `operand size ${a.opSize * 8} vs ${b.opSize * 8}`;
  if (a.operands.length !== b.operands.length) return `${a.operands.length} vs ${b.operands.length} operands`;
  const swapped = a.mnemonic === "xchg" && a.operands.length === 2;
  const same = a.operands.every((o, k) => sameOperand(o, b.operands[k]!));
  if (same) return null;
  if (swapped && sameOperand(a.operands[0]!, b.operands[1]!) && sameOperand(a.operands[1]!, b.operands[0]!)) return null;
  return "operands differ";
}

/** Runs both checks on one vector (64-bit code at the vector's rip). */
export function checkAsmVector(v: AsmVector, bits: Bits = 64): AsmVectorCheck {
  const rip = BigInt(v.rip ?? "0x40000000");
  const code = hexToBytes(v.code);
  const problems: string[] = [];
  const want = viewAt(code, 0, { bits, address: rip });
  const ud = v.exception === "UD";

  // Assemble the text.
  let assembled = "";
  let asmPass = false;
  let identical = false;
  const text = stripNote(v.asm);
  try {
    const out = assemble(text, { bits, origin: rip });
    assembled = bytesToHex(out.bytes);
    identical = assembled === v.code;
    const got = viewAt(out.bytes, 0, { bits, address: rip });
    const diff = got.length !== out.bytes.length ? "assembled more than one instruction" : instructionDifference(got, want);
    if (diff === null) asmPass = true;
    else problems.push(`assembled ${assembled} (${formatView(got, { bits, address: rip })}): ${diff}`);
  } catch (e) {
    if (!(e instanceof AsmError)) throw e;
    // An instruction the CPU rejects (#UD) must be refused by the assembler too.
    if (ud) asmPass = true;
    else problems.push(`assembler: ${e.message}`);
  }

  // Disassemble the bytes.
  const disasm = formatView(want, { bits, address: rip });
  let disasmPass = normalizeAsmText(disasm) === normalizeAsmText(v.asm);
  if (!disasmPass && ud && !want.valid) disasmPass = true;
  if (!disasmPass) problems.push(`disassembled as "${disasm}"`);
  return { id: v.id, asmPass, identical, disasmPass, assembled, disasm, problems };
}

export interface AsmSelftestSummary {
  total: number;
  passed: number;
  failed: number;
  identical: number;
  asmFailures: number;
  disasmFailures: number;
}

export function summarize(checks: AsmVectorCheck[]): AsmSelftestSummary {
  const passed = checks.filter((c) => c.asmPass && c.disasmPass).length;
  return {
    total: checks.length, passed, failed: checks.length - passed,
    identical: checks.filter((c) => c.identical).length,
    asmFailures: checks.filter((c) => !c.asmPass).length,
    disasmFailures: checks.filter((c) => !c.disasmPass).length,
  };
}
