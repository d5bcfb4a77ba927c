// The capability ring's kernel side (kernel/cap/ring.ts) running as wasm, fed
// ring pages laid out per docs/abi.md: every SQE field's validation and its
// exact error code, the check order, RELEASE and NOP, CQ credit accounting
// (backpressure, no lost completions), corrupt indices, index wrap-around and
// the cap_enter decisions. User buffers are checked through real x86-64 page
// tables built in guest memory.
import { beforeEach, describe, expect, it } from "vitest";
import { loadKernelLogic, PageTables, PTE_P, PTE_PS, PTE_U, PTE_W, type KernelLogic } from "./helpers/kernel-asc.js";

// Numbers from docs/abi.md.
const SQ_OFFSET = 0x100;
const CQ_OFFSET = 0x500;
const OP_CALL = 1;
const OP_RECV = 2;
const OP_RETURN = 3;
const OP_RELEASE = 4;
const OP_FINISH = 5;
const OP_NOP = 6;
const CAP_ERR_INVALID_REQUEST = -1;
const CAP_ERR_UNSUPPORTED_OPCODE = -2;
const CAP_ERR_INVALID_CAP = -3;
const CAP_ERR_STALE_CAP = -4;
const CAP_ERR_WRONG_INTERFACE = -5;
const CAP_ERR_BUFFER_TOO_LARGE = -6;
const CAP_ERR_BAD_BUFFER = -7;
const CAP_ERR_TRANSFER_NOT_SUPPORTED = -8;
const CAP_ERR_INVALID_ARGUMENT = -16;
const CAP_ERR_RING_CORRUPT = -17;
const RING_FLAG_SQ_CORRUPT = 1;
const RING_FLAG_CQ_CORRUPT = 2;
const RING_FLAG_CQ_STALLED = 4;
const USER_LIMIT = 0x0000_7fff_ffff_f000n;

// Header offsets.
const SQ_HEAD = 0x20;
const SQ_TAIL = 0x24;
const CQ_HEAD = 0x28;
const CQ_TAIL = 0x2c;
const FLAGS = 0x30;
const CQ_STALLS = 0x34;
const CORRUPT_EVENTS = 0x38;

interface Sqe {
  opcode: number;
  flags?: number;
  methodId?: number;
  capId?: number;
  userData?: bigint;
  interfaceId?: bigint;
  paramsAddr?: bigint;
  resultAddr?: bigint;
  paramsLen?: number;
  resultLen?: number;
  callId?: number;
  xferCapCount?: number;
  pipelineField?: number;
  pipelineDep?: number;
  reserved?: number;
}

interface Cqe {
  userData: bigint;
  result: number;
  flags: number;
  len: number;
  capCount: number;
  reserved: bigint;
}

const CONSOLE_IFACE = 0xacf0_c15a_7b2e_0041n;
const PARAMS_VA = 0x1000_0000n;
const RESULT_VA = 0x2000_0000n;
const READONLY_VA = 0x3000_0000n;
const KERNEL_ONLY_VA = 0x4000_0000n;

let k: KernelLogic;
let ring: number;
let page: number;
let table: number;
let pt: PageTables;
let request: number;
let consoleCap: number;

const NEXT = { EMPTY: 0, DONE: 1, CALL: 2, RELEASED: 3, CQ_FULL: 4, CORRUPT: 5 };

function writeSqe(slotAddress: number, s: Sqe): void {
  k.setU8(slotAddress + 0x00, s.opcode);
  k.setU8(slotAddress + 0x01, s.flags ?? 0);
  k.setU16(slotAddress + 0x02, s.methodId ?? 0);
  k.setU32(slotAddress + 0x04, s.capId ?? 0);
  k.setU64(slotAddress + 0x08, s.userData ?? 0n);
  k.setU64(slotAddress + 0x10, s.interfaceId ?? 0n);
  k.setU64(slotAddress + 0x18, s.paramsAddr ?? 0n);
  k.setU64(slotAddress + 0x20, s.resultAddr ?? 0n);
  k.setU32(slotAddress + 0x28, s.paramsLen ?? 0);
  k.setU32(slotAddress + 0x2c, s.resultLen ?? 0);
  k.setU32(slotAddress + 0x30, s.callId ?? 0);
  k.setU16(slotAddress + 0x34, s.xferCapCount ?? 0);
  k.setU16(slotAddress + 0x36, s.pipelineField ?? 0);
  k.setU32(slotAddress + 0x38, s.pipelineDep ?? 0);
  k.setU32(slotAddress + 0x3c, s.reserved ?? 0);
}

