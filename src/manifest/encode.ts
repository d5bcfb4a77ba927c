// Writes a checked Manifest, with its programs' bytes, as a Cap'n Proto
// SystemManifest message (standard framing, unpacked, one segment): the boot
// package the kernel receives as its single boot module.
import * as $ from "capnp-es";
import * as schema from "../../schema/host/capos.js";
import type { Cap, Manifest, Service } from "./model.js";
import { KERNEL_SOURCES, LIFETIMES, LOG_LEVELS } from "./schema-tables.js";

export function encodeManifest(m: Manifest, programs: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const message = new $.Message();
  const root = message.initRoot(schema.SystemManifest);
  root.schemaVersion = m.schemaVersion;

  const blobs = root._initBinaries(m.binaries.length);
  m.binaries.forEach((b, i) => {
    const bytes = programs.get(b.name);
    if (bytes === undefined) throw new Error(`encodeManifest: no program bytes for binary '${b.name}'`);
    const blob = blobs.get(i);
    blob.name = b.name;
    blob._initData(bytes.length).copyBuffer(bytes);
  });

  const initConfig = root._initInitConfig();
  writeService(initConfig._initInit(), m.initConfig.init);
  const services = initConfig._initServices(m.initConfig.services.length);
  m.initConfig.services.forEach((s, i) => writeService(services.get(i), s));

  const kp = root._initKernelParams();
  kp.motd = m.kernelParams.motd;
  kp.logLevel = LOG_LEVELS.get(m.kernelParams.logLevel)!;
  kp.timerHz = m.kernelParams.timerHz;
  const q = kp._initProcessQuotas();
  q.capSlots = m.kernelParams.processQuotas.capSlots;
  q.queuedCalls = m.kernelParams.processQuotas.queuedCalls;
  q.framePages = m.kernelParams.processQuotas.framePages;
  q.timers = m.kernelParams.processQuotas.timers;

  return new Uint8Array(message.toArrayBuffer());
}

function writeService(out: schema.ServiceConfig, s: Service): void {
  out.name = s.name;
  out.binary = s.binary;
  const caps = out._initCaps(s.caps.length);
  s.caps.forEach((c, i) => writeCap(caps.get(i), c));
  const exports = out._initExports(s.exports.length);
  s.exports.forEach((e, i) => exports.set(i, e));
  out.lifetime = LIFETIMES.get(s.lifetime)!;
}

function writeCap(out: schema.CapRef, c: Cap): void {
  out.name = c.name;
  out.expectedInterfaceId = c.interfaceId;
  const src = out._initSource();
  switch (c.source.kind) {
    case "kernel":
      src.kernel = KERNEL_SOURCES.get(c.source.kernel)!.value;
      break;
    case "service": {
      const svc = src._initService();
      svc.service = c.source.service;
      svc.export = c.source.export;
      break;
    }
    case "omitted":
      // checkManifest rejects this, so only manifests encoded without it
      // (hostile-input fixtures for the kernel) get here: the schema's zero
      // value "unset", which the kernel and init must refuse.
      src.unset = true;
      break;
  }
}
