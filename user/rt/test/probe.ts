// Test entry for the user runtime in V8: each export drives one runtime
// function so the host test (tests/user-rt.test.ts) can check it against a
// fake kernel. Compiled with the same asc options as a user program.
import {
  rtStart, processId, ringSubmitNop, ringSubmitCall, ringSubmitRelease, ringWait, ringPoll, ringFlush, ringCall, ringInFlight,
  ringStrayCompletions, Completion, capsetCount, capsetFind, capsetFindBytes, capByName, capsetCapId, capsetInterfaceId,
  capsetNameLength, malloc, calloc, realloc, free, mallocCapacity, heapBytesInUse, heapBlocksInUse, print, consoleWrite,
} from "../index";

const out = changetype<Completion>(memory.data(<i32>offsetof<Completion>(), 16));
const scratch = memory.data(256, 16);

export function start(ring: usize, pid: u32, capset: usize): i32 {
  return rtStart(ring, pid, capset);
}
export function pid(): u32 { return processId(); }

export function nop(): i64 { return ringSubmitNop(); }
export function call(cap: u32, method: u16, iface: u64, params: usize, paramsLen: u32, result: usize, resultLen: u32): i64 {
  return ringSubmitCall(cap, method, iface, params, paramsLen, result, resultLen);
}
export function release(cap: u32): i64 { return ringSubmitRelease(cap); }
export function callAndWait(cap: u32, method: u16, iface: u64, params: usize, paramsLen: u32, result: usize, resultLen: u32): i32 {
  return ringCall(cap, method, iface, params, paramsLen, result, resultLen, out);
}
export function wait(token: u64): i32 { return ringWait(token, out); }
export function poll(token: u64): i32 { return ringPoll(token, out); }
export function flush(): i32 { return ringFlush(); }
export function inFlight(): u32 { return ringInFlight(); }
export function strays(): u32 { return ringStrayCompletions(); }
export function outUserData(): u64 { return out.userData; }
export function outResult(): i32 { return out.result; }
export function outLen(): u32 { return out.len; }

export function scratchAddr(): usize { return scratch; }
export function count(): u32 { return capsetCount(); }
export function nameLength(i: u32): u32 { return capsetNameLength(i); }
export function capId(i: u32): u32 { return capsetCapId(i); }
export function interfaceId(i: u32): u64 { return capsetInterfaceId(i); }
export function findBytes(ptr: usize, len: u32): i32 { return capsetFindBytes(ptr, len); }
export function findConsole(): i32 { return capsetFind("console"); }
export function findUnicode(): i32 { return capsetFind("größe"); }
export function findMissing(): i32 { return capsetFind("nothing"); }
export function consoleByName(iface: u64): u32 { return capByName("console", iface); }

export function heapMalloc(n: usize): usize { return malloc(n); }
export function heapCalloc(n: usize, size: usize): usize { return calloc(n, size); }
export function heapRealloc(p: usize, n: usize): usize { return realloc(p, n); }
export function heapFree(p: usize): void { free(p); }
export function heapCapacity(p: usize): usize { return mallocCapacity(p); }
export function heapInUse(): usize { return heapBytesInUse(); }
export function heapBlocks(): u32 { return heapBlocksInUse(); }

export function printHello(): i32 { return print("hello from the runtime, ünïcode ✓"); }
export function printRaw(): i32 { return consoleWrite("raw bytes"); }
export function printLong(n: i32): i32 { return print("x".repeat(n)); }
export function failAssert(): void { assert(false, "probe assertion"); }