/** Submits like a user program: write the SQE at sq_tail & 15, then advance sq_tail. */
function submit(s: Sqe): void {
  const tail = k.u32(page + SQ_TAIL);
  writeSqe(page + SQ_OFFSET + (tail & 15) * 64, s);
  k.setU32(page + SQ_TAIL, tail + 1);
}

const next = (): number => k.fn("ringNext")(ring, table, pt.root, request) as number;

function cqeAt(index: number): Cqe {
  const at = page + CQ_OFFSET + (index & 31) * 32;
  return {
    userData: k.u64(at),
    result: k.i32(at + 8),
    flags: k.u32(at + 12),
    len: k.u32(at + 16),
    capCount: k.u32(at + 20),
    reserved: k.u64(at + 24),
  };
}

/** Reads one completion like a user program: at cq_head, then advance cq_head. */
function reap(): Cqe {
  const head = k.u32(page + CQ_HEAD);
  expect((k.u32(page + CQ_TAIL) - head) >>> 0, "a completion is available").toBeGreaterThan(0);
  const c = cqeAt(head);
  k.setU32(page + CQ_HEAD, head + 1);
  return c;
}

/** Submits one SQE, runs the kernel once, and returns the completion's result. */
function resultOf(s: Sqe): number {
  submit({ userData: 0x5eed_0000_0000_0001n, ...s });
  const outcome = next();
  if (outcome === NEXT.CALL) {
    // Stand in for the dispatcher: complete with "success, 0 bytes".
    expect(k.fn("ringComplete")(ring, k.fn("requestUserData")(request), 0, 0, 0, 0)).toBe(0);
  }
  const c = reap();
  expect(c.userData).toBe(0x5eed_0000_0000_0001n);
  return c.result;
}

const validCall = (): Sqe => ({
  opcode: OP_CALL,
  capId: consoleCap,
  methodId: 1,
  interfaceId: CONSOLE_IFACE,
  paramsAddr: PARAMS_VA,
  paramsLen: 64,
  resultAddr: RESULT_VA,
  resultLen: 128,
});

beforeEach(async () => {
  k = await loadKernelLogic();
  ring = k.alloc(Number(k.constant("RING_STATE_BYTES")), 8);
  page = k.alloc(4096, 4096);
  request = k.alloc(Number(k.constant("REQUEST_BYTES")), 8);
  k.bytes.fill(0xcc, page, page + 4096);
  k.fn("ringInit")(ring, page);
  const bytes = Number(k.fn("capTableBytes")(16));
  table = k.alloc(bytes, 8);
  expect(k.fn("capTableInit")(table, BigInt(bytes), 16, 16)).toBe(0);
  consoleCap = Number(k.fn("capTableInsert")(table, CONSOLE_IFACE, 42, 3));
  pt = new PageTables(k);
  // Params: 5 readable pages (enough for MAX_PARAMS_BYTES at any offset); results: 5 writable pages.
  pt.mapFresh(PARAMS_VA, 5, PTE_U);
  pt.mapFresh(RESULT_VA, 5, PTE_U | PTE_W);
  pt.mapFresh(READONLY_VA - 4096n, 1, PTE_U | PTE_W);
  pt.mapFresh(READONLY_VA, 1, PTE_U);
  pt.mapFresh(KERNEL_ONLY_VA, 1, PTE_W);
});

describe("ring page setup", () => {
  it("writes the documented header and zeroes the rest of the page", () => {
    const expected: [number, number][] = [
      [0x00, 0x474e4952], [0x04, 1], [0x08, 16], [0x0c, 32], [0x10, 0x100], [0x14, 0x500], [0x18, 64], [0x1c, 32],
    ];
    for (const [offset, value] of expected) expect(k.u32(page + offset), `header 0x${offset.toString(16)}`).toBe(value);
    expect(new TextDecoder().decode(k.bytes.slice(page, page + 4))).toBe("RING");
    for (let b = page + 0x20; b < page + 4096; b++) expect(k.u8(b)).toBe(0);
  });

  it("reports an empty SQ without touching the CQ", () => {
    expect(next()).toBe(NEXT.EMPTY);
    expect(k.u32(page + CQ_TAIL)).toBe(0);
    expect(k.fn("ringAvailable")(ring)).toBe(0);
  });
});

