// Pointer-typed schema values (struct and list defaults, struct/list
// constants) re-encoded as standalone one-segment messages, which generated
// code embeds as static data and reads with the ordinary runtime reader.
import { Message, utils, type Pointer } from "capnp-es";

/** The pointer's target as a one-segment message whose root is a copy of it; null when the pointer is null. */
export function encodeDefaultMessage(pointer: Pointer): Uint8Array | null {
  if (utils.isNull(pointer)) return null;
  const message = new Message(undefined, false, true);
  message.setRoot(pointer);
  return new Uint8Array(message.toArrayBuffer());
}

/** Bytes as the argument of AssemblyScript's memory.data<u8>([...]). */
export function byteArrayLiteral(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (const b of bytes) parts.push(`0x${b.toString(16).padStart(2, "0")}`);
  // Sixteen bytes a line keeps large defaults readable in diffs.
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 16) lines.push(parts.slice(i, i + 16).join(", "));
  return lines.length <= 1 ? `[${lines.join("")}]` : `[\n  ${lines.join(",\n  ")},\n]`;
}
