# capos.capnp — the capability interfaces of capos and its boot manifest.
# Every capability call carries a Cap'n Proto message of the Params/Results
# structs below; an interface's 64-bit schema type id is its interface id.
# Follows the capOS reference manual ("Capability Model", "Manifest and
# Service Startup"); docs/schema.md lists where capos adapts it.
@0xb49392e6ba1adc26;

# ---------------------------------------------------------------------------
# Errors

# The payload of an application exception: a capability method failed after
# the kernel found a valid target. Transport failures (bad SQE, stale cap id)
# are negative CQE codes instead and carry no payload.
struct CapException {
  type @0 :ExceptionType;
  message @1 :Text;
}

# The four Cap'n Proto RPC exception kinds.
enum ExceptionType {
  failed @0;         # the call cannot succeed as asked (bad arguments, bad state)
  overloaded @1;     # a quota or resource limit refused it; retrying later may work
  disconnected @2;   # the object is gone (revoked, its server exited)
  unimplemented @3;  # the object does not implement this method
}

# ---------------------------------------------------------------------------
# Memory protection bits for VirtualMemory and MemoryObject.

const protNone :UInt32 = 0;
const protRead :UInt32 = 1;
const protWrite :UInt32 = 2;
const protExec :UInt32 = 4;

# ---------------------------------------------------------------------------
# Output and terminals

# Write-only kernel log (COM1). Never reads input.
interface Console {
  write @0 (data :Data) -> ();
  writeLine @1 (text :Text) -> ();
}

# An interactive line terminal (COM2) held by one foreground process.
interface TerminalSession {
  write @0 (data :Data) -> ();
  writeLine @1 (text :Text) -> ();
  readLine @2 (request :LineRequest) -> (status :LineStatus, line :Data);
}

struct LineRequest {
  maxBytes @0 :UInt32 = 256;  # longest line returned; longer input is truncated
  echo @1 :EchoMode;
  prompt @2 :Text;            # written before reading; may be empty
}

enum EchoMode {
  visible @0;  # echo typed characters
  hidden @1;   # echo nothing (passwords)
}

enum LineStatus {
  complete @0;    # a whole line, without its terminator
  truncated @1;   # the line was longer than maxBytes; the rest was discarded
  cancelled @2;   # the read was cancelled (terminal handed away, Ctrl-C)
  endOfInput @3;  # the input side closed
}

# ---------------------------------------------------------------------------
# Boot package and processes

# Read-only access to the boot manifest bytes, in bounded chunks. Held by init.
interface BootPackage {
  manifestSize @0 () -> (size :UInt64);
  readManifest @1 (offset :UInt64, maxBytes :UInt32) -> (data :Data);
}

# Starts packaged boot binaries as new processes with explicit grants. The
# returned handleIndex names the ProcessHandle among the completion's result
# caps (CapTransferResult records), not a cap id.
interface ProcessSpawner {
  spawn @0 (name :Text, binaryName :Text, grants :List(CapGrant)) -> (handleIndex :UInt16);
}

# One capability handed to a child at spawn time, named in its CapSet.
struct CapGrant {
  name @0 :Text;                   # the CapSet name the child looks it up by
  expectedInterfaceId @1 :UInt64;  # compatibility check, not the selector
  source :union {
    unset @2 :Void;                # the zero value: rejected (fail closed)
    parentCap @3 :UInt32;          # copy this caller-held CapId into the child
    clientFacet @4 :UInt32;        # caller-held endpoint owner or spawner result facet;
                                   # the child gets a CALL-only client facet
    kernel @5 :KernelCapSource;    # a fresh child-local kernel object
  }
}

# Parent-side handle to one spawned process. Not transferable.
interface ProcessHandle {
  wait @0 () -> (exitCode :Int64);
}

# ---------------------------------------------------------------------------
# IPC

# A kernel endpoint. It has no methods: the owner serves it with RECV/RETURN
# ring operations and clients CALL it with the served interface's method ids.
interface Endpoint {}

# ---------------------------------------------------------------------------
# Time

# The monotonic clock. Time is virtual (derived from retired instructions on
# the capos machine), so `now` is deterministic for a given boot.
interface Timer {
  now @0 () -> (ns :UInt64);  # nanoseconds since boot
  sleep @1 (ns :UInt64) -> ();
}

# ---------------------------------------------------------------------------
# Memory

