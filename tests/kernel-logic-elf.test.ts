// ELF64 validation and load planning for user programs (kernel/proc/elf.ts)
// running as wasm: well-formed images produce the documented plan, and a
// corpus of malformed images is each rejected with the rule it breaks (and
// the program header it concerns) — the rules of docs/abi.md "User programs".
import { beforeAll, describe, expect, it } from "vitest";
import { loadKernelLogic, type KernelLogic } from "./helpers/kernel-asc.js";

interface Phdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

interface Image {
  phdrs: Phdr[];
  entry: bigint;
  fileSize: number;
  phoff: bigint;
  /** Raw header edits applied after writing: [offset, byte value]. */
  patch: [number, number][];
  ehsize: number;
  phentsize: number;
  type: number;
  machine: number;
  version: number;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const PT_SHLIB = 5;
const PT_PHDR = 6;
const PT_TLS = 7;
const PT_GNU_STACK = 0x6474e551;
const PT_GNU_RELRO = 0x6474e552;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

const TEXT: Phdr = { type: PT_LOAD, flags: PF_R | PF_X, offset: 0x1000n, vaddr: 0x40_1000n, filesz: 0x234n, memsz: 0x234n, align: 0x1000n };
const RODATA: Phdr = { type: PT_LOAD, flags: PF_R, offset: 0x2000n, vaddr: 0x40_2000n, filesz: 0x80n, memsz: 0x80n, align: 0x1000n };
const DATA: Phdr = { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x2100n, vaddr: 0x40_3100n, filesz: 0x100n, memsz: 0x3000n, align: 0x1000n };
const STACK: Phdr = { type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n, align: 16n };

function image(change: Partial<Image> = {}): Image {
  return {
    phdrs: [TEXT, RODATA, DATA, STACK],
    entry: 0x40_1010n,
    fileSize: 0x2200,
    phoff: 64n,
    patch: [],
    ehsize: 64,
    phentsize: 56,
    type: 2,
    machine: 62,
    version: 1,
    ...change,
  };
}

function build(img: Image): Uint8Array {
  const bytes = new Uint8Array(img.fileSize);
  const dv = new DataView(bytes.buffer);
  const header = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0];
  header.forEach((b, i) => { if (i < bytes.length) bytes[i] = b; });
  if (bytes.length >= 64) {
    dv.setUint16(16, img.type, true);
    dv.setUint16(18, img.machine, true);
    dv.setUint32(20, img.version, true);
    dv.setBigUint64(24, img.entry, true);
    dv.setBigUint64(32, img.phoff, true);
    dv.setBigUint64(40, 0n, true);
    dv.setUint16(52, img.ehsize, true);
    dv.setUint16(54, img.phentsize, true);
    dv.setUint16(56, img.phdrs.length, true);
    img.phdrs.forEach((p, i) => {
      const at = Number(img.phoff) + i * 56;
      if (at + 56 > bytes.length) return;
      dv.setUint32(at, p.type, true);
      dv.setUint32(at + 4, p.flags, true);
      dv.setBigUint64(at + 8, p.offset, true);
      dv.setBigUint64(at + 16, p.vaddr, true);
      dv.setBigUint64(at + 24, p.vaddr, true);
      dv.setBigUint64(at + 32, p.filesz, true);
      dv.setBigUint64(at + 40, p.memsz, true);
      dv.setBigUint64(at + 48, p.align, true);
    });
    // Recognisable file bytes for the segments.
    for (const p of img.phdrs) {
      if (p.type !== PT_LOAD) continue;
      for (let o = Number(p.offset); o < Math.min(Number(p.offset + p.filesz), bytes.length); o++) {
        if (o >= Number(img.phoff) + img.phdrs.length * 56) bytes[o] = o & 0xff;
      }
    }
  }
  for (const [offset, value] of img.patch) bytes[offset] = value;
  return bytes;
}

