// The per-process capability table (kernel/cap/table.ts) running as wasm:
// CapId encoding, insert/get/remove, stale and forged ids, FIFO reuse,
// generation retirement, the live-slot quota and reservations.
import { beforeEach, describe, expect, it } from "vitest";
import { loadKernelLogic, type KernelLogic } from "./helpers/kernel-asc.js";

// Error codes as docs/abi.md defines them.
const CAP_OK = 0;
const CAP_ERR_INVALID_CAP = -3;
const CAP_ERR_STALE_CAP = -4;
const CAP_ERR_QUOTA_EXCEEDED = -14;
const CAP_ERR_TABLE_FULL = -15;
const CAP_ERR_INVALID_ARGUMENT = -16;

const id = (generation: number, index: number): number => ((generation << 24) | index) >>> 0;

let k: KernelLogic;
let table: number;

function makeTable(capacity: number, quota: number): number {
  const bytes = Number(k.fn("capTableBytes")(capacity));
  const at = k.alloc(bytes, 8);
  expect(k.fn("capTableInit")(at, BigInt(bytes), capacity, quota)).toBe(CAP_OK);
  return at;
}

const insert = (iface: bigint, object: number, aux = 0): number => Number(k.fn("capTableInsert")(table, iface, object, aux));
const get = (capId: number): number => k.fn("capTableGet")(table, capId) as number;
const remove = (capId: number): number => k.fn("capTableRemove")(table, capId) as number;
const live = (): number => k.fn("capTableLive")(table) as number;
const retired = (): number => k.fn("capTableRetired")(table) as number;

beforeEach(async () => {
  k = await loadKernelLogic();
});