# Anonymous memory in the holder's own address space. Bound to one address
# space; never a valid cross-process export.
interface VirtualMemory {
  map @0 (hint :UInt64, size :UInt64, prot :UInt32) -> (addr :UInt64);
  unmap @1 (addr :UInt64, size :UInt64) -> ();
  protect @2 (addr :UInt64, size :UInt64, prot :UInt32) -> ();
  reserve @3 (hint :UInt64, size :UInt64) -> (addr :UInt64);
  commit @4 (addr :UInt64, size :UInt64, prot :UInt32) -> ();
  decommit @5 (addr :UInt64, size :UInt64) -> ();
}

# Physical memory as MemoryObject result caps (never raw physical addresses);
# handleIndex names the MemoryObject among the completion's result caps.
interface FrameAllocator {
  allocFrame @0 () -> (handleIndex :UInt16);
  allocContiguous @1 (count :UInt32) -> (handleIndex :UInt16);
}

# Owned physical pages that the holder can map into its own address space.
interface MemoryObject {
  info @0 () -> (pageCount :UInt32, sizeBytes :UInt64);
  map @1 (hint :UInt64, offset :UInt64, size :UInt64, prot :UInt32) -> (addr :UInt64);
  unmap @2 (addr :UInt64, size :UInt64) -> ();
  protect @3 (addr :UInt64, size :UInt64, prot :UInt32) -> ();
}

# ---------------------------------------------------------------------------
# Capability management

# Management-only introspection and revocation. Ordinary handle release is
# the ring's RELEASE operation, not a method here.
interface CapabilityManager {
  list @0 () -> (capabilities :List(CapabilityInfo));
  revoke @1 (capId :UInt32) -> ();
}

struct CapabilityInfo {
  capId @0 :UInt32;
  interfaceId @1 :UInt64;
  name @2 :Text;
}

# ---------------------------------------------------------------------------
# The boot manifest: compiled from system.cue by the manifest compiler and
# handed to the kernel as the single boot module.

const manifestSchemaVersion :UInt32 = 1;

struct SystemManifest {
  schemaVersion @0 :UInt32;        # must equal manifestSchemaVersion
  binaries @1 :List(NamedBlob);    # every user program, by name
  initConfig @2 :InitConfig;
  kernelParams @3 :KernelParams;
}

struct NamedBlob {
  name @0 :Text;
  data @1 :Data;
}

# The kernel starts only `init`; init validates and spawns `services`.
struct InitConfig {
  init @0 :ServiceConfig;
  services @1 :List(ServiceConfig);
}

struct ServiceConfig {
  name @0 :Text;                # unique among services
  binary @1 :Text;              # a NamedBlob name
  caps @2 :List(CapRef);        # in CapSet order; names unique within the service
  exports @3 :List(Text);       # names of this service's own caps offered to later services
  lifetime @4 :ServiceLifetime;
}

enum ServiceLifetime {
  resident @0;  # runs for the whole boot
  oneShot @1;   # init waits for it to exit
}

# One capability a service receives.
struct CapRef {
  name @0 :Text;                   # the CapSet name
  expectedInterfaceId @1 :UInt64;  # must match the constructed object's interface
  source :union {
    unset @2 :Void;                # the zero value: an omitted source fails closed
    kernel @3 :KernelCapSource;
    service @4 :ServiceCapSource;
  }
}

# Kernel-made capabilities a manifest can name.
enum KernelCapSource {
  console @0;
  terminal @1;           # the TerminalSession on COM2
  bootPackage @2;
  processSpawner @3;
  timer @4;
  virtualMemory @5;      # child-local: bound to the receiving address space
  frameAllocator @6;     # child-local
  endpoint @7;           # a fresh child-local endpoint; the child owns it
  capabilityManager @8;
}

# A cap exported by an earlier service. Endpoint exports reach importers as
# CALL-only client facets.
struct ServiceCapSource {
  service @0 :Text;
  export @1 :Text;
}

struct KernelParams {
  motd @0 :Text;                      # printed on the console after boot
  logLevel @1 :LogLevel = info;
  timerHz @2 :UInt32 = 100;           # scheduler tick rate
  processQuotas @3 :ResourceQuotas;   # per-process limits, charged before side effects
}

enum LogLevel {
  quiet @0;
  info @1;
  debug @2;
  trace @3;
}

struct ResourceQuotas {
  capSlots @0 :UInt32 = 256;
  queuedCalls @1 :UInt32 = 32;
  framePages @2 :UInt32 = 4096;
  timers @3 :UInt32 = 16;
}
