// Guest round-trip program for the capos schema: reads a SystemManifest with
// the generated readers and writes a field-by-field copy with the generated
// builders. The host builds the input with capnp-es and decodes the copy.
import { OK, MessageReader, MessageBuilder, ListReader, ListBuilder, TextReader, DataReader } from "../../runtime/index";
import {
  SystemManifestReader, SystemManifestBuilder, NamedBlobReader, NamedBlobBuilder, InitConfigReader,
  InitConfigBuilder, ServiceConfigReader, ServiceConfigBuilder, CapRefReader, CapRefBuilder, CapRef_Source,
  ServiceCapSourceReader, ServiceCapSourceBuilder, KernelParamsReader, KernelParamsBuilder,
  ResourceQuotasReader, ResourceQuotasBuilder,
} from "../../capos";
export { alloc } from "./abi";

const input = new MessageReader();
const output = new MessageBuilder();
const manifestR = new SystemManifestReader();
const manifestB = new SystemManifestBuilder();
const listR = new ListReader();
const listB = new ListBuilder();
const innerListR = new ListReader();
const innerListB = new ListBuilder();
const blobR = new NamedBlobReader();
const blobB = new NamedBlobBuilder();
const initR = new InitConfigReader();
const initB = new InitConfigBuilder();
const serviceR = new ServiceConfigReader();
const serviceB = new ServiceConfigBuilder();
const capR = new CapRefReader();
const capB = new CapRefBuilder();
const sourceServiceR = new ServiceCapSourceReader();
const sourceServiceB = new ServiceCapSourceBuilder();
const paramsR = new KernelParamsReader();
const paramsB = new KernelParamsBuilder();
const quotasR = new ResourceQuotasReader();
const quotasB = new ResourceQuotasBuilder();
const text = new TextReader();
const bytes = new DataReader();

function copyService(r: ServiceConfigReader, b: ServiceConfigBuilder): i32 {
  let s: i32;
  if (r.hasName()) {
    if ((s = r.getName(text)) != OK) return s;
    if ((s = b.setName(text.ptr, text.length)) != OK) return s;
  }
  if (r.hasBinary()) {
    if ((s = r.getBinary(text)) != OK) return s;
    if ((s = b.setBinary(text.ptr, text.length)) != OK) return s;
  }
  b.setLifetime(r.getLifetime());
  if (r.hasCaps()) {
    if ((s = r.getCaps(innerListR)) != OK) return s;
    if ((s = b.initCaps(innerListR.length, innerListB)) != OK) return s;
    for (let i: u32 = 0; i < innerListR.length; i++) {
      if ((s = innerListR.getStruct(i, capR)) != OK) return s;
      if ((s = innerListB.getStruct(i, capB)) != OK) return s;
      if ((s = copyCap(capR, capB)) != OK) return s;
    }
  }
  if (r.hasExports()) {
    if ((s = r.getExports(innerListR)) != OK) return s;
    if ((s = b.initExports(innerListR.length, innerListB)) != OK) return s;
    for (let i: u32 = 0; i < innerListR.length; i++) {
      if ((s = innerListR.getText(i, text)) != OK) return s;
      if ((s = innerListB.setText(i, text.ptr, text.length)) != OK) return s;
    }
  }
  return OK;
}

function copyCap(r: CapRefReader, b: CapRefBuilder): i32 {
  let s: i32;
  if (r.hasName()) {
    if ((s = r.getName(text)) != OK) return s;
    if ((s = b.setName(text.ptr, text.length)) != OK) return s;
  }
  b.setExpectedInterfaceId(r.getExpectedInterfaceId());
  const source = r.getSource();
  const sourceB = b.getSource();
  switch (source.which()) {
    case CapRef_Source.Which.unset:
      sourceB.setUnset();
      break;
    case CapRef_Source.Which.kernel:
      sourceB.setKernel(source.getKernel());
      break;
    case CapRef_Source.Which.service:
      if ((s = source.getService(sourceServiceR)) != OK) return s;
      if ((s = sourceB.initService(sourceServiceB)) != OK) return s;
      if ((s = sourceServiceR.getService(text)) != OK) return s;
      if ((s = sourceServiceB.setService(text.ptr, text.length)) != OK) return s;
      if ((s = sourceServiceR.getExport(text)) != OK) return s;
      if ((s = sourceServiceB.setExport(text.ptr, text.length)) != OK) return s;
      break;
    default:
      // A member from a newer schema: the copy leaves the source unset.
      break;
  }
  return OK;
}

