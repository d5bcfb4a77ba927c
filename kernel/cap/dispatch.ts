// CALL dispatch: from the target slot's interface id and the SQE's method id to the
// kernel object that serves it, with the params already copied into kernel memory.
// It never trusts the SQE's interface field (the slot decides) and never sees user memory.
import { MessageReader, OK, statusName } from "../../schema/as/runtime/index";
import { Console, ExceptionType } from "../../schema/as/capos";
import { consoleCall } from "./console";
import { callFail } from "./call";
import { exceptionText, exceptionAppend } from "./exception";
import { interfaceName } from "./objects";

const params = changetype<MessageReader>(memory.data(<i32>offsetof<MessageReader>(), 8));
/** The message a CALL without params sees: one segment of one word, a null root (all defaults). */
const emptyMessage: usize = memory.data<u32>([0, 1, 0, 0], 8);

/**
 * Runs method `methodId` of the kernel object `object` (whose interface is
 * `interfaceId`) on `paramsLength` bytes of params at kernel address `paramsBuffer`.
 * The reply is in the call output (call.ts); returns CALL_RESULTS or CALL_EXCEPTION.
 */
export function dispatchCall(interfaceId: u64, object: u32, methodId: u32, paramsBuffer: usize, paramsLength: u32): i32 {
  const status = paramsLength == 0 ? params.init(emptyMessage, 16) : params.init(paramsBuffer, paramsLength);
  if (status != OK) {
    exceptionText("malformed params message: ");
    exceptionAppend(statusName(status));
    return callFail(ExceptionType.failed);
  }
  if (interfaceId == Console.INTERFACE_ID) return consoleCall(methodId, params);
  // A kernel source whose object arrives in a later milestone: the cap exists (the
  // manifest granted it and the CapSet lists it) but no method is served yet.
  exceptionText(interfaceName(interfaceId));
  exceptionAppend(" is not served by this kernel yet");
  return callFail(ExceptionType.unimplemented);
}
