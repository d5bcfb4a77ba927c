// capnp-as: capos's Cap'n Proto code generator for guest code. Turns a
// CodeGeneratorRequest (what `capnp compile -o-` writes) into AssemblyScript
// modules built on the guest runtime in schema/as/runtime.
import { SchemaIndex } from "./schema-index.js";
import { emitFile } from "./emit-file.js";

export interface GenerateOptions {
  /** Runtime module path relative to the output root; default "runtime/index". */
  runtimePath?: string;
}

export interface GeneratedFile {
  /** Path relative to the output root ("capos.ts" for "capos.capnp"). */
  path: string;
  contents: string;
}

/** Generates one AssemblyScript module per requested schema file. */
export function generateAssemblyScript(request: Uint8Array, options: GenerateOptions = {}): GeneratedFile[] {
  const index = new SchemaIndex(request);
  const requested = index.request.requestedFiles.toArray();
  const outPathOf = new Map<bigint, string>();
  for (const file of requested) outPathOf.set(file.id, file.filename.replace(/\.capnp$/, "") + ".ts");
  return requested.map((file) => {
    const path = outPathOf.get(file.id)!;
    return {
      path,
      contents: emitFile(index, file.id, {
        outPath: path,
        runtimePath: options.runtimePath ?? "runtime/index",
        outPathOf,
        sourceName: file.filename,
      }),
    };
  });
}
