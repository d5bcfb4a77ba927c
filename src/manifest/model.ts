// The manifest as the compiler holds it between the JSON CUE exports and the
// Cap'n Proto SystemManifest it writes, and the error record every check
// reports: the CUE path, what was found, what was expected.

export interface Manifest {
  schemaVersion: number;
  binaries: BinaryRef[];
  initConfig: { init: Service; services: Service[] };
  kernelParams: KernelParams;
}

/** A program to embed; its bytes come from the build (see binaries.ts). */
export interface BinaryRef {
  name: string;
}

export type Lifetime = "resident" | "oneShot";

export interface Service {
  name: string;
  binary: string;
  caps: Cap[];
  exports: string[];
  lifetime: Lifetime;
}

export type CapSource =
  | { kind: "kernel"; kernel: string }
  | { kind: "service"; service: string; export: string }
  /** Omitted in the manifest: always rejected, kept so the check can name it. */
  | { kind: "omitted" };

export interface Cap {
  name: string;
  /** The schema interface the holder expects, by name ("Console"). */
  interface: string;
  /** Its type id, written to the manifest as expectedInterfaceId. */
  interfaceId: bigint;
  source: CapSource;
}

export interface KernelParams {
  motd: string;
  logLevel: string;
  timerHz: number;
  processQuotas: { capSlots: number; queuedCalls: number; framePages: number; timers: number };
}

/** One reason a manifest is rejected. */
export interface ManifestIssue {
  /** CUE path of the offending value: `initConfig.services[2].caps[0].source`. */
  path: string;
  found: string;
  expected: string;
}

export function formatIssue(issue: ManifestIssue): string {
  return `${issue.path}: found ${issue.found}; expected ${issue.expected}`;
}

/** The manifest failed validation; `issues` lists every problem found. */
export class ManifestInvalidError extends Error {
  override readonly name = "ManifestInvalidError";
  constructor(readonly issues: readonly ManifestIssue[]) {
    super(issues.map(formatIssue).join("\n"));
  }
}
