// ELF64 validation for user programs against docs/abi.md "User programs", producing a load
// plan (entry, page-granular W^X segments). It never maps memory, never reads outside the
// file, and names the first rule an image breaks so the kernel can log why.
import {
  PAGE_SIZE,
  USER_LIMIT,
  USER_RESERVED_BASE,
  USER_RESERVED_END,
} from "../abi";

export const ELF_OK: i32 = 0;
export const ELF_ERR_TOO_SMALL: i32 = 1;
export const ELF_ERR_TOO_LARGE: i32 = 2;
export const ELF_ERR_BAD_MAGIC: i32 = 3;
export const ELF_ERR_NOT_64BIT: i32 = 4;
export const ELF_ERR_NOT_LITTLE_ENDIAN: i32 = 5;
export const ELF_ERR_BAD_VERSION: i32 = 6;
export const ELF_ERR_BAD_OSABI: i32 = 7;
export const ELF_ERR_NOT_EXECUTABLE: i32 = 8;
export const ELF_ERR_BAD_MACHINE: i32 = 9;
export const ELF_ERR_BAD_HEADER_SIZE: i32 = 10;
export const ELF_ERR_BAD_PHDR_COUNT: i32 = 11;
export const ELF_ERR_PHDRS_OUTSIDE_FILE: i32 = 12;
export const ELF_ERR_DYNAMIC: i32 = 13;
export const ELF_ERR_TLS: i32 = 14;
export const ELF_ERR_EXECUTABLE_STACK: i32 = 15;
export const ELF_ERR_BAD_FLAGS: i32 = 16;
export const ELF_ERR_WRITE_AND_EXECUTE: i32 = 17;
export const ELF_ERR_FILESZ_EXCEEDS_MEMSZ: i32 = 18;
export const ELF_ERR_SEGMENT_OUTSIDE_FILE: i32 = 19;
export const ELF_ERR_MISALIGNED: i32 = 20;
export const ELF_ERR_ADDRESS_OVERFLOW: i32 = 21;
export const ELF_ERR_NOT_USER_HALF: i32 = 22;
export const ELF_ERR_RESERVED_WINDOW: i32 = 23;
export const ELF_ERR_OVERLAP: i32 = 24;
export const ELF_ERR_TOO_MANY_SEGMENTS: i32 = 25;
export const ELF_ERR_IMAGE_TOO_LARGE: i32 = 26;
export const ELF_ERR_NO_LOAD: i32 = 27;
export const ELF_ERR_ENTRY_NOT_EXECUTABLE: i32 = 28;
export const ELF_ERR_EXECUTABLE_PAGE_ZERO: i32 = 29;

/** Largest program file accepted. */
export const ELF_MAX_FILE_BYTES: u32 = 16 * 1024 * 1024;
/** Largest total of page-rounded PT_LOAD memory sizes. */
export const ELF_MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;
/** Most program headers an image may have. */
export const ELF_MAX_PHDRS: u32 = 64;
/** Most non-empty PT_LOAD segments an image may have. */
export const ELF_MAX_SEGMENTS: u32 = 8;

/** Segment protections, the same bits as the schema's protRead/protWrite/protExec. */
export const PROT_READ: u32 = 1;
export const PROT_WRITE: u32 = 2;
export const PROT_EXEC: u32 = 4;

const EHDR_BYTES: u32 = 64;
const PHDR_BYTES: u32 = 56;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const EV_CURRENT: u32 = 1;
const ELFOSABI_SYSV: u8 = 0;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_SHLIB: u32 = 5;
const PT_TLS: u32 = 7;
const PT_GNU_STACK: u32 = 0x6474_E551;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const NONE: u32 = 0xFFFF_FFFF;
const PAGE: u64 = <u64>PAGE_SIZE;

/** The load plan header; ELF_MAX_SEGMENTS SegmentPlan records follow it. */
@unmanaged export class ElfPlan {
  entry: u64 = 0;
  /** Sum of the segments' page-rounded sizes. */
  imageBytes: u64 = 0;
  segmentCount: u32 = 0;
  /** Program header index the rejection is about, or 0xFFFFFFFF when it concerns the file. */
  badIndex: u32 = 0;
}

