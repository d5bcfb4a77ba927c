// Hostile messages against the guest runtime (as wasm in V8): a corpus of
// hand-encoded malformed messages, each rejected with a specific status, and
// a mutation fuzzer showing that no input makes the runtime trap.
import { beforeAll, describe, expect, it } from "vitest";
import * as capnp from "capnp-es";
import { loadGuest, type Guest } from "./helpers/asc.js";
import { STATUS, bytesWord, farPtr, frame, listPtr, runCopy, statusName, structPtr } from "./helpers/asc-capnp.js";
import { SystemManifest } from "../schema/host/capos.js";

const ELEMENT = { VOID: 0, BIT: 1, BYTE: 2, FOUR: 4, EIGHT: 5, POINTER: 6, COMPOSITE: 7 };
const DEFAULT_TRAVERSAL = 1 << 20;
const MAX_COUNT = 2 ** 29 - 1;

/** Raw bytes for the segment-table cases that frame() cannot express. */
function raw(words32: number[], extraBytes = 0): Uint8Array {
  const out = new Uint8Array(words32.length * 4 + extraBytes);
  const view = new DataView(out.buffer);
  words32.forEach((w, i) => view.setUint32(4 * i, w >>> 0, true));
  return out;
}

interface Case { name: string; message: Uint8Array; expect: string; traversal?: number }

