// What the manifest compiler knows about schema/capos.capnp, derived from the
// generated host bindings wherever the bindings carry it: interface names and
// type ids, enum spellings. The one hand-written table — which interface each
// kernel cap source makes — is keyed by the schema's enum so that a source
// added to the schema does not compile until it has a row here.
import * as $ from "capnp-es";
import * as schema from "../../schema/host/capos.js";

/** The SystemManifest schema version this compiler writes (schema const manifestSchemaVersion). */
export const MANIFEST_SCHEMA_VERSION = 1;

/** CapSet entries carry names of at most this many UTF-8 bytes (kernel/abi.ts CAPSET_NAME_MAX). */
export const CAP_NAME_MAX_BYTES = 32;

/** A CapSet page holds at most this many entries (kernel/abi.ts CAPSET_MAX_ENTRIES). */
export const CAPSET_MAX_ENTRIES = 85;

/** Cap ids are generation:8 | index:24, so no table can hold more slots than this. */
export const CAP_SLOTS_MAX = 1 << 24;

/** Schema enumerant names are camelCase; capnp-es spells its constants UPPER_SNAKE. */
function camelCase(upperSnake: string): string {
  return upperSnake.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function enumNames<T extends Record<string, number>>(e: T): Map<string, T[keyof T]> {
  const m = new Map<string, T[keyof T]>();
  for (const [k, v] of Object.entries(e)) m.set(camelCase(k), v as T[keyof T]);
  return m;
}

/** Every interface of the schema: name -> 64-bit type id (the interface id). */
export const INTERFACES: ReadonlyMap<string, bigint> = (() => {
  const m = new Map<string, bigint>();
  for (const value of Object.values(schema)) {
    if (typeof value === "function" && value.prototype instanceof $.Interface) {
      const meta = (value as unknown as { _capnp: { displayName: string; id: string } })._capnp;
      m.set(meta.displayName, BigInt(`0x${meta.id}`));
    }
  }
  return m;
})();

export function interfaceId(name: string): bigint {
  const id = INTERFACES.get(name);
  if (id === undefined) throw new Error(`schema has no interface ${name}`);
  return id;
}

export function hexId(id: bigint): string {
  return `0x${id.toString(16).padStart(16, "0")}`;
}

type KernelSourceKey = keyof typeof schema.KernelCapSource;

interface KernelSourceRow {
  /** The interface of the object the kernel makes. */
  interface: string;
  /**
   * Child-local objects are minted fresh for each receiving process (by the
   * kernel for init, by ProcessSpawner for services); all other kernel caps
   * reach a service as copies of init's own.
   */
  childLocal: boolean;
  /** Bound to its holder's address space: never valid in another process. */
  addressSpaceBound: boolean;
}

const KERNEL_SOURCE_ROWS: Record<KernelSourceKey, KernelSourceRow> = {
  CONSOLE: { interface: "Console", childLocal: false, addressSpaceBound: false },
  TERMINAL: { interface: "TerminalSession", childLocal: false, addressSpaceBound: false },
  BOOT_PACKAGE: { interface: "BootPackage", childLocal: false, addressSpaceBound: false },
  PROCESS_SPAWNER: { interface: "ProcessSpawner", childLocal: false, addressSpaceBound: false },
  TIMER: { interface: "Timer", childLocal: false, addressSpaceBound: false },
  VIRTUAL_MEMORY: { interface: "VirtualMemory", childLocal: true, addressSpaceBound: true },
  FRAME_ALLOCATOR: { interface: "FrameAllocator", childLocal: true, addressSpaceBound: false },
  ENDPOINT: { interface: "Endpoint", childLocal: true, addressSpaceBound: false },
  CAPABILITY_MANAGER: { interface: "CapabilityManager", childLocal: false, addressSpaceBound: false },
};

export interface KernelSource extends KernelSourceRow {
  /** The manifest spelling, the schema's enumerant name ("bootPackage"). */
  name: string;
  /** The KernelCapSource enum value. */
  value: schema.KernelCapSource;
  interfaceId: bigint;
}

/** Kernel cap sources by manifest spelling, in schema order. */
export const KERNEL_SOURCES: ReadonlyMap<string, KernelSource> = (() => {
  const m = new Map<string, KernelSource>();
  for (const [key, value] of Object.entries(schema.KernelCapSource) as [KernelSourceKey, schema.KernelCapSource][]) {
    const row = KERNEL_SOURCE_ROWS[key];
    m.set(camelCase(key), { ...row, name: camelCase(key), value, interfaceId: interfaceId(row.interface) });
  }
  return m;
})();

/** ServiceLifetime spellings -> enum values ("resident", "oneShot"). */
export const LIFETIMES = enumNames(schema.ServiceLifetime);

/** LogLevel spellings -> enum values ("quiet", "info", "debug", "trace"). */
export const LOG_LEVELS = enumNames(schema.LogLevel);

/** Schema defaults of KernelParams and ResourceQuotas, applied when a manifest omits a field. */
export const KERNEL_PARAM_DEFAULTS = {
  motd: "",
  logLevel: "info",
  timerHz: 100,
  processQuotas: { capSlots: 256, queuedCalls: 32, framePages: 4096, timers: 16 },
} as const;
