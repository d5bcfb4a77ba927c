// The boot package as the kernel sees it: the one Multiboot module, read in place as a
// Cap'n Proto SystemManifest, and the kernel-owned boundary checked before any process
// exists (schema version, binaries, init and its kernel caps, kernel parameters). Every
// rejection names its reason; nothing is trusted that was not checked here.
import {
  MessageReader, ListReader, TextReader, DataReader, OK, statusName, DEFAULT_TRAVERSAL_LIMIT_WORDS, DEFAULT_NESTING_LIMIT,
} from "../../schema/as/runtime/index";
import {
  SystemManifestReader, NamedBlobReader, InitConfigReader, ServiceConfigReader, CapRefReader, KernelParamsReader,
  ResourceQuotasReader, manifestSchemaVersion,
} from "../../schema/as/capos";
import { CAPSET_NAME_MAX, CAPSET_MAX_ENTRIES } from "../abi";
import { CAP_TABLE_MAX_CAPACITY } from "../cap/table";
import { KERNEL_SOURCE_COUNT, kernelSourceInterface, kernelSourceName, interfaceName } from "../cap/objects";
import { logPrefix, logStr, logBytes, logDec, logHex, logNl } from "../log";

const MIN_TIMER_HZ: u32 = 1;
const MAX_TIMER_HZ: u32 = 10_000;

// Readers in kernel memory (no heap); filled in by manifestCheck and kept for main.ts.
const message = changetype<MessageReader>(memory.data(<i32>offsetof<MessageReader>(), 8));
const root = changetype<SystemManifestReader>(memory.data(<i32>offsetof<SystemManifestReader>(), 8));
const binaries = changetype<ListReader>(memory.data(<i32>offsetof<ListReader>(), 8));
const blob = changetype<NamedBlobReader>(memory.data(<i32>offsetof<NamedBlobReader>(), 8));
const other = changetype<NamedBlobReader>(memory.data(<i32>offsetof<NamedBlobReader>(), 8));
const initConfig = changetype<InitConfigReader>(memory.data(<i32>offsetof<InitConfigReader>(), 8));
const init = changetype<ServiceConfigReader>(memory.data(<i32>offsetof<ServiceConfigReader>(), 8));
const caps = changetype<ListReader>(memory.data(<i32>offsetof<ListReader>(), 8));
const cap = changetype<CapRefReader>(memory.data(<i32>offsetof<CapRefReader>(), 8));
const otherCap = changetype<CapRefReader>(memory.data(<i32>offsetof<CapRefReader>(), 8));
const params = changetype<KernelParamsReader>(memory.data(<i32>offsetof<KernelParamsReader>(), 8));
const quotas = changetype<ResourceQuotasReader>(memory.data(<i32>offsetof<ResourceQuotasReader>(), 8));
const text = changetype<TextReader>(memory.data(<i32>offsetof<TextReader>(), 8));
const otherText = changetype<TextReader>(memory.data(<i32>offsetof<TextReader>(), 8));
const data = changetype<DataReader>(memory.data(<i32>offsetof<DataReader>(), 8));

@unmanaged export class BootPlan {
  /** init's name and ELF image (kernel addresses inside the boot module). */
  initName: usize = 0;
  initNameLength: u32 = 0;
  initImage: usize = 0;
  initImageLength: u32 = 0;
  initCapCount: u32 = 0;
  binaryCount: u32 = 0;
  logLevel: u32 = 0;
  timerHz: u32 = 0;
  capSlots: u32 = 0;
  motd: usize = 0;
  motdLength: u32 = 0;
}

const plan = changetype<BootPlan>(memory.data(<i32>offsetof<BootPlan>(), 8));

function reject(reason: string): i32 {
  logPrefix();
  logStr("boot error: ");
  logStr(reason);
  logNl();
  return -1;
}

function rejectStatus(what: string, status: i32): i32 {
  logPrefix();
  logStr("boot error: ");
  logStr(what);
  logStr(": ");
  logStr(statusName(status));
  logNl();
  return -1;
}

function rejectCap(index: u32, reason: string): i32 {
  logPrefix();
  logStr("boot error: initConfig.init.caps[");
  logDec(<u64>index);
  logStr("]: ");
  logStr(reason);
  logNl();
  return -1;
}

function checkBinaries(): i32 {
  let status = root.getBinaries(binaries);
  if (status != OK) return rejectStatus("binaries", status);
  for (let i: u32 = 0; i < binaries.length; i++) {
    status = binaries.getStruct(i, blob);
    if (status == OK) status = blob.getName(text);
    if (status == OK) status = blob.getData(data);
    if (status != OK) return rejectStatus("binaries: unreadable entry", status);
    if (text.length == 0) return reject("binaries: a binary has an empty name");
    if (data.length == 0) return reject("binaries: a binary is empty");
    for (let j: u32 = 0; j < i; j++) {
      if (binaries.getStruct(j, other) != OK || other.getName(otherText) != OK) return reject("binaries: unreadable entry");
      if (otherText.length == text.length && memory.compare(otherText.ptr, text.ptr, text.length) == 0) {
        return reject("binaries: two binaries have the same name");
      }
    }
  }
  plan.binaryCount = binaries.length;
  return OK;
}