/**
 * One segment to load: map [pageStart, pageEnd) to fresh zeroed frames with
 * `prot`, then copy fileSize bytes from the file at fileOffset to vaddr.
 */
@unmanaged export class SegmentPlan {
  pageStart: u64 = 0;
  pageEnd: u64 = 0;
  vaddr: u64 = 0;
  fileOffset: u64 = 0;
  fileSize: u64 = 0;
  memSize: u64 = 0;
  prot: u32 = 0;
  /** Program header index, for log messages. */
  phdrIndex: u32 = 0;
}

const PLAN_HEADER_BYTES: u32 = offsetof<ElfPlan>();
export const SEGMENT_PLAN_BYTES: u32 = offsetof<SegmentPlan>();
/** Bytes the caller must provide for a plan. */
export const ELF_PLAN_BYTES: u32 = PLAN_HEADER_BYTES + ELF_MAX_SEGMENTS * SEGMENT_PLAN_BYTES;

/** Segment `i` of `plan`. */
export function elfPlanSegment(plan: usize, i: u32): SegmentPlan {
  return changetype<SegmentPlan>(plan + PLAN_HEADER_BYTES + <usize>i * SEGMENT_PLAN_BYTES);
}

function reject(plan: ElfPlan, reason: i32, index: u32): i32 {
  plan.badIndex = index;
  plan.segmentCount = 0;
  plan.entry = 0;
  plan.imageBytes = 0;
  return reason;
}

function isPowerOfTwo(x: u64): bool {
  return x != 0 && (x & (x - 1)) == 0;
}

/**
 * Validates the `length`-byte ELF image at kernel address `file` and fills
 * the ELF_PLAN_BYTES plan at `plan`. Returns ELF_OK or the first ELF_ERR_*
 * rule broken (plan.badIndex names the program header when one is at fault).
 */
