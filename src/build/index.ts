// The guest build pipeline (`capos build`): AssemblyScript sources of the
// kernel and the user programs → wasm (asc) → x86-64 → images, through a
// content-hash cache. docs/build.md describes it; this is its public surface.
export { build, selectTargets } from "./pipeline.js";
export type { BuildOptions, BuildReporter, BuildSummary, TargetOutcome, TargetStatus, WorkStage } from "./pipeline.js";
export { defaultAscOptions, listTargets, resolveTarget, targetIdOf, userProgramNames, USER_MAX_MEMORY_PAGES, USER_RT_DIR } from "./targets.js";
export type { TargetKind, TargetRef, TargetSpec, LinkSpec } from "./targets.js";
export { compileWithAsc, ascArguments } from "./asc.js";
export type { AscOptions, AscJob, AscResult, SourceInput } from "./asc.js";
export { BuildError, formatDiagnostic } from "./diagnostics.js";
export type { Diagnostic, BuildStage } from "./diagnostics.js";
export { autoReporter, plainReporter, terminalReporter } from "./progress.js";
export { createBuildHook } from "./hook.js";
export type { BuildHookOptions } from "./hook.js";
export { findSourceRoot, defaultBuildDir } from "./locate.js";
export { userEntrySource, USER_ENTRY_FILE } from "./user-entry.js";
