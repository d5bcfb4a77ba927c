// File-scope constants for the host bindings. capnp-es 0.0.16 emits
// constants declared inside structs but drops those declared at file scope
// (capos.capnp's manifestSchemaVersion and prot* bits); the schema pipeline
// appends them to the capnp-es module with this emitter.
import { Node, Type } from "capnp-es/capnp/schema";
import { encodeDefaultMessage } from "./defaults.js";
import type { SchemaIndex } from "./schema-index.js";

function literal(type: Type, node: Node): string | null {
  const v = node.const.value;
  switch (type.which()) {
    case Type.VOID: return null;
    case Type.BOOL: return v.bool ? "true" : "false";
    case Type.INT8: return String(v.int8);
    case Type.INT16: return String(v.int16);
    case Type.INT32: return String(v.int32);
    case Type.INT64: return `${v.int64}n`;
    case Type.UINT8: return String(v.uint8);
    case Type.UINT16: return String(v.uint16);
    case Type.UINT32: return String(v.uint32);
    case Type.UINT64: return `0x${v.uint64.toString(16)}n`;
    case Type.FLOAT32: return String(v.float32);
    case Type.FLOAT64: return String(v.float64);
    case Type.ENUM: return String(v.enum);
    case Type.TEXT: return JSON.stringify(v.text);
    case Type.DATA: return `new Uint8Array([${[...new Uint8Array(v.data.toUint8Array())].join(", ")}])`;
    case Type.STRUCT:
    case Type.LIST: {
      const bytes = encodeDefaultMessage(type.which() === Type.STRUCT ? v.struct : v.list);
      return bytes === null ? null : `new Uint8Array([${[...bytes].join(", ")}])`;
    }
    default: return null;
  }
}

/** TypeScript declarations of the file-scope constants of `fileId` ("" when it has none). */
export function hostConstants(index: SchemaIndex, fileId: bigint): string {
  const lines: string[] = [];
  for (const nested of index.node(fileId).nestedNodes) {
    const node = index.node(nested.id);
    if (node.which() !== Node.CONST) continue;
    const value = literal(node.const.type, node);
    if (value === null) continue;
    const doc = index.docs.get(node.id)?.doc.trim();
    if (doc) lines.push(`/** ${doc.replace(/\*\//g, "*\\/").replace(/\n/g, " ")} */`);
    const isMessage = node.const.type.which() === Type.STRUCT || node.const.type.which() === Type.LIST;
    if (isMessage) lines.push("/** A one-segment message whose root is the value. */");
    lines.push(`export const ${nested.name} = ${value};`);
  }
  if (lines.length === 0) return "";
  return `\n// File-scope constants (capnp-es omits these; added by the capos schema pipeline).\n${lines.join("\n")}\n`;
}
