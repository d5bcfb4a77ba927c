// Round trips between the host Cap'n Proto library (capnp-es) and the guest
// runtime running as wasm in V8: the host builds a message, the guest reads
// it with the generated readers and rebuilds it with the generated builders,
// and the host decodes the guest's bytes and compares every field.
import { beforeAll, describe, expect, it } from "vitest";
import * as capnp from "capnp-es";
import { loadGuest, type Guest } from "./helpers/asc.js";
import { bytesWord, frame, listPtr, runBuild, runCopy, structPtr, type CopyResult } from "./helpers/asc-capnp.js";
import {
  InitConfig, KernelCapSource, KernelParams, LogLevel, ServiceConfig, ServiceLifetime, SystemManifest,
} from "../schema/host/capos.js";
import {
  Calculator, Color, Defaults, Inner, Keywords, Lists, Scalars, Tree, Unions, Unions_Choice_Which, Unions_Which,
} from "../schema/host/test/fixture.js";

function unwrap(r: CopyResult): Uint8Array {
  if (!r.ok) throw new Error(`guest returned ${r.status}`);
  return r.bytes;
}

function bytesOf(message: capnp.Message): Uint8Array {
  return new Uint8Array(message.toArrayBuffer());
}

function read<T extends capnp.Struct>(bytes: Uint8Array, type: capnp.StructCtor<T>): T {
  return new capnp.Message(bytes, false).getRoot(type);
}

/** A message whose first segment holds only the root pointer, so capnp-es spills into far pointers. */
function multiSegmentMessage(): capnp.Message {
  return new capnp.Message(frame([[0n]]), false);
}

function segmentCount(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) + 1;
}

// ---- The capos schema: SystemManifest

interface ServicePlain {
  name: string; binary: string; lifetime: number; exports: string[];
  caps: { name: string; iid: bigint; which: number; kernel?: number; service?: [string, string] }[];
}

function servicePlain(s: ServiceConfig): ServicePlain {
  return {
    name: s.name,
    binary: s.binary,
    lifetime: s.lifetime,
    exports: s.exports.map((e) => e),
    caps: s.caps.map((c) => {
      const src = c.source;
      const which = src.which();
      return {
        name: c.name,
        iid: c.expectedInterfaceId,
        which,
        ...(src._isKernel ? { kernel: src.kernel } : {}),
        ...(src._isService ? { service: [src.service.service, src.service.export] as [string, string] } : {}),
      };
    }),
  };
}

function manifestPlain(m: SystemManifest): unknown {
  const ic: InitConfig = m.initConfig;
  const kp: KernelParams = m.kernelParams;
  return {
    schemaVersion: m.schemaVersion,
    binaries: m.binaries.map((b) => ({ name: b.name, data: Buffer.from(b.data.toUint8Array()).toString("hex") })),
    hasInitConfig: m._hasInitConfig(),
    init: servicePlain(ic.init),
    services: ic.services.map(servicePlain),
    hasKernelParams: m._hasKernelParams(),
    kernel: {
      motd: kp.motd, logLevel: kp.logLevel, timerHz: kp.timerHz, hasQuotas: kp._hasProcessQuotas(),
      quotas: [kp.processQuotas.capSlots, kp.processQuotas.queuedCalls, kp.processQuotas.framePages, kp.processQuotas.timers],
    },
  };
}

function fillService(s: ServiceConfig, name: string, caps: number): void {
  s.name = name;
  s.binary = `${name}.elf`;
  s.lifetime = caps % 2 === 0 ? ServiceLifetime.RESIDENT : ServiceLifetime.ONE_SHOT;
  const list = s._initCaps(caps);
  for (let i = 0; i < caps; i++) {
    const c = list.get(i);
    c.name = `cap-${i}-ünï`;
    c.expectedInterfaceId = 0xed5c917bdb41bec4n + BigInt(i);
    if (i % 3 === 0) c.source.kernel = KernelCapSource.TIMER;
    else if (i % 3 === 1) {
      const svc = c.source._initService();
      svc.service = "endpoint-server";
      svc.export = `export-${i}`;
    }
    // i % 3 === 2 leaves the source unset, which init must reject (fail closed).
  }
  const exports = s._initExports(caps > 0 ? 2 : 0);
  for (let i = 0; i < exports.length; i++) exports.set(i, `exp${i}`);
}

