// Reads the JSON that CUE exports into a typed Manifest, checking each value's
// type, range and spelling and rejecting fields the schema does not have.
// Absent optional fields take the schema's defaults. Meaning (names resolve,
// interfaces match, the graph is well formed) is checked later, in rules.ts.
import { INTERFACES, KERNEL_PARAM_DEFAULTS, KERNEL_SOURCES, LIFETIMES, LOG_LEVELS } from "./schema-tables.js";
import type { BinaryRef, Cap, CapSource, KernelParams, Lifetime, Manifest, ManifestIssue, Service } from "./model.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Binary names become file names in the build directory, so they are plain words. */
const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TIMER_HZ_MAX = 10_000;
const UINT32_MAX = 0xffff_ffff;

/** Converts CUE's JSON into a Manifest, or returns the issues that prevent it. */
export function readManifestJson(json: unknown): { manifest: Manifest; issues: [] } | { manifest: null; issues: ManifestIssue[] } {
  const r = new Reader();
  const manifest = r.manifest(json as Json);
  return r.issues.length === 0 && manifest !== null ? { manifest, issues: [] } : { manifest: null, issues: r.issues };
}

/** A short description of a JSON value for "found …". */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list of ${value.length}`;
  const keys = Object.keys(value as object);
  return keys.length === 0 ? "an empty struct" : `a struct with ${keys.join(", ")}`;
}

/** `a.b` / `a[3]` / `a."odd-name"`, as CUE prints paths. */
export function fieldPath(parent: string, field: string): string {
  const label = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(field) ? field : JSON.stringify(field);
  return parent === "" ? label : `${parent}.${label}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

function quoteList(names: Iterable<string>): string {
  return [...names].map((n) => JSON.stringify(n)).join(", ");
}

class Reader {
  readonly issues: ManifestIssue[] = [];

  private fail(path: string, found: string, expected: string): null {
    this.issues.push({ path, found, expected });
    return null;
  }

  manifest(v: Json): Manifest | null {
    const o = this.struct(v, "", ["schemaVersion", "binaries", "initConfig"], ["kernelParams"]);
    if (o === null) return null;
    const schemaVersion = this.integer(o.schemaVersion, "schemaVersion", 0, UINT32_MAX);
    const binaries = this.list(o.binaries, "binaries", (e, p) => this.binary(e, p));
    const initConfig = this.initConfig(o.initConfig as Json, "initConfig");
    const kernelParams = this.kernelParams(o.kernelParams, "kernelParams");
    if (schemaVersion === null || binaries === null || initConfig === null || kernelParams === null) return null;
    return { schemaVersion, binaries, initConfig, kernelParams };
  }

  private binary(v: Json, path: string): BinaryRef | null {
    const o = this.struct(v, path, ["name"], []);
    if (o === null) return null;
    const name = this.string(o.name, fieldPath(path, "name"));
    if (name === null) return null;
    if (!BINARY_NAME.test(name)) {
      return this.fail(fieldPath(path, "name"), describe(name), "a file-name-safe program name (letters, digits, '.', '_', '-'; at most 64; not starting with '.', '_' or '-')");
    }
    return { name };
  }

  private initConfig(v: Json, path: string): Manifest["initConfig"] | null {
    const o = this.struct(v, path, ["init"], ["services"]);
    if (o === null) return null;
    const init = this.service(o.init as Json, fieldPath(path, "init"));
    const services = o.services === undefined ? [] : this.list(o.services, fieldPath(path, "services"), (e, p) => this.service(e, p));
    if (init === null || services === null) return null;
    return { init, services };
  }

  private service(v: Json, path: string): Service | null {
    const o = this.struct(v, path, ["name", "binary"], ["caps", "exports", "lifetime"]);
    if (o === null) return null;
    const name = this.string(o.name, fieldPath(path, "name"));
    const binary = this.string(o.binary, fieldPath(path, "binary"));
    const caps = o.caps === undefined ? [] : this.list(o.caps, fieldPath(path, "caps"), (e, p) => this.cap(e, p));
    const exports = o.exports === undefined ? [] : this.list(o.exports, fieldPath(path, "exports"), (e, p) => this.string(e, p));
    const lifetime = o.lifetime === undefined ? "resident" : this.oneOf(o.lifetime, fieldPath(path, "lifetime"), LIFETIMES.keys(), "a service lifetime");
    if (name === null || binary === null || caps === null || exports === null || lifetime === null) return null;
    return { name, binary, caps, exports, lifetime: lifetime as Lifetime };
  }

  private cap(v: Json, path: string): Cap | null {
    const o = this.struct(v, path, ["name", "interface"], ["source"]);
    if (o === null) return null;
    const name = this.string(o.name, fieldPath(path, "name"));
    const iface = this.oneOf(o.interface, fieldPath(path, "interface"), INTERFACES.keys(), "a schema interface");
    const source = o.source === undefined ? { kind: "omitted" as const } : this.source(o.source, fieldPath(path, "source"));
    if (name === null || iface === null || source === null) return null;
    return { name, interface: iface, interfaceId: INTERFACES.get(iface)!, source };
  }

