// User programs as compiled x86-64 in the emulator. (1) Programs built by the
// `capos build` pipeline run in ring 3 on the emulated CPU, with the ABI's
// address space and a fake kernel serving their syscalls: the runtime's ring
// client with out-of-order completions, and a Cap'n Proto round trip where the
// program reads the boot manifest through BootPackage calls (capnp-es builds
// the results, the guest's generated readers parse them; the guest builds the
// params, capnp-es decodes them). (2) A subset of the guest Cap'n Proto
// round-trip programs (schema/as/test/programs) compiled to x86-64 and driven
// through guest memory by the toolchain's wasm harness.
import * as capnp from "capnp-es";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../src/build/index.js";
import {
  BootPackage$Client, BootPackage_ManifestSize$Results, BootPackage_ReadManifest$Params, BootPackage_ReadManifest$Results,
  Console$Client, LogLevel, SystemManifest,
} from "../schema/host/capos.js";
import { Color, Lists, Scalars, Unions, Unions_Which } from "../schema/host/test/fixture.js";
import { SpecMachine } from "../src/toolchain/wasm/spec/machine.js";
import { Instantiator, type Instance } from "../src/toolchain/wasm/spec/instance.js";
import type { Bits } from "../src/toolchain/wasm/spec/values.js";
import { compileAssemblyScript, REPO_ROOT } from "./helpers/asc.js";
import { makeFixtureTree } from "./fixtures/build/tree.js";
import { ADDRESSES, UserProcess } from "./fixtures/build/x64-process.js";

const CONSOLE_CAP = 0x0100_0000;
const BOOT_CAP = 0x0100_0001;

/** A program that reads the boot manifest over the ring and reports what is in it. */
const MANIFEST_READER = `import { print, capByName, ringCall, Completion, RT_OK, malloc } from "../rt/index";
import { OK, MessageReader, MessageBuilder, ListReader, TextReader, DataReader } from "../../schema/as/runtime/index";
import {
  BootPackage, BootPackage_ManifestSizeResultsReader, BootPackage_ReadManifestParamsBuilder, BootPackage_ReadManifestResultsReader,
  SystemManifestReader, InitConfigReader, ServiceConfigReader, KernelParamsReader,
} from "../../schema/as/capos";

const CHUNK: u32 = 700;
const done = new Completion();
const msg = new MessageReader();
const text = new TextReader();

function call(cap: u32, method: u16, params: usize, paramsLen: u32, result: usize, resultLen: u32): i32 {
  if (ringCall(cap, method, BootPackage.INTERFACE_ID, params, paramsLen, result, resultLen, done) != RT_OK) return -1000;
  return done.result;
}

function str(t: TextReader): string {
  return String.UTF8.decodeUnsafe(t.ptr, t.length);
}

export function main(): i32 {
  const boot = capByName("boot", BootPackage.INTERFACE_ID);
  if (boot == 0) return 1;
  const results = malloc(4096);
  let n = call(boot, BootPackage.Method.manifestSize, 0, 0, results, 4096);
  const sizeR = new BootPackage_ManifestSizeResultsReader();
  if (n <= 0 || msg.init(results, <u32>n) != OK || sizeR.readRoot(msg) != OK) return 2;
  const size = <u32>sizeR.getSize();

  const manifest = malloc(size);
  const params = malloc(64);
  const builder = new MessageBuilder();
  const readP = new BootPackage_ReadManifestParamsBuilder();
  const readR = new BootPackage_ReadManifestResultsReader();
  const data = new DataReader();
  let at: u32 = 0;
  while (at < size) {
    if (builder.init(params, 64) != OK || readP.makeRoot(builder) != OK) return 3;
    readP.setOffset(at);
    readP.setMaxBytes(CHUNK);
    n = call(boot, BootPackage.Method.readManifest, params, builder.byteLength(), results, 4096);
    if (n <= 0 || msg.init(results, <u32>n) != OK || readR.readRoot(msg) != OK || readR.getData(data) != OK || data.length == 0) return 4;
    at += data.copyTo(manifest + at, size - at);
  }

  const m = new SystemManifestReader();
  if (msg.init(manifest, size) != OK || m.readRoot(msg) != OK) return 5;
  const binaries = new ListReader();
  const init = new InitConfigReader();
  const service = new ServiceConfigReader();
  const services = new ListReader();
  const params2 = new KernelParamsReader();
  if (m.getBinaries(binaries) != OK || m.getInitConfig(init) != OK || init.getInit(service) != OK || service.getName(text) != OK) return 6;
  print("manifest: schema " + m.getSchemaVersion().toString() + ", " + binaries.length.toString() + " binaries, " + size.toString() + " bytes, init " + str(text));
  if (init.getServices(services) != OK) return 7;
  for (let i: u32 = 0; i < services.length; i++) {
    if (services.getStruct(i, service) != OK || service.getName(text) != OK) return 8;
    print("service " + i.toString() + ": " + str(text) + " (" + service.getLifetime().toString() + ")");
  }
  if (m.getKernelParams(params2) != OK || params2.getMotd(text) != OK) return 9;
  print("motd: " + str(text) + ", log level " + params2.getLogLevel().toString() + ", timer " + params2.getTimerHz().toString() + " Hz");
  return 0;
}
`;

