// The invalid-manifest corpus: one file per rule under
// tests/fixtures/manifests/invalid/, each stating in its header the exact
// problems (path and message) the compiler must report, and nothing else.
import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compileManifest } from "../src/manifest/compile.js";
import { CueEvaluationError } from "../src/manifest/cue/evaluate.js";
import { NodeSourceTree } from "../src/manifest/host/node-tree.js";
import { ManifestInvalidError, formatIssue } from "../src/manifest/model.js";
import { hexId, interfaceId } from "../src/manifest/schema-tables.js";
import { FIXTURES, FixturePrograms, cueModule, defaults } from "./manifest-helpers.js";

const DIR = join(FIXTURES, "invalid");
const files = readdirSync(DIR).filter((f) => f.endsWith(".cue")).sort();

/** The header lines `// <tag>: …`, with `<id:Name>` replaced by the schema's type id of interface Name. */
function header(text: string, tag: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`// ${tag}: `))
    .map((l) => l.slice(`// ${tag}: `.length).replace(/<id:(\w+)>/g, (_m, name: string) => hexId(interfaceId(name))));
}

describe("invalid-manifest corpus", () => {
  it("has a file per rule, each stating what it expects", () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const f of files) {
      const text = readFileSync(join(DIR, f), "utf8");
      expect(header(text, "rule"), f).toHaveLength(1);
      expect(header(text, "expect").length + header(text, "expect-cue").length, f).toBeGreaterThan(0);
    }
  });

  for (const f of files) {
    it(f, async () => {
      const text = readFileSync(join(DIR, f), "utf8");
      const input = { cueModule: await cueModule(), tree: new NodeSourceTree(DIR), file: join(DIR, f), defaults };
      const error = await compileManifest(input, new FixturePrograms()).then(
        () => null,
        (e: unknown) => e,
      );
      const cueExpects = header(text, "expect-cue");
      if (cueExpects.length > 0) {
        expect(error).toBeInstanceOf(CueEvaluationError);
        for (const want of cueExpects) expect((error as Error).message).toContain(want);
        return;
      }
      expect(error, "the manifest must be rejected").toBeInstanceOf(ManifestInvalidError);
      const issues = (error as ManifestInvalidError).issues;
      const wants = header(text, "expect");
      expect(issues.map(formatIssue), "exactly the expected problems").toHaveLength(wants.length);
      for (const want of wants) {
        const path = want.slice(0, want.indexOf(": "));
        const match = issues.find((i) => i.path === path && formatIssue(i).startsWith(want));
        expect(match, `expected ${want}\n got ${issues.map(formatIssue).join("\n     ")}`).toBeDefined();
      }
    });
  }
});
