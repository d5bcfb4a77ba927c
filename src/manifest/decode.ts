// Reads a SystemManifest message back into plain data: what the kernel and
// init will see. Used to check the compiler's output (round-trip tests) and
// to inspect a manifest.bin.
import * as $ from "capnp-es";
import * as schema from "../../schema/host/capos.js";
import { KERNEL_SOURCES, LIFETIMES, LOG_LEVELS } from "./schema-tables.js";

export interface DecodedCap {
  name: string;
  expectedInterfaceId: bigint;
  source: { kernel: string } | { service: { service: string; export: string } } | { unset: true };
}

export interface DecodedService {
  name: string;
  binary: string;
  caps: DecodedCap[];
  exports: string[];
  lifetime: string;
}

export interface DecodedManifest {
  schemaVersion: number;
  binaries: { name: string; data: Uint8Array }[];
  initConfig: { init: DecodedService; services: DecodedService[] };
  kernelParams: {
    motd: string;
    logLevel: string;
    timerHz: number;
    processQuotas: { capSlots: number; queuedCalls: number; framePages: number; timers: number };
  };
}

function reverse<V>(m: ReadonlyMap<string, V>): Map<V, string> {
  return new Map([...m].map(([k, v]) => [v, k]));
}
const kernelNames = new Map([...KERNEL_SOURCES.values()].map((k) => [k.value as number, k.name]));
const lifetimeNames = reverse(LIFETIMES);
const logLevelNames = reverse(LOG_LEVELS);

/** An enum value the schema does not define is shown as `unknown(n)`. */
function named(names: ReadonlyMap<number, string>, value: number): string {
  return names.get(value) ?? `unknown(${value})`;
}

export function decodeManifest(bytes: Uint8Array): DecodedManifest {
  const root = new $.Message(bytes, false).getRoot(schema.SystemManifest);
  const kp = root.kernelParams;
  const q = kp.processQuotas;
  return {
    schemaVersion: root.schemaVersion,
    binaries: root.binaries.map((b) => ({ name: b.name, data: new Uint8Array(b.data.toArrayBuffer()) })),
    initConfig: {
      init: readService(root.initConfig.init),
      services: root.initConfig.services.map(readService),
    },
    kernelParams: {
      motd: kp.motd,
      logLevel: named(logLevelNames as Map<number, string>, kp.logLevel),
      timerHz: kp.timerHz,
      processQuotas: { capSlots: q.capSlots, queuedCalls: q.queuedCalls, framePages: q.framePages, timers: q.timers },
    },
  };
}

function readService(s: schema.ServiceConfig): DecodedService {
  return {
    name: s.name,
    binary: s.binary,
    caps: s.caps.map(readCap),
    exports: s.exports.map((e) => e),
    lifetime: named(lifetimeNames as Map<number, string>, s.lifetime),
  };
}

function readCap(c: schema.CapRef): DecodedCap {
  const src = c.source;
  let source: DecodedCap["source"];
  switch (src.which()) {
    case schema.CapRef_Source_Which.KERNEL:
      source = { kernel: named(kernelNames, src.kernel) };
      break;
    case schema.CapRef_Source_Which.SERVICE:
      source = { service: { service: src.service.service, export: src.service.export } };
      break;
    default:
      source = { unset: true };
  }
  return { name: c.name, expectedInterfaceId: c.expectedInterfaceId, source };
}
