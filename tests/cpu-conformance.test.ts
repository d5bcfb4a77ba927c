// Runs every shared x86-64 conformance vector file; 100 % must pass.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readdirSync } from "node:fs";
import { ConformanceRunner } from "../src/emulator/cpu/conformance.js";
import { loadVectorFiles } from "../src/cli/vectors.js";
import { SHARED_DIR, sharedNotice } from "./helpers/shared.js";

const dir = SHARED_DIR ? join(SHARED_DIR, "conformance/x86-64") : null;
sharedNotice("the x86-64 conformance vectors");
const files = dir ? readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort() : [];

describe.skipIf(dir === null)("x86-64 conformance vectors", () => {
  for (const name of files) {
    it(name, () => {
      const runner = new ConformanceRunner();
      const [file] = loadVectorFiles(join(dir!, name));
      const failures: string[] = [];
      for (const v of file!.vectors) {
        const r = runner.run(v);
        if (!r.pass) failures.push(`${v.id} (${v.asm}): ${r.diffs.join("; ")}`);
      }
      expect(failures.slice(0, 10), `${failures.length} of ${file!.vectors.length} vectors failed`).toEqual([]);
    });
  }
});