describe("NOP", () => {
  it("completes with result 0 and echoes user_data", () => {
    submit({ opcode: OP_NOP, userData: 0xdead_beef_cafe_f00dn });
    expect(next()).toBe(NEXT.DONE);
    expect(k.u32(page + SQ_HEAD)).toBe(1);
    expect(k.u32(page + CQ_TAIL)).toBe(1);
    expect(reap()).toEqual({ userData: 0xdead_beef_cafe_f00dn, result: 0, flags: 0, len: 0, capCount: 0, reserved: 0n });
    expect(next()).toBe(NEXT.EMPTY);
  });

  const fields: [string, Sqe][] = [
    ["flags", { opcode: OP_NOP, flags: 1 }],
    ["flags (high bit)", { opcode: OP_NOP, flags: 0x80 }],
    ["method_id", { opcode: OP_NOP, methodId: 1 }],
    ["cap_id", { opcode: OP_NOP, capId: 0x01000000 }],
    ["interface_id", { opcode: OP_NOP, interfaceId: 1n }],
    ["params_addr", { opcode: OP_NOP, paramsAddr: PARAMS_VA }],
    ["result_addr", { opcode: OP_NOP, resultAddr: RESULT_VA }],
    ["params_len", { opcode: OP_NOP, paramsLen: 1 }],
    ["result_len", { opcode: OP_NOP, resultLen: 1 }],
    ["call_id", { opcode: OP_NOP, callId: 1 }],
    ["xfer_cap_count", { opcode: OP_NOP, xferCapCount: 1 }],
    ["pipeline_field", { opcode: OP_NOP, pipelineField: 1 }],
    ["pipeline_dep", { opcode: OP_NOP, pipelineDep: 1 }],
    ["reserved", { opcode: OP_NOP, reserved: 0x80000000 }],
  ];
  for (const [field, sqe] of fields) {
    it(`fails closed when ${field} is non-zero`, () => {
      expect(resultOf(sqe)).toBe(CAP_ERR_INVALID_REQUEST);
    });
  }
});

describe("opcodes", () => {
  for (const opcode of [0, OP_RECV, OP_RETURN, OP_FINISH, 7, 0x80, 0xff]) {
    it(`rejects opcode ${opcode} with CAP_ERR_UNSUPPORTED_OPCODE`, () => {
      expect(resultOf({ ...validCall(), opcode })).toBe(CAP_ERR_UNSUPPORTED_OPCODE);
      expect(k.fn("ringCredits")(ring)).toBe(0);
    });
  }

  it("fails a zeroed SQE", () => {
    expect(resultOf({ opcode: 0 })).toBe(CAP_ERR_UNSUPPORTED_OPCODE);
  });
});

