// Random byte streams executed as ring-3 code, in 64-bit mode and in 32-bit
// compatibility mode, under an IDT whose handlers count the event and skip one
// byte. Whatever the bytes do, nothing but guest exceptions may come out of the
// CPU: a JavaScript exception escaping run() fails the test; a triple fault
// (MachineStop) is an allowed way for a round to end.
import { describe, expect, it } from "vitest";
import { EFER_SCE } from "../src/emulator/cpu/cpu.js";
import { MachineStop } from "../src/emulator/cpu/fault.js";
import { Guest, KCODE, UCODE } from "./cpu-system-harness.js";

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
  g.loadAsm(SKIP, `
    inc qword ptr [${COUNTER}]
    add qword ptr [rsp], 1                      # skip one byte
    iretq
  `);
  g.loadAsm(SKIP_WITH_ERROR, `
    add rsp, 8                                  # drop the error code
    inc qword ptr [${COUNTER}]
    add qword ptr [rsp], 1
    iretq
  `);
  for (let v = 0; v < 256; v++) g.gate64(v, HAS_ERROR_CODE.has(v) ? SKIP_WITH_ERROR : SKIP, { ist: v === 8 ? 1 : 0 });
  g.loadAsm(KCODE, `
    push SEL_UDATA
    push USTACK_TOP
    push 0x202
    push ${userCs}
    push UCODE
    iretq
  `);
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