/** Malformed (and a few valid control) messages for the schema-less walker. */
function walkCorpus(): Case[] {
  const amplified = (() => {
    // root → struct(0 data, 1 ptr) → pointer list of N, every element pointing
    // at the same M-word data list: N*M words of reading from a small message.
    const n = 1000;
    const m = 2000;
    const words: bigint[] = [structPtr(0, 0, 1), listPtr(0, ELEMENT.POINTER, n)];
    const dataAt = 2 + n;
    for (let i = 0; i < n; i++) words.push(listPtr(dataAt - (2 + i) - 1, ELEMENT.EIGHT, m));
    for (let i = 0; i < m; i++) words.push(BigInt(i));
    return frame([words]);
  })();
  return [
    { name: "empty buffer", message: new Uint8Array(0), expect: "ERR_TRUNCATED" },
    { name: "half a segment table", message: raw([0]), expect: "ERR_TRUNCATED" },
    { name: "segment count wraps to zero", message: raw([0xffffffff, 1], 8), expect: "ERR_SEGMENT_TABLE" },
    { name: "more segments than allowed", message: raw([1000, 1], 8), expect: "ERR_SEGMENT_TABLE" },
    { name: "truncated segment table", message: raw([3, 1, 1, 1]), expect: "ERR_TRUNCATED" },
    { name: "segment larger than the buffer", message: frame([[0n]], [5]), expect: "ERR_TRUNCATED" },
    { name: "second segment missing", message: frame([[0n]], [1, 4]), expect: "ERR_TRUNCATED" },
    { name: "empty first segment", message: frame([[]], [0]), expect: "ERR_SEGMENT_TABLE" },
    { name: "root pointer past the segment", message: frame([[structPtr(5, 1, 0)]]), expect: "ERR_OUT_OF_BOUNDS" },
    { name: "root pointer before the segment", message: frame([[structPtr(-3, 0, 0), 0n]]), expect: "ERR_OUT_OF_BOUNDS" },
    { name: "struct running off the segment", message: frame([[structPtr(0, 2, 0), 0n]]), expect: "ERR_OUT_OF_BOUNDS" },
    {
      name: "oversized list (2^29-1 eight-byte elements)",
      message: frame([[structPtr(0, 0, 1), listPtr(0, ELEMENT.EIGHT, MAX_COUNT)]]),
      expect: "ERR_OUT_OF_BOUNDS",
    },
    {
      name: "oversized composite list word count",
      message: frame([[structPtr(0, 0, 1), listPtr(0, ELEMENT.COMPOSITE, MAX_COUNT), structPtr(1, 1, 0)]]),
      expect: "ERR_OUT_OF_BOUNDS",
    },
    {
      name: "composite tag claims more elements than the list holds",
      message: frame([[structPtr(0, 0, 1), listPtr(0, ELEMENT.COMPOSITE, 2), structPtr(3, 1, 0), 0n, 0n]]),
      expect: "ERR_BAD_COMPOSITE_TAG",
    },
    {
      name: "composite tag that is not a struct pointer",
      message: frame([[structPtr(0, 0, 1), listPtr(0, ELEMENT.COMPOSITE, 1), listPtr(0, ELEMENT.BYTE, 1), 0n]]),
      expect: "ERR_BAD_COMPOSITE_TAG",
    },
    { name: "far pointer to a missing segment", message: frame([[farPtr(0, 5)]]), expect: "ERR_BAD_SEGMENT" },
    { name: "far landing pad past the segment", message: frame([[farPtr(10, 0), 0n]]), expect: "ERR_OUT_OF_BOUNDS" },
    { name: "far pointer landing on itself", message: frame([[farPtr(0, 0)]]), expect: "ERR_BAD_LANDING_PAD" },
    { name: "far pointer loop across segments", message: frame([[farPtr(0, 1)], [farPtr(0, 0)]]), expect: "ERR_BAD_LANDING_PAD" },
    {
      name: "double-far pad whose first word is not far",
      message: frame([[farPtr(0, 1, true)], [structPtr(0, 0, 0), structPtr(0, 0, 0)]]),
      expect: "ERR_BAD_LANDING_PAD",
    },
    {
      name: "double-far pad pointing at another double-far",
      message: frame([[farPtr(0, 1, true)], [farPtr(0, 1, true), structPtr(0, 1, 0)]]),
      expect: "ERR_BAD_LANDING_PAD",
    },
    {
      name: "double-far tag that is itself far",
      message: frame([[farPtr(0, 1, true)], [farPtr(0, 2), farPtr(0, 2)], [0n]]),
      expect: "ERR_BAD_LANDING_PAD",
    },
    {
      name: "double-far pad half outside its segment",
      message: frame([[farPtr(0, 1, true)], [farPtr(0, 2)]]),
      expect: "ERR_OUT_OF_BOUNDS",
    },
    {
      name: "double-far content past its segment",
      message: frame([[farPtr(0, 1, true)], [farPtr(100, 2), structPtr(0, 1, 0)], [0n]]),
      expect: "ERR_OUT_OF_BOUNDS",
    },
    {
      name: "struct pointing at itself (pointer loop)",
      message: frame([[structPtr(0, 0, 1), structPtr(-1, 0, 1)]]),
      expect: "ERR_NESTING_LIMIT",
    },
    { name: "amplification: 1000 pointers to one 2000-word list", message: amplified, expect: "ERR_TRAVERSAL_LIMIT" },
    {
      name: "the same message with a budget that covers it",
      message: amplified, expect: "OK", traversal: 3_000_000,
    },
    {
      name: "void list of 2^29-1 elements (free to store, charged to read)",
      message: frame([[structPtr(0, 0, 1), listPtr(0, ELEMENT.VOID, MAX_COUNT)]]),
      expect: "ERR_TRAVERSAL_LIMIT",
    },
    {
      name: "composite list of 2^29-1 zero-sized structs",
      message: frame([[structPtr(0, 0, 1), listPtr(0, ELEMENT.COMPOSITE, 0), structPtr(MAX_COUNT, 0, 0)]]),
      expect: "ERR_TRAVERSAL_LIMIT",
    },
    { name: "capability pointer as the root", message: frame([[3n]]), expect: "ERR_POINTER_KIND" },
    // Valid controls: the corpus rejects for the stated reason, not by accident.
    {
      name: "valid: hand-encoded double-far root",
      message: frame([[farPtr(0, 1, true)], [farPtr(0, 2), structPtr(0, 1, 0)], [42n]]),
      expect: "OK",
    },
    { name: "valid: single-far root", message: frame([[farPtr(0, 1)], [structPtr(0, 1, 0), 7n]]), expect: "OK" },
    { name: "valid: zero-sized struct at the segment end", message: frame([[structPtr(0, 0, 0)]]), expect: "OK" },
    { name: "valid: canonical empty struct (offset -1)", message: frame([[structPtr(-1, 0, 0)]]), expect: "OK" },
    { name: "valid: null root", message: frame([[0n]]), expect: "OK" },
  ];
}