describe("CALL", () => {
  it("hands a valid CALL to the dispatcher with a CQ entry reserved", () => {
    submit({ ...validCall(), userData: 77n, methodId: 0xbeef });
    expect(next()).toBe(NEXT.CALL);
    expect(k.fn("requestStatus")(request)).toBe(0);
    expect(k.fn("requestOpcode")(request)).toBe(OP_CALL);
    expect(k.fn("requestMethodId")(request)).toBe(0xbeef);
    expect(k.fn("requestCapId")(request) >>> 0).toBe(consoleCap);
    expect(k.fn("requestSlot")(request)).toBe(0);
    expect(k.fn("requestObject")(request)).toBe(42);
    expect(k.fn("requestAux")(request)).toBe(3);
    expect(BigInt.asUintN(64, k.fn("requestSlotInterfaceId")(request))).toBe(CONSOLE_IFACE);
    expect(BigInt(k.fn("requestParamsAddr")(request))).toBe(PARAMS_VA);
    expect(k.fn("requestParamsLen")(request)).toBe(64);
    expect(BigInt(k.fn("requestResultAddr")(request))).toBe(RESULT_VA);
    expect(k.fn("requestResultLen")(request)).toBe(128);
    // Consumed, owed, not yet posted.
    expect(k.u32(page + SQ_HEAD)).toBe(1);
    expect(k.u32(page + CQ_TAIL)).toBe(0);
    expect(k.fn("ringCredits")(ring)).toBe(1);
    // The program rewriting its SQE now changes nothing: the kernel works from its copy.
    writeSqe(page + SQ_OFFSET, { opcode: OP_NOP, capId: 999, methodId: 1 });
    expect(k.fn("requestMethodId")(request)).toBe(0xbeef);
    expect(k.fn("requestCapId")(request) >>> 0).toBe(consoleCap);
    expect(k.fn("ringComplete")(ring, 77n, 24, 24, 0, 0)).toBe(0);
    expect(k.fn("ringCredits")(ring)).toBe(0);
    expect(reap()).toEqual({ userData: 77n, result: 24, flags: 0, len: 24, capCount: 0, reserved: 0n });
    expect(k.fn("ringComplete")(ring, 77n, 0, 0, 0, 0)).toBe(CAP_ERR_INVALID_ARGUMENT);
  });

  it("accepts no interface id, no params and no result buffer", () => {
    expect(resultOf({ ...validCall(), interfaceId: 0n })).toBe(0);
    expect(resultOf({ ...validCall(), paramsAddr: 0n, paramsLen: 0 })).toBe(0);
    expect(resultOf({ ...validCall(), resultAddr: 0n, resultLen: 0 })).toBe(0);
    expect(resultOf({ opcode: OP_CALL, capId: consoleCap })).toBe(0);
  });

  const reservedFields: [string, Partial<Sqe>][] = [
    ["flags", { flags: 1 }],
    ["flags (high bit)", { flags: 0x80 }],
    ["call_id", { callId: 5 }],
    ["pipeline_field", { pipelineField: 1 }],
    ["pipeline_dep", { pipelineDep: 1 }],
    ["reserved", { reserved: 1 }],
  ];
  for (const [field, change] of reservedFields) {
    it(`fails with CAP_ERR_INVALID_REQUEST when ${field} is non-zero`, () => {
      expect(resultOf({ ...validCall(), ...change })).toBe(CAP_ERR_INVALID_REQUEST);
    });
  }

  it("refuses capability transfer in this ABI version", () => {
    expect(resultOf({ ...validCall(), xferCapCount: 1 })).toBe(CAP_ERR_TRANSFER_NOT_SUPPORTED);
    expect(resultOf({ ...validCall(), xferCapCount: 0xffff })).toBe(CAP_ERR_TRANSFER_NOT_SUPPORTED);
  });

  it("bounds buffer lengths", () => {
    expect(resultOf({ ...validCall(), paramsLen: 16384 })).toBe(0);
    expect(resultOf({ ...validCall(), resultLen: 16384 })).toBe(0);
    expect(resultOf({ ...validCall(), paramsLen: 16385 })).toBe(CAP_ERR_BUFFER_TOO_LARGE);
    expect(resultOf({ ...validCall(), resultLen: 16385 })).toBe(CAP_ERR_BUFFER_TOO_LARGE);
    expect(resultOf({ ...validCall(), paramsLen: 0xffff_ffff })).toBe(CAP_ERR_BUFFER_TOO_LARGE);
  });

  it("requires an empty buffer to have address 0", () => {
    expect(resultOf({ ...validCall(), paramsLen: 0 })).toBe(CAP_ERR_INVALID_REQUEST);
    expect(resultOf({ ...validCall(), resultLen: 0 })).toBe(CAP_ERR_INVALID_REQUEST);
  });

  it("rejects cap ids that name nothing or something gone", () => {
    expect(resultOf({ ...validCall(), capId: 0 })).toBe(CAP_ERR_INVALID_CAP);
    expect(resultOf({ ...validCall(), capId: 0x0100_0010 })).toBe(CAP_ERR_INVALID_CAP); // index 16 of 16
    expect(resultOf({ ...validCall(), capId: 0x0100_0005 })).toBe(CAP_ERR_INVALID_CAP); // never issued
    expect(resultOf({ ...validCall(), capId: (consoleCap + 0x0100_0000) >>> 0 })).toBe(CAP_ERR_STALE_CAP);
    expect(k.fn("capTableRemove")(table, consoleCap)).toBe(0);
    expect(resultOf(validCall())).toBe(CAP_ERR_STALE_CAP);
  });

  it("checks the caller's expected interface against the slot", () => {
    expect(resultOf({ ...validCall(), interfaceId: CONSOLE_IFACE + 1n })).toBe(CAP_ERR_WRONG_INTERFACE);
    expect(resultOf({ ...validCall(), interfaceId: 0xffff_ffff_ffff_ffffn })).toBe(CAP_ERR_WRONG_INTERFACE);
  });

  describe("buffers", () => {
    const bad: [string, Partial<Sqe>][] = [
      ["params unmapped", { paramsAddr: 0x5000_0000n }],
      ["params run into an unmapped page", { paramsAddr: PARAMS_VA + 5n * 4096n - 32n, paramsLen: 64 }],
      ["params in a supervisor page", { paramsAddr: KERNEL_ONLY_VA }],
      ["params in the kernel half", { paramsAddr: 0xffff_8000_0000_0000n }],
      ["params at the never-mapped top user page", { paramsAddr: USER_LIMIT, paramsLen: 8 }],
      ["params non-canonical", { paramsAddr: 0x0000_8000_0000_0000n }],
      ["params wrapping around", { paramsAddr: 0xffff_ffff_ffff_fff8n, paramsLen: 16 }],
      ["result unmapped", { resultAddr: 0x5000_0000n }],
      ["result read-only", { resultAddr: READONLY_VA }],
      ["result in a supervisor page", { resultAddr: KERNEL_ONLY_VA }],
      ["result crossing into a read-only page", { resultAddr: READONLY_VA - 16n, resultLen: 32 }],
      ["result in the kernel half", { resultAddr: 0xffff_ffff_8000_0000n }],
      ["result wrapping around", { resultAddr: 0xffff_ffff_ffff_ff00n, resultLen: 0x200 }],
    ];
    for (const [what, change] of bad) {
      it(`fails with CAP_ERR_BAD_BUFFER: ${what}`, () => {
        expect(resultOf({ ...validCall(), ...change })).toBe(CAP_ERR_BAD_BUFFER);
      });
    }

    it("accepts params from a read-only page and ranges ending at the last byte of a mapping", () => {
      expect(resultOf({ ...validCall(), paramsAddr: READONLY_VA, paramsLen: 4096 })).toBe(0);
      expect(resultOf({ ...validCall(), resultAddr: RESULT_VA + 5n * 4096n - 1n, resultLen: 1 })).toBe(0);
      expect(resultOf({ ...validCall(), resultAddr: READONLY_VA - 16n, resultLen: 16 })).toBe(0);
    });

    it("lets params and result overlap", () => {
      expect(resultOf({ ...validCall(), paramsAddr: RESULT_VA, resultAddr: RESULT_VA })).toBe(0);
    });

    it("requires user and writable permission at every page-table level", () => {
      // A page whose leaf allows everything but whose upper levels deny user access or writes.
      const noUserVa = 0x60_0000_0000n; // a page-directory-pointer entry of its own
      const entry = pt.entryFor(noUserVa, PTE_P | PTE_W);
      k.setU64(entry, BigInt(k.alloc(4096, 4096)) | PTE_P | PTE_W | PTE_U);
      expect(resultOf({ ...validCall(), paramsAddr: noUserVa })).toBe(CAP_ERR_BAD_BUFFER);
      const readOnlyUpperVa = 0x61_0000_0000n;
      const entry2 = pt.entryFor(readOnlyUpperVa, PTE_P | PTE_U);
      k.setU64(entry2, BigInt(k.alloc(4096, 4096)) | PTE_P | PTE_W | PTE_U);
      expect(resultOf({ ...validCall(), paramsAddr: readOnlyUpperVa })).toBe(0);
      expect(resultOf({ ...validCall(), resultAddr: readOnlyUpperVa })).toBe(CAP_ERR_BAD_BUFFER);
    });

    it("follows 2 MiB pages", () => {
      const va = 0x7000_0000n;
      const backing = k.alloc(2 << 20, 2 << 20);
      // The PD entry for va, with PS set (entryFor returns the PT entry; step one level up by hand).
      let t = pt.root;
      for (const shift of [39n, 30n]) {
        const slot = t + Number((va >> shift) & 511n) * 8;
        if ((k.u64(slot) & PTE_P) === 0n) k.setU64(slot, BigInt(k.alloc(4096, 4096)) | PTE_P | PTE_W | PTE_U);
        t = Number(k.u64(slot) & 0x000f_ffff_ffff_f000n);
      }
      k.setU64(t + Number((va >> 21n) & 511n) * 8, BigInt(backing) | PTE_P | PTE_W | PTE_U | PTE_PS);
      expect(resultOf({ ...validCall(), resultAddr: va + 0x1f_f000n, resultLen: 4096 })).toBe(0);
      expect(Number(k.fn("userTranslate")(pt.root, va + 0x12_3456n, true))).toBe(backing + 0x12_3456);
    });
  });

  describe("check order (the first failing check decides)", () => {
    it("opcode before structure", () => {
      expect(resultOf({ ...validCall(), opcode: OP_FINISH, flags: 1 })).toBe(CAP_ERR_UNSUPPORTED_OPCODE);
    });
    it("structure before transfer", () => {
      expect(resultOf({ ...validCall(), xferCapCount: 1, reserved: 1 })).toBe(CAP_ERR_INVALID_REQUEST);
    });
    it("transfer before buffer shape", () => {
      expect(resultOf({ ...validCall(), xferCapCount: 1, paramsLen: 99999 })).toBe(CAP_ERR_TRANSFER_NOT_SUPPORTED);
    });
    it("params shape before result shape", () => {
      expect(resultOf({ ...validCall(), paramsLen: 0, resultLen: 99999 })).toBe(CAP_ERR_INVALID_REQUEST);
    });
    it("buffer shape before capability", () => {
      expect(resultOf({ ...validCall(), capId: 0, resultLen: 99999 })).toBe(CAP_ERR_BUFFER_TOO_LARGE);
    });
    it("capability before interface", () => {
      expect(resultOf({ ...validCall(), capId: 0, interfaceId: 1n })).toBe(CAP_ERR_INVALID_CAP);
    });
    it("interface before buffer contents", () => {
      expect(resultOf({ ...validCall(), interfaceId: 1n, paramsAddr: 0x5000_0000n })).toBe(CAP_ERR_WRONG_INTERFACE);
    });
  });
});

