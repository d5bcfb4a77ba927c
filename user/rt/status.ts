// Status codes and exit codes of the runtime library's own failures. The ABI's
// transport errors (CAP_ERR_*, −1 … −18) pass through the runtime unchanged;
// the runtime's own codes start at −1000 so the two ranges never meet.

export const RT_OK: i32 = 0;
/** The ring page's header does not describe the ring of docs/abi.md (wrong magic, version or geometry). */
export const RT_ERR_BAD_RING: i32 = -1001;
/** The CapSet page's header is not a CapSet of docs/abi.md. */
export const RT_ERR_BAD_CAPSET: i32 = -1002;
/** Every in-flight slot is taken: wait for some calls before submitting more. */
export const RT_ERR_BUSY: i32 = -1003;
/** The submission queue stayed full after cap_enter. */
export const RT_ERR_SQ_FULL: i32 = -1004;
/** The token names no call in flight (never issued, or already collected). */
export const RT_ERR_UNKNOWN_TOKEN: i32 = -1005;
/** cap_enter reported that nothing more can complete, yet the call is still pending. */
export const RT_ERR_LOST: i32 = -1006;
/** The kernel-written ring indices are out of range. */
export const RT_ERR_RING_BROKEN: i32 = -1007;
/** The runtime was used before rtStart attached the ring and the CapSet. */
export const RT_ERR_NOT_STARTED: i32 = -1008;
/** The CapSet has no capability by that name (or it has another interface). */
export const RT_ERR_NO_CAP: i32 = -1009;
/** A message does not fit the runtime's buffer (or the ABI's MAX_PARAMS_BYTES). */
export const RT_ERR_TOO_LARGE: i32 = -1010;

/** Exit code when the process's start-up state is not what docs/abi.md promises. */
export const EXIT_START_FAILED: i64 = 125;
/** Exit code after an AssemblyScript abort (a failed assertion, an out-of-range index …). */
export const EXIT_ABORT: i64 = 134;
