// schema/capos.capnp: the interfaces follow the capOS reference manual
// (method names, ordinals and fields), interface ids are the schema type ids
// in both the host and guest bindings, the boot manifest round-trips through
// the host bindings, and the checked-in generated code is current.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import * as capnp from "capnp-es";
import { REPO_ROOT } from "./helpers/asc.js";
import * as host from "../schema/host/capos.js";
import { capnpAvailable, compileRequest, generateBindings } from "../src/toolchain/capnp-as/pipeline.js";

interface MethodSpec { params: string[]; results: string[] }

/** The interfaces of the manual's "Capability Model" (plus Timer and VirtualMemory's reserve/commit/decommit). */
const INTERFACES: Record<string, Record<string, MethodSpec>> = {
  Console: {
    write: { params: ["data"], results: [] },
    writeLine: { params: ["text"], results: [] },
  },
  TerminalSession: {
    write: { params: ["data"], results: [] },
    writeLine: { params: ["text"], results: [] },
    readLine: { params: ["request"], results: ["status", "line"] },
  },
  BootPackage: {
    manifestSize: { params: [], results: ["size"] },
    readManifest: { params: ["offset", "maxBytes"], results: ["data"] },
  },
  ProcessSpawner: {
    spawn: { params: ["name", "binaryName", "grants"], results: ["handleIndex"] },
  },
  ProcessHandle: {
    wait: { params: [], results: ["exitCode"] },
  },
  Endpoint: {},
  Timer: {
    now: { params: [], results: ["ns"] },
    sleep: { params: ["ns"], results: [] },
  },
  VirtualMemory: {
    map: { params: ["hint", "size", "prot"], results: ["addr"] },
    unmap: { params: ["addr", "size"], results: [] },
    protect: { params: ["addr", "size", "prot"], results: [] },
    reserve: { params: ["hint", "size"], results: ["addr"] },
    commit: { params: ["addr", "size", "prot"], results: [] },
    decommit: { params: ["addr", "size"], results: [] },
  },
  FrameAllocator: {
    allocFrame: { params: [], results: ["handleIndex"] },
    allocContiguous: { params: ["count"], results: ["handleIndex"] },
  },
  MemoryObject: {
    info: { params: [], results: ["pageCount", "sizeBytes"] },
    map: { params: ["hint", "offset", "size", "prot"], results: ["addr"] },
    unmap: { params: ["addr", "size"], results: [] },
    protect: { params: ["addr", "size", "prot"], results: [] },
  },
  CapabilityManager: {
    list: { params: [], results: ["capabilities"] },
    revoke: { params: ["capId"], results: [] },
  },
};

interface HostMethod { methodId: number; methodName: string; ParamsClass: { prototype: object }; ResultsClass: { prototype: object } }
interface HostInterface { _capnp: { id: string }; Client: { interfaceId: bigint; methods: HostMethod[] } }

/** Field names of a capnp-es struct class, from its generated getters, in declaration order. */
function fieldNames(cls: { prototype: object }): string[] {
  return Object.entries(Object.getOwnPropertyDescriptors(cls.prototype))
    .filter(([name, d]) => d.get !== undefined && !name.startsWith("_"))
    .map(([name]) => name);
}