describe("RELEASE", () => {
  it("removes the slot, completes with 0 and tells the kernel what was held", () => {
    submit({ opcode: OP_RELEASE, capId: consoleCap, userData: 9n });
    expect(next()).toBe(NEXT.RELEASED);
    expect(k.fn("requestObject")(request)).toBe(42);
    expect(k.fn("requestAux")(request)).toBe(3);
    expect(BigInt.asUintN(64, k.fn("requestSlotInterfaceId")(request))).toBe(CONSOLE_IFACE);
    expect(reap()).toEqual({ userData: 9n, result: 0, flags: 0, len: 0, capCount: 0, reserved: 0n });
    expect(k.fn("capTableGet")(table, consoleCap)).toBe(CAP_ERR_STALE_CAP);
    expect(resultOf({ opcode: OP_RELEASE, capId: consoleCap })).toBe(CAP_ERR_STALE_CAP);
    expect(resultOf(validCall())).toBe(CAP_ERR_STALE_CAP);
  });

  it("rejects CALL-only fields and leaves the slot alone when it fails", () => {
    const extras: Partial<Sqe>[] = [
      { methodId: 1 }, { interfaceId: CONSOLE_IFACE }, { paramsAddr: PARAMS_VA }, { paramsLen: 8 },
      { resultAddr: RESULT_VA }, { resultLen: 8 }, { xferCapCount: 1 }, { flags: 1 }, { callId: 1 },
      { pipelineDep: 1 }, { pipelineField: 1 }, { reserved: 1 },
    ];
    for (const extra of extras) {
      expect(resultOf({ opcode: OP_RELEASE, capId: consoleCap, ...extra }), JSON.stringify(extra, (_, v) => (typeof v === "bigint" ? String(v) : v))).toBe(CAP_ERR_INVALID_REQUEST);
    }
    expect(k.fn("capTableGet")(table, consoleCap)).toBe(0);
  });

  it("rejects ids that name nothing", () => {
    expect(resultOf({ opcode: OP_RELEASE, capId: 0 })).toBe(CAP_ERR_INVALID_CAP);
    expect(resultOf({ opcode: OP_RELEASE, capId: 0x0100_0007 })).toBe(CAP_ERR_INVALID_CAP);
    expect(k.fn("capTableLive")(table)).toBe(1);
  });
});

