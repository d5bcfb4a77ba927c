// The guest Cap'n Proto runtime: what kernel and user code import. Readers
// view received messages in place; builders write into caller buffers.
// See docs/schema.md for the API, the limits and the status codes.
export * from "./errors";
export * from "./limits";
export * from "./wire";
export { MessageReader } from "./message";
export { StructReader, ListReader } from "./reader";
export { BlobReader, TextReader, DataReader, utf8Length, utf8Encode, utf8Equals } from "./text";
export { MessageBuilder, StructBuilder, ListBuilder } from "./builder";
