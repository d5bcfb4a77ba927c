// Emits the AssemblyScript for one struct (or group, or method Params /
// Results struct): a namespace of its ids and sizes, an @unmanaged reader
// class and an @unmanaged builder class extending the runtime's.
import { Field, Node, Type, type Field_Slot } from "capnp-es/capnp/schema";
import { byteArrayLiteral, encodeDefaultMessage } from "./defaults.js";
import { capitalize, hex64, safeIdentifier } from "./names.js";
import type { SchemaIndex } from "./schema-index.js";
import { listElementConstant, primitiveDefault, primitiveKind } from "./types.js";

const NO_DISCRIMINANT = 0xffff;

/** Shared state while emitting one file. */
export interface FileContext {
  index: SchemaIndex;
  /** Module-level declarations (static default data) emitted before the classes. */
  statics: string[];
  /** Resolves a referenced node's name, recording a cross-file import if needed. */
  refer(id: bigint): string;
}

/** A doc comment block, or nothing. */
export function docBlock(doc: string | undefined, indent: string): string[] {
  const text = (doc ?? "").trim();
  if (text === "") return [];
  const lines = text.split("\n").map((l) => l.trimEnd().replace(/\*\//g, "*\\/"));
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)), `${indent} */`];
}

/** Fields in declaration order. */
function fieldsOf(node: Node): Field[] {
  return node.struct.fields.toArray().sort((a, b) => a.codeOrder - b.codeOrder);
}

function unsupported(owner: string, field: Field, what: string): never {
  throw new Error(
    `capnp-as: ${owner}.${field.name} is ${what}; guest bindings do not support it ` +
      "(capabilities travel as ring transfer descriptors, not inside messages; see docs/schema.md)",
  );
}

/** Statements that reset a group's fields to their defaults (used when a union selects the group). */
function clearGroupStatements(ctx: FileContext, group: Node, out: string[]): void {
  if (group.struct.discriminantCount > 0) out.push(`    this.writeU16(${group.struct.discriminantOffset * 2}, 0, 0);`);
  for (const field of fieldsOf(group)) {
    if (field._isGroup) {
      clearGroupStatements(ctx, ctx.index.node(field.group.typeId), out);
      continue;
    }
    const slot = field.slot;
    const type = slot.type;
    const prim = primitiveKind(type);
    if (prim !== undefined) {
      if (prim.bits === 1) out.push(`    this.writeBool(${slot.offset}, false, false);`);
      else out.push(`    this.write${prim.accessor}(${(slot.offset * prim.bits) / 8}, 0, 0);`);
    } else if (type.which() !== Type.VOID) {
      out.push(`    this.clearPointer(${slot.offset});`);
    }
  }
}

/**
 * Emits a pointer default as static data: the one-segment message holding it,
 * its length, and a MessageReader reserved for reading it.
 */
function emitDefaultMessage(ctx: FileContext, stem: string, bytes: Uint8Array): void {
  ctx.statics.push(`const ${stem}: usize = memory.data<u8>(${byteArrayLiteral(bytes)});`);
  ctx.statics.push(`const ${stem}_LENGTH: u32 = ${bytes.length};`);
  ctx.statics.push(
    `const ${stem}_READER: MessageReader = changetype<MessageReader>(memory.data(offsetof<MessageReader>()));`,
  );
}

