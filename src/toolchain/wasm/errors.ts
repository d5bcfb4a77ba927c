// Errors the wasm toolchain reports to its users. Each names what was wrong in
// terms of the input (the module, the function, the byte offset), never the
// compiler's internals.

export type WasmErrorKind = "malformed" | "invalid" | "unsupported";

/** A module the compiler refuses: it does not decode, does not validate, or uses a feature outside capos's scope. */
export class WasmCompileError extends Error {
  constructor(readonly kind: WasmErrorKind, message: string) {
    super(message);
    this.name = "WasmCompileError";
  }
}

/** The wasm byte offset as browsers print it in stack traces. */
export function hexOffset(offset: number): string {
  return `0x${offset.toString(16)}`;
}