describe("CQ accounting", () => {
  it("fills the CQ exactly, then stops consuming instead of dropping", () => {
    for (let i = 0; i < 16; i++) submit({ opcode: OP_NOP, userData: BigInt(i) });
    for (let i = 0; i < 16; i++) expect(next()).toBe(NEXT.DONE);
    for (let i = 16; i < 32; i++) submit({ opcode: OP_NOP, userData: BigInt(i) });
    for (let i = 16; i < 32; i++) expect(next()).toBe(NEXT.DONE);
    expect(k.fn("ringAvailable")(ring)).toBe(32);
    submit({ opcode: OP_NOP, userData: 32n });
    expect(next()).toBe(NEXT.CQ_FULL);
    expect(k.u32(page + SQ_HEAD)).toBe(32); // not consumed
    expect(k.u32(page + FLAGS) & RING_FLAG_CQ_STALLED).toBe(RING_FLAG_CQ_STALLED);
    expect(k.u32(page + CQ_STALLS)).toBe(1);
    expect(next()).toBe(NEXT.CQ_FULL);
    expect(k.u32(page + CQ_STALLS)).toBe(2);
    // Every completion is intact and in order.
    expect(reap().userData).toBe(0n);
    expect(next()).toBe(NEXT.DONE);
    expect(k.u32(page + FLAGS) & RING_FLAG_CQ_STALLED).toBe(0);
    for (let i = 1; i <= 32; i++) expect(reap().userData).toBe(BigInt(i));
    expect(k.fn("ringAvailable")(ring)).toBe(0);
  });

  it("counts owed completions: a CALL in flight holds its entry", () => {
    for (let i = 0; i < 16; i++) submit({ opcode: OP_NOP });
    for (let i = 0; i < 16; i++) next();
    for (let i = 0; i < 15; i++) submit({ opcode: OP_NOP });
    for (let i = 0; i < 15; i++) next();
    expect(k.fn("ringAvailable")(ring)).toBe(31);
    submit({ ...validCall(), userData: 1234n });
    expect(next()).toBe(NEXT.CALL); // the last free entry is now promised to it
    submit({ opcode: OP_NOP });
    expect(next()).toBe(NEXT.CQ_FULL); // nothing left to promise
    expect(k.fn("ringComplete")(ring, 1234n, 0, 0, 0, 0)).toBe(0);
    expect(k.fn("ringAvailable")(ring)).toBe(32);
    expect(cqeAt(31).userData).toBe(1234n);
  });

  it("keeps an owed completion when the program moved cq_head backwards", () => {
    submit({ ...validCall(), userData: 5n });
    expect(next()).toBe(NEXT.CALL);
    // 32 NOPs complete and are read; then the program rewinds cq_head over all of
    // them, so the CQ looks full of unread entries while the CALL is still owed.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 15; i++) submit({ opcode: OP_NOP });
      for (let i = 0; i < 15; i++) expect(next()).toBe(NEXT.DONE);
      for (let i = 0; i < 15; i++) reap();
    }
    for (let i = 0; i < 2; i++) {
      submit({ opcode: OP_NOP });
      expect(next()).toBe(NEXT.DONE);
      reap();
    }
    expect(k.u32(page + CQ_TAIL)).toBe(32);
    k.setU32(page + CQ_HEAD, 0); // now 32 "unread" entries, and the CALL still owed
    expect(k.fn("ringComplete")(ring, 5n, 0, 0, 0, 0)).toBe(Number(k.constant("COMPLETE_DEFERRED")));
    expect(k.fn("ringCredits")(ring)).toBe(1);
    expect(k.u32(page + CQ_TAIL)).toBe(32);
    k.setU32(page + CQ_HEAD, 1);
    expect(k.fn("ringComplete")(ring, 5n, 0, 0, 0, 0)).toBe(0);
    expect(cqeAt(32).userData).toBe(5n);
  });

  it("works across the 2^32 wrap of every index", () => {
    const start = 0xffff_fff0;
    k.fn("testRingSetCounters")(ring, start, start);
    k.setU32(page + SQ_TAIL, start);
    k.setU32(page + CQ_HEAD, start);
    let expected = 0n;
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 12; i++) submit({ opcode: OP_NOP, userData: BigInt(batch * 12 + i) });
      for (let i = 0; i < 12; i++) expect(next()).toBe(NEXT.DONE);
      for (let i = 0; i < 12; i++) expect(reap().userData).toBe(expected++);
    }
    expect(k.u32(page + SQ_HEAD)).toBe((start + 48) >>> 0);
    expect(k.u32(page + CQ_TAIL)).toBe((start + 48) >>> 0);
  });
});

