// Runs wast2json spec scripts (../shared/wasm-spec/<name>/<name>.json) through
// compile + emulate: every module is compiled once and instantiated in the
// harness machine, and each assertion is an invocation against it. Host
// agnostic: callers supply the file reader.
import { LinkError } from "../../link/linker.js";
import { TRAP_MESSAGES, TRAP_OUT_OF_BOUNDS_MEMORY, TRAP_STACK_EXHAUSTED } from "../abi.js";
import type { MemoryModel } from "../context.js";
import { WasmCompileError } from "../errors.js";
import { InstantiationTrap, Instantiator, type Instance } from "./instance.js";
import { SpecMachine, type InvokeOutcome } from "./machine.js";
import { argBits, formatBits, matches, specType, type SpecValue } from "./values.js";

interface Action {
  type: "invoke" | "get";
  module?: string;
  field: string;
  args?: SpecValue[];
}

interface Command {
  type: string;
  line: number;
  filename?: string;
  name?: string;
  as?: string;
  action?: Action;
  expected?: SpecValue[];
  text?: string;
  module_type?: string;
}

export interface SpecScript {
  source_filename: string;
  commands: Command[];
}

export interface SpecFileResult {
  file: string;
  passed: number;
  failed: number;
  /** Text-format modules (a binary consumer skips them). */
  skipped: number;
  failures: string[];
  /** Traps whose kind differs from the expected text (matching the text is optional). */
  trapTextMismatches: number;
  /** Out-of-bounds traps raised by the MMU (page faults) rather than by compiled bounds checks. */
  pageFaultTraps: number;
}

export interface SpecRunOptions {
  memoryModel?: MemoryModel;
}

function describeOutcome(o: InvokeOutcome, types: string[]): string {
  switch (o.kind) {
    case "return": return `returned [${o.results.map((b, k) => formatBits(specType(types[k] ?? "i64"), b)).join(", ")}]`;
    case "trap": return `trapped: ${TRAP_MESSAGES[o.trap] ?? `kind ${o.trap}`}`;
    case "oob": return "trapped: out of bounds memory access (page fault)";
    case "crash": return `crashed: ${o.message}`;
  }
}

function trapMessage(o: InvokeOutcome): string | null {
  if (o.kind === "trap") return TRAP_MESSAGES[o.trap] ?? null;
  if (o.kind === "oob") return TRAP_MESSAGES[TRAP_OUT_OF_BOUNDS_MEMORY]!;
  return null;
}

/** A reusable runner: one harness machine for many scripts. */
export class SpecRunner {
  readonly machine = new SpecMachine();
  readonly inst: Instantiator;

  constructor(opts: SpecRunOptions = {}) {
    this.inst = new Instantiator(this.machine, opts.memoryModel ?? "user");
  }

  run(script: SpecScript, file: string, read: (filename: string) => Uint8Array): SpecFileResult {
    const inst = this.inst;
    inst.reset();
    const res: SpecFileResult = { file, passed: 0, failed: 0, skipped: 0, failures: [], trapTextMismatches: 0, pageFaultTraps: 0 };
    const named = new Map<string, Instance>();
    let current: Instance | null = null;
    const pass = () => { res.passed++; };
    const fail = (c: Command, msg: string) => {
      res.failed++;
      res.failures.push(`${file}:${c.line}: ${c.type}${c.action ? ` ${c.action.field}` : ""}: ${msg}`);
    };
    const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

    for (const c of script.commands) {
      switch (c.type) {
        case "module": {
          try {
            const compiled = inst.compile(read(c.filename!));
            current = inst.instantiate(compiled);
            if (c.name !== undefined) named.set(c.name, current);
            pass();
          } catch (e) {
            current = null;
            fail(c, `module ${c.filename} failed: ${errText(e)}`);
          }
          break;
        }
        case "register": {
          const target = c.name !== undefined ? named.get(c.name) : current;
          if (target) inst.registry.set(c.as!, target);
          else fail(c, `nothing to register as "${c.as}"`);
          break;
        }
        case "assert_invalid":
        case "assert_malformed": {
          if (c.module_type === "text") { res.skipped++; break; }
          try {
            inst.compile(read(c.filename!));
            fail(c, `module ${c.filename} was accepted (expected: ${c.text})`);
          } catch (e) {
            if (e instanceof WasmCompileError) pass();
            else fail(c, `unexpected error: ${errText(e)}`);
          }
          break;
        }
        case "assert_unlinkable": {
          try {
            inst.instantiate(inst.compile(read(c.filename!)));
            fail(c, `module ${c.filename} linked (expected: ${c.text})`);
          } catch (e) {
            if (e instanceof LinkError) pass();
            else fail(c, `expected a link error (${c.text}), got: ${errText(e)}`);
          }
          break;
        }
        case "assert_uninstantiable": {
          try {
            inst.instantiate(inst.compile(read(c.filename!)));
            fail(c, `module ${c.filename} instantiated (expected: ${c.text})`);
          } catch (e) {
            if (e instanceof InstantiationTrap) pass();
            else fail(c, `expected a trap during instantiation (${c.text}), got: ${errText(e)}`);
          }
          break;
        }
        case "action":
        case "assert_return":
        case "assert_trap":
        case "assert_exhaustion": {
          const a = c.action!;
          const target = a.module !== undefined ? named.get(a.module) ?? null : current;
          if (target === null) { fail(c, "no module instance"); break; }
          if (a.type === "get") {
            const g = inst.getGlobal(target, a.field);
            if (g === null) { fail(c, `no exported global "${a.field}"`); break; }
            const exp = c.expected?.[0];
            if (c.type === "assert_return" && exp !== undefined && !matches(exp, g.type, g.bits)) {
              fail(c, `expected ${exp.type}:${exp.value}, got ${formatBits(g.type, g.bits)}`);
            } else pass();
            break;
          }
          let args;
          try {
            args = (a.args ?? []).map(argBits);
          } catch (e) {
            fail(c, errText(e));
            break;
          }
          const out = inst.invoke(target, a.field, args);
          if (out.kind === "oob") res.pageFaultTraps++;
          const types = (c.expected ?? []).map((v) => v.type);
          if (c.type === "assert_return") {
            const exp = c.expected ?? [];
            if (out.kind !== "return") { fail(c, describeOutcome(out, types)); break; }
            const ok = out.results.length === exp.length && exp.every((e, k) => matches(e, specType(e.type), out.results[k]!));
            if (ok) pass();
            else fail(c, `expected [${exp.map((e) => `${e.type}:${e.value}`).join(", ")}], got ${describeOutcome(out, types)}`);
          } else if (c.type === "action") {
            if (out.kind === "return") pass();
            else fail(c, describeOutcome(out, types));
          } else if (c.type === "assert_exhaustion") {
            if (out.kind === "trap" && out.trap === TRAP_STACK_EXHAUSTED) pass();
            else fail(c, `expected call stack exhaustion, ${describeOutcome(out, types)}`);
          } else {
            const msg = trapMessage(out);
            if (msg === null) { fail(c, `expected trap "${c.text}", ${describeOutcome(out, types)}`); break; }
            if (!c.text!.startsWith(msg)) res.trapTextMismatches++;
            pass();
          }
          break;
        }
        default:
          fail(c, `unknown command type ${c.type}`);
      }
    }
    return res;
  }
}

/** The summary line CI reads. */
export function specSummary(results: readonly SpecFileResult[]): string {
  const p = results.reduce((s, r) => s + r.passed, 0);
  const f = results.reduce((s, r) => s + r.failed, 0);
  return `${p} passed, ${f} failed`;
}