  private source(v: Json, path: string): CapSource | null {
    const expected = `exactly one of {kernel: <${[...KERNEL_SOURCES.keys()].join("|")}>} or {service: {service: <name>, export: <name>}}`;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.fail(path, describe(v), expected);
    const keys = Object.keys(v);
    if (keys.length !== 1 || (keys[0] !== "kernel" && keys[0] !== "service")) return this.fail(path, describe(v), expected);
    if (keys[0] === "kernel") {
      const kernel = this.oneOf(v.kernel as Json, fieldPath(path, "kernel"), KERNEL_SOURCES.keys(), "a kernel cap source");
      return kernel === null ? null : { kind: "kernel", kernel };
    }
    const sp = fieldPath(path, "service");
    const s = this.struct(v.service as Json, sp, ["service", "export"], []);
    if (s === null) return null;
    const service = this.string(s.service, fieldPath(sp, "service"));
    const exp = this.string(s.export, fieldPath(sp, "export"));
    if (service === null || exp === null) return null;
    return { kind: "service", service, export: exp };
  }

  private kernelParams(v: Json | undefined, path: string): KernelParams | null {
    const d = KERNEL_PARAM_DEFAULTS;
    if (v === undefined) return { ...d, processQuotas: { ...d.processQuotas } };
    const o = this.struct(v, path, [], ["motd", "logLevel", "timerHz", "processQuotas"]);
    if (o === null) return null;
    const motd = o.motd === undefined ? d.motd : this.string(o.motd, fieldPath(path, "motd"), true);
    const logLevel = o.logLevel === undefined ? d.logLevel : this.oneOf(o.logLevel, fieldPath(path, "logLevel"), LOG_LEVELS.keys(), "a log level");
    const timerHz = o.timerHz === undefined ? d.timerHz : this.integer(o.timerHz, fieldPath(path, "timerHz"), 1, TIMER_HZ_MAX);
    const quotas = this.quotas(o.processQuotas, fieldPath(path, "processQuotas"));
    if (motd === null || logLevel === null || timerHz === null || quotas === null) return null;
    return { motd, logLevel, timerHz, processQuotas: quotas };
  }

  private quotas(v: Json | undefined, path: string): KernelParams["processQuotas"] | null {
    const d = KERNEL_PARAM_DEFAULTS.processQuotas;
    if (v === undefined) return { ...d };
    const o = this.struct(v, path, [], ["capSlots", "queuedCalls", "framePages", "timers"]);
    if (o === null) return null;
    const field = (name: keyof typeof d, min: number, max: number) =>
      o[name] === undefined ? d[name] : this.integer(o[name], fieldPath(path, name), min, max);
    const capSlots = field("capSlots", 1, 1 << 24);
    const queuedCalls = field("queuedCalls", 0, UINT32_MAX);
    const framePages = field("framePages", 0, UINT32_MAX);
    const timers = field("timers", 0, UINT32_MAX);
    if (capSlots === null || queuedCalls === null || framePages === null || timers === null) return null;
    return { capSlots, queuedCalls, framePages, timers };
  }

  // --- primitive readers ----------------------------------------------------

  /** A struct with all of `required` and nothing outside `required` + `optional`. */
  private struct(v: Json | undefined, path: string, required: string[], optional: string[]): JsonObject | null {
    if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v)) {
      return this.fail(path === "" ? "(root)" : path, describe(v), required.length > 0 ? `a struct with ${required.join(", ")}` : "a struct");
    }
    const allowed = new Set([...required, ...optional]);
    let ok = true;
    for (const key of Object.keys(v)) {
      if (!allowed.has(key)) {
        this.fail(fieldPath(path, key), "a field the schema does not have", `one of the fields ${[...allowed].join(", ")}`);
        ok = false;
      }
    }
    for (const key of required) {
      if (!(key in v)) {
        this.fail(fieldPath(path, key), "nothing (the field is missing)", requiredMeaning(key));
        ok = false;
      }
    }
    return ok ? v : null;
  }

  private list<T>(v: Json | undefined, path: string, each: (e: Json, p: string) => T | null): T[] | null {
    if (!Array.isArray(v)) return this.fail(path, describe(v), "a list");
    const out: T[] = [];
    let ok = true;
    v.forEach((e, i) => {
      const r = each(e, indexPath(path, i));
      if (r === null) ok = false;
      else out.push(r);
    });
    return ok ? out : null;
  }

  private string(v: Json | undefined, path: string, allowEmpty = false): string | null {
    if (typeof v !== "string") return this.fail(path, describe(v), allowEmpty ? "a string" : "a non-empty string");
    if (!allowEmpty && v === "") return this.fail(path, "an empty string", "a non-empty string");
    return v;
  }

  private integer(v: Json | undefined, path: string, min: number, max: number): number | null {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return this.fail(path, describe(v), `an integer in ${min}..${max}`);
    }
    return v;
  }

  private oneOf(v: Json | undefined, path: string, names: Iterable<string>, what: string): string | null {
    const all = [...names];
    if (typeof v !== "string" || !all.includes(v)) return this.fail(path, describe(v), `${what}: one of ${quoteList(all)}`);
    return v;
  }
}

const REQUIRED_MEANING: Record<string, string> = {
  schemaVersion: "the SystemManifest schema version",
  binaries: "the list of programs to embed, [{name: <program>}, ...]",
  initConfig: "{init: <the process the kernel starts>, services: [...]}",
  init: "the process the kernel starts: {name, binary, caps}",
  name: "a name",
  binary: "the name of the program it runs (a binaries entry)",
  interface: "the schema interface the holder expects (it becomes expectedInterfaceId)",
  service: "the name of the exporting service",
  export: "the name of the export",
};

function requiredMeaning(key: string): string {
  return REQUIRED_MEANING[key] ?? `a value for ${key}`;
}