/** Emits the namespace, reader and builder of struct `node`. */
export function emitStruct(ctx: FileContext, node: Node): string {
  const index = ctx.index;
  const name = index.name(node.id);
  const st = node.struct;
  if (node.isGeneric) throw new Error(`capnp-as: ${index.displayName(node.id)} is generic; guest bindings do not support generics`);
  const docs = index.docs.get(node.id);
  // Member docs are indexed by the field's position in the schema's field
  // list; emit in declaration (code) order.
  const allFields = node.struct.fields.toArray();
  const fields = [...allFields].sort((a, b) => a.codeOrder - b.codeOrder);
  const memberDoc = (f: Field): string | undefined => docs?.members[allFields.indexOf(f)];
  const discOffset = st.discriminantOffset * 2;
  const hasUnion = st.discriminantCount > 0;
  const owner = index.displayName(node.id);

  const ns: string[] = [];
  ns.push(...docBlock(docs?.doc, ""));
  ns.push(`export namespace ${name} {`);
  ns.push(`  export const TYPE_ID: u64 = ${hex64(node.id)};`);
  ns.push(`  export const DATA_WORDS: u16 = ${st.dataWordCount};`);
  ns.push(`  export const POINTER_COUNT: u16 = ${st.pointerCount};`);
  if (hasUnion) {
    ns.push("  /** Union discriminants: which() returns one of these. */");
    ns.push("  export namespace Which {");
    for (const f of fields) {
      if (f.discriminantValue !== NO_DISCRIMINANT) ns.push(`    export const ${safeIdentifier(f.name)}: u16 = ${f.discriminantValue};`);
    }
    ns.push("  }");
  }
  ns.push("}");

  const rd: string[] = [];
  const bd: string[] = [];
  rd.push(`/** Reads ${owner} in place (see StructReader). */`);
  rd.push(`@unmanaged export class ${name}Reader extends StructReader {`);
  bd.push(`/** Builds ${owner} into a MessageBuilder's buffer (see StructBuilder). */`);
  bd.push(`@unmanaged export class ${name}Builder extends StructBuilder {`);
  if (!st.isGroup) {
    bd.push("  /** Makes this struct the root of `msg`. */");
    bd.push("  makeRoot(msg: MessageBuilder): i32 {");
    bd.push(`    return msg.initRoot(${st.dataWordCount}, ${st.pointerCount}, this);`);
    bd.push("  }");
  }
  if (hasUnion) {
    rd.push(`  /** The active union member (${name}.Which). */`);
    rd.push("  which(): u16 {");
    rd.push(`    return this.readU16(${discOffset}, 0);`);
    rd.push("  }");
  }

  for (const field of fields) {
    const N = capitalize(field.name);
    const inUnion = field.discriminantValue !== NO_DISCRIMINANT;
    const selectMember = inUnion ? `    this.writeU16(${discOffset}, ${field.discriminantValue}, 0);` : null;
    const isEnum = field._isSlot && field.slot.type.which() === Type.ENUM;
    const enumNote = isEnum ? `One of ${ctx.refer(field.slot.type.enum.typeId)}.` : "";
    const doc = docBlock([(memberDoc(field) ?? "").trim(), enumNote].filter((t) => t.trim() !== "").join("\n"), "  ");
    rd.push(...doc);
    bd.push(...doc);
    if (inUnion) {
      rd.push(`  is${N}(): bool {`);
      rd.push(`    return this.readU16(${discOffset}, 0) == ${field.discriminantValue};`);
      rd.push("  }");
    }
    if (field._isGroup) {
      const group = index.node(field.group.typeId);
      const g = index.name(group.id);
      rd.push(`  get${N}(): ${g}Reader {`);
      rd.push(`    return changetype<${g}Reader>(this);`);
      rd.push("  }");
      if (inUnion) {
        bd.push(`  /** Selects ${field.name} in the union, resets its fields, and returns a view of it. */`);
        bd.push(`  init${N}(): ${g}Builder {`);
        bd.push(selectMember!);
        clearGroupStatements(ctx, group, bd);
        bd.push(`    return changetype<${g}Builder>(this);`);
        bd.push("  }");
      } else {
        bd.push(`  get${N}(): ${g}Builder {`);
        bd.push(`    return changetype<${g}Builder>(this);`);
        bd.push("  }");
      }
      continue;
    }
    emitSlot(ctx, name, owner, field, field.slot, selectMember, rd, bd);
  }
  rd.push("}");
  bd.push("}");
  return [ns.join("\n"), rd.join("\n"), bd.join("\n")].join("\n\n");
}

