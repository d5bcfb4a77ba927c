// What an AssemblyScript `abort` (a failed assertion, an index out of range,
// a bad free) does in a user program: report on the console if there is one,
// then exit with EXIT_ABORT. `capos build` routes every abort here.
import { print } from "./console";
import { exit } from "./syscall";
import { EXIT_ABORT } from "./status";

/** Set once an abort is being reported (static memory: this handler runs before any top-level code could). */
const ABORTING_AT: usize = memory.data(8, 8);

export function rtAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  // An abort while reporting one (say, the console path itself is broken) exits at once.
  if (load<u32>(ABORTING_AT) == 0) {
    store<u32>(ABORTING_AT, 1);
    let text = "abort: " + (message !== null ? message : "(no message)");
    if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
    print(text);
  }
  exit(EXIT_ABORT);
}
