// The meaning checks of a manifest, after its shape is known good. Two layers,
// following the capOS reference manual ("Manifest and Service Startup"):
// the kernel boundary (what the kernel relies on to start init) and the
// init-owned service graph (what init relies on to start services in order).
// Every check fails closed and reports path, found and expected.
import { CAP_NAME_MAX_BYTES, CAPSET_MAX_ENTRIES, KERNEL_SOURCES, MANIFEST_SCHEMA_VERSION, hexId } from "./schema-tables.js";
import type { Cap, Manifest, ManifestIssue, Service } from "./model.js";

const INIT_PATH = "initConfig.init";
const servicePath = (i: number) => `initConfig.services[${i}]`;
const utf8 = new TextEncoder();

/**
 * How init (or the kernel, for init itself) hands a cap to its holder:
 * "kernel" the kernel makes it for init; "mint" a fresh child-local kernel
 * object made at spawn; "copy" a copy of a cap init holds (its own kernel cap
 * or an earlier service's export); "clientFacet" a CALL-only facet of an
 * earlier service's endpoint, never the owner side.
 */
export type Grant = "kernel" | "mint" | "copy" | "clientFacet";

/** Checks everything the kernel and init rely on; returns every violation found. */
export function checkManifest(m: Manifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const fail = (path: string, found: string, expected: string) => issues.push({ path, found, expected });
  checkKernelBoundary(m, fail);
  checkServiceGraph(m, fail);
  return issues;
}

type Fail = (path: string, found: string, expected: string) => void;

function checkKernelBoundary(m: Manifest, fail: Fail): void {
  if (m.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    fail("schemaVersion", String(m.schemaVersion), `${MANIFEST_SCHEMA_VERSION}, the SystemManifest schema version this compiler supports`);
  }

  const firstBinary = new Map<string, number>();
  m.binaries.forEach((b, i) => {
    const first = firstBinary.get(b.name);
    if (first !== undefined) fail(`binaries[${i}].name`, `"${b.name}" again (first at binaries[${first}])`, "unique binary names");
    else firstBinary.set(b.name, i);
  });

  const init = m.initConfig.init;
  checkBinaryRef(m, init, INIT_PATH, fail);
  init.caps.forEach((cap, j) => {
    const path = `${INIT_PATH}.caps[${j}]`;
    if (cap.source.kind === "omitted") return failOmitted(path, fail);
    if (cap.source.kind === "service") {
      fail(`${path}.source`, `a service source (service "${cap.source.service}")`, "a kernel source: the kernel makes init's caps before any service exists");
      return;
    }
    checkKernelInterface(cap, cap.source.kernel, path, fail);
  });
  if (init.exports.length > 0) {
    fail(`${INIT_PATH}.exports`, `${init.exports.map((e) => `"${e}"`).join(", ")}`, "no exports: init is not a service, and services receive kernel caps through init's grants");
  }
}

function checkServiceGraph(m: Manifest, fail: Fail): void {
  const { init, services } = m.initConfig;
  const quota = m.kernelParams.processQuotas.capSlots;

  // Process names: init's and the services', all distinct.
  const firstName = new Map<string, string>([[init.name, `${INIT_PATH}.name`]]);
  services.forEach((s, i) => {
    const first = firstName.get(s.name);
    if (first !== undefined) fail(`${servicePath(i)}.name`, `"${s.name}" again (first at ${first})`, "unique service names");
    else firstName.set(s.name, `${servicePath(i)}.name`);
  });

  const processes: [Service, string][] = [[init, INIT_PATH], ...services.map((s, i): [Service, string] => [s, servicePath(i)])];
  for (const [s, path] of processes) {
    checkCapNames(s, path, fail);
    if (s.caps.length > CAPSET_MAX_ENTRIES) {
      fail(`${path}.caps`, `${s.caps.length} caps`, `at most ${CAPSET_MAX_ENTRIES}, the entries one CapSet page holds`);
    }
    if (s.caps.length > quota) {
      fail(`${path}.caps`, `${s.caps.length} caps`, `at most kernelParams.processQuotas.capSlots (${quota}) caps per process`);
    }
  }

  const initHolds = new Set(init.caps.flatMap((c) => (c.source.kind === "kernel" ? [c.source.kernel] : [])));
  if (services.length > 0) {
    for (const needed of ["processSpawner", "bootPackage"]) {
      if (!initHolds.has(needed)) {
        fail(`${INIT_PATH}.caps`, `no cap with source {kernel: "${needed}"}`, `one: init ${needed === "processSpawner" ? "spawns initConfig.services through ProcessSpawner" : "reads the service graph through BootPackage"}`);
      }
    }
  }

  const indexByName = new Map<string, number>();
  services.forEach((s, i) => {
    if (!indexByName.has(s.name)) indexByName.set(s.name, i);
  });

  services.forEach((s, i) => {
    const path = servicePath(i);
    checkBinaryRef(m, s, path, fail);
    s.caps.forEach((cap, j) => {
      const capPath = `${path}.caps[${j}]`;
      const src = cap.source;
      if (src.kind === "omitted") return failOmitted(capPath, fail);
      if (src.kind === "kernel") {
        checkKernelInterface(cap, src.kernel, capPath, fail);
        const source = KERNEL_SOURCES.get(src.kernel)!;
        if (!source.childLocal && !initHolds.has(src.kernel)) {
          const held = [...initHolds].filter((k) => !KERNEL_SOURCES.get(k)!.childLocal);
          const local = [...KERNEL_SOURCES.values()].filter((k) => k.childLocal).map((k) => k.name);
          fail(`${capPath}.source`, `{kernel: "${src.kernel}"}, which init does not hold`, `a kernel cap init holds (${held.join(", ") || "none"}) or a child-local one (${local.join(", ")}): init passes on only the authority it has`);
        }
        return;
      }
      // A service source: an export declared by an earlier service.
      const at = `${capPath}.source.service`;
      const k = indexByName.get(src.service);
      const earlier = services.slice(0, i).map((e) => `"${e.name}"`).join(", ") || "none";
      if (k === undefined) {
        const what = src.service === init.name ? `"${src.service}", which is init, not a service` : `"${src.service}", which no service is named`;
        fail(`${at}.service`, what, `an earlier service (${earlier})`);
        return;
      }
      if (k >= i) {
        fail(`${at}.service`, k === i ? `"${src.service}", this service itself` : `"${src.service}", declared later at ${servicePath(k)}`, `an earlier service (${earlier}): init starts services in order`);
        return;
      }
      const exporter = services[k]!;
      if (!exporter.exports.includes(src.export)) {
        const offered = exporter.exports.map((e) => `"${e}"`).join(", ") || "none";
        fail(`${at}.export`, `"${src.export}", which service "${exporter.name}" does not export`, `one of its exports (${offered})`);
        return;
      }
      const exported = exporter.caps.find((c) => c.name === src.export);
      if (exported === undefined) return; // reported at the exporter's exports
      if (cap.interfaceId !== exported.interfaceId) {
        const endpoint = exported.source.kind === "kernel" && exported.source.kernel === "endpoint";
        const why = endpoint
          ? `: service "${exporter.name}" export "${src.export}" is an endpoint, and importers receive a CALL-only client facet of it`
          : `, the interface of service "${exporter.name}" export "${src.export}"`;
        fail(`${capPath}.interface`, `"${cap.interface}" (${hexId(cap.interfaceId)})`, `"${exported.interface}" (${hexId(exported.interfaceId)})${why}`);
      }
    });
    checkExports(s, path, fail);
  });
}

