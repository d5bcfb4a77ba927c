// The two syscalls of docs/abi.md ("Syscalls"): cap_enter and exit, as the
// wasm compiler's `cpu.syscallN` intrinsics (a `syscall` instruction inline).
// Nothing else in a user program may make a syscall: everything else is a ring call.
import { SYS_CAP_ENTER, SYS_EXIT } from "../../kernel/abi";

@external("cpu", "syscall1") declare function syscall1(nr: i64, a1: i64): i64;
@external("cpu", "syscall2") declare function syscall2(nr: i64, a1: i64, a2: i64): i64;

/**
 * Makes the kernel consume pending SQEs and, unless `timeoutNs` is 0, wait
 * until `minComplete` completions are unread. Returns the number of unread
 * completions (≥ 0) or a negative CAP_ERR_* code.
 */
export function capEnter(minComplete: u32, timeoutNs: u64): i64 {
  return syscall2(<i64>SYS_CAP_ENTER, <i64>minComplete, <i64>timeoutNs);
}

/** Ends the process with `code`; never returns. */
export function exit(code: i64): void {
  syscall1(<i64>SYS_EXIT, code);
  // The kernel never returns from SYS_EXIT; a kernel that did would be broken,
  // and running on would be worse than trapping.
  unreachable();
}