describe("corrupt indices", () => {
  it("refuses an SQ tail more than 16 ahead, consuming nothing, and recovers", () => {
    submit({ opcode: OP_NOP });
    k.setU32(page + SQ_TAIL, 17);
    expect(next()).toBe(NEXT.CORRUPT);
    expect(k.fn("ringCheck")(ring)).toBe(CAP_ERR_RING_CORRUPT);
    expect(k.u32(page + SQ_HEAD)).toBe(0);
    expect(k.u32(page + CQ_TAIL)).toBe(0);
    expect(k.u32(page + FLAGS) & RING_FLAG_SQ_CORRUPT).toBe(RING_FLAG_SQ_CORRUPT);
    expect(k.u32(page + CORRUPT_EVENTS)).toBe(2);
    k.setU32(page + SQ_TAIL, 1);
    expect(next()).toBe(NEXT.DONE);
    expect(k.u32(page + FLAGS) & RING_FLAG_SQ_CORRUPT).toBe(0);
  });

  it("refuses an SQ tail behind the head", () => {
    submit({ opcode: OP_NOP });
    next();
    k.setU32(page + SQ_TAIL, 0);
    expect(next()).toBe(NEXT.CORRUPT);
  });

  it("accepts exactly 16 pending SQEs", () => {
    for (let i = 0; i < 16; i++) submit({ opcode: OP_NOP });
    expect(k.fn("ringCheck")(ring)).toBe(0);
  });

  it("refuses a CQ head ahead of the tail", () => {
    k.setU32(page + CQ_HEAD, 1);
    submit({ opcode: OP_NOP });
    expect(next()).toBe(NEXT.CORRUPT);
    expect(k.u32(page + FLAGS) & RING_FLAG_CQ_CORRUPT).toBe(RING_FLAG_CQ_CORRUPT);
    expect(k.fn("ringAvailable")(ring)).toBe(CAP_ERR_RING_CORRUPT);
    expect(k.fn("ringMustWait")(ring, 1, 1000n)).toBe(0);
    k.setU32(page + CQ_HEAD, 0);
    expect(next()).toBe(NEXT.DONE);
  });

  it("ignores the kernel-owned fields the program scribbles on", () => {
    submit({ opcode: OP_NOP, userData: 1n });
    k.setU32(page + SQ_HEAD, 12345);
    k.setU32(page + CQ_TAIL, 999);
    k.setU32(page + 0x08, 1); // sq_entries
    expect(next()).toBe(NEXT.DONE);
    expect(k.u32(page + SQ_HEAD)).toBe(1);
    expect(k.u32(page + CQ_TAIL)).toBe(1);
    expect(reap().userData).toBe(1n);
  });
});

