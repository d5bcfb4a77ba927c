// The 64-bit IDT: every vector enters through its stub in trap.s; #DF and #PF run on
// their own IST stacks. All gates have DPL 0, so `int n` from ring 3 raises #GP instead
// of reaching a handler.
import { lidt } from "./cpu";
import { archTrapStub } from "./native";
import { IST_DOUBLE_FAULT, IST_PAGE_FAULT } from "./gdt";
import { DIRECT_MAP_BASE, KERNEL_CS } from "../../mem/layout";

export const VECTOR_DOUBLE_FAULT: u32 = 8;
export const VECTOR_PAGE_FAULT: u32 = 14;
/** The PIC's IRQ 0..15 arrive at vectors 32..47 (pic.ts remaps them there). */
export const VECTOR_IRQ_BASE: u32 = 32;

const VECTORS: u32 = 256;
const GATE_INTERRUPT_PRESENT: u64 = 0x8E; // present, DPL 0, 64-bit interrupt gate (clears IF)

const idt: usize = memory.data(<i32>(VECTORS * 16), 16);
const idtr: usize = memory.data(16, 16);

function setGate(vector: u32, handler: u64, ist: u32): void {
  const low: u64 = (handler & 0xFFFF) | (<u64>KERNEL_CS << 16) | (<u64>ist << 32) |
    (GATE_INTERRUPT_PRESENT << 40) | (((handler >> 16) & 0xFFFF) << 48);
  store<u64>(idt + (<usize>vector << 4), low);
  store<u64>(idt + (<usize>vector << 4) + 8, handler >> 32);
}

/** Fills every gate and loads the IDT. */
export function idtInit(): void {
  for (let v: u32 = 0; v < VECTORS; v++) {
    const ist = v == VECTOR_DOUBLE_FAULT ? IST_DOUBLE_FAULT : v == VECTOR_PAGE_FAULT ? IST_PAGE_FAULT : 0;
    setGate(v, <u64>archTrapStub(<i32>v), ist);
  }
  store<u16>(idtr, <u16>(VECTORS * 16 - 1));
  store<u64>(idtr + 2, DIRECT_MAP_BASE + <u64>idt);
  lidt(idtr);
}
