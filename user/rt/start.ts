// Process start-up: what `_start(ring_addr, pid, capset_addr)` hands the
// runtime (docs/abi.md "Process entry"). `capos build` generates each
// program's `_start`, which calls rtStart, then the program's `main`, then exit.
import { capsetAttach } from "./capset";
import { ringAttach } from "./ring";
import { RT_OK } from "./status";

/** The process id, in static memory (see RingClient in ring.ts for why not a global). */
const PID_AT: usize = memory.data(8, 8);

/** Attaches the ring and the CapSet and records the process id; RT_OK or the first failure. */
export function rtStart(ringAddr: usize, processId: u32, capsetAddr: usize): i32 {
  let s = ringAttach(ringAddr);
  if (s != RT_OK) return s;
  s = capsetAttach(capsetAddr);
  if (s != RT_OK) return s;
  store<u32>(PID_AT, processId);
  return RT_OK;
}

/** This process's id (init is 1). */
export function processId(): u32 {
  return load<u32>(PID_AT);
}
