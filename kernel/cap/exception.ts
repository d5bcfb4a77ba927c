// CapException payloads: the application-level failure a kernel object returns
// (schema/capos.capnp), with a short message composed here without a heap. It only
// formats bytes into the caller's buffer; the ring decides what reaches userspace.
import { MessageBuilder, OK } from "../../schema/as/runtime/index";
import { CapExceptionBuilder } from "../../schema/as/capos";

const MESSAGE_MAX: u32 = 120;
const message: usize = memory.data(<i32>MESSAGE_MAX, 8);
let messageLength: u32 = 0;
const builder = changetype<MessageBuilder>(memory.data(<i32>offsetof<MessageBuilder>(), 8));
const root = changetype<CapExceptionBuilder>(memory.data(<i32>offsetof<CapExceptionBuilder>(), 8));

/** Starts a new exception message. */
export function exceptionText(s: string): void {
  messageLength = 0;
  exceptionAppend(s);
}

/** Appends ASCII text (truncated at MESSAGE_MAX bytes). */
export function exceptionAppend(s: string): void {
  const n = s.length;
  for (let i = 0; i < n && messageLength < MESSAGE_MAX; i++) {
    const c = s.charCodeAt(i);
    store<u8>(message + messageLength++, <u8>(c < 0x80 ? c : 0x3F));
  }
}

/** Appends a decimal number. */
export function exceptionAppendDec(value: u64): void {
  let scale: u64 = 1;
  while (value / scale >= 10) scale *= 10;
  while (scale > 0 && messageLength < MESSAGE_MAX) {
    store<u8>(message + messageLength++, <u8>(0x30 + (value / scale) % 10));
    scale /= 10;
  }
}

/**
 * Writes CapException { type, message so far } into `capacity` bytes at `out`.
 * Returns its length in bytes, or 0 if it did not fit (the kernel's scratch always fits).
 */
export function exceptionBuild(out: usize, capacity: u32, type: u16): u32 {
  if (builder.init(out, capacity) != OK) return 0;
  if (root.makeRoot(builder) != OK) return 0;
  root.setType(type);
  if (root.setMessage(message, messageLength) != OK) return 0;
  return builder.byteLength();
}