/** INTERFACE_ID constants of the guest bindings, by interface name. */
function guestInterfaceIds(): Map<string, bigint> {
  const text = readFileSync(join(REPO_ROOT, "schema/as/capos.ts"), "utf8");
  const ids = new Map<string, bigint>();
  for (const m of text.matchAll(/export namespace (\w+) \{\n(?: .*\n)*? {2}export const INTERFACE_ID: u64 = (0x[0-9a-f]+);/g)) {
    ids.set(m[1]!, BigInt(m[2]!));
  }
  return ids;
}

describe("schema/capos.capnp follows the reference manual", () => {
  const hostExports = host as unknown as Record<string, HostInterface>;

  for (const [name, methods] of Object.entries(INTERFACES)) {
    it(`${name} has the manual's methods, ordinals and fields`, () => {
      const iface = hostExports[name];
      expect(iface, `interface ${name}`).toBeDefined();
      const actual = iface!.Client.methods.map((m) => ({
        id: m.methodId,
        name: m.methodName,
        params: fieldNames(m.ParamsClass),
        results: fieldNames(m.ResultsClass),
      }));
      const expected = Object.entries(methods).map(([mName, spec], id) => ({ id, name: mName, ...spec }));
      expect(actual).toEqual(expected);
    });
  }

  it("interface ids are the schema type ids, identical in host and guest bindings, and unique", () => {
    const guest = guestInterfaceIds();
    const seen = new Set<bigint>();
    for (const name of Object.keys(INTERFACES)) {
      const iface = hostExports[name]!;
      const id = BigInt(`0x${iface._capnp.id}`);
      expect(iface.Client.interfaceId).toBe(id);
      expect(guest.get(name), `guest INTERFACE_ID of ${name}`).toBe(id);
      expect(id >> 63n).toBe(1n); // capnp ids always have the top bit set
      seen.add(id);
    }
    expect(seen.size).toBe(Object.keys(INTERFACES).length);
  });

  it("CapException carries the four RPC exception kinds and a message", () => {
    expect(host.ExceptionType).toEqual({ FAILED: 0, OVERLOADED: 1, DISCONNECTED: 2, UNIMPLEMENTED: 3 });
    const message = new capnp.Message();
    const e = message.initRoot(host.CapException);
    e.type = host.ExceptionType.OVERLOADED;
    e.message = "cap slots exhausted";
    const back = new capnp.Message(message.toArrayBuffer(), false).getRoot(host.CapException);
    expect([back.type, back.message]).toEqual([host.ExceptionType.OVERLOADED, "cap slots exhausted"]);
  });

  it("manifest cap sources and spawn grants fail closed when left unset", () => {
    const message = new capnp.Message();
    const ref = message.initRoot(host.CapRef);
    expect(ref.source.which()).toBe(host.CapRef_Source_Which.UNSET);
    const grant = new capnp.Message().initRoot(host.CapGrant);
    expect(grant.source.which()).toBe(host.CapGrant_Source_Which.UNSET);
  });

  it("a SystemManifest round-trips through the host bindings", () => {
    const message = new capnp.Message();
    const m = message.initRoot(host.SystemManifest);
    m.schemaVersion = host.manifestSchemaVersion;
    const blob = m._initBinaries(1).get(0);
    blob.name = "init";
    blob._initData(3).copyBuffer(new Uint8Array([0x7f, 0x45, 0x4c]));
    const init = m._initInitConfig()._initInit();
    init.name = "init";
    init.binary = "init";
    const caps = init._initCaps(2);
    caps.get(0).name = "console";
    caps.get(0).expectedInterfaceId = host.Console$Client.interfaceId;
    caps.get(0).source.kernel = host.KernelCapSource.CONSOLE;
    caps.get(1).name = "client";
    const svc = caps.get(1).source._initService();
    svc.service = "endpoint-server";
    svc.export = "client";
    m._initKernelParams().motd = "hello";
    const back = new capnp.Message(message.toArrayBuffer(), false).getRoot(host.SystemManifest);
    expect(back.schemaVersion).toBe(1);
    expect(back.binaries.get(0).name).toBe("init");
    expect([...back.binaries.get(0).data.toUint8Array()]).toEqual([0x7f, 0x45, 0x4c]);
    const c = back.initConfig.init.caps;
    expect([c.get(0).name, c.get(0).expectedInterfaceId, c.get(0).source.kernel]).toEqual([
      "console", 0xed5c917bdb41bec4n, host.KernelCapSource.CONSOLE,
    ]);
    expect([c.get(1).source.service.service, c.get(1).source.service.export]).toEqual(["endpoint-server", "client"]);
    expect([back.kernelParams.motd, back.kernelParams.logLevel, back.kernelParams.timerHz]).toEqual(["hello", host.LogLevel.INFO, 100]);
    expect(back.kernelParams.processQuotas.capSlots).toBe(256);
  });

  it("exports the file-scope constants (which capnp-es itself omits)", () => {
    expect(host.manifestSchemaVersion).toBe(1);
    expect([host.protNone, host.protRead, host.protWrite, host.protExec]).toEqual([0, 1, 2, 4]);
  });

  it("avoids Int32 defaults that capnp-es 0.0.16 misreads (outside 0..65535)", () => {
    // capnp-es XORs an Int32 field with only the low 16 bits of its default.
    const text = readFileSync(join(REPO_ROOT, "schema/host/capos.ts"), "utf8");
    for (const m of text.matchAll(/getInt32Mask\((-?\d+)\)/g)) {
      const v = Number(m[1]);
      expect(v >= 0 && v <= 0xffff, `Int32 default ${v}`).toBe(true);
    }
  });
});

/** Every checked-in generated file (schema/host/**, schema/as/*.ts, schema/as/test/*.ts). */
function checkedInGenerated(): string[] {
  const out: string[] = [];
  const walk = (dir: string, deep: boolean): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (deep) walk(full, deep);
      } else if (name.endsWith(".ts")) out.push(relative(REPO_ROOT, full));
    }
  };
  walk(join(REPO_ROOT, "schema/host"), true);
  walk(join(REPO_ROOT, "schema/as"), false);
  walk(join(REPO_ROOT, "schema/as/test"), false);
  return out.sort();
}

const HAVE_CAPNP = capnpAvailable();
if (!HAVE_CAPNP) {
  // eslint-disable-next-line no-console
  console.warn("NOTICE: `capnp` is not installed (apt-get install capnproto); skipping the check that generated bindings are current.");
}

describe.skipIf(!HAVE_CAPNP)("checked-in generated bindings", () => {
  it("are what `npm run schema` produces from schema/*.capnp now", async () => {
    const generated = await generateBindings(compileRequest(REPO_ROOT), REPO_ROOT);
    expect([...generated.keys()].sort()).toEqual(checkedInGenerated());
    for (const [path, contents] of generated) {
      expect(readFileSync(join(REPO_ROOT, path), "utf8") === contents, `${path} is stale: run npm run schema`).toBe(true);
    }
  });
});