function emitSlot(
  ctx: FileContext, structName: string, owner: string, field: Field, slot: Field_Slot,
  selectMember: string | null, rd: string[], bd: string[],
): void {
  const N = capitalize(field.name);
  const type = slot.type;
  const ptr = slot.offset;
  const select = selectMember === null ? [] : [selectMember];
  const prim = primitiveKind(type);
  if (prim !== undefined) {
    const off = prim.bits === 1 ? slot.offset : (slot.offset * prim.bits) / 8;
    const def = primitiveDefault(type, slot.defaultValue);
    rd.push(`  get${N}(): ${prim.asType} {`);
    rd.push(`    return this.read${prim.accessor}(${off}, ${def});`);
    rd.push("  }");
    bd.push(`  set${N}(value: ${prim.asType}): void {`);
    bd.push(...select);
    bd.push(`    this.write${prim.accessor}(${off}, value, ${def});`);
    bd.push("  }");
    return;
  }
  switch (type.which()) {
    case Type.VOID:
      if (selectMember !== null) {
        bd.push(`  set${N}(): void {`);
        bd.push(selectMember);
        bd.push("  }");
      }
      return;
    case Type.TEXT:
    case Type.DATA: {
      const isText = type.which() === Type.TEXT;
      let defPtr = "0";
      let defLen = "0";
      if (slot.hadExplicitDefault) {
        const bytes = isText
          ? new TextEncoder().encode(`${slot.defaultValue.text}\0`)
          : new Uint8Array(slot.defaultValue.data.toUint8Array());
        if (bytes.length > (isText ? 1 : 0)) {
          const stem = `${structName}_${field.name}_DEFAULT`;
          ctx.statics.push(`const ${stem}: usize = memory.data<u8>(${byteArrayLiteral(bytes)});`);
          defPtr = stem;
          defLen = String(isText ? bytes.length - 1 : bytes.length);
        }
      }
      const view = isText ? "TextReader" : "DataReader";
      rd.push(`  has${N}(): bool {`);
      rd.push(`    return this.pointerIsSet(${ptr});`);
      rd.push("  }");
      rd.push(`  get${N}(out: ${view}): i32 {`);
      rd.push(`    return this.read${isText ? "Text" : "Data"}(${ptr}, out, ${defPtr}, ${defLen});`);
      rd.push("  }");
      bd.push(`  set${N}(src: usize, len: u32): i32 {`);
      bd.push(...select);
      bd.push(`    return this.write${isText ? "Text" : "Data"}(${ptr}, src, len);`);
      bd.push("  }");
      if (isText) {
        bd.push(`  set${N}String(s: string): i32 {`);
        bd.push(...select);
        bd.push(`    return this.writeTextString(${ptr}, s);`);
        bd.push("  }");
      } else {
        bd.push(`  /** Allocates ${field.name} as \`len\` zero bytes to be filled at out.ptr. */`);
        bd.push(`  init${N}(len: u32, out: ListBuilder): i32 {`);
        bd.push(...select);
        bd.push(`    return this.newData(${ptr}, len, out);`);
        bd.push("  }");
      }
      return;
    }
    case Type.STRUCT: {
      const target = ctx.index.node(type.struct.typeId);
      if (target.isGeneric) throw new Error(`capnp-as: ${owner}.${field.name} uses a generic struct; not supported`);
      const t = ctx.refer(target.id);
      const bytes = slot.hadExplicitDefault ? encodeDefaultMessage(slot.defaultValue.struct) : null;
      rd.push(`  has${N}(): bool {`);
      rd.push(`    return this.pointerIsSet(${ptr});`);
      rd.push("  }");
      rd.push(`  get${N}(out: ${t}Reader): i32 {`);
      if (bytes === null) {
        rd.push(`    return this.readStruct(${ptr}, out);`);
      } else {
        const stem = `${structName}_${field.name}_DEFAULT`;
        emitDefaultMessage(ctx, stem, bytes);
        rd.push(`    return this.readStructOrDefault(${ptr}, out, ${stem}_READER, ${stem}, ${stem}_LENGTH);`);
      }
      rd.push("  }");
      bd.push(`  init${N}(out: ${t}Builder): i32 {`);
      bd.push(...select);
      bd.push(`    return this.newStruct(${ptr}, ${t}.DATA_WORDS, ${t}.POINTER_COUNT, out);`);
      bd.push("  }");
      return;
    }
    case Type.LIST: {
      const element = type.list.elementType;
      checkListElement(ctx, owner, field, element);
      const size = listElementConstant(element);
      const bytes = slot.hadExplicitDefault ? encodeDefaultMessage(slot.defaultValue.list) : null;
      const described = describeType(ctx, type);
      rd.push(`  has${N}(): bool {`);
      rd.push(`    return this.pointerIsSet(${ptr});`);
      rd.push("  }");
      rd.push(`  /** ${described}${elementHint(ctx, element)} */`);
      rd.push(`  get${N}(out: ListReader): i32 {`);
      if (bytes === null) {
        rd.push(`    return this.readList(${ptr}, ${size}, out);`);
      } else {
        const stem = `${structName}_${field.name}_DEFAULT`;
        emitDefaultMessage(ctx, stem, bytes);
        rd.push(`    return this.readListOrDefault(${ptr}, ${size}, out, ${stem}_READER, ${stem}, ${stem}_LENGTH);`);
      }
      rd.push("  }");
      bd.push(`  /** ${described}: \`count\` elements. */`);
      bd.push(`  init${N}(count: u32, out: ListBuilder): i32 {`);
      bd.push(...select);
      if (element.which() === Type.STRUCT) {
        const t = ctx.refer(element.struct.typeId);
        bd.push(`    return this.newStructList(${ptr}, count, ${t}.DATA_WORDS, ${t}.POINTER_COUNT, out);`);
      } else {
        bd.push(`    return this.newList(${ptr}, ${size}, count, out);`);
      }
      bd.push("  }");
      return;
    }
    case Type.INTERFACE:
      unsupported(owner, field, "a capability (interface-typed field)");
    case Type.ANY_POINTER:
      unsupported(owner, field, "an AnyPointer");
    default:
      throw new Error(`capnp-as: ${owner}.${field.name} has unknown type ${type.which()}`);
  }
}

