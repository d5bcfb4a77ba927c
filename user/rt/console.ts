// Console output for user programs: the "console" capability from the CapSet,
// called through the ring with a Cap'n Proto message built in a static buffer
// (no heap). What a program prints is whatever its manifest grants as "console".
import { MAX_PARAMS_BYTES } from "../../kernel/abi";
import { MessageBuilder, ListBuilder, OK, utf8Encode, utf8Length } from "../../schema/as/runtime/index";
import { Console, Console_WriteLineParamsBuilder, Console_WriteParamsBuilder } from "../../schema/as/capos";
import { capByName } from "./capset";
import { Completion, ringCall } from "./ring";
import { RT_ERR_NO_CAP, RT_ERR_TOO_LARGE, RT_OK } from "./status";

/** The CapSet name programs look their console up by. */
export const CONSOLE_CAP_NAME: string = "console";

// The message buffer and the builder views, all in static memory: printing
// must work from the abort handler, before any top-level code has run (see
// RingClient in ring.ts). Zeroed memory is how these views start anyway.
const buffer: usize = memory.data(<i32>MAX_PARAMS_BYTES, 16);
const message: MessageBuilder = changetype<MessageBuilder>(memory.data(<i32>offsetof<MessageBuilder>(), 16));
const lineParams: Console_WriteLineParamsBuilder = changetype<Console_WriteLineParamsBuilder>(memory.data(<i32>offsetof<Console_WriteLineParamsBuilder>(), 16));
const rawParams: Console_WriteParamsBuilder = changetype<Console_WriteParamsBuilder>(memory.data(<i32>offsetof<Console_WriteParamsBuilder>(), 16));
const data: ListBuilder = changetype<ListBuilder>(memory.data(<i32>offsetof<ListBuilder>(), 16));
const done: Completion = changetype<Completion>(memory.data(<i32>offsetof<Completion>(), 16));

/** The console's CapId (0 when the CapSet grants no Console named "console"). */
export function consoleCap(): u32 {
  return capByName(CONSOLE_CAP_NAME, Console.INTERFACE_ID);
}

function send(cap: u32, method: u16): i32 {
  const s = ringCall(cap, method, Console.INTERFACE_ID, buffer, message.byteLength(), 0, 0, done);
  if (s != RT_OK) return s;
  return done.result < 0 ? done.result : RT_OK;
}

/** Writes `s` and a line break (Console.writeLine). Returns RT_OK or a negative status. */
export function print(s: string): i32 {
  const cap = consoleCap();
  if (cap == 0) return RT_ERR_NO_CAP;
  message.init(buffer, MAX_PARAMS_BYTES);
  if (lineParams.makeRoot(message) != OK || lineParams.setTextString(s) != OK) return RT_ERR_TOO_LARGE;
  return send(cap, Console.Method.writeLine);
}

/** Writes the UTF-8 bytes of `s` as they are (Console.write). Returns RT_OK or a negative status. */
export function consoleWrite(s: string): i32 {
  const cap = consoleCap();
  if (cap == 0) return RT_ERR_NO_CAP;
  message.init(buffer, MAX_PARAMS_BYTES);
  if (rawParams.makeRoot(message) != OK || rawParams.initData(utf8Length(s), data) != OK) return RT_ERR_TOO_LARGE;
  utf8Encode(s, data.ptr);
  return send(cap, Console.Method.write);
}
