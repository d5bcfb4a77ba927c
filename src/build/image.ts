// From wasm to an image: the module through capos's wasm → x86-64 compiler
// (user or kernel memory model), the target's assembly through the project
// assembler, and both through the linker's user-program or kernel image
// writer. Failures become BuildErrors naming the stage and, for assembly, the
// file:line:col.
import { compileModule, type CompiledModule } from "../toolchain/wasm/compile-module.js";
import { WasmCompileError } from "../toolchain/wasm/errors.js";
import { linkKernelImage } from "../toolchain/link/kernel-image.js";
import { LinkError } from "../toolchain/link/linker.js";
import { fromAssemblerObject, type LinkObject } from "../toolchain/link/object.js";
import { IMAGE_PREFIX } from "../toolchain/link/static-link.js";
import { linkUserImage } from "../toolchain/link/user-image.js";
import { assembleObject, AsmError, AssemblyError } from "../toolchain/x64/index.js";
import { BuildError, type BuildStage, type Diagnostic } from "./diagnostics.js";
import type { TargetSpec } from "./targets.js";

export interface AsmSource {
  /** Relative to the source root (posix). */
  path: string;
  text: string;
}

export interface BuiltImage {
  elf: Uint8Array;
  symbolMap: string;
  /** Machine code bytes the compiler produced for the module. */
  codeBytes: number;
  /** Compiling the module; assembling and linking. */
  ms: { "x86-64": number; link: number };
}

function failure(target: string, stage: BuildStage, message: string, file: string | null = null, line = 0, column = 0, lineText?: string): BuildError {
  const d: Diagnostic = { severity: "error", file, line, column, code: "", message, ...(lineText === undefined ? {} : { lineText }) };
  return new BuildError(target, stage, [d]);
}

/** The message of an error the toolchain did not expect to raise (a compiler bug), with where it happened. */
function internal(e: unknown): string {
  if (!(e instanceof Error)) return `internal error: ${String(e)}`;
  const at = e.stack?.split("\n").find((l) => l.trim().startsWith("at "))?.trim() ?? "";
  return `internal error: ${e.message}${at === "" ? "" : ` (${at})`}`;
}

function assemble(target: string, src: AsmSource): LinkObject {
  try {
    return fromAssemblerObject(src.path, assembleObject(src.text, { file: src.path }));
  } catch (e) {
    if (e instanceof AssemblyError && e.pos !== null) {
      const lineText = src.text.split("\n")[e.pos.line - 1];
      throw failure(target, "assemble", e.detail, src.path, e.pos.line, e.pos.col, lineText);
    }
    if (e instanceof AsmError) throw failure(target, "assemble", e.message, src.path);
    throw failure(target, "assemble", internal(e), src.path);
  }
}

function compile(spec: TargetSpec, wasm: Uint8Array): CompiledModule {
  try {
    return compileModule(wasm, { memoryModel: spec.kind === "kernel" ? "kernel" : "user", prefix: IMAGE_PREFIX });
  } catch (e) {
    if (e instanceof WasmCompileError) throw failure(spec.id, "x86-64", e.message);
    throw failure(spec.id, "x86-64", internal(e));
  }
}

/** Compiles `wasm` and links it with the target's assembly into its image. */
export function buildImage(spec: TargetSpec, wasm: Uint8Array, asm: readonly AsmSource[]): BuiltImage {
  const t0 = performance.now();
  const compiled = compile(spec, wasm);
  const t1 = performance.now();
  const natives = asm.map((s) => assemble(spec.id, s));
  let linked: { elf: Uint8Array; symbolMap: string };
  try {
    const common = {
      natives,
      ...(spec.link.entry === undefined ? {} : { entry: spec.link.entry }),
      ...(spec.link.stackSize === undefined ? {} : { stackSize: spec.link.stackSize }),
    };
    linked = spec.kind === "kernel" ? linkKernelImage(compiled, common) : linkUserImage(compiled, common);
  } catch (e) {
    if (e instanceof LinkError) throw failure(spec.id, "link", e.message);
    throw failure(spec.id, "link", internal(e));
  }
  const t2 = performance.now();
  return { elf: linked.elf, symbolMap: linked.symbolMap, codeBytes: compiled.stats.codeBytes, ms: { "x86-64": t1 - t0, link: t2 - t1 } };
}
