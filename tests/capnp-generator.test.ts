// The capnp-as code generator: every generated declaration compiles, the
// plugin works through `capnp compile -o`, and schema features the guest
// runtime cannot carry are refused with a clear message.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileAssemblyScript, REPO_ROOT } from "./helpers/asc.js";
import { coverageProgram } from "./helpers/asc-coverage.js";
import { generateAssemblyScript } from "../src/toolchain/capnp-as/index.js";
import { capnpAvailable } from "../src/toolchain/capnp-as/pipeline.js";

const HAVE_CAPNP = capnpAvailable();
if (!HAVE_CAPNP) {
  // eslint-disable-next-line no-console
  console.warn("NOTICE: `capnp` is not installed (apt-get install capnproto); skipping capnp-as plugin tests that compile schemas.");
}

describe("capnp-as generated code", () => {
  for (const module of ["capos", "test/fixture"]) {
    it(`every declaration in schema/as/${module}.ts compiles with asc`, async () => {
      const source = readFileSync(join(REPO_ROOT, "schema/as", `${module}.ts`), "utf8");
      const entry = join(REPO_ROOT, "schema/as", `coverage-${module.replace("/", "-")}.ts`);
      const program = coverageProgram(`./${module}`, "./runtime/index", source);
      // Sanity: the program really touches the module (one call per accessor).
      expect(program.split("\n").length).toBeGreaterThan(source.split("\n").filter((l) => /^ {2}\w+\(.*\): [\w<>]+ \{$/.test(l)).length);
      const wasm = await compileAssemblyScript(entry, { virtualFiles: new Map([[entry, program]]) });
      expect(WebAssembly.validate(wasm)).toBe(true);
    });
  }

  it("a generated module that misuses the API fails to compile (the coverage check has teeth)", async () => {
    const entry = join(REPO_ROOT, "schema/as", "coverage-broken.ts");
    const program = 'import { ConsoleReader } from "./capos";\nexport function f(): void { changetype<ConsoleReader>(0).getNothing(); }\n';
    await expect(compileAssemblyScript(entry, { virtualFiles: new Map([[entry, program]]) })).rejects.toThrow(/asc failed/);
  });
});

describe.skipIf(!HAVE_CAPNP)("capnp-as as a capnp compiler plugin", () => {
  const dir = mkdtempSync(join(tmpdir(), "capnp-as-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function compileSchema(name: string, text: string, alsoRequest: string[] = []): Uint8Array {
    const path = join(dir, name);
    writeFileSync(path, text);
    const files = [path, ...alsoRequest.map((f) => join(dir, f))];
    return new Uint8Array(execFileSync("capnp", ["compile", "-o-", `--src-prefix=${dir}`, ...files]));
  }

  it("runs under `capnp compile -o<plugin>:<dir>` and writes one module per schema file", () => {
    const plugin = join(dir, "capnpc-as");
    const tsx = join(REPO_ROOT, "node_modules/.bin/tsx");
    writeFileSync(plugin, `#!/bin/sh\nexec "${tsx}" "${join(REPO_ROOT, "src/toolchain/capnp-as/main.ts")}" --runtime=rt/index\n`);
    chmodSync(plugin, 0o755);
    writeFileSync(join(dir, "point.capnp"), "@0xd5a1b3c2e4f60718;\nstruct Point { x @0 :Int32; y @1 :Int32; }\n");
    const out = join(dir, "out");
    execFileSync("mkdir", ["-p", out]);
    execFileSync("capnp", ["compile", `-o${plugin}:${out}`, `--src-prefix=${dir}`, join(dir, "point.capnp")]);
    expect(readdirSync(out)).toEqual(["point.ts"]);
    const text = readFileSync(join(out, "point.ts"), "utf8");
    expect(text).toContain('from "./rt/index"');
    expect(text).toContain("@unmanaged export class PointReader extends StructReader");
    expect(text).toContain("return this.readI32(4, 0);");
  });

  it("imports types from another requested schema file", () => {
    writeFileSync(join(dir, "base.capnp"), "@0xc1a2b3c4d5e6f708;\nstruct Base { id @0 :UInt64; }\n");
    const request = compileSchema(
      "user.capnp",
      '@0xe1a2b3c4d5e6f709;\nusing B = import "base.capnp";\nstruct User { base @0 :B.Base; all @1 :List(B.Base); }\n',
      ["base.capnp"],
    );
    const files = generateAssemblyScript(request);
    const user = files.find((f) => f.path === "user.ts");
    expect(user?.contents).toContain('import { Base, BaseBuilder, BaseReader } from "./base";');
    // Without base.capnp among the requested files there is nothing to import from.
    const alone = compileSchema("user.capnp", readFileSync(join(dir, "user.capnp"), "utf8"));
    expect(() => generateAssemblyScript(alone)).toThrow(/Base comes from a schema file that was not requested/);
  });

  it("refuses capability-typed fields: capos moves capabilities as ring transfer descriptors", () => {
    const request = compileSchema("cap.capnp", "@0xf1a2b3c4d5e6f70a;\ninterface Foo {}\nstruct HasCap { foo @0 :Foo; }\n");
    expect(() => generateAssemblyScript(request)).toThrow(/HasCap\.foo is a capability/);
  });

  it("refuses AnyPointer fields and generic structs", () => {
    const any = compileSchema("any.capnp", "@0xf1a2b3c4d5e6f70b;\nstruct Loose { p @0 :AnyPointer; }\n");
    expect(() => generateAssemblyScript(any)).toThrow(/Loose\.p is an AnyPointer/);
    const generic = compileSchema("gen.capnp", "@0xf1a2b3c4d5e6f70c;\nstruct Box(T) { v @0 :T; }\n");
    expect(() => generateAssemblyScript(generic)).toThrow(/generic/);
  });

  it("is deterministic", () => {
    const request = compileSchema("det.capnp", "@0xf1a2b3c4d5e6f70d;\nstruct A { t @0 :Text = \"x\"; l @1 :List(Int8) = [1, -1]; }\n");
    expect(generateAssemblyScript(request)).toEqual(generateAssemblyScript(request));
  });
});