function buildManifest(message: capnp.Message, binarySizes: number[]): Uint8Array {
  const m = message.initRoot(SystemManifest);
  m.schemaVersion = 1;
  const bins = m._initBinaries(binarySizes.length);
  binarySizes.forEach((size, i) => {
    const b = bins.get(i);
    b.name = `bin${i}`;
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = (k * 31 + i) & 0xff;
    b._initData(size).copyBuffer(data);
  });
  const ic = m._initInitConfig();
  fillService(ic._initInit(), "init", 3);
  const services = ic._initServices(3);
  fillService(services.get(0), "shell", 5);
  fillService(services.get(1), "chat", 0);
  fillService(services.get(2), "idle", 1);
  const kp = m._initKernelParams();
  kp.motd = "welcome to capos ☺";
  kp.logLevel = LogLevel.DEBUG;
  kp.timerHz = 250;
  const q = kp._initProcessQuotas();
  q.capSlots = 64;
  q.framePages = 1 << 20;
  return bytesOf(message);
}

describe("guest runtime ↔ capnp-es: SystemManifest", () => {
  let guest: Guest;
  beforeAll(async () => {
    guest = await loadGuest("schema/as/test/programs/manifest-copy.ts");
  });

  it("copies a single-segment manifest field by field", () => {
    const input = buildManifest(new capnp.Message(), [16, 3, 0]);
    expect(segmentCount(input)).toBe(1);
    const copy = unwrap(runCopy(guest, "copyManifest", input));
    expect(manifestPlain(read(copy, SystemManifest))).toEqual(manifestPlain(read(input, SystemManifest)));
  });

  it("reads a multi-segment manifest with far and double-far pointers", () => {
    // An 8192-byte binary fills a segment exactly, so its landing pad cannot
    // sit beside it and capnp-es writes a double-far pointer.
    const input = buildManifest(multiSegmentMessage(), [100, 8192, 3000, 20000]);
    expect(segmentCount(input)).toBeGreaterThan(2);
    const copy = unwrap(runCopy(guest, "copyManifest", input));
    expect(segmentCount(copy)).toBe(1);
    expect(manifestPlain(read(copy, SystemManifest))).toEqual(manifestPlain(read(input, SystemManifest)));
    expect(guest.fn<(p: number, n: number) => bigint>("binariesSize")(guest.put(input), input.length)).toBe(31292n);
  });

  it("reads schema defaults for absent fields and keeps absent pointers absent", () => {
    const message = new capnp.Message();
    message.initRoot(SystemManifest)._initKernelParams();
    const input = bytesOf(message);
    const copy = read(unwrap(runCopy(guest, "copyManifest", input)), SystemManifest);
    expect(copy._hasBinaries()).toBe(false);
    expect(copy._hasInitConfig()).toBe(false);
    expect(copy.kernelParams.logLevel).toBe(LogLevel.INFO);
    expect(copy.kernelParams.timerHz).toBe(100);
    expect(copy.kernelParams._hasProcessQuotas()).toBe(false);
  });

  it("reports ERR_OUT_OF_SPACE when the output buffer is too small", () => {
    const input = buildManifest(new capnp.Message(), [4000]);
    expect(runCopy(guest, "copyManifest", input, 1024)).toEqual({ ok: false, status: "ERR_OUT_OF_SPACE" });
  });
});

// ---- The generator fixture: every field kind