describe("capability table setup", () => {
  it("rejects impossible shapes", () => {
    const bytes = Number(k.fn("capTableBytes")(8));
    const at = k.alloc(bytes + 8, 8);
    const init = (region: number, size: number, capacity: number, quota: number): number =>
      k.fn("capTableInit")(region, BigInt(size), capacity, quota) as number;
    expect(init(at, bytes, 0, 0)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(init(at, bytes, 8, 9)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(init(at, bytes - 1, 8, 8)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(init(at + 4, bytes, 8, 8)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(init(at, bytes, 0x0100_0001, 8)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(init(at, bytes, 8, 8)).toBe(CAP_OK);
  });

  it("sizes the region as header plus fixed-size slots", () => {
    const header = Number(k.constant("CAP_TABLE_HEADER_BYTES"));
    const slot = Number(k.constant("CAP_SLOT_BYTES"));
    expect(slot).toBe(24);
    expect(Number(k.fn("capTableBytes")(256))).toBe(header + 256 * slot);
    expect(Number(k.constant("CAP_TABLE_MAX_CAPACITY"))).toBe(1 << 24);
  });

  it("stays inside its region", () => {
    const bytes = Number(k.fn("capTableBytes")(4));
    const at = k.alloc(bytes + 64, 8);
    k.bytes.fill(0x5a, at + bytes, at + bytes + 64);
    k.fn("capTableInit")(at, BigInt(bytes), 4, 4);
    table = at;
    for (let round = 0; round < 20; round++) {
      const ids = [0, 1, 2, 3].map((i) => insert(BigInt(i), i));
      for (const capId of ids) expect(remove(capId)).toBe(CAP_OK);
    }
    expect([...k.bytes.slice(at + bytes, at + bytes + 64)].every((b) => b === 0x5a)).toBe(true);
  });
});

describe("insert, get, remove", () => {
  beforeEach(() => {
    table = makeTable(8, 8);
  });

  it("hands out generation-1 ids in index order and finds them", () => {
    expect(insert(0x1111n, 100, 7)).toBe(id(1, 0));
    expect(insert(0x2222n, 200)).toBe(id(1, 1));
    expect(live()).toBe(2);
    expect(get(id(1, 0))).toBe(0);
    expect(get(id(1, 1))).toBe(1);
    expect(BigInt.asUintN(64, k.fn("capSlotInterface")(table, 0))).toBe(0x1111n);
    expect(k.fn("capSlotObject")(table, 0)).toBe(100);
    expect(k.fn("capSlotAux")(table, 0)).toBe(7);
    expect(k.fn("capSlotObject")(table, 1)).toBe(200);
    expect(k.fn("capSlotId")(table, 1) >>> 0).toBe(id(1, 1));
  });

  it("keeps full 64-bit interface ids", () => {
    const capId = insert(0xfedc_ba98_7654_3210n, 1);
    expect(BigInt.asUintN(64, k.fn("capSlotInterface")(table, get(capId)))).toBe(0xfedc_ba98_7654_3210n);
  });

  it("rejects ids that name nothing", () => {
    insert(1n, 1);
    expect(get(0)).toBe(CAP_ERR_INVALID_CAP); // CapId 0 is never valid
    expect(get(id(0, 0))).toBe(CAP_ERR_INVALID_CAP);
    expect(get(id(1, 8))).toBe(CAP_ERR_INVALID_CAP); // index beyond capacity
    expect(get(id(1, 0xffffff))).toBe(CAP_ERR_INVALID_CAP);
    expect(get(id(1, 5))).toBe(CAP_ERR_INVALID_CAP); // free slot, never issued
    expect(get(id(7, 5))).toBe(CAP_ERR_STALE_CAP); // free slot, some other generation
    expect(get(id(2, 0))).toBe(CAP_ERR_STALE_CAP); // live slot, wrong generation
    expect(remove(id(2, 0))).toBe(CAP_ERR_STALE_CAP);
    expect(remove(id(1, 5))).toBe(CAP_ERR_INVALID_CAP);
    expect(live()).toBe(1);
  });

  it("makes a released id and its copies stale, never valid again", () => {
    const a = insert(1n, 1);
    expect(remove(a)).toBe(CAP_OK);
    expect(live()).toBe(0);
    expect(get(a)).toBe(CAP_ERR_STALE_CAP);
    expect(remove(a)).toBe(CAP_ERR_STALE_CAP);
    // Reusing the slot gives a new generation; the old id stays stale.
    for (let i = 0; i < 8; i++) insert(2n, 2);
    expect(get(a)).toBe(CAP_ERR_STALE_CAP);
    expect(get(id(2, 0))).toBe(0);
  });

  it("reuses released slots first-in first-out", () => {
    const ids = Array.from({ length: 8 }, (_, i) => insert(BigInt(i), i));
    expect(remove(ids[5]!)).toBe(CAP_OK);
    expect(remove(ids[2]!)).toBe(CAP_OK);
    expect(remove(ids[7]!)).toBe(CAP_OK);
    expect(insert(9n, 9)).toBe(id(2, 5));
    expect(insert(9n, 9)).toBe(id(2, 2));
    expect(insert(9n, 9)).toBe(id(2, 7));
    expect(insert(9n, 9)).toBe(CAP_ERR_QUOTA_EXCEEDED);
  });

  it("clears what a released slot held", () => {
    const a = insert(0xabcn, 77, 5);
    remove(a);
    const b = insert(0xdefn, 88);
    // Only one slot was free before the others: FIFO puts slot 0 behind 1..7.
    expect(b).toBe(id(1, 1));
    expect(k.fn("capSlotObject")(table, 0)).toBe(0);
    expect(k.fn("capSlotAux")(table, 0)).toBe(0);
    expect(BigInt(k.fn("capSlotInterface")(table, 0))).toBe(0n);
  });

  it("walks live slots for process-exit cleanup", () => {
    const ids = Array.from({ length: 6 }, (_, i) => insert(BigInt(i), i));
    remove(ids[0]!);
    remove(ids[3]!);
    const seen: number[] = [];
    for (let i = k.fn("capTableNextLive")(table, 0) as number; i >= 0; i = k.fn("capTableNextLive")(table, i + 1) as number) {
      seen.push(i);
    }
    expect(seen).toEqual([1, 2, 4, 5]);
    for (const slot of seen) expect(remove(k.fn("capSlotId")(table, slot) >>> 0)).toBe(CAP_OK);
    expect(live()).toBe(0);
    expect(k.fn("capTableNextLive")(table, 0)).toBe(-1);
  });
});

describe("generation retirement", () => {
  it("retires a slot instead of wrapping its generation", () => {
    table = makeTable(1, 1);
    const issued: number[] = [];
    for (let generation = 1; generation <= 255; generation++) {
      const capId = insert(1n, generation);
      expect(capId).toBe(id(generation, 0));
      issued.push(capId);
      expect(remove(capId)).toBe(CAP_OK);
    }
    expect(retired()).toBe(1);
    expect(live()).toBe(0);
    // The only slot is gone for good: no id of any generation works again.
    expect(insert(1n, 1)).toBe(CAP_ERR_TABLE_FULL);
    for (const old of issued) expect(get(old)).toBe(CAP_ERR_STALE_CAP);
    expect(get(id(0, 0))).toBe(CAP_ERR_INVALID_CAP);
    expect(get(id(1, 0))).toBe(CAP_ERR_STALE_CAP);
  });

  it("keeps the other slots working after one retires", () => {
    table = makeTable(2, 2);
    const keep = insert(5n, 5);
    for (let generation = 1; generation <= 255; generation++) remove(insert(1n, 1));
    expect(retired()).toBe(1);
    expect(get(keep)).toBe(0);
    expect(insert(2n, 2)).toBe(CAP_ERR_TABLE_FULL);
    expect(remove(keep)).toBe(CAP_OK);
    expect(insert(3n, 3)).toBe(id(2, 0));
  });
});

describe("quota and reservations", () => {
  beforeEach(() => {
    table = makeTable(8, 3);
  });

  it("charges the quota on insert and refunds it on remove", () => {
    const ids = [insert(1n, 1), insert(1n, 2), insert(1n, 3)];
    expect(insert(1n, 4)).toBe(CAP_ERR_QUOTA_EXCEEDED);
    expect(live()).toBe(3);
    expect(remove(ids[1]!)).toBe(CAP_OK);
    expect(insert(1n, 4)).toBeGreaterThan(0);
    expect(insert(1n, 5)).toBe(CAP_ERR_QUOTA_EXCEEDED);
  });

  it("reserves all-or-nothing and lets nobody else take reserved room", () => {
    const reserve = (n: number): number => k.fn("capTableReserve")(table, n) as number;
    insert(1n, 1);
    expect(reserve(3)).toBe(CAP_ERR_QUOTA_EXCEEDED);
    expect(k.fn("capTableReserved")(table)).toBe(0);
    expect(reserve(2)).toBe(CAP_OK);
    expect(k.fn("capTableReserved")(table)).toBe(2);
    expect(insert(1n, 2)).toBe(CAP_ERR_QUOTA_EXCEEDED);
    expect(reserve(1)).toBe(CAP_ERR_QUOTA_EXCEEDED);
    const a = Number(k.fn("capTableInsertReserved")(table, 7n, 70, 0));
    const b = Number(k.fn("capTableInsertReserved")(table, 8n, 80, 0));
    expect(get(a)).toBeGreaterThanOrEqual(0);
    expect(get(b)).toBeGreaterThanOrEqual(0);
    expect(Number(k.fn("capTableInsertReserved")(table, 9n, 90, 0))).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(live()).toBe(3);
  });

  it("rolls a reservation back", () => {
    expect(k.fn("capTableReserve")(table, 3)).toBe(CAP_OK);
    expect(k.fn("capTableUnreserve")(table, 4)).toBe(CAP_ERR_INVALID_ARGUMENT);
    expect(k.fn("capTableUnreserve")(table, 3)).toBe(CAP_OK);
    expect(insert(1n, 1)).toBeGreaterThan(0);
  });

  it("counts retired slots against free room, not against the quota", () => {
    table = makeTable(2, 2);
    const keep = insert(5n, 5);
    // With slot 0 held, every cycle reuses slot 1 until it retires.
    for (let generation = 1; generation <= 255; generation++) remove(insert(1n, 1));
    expect(retired()).toBe(1);
    expect(remove(keep)).toBe(CAP_OK);
    // One usable slot left: a reservation of two cannot be honoured although the quota allows it.
    expect(k.fn("capTableReserve")(table, 2)).toBe(CAP_ERR_TABLE_FULL);
    expect(k.fn("capTableReserve")(table, 1)).toBe(CAP_OK);
    // The reserved slot is not available to an ordinary insert.
    expect(insert(1n, 1)).toBe(CAP_ERR_TABLE_FULL);
    expect(Number(k.fn("capTableInsertReserved")(table, 1n, 1, 0))).toBe(id(2, 0));
  });
});
