// The manifest compiler's pipeline, free of host APIs so a browser can run it
// given a file map: evaluate the CUE package -> read its JSON -> check the
// kernel boundary and service graph -> resolve the programs -> encode the
// SystemManifest. `capos manifest` and `capos boot` both come through here.
import { resolveBinaries, type BinarySource } from "./binaries.js";
import { lendDefaults, type DefaultsFile } from "./cue/defaults-graft.js";
import { evaluateCue, type CueEvaluation, type CueTag } from "./cue/evaluate.js";
import { encodeManifest } from "./encode.js";
import { ManifestInvalidError, type Manifest } from "./model.js";
import { dirname } from "./posix-path.js";
import { checkManifest, planGrants, type Grant } from "./rules.js";
import { hexId } from "./schema-tables.js";
import { readManifestJson } from "./shape.js";
import type { SourceTree } from "./source-tree.js";

export interface ManifestInput {
  /** The compiled cue.wasm. */
  cueModule: WebAssembly.Module;
  tree: SourceTree;
  /** Absolute path of the manifest file inside `tree`. */
  file: string;
  /** `--inject` tags: CUE rejects any the manifest package does not declare. */
  tags?: readonly CueTag[];
  /** Environment tags (CAPOS_CUE_TAGS), applied where the package declares them. */
  ambientTags?: readonly CueTag[];
  /** The capos defaults package, lent to manifests outside any CUE module. */
  defaults?: readonly DefaultsFile[];
}

export interface EvaluatedManifest {
  manifest: Manifest;
  grants: { init: Grant[]; services: Grant[][] };
  cue: CueEvaluation;
  /** Milliseconds spent in the CUE evaluator. */
  cueMs: number;
}

export interface CompiledManifest extends EvaluatedManifest {
  /** The SystemManifest message: the boot package. */
  bytes: Uint8Array;
  /** Embedded programs: name -> size and origin. */
  programs: { name: string; size: number; origin: string }[];
}

/** Evaluates and checks a manifest without its programs. Throws CueEvaluationError or ManifestInvalidError. */
export async function evaluateManifest(input: ManifestInput): Promise<EvaluatedManifest> {
  const tree = input.defaults === undefined ? input.tree : lendDefaults(input.tree, dirname(input.file), input.defaults);
  const started = performance.now();
  const cue = await evaluateCue({ cueModule: input.cueModule, tree, file: input.file, tags: input.tags, ambientTags: input.ambientTags });
  const cueMs = performance.now() - started;
  const read = readManifestJson(cue.value);
  if (read.manifest === null) throw new ManifestInvalidError(read.issues);
  const issues = checkManifest(read.manifest);
  if (issues.length > 0) throw new ManifestInvalidError(issues);
  return { manifest: read.manifest, grants: planGrants(read.manifest), cue, cueMs };
}

/** Evaluates, checks, resolves the programs and encodes the boot package. */
export async function compileManifest(input: ManifestInput, binaries: BinarySource): Promise<CompiledManifest> {
  const evaluated = await evaluateManifest(input);
  const resolved = await resolveBinaries(evaluated.manifest, binaries);
  const bytes = encodeManifest(evaluated.manifest, new Map([...resolved].map(([name, r]) => [name, r.bytes])));
  const programs = [...resolved].map(([name, r]) => ({ name, size: r.bytes.length, origin: r.origin }));
  return { ...evaluated, bytes, programs };
}

/**
 * The checked manifest as JSON for people: schema defaults filled in,
 * interface ids spelled out, and how each cap reaches its holder.
 */
export function manifestToJson(e: EvaluatedManifest): unknown {
  const m = e.manifest;
  const service = (s: Manifest["initConfig"]["init"], grants: Grant[]) => ({
    name: s.name,
    binary: s.binary,
    caps: s.caps.map((c, i) => ({
      name: c.name,
      interface: c.interface,
      expectedInterfaceId: hexId(c.interfaceId),
      source: c.source.kind === "kernel" ? { kernel: c.source.kernel } : c.source.kind === "service" ? { service: { service: c.source.service, export: c.source.export } } : null,
      grant: grants[i],
    })),
    exports: s.exports,
    lifetime: s.lifetime,
  });
  return {
    schemaVersion: m.schemaVersion,
    binaries: m.binaries,
    initConfig: {
      init: service(m.initConfig.init, e.grants.init),
      services: m.initConfig.services.map((s, i) => service(s, e.grants.services[i]!)),
    },
    kernelParams: m.kernelParams,
  };
}