export function elfValidate(file: usize, length: u32, planAddress: usize): i32 {
  const plan = changetype<ElfPlan>(planAddress);
  plan.entry = 0;
  plan.imageBytes = 0;
  plan.segmentCount = 0;
  plan.badIndex = NONE;

  // The file header.
  if (length < EHDR_BYTES) return reject(plan, ELF_ERR_TOO_SMALL, NONE);
  if (length > ELF_MAX_FILE_BYTES) return reject(plan, ELF_ERR_TOO_LARGE, NONE);
  if (load<u32>(file) != 0x464C_457F) return reject(plan, ELF_ERR_BAD_MAGIC, NONE);
  if (load<u8>(file + 4) != 2) return reject(plan, ELF_ERR_NOT_64BIT, NONE);
  if (load<u8>(file + 5) != 1) return reject(plan, ELF_ERR_NOT_LITTLE_ENDIAN, NONE);
  if (<u32>load<u8>(file + 6) != EV_CURRENT || load<u32>(file + 20) != EV_CURRENT) {
    return reject(plan, ELF_ERR_BAD_VERSION, NONE);
  }
  if (load<u8>(file + 7) != ELFOSABI_SYSV) return reject(plan, ELF_ERR_BAD_OSABI, NONE);
  if (load<u16>(file + 16) != ET_EXEC) return reject(plan, ELF_ERR_NOT_EXECUTABLE, NONE);
  if (load<u16>(file + 18) != EM_X86_64) return reject(plan, ELF_ERR_BAD_MACHINE, NONE);
  const entry = load<u64>(file + 24);
  const phoff = load<u64>(file + 32);
  if (<u32>load<u16>(file + 52) != EHDR_BYTES || <u32>load<u16>(file + 54) != PHDR_BYTES) {
    return reject(plan, ELF_ERR_BAD_HEADER_SIZE, NONE);
  }
  const phnum = <u32>load<u16>(file + 56);
  if (phnum == 0 || phnum > ELF_MAX_PHDRS) return reject(plan, ELF_ERR_BAD_PHDR_COUNT, NONE);
  // phoff is a u64 from the file; phnum * 56 is small, so only phoff can overflow.
  if (phoff > <u64>length || <u64>length - phoff < <u64>phnum * PHDR_BYTES) {
    return reject(plan, ELF_ERR_PHDRS_OUTSIDE_FILE, NONE);
  }

  // Program headers, one at a time, each against the rules for its type.
  let count: u32 = 0;
  let imageBytes: u64 = 0;
  for (let i: u32 = 0; i < phnum; i++) {
    const ph = file + <usize>phoff + <usize>i * PHDR_BYTES;
    const type = load<u32>(ph);
    const flags = load<u32>(ph + 4);
    if (type == PT_INTERP || type == PT_DYNAMIC || type == PT_SHLIB) return reject(plan, ELF_ERR_DYNAMIC, i);
    if (type == PT_TLS) return reject(plan, ELF_ERR_TLS, i);
    if (type == PT_GNU_STACK) {
      if ((flags & PF_X) != 0) return reject(plan, ELF_ERR_EXECUTABLE_STACK, i);
      continue;
    }
    if (type != PT_LOAD) continue;
    const offset = load<u64>(ph + 8);
    const vaddr = load<u64>(ph + 16);
    const fileSize = load<u64>(ph + 32);
    const memSize = load<u64>(ph + 40);
    const align = load<u64>(ph + 48);
    if ((flags & ~(PF_R | PF_W | PF_X)) != 0 || flags == 0) return reject(plan, ELF_ERR_BAD_FLAGS, i);
    if ((flags & PF_W) != 0 && (flags & PF_X) != 0) return reject(plan, ELF_ERR_WRITE_AND_EXECUTE, i);
    if (fileSize > memSize) return reject(plan, ELF_ERR_FILESZ_EXCEEDS_MEMSZ, i);
    if (offset > <u64>length || <u64>length - offset < fileSize) return reject(plan, ELF_ERR_SEGMENT_OUTSIDE_FILE, i);
    if (memSize == 0) continue; // occupies no memory: nothing to map
    if ((vaddr & (PAGE - 1)) != (offset & (PAGE - 1))) return reject(plan, ELF_ERR_MISALIGNED, i);
    if (align > 1 && (!isPowerOfTwo(align) || ((vaddr - offset) & (align - 1)) != 0)) {
      return reject(plan, ELF_ERR_MISALIGNED, i);
    }
    const end = vaddr + memSize;
    if (end < vaddr) return reject(plan, ELF_ERR_ADDRESS_OVERFLOW, i);
    // USER_LIMIT is page-aligned, so this also keeps the rounded-up end below it.
    if (end > USER_LIMIT) return reject(plan, ELF_ERR_NOT_USER_HALF, i);
    const pageStart = vaddr & ~(PAGE - 1);
    const pageEnd = (end + PAGE - 1) & ~(PAGE - 1);
    if (pageStart < USER_RESERVED_END && USER_RESERVED_BASE < pageEnd) return reject(plan, ELF_ERR_RESERVED_WINDOW, i);
    // Page 0 may hold data (wasm linear memory starts at address 0) but never
    // code, so a jump through a null pointer or a return from _start faults.
    if ((flags & PF_X) != 0 && pageStart == 0) return reject(plan, ELF_ERR_EXECUTABLE_PAGE_ZERO, i);
    for (let j: u32 = 0; j < count; j++) {
      const other = elfPlanSegment(planAddress, j);
      if (pageStart < other.pageEnd && other.pageStart < pageEnd) return reject(plan, ELF_ERR_OVERLAP, i);
    }
    if (count == ELF_MAX_SEGMENTS) return reject(plan, ELF_ERR_TOO_MANY_SEGMENTS, i);
    imageBytes += pageEnd - pageStart;
    if (imageBytes > ELF_MAX_IMAGE_BYTES) return reject(plan, ELF_ERR_IMAGE_TOO_LARGE, i);
    const s = elfPlanSegment(planAddress, count++);
    s.pageStart = pageStart;
    s.pageEnd = pageEnd;
    s.vaddr = vaddr;
    s.fileOffset = offset;
    s.fileSize = fileSize;
    s.memSize = memSize;
    s.prot = ((flags & PF_R) != 0 ? PROT_READ : 0) | ((flags & PF_W) != 0 ? PROT_WRITE : 0) | ((flags & PF_X) != 0 ? PROT_EXEC : 0);
    s.phdrIndex = i;
  }
  if (count == 0) return reject(plan, ELF_ERR_NO_LOAD, NONE);

  // The entry point must be file-backed bytes of an executable segment.
  let entryOk = false;
  for (let j: u32 = 0; j < count; j++) {
    const s = elfPlanSegment(planAddress, j);
    if ((s.prot & PROT_EXEC) != 0 && entry >= s.vaddr && entry - s.vaddr < s.fileSize) entryOk = true;
  }
  if (!entryOk) return reject(plan, ELF_ERR_ENTRY_NOT_EXECUTABLE, NONE);

  plan.entry = entry;
  plan.imageBytes = imageBytes;
  plan.segmentCount = count;
  return ELF_OK;
}

