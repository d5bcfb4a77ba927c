// The kernel side of one CALL in progress: the kernel copy of the params, the results
// buffer a method writes its reply into, and the outcome (results or CapException).
// CALLs run one at a time to completion, so one set of buffers serves every process.
import { MAX_PARAMS_BYTES, MAX_RESULT_BYTES } from "../abi";
import { exceptionBuild } from "./exception";

/** The method wrote a results message. */
export const CALL_RESULTS: i32 = 0;
/** The method failed and wrote a CapException message. */
export const CALL_EXCEPTION: i32 = 1;

@unmanaged export class CallOutput {
  /** Kernel address of the reply buffer. */
  buffer: usize = 0;
  capacity: u32 = 0;
  /** Bytes of the reply message. */
  length: u32 = 0;
}

const paramsBuffer: usize = memory.data(<i32>MAX_PARAMS_BYTES, 16);
const resultBuffer: usize = memory.data(<i32>MAX_RESULT_BYTES, 16);
const output = changetype<CallOutput>(memory.data(<i32>offsetof<CallOutput>(), 8));

/** Where the ring copies a CALL's params (MAX_PARAMS_BYTES). */
export function callParamsBuffer(): usize {
  return paramsBuffer;
}

/** The reply buffer, emptied for a new call. */
export function callBegin(): CallOutput {
  output.buffer = resultBuffer;
  output.capacity = MAX_RESULT_BYTES;
  output.length = 0;
  return output;
}

export function callOutput(): CallOutput {
  return output;
}

/**
 * Ends the call with a CapException of `type` carrying the message composed with
 * exception.ts. Returns CALL_EXCEPTION for the method to return.
 */
export function callFail(type: u16): i32 {
  output.length = exceptionBuild(output.buffer, output.capacity, type);
  return CALL_EXCEPTION;
}
