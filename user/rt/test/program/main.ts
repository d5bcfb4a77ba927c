// A small user program for the runtime tests: prints through the console,
// submits four NOPs at once and waits for them in submission order (the fake
// kernel completes them in reverse), then exits with 42.
import { print, processId, capsetCount, ringSubmitNop, ringWait, Completion, RT_OK } from "../../index";

const done = changetype<Completion>(memory.data(<i32>offsetof<Completion>(), 16));

export function main(): i32 {
  print("program: pid " + processId().toString() + ", " + capsetCount().toString() + " capabilities");
  const tokens = new StaticArray<u64>(4);
  for (let i = 0; i < 4; i++) tokens[i] = <u64>ringSubmitNop();
  let ok = 0;
  for (let i = 0; i < 4; i++) {
    if (ringWait(tokens[i], done) == RT_OK && done.result == 0 && done.userData == tokens[i]) ok++;
  }
  print("program: " + ok.toString() + " NOPs completed out of order");
  return 42;
}
