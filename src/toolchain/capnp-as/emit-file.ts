// Emits one generated AssemblyScript module for one requested schema file:
// header and imports, constants, enums, interface ids with method ordinals,
// then every struct's namespace, reader and builder.
import { posix } from "node:path";
import { Node, Type } from "capnp-es/capnp/schema";
import { byteArrayLiteral, encodeDefaultMessage } from "./defaults.js";
import { docBlock, emitStruct, type FileContext } from "./emit-struct.js";
import { hex64, safeIdentifier } from "./names.js";
import type { SchemaIndex } from "./schema-index.js";
import { primitiveConstant, primitiveKind } from "./types.js";

export interface FileOptions {
  /** Output path of this module, relative to the output root ("capos.ts"). */
  outPath: string;
  /** Runtime module path relative to the output root ("runtime/index"). */
  runtimePath: string;
  /** Output path of every requested file by file node id, for cross-file imports. */
  outPathOf: Map<bigint, string>;
  /** The schema path as written in the header comment. */
  sourceName: string;
}

const RUNTIME_NAMES = [
  "MessageReader", "MessageBuilder", "StructReader", "StructBuilder", "ListReader", "ListBuilder",
  "TextReader", "DataReader", "ELEMENT_VOID", "ELEMENT_BIT", "ELEMENT_BYTE", "ELEMENT_TWO_BYTES",
  "ELEMENT_FOUR_BYTES", "ELEMENT_EIGHT_BYTES", "ELEMENT_POINTER", "ELEMENT_COMPOSITE",
];

/** A relative module specifier from one output file to another (without extension). */
function importPath(fromFile: string, toModule: string): string {
  const rel = posix.relative(posix.dirname(fromFile), toModule);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

function emitEnum(index: SchemaIndex, node: Node): string {
  const name = index.name(node.id);
  const docs = index.docs.get(node.id);
  const lines = [...docBlock(docs?.doc, "")];
  lines.push(`export namespace ${name} {`);
  lines.push(`  export const TYPE_ID: u64 = ${hex64(node.id)};`);
  node.enum.enumerants.forEach((e, i) => {
    lines.push(...docBlock(docs?.members[i], "  "));
    lines.push(`  export const ${safeIdentifier(e.name)}: u16 = ${i};`);
  });
  lines.push("}");
  return lines.join("\n");
}

function emitInterface(index: SchemaIndex, node: Node): string {
  const name = index.name(node.id);
  const docs = index.docs.get(node.id);
  const lines = [...docBlock(docs?.doc, "")];
  lines.push(`export namespace ${name} {`);
  lines.push("  /** The interface id: the schema type id, as recorded in CapSet entries and manifests. */");
  lines.push(`  export const INTERFACE_ID: u64 = ${hex64(node.id)};`);
  const methods = node.interface.methods.toArray();
  if (methods.length > 0) {
    lines.push("  /** Method ordinals (the method id of a CALL). Params/Results structs are <Interface>_<Method>Params/Results. */");
    lines.push("  export namespace Method {");
    methods.forEach((m, i) => lines.push(`    export const ${safeIdentifier(m.name)}: u16 = ${i};`));
    lines.push("  }");
  }
  lines.push("}");
  return lines.join("\n");
}

function emitConst(ctx: FileContext, node: Node): string {
  const index = ctx.index;
  const name = index.name(node.id);
  const { type, value } = node.const;
  const lines = [...docBlock(index.docs.get(node.id)?.doc, "")];
  const prim = primitiveKind(type);
  if (prim !== undefined) {
    lines.push(`export const ${safeIdentifier(name)}: ${prim.asType} = ${primitiveConstant(type, value)};`);
    return lines.join("\n");
  }
  switch (type.which()) {
    case Type.VOID:
      return "";
    case Type.TEXT:
      lines.push(`export const ${safeIdentifier(name)}: string = ${JSON.stringify(value.text)};`);
      return lines.join("\n");
    case Type.DATA: {
      const bytes = new Uint8Array(value.data.toUint8Array());
      lines.push(`/** ${name} bytes are at ${name} (${bytes.length} bytes, also ${name}_LENGTH). */`);
      lines.push(`export const ${safeIdentifier(name)}: usize = memory.data<u8>(${byteArrayLiteral(bytes.length === 0 ? new Uint8Array(1) : bytes)});`);
      lines.push(`export const ${name}_LENGTH: u32 = ${bytes.length};`);
      return lines.join("\n");
    }
    case Type.STRUCT:
    case Type.LIST: {
      const bytes = encodeDefaultMessage(type.which() === Type.STRUCT ? value.struct : value.list);
      if (bytes === null) return "";
      lines.push(`/** ${name} is a one-segment message whose root is the value; read it with MessageReader. */`);
      lines.push(`export const ${safeIdentifier(name)}: usize = memory.data<u8>(${byteArrayLiteral(bytes)});`);
      lines.push(`export const ${name}_LENGTH: u32 = ${bytes.length};`);
      return lines.join("\n");
    }
    default:
      throw new Error(`capnp-as: constant ${index.displayName(node.id)} has a type guest bindings do not support`);
  }
}

/** The generated module for the file node `fileId`. */
export function emitFile(index: SchemaIndex, fileId: bigint, options: FileOptions): string {
  const imports = new Map<string, Set<string>>();
  const ctx: FileContext = {
    index,
    statics: [],
    refer(id: bigint): string {
      const name = index.name(id);
      const home = index.fileOf.get(id);
      if (home !== undefined && home !== fileId && index.node(id).which() === Node.STRUCT) {
        const other = options.outPathOf.get(home);
        if (other === undefined) {
          throw new Error(`capnp-as: ${index.displayName(id)} comes from a schema file that was not requested; compile it too`);
        }
        const spec = importPath(options.outPath, other.replace(/\.ts$/, ""));
        const names = imports.get(spec) ?? new Set<string>();
        names.add(name).add(`${name}Reader`).add(`${name}Builder`);
        imports.set(spec, names);
      }
      return name;
    },
  };

  const bodies: string[] = [];
  for (const id of index.names.keys()) {
    if (index.fileOf.get(id) !== fileId) continue;
    const node = index.node(id);
    let text = "";
    switch (node.which()) {
      case Node.STRUCT: text = emitStruct(ctx, node); break;
      case Node.ENUM: text = emitEnum(index, node); break;
      case Node.INTERFACE: text = emitInterface(index, node); break;
      case Node.CONST: text = emitConst(ctx, node); break;
      default: break; // annotations have no runtime form
    }
    if (text !== "") bodies.push(text);
  }

  const head = [
    `// Generated by capos's capnp-as plugin from ${options.sourceName}. Do not edit: run \`npm run schema\`.`,
    "// AssemblyScript readers and builders over the guest Cap'n Proto runtime (docs/schema.md).",
    `import { ${RUNTIME_NAMES.join(", ")} } from "${importPath(options.outPath, options.runtimePath)}";`,
  ];
  for (const [spec, names] of [...imports].sort(([a], [b]) => a.localeCompare(b))) {
    head.push(`import { ${[...names].sort().join(", ")} } from "${spec}";`);
  }
  const parts = [head.join("\n")];
  if (ctx.statics.length > 0) parts.push(`// Schema default values, as static data.\n${ctx.statics.join("\n")}`);
  parts.push(...bodies);
  return `${parts.join("\n\n")}\n`;
}