/** Why an image was rejected, for the kernel log. */
export function elfReasonText(reason: i32): string {
  switch (reason) {
    case ELF_OK: return "ok";
    case ELF_ERR_TOO_SMALL: return "file is shorter than the 64-byte ELF header";
    case ELF_ERR_TOO_LARGE: return "file is larger than the 16 MiB program limit";
    case ELF_ERR_BAD_MAGIC: return "not an ELF file (bad magic)";
    case ELF_ERR_NOT_64BIT: return "not ELF64";
    case ELF_ERR_NOT_LITTLE_ENDIAN: return "not little-endian";
    case ELF_ERR_BAD_VERSION: return "ELF version is not 1";
    case ELF_ERR_BAD_OSABI: return "OS ABI is not System V (0)";
    case ELF_ERR_NOT_EXECUTABLE: return "not a static executable (e_type is not ET_EXEC)";
    case ELF_ERR_BAD_MACHINE: return "not an x86-64 program";
    case ELF_ERR_BAD_HEADER_SIZE: return "ELF or program header size is not 64 / 56 bytes";
    case ELF_ERR_BAD_PHDR_COUNT: return "no program headers, or more than 64";
    case ELF_ERR_PHDRS_OUTSIDE_FILE: return "program headers run past the end of the file";
    case ELF_ERR_DYNAMIC: return "dynamically linked (PT_INTERP, PT_DYNAMIC or PT_SHLIB)";
    case ELF_ERR_TLS: return "has a PT_TLS segment (thread-local storage is not supported)";
    case ELF_ERR_EXECUTABLE_STACK: return "asks for an executable stack";
    case ELF_ERR_BAD_FLAGS: return "segment grants no access or has unknown flag bits";
    case ELF_ERR_WRITE_AND_EXECUTE: return "segment is both writable and executable (W^X)";
    case ELF_ERR_FILESZ_EXCEEDS_MEMSZ: return "segment's file size exceeds its memory size";
    case ELF_ERR_SEGMENT_OUTSIDE_FILE: return "segment's file bytes run past the end of the file";
    case ELF_ERR_MISALIGNED: return "segment address and file offset disagree modulo the page size or p_align";
    case ELF_ERR_ADDRESS_OVERFLOW: return "segment's address range wraps around";
    case ELF_ERR_NOT_USER_HALF: return "segment reaches the kernel half (at or above 0x7FFFFFFFF000)";
    case ELF_ERR_RESERVED_WINDOW: return "segment overlaps the stack/ring/CapSet window 0xC0000000-0xFFFFFFFF";
    case ELF_ERR_OVERLAP: return "segments share a page";
    case ELF_ERR_TOO_MANY_SEGMENTS: return "more than 8 loadable segments";
    case ELF_ERR_IMAGE_TOO_LARGE: return "loadable segments exceed the 64 MiB image limit";
    case ELF_ERR_NO_LOAD: return "no loadable (PT_LOAD) segment";
    case ELF_ERR_ENTRY_NOT_EXECUTABLE: return "entry point is not in an executable segment's file bytes";
    case ELF_ERR_EXECUTABLE_PAGE_ZERO: return "executable segment covers page 0";
    default: return "unknown ELF rejection";
  }
}
