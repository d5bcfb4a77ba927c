// The WebAssembly spec test suite (../shared/wasm-spec, wast2json format)
// through compile + emulate: every script in the user memory model, the
// memory-related scripts again in the checked and kernel models.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SHARED_DIR, sharedNotice } from "./helpers/shared.js";
import { specScripts } from "../src/cli/wasm.js";
import { SpecRunner, type SpecScript } from "../src/toolchain/wasm/spec/runner.js";
import type { MemoryModel } from "../src/toolchain/wasm/context.js";

const SPEC = SHARED_DIR === null ? null : join(SHARED_DIR, "wasm-spec");
sharedNotice("the WebAssembly spec tests");

function runScript(runner: SpecRunner, name: string) {
  const dir = join(SPEC!, name);
  const script = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as SpecScript;
  return runner.run(script, name, (f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** Scripts whose outcome depends on how linear memory is addressed and bounded. */
const MEMORY_SCRIPTS = [
  "address", "bulk", "data", "float_memory", "imports", "linking", "load", "memory", "memory_grow",
  "memory_init", "memory_redundancy", "memory_size", "memory_trap", "store",
];

describe.skipIf(SPEC === null)("wasm spec suite, user memory model", () => {
  const runner = new SpecRunner({ memoryModel: "user" });
  for (const name of SPEC === null ? [] : specScripts(SPEC)) {
    it(name, () => {
      const r = runScript(runner, name);
      expect(r.failures).toEqual([]);
      expect(r.passed + r.skipped).toBeGreaterThan(0);
    });
  }
});

for (const model of ["checked", "kernel"] as MemoryModel[]) {
  describe.skipIf(SPEC === null)(`wasm spec suite, ${model} memory model`, () => {
    const runner = new SpecRunner({ memoryModel: model });
    for (const name of MEMORY_SCRIPTS) {
      it(name, () => {
        const r = runScript(runner, name);
        expect(r.failures).toEqual([]);
        // In the checked model every out-of-bounds access is caught by compiled code, never by the MMU.
        if (model === "checked") expect(r.pageFaultTraps).toBe(0);
      });
    }
  });
}