let k: KernelLogic;
let plan: number;
const NONE = 0xffff_ffff;

beforeAll(async () => {
  k = await loadKernelLogic();
  plan = k.alloc(Number(k.constant("ELF_PLAN_BYTES")), 8);
});

function validate(img: Image | Uint8Array): number {
  const bytes = img instanceof Uint8Array ? img : build(img);
  const at = k.put(bytes, 8);
  return k.fn("elfValidate")(at, bytes.length, plan) as number;
}

const code = (name: string): number => Number(k.constant(name));
const badIndex = (): number => (k.fn("planBadIndex")(plan) as number) >>> 0;

interface PlannedSegment {
  pageStart: bigint;
  pageEnd: bigint;
  vaddr: bigint;
  fileOffset: bigint;
  fileSize: bigint;
  memSize: bigint;
  prot: number;
  phdr: number;
}

function planSegments(): PlannedSegment[] {
  const count = k.fn("planSegmentCount")(plan) as number;
  return Array.from({ length: count }, (_, i) => ({
    pageStart: BigInt.asUintN(64, k.fn("segPageStart")(plan, i)),
    pageEnd: BigInt.asUintN(64, k.fn("segPageEnd")(plan, i)),
    vaddr: BigInt.asUintN(64, k.fn("segVaddr")(plan, i)),
    fileOffset: BigInt.asUintN(64, k.fn("segFileOffset")(plan, i)),
    fileSize: BigInt.asUintN(64, k.fn("segFileSize")(plan, i)),
    memSize: BigInt.asUintN(64, k.fn("segMemSize")(plan, i)),
    prot: k.fn("segProt")(plan, i) as number,
    phdr: k.fn("segPhdrIndex")(plan, i) as number,
  }));
}

describe("well-formed programs", () => {
  it("plans page-granular segments with W^X protections", () => {
    expect(validate(image())).toBe(0);
    expect(BigInt(k.fn("planEntry")(plan))).toBe(0x40_1010n);
    expect(badIndex()).toBe(NONE);
    expect(planSegments()).toEqual([
      { pageStart: 0x40_1000n, pageEnd: 0x40_2000n, vaddr: 0x40_1000n, fileOffset: 0x1000n, fileSize: 0x234n, memSize: 0x234n, prot: 1 | 4, phdr: 0 },
      { pageStart: 0x40_2000n, pageEnd: 0x40_3000n, vaddr: 0x40_2000n, fileOffset: 0x2000n, fileSize: 0x80n, memSize: 0x80n, prot: 1, phdr: 1 },
      { pageStart: 0x40_3000n, pageEnd: 0x40_7000n, vaddr: 0x40_3100n, fileOffset: 0x2100n, fileSize: 0x100n, memSize: 0x3000n, prot: 1 | 2, phdr: 2 },
    ]);
    expect(BigInt(k.fn("planImageBytes")(plan))).toBe(0x1000n + 0x1000n + 0x4000n);
  });

  it("accepts wasm-style data at address 0 and code elsewhere", () => {
    const memory: Phdr = { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x3000n, vaddr: 0n, filesz: 0x100n, memsz: 0x10_0000n, align: 0x1000n };
    const code: Phdr = { ...TEXT, vaddr: 0x1000_1000n };
    expect(validate(image({ phdrs: [code, memory], entry: 0x1000_1000n, fileSize: 0x3100 }))).toBe(0);
    expect(planSegments()[1]).toMatchObject({ pageStart: 0n, pageEnd: 0x10_0000n, prot: 3 });
  });

  it("accepts segments above 4 GiB, up to the end of the user half", () => {
    const high: Phdr = { ...TEXT, vaddr: 0x7fff_ffff_e000n, filesz: 0x1000n, memsz: 0x1000n };
    expect(validate(image({ phdrs: [high], entry: 0x7fff_ffff_e010n }))).toBe(0);
    const above4G: Phdr = { ...TEXT, vaddr: 0x1_0000_1000n };
    expect(validate(image({ phdrs: [above4G], entry: 0x1_0000_1000n }))).toBe(0);
  });

  it("ignores notes, PT_PHDR, RELRO, empty PT_LOADs and section headers", () => {
    const note: Phdr = { type: PT_NOTE, flags: PF_R, offset: 0x40n, vaddr: 0n, filesz: 0x10n, memsz: 0n, align: 4n };
    const phdr: Phdr = { type: PT_PHDR, flags: PF_R, offset: 64n, vaddr: 0x40_0040n, filesz: 0x100n, memsz: 0x100n, align: 8n };
    const relro: Phdr = { type: PT_GNU_RELRO, flags: PF_R, offset: 0x2100n, vaddr: 0x40_3100n, filesz: 0n, memsz: 0x100n, align: 1n };
    const empty: Phdr = { type: PT_LOAD, flags: PF_R, offset: 0n, vaddr: 0xdead_0000n, filesz: 0n, memsz: 0n, align: 0n };
    expect(validate(image({ phdrs: [note, phdr, TEXT, empty, relro, DATA, STACK] }))).toBe(0);
    expect(planSegments().map((s) => s.phdr)).toEqual([2, 5]);
  });

  it("accepts p_align of 0, 1 and 2 MiB", () => {
    expect(validate(image({ phdrs: [{ ...TEXT, align: 0n }] }))).toBe(0);
    expect(validate(image({ phdrs: [{ ...TEXT, align: 1n }] }))).toBe(0);
    expect(validate(image({ phdrs: [{ ...TEXT, vaddr: 0x20_1000n, align: 0x20_0000n }], entry: 0x20_1000n }))).toBe(0);
  });
});

