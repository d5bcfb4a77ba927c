// The kernel capability sources a manifest may name (KernelCapSource in schema/capos.capnp):
// the interface each one makes, its name for log lines, and the object number a cap
// slot holds for it. It creates nothing; process.ts inserts slots, dispatch.ts serves them.
import {
  KernelCapSource, Console, TerminalSession, BootPackage, ProcessSpawner, Timer, VirtualMemory,
  FrameAllocator, Endpoint, CapabilityManager,
} from "../../schema/as/capos";

/** Sources are 0..KERNEL_SOURCE_COUNT-1. */
export const KERNEL_SOURCE_COUNT: u32 = 9;

/** The interface a kernel source's object has, or 0 for a number that names no source. */
export function kernelSourceInterface(source: u32): u64 {
  switch (source) {
    case KernelCapSource.console: return Console.INTERFACE_ID;
    case KernelCapSource.terminal: return TerminalSession.INTERFACE_ID;
    case KernelCapSource.bootPackage: return BootPackage.INTERFACE_ID;
    case KernelCapSource.processSpawner: return ProcessSpawner.INTERFACE_ID;
    case KernelCapSource.timer: return Timer.INTERFACE_ID;
    case KernelCapSource.virtualMemory: return VirtualMemory.INTERFACE_ID;
    case KernelCapSource.frameAllocator: return FrameAllocator.INTERFACE_ID;
    case KernelCapSource.endpoint: return Endpoint.INTERFACE_ID;
    case KernelCapSource.capabilityManager: return CapabilityManager.INTERFACE_ID;
    default: return 0;
  }
}

/** The schema name of a kernel source (for log lines). */
export function kernelSourceName(source: u32): string {
  switch (source) {
    case KernelCapSource.console: return "console";
    case KernelCapSource.terminal: return "terminal";
    case KernelCapSource.bootPackage: return "bootPackage";
    case KernelCapSource.processSpawner: return "processSpawner";
    case KernelCapSource.timer: return "timer";
    case KernelCapSource.virtualMemory: return "virtualMemory";
    case KernelCapSource.frameAllocator: return "frameAllocator";
    case KernelCapSource.endpoint: return "endpoint";
    case KernelCapSource.capabilityManager: return "capabilityManager";
    default: return "unknown";
  }
}

/** The name of an interface id (for log lines and exception messages). */
export function interfaceName(interfaceId: u64): string {
  if (interfaceId == Console.INTERFACE_ID) return "Console";
  if (interfaceId == TerminalSession.INTERFACE_ID) return "TerminalSession";
  if (interfaceId == BootPackage.INTERFACE_ID) return "BootPackage";
  if (interfaceId == ProcessSpawner.INTERFACE_ID) return "ProcessSpawner";
  if (interfaceId == Timer.INTERFACE_ID) return "Timer";
  if (interfaceId == VirtualMemory.INTERFACE_ID) return "VirtualMemory";
  if (interfaceId == FrameAllocator.INTERFACE_ID) return "FrameAllocator";
  if (interfaceId == Endpoint.INTERFACE_ID) return "Endpoint";
  if (interfaceId == CapabilityManager.INTERFACE_ID) return "CapabilityManager";
  return "an unknown interface";
}

/**
 * The object number a cap slot holds for a kernel source: the source plus one, so
 * an empty object field (0) never names anything. The kernel's objects of this
 * milestone are singletons (the COM1 console is the one Console).
 */
export function kernelSourceObject(source: u32): u32 {
  return source + 1;
}