describe("cap_enter decisions", () => {
  it("rejects min_complete above the CQ size (all 64 bits)", () => {
    expect(k.fn("capEnterCheck")(32n)).toBe(0);
    expect(k.fn("capEnterCheck")(0n)).toBe(0);
    expect(k.fn("capEnterCheck")(33n)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(k.fn("capEnterCheck")(0x1_0000_0000n + 1n)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(k.fn("capEnterCheck")(-1n)).toBe(CAP_ERR_INVALID_ARGUMENT);
  });

  it("waits only when enough completions are available or still owed", () => {
    const mustWait = (min: number, timeout: bigint): boolean => k.fn("ringMustWait")(ring, min, timeout) === 1;
    expect(mustWait(0, -1n)).toBe(false);
    expect(mustWait(1, -1n)).toBe(false); // nothing available, nothing owed: would never end
    submit({ opcode: OP_NOP });
    next();
    expect(mustWait(1, -1n)).toBe(false); // already satisfied
    expect(mustWait(2, -1n)).toBe(false); // cannot be reached
    submit(validCall());
    expect(next()).toBe(NEXT.CALL);
    expect(mustWait(2, -1n)).toBe(true); // one available, one owed
    expect(mustWait(2, 0n)).toBe(false); // polling never waits
    expect(mustWait(3, -1n)).toBe(false);
  });
});

describe("user memory copies", () => {
  it("copies across pages with scattered backing, both ways", () => {
    const va = 0x0800_0000n;
    const frames = [k.alloc(4096, 4096), k.alloc(4096, 4096)];
    pt.map(va, frames[1]!, PTE_U | PTE_W);
    pt.map(va + 4096n, frames[0]!, PTE_U | PTE_W);
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const src = k.put(data);
    expect(k.fn("copyToUser")(pt.root, va + 4000n, src, 300)).toBe(1);
    expect(k.bytes.slice(frames[1]! + 4000, frames[1]! + 4096)).toEqual(data.slice(0, 96));
    expect(k.bytes.slice(frames[0]!, frames[0]! + 204)).toEqual(data.slice(96));
    const dst = k.alloc(300);
    expect(k.fn("copyFromUser")(pt.root, dst, va + 4000n, 300)).toBe(1);
    expect(k.bytes.slice(dst, dst + 300)).toEqual(data);
  });

  it("writes nothing when any page of the range is not allowed", () => {
    const va = 0x0900_0000n;
    const writable = pt.mapFresh(va, 1, PTE_U | PTE_W);
    pt.mapFresh(va + 4096n, 1, PTE_U);
    const src = k.put(new Uint8Array(200).fill(7));
    expect(k.fn("copyToUser")(pt.root, va + 4000n, src, 200)).toBe(0);
    expect([...k.bytes.slice(writable + 4000, writable + 4096)].every((b) => b === 0)).toBe(true);
    const dst = k.alloc(200);
    k.bytes.fill(9, dst, dst + 200);
    expect(k.fn("copyFromUser")(pt.root, dst, va + 4000n, 200)).toBe(1);
    expect(k.fn("copyFromUser")(pt.root, dst, va + 8000n, 200)).toBe(0);
  });

  it("never translates addresses outside the user half", () => {
    expect(Number(k.fn("userTranslate")(pt.root, 0xffff_8000_0000_0000n, false))).toBe(-1);
    expect(Number(k.fn("userTranslate")(pt.root, USER_LIMIT, false))).toBe(-1);
    expect(Number(k.fn("userTranslate")(pt.root, PARAMS_VA + 5n, false))).toBeGreaterThan(0);
  });
});
