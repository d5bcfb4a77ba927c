// Validation of input modules. The JavaScript engine's WebAssembly.Module
// constructor is a complete, spec-conformant validator (V8 in Node, the
// browser's engine on the web); its verdict is wrapped into a capos error.
// Feature-scope checks (what capos compiles) are made while decoding.
import { WasmCompileError } from "./errors.js";

export function validateModule(bytes: Uint8Array): void {
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/^WebAssembly\.Module\(\): /, "") : String(e);
    throw new WasmCompileError("invalid", `invalid module: ${msg}`);
  }
}
