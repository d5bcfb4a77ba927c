// Exception and interrupt delivery, installed as cpu.deliver by attachSystem():
// the real-mode IVT, 32-bit protected-mode IDT gates and 64-bit IDT gates (IST,
// RSP0..2 stack switch, 16-byte alignment), error codes with the IDT and EXT
// bits, DPL checks for software interrupts, and the double-fault / triple-fault
// rules of SDM Vol. 3 Table 6-5. Nothing is committed to the CPU until every
// descriptor read and stack write of a delivery has succeeded, so a fault during
// delivery leaves the interrupted state intact for the next attempt.
import type { Cpu } from "./cpu.js";
import { CR0_PE, DELIVER_EXCEPTION, DELIVER_EXTERNAL, DELIVER_SOFTWARE, DELIVER_SOFTWARE_EXC, EFER_LMA, toHex64 } from "./cpu.js";
import {
  CPU_FAULT, EXC_DF, EXC_GP, EXC_NP, EXC_PF, EXC_SS, EXC_TS, EXCEPTION_NAMES, MachineStop, hasErrorCode, isContributory,
} from "./fault.js";
import { AC, IF, NT, RF, TF, VM } from "./flags.js";
import { MODE_16, MODE_64, SEG_CS, SEG_SS } from "./insn.js";
import {
  ATTR_CODE, ATTR_DB, ATTR_DC, ATTR_L, ATTR_P, ATTR_RW, ATTR_S, SYS_TSS16_AVAIL, SYS_TSS16_BUSY, SYS_TSS_AVAIL, SYS_TSS_BUSY,
  attrDpl, desc, descAttr, descBase, descLimit, fetchDescriptor, hi32, isCanonicalHi, joinSigned, loadCacheFromDesc,
  loadCs, loadNull, loadRealCs, sysRead32, updateMode,
} from "./modes.js";
import { P_WS, P_WU } from "../mmu/tlb.js";

const TWO32 = 4294967296;

/** INT1 / ICEBP (F1): a trap-like #DB without the gate DPL check, delivered as an external event. */
export const DELIVER_ICEBP = 4;

/** Installs this module's delivery on a CPU (the machine calls it once after constructing the CPU). */
export function attachSystem(cpu: Cpu): void {
  cpu.deliver = deliverEvent;
}

function isSoftwareKind(kind: number): boolean {
  return kind === DELIVER_SOFTWARE || kind === DELIVER_SOFTWARE_EXC;
}

/**
 * The cpu.deliver hook: delivers an exception (the faulting instruction's RIP
 * is cpu.rip) or an external interrupt (cpu.rip is the next instruction).
 * Faults raised while delivering are combined per Table 6-5: benign first
 * events let the second one through, contributory-on-contributory and
 * page-fault-on-page-fault/contributory become #DF, and any fault while
 * delivering #DF stops the machine with MachineStop("triple-fault").
 * Returns false only when the exception hook asked to stop on a nested fault.
 */
export function deliverEvent(cpu: Cpu, vector: number, code: number, kind: number): boolean {
  let v = vector;
  let c = code;
  let k = kind;
  let ext = isSoftwareKind(kind) ? 0 : 1;
  let chain = ""; // built only when a delivery faults (for the triple-fault report)
  for (;;) {
    try {
      deliverOnce(cpu, v, c, k, ext, cpu.rip);
      return true;
    } catch (e) {
      if (e !== CPU_FAULT) throw e;
      const v2 = cpu.excVector;
      const c2 = cpu.excCode;
      cpu.excVector = -1;
      if (chain === "") chain = eventName(vector, kind);
      chain += ` → ${eventName(v2, DELIVER_EXCEPTION)}${hasErrorCode(v2) ? `(0x${(c2 >>> 0).toString(16)})` : ""}`;
      const firstIsException = k === DELIVER_EXCEPTION;
      if (firstIsException && v === EXC_DF) {
        throw new MachineStop("triple-fault", `triple fault: ${chain} at RIP=0x${toHex64(cpu.rip)} (${modeName(cpu)}, CPL ${cpu.cpl})`);
      }
      const secondSerious = isContributory(v2) || v2 === EXC_PF;
      if (firstIsException && ((isContributory(v) && isContributory(v2)) || (v === EXC_PF && secondSerious))) {
        v = EXC_DF;
        c = 0;
        chain += " → #DF";
      } else {
        v = v2;
        c = c2;
      }
      k = DELIVER_EXCEPTION;
      ext = 1;
      if (cpu.exceptionHook !== null && cpu.exceptionHook(v, c)) {
        cpu.excVector = v;
        cpu.excCode = c;
        return false;
      }
    }
  }
}

