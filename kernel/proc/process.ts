// Processes: the table of process records and building one from an ELF image — its
// address space (W^X segments, stack with a guard page, ring and CapSet pages), its
// capability table and its first user context — and tearing one down at exit.
import { PAGE_SIZE, RING_VADDR, CAPSET_VADDR, USER_STACK_TOP, USER_STACK_SIZE, CAPSET_NAME_MAX } from "../abi";
import { ELF_OK, ELF_PLAN_BYTES, ElfPlan, elfValidate, elfPlanSegment, PROT_READ, PROT_WRITE } from "./elf";
import { spaceCreate, spaceMapFresh, spaceMapUser, spaceFrameOf, spaceDestroy, SPACE_OK } from "../mem/address-space";
import { physAllocZeroed, physAllocContiguousZeroed, physFree } from "../mem/physical";
import { RING_STATE_BYTES, ringInit } from "../cap/ring";
import { capsetInit, capsetAdd } from "../cap/capset";
import { capTableBytes, capTableInit, capTableInsert, CAP_TABLE_MAX_CAPACITY } from "../cap/table";
import {
  TRAP_FRAME_BYTES, FRAME_RIP, FRAME_CS, FRAME_RFLAGS, FRAME_RSP, FRAME_SS, FRAME_RDI, FRAME_RSI, FRAME_RDX, RFLAGS_USER,
} from "../arch/x86_64/trapframe";
import { USER_CS, USER_DS } from "../mem/layout";

export const MAX_PROCESSES: u32 = 16;

export const PROC_FREE: u32 = 0;
/** Being built; not schedulable yet. */
export const PROC_LOADING: u32 = 1;
export const PROC_RUNNABLE: u32 = 2;

export const LOAD_OK: i32 = 0;
/** The ELF image broke a rule (Process.elfReason says which). */
export const LOAD_ERR_ELF: i32 = -1;
/** No frame was left for the image, the stack, a page table or the capability table. */
export const LOAD_ERR_NO_MEMORY: i32 = -2;
/** The capability slot quota is zero or above what a table can hold. */
export const LOAD_ERR_QUOTA: i32 = -3;

@unmanaged export class Process {
  state: u32 = 0;
  pid: u32 = 0;
  /** PML4 of the address space. */
  root: usize = 0;
  /** The capability table region and its size in frames. */
  table: usize = 0;
  tablePages: u32 = 0;
  /** The ring and CapSet frames (also mapped in the user half; freed with it). */
  ringFrame: usize = 0;
  capsetFrame: usize = 0;
  nameLength: u32 = 0;
  /** Why the ELF image was refused (an ELF_ERR_* of proc/elf.ts). */
  elfReason: i32 = 0;
}

// A record: the fields above, then the name, the ring state, the saved context and
// the fxsave area (16-byte aligned), at fixed offsets.
const RECORD_BYTES: usize = 1536;
const NAME_AT: usize = 128;
const RING_AT: usize = 192;
const CONTEXT_AT: usize = 256;
const FPU_AT: usize = 512;
const FPU_BYTES: usize = 512;

const records: usize = memory.data(<i32>(<usize>MAX_PROCESSES * RECORD_BYTES), 64);
const plan: usize = memory.data(<i32>ELF_PLAN_BYTES, 16);
let nextPid: u32 = 1;

export function processAt(index: u32): Process {
  return changetype<Process>(records + <usize>index * RECORD_BYTES);
}

/** The process's name (manifest name), `nameLength` bytes. */
export function processName(p: Process): usize {
  return changetype<usize>(p) + NAME_AT;
}

/** The kernel's ring state for the process (cap/ring.ts). */
export function processRing(p: Process): usize {
  return changetype<usize>(p) + RING_AT;
}

/** The saved user context: a trap frame (trapframe.ts). */
export function processContext(p: Process): usize {
  return changetype<usize>(p) + CONTEXT_AT;
}

/** The saved x87/SSE state (fxsave layout). */
export function processFpu(p: Process): usize {
  return changetype<usize>(p) + FPU_AT;
}

/** A free record, marked loading with a fresh pid, or null when the table is full. */
export function processNew(name: usize, nameLength: u32): Process | null {
  for (let i: u32 = 0; i < MAX_PROCESSES; i++) {
    const p = processAt(i);
    if (p.state != PROC_FREE) continue;
    memory.fill(changetype<usize>(p), 0, RECORD_BYTES);
    p.state = PROC_LOADING;
    p.pid = nextPid++;
    p.nameLength = min(nameLength, CAPSET_NAME_MAX);
    memory.copy(processName(p), name, p.nameLength);
    return p;
  }
  return null;
}

/** Copies a segment's file bytes into its (already mapped, zeroed) pages. */
function copySegment(root: usize, file: usize, vaddr: u64, offset: u64, size: u64): void {
  let done: u64 = 0;
  while (done < size) {
    const va = vaddr + done;
    const inPage = va & <u64>(PAGE_SIZE - 1);
    const chunk = min(<u64>PAGE_SIZE - inPage, size - done);
    const frame = spaceFrameOf(root, va - inPage);
    memory.copy(frame + <usize>inPage, file + <usize>(offset + done), <usize>chunk);
    done += chunk;
  }
}

/**
 * Builds the process from the `length`-byte ELF image at `file`: validates it
 * completely first, then maps its segments, the stack, the ring page (RW, NX) and
 * the CapSet page (R, NX), makes an empty capability table of `capSlots` slots and
 * the entry context _start(RING_VADDR, pid, CAPSET_VADDR). Returns LOAD_OK or a
 * LOAD_ERR_*; on failure everything built so far is released.
 */