describe("guest runtime ↔ capnp-es: generated code for every construct", () => {
  let guest: Guest;
  beforeAll(async () => {
    guest = await loadGuest("schema/as/test/programs/fixture-copy.ts");
  });

  it("copies every primitive type, including extremes and NaN payload bits", () => {
    const message = new capnp.Message();
    const s = message.initRoot(Scalars);
    s.flag = true;
    s.i8 = -128;
    s.i16 = -32768;
    s.i32 = -2147483648;
    s.i64 = -9223372036854775808n;
    s.u8 = 255;
    s.u16 = 65535;
    s.u32 = 0xffffffff;
    s.u64 = 0xffffffffffffffffn;
    s.f32 = -0.5;
    s.f64 = Math.PI;
    s.color = Color.GREEN;
    s.flag2 = true;
    const copy = read(unwrap(runCopy(guest, "copyScalars", bytesOf(message))), Scalars);
    expect([copy.flag, copy.i8, copy.i16, copy.i32, copy.i64, copy.u8, copy.u16, copy.u32, copy.u64]).toEqual([
      true, -128, -32768, -2147483648, -9223372036854775808n, 255, 65535, 0xffffffff, 0xffffffffffffffffn,
    ]);
    expect([copy.f32, copy.f64, copy.color, copy.flag2]).toEqual([-0.5, Math.PI, Color.GREEN, true]);
  });

  it("returns schema defaults for every kind of field when the message leaves them unset", () => {
    const message = new capnp.Message();
    message.initRoot(Defaults);
    const bytes = unwrap(runCopy(guest, "copyDefaults", bytesOf(message)));
    const copy = read(bytes, Defaults);
    expect([copy.flag, copy.i8, copy.i16, copy.i64]).toEqual([true, -7, -1234, -1234567890123n]);
    expect([copy.u8, copy.u16, copy.u64]).toEqual([200, 60000, 0xfedcba9876543210n]);
    // capnp-es 0.0.16 misreads Int32 defaults outside 0..65535 and UInt32
    // values >= 2^31 that have defaults (docs/schema.md). The guest wrote back
    // exactly the default, which the wire stores as zero bits: check those.
    const data = new DataView(bytes.buffer, bytes.byteOffset + 16); // one-segment table, root pointer
    expect([data.getInt32(4, true), data.getUint32(20, true)]).toEqual([0, 0]);
    expect([copy.f32, copy.f64, copy.color]).toEqual([1.5, -2.25, Color.BLUE]);
    expect(copy.text).toBe("défaut");
    expect([...copy.data.toUint8Array()]).toEqual([1, 2, 3]);
    expect([copy.inner.id, copy.inner.label]).toEqual([7, "seven"]);
    expect(copy.numbers.toArray()).toEqual([1, 2, 3]);
    expect(copy.names.toArray()).toEqual(["a", "bc"]);
  });

  it("returns set values (not defaults) for fields that are present", () => {
    const message = new capnp.Message();
    const d = message.initRoot(Defaults);
    d.flag = false;
    d.i8 = 0;
    d.u64 = 0n;
    d.f32 = 0;
    d.color = Color.RED;
    d.text = "";
    d._initInner().id = 0;
    d._initNumbers(0);
    const copy = read(unwrap(runCopy(guest, "copyDefaults", bytesOf(message))), Defaults);
    expect([copy.flag, copy.i8, copy.u64, copy.f32, copy.color]).toEqual([false, 0, 0n, 0, Color.RED]);
    expect(copy.text).toBe("");
    expect([copy.inner.id, copy.inner.label]).toEqual([0, ""]);
    expect(copy.numbers.length).toBe(0);
    expect(copy.names.toArray()).toEqual(["a", "bc"]);
  });

  it("copies every list element kind", () => {
    const message = new capnp.Message();
    const l = message.initRoot(Lists);
    l._initVoids(5);
    const bools = l._initBools(70);
    for (let i = 0; i < 70; i++) bools.set(i, i % 7 === 1);
    const i8s = l._initI8s(3);
    [-1, 0, 127].forEach((v, i) => i8s.set(i, v));
    const i16s = l._initI16s(2);
    [-300, 300].forEach((v, i) => i16s.set(i, v));
    const i32s = l._initI32s(2);
    [-70000, 70000].forEach((v, i) => i32s.set(i, v));
    const i64s = l._initI64s(2);
    [-(2n ** 40n), 2n ** 62n].forEach((v, i) => i64s.set(i, v));
    const u8s = l._initU8s(9);
    for (let i = 0; i < 9; i++) u8s.set(i, 250 + (i % 6));
    const u16s = l._initU16s(1);
    u16s.set(0, 65535);
    const u32s = l._initU32s(3);
    [1, 2, 0xffffffff].forEach((v, i) => u32s.set(i, v));
    const u64s = l._initU64s(1);
    u64s.set(0, 0x8000000000000001n);
    const f32s = l._initF32s(2);
    [1.25, -3.5].forEach((v, i) => f32s.set(i, v));
    const f64s = l._initF64s(2);
    [Number.MIN_VALUE, -1e300].forEach((v, i) => f64s.set(i, v));
    const colors = l._initColors(2);
    colors.set(0, Color.BLUE);
    colors.set(1, Color.GREEN);
    const texts = l._initTexts(3);
    ["", "one", "dos ñ"].forEach((v, i) => texts.set(i, v));
    // capnp-es cannot initialize elements of pointer lists in place; build
    // them in a scratch struct and copy them in with set().
    const scratch = new capnp.Message().initRoot(Lists);
    const blobs = l._initBlobs(3);
    scratch._initU8s(4).set(2, 9);
    blobs.set(0, scratch.u8s as unknown as capnp.Data); // a byte list is Data on the wire
    // element 1 stays null; element 2 is empty data
    blobs.set(2, scratch._initU8s(0) as unknown as capnp.Data);
    const inners = l._initInners(3);
    for (let i = 0; i < 3; i++) {
      inners.get(i).id = i * 11;
      if (i !== 1) inners.get(i).label = `inner ${i}`;
    }
    const matrix = l._initMatrix(3);
    for (let i = 0; i < 3; i++) {
      const row = scratch._initU32s(i * 2);
      for (let j = 0; j < i * 2; j++) row.set(j, i * 100 + j);
      matrix.set(i, row);
    }
    const sentences = l._initSentences(2);
    const s0 = scratch._initTexts(2);
    s0.set(0, "a");
    s0.set(1, "b");
    sentences.set(0, s0);
    sentences.set(1, scratch._initTexts(0));
    const input = bytesOf(message);
    const copy = read(unwrap(runCopy(guest, "copyLists", input)), Lists);
    const plain = (x: Lists): unknown => ({
      voids: x.voids.length,
      bools: x.bools.toArray(),
      i8s: x.i8s.toArray(), i16s: x.i16s.toArray(), i32s: x.i32s.toArray(), i64s: x.i64s.toArray(),
      u8s: x.u8s.toArray(), u16s: x.u16s.toArray(), u32s: x.u32s.toArray(), u64s: x.u64s.toArray(),
      f32s: x.f32s.toArray(), f64s: x.f64s.toArray(), colors: x.colors.toArray(), texts: x.texts.toArray(),
      blobs: x.blobs.map((b) => [...b.toUint8Array()]),
      inners: x.inners.map((i) => [i.id, i.label]),
      matrix: x.matrix.map((row) => row.toArray()),
      sentences: x.sentences.map((row) => row.toArray()),
    });
    expect(plain(copy)).toEqual(plain(read(input, Lists)));
  });

  it("builds lists from scratch that capnp-es decodes value by value", () => {
    const l = read(unwrap(runBuild(guest, "buildLists")), Lists);
    expect(l.voids.length).toBe(3);
    expect(l.bools.toArray()).toEqual([true, false, false, true, false, false, true, false, false, true]);
    expect(l.i8s.toArray()).toEqual([-128, 127]);
    expect(l.i64s.toArray()).toEqual([-9223372036854775808n, -1n]);
    expect(l.u32s.toArray()).toEqual([0xfffffff0, 0xfffffff1, 0xfffffff2]);
    expect(l.f64s.toArray()).toEqual([0.1, -Infinity]);
    expect(l.colors.toArray()).toEqual([Color.BLUE, Color.RED, Color.GREEN]);
    // A lone surrogate in an AssemblyScript string is encoded as U+FFFD.
    expect(l.texts.toArray()).toEqual(["", "naïve ☃ 𝄞", "\ufffd lone"]);
    expect([...l.blobs.get(0).toUint8Array()]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(l.inners.map((i) => [i.id, i.label])).toEqual([[100, "first"], [101, "second"]]);
    expect(l.matrix.map((r) => r.toArray())).toEqual([[0], [10, 11]]);
    expect(l.sentences.get(0).toArray()).toEqual(["hello", "world"]);
  });

  it("copies unnamed and named unions, groups, and nested groups", () => {
    const cases: ((u: Unions) => void)[] = [
      (u) => { u.none = true; },
      (u) => { u.number = -42; u.choice.small = 9; },
      (u) => { u.text = "texte"; u.choice.flag = true; },
      (u) => { u._initInner().label = "inside"; },
      (u) => { u.pair = true; u.pair.left = 5; u.pair.right = "five"; u.settings.level = 2; u.settings.detail.note = "n"; },
    ];
    for (const fill of cases) {
      const message = new capnp.Message();
      const u = message.initRoot(Unions);
      u.common = 0xc0ffee;
      fill(u);
      const input = bytesOf(message);
      const copy = read(unwrap(runCopy(guest, "copyUnions", input)), Unions);
      const plain = (x: Unions): unknown => ({
        common: x.common,
        which: x.which(),
        number: x._isNumber ? x.number : null,
        text: x._isText ? x.text : null,
        inner: x._isInner ? x.inner.label : null,
        pair: x._isPair ? [x.pair.left, x.pair.right] : null,
        choice: x.choice.which() === Unions_Choice_Which.SMALL ? ["small", x.choice.small] : ["flag", x.choice.flag],
        settings: [x.settings.level, x.settings.detail.note],
      });
      expect(plain(copy)).toEqual(plain(read(input, Unions)));
    }
  });

  it("selecting a union group resets fields another member left behind", () => {
    const u = read(unwrap(runBuild(guest, "buildUnionsReselect")), Unions);
    expect(u.which()).toBe(Unions_Which.PAIR);
    expect([u.pair.left, u.pair.right]).toEqual([7, "seven"]);
    expect(u.choice.which()).toBe(Unions_Choice_Which.FLAG);
    expect(u.choice.flag).toBe(true);
    expect([u.settings.level, u.settings.detail.note]).toEqual([3, "détail ✓"]);
  });

  it("copies recursive structures and enforces the nesting limit", () => {
    const message = new capnp.Message();
    let node = message.initRoot(Tree);
    for (let depth = 0; depth < 10; depth++) {
      node.value = BigInt(depth);
      const kids = node._initChildren(2);
      kids.get(1).value = -BigInt(depth);
      node = kids.get(0);
    }
    const input = bytesOf(message);
    const copy = read(unwrap(runCopy(guest, "copyTreeMessage", input, undefined, 64)), Tree);
    const flat = (t: Tree): unknown => [t.value, t.children.map(flat)];
    expect(flat(copy)).toEqual(flat(read(input, Tree)));
    // Each level is one pointer hop (a struct list's elements sit inside the
    // list), so ten levels pass a limit of 11 and fail one of 10.
    expect(runCopy(guest, "copyTreeMessage", input, undefined, 11).ok).toBe(true);
    expect(runCopy(guest, "copyTreeMessage", input, undefined, 10)).toEqual({ ok: false, status: "ERR_NESTING_LIMIT" });
  });

  it("handles schema names that are AssemblyScript reserved words", () => {
    const message = new capnp.Message();
    const k = message.initRoot(Keywords);
    k.type = 3;
    k.export = "exported";
    k.kind.new = 77;
    const copy = read(unwrap(runCopy(guest, "copyKeywords", bytesOf(message))), Keywords);
    expect([copy.type, copy.export, copy.kind._isNew, copy.kind.new]).toEqual([3, "exported", true, 77]);
  });

  it("exposes constants, interface ids and method ordinals", () => {
    expect(guest.fn<() => number>("checkConstants")()).toBe(511);
    const id = BigInt.asUintN(64, guest.fn<() => bigint>("calculatorInterfaceId")());
    expect(id).toBe(BigInt(`0x${Calculator._capnp.id}`));
  });

  it("reads a struct list that a sender encoded as a primitive list (schema evolution)", () => {
    // Lists has 0 data words and 18 pointers; pointer 15 is `inners`, here a
    // List(UInt32) — each element upgrades to an Inner whose `id` is that value.
    const root = structPtr(0, 0, 18);
    const pointers: bigint[] = new Array<bigint>(18).fill(0n);
    pointers[15] = listPtr(18 - 15 - 1, 4, 3);
    const msg = frame([[root, ...pointers, bytesWord([5, 0, 0, 0, 6, 0, 0, 0]), bytesWord([7, 0, 0, 0])]]);
    const sum = guest.fn<(p: number, n: number) => number>("readUpgradedCount")(guest.put(msg), msg.length);
    expect(sum).toBe(18);
  });

  it("reports ERR_OUT_OF_SPACE from builders instead of overrunning the buffer", () => {
    expect(runBuild(guest, "buildTooLarge", 4096)).toEqual({ ok: false, status: "ERR_OUT_OF_SPACE" });
    const ok = unwrap(runBuild(guest, "buildTooLarge", 16384));
    expect(read(ok, Lists).u64s.length).toBe(1000);
  });

  it("uses the wire encoding's element-size numbers", () => {
    expect(guest.fn<() => number>("elementSizes")()).toBe(0 | (1 << 3) | (2 << 6) | (3 << 9) | (4 << 12) | (5 << 15) | (6 << 18) | (7 << 21));
  });

  it("keeps Inner and Scalars distinct types in the host bindings too", () => {
    // Sanity check that the host and guest agree on struct sizes.
    expect(Inner._capnp.size.dataByteLength).toBe(8);
    expect(Inner._capnp.size.pointerLength).toBe(1);
  });
});
