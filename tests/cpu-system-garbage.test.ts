// Random byte streams executed as ring-3 code, in 64-bit mode and in 32-bit
// compatibility mode, under an IDT whose handlers count the event and skip one
// byte. Whatever the bytes do, nothing but guest exceptions may come out of the
// CPU: a JavaScript exception escaping run() fails the test; a triple fault
// (MachineStop) is an allowed way for a round to end.
import { describe, expect, it } from "vitest";
import { EFER_SCE } from "../src/emulator/cpu/cpu.js";
import { MachineStop } from "../src/emulator/cpu/fault.js";
import { Guest, KCODE, UCODE, code } from "./cpu-system-harness.js";

const COUNTER = 0x4000;
const SKIP = 0x310000;
const SKIP_WITH_ERROR = 0x310100;
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);

/** xorshift32: deterministic bytes, so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  };
}

function garbageGuest(seed: number, userCs: number): Guest {
  const g = new Guest();
  g.enterLongMode();
  g.cpu.efer &= ~EFER_SCE; // no SYSCALL entry point: it must raise #UD
  g.load(SKIP, code([
    "48 ff 04 25 00 40 00 00", // inc qword ptr [0x4000]
    "48 83 04 24 01", // add qword ptr [rsp], 1          (skip one byte)
    "48 cf", // iretq
  ]));
  g.load(SKIP_WITH_ERROR, code([
    "48 83 c4 08", // add rsp, 8                         (drop the error code)
    "48 ff 04 25 00 40 00 00", // inc qword ptr [0x4000]
    "48 83 04 24 01", // add qword ptr [rsp], 1
    "48 cf", // iretq
  ]));
  for (let v = 0; v < 256; v++) g.gate64(v, HAS_ERROR_CODE.has(v) ? SKIP_WITH_ERROR : SKIP, { ist: v === 8 ? 1 : 0 });
  g.load(KCODE, code([
    "6a 2b", // push 0x2b
    "68 00 30 20 00", // push 0x203000
    "68 02 02 00 00", // push 0x202
    `6a ${userCs.toString(16)}`, // push userCs
    "68 00 00 20 00", // push 0x200000
    "48 cf", // iretq
  ]));
  const next = prng(seed);
  const bytes = new Uint8Array(4096);
  for (let k = 0; k < bytes.length; k++) bytes[k] = next();
  g.load(UCODE, bytes);
  return g;
}

function fuzz(userCs: number): { events: number; stops: number } {
  let events = 0;
  let stops = 0;
  for (let round = 0; round < 24; round++) {
    const seed = 0x9e3779b9 ^ (round * 7919) ^ userCs;
    const g = garbageGuest(seed, userCs);
    try {
      g.run(20000);
    } catch (e) {
      if (!(e instanceof MachineStop)) throw new Error(`seed 0x${(seed >>> 0).toString(16)}: ${String(e)}`, { cause: e });
      stops++;
    }
    events += Number(g.r64(COUNTER));
  }
  return { events, stops };
}

describe("random code never throws out of the CPU", () => {
  it("64-bit ring-3 code", () => {
    const { events } = fuzz(0x33);
    expect(events).toBeGreaterThan(100);
  });

  it("32-bit compatibility-mode ring-3 code", () => {
    const { events } = fuzz(0x23);
    expect(events).toBeGreaterThan(100);
  });
});