/** Finds the binary named by `text`; fills plan.initImage. */
function resolveInitBinary(): i32 {
  for (let i: u32 = 0; i < binaries.length; i++) {
    if (binaries.getStruct(i, blob) != OK || blob.getName(otherText) != OK) return reject("binaries: unreadable entry");
    if (otherText.length != text.length || memory.compare(otherText.ptr, text.ptr, text.length) != 0) continue;
    if (blob.getData(data) != OK) return reject("binaries: unreadable data");
    plan.initImage = data.ptr;
    plan.initImageLength = data.length;
    return OK;
  }
  return reject("initConfig.init.binary names no binary in the boot package");
}

function checkInitCaps(): i32 {
  const status = init.getCaps(caps);
  if (status != OK) return rejectStatus("initConfig.init.caps", status);
  if (caps.length > CAPSET_MAX_ENTRIES) return reject("init holds more caps than a CapSet page lists");
  if (caps.length > plan.capSlots) return reject("init holds more caps than processQuotas.capSlots allows");
  for (let i: u32 = 0; i < caps.length; i++) {
    if (caps.getStruct(i, cap) != OK || cap.getName(text) != OK) return rejectCap(i, "unreadable");
    if (text.length == 0 || text.length > CAPSET_NAME_MAX) return rejectCap(i, "the name must be 1 to 32 bytes");
    for (let j: u32 = 0; j < i; j++) {
      if (caps.getStruct(j, otherCap) != OK || otherCap.getName(otherText) != OK) return rejectCap(j, "unreadable");
      if (otherText.length == text.length && memory.compare(otherText.ptr, text.ptr, text.length) == 0) {
        return rejectCap(i, "the name is used twice");
      }
    }
    const source = cap.getSource();
    if (!source.isKernel()) return rejectCap(i, "init's caps must come from the kernel");
    const kind = <u32>source.getKernel();
    if (kind >= KERNEL_SOURCE_COUNT) return rejectCap(i, "unknown kernel source");
    const expected = kernelSourceInterface(kind);
    if (cap.getExpectedInterfaceId() != expected) {
      logPrefix();
      logStr("boot error: initConfig.init.caps[");
      logDec(<u64>i);
      logStr("]: kernel source ");
      logStr(kernelSourceName(kind));
      logStr(" makes a ");
      logStr(interfaceName(expected));
      logStr(", but the manifest expects interface ");
      logHex(cap.getExpectedInterfaceId());
      logNl();
      return -1;
    }
  }
  plan.initCapCount = caps.length;
  return OK;
}

function checkKernelParams(): i32 {
  const status = root.getKernelParams(params);
  if (status != OK) return rejectStatus("kernelParams", status);
  if (params.getProcessQuotas(quotas) != OK) return reject("kernelParams.processQuotas: unreadable");
  plan.logLevel = <u32>params.getLogLevel();
  if (plan.logLevel > 3) return reject("kernelParams.logLevel: unknown level");
  plan.timerHz = params.getTimerHz();
  if (plan.timerHz < MIN_TIMER_HZ || plan.timerHz > MAX_TIMER_HZ) return reject("kernelParams.timerHz: must be 1 to 10000");
  plan.capSlots = quotas.getCapSlots();
  if (plan.capSlots == 0 || plan.capSlots > CAP_TABLE_MAX_CAPACITY / 2) {
    return reject("kernelParams.processQuotas.capSlots: out of range");
  }
  if (params.getMotd(text) != OK) return reject("kernelParams.motd: unreadable");
  plan.motd = text.ptr;
  plan.motdLength = text.length;
  return OK;
}

/**
 * Reads and checks the `length`-byte boot package at kernel address `module`.
 * Returns the boot plan, or null after logging why the package was refused.
 */
export function manifestCheck(module: usize, length: u32): BootPlan | null {
  memory.fill(changetype<usize>(plan), 0, offsetof<BootPlan>());
  // The package embeds every program, so its read budget scales with its size.
  const budget = max(DEFAULT_TRAVERSAL_LIMIT_WORDS, <u64>length);
  let status = message.init(module, length, budget, DEFAULT_NESTING_LIMIT);
  if (status != OK) { rejectStatus("the boot module is not a Cap'n Proto message", status); return null; }
  status = root.readRoot(message);
  if (status != OK) { rejectStatus("SystemManifest", status); return null; }
  if (root.getSchemaVersion() != manifestSchemaVersion) {
    logPrefix();
    logStr("boot error: schemaVersion is ");
    logDec(<u64>root.getSchemaVersion());
    logStr(", this kernel reads ");
    logDec(<u64>manifestSchemaVersion);
    logNl();
    return null;
  }
  if (checkKernelParams() != OK) return null;
  if (checkBinaries() != OK) return null;
  status = root.getInitConfig(initConfig);
  if (status == OK) status = initConfig.getInit(init);
  if (status != OK) { rejectStatus("initConfig.init", status); return null; }
  if (!init.hasName() || init.getName(text) != OK || text.length == 0) { reject("initConfig.init.name: missing"); return null; }
  plan.initName = text.ptr;
  plan.initNameLength = text.length;
  if (init.getBinary(text) != OK || text.length == 0) { reject("initConfig.init.binary: missing"); return null; }
  if (resolveInitBinary() != OK) return null;
  if (checkInitCaps() != OK) return null;
  return plan;
}

/**
 * Cap `index` of init, after manifestCheck accepted the package: sets `nameOut` to
 * its CapSet name and returns its kernel source (a KernelCapSource value).
 */
export function manifestInitCap(index: u32, nameOut: TextReader): u32 {
  caps.getStruct(index, cap);
  cap.getName(nameOut);
  return <u32>cap.getSource().getKernel();
}