function manifestBytes(): Uint8Array {
  const message = new capnp.Message();
  const m = message.initRoot(SystemManifest);
  m.schemaVersion = 1;
  const bins = m._initBinaries(2);
  ["init", "shell"].forEach((name, i) => {
    bins.get(i).name = name;
    bins.get(i)._initData(1500 + 100 * i).copyBuffer(new Uint8Array(1500 + 100 * i).fill(i + 1));
  });
  const ic = m._initInitConfig();
  ic._initInit().name = "init";
  const services = ic._initServices(2);
  services.get(0).name = "shell";
  services.get(1).name = "chat ☺";
  services.get(1).lifetime = 1;
  const kp = m._initKernelParams();
  kp.motd = "welcome to capos";
  kp.logLevel = LogLevel.DEBUG;
  kp.timerHz = 250;
  return new Uint8Array(message.toArrayBuffer());
}

let root = "";
const elf = new Map<string, Uint8Array>();

beforeAll(async () => {
  root = makeFixtureTree("capos-x64-");
  // The runtime's own test program, placed as a user program of the fixture tree.
  mkdirSync(join(root, "user/ringtest"), { recursive: true });
  writeFileSync(join(root, "user/ringtest/main.ts"), readFileSync(join(REPO_ROOT, "user/rt/test/program/main.ts"), "utf8").replace(`"../../index"`, `"../rt/index"`));
  mkdirSync(join(root, "user/manifest-reader"), { recursive: true });
  writeFileSync(join(root, "user/manifest-reader/main.ts"), MANIFEST_READER);
  const summary = await build({ root, buildDir: join(root, "build"), targets: ["ringtest", "manifest-reader", "counter"] });
  const failed = summary.outcomes.find((o) => o.error !== null);
  if (failed?.error) throw failed.error;
  for (const name of ["ringtest", "manifest-reader", "counter"]) elf.set(name, new Uint8Array(readFileSync(join(root, "build/user", `${name}.elf`))));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function process(name: string): UserProcess {
  const p = new UserProcess(elf.get(name)!);
  p.kernel.addConsole(CONSOLE_CAP);
  return p;
}

describe("user programs as x86-64 in ring 3", () => {
  it("lays out the address space at kernel/abi.ts's addresses", () => {
    const abi = readFileSync(join(REPO_ROOT, "kernel/abi.ts"), "utf8");
    for (const [name, value] of Object.entries(ADDRESSES)) {
      const m = new RegExp(`export const ${name}: u64 = (0x[0-9A-Fa-f_]+);`).exec(abi);
      expect(Number(m?.[1]?.replace(/_/g, "")), name).toBe(value);
    }
  });

  it("runs a program to its exit code, printing through the console capability", () => {
    const p = process("counter");
    p.kernel.writeCapSet([{ name: "console", interfaceId: Console$Client.interfaceId, capId: CONSOLE_CAP }]);
    const r = p.run(3);
    expect(p.kernel.console).toEqual(["counter: 55"]);
    expect(r.exitCode).toBe(55n);
    expect(r.syscalls).toBe(2); // one cap_enter for the print, one exit
  });

  it("matches out-of-order completions by user_data, as in V8", () => {
    const p = process("ringtest");
    p.kernel.policy = "reverse";
    p.kernel.writeCapSet([
      { name: "console", interfaceId: Console$Client.interfaceId, capId: CONSOLE_CAP },
      { name: "boot", interfaceId: BootPackage$Client.interfaceId, capId: BOOT_CAP },
    ]);
    const r = p.run(9);
    expect(p.kernel.console).toEqual(["program: pid 9, 2 capabilities", "program: 4 NOPs completed out of order"]);
    expect(r.exitCode).toBe(42n);
    // The four NOPs went to the kernel together and came back newest first.
    const nops = p.kernel.consumed.filter((s) => s.opcode === 6);
    expect(nops).toHaveLength(4);
    expect(new Set(nops.map((s) => s.userData)).size).toBe(4);
  });

  it("exits with EXIT_START_FAILED when the ring page is not what the ABI promises", () => {
    const p = process("ringtest");
    p.kernel.initRing({ magic: 0 });
    p.kernel.writeCapSet([]);
    expect(p.run().exitCode).toBe(125n);
  });

  it("round-trips Cap'n Proto: reads the boot manifest through BootPackage calls", () => {
    const p = process("manifest-reader");
    const manifest = manifestBytes();
    const requests: { offset: bigint; maxBytes: number }[] = [];
    p.kernel.objects.set(BOOT_CAP, {
      interfaceId: BootPackage$Client.interfaceId,
      call: (method, params) => {
        const out = new capnp.Message();
        if (method === 0) {
          out.initRoot(BootPackage_ManifestSize$Results).size = BigInt(manifest.length);
        } else {
          const req = new capnp.Message(params, false).getRoot(BootPackage_ReadManifest$Params);
          requests.push({ offset: req.offset, maxBytes: req.maxBytes });
          const chunk = manifest.subarray(Number(req.offset), Math.min(manifest.length, Number(req.offset) + req.maxBytes));
          out.initRoot(BootPackage_ReadManifest$Results)._initData(chunk.length).copyBuffer(chunk);
        }
        return new Uint8Array(out.toArrayBuffer());
      },
    });
    p.kernel.writeCapSet([
      { name: "console", interfaceId: Console$Client.interfaceId, capId: CONSOLE_CAP },
      { name: "boot", interfaceId: BootPackage$Client.interfaceId, capId: BOOT_CAP },
    ]);
    const r = p.run();
    expect(r.exitCode).toBe(0n);
    expect(p.kernel.console).toEqual([
      `manifest: schema 1, 2 binaries, ${manifest.length} bytes, init init`,
      "service 0: shell (0)",
      "service 1: chat ☺ (1)",
      `motd: welcome to capos, log level ${LogLevel.DEBUG}, timer 250 Hz`,
    ]);
    // The guest's params, decoded by capnp-es: consecutive 700-byte reads.
    expect(requests.map((q) => Number(q.offset))).toEqual(Array.from({ length: Math.ceil(manifest.length / 700) }, (_, k) => 700 * k));
    expect(requests.every((q) => q.maxBytes === 700)).toBe(true);
  });
});

// ---- The guest Cap'n Proto runtime's own round-trip programs, as x86-64

class CompiledGuest {

  constructor(private readonly harness: Instantiator, private readonly inst: Instance) {}

  private call(name: string, args: number[]): number {
    const out = this.harness.invoke(this.inst, name, args.map((v): Bits => ({ lo: v | 0, hi: 0 })));
    if (out.kind !== "return") throw new Error(`${name}: ${JSON.stringify(out)}`);
    return out.results[0]!.lo;
  }

  private alloc(n: number): number {
    return this.call("alloc", [n]) >>> 0;
  }

  /** Runs `name(inPtr, inLen, outPtr, outCap)` and returns the bytes written (or throws with the status). */
  copy(name: string, input: Uint8Array, outCap = input.length * 2 + 4096): Uint8Array {
    const mem = this.inst.memory!;
    const inPtr = this.alloc(input.length);
    const outPtr = this.alloc(outCap);
    mem.write(inPtr, input);
    const r = this.call(name, [inPtr, input.length, outPtr, outCap]);

    if (r < 0) throw new Error(`${name} returned status ${r}`);
    return mem.read(outPtr, r);
  }

  build(name: string, outCap = 8192): Uint8Array {
    const outPtr = this.alloc(outCap);
    const r = this.call(name, [outPtr, outCap]);
    if (r < 0) throw new Error(`${name} returned status ${r}`);
    return this.inst.memory!.read(outPtr, r);
  }
}

async function compiledGuest(entry: string): Promise<CompiledGuest> {
  const harness = new Instantiator(new SpecMachine(), "user");
  harness.reset();
  const wasm = await compileAssemblyScript(entry);
  return new CompiledGuest(harness, harness.instantiate(harness.compile(wasm)));
}

const bytesOf = (m: capnp.Message) => new Uint8Array(m.toArrayBuffer());

describe("guest Cap'n Proto round trips as x86-64 (a subset of tests/capnp-roundtrip.test.ts)", () => {
  it("copies a SystemManifest, single- and multi-segment, field for field", async () => {
    const guest = await compiledGuest("schema/as/test/programs/manifest-copy.ts");
    const single = manifestBytes();
    const copy = new capnp.Message(guest.copy("copyManifest", single), false).getRoot(SystemManifest);
    const original = new capnp.Message(single, false).getRoot(SystemManifest);
    expect(copy.binaries.map((b) => [b.name, [...b.data.toUint8Array()]])).toEqual(original.binaries.map((b) => [b.name, [...b.data.toUint8Array()]]));
    expect(copy.initConfig.services.map((s) => [s.name, s.lifetime])).toEqual([["shell", 0], ["chat ☺", 1]]);
    expect(copy.kernelParams.motd).toBe("welcome to capos");
    expect(copy.kernelParams.timerHz).toBe(250);
    // A message whose first segment holds only the root pointer: everything behind far pointers.
    const far = new capnp.Message(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), false);
    const fm = far.initRoot(SystemManifest);
    fm.schemaVersion = 1;
    fm._initKernelParams().motd = "far away";
    const farBytes = bytesOf(far);
    expect(new DataView(farBytes.buffer).getUint32(0, true)).toBeGreaterThan(0); // more than one segment
    expect(new capnp.Message(guest.copy("copyManifest", farBytes), false).getRoot(SystemManifest).kernelParams.motd).toBe("far away");
  });

  it("copies every primitive kind, builds every list kind, and copies unions and groups", async () => {
    const guest = await compiledGuest("schema/as/test/programs/fixture-copy.ts");
    const sm = new capnp.Message();
    const s = sm.initRoot(Scalars);
    s.flag = true; s.i8 = -128; s.i16 = -32768; s.i32 = -2147483648; s.i64 = -9223372036854775808n;
    s.u8 = 255; s.u16 = 65535; s.u32 = 0xffffffff; s.u64 = 0xffffffffffffffffn; s.f32 = -0.5; s.f64 = Math.PI; s.color = Color.GREEN; s.flag2 = true;
    const sc = new capnp.Message(guest.copy("copyScalars", bytesOf(sm)), false).getRoot(Scalars);
    expect([sc.flag, sc.i8, sc.i16, sc.i32, sc.i64, sc.u8, sc.u16, sc.u32, sc.u64, sc.f32, sc.f64, sc.color, sc.flag2]).toEqual([
      true, -128, -32768, -2147483648, -9223372036854775808n, 255, 65535, 0xffffffff, 0xffffffffffffffffn, -0.5, Math.PI, Color.GREEN, true,
    ]);

    const l = new capnp.Message(guest.build("buildLists"), false).getRoot(Lists);
    expect(l.voids.length).toBe(3);
    expect(l.i64s.toArray()).toEqual([-9223372036854775808n, -1n]);
    expect(l.f64s.toArray()).toEqual([0.1, -Infinity]);
    expect(l.texts.toArray()).toEqual(["", "naïve ☃ 𝄞", "\ufffd lone"]);
    expect(l.inners.map((i) => [i.id, i.label])).toEqual([[100, "first"], [101, "second"]]);
    expect(l.matrix.map((r) => r.toArray())).toEqual([[0], [10, 11]]);

    const um = new capnp.Message();
    const u = um.initRoot(Unions);
    u.common = 0xc0ffee;
    u.pair = true;
    u.pair.left = 5;
    u.pair.right = "five";
    u.settings.detail.note = "n";
    const uc = new capnp.Message(guest.copy("copyUnions", bytesOf(um)), false).getRoot(Unions);
    expect([uc.common, uc.which(), uc.pair.left, uc.pair.right, uc.settings.detail.note]).toEqual([0xc0ffee, Unions_Which.PAIR, 5, "five", "n"]);
  });
});
