// The capos user runtime library: what every user program links (import
// "../rt"). Start-up, the ring client, CapSet lookup, the heap, console
// output and the two syscalls. See user/README.md.
export * from "./status";
export { capEnter, exit } from "./syscall";
export { rtStart, processId } from "./start";
export {
  Completion, MAX_IN_FLIGHT, ringAttach, ringInFlight, ringStrayCompletions, ringSubmitCall, ringSubmitNop, ringSubmitRelease,
  ringFlush, ringPoll, ringWait, ringCall,
} from "./ring";
export {
  capsetAttach, capsetCount, capsetNameLength, capsetNamePtr, capsetCapId, capsetInterfaceId, capsetFind, capsetFindBytes, capByName,
} from "./capset";
export { malloc, calloc, realloc, free, mallocCapacity, heapBytesInUse, heapBlocksInUse } from "./heap";
export { CONSOLE_CAP_NAME, consoleCap, print, consoleWrite } from "./console";
export { rtAbort } from "./abort";
export { memoryGrowHook } from "./memory";
