// Decodes a CodeGeneratorRequest (with capnp-es, the host Cap'n Proto
// library) and indexes its nodes: which file each belongs to, the flat
// AssemblyScript name each gets, and the doc comments capnp passed along.
import { Message } from "capnp-es";
import { CodeGeneratorRequest, Node, type Field } from "capnp-es/capnp/schema";
import { capitalize } from "./names.js";

export interface NodeDocs {
  doc: string;
  /** Doc comments of a struct's fields or an enum's enumerants, by index. */
  members: string[];
}

export class SchemaIndex {
  readonly request: CodeGeneratorRequest;
  readonly nodes = new Map<bigint, Node>();
  /** Flat AssemblyScript base name of every named node (struct, group, enum, interface, const). */
  readonly names = new Map<bigint, string>();
  /** The file node each node is declared in. */
  readonly fileOf = new Map<bigint, bigint>();
  readonly docs = new Map<bigint, NodeDocs>();

  constructor(requestBytes: Uint8Array) {
    // capnp writes the request unpacked; copy so capnp-es owns its buffer.
    this.request = new Message(requestBytes, false).getRoot(CodeGeneratorRequest);
    for (const node of this.request.nodes) this.nodes.set(node.id, node);
    for (const info of this.request.sourceInfo) {
      this.docs.set(info.id, { doc: info.docComment, members: info.members.map((m) => m.docComment) });
    }
    for (const node of this.nodes.values()) {
      if (node.which() === Node.FILE) this.nameNested(node, "", node.id);
    }
  }

  node(id: bigint): Node {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`capnp-as: schema node ${id.toString(16)} is missing from the request`);
    return node;
  }

  name(id: bigint): string {
    const name = this.names.get(id);
    if (name === undefined) throw new Error(`capnp-as: schema node ${this.node(id).displayName} has no generated name`);
    return name;
  }

  /** The schema's own name for a node ("capos.capnp:Console.write$Params" → "Console.write$Params"). */
  displayName(id: bigint): string {
    const node = this.node(id);
    return node.displayName.slice(node.displayNamePrefixLength > 0 ? node.displayName.indexOf(":") + 1 : 0);
  }

  private nameNested(parent: Node, prefix: string, fileId: bigint): void {
    for (const nested of parent.nestedNodes) {
      const child = this.nodes.get(nested.id);
      if (child === undefined) continue; // e.g. annotations of an unrequested import
      const name = prefix === "" ? nested.name : `${prefix}_${nested.name}`;
      this.assign(child, name, fileId);
    }
  }

  private assign(node: Node, name: string, fileId: bigint): void {
    this.names.set(node.id, name);
    this.fileOf.set(node.id, fileId);
    this.nameNested(node, name, fileId);
    if (node.which() === Node.STRUCT) this.nameGroups(node.struct.fields.toArray(), name, fileId);
    if (node.which() === Node.INTERFACE) {
      for (const method of node.interface.methods) {
        // Parameter and result structs written inline in the method have no
        // scope of their own; name them after the method.
        const stem = `${name}_${capitalize(method.name)}`;
        this.nameImplicit(method.paramStructType, `${stem}Params`, fileId);
        this.nameImplicit(method.resultStructType, `${stem}Results`, fileId);
      }
    }
  }

  private nameImplicit(id: bigint, name: string, fileId: bigint): void {
    const node = this.nodes.get(id);
    if (node !== undefined && node.scopeId === 0n && !this.names.has(id)) this.assign(node, name, fileId);
  }

  private nameGroups(fields: Field[], structName: string, fileId: bigint): void {
    for (const field of fields) {
      if (!field._isGroup) continue;
      const group = this.node(field.group.typeId);
      this.assign(group, `${structName}_${capitalize(field.name)}`, fileId);
    }
  }
}
