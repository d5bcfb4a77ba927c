// The user/kernel ABI as numbers (syscalls, ring, SQE/CQE, errors, CapSet, fixed
// addresses), mirroring docs/abi.md, which is the authority and is checked against
// this file by tests/kernel-logic-abi.test.ts. Constants only: no code, no state.

// ---------------------------------------------------------------------------
// Syscalls (RAX = number; arguments in RDI, RSI; result in RAX)

export const SYS_EXIT: u32 = 1;
export const SYS_CAP_ENTER: u32 = 2;

/** cap_enter timeout meaning "wait without a deadline". */
export const CAP_ENTER_WAIT_FOREVER: u64 = 0xFFFF_FFFF_FFFF_FFFF;

// ---------------------------------------------------------------------------
// Fixed user virtual addresses

/** Page size for every mapping the ABI describes. */
export const PAGE_SIZE: u32 = 4096;
/** Lowest address of the kernel half; user addresses are strictly below. */
export const KERNEL_HALF_BASE: u64 = 0xFFFF_8000_0000_0000;
/** End of the user mappings: the top user page is never mapped (keeps SYSRET's return address canonical). */
export const USER_LIMIT: u64 = 0x0000_7FFF_FFFF_F000;
/** The window holding the kernel-made pages (stack, ring, CapSet); ELF segments may not touch it. */
export const USER_RESERVED_BASE: u64 = 0x0000_0000_C000_0000;
export const USER_RESERVED_END: u64 = 0x0000_0001_0000_0000;
/** The user stack: [USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP), read/write, NX. */
export const USER_STACK_TOP: u64 = 0x0000_0000_FFF0_0000;
export const USER_STACK_SIZE: u64 = 0x0000_0000_0004_0000;
/** The guard page right below the stack; never mapped. */
export const USER_STACK_GUARD: u64 = 0x0000_0000_FFEB_F000;
/** The ring page: read/write, NX. */
export const RING_VADDR: u64 = 0x0000_0000_FFFE_0000;
/** The CapSet page: read-only, NX. */
export const CAPSET_VADDR: u64 = 0x0000_0000_FFFF_0000;

// ---------------------------------------------------------------------------
// Ring page layout

export const RING_MAGIC: u32 = 0x474E_4952; // "RING" in memory order
export const RING_VERSION: u32 = 1;
export const SQ_ENTRIES: u32 = 16;
export const CQ_ENTRIES: u32 = 32;
export const SQE_SIZE: u32 = 64;
export const CQE_SIZE: u32 = 32;
export const SQ_OFFSET: u32 = 0x100;
export const CQ_OFFSET: u32 = 0x500;

// Header field offsets (all u32).
export const RING_MAGIC_OFF: u32 = 0x00;
export const RING_VERSION_OFF: u32 = 0x04;
export const RING_SQ_ENTRIES_OFF: u32 = 0x08;
export const RING_CQ_ENTRIES_OFF: u32 = 0x0C;
export const RING_SQ_OFFSET_OFF: u32 = 0x10;
export const RING_CQ_OFFSET_OFF: u32 = 0x14;
export const RING_SQE_SIZE_OFF: u32 = 0x18;
export const RING_CQE_SIZE_OFF: u32 = 0x1C;
export const RING_SQ_HEAD_OFF: u32 = 0x20;
export const RING_SQ_TAIL_OFF: u32 = 0x24;
export const RING_CQ_HEAD_OFF: u32 = 0x28;
export const RING_CQ_TAIL_OFF: u32 = 0x2C;
export const RING_FLAGS_OFF: u32 = 0x30;
export const RING_CQ_STALLS_OFF: u32 = 0x34;
export const RING_CORRUPT_EVENTS_OFF: u32 = 0x38;

// Header flags (kernel-written).
export const RING_FLAG_SQ_CORRUPT: u32 = 1;
export const RING_FLAG_CQ_CORRUPT: u32 = 2;
export const RING_FLAG_CQ_STALLED: u32 = 4;

// SQE field offsets.
export const SQE_OPCODE_OFF: u32 = 0x00; // u8
export const SQE_FLAGS_OFF: u32 = 0x01; // u8
export const SQE_METHOD_ID_OFF: u32 = 0x02; // u16
export const SQE_CAP_ID_OFF: u32 = 0x04; // u32
export const SQE_USER_DATA_OFF: u32 = 0x08; // u64
export const SQE_INTERFACE_ID_OFF: u32 = 0x10; // u64
export const SQE_PARAMS_ADDR_OFF: u32 = 0x18; // u64
export const SQE_RESULT_ADDR_OFF: u32 = 0x20; // u64
export const SQE_PARAMS_LEN_OFF: u32 = 0x28; // u32
export const SQE_RESULT_LEN_OFF: u32 = 0x2C; // u32
export const SQE_CALL_ID_OFF: u32 = 0x30; // u32
export const SQE_XFER_CAP_COUNT_OFF: u32 = 0x34; // u16
export const SQE_PIPELINE_FIELD_OFF: u32 = 0x36; // u16
export const SQE_PIPELINE_DEP_OFF: u32 = 0x38; // u32
export const SQE_RESERVED_OFF: u32 = 0x3C; // u32

