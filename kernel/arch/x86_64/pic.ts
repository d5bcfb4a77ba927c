// The 8259A pair: remapped so IRQ 0..15 arrive at vectors 32..47 (clear of the CPU's
// exceptions), everything masked except the lines the kernel drives, and EOI.
import { outb } from "./cpu";
import { VECTOR_IRQ_BASE } from "./idt";

const MASTER_CMD = 0x20;
const MASTER_DATA = 0x21;
const SLAVE_CMD = 0xA0;
const SLAVE_DATA = 0xA1;
const EOI = 0x20;

/** Remaps both PICs and unmasks only the IRQ lines set in `enabled` (bit n = IRQ n). */
export function picInit(enabled: u32): void {
  outb(MASTER_CMD, 0x11); // ICW1: edge, cascade, ICW4 follows
  outb(SLAVE_CMD, 0x11);
  outb(MASTER_DATA, <i32>VECTOR_IRQ_BASE); // ICW2: vector base
  outb(SLAVE_DATA, <i32>VECTOR_IRQ_BASE + 8);
  outb(MASTER_DATA, 0x04); // ICW3: slave on IR2
  outb(SLAVE_DATA, 0x02); // ICW3: cascade identity
  outb(MASTER_DATA, 0x01); // ICW4: 8086 mode
  outb(SLAVE_DATA, 0x01);
  // The slave's lines reach the CPU through IRQ 2, so it stays open when any of them is.
  const master = (enabled & 0xFF) | ((enabled & 0xFF00) != 0 ? 0x04 : 0);
  outb(MASTER_DATA, <i32>(~master & 0xFF));
  outb(SLAVE_DATA, <i32>(~(enabled >> 8) & 0xFF));
}

/** Acknowledges IRQ `irq` (0..15). */
export function picEoi(irq: u32): void {
  if (irq >= 8) outb(SLAVE_CMD, EOI);
  outb(MASTER_CMD, EOI);
}
