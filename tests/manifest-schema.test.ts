// The manifest compiler's knowledge of the schema stays true to
// schema/capos.capnp: interface ids (checked against the reference compiler
// when `capnp` is installed), the schema version, enum spellings, schema
// defaults, and the lists the CUE defaults package repeats.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as $ from "capnp-es";
import * as schema from "../schema/host/capos.js";
import {
  CAPSET_MAX_ENTRIES,
  CAP_NAME_MAX_BYTES,
  INTERFACES,
  KERNEL_PARAM_DEFAULTS,
  KERNEL_SOURCES,
  LIFETIMES,
  LOG_LEVELS,
  MANIFEST_SCHEMA_VERSION,
} from "../src/manifest/schema-tables.js";
import { MANIFESTS, REPO } from "./manifest-helpers.js";

const CAPNP_FILE = join(REPO, "schema", "capos.capnp");
const capnpText = readFileSync(CAPNP_FILE, "utf8");
const KERNEL_ABI = join(REPO, "kernel", "abi.ts");
if (!existsSync(KERNEL_ABI)) console.warn("NOTICE: kernel/abi.ts not found; skipping the CapSet layout cross-check.");

function referenceSchema(): string | null {
  try {
    return execFileSync("capnp", ["compile", "-ocapnp", CAPNP_FILE], { encoding: "utf8" });
  } catch {
    return null;
  }
}
const reference = referenceSchema();
if (reference === null) console.warn("NOTICE: the capnp tool is not installed; skipping the interface-id check against the reference compiler.");

/** The alternatives of a CUE disjunction of strings `#Name: "a" | "b" ...` in defaults.cue. */
function cueStrings(def: string): string[] {
  const text = readFileSync(join(MANIFESTS, "defaults", "defaults.cue"), "utf8");
  const m = new RegExp(`^${def}:([^]*?)\\n\\n`, "m").exec(text);
  if (m === null) throw new Error(`${def} not found in defaults.cue`);
  return [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
}

describe("manifest schema tables", () => {
  it("supports the schema's manifestSchemaVersion", () => {
    const m = /const manifestSchemaVersion :UInt32 = (\d+);/.exec(capnpText);
    expect(m).not.toBeNull();
    expect(MANIFEST_SCHEMA_VERSION).toBe(Number(m![1]));
  });

  it.skipIf(reference === null)("knows every interface with the id the reference compiler assigns", () => {
    const ids = new Map([...reference!.matchAll(/^interface (\w+) @0x([0-9a-f]+)/gm)].map((m) => [m[1]!, BigInt(`0x${m[2]}`)]));
    expect(ids.size).toBeGreaterThanOrEqual(10);
    expect(new Map(INTERFACES)).toEqual(ids);
  });

  it("maps every KernelCapSource to an interface of the schema", () => {
    const enumBody = /enum KernelCapSource \{([^}]*)\}/.exec(capnpText)![1]!;
    const names = [...enumBody.matchAll(/^\s*(\w+) @\d+;/gm)].map((m) => m[1]!);
    expect([...KERNEL_SOURCES.keys()]).toEqual(names);
    for (const k of KERNEL_SOURCES.values()) expect(INTERFACES.get(k.interface)).toBe(k.interfaceId);
    expect([...KERNEL_SOURCES.values()].filter((k) => k.childLocal).map((k) => k.name)).toEqual(["virtualMemory", "frameAllocator", "endpoint"]);
  });

  it("spells enums as the schema does", () => {
    expect([...LIFETIMES]).toEqual([
      ["resident", 0],
      ["oneShot", 1],
    ]);
    expect([...LOG_LEVELS.keys()]).toEqual(["quiet", "info", "debug", "trace"]);
  });

  it("fills omitted kernel parameters with the schema's defaults", () => {
    const kp = new $.Message().initRoot(schema.KernelParams);
    const q = kp._initProcessQuotas();
    expect({
      motd: kp.motd,
      logLevel: [...LOG_LEVELS].find(([, v]) => v === kp.logLevel)![0],
      timerHz: kp.timerHz,
      processQuotas: { capSlots: q.capSlots, queuedCalls: q.queuedCalls, framePages: q.framePages, timers: q.timers },
    }).toEqual(KERNEL_PARAM_DEFAULTS);
  });

  it.skipIf(!existsSync(KERNEL_ABI))("checks cap names and counts against the kernel's CapSet layout (kernel/abi.ts)", () => {
    const abi = readFileSync(KERNEL_ABI, "utf8");
    const constant = (name: string) => Number(new RegExp(`export const ${name}: u32 = (\\d+);`).exec(abi)?.[1]);
    expect(CAP_NAME_MAX_BYTES).toBe(constant("CAPSET_NAME_MAX"));
    expect(CAPSET_MAX_ENTRIES).toBe(constant("CAPSET_MAX_ENTRIES"));
  });

  it("keeps the CUE defaults package's lists in step with the schema", () => {
    expect(cueStrings("#Interface")).toEqual([...INTERFACES.keys()]);
    expect(cueStrings("#KernelSource")).toEqual([...KERNEL_SOURCES.keys()]);
    expect(cueStrings("#LogLevel")).toEqual([...LOG_LEVELS.keys()]);
    const text = readFileSync(join(MANIFESTS, "defaults", "defaults.cue"), "utf8");
    expect(text).toContain(`#SchemaVersion: ${MANIFEST_SCHEMA_VERSION}\n`);
  });
});
