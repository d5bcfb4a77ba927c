// The schema pipeline behind `npm run schema`: runs the `capnp` compiler once
// over the schema files, then generates the host bindings (capnp-es, made to
// pass this repository's strict TypeScript settings) and the guest bindings
// (capnp-as) from the same CodeGeneratorRequest. Host-only (Node).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import ts from "typescript";
import { compileAll } from "capnp-es/compiler";
import { generateAssemblyScript } from "./index.js";
import { hostConstants } from "./host-constants.js";
import { SchemaIndex } from "./schema-index.js";

/** Schema files relative to schema/, in generation order. */
export const SCHEMA_FILES = ["capos.capnp", "test/fixture.capnp"] as const;

/** Whether the `capnp` compiler (Debian package `capnproto`) is on PATH. */
export function capnpAvailable(): boolean {
  try {
    execFileSync("capnp", ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
    return true;
  } catch {
    return false;
  }
}

/** Runs `capnp compile -o-` and returns the CodeGeneratorRequest bytes. */
export function compileRequest(repoRoot: string): Uint8Array {
  const schemaDir = join(repoRoot, "schema");
  const out = execFileSync(
    "capnp",
    ["compile", "-o-", `--src-prefix=${schemaDir}`, ...SCHEMA_FILES.map((f) => join(schemaDir, f))],
    { maxBuffer: 64 << 20 },
  );
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * capnp-es emits members that override its base classes without the
 * `override` modifier, which this repository's noImplicitOverride rejects.
 * Type-check the generated module and insert the modifier exactly where
 * TypeScript asks for it (diagnostic 4114).
 */
function addOverrideModifiers(fileName: string, source: string, repoRoot: string): string {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noImplicitOverride: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const virtual = join(repoRoot, "schema", "host", fileName);
  const host = ts.createCompilerHost(options);
  const realGet = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    name === virtual ? ts.createSourceFile(name, source, version, true) : realGet(name, version, onError, create);
  const realExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === virtual || realExists(name);
  const program = ts.createProgram([virtual], options, host);
  const sourceFile = program.getSourceFile(virtual)!;
  const positions = new Set(
    program.getSemanticDiagnostics(sourceFile).filter((d) => d.code === 4114 && d.start !== undefined).map((d) => d.start!),
  );
  const inserts: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassElement(node) && node.name !== undefined && positions.has(node.name.getStart(sourceFile))) {
      // `override` goes after `static`/access modifiers and before `readonly`/`async`.
      const late = ts.canHaveModifiers(node)
        ? ts.getModifiers(node)?.find((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword || m.kind === ts.SyntaxKind.AsyncKeyword)
        : undefined;
      inserts.push((late ?? node.name).getStart(sourceFile));
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  let text = source;
  for (const at of inserts.sort((a, b) => b - a)) text = `${text.slice(0, at)}override ${text.slice(at)}`;
  return text;
}

/** Every generated file, keyed by path relative to the repository root. */
export async function generateBindings(request: Uint8Array, repoRoot: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const index = new SchemaIndex(request);
  const fileIdByOutput = new Map<string, bigint>();
  for (const file of index.request.requestedFiles) fileIdByOutput.set(file.filename.replace(/\.capnp$/, ".ts"), file.id);
  const { files } = await compileAll(Buffer.from(request.buffer, request.byteOffset, request.byteLength), { ts: true });
  for (const [name, contents] of files) {
    if (!name.endsWith(".ts") || name.endsWith(".d.ts")) continue;
    // capnp-es indents by four; the repository uses two.
    const reindented = contents.replace(/^ +/gm, (m) => " ".repeat(m.length / 2));
    const header = "// Host bindings for the capos schema. Regenerate with `npm run schema`; do not edit.\n";
    const fileId = fileIdByOutput.get(name);
    const constants = fileId === undefined ? "" : hostConstants(index, fileId);
    out.set(join("schema", "host", name), header + addOverrideModifiers(name, reindented, repoRoot) + constants);
  }
  for (const file of generateAssemblyScript(request, { runtimePath: "runtime/index" })) {
    out.set(join("schema", "as", file.path), file.contents);
  }
  return out;
}