/**
 * Copies the SystemManifest at [inPtr, inPtr + inLen) into [outPtr, outPtr + outCap).
 * Returns the copy's length in bytes, or a negative runtime status.
 */
export function copyManifest(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  let s: i32;
  if ((s = input.init(inPtr, inLen)) != OK) return s;
  if ((s = manifestR.readRoot(input)) != OK) return s;
  if ((s = output.init(outPtr, outCap)) != OK) return s;
  if ((s = manifestB.makeRoot(output)) != OK) return s;
  manifestB.setSchemaVersion(manifestR.getSchemaVersion());
  if (manifestR.hasBinaries()) {
    if ((s = manifestR.getBinaries(listR)) != OK) return s;
    if ((s = manifestB.initBinaries(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) {
      if ((s = listR.getStruct(i, blobR)) != OK) return s;
      if ((s = listB.getStruct(i, blobB)) != OK) return s;
      if ((s = blobR.getName(text)) != OK) return s;
      if ((s = blobB.setName(text.ptr, text.length)) != OK) return s;
      if ((s = blobR.getData(bytes)) != OK) return s;
      if ((s = blobB.setData(bytes.ptr, bytes.length)) != OK) return s;
    }
  }
  if (manifestR.hasInitConfig()) {
    if ((s = manifestR.getInitConfig(initR)) != OK) return s;
    if ((s = manifestB.initInitConfig(initB)) != OK) return s;
    if (initR.hasInit()) {
      if ((s = initR.getInit(serviceR)) != OK) return s;
      if ((s = initB.initInit(serviceB)) != OK) return s;
      if ((s = copyService(serviceR, serviceB)) != OK) return s;
    }
    if (initR.hasServices()) {
      if ((s = initR.getServices(listR)) != OK) return s;
      if ((s = initB.initServices(listR.length, listB)) != OK) return s;
      for (let i: u32 = 0; i < listR.length; i++) {
        if ((s = listR.getStruct(i, serviceR)) != OK) return s;
        if ((s = listB.getStruct(i, serviceB)) != OK) return s;
        if ((s = copyService(serviceR, serviceB)) != OK) return s;
      }
    }
  }
  if (manifestR.hasKernelParams()) {
    if ((s = manifestR.getKernelParams(paramsR)) != OK) return s;
    if ((s = manifestB.initKernelParams(paramsB)) != OK) return s;
    if (paramsR.hasMotd()) {
      if ((s = paramsR.getMotd(text)) != OK) return s;
      if ((s = paramsB.setMotd(text.ptr, text.length)) != OK) return s;
    }
    paramsB.setLogLevel(paramsR.getLogLevel());
    paramsB.setTimerHz(paramsR.getTimerHz());
    if (paramsR.hasProcessQuotas()) {
      if ((s = paramsR.getProcessQuotas(quotasR)) != OK) return s;
      if ((s = paramsB.initProcessQuotas(quotasB)) != OK) return s;
      quotasB.setCapSlots(quotasR.getCapSlots());
      quotasB.setQueuedCalls(quotasR.getQueuedCalls());
      quotasB.setFramePages(quotasR.getFramePages());
      quotasB.setTimers(quotasR.getTimers());
    }
  }
  return <i32>output.byteLength();
}

/** Sums the bytes of every binary: a read-only walk for the hostile-input tests. */
export function binariesSize(inPtr: usize, inLen: u32): i64 {
  let s: i32;
  if ((s = input.init(inPtr, inLen)) != OK) return s;
  if ((s = manifestR.readRoot(input)) != OK) return s;
  if ((s = manifestR.getBinaries(listR)) != OK) return s;
  let total: i64 = 0;
  for (let i: u32 = 0; i < listR.length; i++) {
    if ((s = listR.getStruct(i, blobR)) != OK) return s;
    if ((s = blobR.getData(bytes)) != OK) return s;
    total += bytes.length;
  }
  return total;
}