/**
 * INT n / INT3 / INTO / INT1 executed by an instruction: the return address is
 * the next instruction. A fault during delivery propagates as a fault of the
 * instruction itself (nothing has been committed), e.g. #GP(n*8+2) for a gate
 * whose DPL is below CPL.
 */
export function softwareInterrupt(cpu: Cpu, vector: number, kind: number): void {
  deliverOnce(cpu, vector, -1, kind, kind === DELIVER_ICEBP ? 1 : 0, cpu.nextRip);
  cpu.nextRip = cpu.rip;
}

function eventName(v: number, kind: number): string {
  if (kind === DELIVER_EXTERNAL) return `IRQ vector 0x${v.toString(16)}`;
  if (isSoftwareKind(kind)) return `INT 0x${v.toString(16)}`;
  const n = EXCEPTION_NAMES[v];
  return n !== undefined ? `#${n}` : `vector 0x${v.toString(16)}`;
}

function modeName(cpu: Cpu): string {
  if ((cpu.cr0 & CR0_PE) === 0) return "real mode";
  return cpu.mode === MODE_64 ? "64-bit mode" : cpu.mode === MODE_16 ? "16-bit protected mode" : "32-bit protected mode";
}

/** One delivery attempt through the IVT or IDT of the current mode. */
function deliverOnce(cpu: Cpu, vector: number, code: number, kind: number, ext: number, retRip: number): void {
  const errorCode = kind === DELIVER_EXCEPTION && hasErrorCode(vector) ? (code < 0 ? 0 : code) : -1;
  if ((cpu.cr0 & CR0_PE) === 0) deliverReal(cpu, vector, retRip);
  else if ((cpu.efer & EFER_LMA) !== 0) deliverLong(cpu, vector, errorCode, kind, ext, retRip);
  else deliverProtected(cpu, vector, errorCode, kind, ext, retRip);
}

// ---------------------------------------------------------------------------
// Shared gate checks
// ---------------------------------------------------------------------------

/** Checks the gate's type, DPL (software interrupts only) and presence; returns the second gate dword. */
function readGate(cpu: Cpu, vector: number, kind: number, ext: number, entrySize: number): number {
  const idtErr = vector * 8 + 2 + ext;
  if (vector * entrySize + entrySize - 1 > cpu.idtLimit) cpu.fault(EXC_GP, idtErr);
  gateW0 = sysRead32(cpu, cpu.idtBase, vector * entrySize);
  const w1 = sysRead32(cpu, cpu.idtBase, vector * entrySize + 4);
  gateW2 = entrySize === 16 ? sysRead32(cpu, cpu.idtBase, vector * entrySize + 8) : 0;
  const type = (w1 >> 8) & 0x1f; // includes the S bit, which must be 0
  const ok = entrySize === 16 ? type === 0xe || type === 0xf : type === 0x6 || type === 0x7 || type === 0xe || type === 0xf;
  // Task gates (type 5) would need a hardware task switch: not supported (docs/emulator/system.md).
  if (!ok) cpu.fault(EXC_GP, idtErr);
  if (isSoftwareKind(kind) && ((w1 >> 13) & 3) < cpu.cpl) cpu.fault(EXC_GP, vector * 8 + 2);
  if ((w1 & 0x8000) === 0) cpu.fault(EXC_NP, idtErr);
  return w1;
}

let gateW0 = 0;
let gateW2 = 0;