export function processLoad(p: Process, file: usize, length: u32, capSlots: u32): i32 {
  const status = elfValidate(file, length, plan);
  if (status != ELF_OK) {
    p.elfReason = status;
    return LOAD_ERR_ELF;
  }
  if (capSlots == 0 || capSlots > CAP_TABLE_MAX_CAPACITY / 2) return LOAD_ERR_QUOTA;
  const root = spaceCreate();
  if (root == 0) return LOAD_ERR_NO_MEMORY;
  p.root = root;
  const result = buildSpace(p, file, capSlots);
  if (result != LOAD_OK) processRelease(p);
  return result;
}

function buildSpace(p: Process, file: usize, capSlots: u32): i32 {
  const root = p.root;
  const elf = changetype<ElfPlan>(plan);
  for (let i: u32 = 0; i < elf.segmentCount; i++) {
    const s = elfPlanSegment(plan, i);
    if (spaceMapFresh(root, s.pageStart, s.pageEnd - s.pageStart, s.prot) != SPACE_OK) return LOAD_ERR_NO_MEMORY;
    copySegment(root, file, s.vaddr, s.fileOffset, s.fileSize);
  }
  // The stack; the page below it (USER_STACK_GUARD) is left unmapped.
  if (spaceMapFresh(root, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE, PROT_READ | PROT_WRITE) != SPACE_OK) {
    return LOAD_ERR_NO_MEMORY;
  }
  const ringFrame = physAllocZeroed();
  if (ringFrame == 0) return LOAD_ERR_NO_MEMORY;
  if (spaceMapUser(root, RING_VADDR, ringFrame, PROT_READ | PROT_WRITE) != SPACE_OK) {
    physFree(ringFrame);
    return LOAD_ERR_NO_MEMORY;
  }
  p.ringFrame = ringFrame;
  ringInit(processRing(p), ringFrame);
  const capsetFrame = physAllocZeroed();
  if (capsetFrame == 0) return LOAD_ERR_NO_MEMORY;
  if (spaceMapUser(root, CAPSET_VADDR, capsetFrame, PROT_READ) != SPACE_OK) {
    physFree(capsetFrame);
    return LOAD_ERR_NO_MEMORY;
  }
  p.capsetFrame = capsetFrame;
  capsetInit(capsetFrame);
  // Twice the quota in slots, so retired slots (generation wrap) do not eat the quota's room.
  const capacity = capSlots * 2;
  const bytes = capTableBytes(capacity);
  const pages = <u32>((bytes + <u64>PAGE_SIZE - 1) / <u64>PAGE_SIZE);
  const table = physAllocContiguousZeroed(pages);
  if (table == 0) return LOAD_ERR_NO_MEMORY;
  p.table = table;
  p.tablePages = pages;
  capTableInit(table, <u64>pages * <u64>PAGE_SIZE, capacity, capSlots);

  const context = processContext(p);
  memory.fill(context, 0, TRAP_FRAME_BYTES);
  store<u64>(context + FRAME_RIP, elf.entry);
  store<u64>(context + FRAME_CS, <u64>USER_CS);
  store<u64>(context + FRAME_RFLAGS, RFLAGS_USER);
  store<u64>(context + FRAME_RSP, USER_STACK_TOP - 8); // [rsp] = 0: a null return address
  store<u64>(context + FRAME_SS, <u64>USER_DS);
  store<u64>(context + FRAME_RDI, RING_VADDR);
  store<u64>(context + FRAME_RSI, <u64>p.pid);
  store<u64>(context + FRAME_RDX, CAPSET_VADDR);
  const fpu = processFpu(p);
  memory.fill(fpu, 0, FPU_BYTES);
  store<u16>(fpu + 0, 0x037F); // FCW: all exceptions masked, 64-bit precision
  store<u32>(fpu + 24, 0x1F80); // MXCSR: all exceptions masked, round to nearest
  return LOAD_OK;
}

/**
 * Gives the process a capability: a new slot for `object` of `interfaceId` and a
 * CapSet entry `name` naming it. Returns the CapId (non-negative) or a negative
 * CAP_ERR_* / CAPSET_ERR_* (then nothing changed in the CapSet).
 */
export function processGrant(p: Process, name: usize, nameLength: u32, interfaceId: u64, object: u32): i64 {
  const id = capTableInsert(p.table, interfaceId, object, 0);
  if (id < 0) return id;
  const entry = capsetAdd(p.capsetFrame, name, nameLength, <u32>id, interfaceId);
  if (entry < 0) return <i64>entry;
  return id;
}

/**
 * Releases everything the process holds: its capability table (kernel objects of this
 * milestone are singletons, so dropping a hold frees nothing else), its address space
 * with every user page (ring and CapSet included), and the record. CR3 must not be
 * the process's root.
 */
export function processRelease(p: Process): void {
  if (p.table != 0) {
    for (let i: u32 = 0; i < p.tablePages; i++) physFree(p.table + <usize>i * PAGE_SIZE);
  }
  if (p.root != 0) spaceDestroy(p.root);
  p.table = 0;
  p.root = 0;
  p.ringFrame = 0;
  p.capsetFrame = 0;
  p.state = PROC_FREE;
}

/** Whether the record's layout holds the ring state (checked once at boot). */
export function processLayoutOk(): bool {
  return <usize>RING_STATE_BYTES <= CONTEXT_AT - RING_AT && offsetof<Process>() <= NAME_AT;
}