describe("malformed programs are rejected with the rule they break", () => {
  const cases: [string, () => Image | Uint8Array, string, number | null][] = [
    ["an empty file", () => new Uint8Array(0), "ELF_ERR_TOO_SMALL", null],
    ["a file shorter than the ELF header", () => build(image()).slice(0, 63), "ELF_ERR_TOO_SMALL", null],
    ["a file above 16 MiB", () => image({ fileSize: 16 * 1024 * 1024 + 1 }), "ELF_ERR_TOO_LARGE", null],
    ["bad magic", () => image({ patch: [[1, 0x45 ^ 0x20]] }), "ELF_ERR_BAD_MAGIC", null],
    ["ELF32", () => image({ patch: [[4, 1]] }), "ELF_ERR_NOT_64BIT", null],
    ["big-endian", () => image({ patch: [[5, 2]] }), "ELF_ERR_NOT_LITTLE_ENDIAN", null],
    ["ident version 0", () => image({ patch: [[6, 0]] }), "ELF_ERR_BAD_VERSION", null],
    ["e_version 2", () => image({ version: 2 }), "ELF_ERR_BAD_VERSION", null],
    ["Linux OS ABI", () => image({ patch: [[7, 3]] }), "ELF_ERR_BAD_OSABI", null],
    ["a relocatable object", () => image({ type: 1 }), "ELF_ERR_NOT_EXECUTABLE", null],
    ["a position-independent executable (ET_DYN)", () => image({ type: 3 }), "ELF_ERR_NOT_EXECUTABLE", null],
    ["an AArch64 program", () => image({ machine: 183 }), "ELF_ERR_BAD_MACHINE", null],
    ["an i386 program", () => image({ machine: 3 }), "ELF_ERR_BAD_MACHINE", null],
    ["a wrong e_ehsize", () => image({ ehsize: 52 }), "ELF_ERR_BAD_HEADER_SIZE", null],
    ["a wrong e_phentsize", () => image({ phentsize: 64 }), "ELF_ERR_BAD_HEADER_SIZE", null],
    ["no program headers", () => image({ phdrs: [] }), "ELF_ERR_BAD_PHDR_COUNT", null],
    ["65 program headers", () => image({ phdrs: Array(65).fill(STACK), fileSize: 64 + 65 * 56 }), "ELF_ERR_BAD_PHDR_COUNT", null],
    ["program headers past the end", () => image({ phoff: 0x2200n - 100n }), "ELF_ERR_PHDRS_OUTSIDE_FILE", null],
    ["a program-header offset that wraps", () => image({ phoff: 0xffff_ffff_ffff_ffc0n }), "ELF_ERR_PHDRS_OUTSIDE_FILE", null],
    ["an interpreter", () => image({ phdrs: [TEXT, { ...STACK, type: PT_INTERP }] }), "ELF_ERR_DYNAMIC", 1],
    ["a dynamic section", () => image({ phdrs: [TEXT, { ...STACK, type: PT_DYNAMIC }] }), "ELF_ERR_DYNAMIC", 1],
    ["PT_SHLIB", () => image({ phdrs: [{ ...STACK, type: PT_SHLIB }, TEXT] }), "ELF_ERR_DYNAMIC", 0],
    ["thread-local storage", () => image({ phdrs: [TEXT, DATA, { ...STACK, type: PT_TLS }] }), "ELF_ERR_TLS", 2],
    ["an executable stack", () => image({ phdrs: [TEXT, { ...STACK, flags: PF_R | PF_W | PF_X }] }), "ELF_ERR_EXECUTABLE_STACK", 1],
    ["a segment with no permissions", () => image({ phdrs: [TEXT, { ...DATA, flags: 0 }] }), "ELF_ERR_BAD_FLAGS", 1],
    ["a segment with unknown flag bits", () => image({ phdrs: [{ ...TEXT, flags: PF_R | PF_X | 0x0010_0000 }] }), "ELF_ERR_BAD_FLAGS", 0],
    ["a writable, executable segment", () => image({ phdrs: [TEXT, { ...DATA, flags: PF_R | PF_W | PF_X }] }), "ELF_ERR_WRITE_AND_EXECUTE", 1],
    ["a write+execute segment without read", () => image({ phdrs: [{ ...TEXT, flags: PF_W | PF_X }] }), "ELF_ERR_WRITE_AND_EXECUTE", 0],
    ["file size above memory size", () => image({ phdrs: [TEXT, { ...DATA, filesz: 0x3001n }] }), "ELF_ERR_FILESZ_EXCEEDS_MEMSZ", 1],
    ["file bytes past the end", () => image({ phdrs: [TEXT, RODATA, { ...DATA, filesz: 0x101n }] }), "ELF_ERR_SEGMENT_OUTSIDE_FILE", 2],
    ["a file offset that wraps", () => image({ phdrs: [{ ...TEXT, offset: 0xffff_ffff_ffff_f000n, vaddr: 0x40_1000n }] }), "ELF_ERR_SEGMENT_OUTSIDE_FILE", 0],
    ["address and offset disagree in the page", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0x40_3200n }] }), "ELF_ERR_MISALIGNED", 1],
    ["a p_align that is not a power of two", () => image({ phdrs: [{ ...TEXT, align: 0x3000n }] }), "ELF_ERR_MISALIGNED", 0],
    ["address and offset disagree modulo p_align", () => image({ phdrs: [{ ...TEXT, align: 0x80_0000n }] }), "ELF_ERR_MISALIGNED", 0],
    ["an address range that wraps", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0xffff_ffff_ffff_f100n, memsz: 0x2000n }] }), "ELF_ERR_ADDRESS_OVERFLOW", 1],
    ["a segment in the kernel half", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0xffff_8000_0000_0100n }] }), "ELF_ERR_NOT_USER_HALF", 1],
    ["a non-canonical segment", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0x0000_8000_0000_0100n }] }), "ELF_ERR_NOT_USER_HALF", 1],
    ["a segment reaching into the top user page", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0x7fff_ffff_e100n, memsz: 0x1001n }] }), "ELF_ERR_NOT_USER_HALF", 1],
    ["a segment over the ring page", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0xfffe_0100n }] }), "ELF_ERR_RESERVED_WINDOW", 1],
    ["a segment touching the reserved window's first page", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0xbfff_f100n, memsz: 0xf01n }] }), "ELF_ERR_RESERVED_WINDOW", 1],
    ["a segment spanning the whole window", () => image({ phdrs: [TEXT, { ...DATA, vaddr: 0x8000_0100n, memsz: 0x1_0000_0000n }] }), "ELF_ERR_RESERVED_WINDOW", 1],
    ["code at page 0", () => image({ phdrs: [{ ...TEXT, vaddr: 0x0n }], entry: 0x10n }), "ELF_ERR_EXECUTABLE_PAGE_ZERO", 0],
    ["segments sharing a page", () => image({ phdrs: [TEXT, RODATA, { ...DATA, vaddr: 0x40_2100n }] }), "ELF_ERR_OVERLAP", 2],
    ["identical segments", () => image({ phdrs: [TEXT, TEXT] }), "ELF_ERR_OVERLAP", 1],
    [
      "nine loadable segments",
      () => image({ phdrs: Array.from({ length: 9 }, (_, i) => ({ ...RODATA, vaddr: 0x50_0000n + BigInt(i) * 0x1000n })), entry: 0n }),
      "ELF_ERR_TOO_MANY_SEGMENTS",
      8,
    ],
    ["more than 64 MiB of pages", () => image({ phdrs: [TEXT, { ...DATA, memsz: 64n * 1024n * 1024n }] }), "ELF_ERR_IMAGE_TOO_LARGE", 1],
    ["no loadable segment", () => image({ phdrs: [STACK] }), "ELF_ERR_NO_LOAD", null],
    ["only empty loadable segments", () => image({ phdrs: [{ ...TEXT, filesz: 0n, memsz: 0n }] }), "ELF_ERR_NO_LOAD", null],
    ["an entry in a data segment", () => image({ entry: 0x40_3110n }), "ELF_ERR_ENTRY_NOT_EXECUTABLE", null],
    ["an entry past the code's file bytes", () => image({ entry: 0x40_1234n }), "ELF_ERR_ENTRY_NOT_EXECUTABLE", null],
    ["an entry outside every segment", () => image({ entry: 0x10n }), "ELF_ERR_ENTRY_NOT_EXECUTABLE", null],
    ["a null entry", () => image({ entry: 0n }), "ELF_ERR_ENTRY_NOT_EXECUTABLE", null],
  ];

  for (const [what, make, reason, index] of cases) {
    it(`rejects ${what} (${reason})`, () => {
      expect(validate(make())).toBe(code(reason));
      expect(badIndex()).toBe(index ?? NONE);
      // A rejection leaves no plan for a careless loader to execute.
      expect(k.fn("planSegmentCount")(plan)).toBe(0);
      expect(BigInt(k.fn("planEntry")(plan))).toBe(0n);
    });
  }

  it("rejects every truncation of a good image", () => {
    // Each prefix loses a header or some segment's file bytes.
    const full = build(image());
    for (let length = 0; length < 0x2200; length += 97) {
      expect(validate(full.slice(0, length))).not.toBe(0);
    }
    expect(validate(full)).toBe(0);
  });
});

describe("log text", () => {
  it("names every rejection", () => {
    const texts = new Set<string>();
    for (let reason = 1; reason <= 29; reason++) {
      const text = k.string(k.fn("reasonText")(reason) as number);
      expect(text, `reason ${reason}`).not.toBe("unknown ELF rejection");
      expect(text.length).toBeGreaterThan(5);
      texts.add(text);
    }
    expect(texts.size).toBe(29);
    expect(k.string(k.fn("reasonText")(0) as number)).toBe("ok");
    expect(k.string(k.fn("reasonText")(99) as number)).toBe("unknown ELF rejection");
  });
});