/** The handler's code segment: non-null, code, DPL ≤ CPL, present. Leaves it in `desc`; returns the new CPL. */
function checkHandlerCode(cpu: Cpu, sel: number, ext: number): number {
  if ((sel & 0xfffc) === 0) cpu.fault(EXC_GP, ext);
  fetchDescriptor(cpu, sel, EXC_GP, ext);
  const attr = descAttr(desc.hi);
  if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) cpu.fault(EXC_GP, (sel & 0xfffc) + ext);
  const dpl = attrDpl(attr);
  if (dpl > cpu.cpl) cpu.fault(EXC_GP, (sel & 0xfffc) + ext);
  if ((attr & ATTR_P) === 0) cpu.fault(EXC_NP, (sel & 0xfffc) + ext);
  return (attr & ATTR_DC) !== 0 ? cpu.cpl : dpl;
}

/** RFLAGS after entering a handler: TF NT RF VM cleared, IF too through an interrupt gate. */
function handlerFlags(flags: number, trapGate: boolean): number {
  let f = flags & ~(TF | NT | RF | VM);
  if (!trapGate) f &= ~IF;
  return f;
}

// ---------------------------------------------------------------------------
// Long mode (IA-32e): 16-byte gates, 8-byte pushes, IST
// ---------------------------------------------------------------------------

const frame64 = new Int32Array(12);

function deliverLong(cpu: Cpu, vector: number, errorCode: number, kind: number, ext: number, retRip: number): void {
  const w1 = readGate(cpu, vector, kind, ext, 16);
  const w0 = gateW0;
  const offHi = gateW2;
  const offLo = (w0 & 0xffff) | (w1 & 0xffff0000);
  const csSel = w0 >>> 16;
  const newCpl = checkHandlerCode(cpu, csSel, ext);
  const csAttr = descAttr(desc.hi);
  if ((csAttr & ATTR_L) === 0 || (csAttr & ATTR_DB) !== 0) cpu.fault(EXC_GP, (csSel & 0xfffc) + ext);
  if (!isCanonicalHi(offHi)) cpu.fault(EXC_GP, ext);
  const csLo = desc.lo;
  const csHi = desc.hi;

  // The new stack: an IST entry always, RSPn on a privilege change, else the current RSP.
  const ist = w1 & 7;
  let spLo: number, spHi: number;
  if (ist !== 0 || newCpl < cpu.cpl) {
    const off = ist !== 0 ? 0x24 + (ist - 1) * 8 : 4 + newCpl * 8;
    const t = cpu.trAttr & 0xf;
    if ((t !== SYS_TSS_AVAIL && t !== SYS_TSS_BUSY) || off + 7 > cpu.trLimit) cpu.fault(EXC_TS, (cpu.trSel & 0xfffc) + ext);
    spLo = sysRead32(cpu, cpu.trBase, off);
    spHi = sysRead32(cpu, cpu.trBase, off + 4);
  } else {
    spLo = cpu.r[8]!;
    spHi = cpu.r[9]!;
  }
  spLo &= ~0xf;

  const f = frame64;
  f[0] = cpu.segSel[SEG_SS]!; f[1] = 0;
  f[2] = cpu.r[8]!; f[3] = cpu.r[9]!;
  f[4] = cpu.getFlags(); f[5] = 0;
  f[6] = cpu.segSel[SEG_CS]!; f[7] = 0;
  f[8] = retRip | 0; f[9] = hi32(retRip);
  let n = 5;
  if (errorCode >= 0) { f[10] = errorCode; f[11] = 0; n = 6; }

  // Write from the top down; every slot must be canonical and writable at the new privilege.
  const need = newCpl === 3 ? P_WU : P_WS;
  const top = (spLo >>> 0) + spHi * TWO32;
  for (let k = 0; k < n; k++) {
    const a = top - 8 * (k + 1);
    const lo = a | 0;
    const hi = Math.floor(a / TWO32) | 0;
    if (!isCanonicalHi(hi)) cpu.fault(EXC_SS, ext);
    cpu.writeSlow(lo, hi, 4, f[2 * k]!, need);
    cpu.writeSlow((lo + 4) | 0, hi, 4, f[2 * k + 1]!, need);
  }
  const newSp = top - 8 * n;

  // Commit.
  if (newCpl !== cpu.cpl) loadNull(cpu, SEG_SS, newCpl);
  cpu.r[8] = newSp | 0;
  cpu.r[9] = Math.floor(newSp / TWO32) | 0;
  desc.lo = csLo;
  desc.hi = csHi;
  loadCs(cpu, csSel, newCpl);
  cpu.setFlags(handlerFlags(f[4]!, (w1 & 0x100) !== 0));
  cpu.rip = joinSigned(offLo, offHi);
}

