// init, the first process: the one program the kernel starts from the manifest. In this
// milestone it greets, lists the capabilities its CapSet names (through Console calls
// over the ring) and exits 0; starting the manifest's services comes with ProcessSpawner.
import {
  print, processId, consoleCap, capsetCount, capsetNamePtr, capsetNameLength, capsetCapId, capsetInterfaceId, RT_OK,
} from "../rt/index";
import {
  Console, TerminalSession, BootPackage, ProcessSpawner, ProcessHandle, Timer, VirtualMemory, FrameAllocator,
  MemoryObject, Endpoint, CapabilityManager,
} from "../../schema/as/capos";

/** Exit code when init has no console to speak on, or a console call fails. */
const EXIT_NO_CONSOLE: i32 = 1;

function interfaceName(id: u64): string {
  if (id == Console.INTERFACE_ID) return "Console";
  if (id == TerminalSession.INTERFACE_ID) return "TerminalSession";
  if (id == BootPackage.INTERFACE_ID) return "BootPackage";
  if (id == ProcessSpawner.INTERFACE_ID) return "ProcessSpawner";
  if (id == ProcessHandle.INTERFACE_ID) return "ProcessHandle";
  if (id == Timer.INTERFACE_ID) return "Timer";
  if (id == VirtualMemory.INTERFACE_ID) return "VirtualMemory";
  if (id == FrameAllocator.INTERFACE_ID) return "FrameAllocator";
  if (id == MemoryObject.INTERFACE_ID) return "MemoryObject";
  if (id == Endpoint.INTERFACE_ID) return "Endpoint";
  if (id == CapabilityManager.INTERFACE_ID) return "CapabilityManager";
  return "interface 0x" + id.toString(16);
}

function padded(s: string, width: i32): string {
  let out = s;
  while (out.length < width) out += " ";
  return out;
}

function hex32(value: u32): string {
  let digits = value.toString(16);
  while (digits.length < 8) digits = "0" + digits;
  return "0x" + digits;
}

export function main(): i32 {
  if (consoleCap() == 0) return EXIT_NO_CONSOLE;
  if (print("init: hello from capos init, pid " + processId().toString()) != RT_OK) return EXIT_NO_CONSOLE;
  const count = capsetCount();
  print("init: my CapSet names " + count.toString() + (count == 1 ? " capability:" : " capabilities:"));
  for (let i: u32 = 0; i < count; i++) {
    const name = String.UTF8.decodeUnsafe(capsetNamePtr(i), capsetNameLength(i));
    const line = "init:   " + padded(name, 16) + padded(interfaceName(capsetInterfaceId(i)), 18) + "cap " + hex32(capsetCapId(i));
    if (print(line) != RT_OK) return EXIT_NO_CONSOLE;
  }
  // Starting the manifest's services needs ProcessSpawner, which the kernel does not serve yet.
  print("init: done");
  return 0;
}