/** Rejects list element types the guest runtime cannot represent. */
function checkListElement(ctx: FileContext, owner: string, field: Field, element: Type): void {
  const which = element.which();
  if (which === Type.INTERFACE) unsupported(owner, field, "a list of capabilities");
  if (which === Type.ANY_POINTER) unsupported(owner, field, "a list of AnyPointer");
  if (which === Type.LIST) checkListElement(ctx, owner, field, element.list.elementType);
}

/** The schema spelling of a type, for doc comments. */
function describeType(ctx: FileContext, type: Type): string {
  switch (type.which()) {
    case Type.LIST: return `List(${describeType(ctx, type.list.elementType)})`;
    case Type.STRUCT: return ctx.index.displayName(type.struct.typeId);
    case Type.ENUM: return ctx.index.displayName(type.enum.typeId);
    case Type.TEXT: return "Text";
    case Type.DATA: return "Data";
    case Type.VOID: return "Void";
    default: {
      const prim = primitiveKind(type);
      return prim === undefined ? "?" : prim.asType;
    }
  }
}

/** How to read one element of a list of `element`. */
function elementHint(ctx: FileContext, element: Type): string {
  switch (element.which()) {
    case Type.STRUCT: return `: elements via ListReader.getStruct(i, ${ctx.refer(element.struct.typeId)}Reader)`;
    case Type.TEXT: return ": elements via ListReader.getText(i, TextReader)";
    case Type.DATA: return ": elements via ListReader.getData(i, DataReader)";
    case Type.LIST: return `: elements via ListReader.getList(i, ${listElementConstant(element.list.elementType)}, ListReader)`;
    case Type.VOID: return "";
    default: {
      const prim = primitiveKind(element);
      return prim === undefined ? "" : `: elements via ListReader.get${prim.accessor}(i)`;
    }
  }
}