// ---------------------------------------------------------------------------
// 32-bit protected mode: 8-byte gates (16- and 32-bit), SS:ESP from the TSS
// ---------------------------------------------------------------------------

const frame32 = new Int32Array(6);

function deliverProtected(cpu: Cpu, vector: number, errorCode: number, kind: number, ext: number, retRip: number): void {
  const w1 = readGate(cpu, vector, kind, ext, 8);
  const w0 = gateW0;
  const gate32 = (w1 & 0x800) !== 0;
  const trapGate = (w1 & 0x100) !== 0;
  const csSel = w0 >>> 16;
  const offset = gate32 ? ((w0 & 0xffff) | (w1 & 0xffff0000)) >>> 0 : w0 & 0xffff;
  const newCpl = checkHandlerCode(cpu, csSel, ext);
  if (offset > descLimit(desc.lo, desc.hi)) cpu.fault(EXC_GP, ext);
  const csLo = desc.lo;
  const csHi = desc.hi;
  const size = gate32 ? 4 : 2;

  const f = frame32;
  let n = 0;
  let ssSel: number, ssBase: number, ssLimit: number, ssAttr: number, sp: number, ssErr: number;
  let ssLo = 0, ssHi = 0;
  const switching = newCpl < cpu.cpl;
  if (switching) {
    // Inner stack from the TSS (32-bit: ESPn at 4+8n, SSn at 8+8n; 16-bit: SPn at 2+4n, SSn at 4+4n).
    const t = cpu.trAttr & 0xf;
    const tss32 = t === SYS_TSS_AVAIL || t === SYS_TSS_BUSY;
    const tss16 = t === SYS_TSS16_AVAIL || t === SYS_TSS16_BUSY;
    const off = tss32 ? 4 + newCpl * 8 : 2 + newCpl * 4;
    const last = tss32 ? off + 5 : off + 3;
    if ((!tss32 && !tss16) || last > cpu.trLimit) cpu.fault(EXC_TS, (cpu.trSel & 0xfffc) + ext);
    if (tss32) {
      sp = sysRead32(cpu, cpu.trBase, off) >>> 0;
      ssSel = sysRead32(cpu, cpu.trBase, off + 4) & 0xffff;
    } else {
      const v = sysRead32(cpu, cpu.trBase, off);
      sp = v & 0xffff;
      ssSel = v >>> 16;
    }
    if ((ssSel & 0xfffc) === 0) cpu.fault(EXC_TS, ext);
    fetchDescriptor(cpu, ssSel, EXC_TS, ext);
    const a = descAttr(desc.hi);
    if ((ssSel & 3) !== newCpl || attrDpl(a) !== newCpl || (a & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
      cpu.fault(EXC_TS, (ssSel & 0xfffc) + ext);
    }
    if ((a & ATTR_P) === 0) cpu.fault(EXC_SS, (ssSel & 0xfffc) + ext);
    ssLo = desc.lo;
    ssHi = desc.hi;
    ssBase = descBase(ssLo, ssHi);
    ssLimit = descLimit(ssLo, ssHi);
    ssAttr = a;
    ssErr = (ssSel & 0xfffc) + ext;
    f[n++] = cpu.segSel[SEG_SS]!;
    f[n++] = cpu.r[8]!;
  } else {
    ssSel = cpu.segSel[SEG_SS]!;
    ssBase = cpu.segBaseLo[SEG_SS]! >>> 0;
    ssLimit = cpu.segLimit[SEG_SS]!;
    ssAttr = cpu.segAttr[SEG_SS]!;
    sp = cpu.r[8]! >>> 0;
    ssErr = ext;
  }
  const flags = cpu.getFlags();
  f[n++] = flags;
  f[n++] = cpu.segSel[SEG_CS]!;
  f[n++] = retRip | 0;
  if (errorCode >= 0) f[n++] = errorCode;

  const need = newCpl === 3 ? P_WU : P_WS;
  const newSp = pushFrame(cpu, f, n, size, ssBase, ssLimit, ssAttr, sp, need, ssErr);

  // Commit.
  if (switching) {
    desc.lo = ssLo;
    desc.hi = ssHi;
    loadCacheFromDesc(cpu, SEG_SS, ssSel);
  }
  setStackPointer(cpu, newSp);
  desc.lo = csLo;
  desc.hi = csHi;
  loadCs(cpu, csSel, newCpl);
  cpu.setFlags(handlerFlags(flags, trapGate));
  cpu.rip = offset;
}

/**
 * Writes frame[0..n-1] (first = highest address) below sp on a 16/32-bit stack
 * segment, with its limit checks (#SS(ssErr)); returns the new stack offset.
 */
function pushFrame(
  cpu: Cpu, f: Int32Array, n: number, size: number,
  ssBase: number, ssLimit: number, ssAttr: number, sp: number, need: number, ssErr: number,
): number {
  const mask = (ssAttr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff;
  const expandDown = (ssAttr & (ATTR_CODE | ATTR_DC)) === ATTR_DC;
  const upper = (ssAttr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff;
  let off = sp;
  for (let k = 0; k < n; k++) {
    off = ((off - size) & mask) >>> 0;
    const bad = expandDown ? off <= ssLimit || off + size - 1 > upper : off + size - 1 > ssLimit;
    if (bad) cpu.fault(EXC_SS, ssErr);
  }
  off = sp;
  for (let k = 0; k < n; k++) {
    off = ((off - size) & mask) >>> 0;
    cpu.writeSlow((ssBase + off) | 0, 0, size, f[k]!, need);
  }
  return off;
}

/** Stores a new stack offset into rSP at the width of the (new) SS. */
function setStackPointer(cpu: Cpu, sp: number): void {
  if ((cpu.segAttr[SEG_SS]! & ATTR_DB) !== 0) {
    cpu.r[8] = sp | 0;
    cpu.r[9] = 0;
  } else {
    cpu.r[8] = (cpu.r[8]! & ~0xffff) | (sp & 0xffff);
  }
}

// ---------------------------------------------------------------------------
// Real mode: 4-byte IVT entries, 16-bit FLAGS/CS/IP frame
// ---------------------------------------------------------------------------

function deliverReal(cpu: Cpu, vector: number, retRip: number): void {
  if (vector * 4 + 3 > cpu.idtLimit) cpu.fault(EXC_GP, 0);
  const ent = sysRead32(cpu, cpu.idtBase, vector * 4);
  const flags = cpu.getFlags();
  const f = frame32;
  f[0] = flags;
  f[1] = cpu.segSel[SEG_CS]!;
  f[2] = retRip & 0xffff;
  const ssAttr = cpu.segAttr[SEG_SS]! | ATTR_P;
  const sp = (ssAttr & ATTR_DB) !== 0 ? cpu.r[8]! >>> 0 : cpu.r[8]! & 0xffff;
  const newSp = pushFrame(cpu, f, 3, 2, cpu.segBaseLo[SEG_SS]! >>> 0, cpu.segLimit[SEG_SS]!, ssAttr, sp, P_WS, 0);
  setStackPointer(cpu, newSp);
  loadRealCs(cpu, ent >>> 16);
  cpu.setFlags(flags & ~(IF | TF | AC | RF));
  cpu.rip = ent & 0xffff;
  updateMode(cpu);
}
