// The binary interface of compiled wasm: register roles, the calling convention
// between compiled functions and native (assembly) code, the trap ABI, the
// runtime symbols an embedding supplies, and the in-memory layouts of tables,
// memory descriptors and globals. docs/toolchain.md explains each choice.
import { RAX, RBX, RCX, RDI, RDX, RSI, R8, R9, R10, R12, R13, R14, R15 } from "./x64-writer.js";
import { isFloat, type ValType } from "./types.js";

// ---- Registers -----------------------------------------------------------------

/** Caller-saved registers that hold operand-stack values. */
export const SCRATCH_GPRS: readonly number[] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];
/** Callee-saved registers that hold locals (R15 is the memory base in the kernel and checked models). */
export const LOCAL_GPRS_USER: readonly number[] = [RBX, R12, R13, R14, R15];
export const LOCAL_GPRS_BASED: readonly number[] = [RBX, R12, R13, R14];
/** XMM registers that hold operand-stack values (XMM15 is the compiler's float temporary). */
export const SCRATCH_XMMS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
export const XMM_TEMP = 15;
/** The memory base register of the kernel and checked memory models. */
export const MEMORY_BASE_REG = R15;

/** Integer argument registers (System V order) and float argument registers. */
export const INT_ARG_REGS: readonly number[] = [RDI, RSI, RDX, RCX, R8, R9];
export const FLOAT_ARG_REGS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];
/** Result registers: integer results in RAX then RDX, float results in XMM0 then XMM1. */
export const INT_RESULT_REGS: readonly number[] = [RAX, RDX];
export const FLOAT_RESULT_REGS: readonly number[] = [0, 1];

/** Where one parameter or result travels: a register, or slot k of the stack area. */
export interface AbiLoc {
  /** Register number (GPR or XMM by the value's type), or -1 for the stack area. */
  reg: number;
  /** Slot index in the stack area (8 bytes each), or -1. */
  slot: number;
}

export interface CallLayout {
  params: AbiLoc[];
  results: AbiLoc[];
  /** Slots in the stack area: max(stack params, stack results), rounded up to even (16-byte alignment). */
  areaSlots: number;
  stackParams: number;
}

function assign(types: readonly ValType[], intRegs: readonly number[], floatRegs: readonly number[]): { locs: AbiLoc[]; slots: number } {
  let ni = 0, nf = 0, slots = 0;
  const locs = types.map((t): AbiLoc => {
    if (isFloat(t)) return nf < floatRegs.length ? { reg: floatRegs[nf++]!, slot: -1 } : { reg: -1, slot: slots++ };
    return ni < intRegs.length ? { reg: intRegs[ni++]!, slot: -1 } : { reg: -1, slot: slots++ };
  });
  return { locs, slots };
}

/**
 * The calling convention (System V AMD64 for parameters, extended for several
 * results): integer parameters in RDI RSI RDX RCX R8 R9, float parameters in
 * XMM0-7, the rest in stack slots; results in RAX RDX / XMM0 XMM1, the rest in
 * the same stack area the caller reserved for parameters (callee writes them
 * at [rsp+8+8k] as seen on entry).
 */
export function callLayout(params: readonly ValType[], results: readonly ValType[]): CallLayout {
  const p = assign(params, INT_ARG_REGS, FLOAT_ARG_REGS);
  const r = assign(results, INT_RESULT_REGS, FLOAT_RESULT_REGS);
  const n = Math.max(p.slots, r.slots);
  return { params: p.locs, results: r.locs, areaSlots: (n + 1) & ~1, stackParams: p.slots };
}

// ---- Traps -----------------------------------------------------------------------

/** Trap kinds passed to the trap entry in EDI. */
export const TRAP_UNREACHABLE = 1;
export const TRAP_INT_DIVIDE_BY_ZERO = 2;
export const TRAP_INT_OVERFLOW = 3;
export const TRAP_INVALID_CONVERSION = 4;
export const TRAP_OUT_OF_BOUNDS_MEMORY = 5;
export const TRAP_UNDEFINED_ELEMENT = 6;
export const TRAP_UNINITIALIZED_ELEMENT = 7;
export const TRAP_INDIRECT_CALL_TYPE_MISMATCH = 8;
export const TRAP_STACK_EXHAUSTED = 9;

/** The spec interpreter's wording of each trap kind. */
export const TRAP_MESSAGES: Record<number, string> = {
  [TRAP_UNREACHABLE]: "unreachable",
  [TRAP_INT_DIVIDE_BY_ZERO]: "integer divide by zero",
  [TRAP_INT_OVERFLOW]: "integer overflow",
  [TRAP_INVALID_CONVERSION]: "invalid conversion to integer",
  [TRAP_OUT_OF_BOUNDS_MEMORY]: "out of bounds memory access",
  [TRAP_UNDEFINED_ELEMENT]: "undefined element",
  [TRAP_UNINITIALIZED_ELEMENT]: "uninitialized element",
  [TRAP_INDIRECT_CALL_TYPE_MISMATCH]: "indirect call type mismatch",
  [TRAP_STACK_EXHAUSTED]: "call stack exhausted",
};

// ---- Runtime symbols (supplied by the embedding) -----------------------------------

/** Trap entry: EDI = trap kind, ESI = wasm function index, EDX = byte offset in the module. Never returns. */
export const SYM_TRAP = "__wasm_trap";
/** memory.grow hook: EDI = delta pages, RSI = memory descriptor address; returns old pages or -1 in EAX. */
export const SYM_MEMORY_GROW = "__wasm_memory_grow";
/** 8-byte cell: the lowest RSP a function may move to (a reserve below it is left for the trap entry). */
export const SYM_STACK_LIMIT = "__wasm_stack_limit";
/** Prefix of linker-assigned signature ids (absolute symbols; equal types get equal ids). */
export const SYM_SIG_PREFIX = "__wasm_sig:";

// ---- Layouts ------------------------------------------------------------------------

/** Memory descriptor: u32 current pages, u32 maximum pages, u64 current size in bytes. */
export const MEMDESC_PAGES = 0;
export const MEMDESC_MAX = 4;
export const MEMDESC_BYTES = 8;
export const MEMDESC_SIZE = 16;

/** Table: u32 size, u32 maximum, 8 reserved bytes, then 16-byte entries {u64 code address (0 = null), u32 signature id, u32 0}. */
export const TABLE_SIZE = 0;
export const TABLE_MAX = 4;
export const TABLE_HEADER = 16;
export const TABLE_ENTRY = 16;
export const ENTRY_CODE = 0;
export const ENTRY_SIG = 8;

/** Globals: one 8-byte cell each (32-bit values in the low half). */
export const GLOBAL_CELL = 8;

export const WASM_PAGE = 65536;
