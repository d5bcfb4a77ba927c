// The Console kernel object: write(data) and writeLine(text) on COM1, the kernel's own
// log device, so a program's lines and the kernel's interleave in one transcript. It
// reads only the params message the ring copied into kernel memory.
import { MessageReader, MessageBuilder, TextReader, DataReader, OK, statusName } from "../../schema/as/runtime/index";
import {
  Console, Console_WriteParamsReader, Console_WriteLineParamsReader, Console_WriteResultsBuilder,
  Console_WriteLineResultsBuilder, ExceptionType,
} from "../../schema/as/capos";
import { COM1, serialPut, serialWrite } from "../arch/x86_64/serial";
import { exceptionText, exceptionAppend, exceptionAppendDec } from "./exception";
import { CALL_RESULTS, callFail, callOutput } from "./call";

const writeParams = changetype<Console_WriteParamsReader>(memory.data(<i32>offsetof<Console_WriteParamsReader>(), 8));
const lineParams = changetype<Console_WriteLineParamsReader>(memory.data(<i32>offsetof<Console_WriteLineParamsReader>(), 8));
const data = changetype<DataReader>(memory.data(<i32>offsetof<DataReader>(), 8));
const text = changetype<TextReader>(memory.data(<i32>offsetof<TextReader>(), 8));
const results = changetype<MessageBuilder>(memory.data(<i32>offsetof<MessageBuilder>(), 8));
const writeResults = changetype<Console_WriteResultsBuilder>(memory.data(<i32>offsetof<Console_WriteResultsBuilder>(), 8));
const lineResults = changetype<Console_WriteLineResultsBuilder>(memory.data(<i32>offsetof<Console_WriteLineResultsBuilder>(), 8));

function replyFailed(): i32 {
  exceptionText("reply does not fit the kernel's result buffer");
  return callFail(ExceptionType.failed);
}

function malformed(status: i32): i32 {
  exceptionText("malformed params: ");
  exceptionAppend(statusName(status));
  return callFail(ExceptionType.failed);
}

/**
 * Serves one Console call on `params` (a validated message reader over the kernel
 * copy). Writes the results or an exception into the call output (call.ts) and
 * returns CALL_RESULTS or CALL_EXCEPTION.
 */
export function consoleCall(methodId: u32, params: MessageReader): i32 {
  const out = callOutput();
  if (methodId == Console.Method.write) {
    let status = writeParams.readRoot(params);
    if (status == OK) status = writeParams.getData(data);
    if (status != OK) return malformed(status);
    serialWrite(COM1, data.ptr, data.length);
    if (results.init(out.buffer, out.capacity) != OK || writeResults.makeRoot(results) != OK) return replyFailed();
    out.length = results.byteLength();
    return CALL_RESULTS;
  }
  if (methodId == Console.Method.writeLine) {
    let status = lineParams.readRoot(params);
    if (status == OK) status = lineParams.getText(text);
    if (status != OK) return malformed(status);
    serialWrite(COM1, text.ptr, text.length);
    serialPut(COM1, 0x0A);
    if (results.init(out.buffer, out.capacity) != OK || lineResults.makeRoot(results) != OK) return replyFailed();
    out.length = results.byteLength();
    return CALL_RESULTS;
  }
  exceptionText("Console has no method ");
  exceptionAppendDec(<u64>methodId);
  return callFail(ExceptionType.unimplemented);
}