// CQE field offsets.
export const CQE_USER_DATA_OFF: u32 = 0x00; // u64
export const CQE_RESULT_OFF: u32 = 0x08; // i32
export const CQE_FLAGS_OFF: u32 = 0x0C; // u32
export const CQE_LEN_OFF: u32 = 0x10; // u32
export const CQE_CAP_COUNT_OFF: u32 = 0x14; // u32
export const CQE_RESERVED_OFF: u32 = 0x18; // u64

/** CQE flag: cap_count CapTransferResult records follow the result bytes (next milestone; never set yet). */
export const CQE_FLAG_RESULT_CAPS: u32 = 1;

// Opcodes. Zero is deliberately no opcode: a zeroed SQE fails closed.
export const OP_CALL: u8 = 1;
export const OP_RECV: u8 = 2;
export const OP_RETURN: u8 = 3;
export const OP_RELEASE: u8 = 4;
export const OP_FINISH: u8 = 5;
export const OP_NOP: u8 = 6;

/** Largest params message a CALL may carry. */
export const MAX_PARAMS_BYTES: u32 = 16384;
/** Largest result buffer a CALL may name. */
export const MAX_RESULT_BYTES: u32 = 16384;

// ---------------------------------------------------------------------------
// Error codes: negative CQE results and cap_enter return values

export const CAP_OK: i32 = 0;
export const CAP_ERR_INVALID_REQUEST: i32 = -1;
export const CAP_ERR_UNSUPPORTED_OPCODE: i32 = -2;
export const CAP_ERR_INVALID_CAP: i32 = -3;
export const CAP_ERR_STALE_CAP: i32 = -4;
export const CAP_ERR_WRONG_INTERFACE: i32 = -5;
export const CAP_ERR_BUFFER_TOO_LARGE: i32 = -6;
export const CAP_ERR_BAD_BUFFER: i32 = -7;
export const CAP_ERR_TRANSFER_NOT_SUPPORTED: i32 = -8;
export const CAP_ERR_APPLICATION_EXCEPTION: i32 = -9;
export const CAP_ERR_APPLICATION_EXCEPTION_TRUNCATED: i32 = -10;
export const CAP_ERR_RESULT_TOO_SMALL: i32 = -11;
export const CAP_ERR_INVALID_TRANSFER_DESCRIPTOR: i32 = -12;
export const CAP_ERR_TRANSFER_ABORTED: i32 = -13;
export const CAP_ERR_QUOTA_EXCEEDED: i32 = -14;
export const CAP_ERR_TABLE_FULL: i32 = -15;
export const CAP_ERR_INVALID_ARGUMENT: i32 = -16;
export const CAP_ERR_RING_CORRUPT: i32 = -17;
export const CAP_ERR_UNKNOWN_SYSCALL: i32 = -18;

// ---------------------------------------------------------------------------
// Capability ids: generation:8 | index:24

export const CAP_INDEX_BITS: u32 = 24;
export const CAP_INDEX_MASK: u32 = 0x00FF_FFFF;
/** The first generation a slot hands out; generation 0 is never issued, so CapId 0 is never valid. */
export const CAP_FIRST_GENERATION: u32 = 1;
/** The last generation; a slot released at this generation is retired. */
export const CAP_LAST_GENERATION: u32 = 255;

// ---------------------------------------------------------------------------
// CapSet page

export const CAPSET_MAGIC: u32 = 0x5445_5343; // "CSET" in memory order
export const CAPSET_VERSION: u32 = 1;
export const CAPSET_HEADER_SIZE: u32 = 16;
export const CAPSET_ENTRY_SIZE: u32 = 48;
export const CAPSET_NAME_MAX: u32 = 32;
export const CAPSET_MAX_ENTRIES: u32 = 85;

export const CAPSET_MAGIC_OFF: u32 = 0x00; // u32
export const CAPSET_VERSION_OFF: u32 = 0x04; // u16
export const CAPSET_ENTRY_SIZE_OFF: u32 = 0x06; // u16
export const CAPSET_COUNT_OFF: u32 = 0x08; // u32
export const CAPSET_ENTRIES_OFF: u32 = 0x10;

export const CAPSET_ENTRY_INTERFACE_ID_OFF: u32 = 0x00; // u64
export const CAPSET_ENTRY_CAP_ID_OFF: u32 = 0x08; // u32
export const CAPSET_ENTRY_NAME_LEN_OFF: u32 = 0x0C; // u16
export const CAPSET_ENTRY_NAME_OFF: u32 = 0x10; // u8[32]