/**
 * SystemManifest-shaped messages with one bad field, for the typed readers.
 * Layout: root → SystemManifest (1 data word, 3 pointers) at words 1..4;
 * binaries (pointer at word 2) → a one-element NamedBlob list at word 5.
 */
function manifestWithBlob(nameWord: bigint, nameBytes: bigint | null, options: { binaries?: bigint; dataWord?: bigint; initConfig?: bigint } = {}): Uint8Array {
  return frame([[
    structPtr(0, 1, 3),
    1n, // schemaVersion
    options.binaries ?? listPtr(2, ELEMENT.COMPOSITE, 2),
    options.initConfig ?? 0n,
    0n,
    structPtr(1, 0, 2), // tag: one NamedBlob (0 data words, 2 pointers)
    nameWord,
    options.dataWord ?? 0n,
    nameBytes ?? 0n,
  ]]);
}

function typedCorpus(): Case[] {
  const abc = bytesWord([0x61, 0x62, 0x63]);
  const abcNul = bytesWord([0x61, 0x62, 0x63, 0]);
  return [
    { name: "text without its NUL terminator", message: manifestWithBlob(listPtr(1, ELEMENT.BYTE, 3), abc), expect: "ERR_TEXT_NOT_TERMINATED" },
    { name: "text with zero bytes (no room for the NUL)", message: manifestWithBlob(listPtr(1, ELEMENT.BYTE, 0), null), expect: "ERR_TEXT_NOT_TERMINATED" },
    { name: "text encoded as a list of UInt32", message: manifestWithBlob(listPtr(1, ELEMENT.FOUR, 1), abcNul), expect: "ERR_ELEMENT_SIZE" },
    { name: "text pointer that is a struct", message: manifestWithBlob(structPtr(1, 1, 0), abcNul), expect: "ERR_POINTER_KIND" },
    { name: "text running off the segment", message: manifestWithBlob(listPtr(1, ELEMENT.BYTE, 100), abcNul), expect: "ERR_OUT_OF_BOUNDS" },
    { name: "data that is a capability pointer", message: manifestWithBlob(listPtr(1, ELEMENT.BYTE, 4), abcNul, { dataWord: 3n }), expect: "ERR_POINTER_KIND" },
    { name: "struct list encoded as a bit list", message: manifestWithBlob(0n, null, { binaries: listPtr(2, ELEMENT.BIT, 8) }), expect: "ERR_ELEMENT_SIZE" },
    { name: "struct field that is a list", message: manifestWithBlob(0n, null, { initConfig: listPtr(0, ELEMENT.BYTE, 0) }), expect: "ERR_POINTER_KIND" },
    { name: "valid: the same manifest with a terminated name", message: manifestWithBlob(listPtr(1, ELEMENT.BYTE, 4), abcNul), expect: "OK" },
  ];
}

describe("guest runtime: malformed messages are rejected cleanly", () => {
  let walker: Guest;
  let manifest: Guest;
  beforeAll(async () => {
    [walker, manifest] = await Promise.all([
      loadGuest("schema/as/test/programs/walk.ts"),
      loadGuest("schema/as/test/programs/manifest-copy.ts"),
    ]);
  });

  const walk = (msg: Uint8Array, traversal = DEFAULT_TRAVERSAL, nesting = 64): string =>
    statusName(walker.fn<(p: number, n: number, t: number, d: number) => number>("walk")(walker.putIn("input", msg), msg.length, traversal, nesting));

  for (const c of walkCorpus()) {
    it(`walk: ${c.name} → ${c.expect}`, () => {
      expect(walk(c.message, c.traversal)).toBe(c.expect);
    });
  }

  for (const c of typedCorpus()) {
    it(`SystemManifest reader: ${c.name} → ${c.expect}`, () => {
      const r = runCopy(manifest, "copyManifest", c.message);
      expect(r.ok ? "OK" : r.status).toBe(c.expect);
    });
  }

  it("charges the traversal budget for what it reads", () => {
    const msg = frame([[structPtr(0, 1, 1), 5n, listPtr(0, ELEMENT.EIGHT, 10), ...new Array<bigint>(10).fill(1n)]]);
    expect(walk(msg, 100)).toBe("OK");
    // root struct (2 words) + list (10 words)
    expect(walker.fn<() => number>("traversalLeft")()).toBe(100 - 12);
    expect(walk(msg, 11)).toBe("ERR_TRAVERSAL_LIMIT");
  });

  it("every status code has a distinct negative value", () => {
    const values = Object.entries(STATUS).filter(([k]) => k !== "OK").map(([, v]) => v);
    expect(new Set(values).size).toBe(values.length);
    expect(values.every((v) => v < 0)).toBe(true);
    expect(STATUS["OK"]).toBe(0);
  });
});