function checkBinaryRef(m: Manifest, s: Service, path: string, fail: Fail): void {
  if (m.binaries.some((b) => b.name === s.binary)) return;
  const declared = m.binaries.map((b) => `"${b.name}"`).join(", ") || "none";
  fail(`${path}.binary`, `"${s.binary}", which binaries does not declare`, `one of the declared binaries (${declared})`);
}

function checkCapNames(s: Service, path: string, fail: Fail): void {
  const first = new Map<string, number>();
  s.caps.forEach((cap, j) => {
    const at = `${path}.caps[${j}].name`;
    const prev = first.get(cap.name);
    if (prev !== undefined) fail(at, `"${cap.name}" again (first at caps[${prev}])`, `cap names unique within service "${s.name}": they are the names its CapSet lists`);
    else first.set(cap.name, j);
    const bytes = utf8.encode(cap.name).length;
    if (bytes > CAP_NAME_MAX_BYTES) fail(at, `a name of ${bytes} bytes`, `at most ${CAP_NAME_MAX_BYTES} bytes, the size of a CapSet entry's name`);
  });
}

function checkExports(s: Service, path: string, fail: Fail): void {
  const seen = new Set<string>();
  s.exports.forEach((name, e) => {
    const at = `${path}.exports[${e}]`;
    if (seen.has(name)) {
      fail(at, `"${name}" again`, "each export named once");
      return;
    }
    seen.add(name);
    const cap = s.caps.find((c) => c.name === name);
    if (cap === undefined) {
      const own = s.caps.map((c) => `"${c.name}"`).join(", ") || "none";
      fail(at, `"${name}", which is not a cap of service "${s.name}"`, `the name of one of its own caps (${own})`);
      return;
    }
    if (cap.source.kind === "service") {
      fail(at, `"${name}", a cap service "${s.name}" imports from service "${cap.source.service}"`, "a cap the service gets from the kernel: re-exporting an imported cap is not allowed");
      return;
    }
    if (cap.source.kind === "kernel" && KERNEL_SOURCES.get(cap.source.kernel)!.addressSpaceBound) {
      fail(at, `"${name}", a ${cap.source.kernel} cap bound to service "${s.name}"'s address space`, "a cap that is valid in another process");
    }
  });
}

function checkKernelInterface(cap: Cap, kernel: string, path: string, fail: Fail): void {
  const source = KERNEL_SOURCES.get(kernel)!;
  if (cap.interfaceId === source.interfaceId) return;
  fail(`${path}.interface`, `"${cap.interface}" (${hexId(cap.interfaceId)})`, `"${source.interface}" (${hexId(source.interfaceId)}), the interface of kernel source "${kernel}"`);
}

function failOmitted(path: string, fail: Fail): void {
  fail(`${path}.source`, "no source (omitted)", `a source, {kernel: <${[...KERNEL_SOURCES.keys()].join("|")}>} or {service: {service: <name>, export: <name>}}: an omitted source fails closed`);
}

/** How each cap reaches its holder; only meaningful for a manifest checkManifest accepted. */
export function planGrants(m: Manifest): { init: Grant[]; services: Grant[][] } {
  const byName = new Map(m.initConfig.services.map((s) => [s.name, s] as const));
  return {
    init: m.initConfig.init.caps.map(() => "kernel"),
    services: m.initConfig.services.map((s) =>
      s.caps.map((cap): Grant => {
        const src = cap.source;
        if (src.kind === "kernel") return KERNEL_SOURCES.get(src.kernel)!.childLocal ? "mint" : "copy";
        if (src.kind === "omitted") throw new Error("planGrants: manifest has an omitted source");
        const exported = byName.get(src.service)?.caps.find((c) => c.name === src.export);
        return exported?.source.kind === "kernel" && exported.source.kernel === "endpoint" ? "clientFacet" : "copy";
      }),
    ),
  };
}
