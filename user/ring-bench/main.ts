// ring-bench: what the ring costs, in guest instructions. It times, with the TSC (which
// capos's machine advances by one per retired instruction), an empty cap_enter, one NOP
// per cap_enter, sixteen NOPs per cap_enter and one Console.writeLine CALL per cap_enter,
// each counted from the program's first store into the SQE to its reading of the CQE.
// Run it with `capos boot ring-bench.cue`; on QEMU the TSC counts cycles instead.
import {
  RING_VADDR, SQ_ENTRIES, CQ_ENTRIES, SQ_OFFSET, CQ_OFFSET, SQE_SIZE, CQE_SIZE, RING_SQ_TAIL_OFF, RING_CQ_HEAD_OFF,
  RING_CQ_TAIL_OFF, SQE_OPCODE_OFF, SQE_CAP_ID_OFF, SQE_METHOD_ID_OFF, SQE_PARAMS_ADDR_OFF, SQE_PARAMS_LEN_OFF,
  SQE_USER_DATA_OFF, CQE_RESULT_OFF, OP_NOP, OP_CALL, SYS_CAP_ENTER,
} from "../../kernel/abi";
import { MessageBuilder } from "../../schema/as/runtime/index";
import { Console, Console_WriteLineParamsBuilder } from "../../schema/as/capos";
import { print, ringAttach, capByName } from "../rt/index";

// @ts-ignore: decorator
@external("cpu", "syscall2") declare function syscall2(nr: i64, a1: i64, a2: i64): i64;
// @ts-ignore: decorator
@external("cpu", "rdtsc") declare function rdtsc(): i64;

const RING: usize = <usize>RING_VADDR;
const ROUNDS: u32 = 1000;
const CALLS: u32 = 64;

const params: usize = memory.data(128, 16);
const builder = changetype<MessageBuilder>(memory.data(<i32>offsetof<MessageBuilder>(), 16));
const line = changetype<Console_WriteLineParamsBuilder>(memory.data(<i32>offsetof<Console_WriteLineParamsBuilder>(), 16));

/** Writes a zeroed SQE with `opcode` at the tail (plain stores: the ring is above linear memory) and admits it. */
// @ts-ignore: decorator
@inline function push(opcode: u32, capId: u32, method: u32, paramsAddr: usize, paramsLen: u32): void {
  const tail = load<u32>(RING + RING_SQ_TAIL_OFF);
  const sqe = RING + SQ_OFFSET + <usize>(tail & (SQ_ENTRIES - 1)) * SQE_SIZE;
  for (let off: usize = 0; off < <usize>SQE_SIZE; off += 8) store<u64>(sqe + off, 0);
  store<u8>(sqe + SQE_OPCODE_OFF, <u8>opcode);
  store<u32>(sqe + SQE_CAP_ID_OFF, capId);
  store<u16>(sqe + SQE_METHOD_ID_OFF, <u16>method);
  store<u64>(sqe + SQE_PARAMS_ADDR_OFF, <u64>paramsAddr);
  store<u32>(sqe + SQE_PARAMS_LEN_OFF, paramsLen);
  store<u64>(sqe + SQE_USER_DATA_OFF, <u64>tail + 1);
  store<u32>(RING + RING_SQ_TAIL_OFF, tail + 1);
}

/** Reads every unread CQE; returns how many failed. */
// @ts-ignore: decorator
@inline function reap(): u32 {
  let head = load<u32>(RING + RING_CQ_HEAD_OFF);
  const tail = load<u32>(RING + RING_CQ_TAIL_OFF);
  let bad: u32 = 0;
  while (head != tail) {
    if (load<i32>(RING + CQ_OFFSET + <usize>(head & (CQ_ENTRIES - 1)) * CQE_SIZE + CQE_RESULT_OFF) < 0) bad++;
    head++;
  }
  store<u32>(RING + RING_CQ_HEAD_OFF, head);
  return bad;
}

function report(what: string, ticks: i64, count: u32, bad: u32): void {
  ringAttach(RING);
  print("ring-bench: " + what + ": " + (ticks / <i64>count).toString() + " TSC ticks each (" + count.toString() + " runs" +
    (bad == 0 ? ")" : ", " + bad.toString() + " failed)"));
}

export function main(): i32 {
  const console = capByName("console", Console.INTERFACE_ID);
  if (console == 0) return 1;
  builder.init(params, 128);
  line.makeRoot(builder);
  line.setTextString(".");
  const paramsLen = builder.byteLength();
  print("ring-bench: guest instructions per ring operation (the TSC counts retired instructions on capos's machine)");

  let t = rdtsc();
  for (let i: u32 = 0; i < ROUNDS; i++) syscall2(<i64>SYS_CAP_ENTER, 0, 0);
  report("empty cap_enter", rdtsc() - t, ROUNDS, 0);

  let bad: u32 = 0;
  t = rdtsc();
  for (let i: u32 = 0; i < ROUNDS; i++) {
    push(OP_NOP, 0, 0, 0, 0);
    syscall2(<i64>SYS_CAP_ENTER, 1, 0);
    bad += reap();
  }
  report("NOP, one per cap_enter", rdtsc() - t, ROUNDS, bad);

  bad = 0;
  t = rdtsc();
  for (let i: u32 = 0; i < ROUNDS / 16; i++) {
    for (let j: u32 = 0; j < SQ_ENTRIES; j++) push(OP_NOP, 0, 0, 0, 0);
    syscall2(<i64>SYS_CAP_ENTER, <i64>SQ_ENTRIES, 0);
    bad += reap();
  }
  report("NOP, sixteen per cap_enter", rdtsc() - t, (ROUNDS / 16) * SQ_ENTRIES, bad);

  bad = 0;
  t = rdtsc();
  for (let i: u32 = 0; i < CALLS; i++) {
    push(OP_CALL, console, Console.Method.writeLine, params, paramsLen);
    syscall2(<i64>SYS_CAP_ENTER, 1, 0);
    bad += reap();
  }
  report("Console.writeLine(\".\") CALL, one per cap_enter", rdtsc() - t, CALLS, bad);
  return 0;
}