/** A small deterministic PRNG (xorshift32) so fuzz failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A valid multi-segment manifest (far and double-far pointers) to mutate. */
function seedManifest(): Uint8Array {
  const message = new capnp.Message(frame([[0n]]), false);
  const m = message.initRoot(SystemManifest);
  m.schemaVersion = 1;
  const bins = m._initBinaries(3);
  [40, 8192, 24].forEach((size, i) => {
    bins.get(i).name = `b${i}`;
    bins.get(i)._initData(size).copyBuffer(new Uint8Array(size).fill(i));
  });
  const init = m._initInitConfig()._initInit();
  init.name = "init";
  const caps = init._initCaps(2);
  caps.get(0).name = "console";
  caps.get(1).source._initService().export = "x";
  m._initKernelParams().motd = "hi";
  return new Uint8Array(message.toArrayBuffer());
}

describe("guest runtime: mutated messages never trap", () => {
  let walker: Guest;
  let manifest: Guest;
  beforeAll(async () => {
    [walker, manifest] = await Promise.all([
      loadGuest("schema/as/test/programs/walk.ts"),
      loadGuest("schema/as/test/programs/manifest-copy.ts"),
    ]);
  });

  it("survives 1500 random word and byte mutations and truncations of a multi-segment manifest", () => {
    const seed = seedManifest();
    const next = rng(0xc0ffee);
    // Word offsets near the start of each segment, where the pointers are
    // (the rest is mostly binary payload), plus the segment table itself.
    const hot: number[] = [0];
    {
      const view = new DataView(seed.buffer);
      const count = view.getUint32(0, true) + 1;
      let start = ((count + 2) >> 1) * 8;
      for (let i = 0; i < count; i++) {
        const words = view.getUint32(4 + 4 * i, true);
        for (let w = 0; w < Math.min(words, 48); w++) hot.push(start + w * 8);
        start += words * 8;
      }
    }
    const seen = new Map<string, number>();
    const walkFn = walker.fn<(p: number, n: number, t: number, d: number) => number>("walk");
    for (let round = 0; round < 1500; round++) {
      const msg = seed.slice(0, round % 10 === 9 ? next() % seed.length : seed.length);
      const view = new DataView(msg.buffer);
      const edits = 1 + (next() % 4);
      for (let e = 0; e < edits && msg.length >= 8; e++) {
        // Mostly hit whole words at word boundaries (where pointers live),
        // sometimes single bytes, including the segment table.
        const pick = next() % 4 === 0 ? (next() % (msg.length >> 3)) << 3 : hot[next() % hot.length]!;
        if (pick + 8 > msg.length) continue;
        const at = pick;
        if (next() % 3 === 0) msg[at + (next() % 8)] = next() & 0xff;
        else view.setUint32(at + (next() % 2) * 4, next(), true);
      }
      const status = walkFn(walker.putIn("input", msg), msg.length, DEFAULT_TRAVERSAL, 64);
      const copy = runCopy(manifest, "copyManifest", msg, 65536);
      expect(Number.isInteger(status)).toBe(true);
      const name = statusName(status);
      seen.set(name, (seen.get(name) ?? 0) + 1);
      expect(copy.ok || typeof copy.status === "string").toBe(true);
    }
    // The mutations reach many different rejection paths, and some survive as valid.
    expect(seen.size).toBeGreaterThanOrEqual(7);
    expect(seen.get("OK") ?? 0).toBeGreaterThan(0);
  });
});
