// docs/abi.md is the authority for the user/kernel ABI. These tests parse its
// tables and check that kernel/abi.ts (as compiled to wasm) agrees with every
// value and every layout offset, that the layouts are gapless and sized as
// stated, and that the CapSet builder writes exactly the documented bytes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/asc.js";
import { kernelLogicModule, loadKernelLogic, type KernelLogic } from "./helpers/kernel-asc.js";

const DOC = readFileSync(join(REPO_ROOT, "docs/abi.md"), "utf8");
const ABI_SOURCE = readFileSync(join(REPO_ROOT, "kernel/abi.ts"), "utf8");

function parseNumber(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, "").replace(/−/g, "-");
  if (/^-?\d+$/.test(t)) return BigInt(t);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return BigInt(t);
  return undefined;
}

function cells(line: string): string[] {
  return line.split("|").slice(1, -1).map((c) => c.trim());
}

/** Every `| \`NAME\` | value | …` row in the document. */
function documentedConstants(): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of DOC.split("\n")) {
    if (!line.startsWith("|")) continue;
    const c = cells(line);
    const name = /^`([A-Z][A-Z0-9_]+)`$/.exec(c[0] ?? "")?.[1];
    const value = c[1] === undefined ? undefined : parseNumber(c[1]);
    if (name !== undefined && value !== undefined) {
      expect(out.has(name), `${name} documented twice`).toBe(false);
      out.set(name, value);
    }
  }
  return out;
}

interface LayoutRow {
  offset: number;
  field: string;
  type: string | undefined;
}

/** The rows of the layout table under `### heading`: offset and field (and type when the table has one). */
function layout(heading: string): LayoutRow[] {
  const start = DOC.indexOf(`\n### ${heading}\n`);
  expect(start, `section "${heading}" in docs/abi.md`).toBeGreaterThanOrEqual(0);
  const rest = DOC.slice(start + heading.length + 6);
  const end = rest.search(/\n##/);
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows: LayoutRow[] = [];
  let typeColumn = -1;
  for (const line of section.split("\n")) {
    if (!line.startsWith("|")) continue;
    const c = cells(line);
    if (c[0] === "Offset") typeColumn = c.indexOf("Type");
    const offset = /^0x[0-9A-F]+$/.test(c[0] ?? "") ? Number.parseInt(c[0]!, 16) : undefined;
    const field = /^`([a-z_]+)`$/.exec(c[1] ?? "")?.[1];
    if (offset !== undefined && field !== undefined) {
      rows.push({ offset, field, type: typeColumn >= 0 ? c[typeColumn] : undefined });
    }
  }
  expect(rows.length, `layout rows under "${heading}"`).toBeGreaterThan(0);
  return rows;
}

const TYPE_BYTES: Record<string, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8 };

let k: KernelLogic;

/** A documented value as the export reports it: i32 globals signed, u64 globals unsigned. */
function asExported(name: string, documented: bigint): bigint {
  return typeof k.constant(name) === "bigint" ? BigInt.asUintN(64, documented) : documented;
}

beforeAll(async () => {
  k = await loadKernelLogic();
});

describe("the kernel's pure logic", () => {
  it("imports nothing (no cpu intrinsics), so it runs in V8 as it will in the kernel", async () => {
    expect(WebAssembly.Module.imports(await kernelLogicModule())).toEqual([]);
  });
});

describe("docs/abi.md and kernel/abi.ts agree", () => {
  const abiNames = [...ABI_SOURCE.matchAll(/^export const ([A-Z0-9_]+)\b/gm)].map((m) => m[1]!);

  it("kernel/abi.ts defines a meaningful set of constants", () => {
    expect(abiNames.length).toBeGreaterThan(100);
  });

  it("every documented constant the kernel defines has the documented value", () => {
    const documented = documentedConstants();
    let checked = 0;
    for (const [name, value] of documented) {
      if (!abiNames.includes(name)) continue;
      expect(BigInt(k.constant(name)), name).toBe(asExported(name, value));
      checked++;
    }
    expect(checked).toBeGreaterThan(60);
  });

  it("every kernel/abi.ts constant is documented (by value, or as a layout offset)", () => {
    const documented = documentedConstants();
    const offsets = new Map<string, number>();
    const prefixes: [string, string][] = [
      ["Ring header", "RING_"],
      ["SQE layout", "SQE_"],
      ["CQE layout", "CQE_"],
      ["CapSet header", "CAPSET_"],
      ["CapSet entry", "CAPSET_ENTRY_"],
    ];
    for (const [heading, prefix] of prefixes) {
      for (const row of layout(heading)) offsets.set(`${prefix}${row.field.toUpperCase()}_OFF`, row.offset);
    }
    for (const name of abiNames) {
      const actual = k.constant(name);
      if (documented.has(name)) {
        const doc = documented.get(name)!;
        expect(BigInt(actual), `${name} = documented ${doc}`).toBe(asExported(name, doc));
      } else {
        expect(offsets.has(name), `${name} is neither in a Name/Value table nor a layout table of docs/abi.md`).toBe(true);
        expect(Number(actual), `${name} offset`).toBe(offsets.get(name));
      }
    }
  });

  it("every layout field has a kernel offset constant", () => {
    const prefixes: [string, string][] = [
      ["Ring header", "RING_"],
      ["SQE layout", "SQE_"],
      ["CQE layout", "CQE_"],
      ["CapSet header", "CAPSET_"],
      ["CapSet entry", "CAPSET_ENTRY_"],
    ];
    for (const [heading, prefix] of prefixes) {
      for (const row of layout(heading)) {
        const name = `${prefix}${row.field.toUpperCase()}_OFF`;
        expect(abiNames, `${heading}: ${row.field}`).toContain(name);
      }
    }
  });

  it("the SQE is 64 gapless bytes and the CQE 32", () => {
    for (const [heading, size] of [["SQE layout", 64], ["CQE layout", 32], ["CapSet entry", 48]] as const) {
      let next = 0;
      for (const row of layout(heading)) {
        expect(row.offset, `${heading} ${row.field} follows the previous field`).toBe(next);
        const bytes = row.type !== undefined ? TYPE_BYTES[row.type] : undefined;
        const arrayBytes = /^u8\[(\d+)\]$/.exec(row.type ?? "")?.[1];
        next += bytes ?? (arrayBytes !== undefined ? Number(arrayBytes) : 0);
        if (row.field === "name_len") next += 2; // the reserved u16 after it has no field name
      }
      expect(next, `${heading} size`).toBe(size);
    }
  });

  it("the ring header fields are consecutive u32s and the queues fit the page", () => {
    const rows = layout("Ring header");
    rows.forEach((row, i) => expect(row.offset).toBe(i * 4));
    const sqEnd = Number(k.constant("SQ_OFFSET")) + Number(k.constant("SQ_ENTRIES")) * Number(k.constant("SQE_SIZE"));
    expect(sqEnd).toBeLessThanOrEqual(Number(k.constant("CQ_OFFSET")));
    const cqEnd = Number(k.constant("CQ_OFFSET")) + Number(k.constant("CQ_ENTRIES")) * Number(k.constant("CQE_SIZE"));
    expect(cqEnd).toBeLessThanOrEqual(4096);
    expect(rows.at(-1)!.offset + 4).toBeLessThanOrEqual(Number(k.constant("SQ_OFFSET")));
  });

  it("the fixed pages sit in the reserved window below 4 GiB, apart from each other", () => {
    const c = (n: string): bigint => BigInt(k.constant(n));
    const base = c("USER_RESERVED_BASE");
    const end = c("USER_RESERVED_END");
    expect(end).toBe(1n << 32n);
    const stackBottom = c("USER_STACK_TOP") - c("USER_STACK_SIZE");
    expect(c("USER_STACK_GUARD")).toBe(stackBottom - 4096n);
    expect(c("USER_STACK_GUARD")).toBeGreaterThanOrEqual(base);
    const pages = [c("USER_STACK_TOP") - 4096n, c("RING_VADDR"), c("CAPSET_VADDR")];
    for (const p of pages) {
      expect(p % 4096n).toBe(0n);
      expect(p >= base && p + 4096n <= end).toBe(true);
    }
    expect(c("RING_VADDR")).toBeGreaterThan(c("USER_STACK_TOP"));
    expect(c("CAPSET_VADDR")).toBeGreaterThan(c("RING_VADDR") + 4096n);
    expect(c("USER_LIMIT")).toBe((1n << 47n) - 4096n);
    expect(Number(k.constant("CAPSET_MAX_ENTRIES"))).toBe(Math.floor((4096 - 16) / 48));
  });

  it("the documented examples in the call flow use documented numbers", () => {
    expect(DOC).toContain("sq_tail & 15");
    expect(DOC).toContain("cq_tail & 31");
    expect(Number(k.constant("SQ_ENTRIES")) - 1).toBe(15);
    expect(Number(k.constant("CQ_ENTRIES")) - 1).toBe(31);
  });
});

describe("CapSet page builder", () => {
  const enc = new TextEncoder();

  function capsetEntries(page: number): { name: string; capId: number; interfaceId: bigint }[] {
    // Parsed from the documented layout only.
    expect(k.u32(page)).toBe(0x54455343);
    expect(k.u16(page + 4)).toBe(1);
    expect(k.u16(page + 6)).toBe(48);
    const count = k.u32(page + 8);
    const out = [];
    for (let i = 0; i < count; i++) {
      const e = page + 16 + i * 48;
      const len = k.u16(e + 12);
      expect(k.u16(e + 14)).toBe(0);
      const name = new TextDecoder().decode(k.bytes.slice(e + 16, e + 16 + len));
      for (let b = e + 16 + len; b < e + 48; b++) expect(k.u8(b)).toBe(0);
      out.push({ name, capId: k.u32(e + 8), interfaceId: k.u64(e) });
    }
    return out;
  }

  it("writes the documented header and entries in order", () => {
    const page = k.alloc(4096, 4096);
    k.bytes.fill(0xaa, page, page + 4096);
    k.fn("capsetInit")(page);
    const add = (name: string, capId: number, iface: bigint): number => {
      const bytes = enc.encode(name);
      return k.fn("capsetAdd")(page, k.put(bytes), bytes.length, capId, iface) as number;
    };
    expect(add("console", 0x01000000, 0xacf0c15a7b2e0041n)).toBe(0);
    expect(add("spawner", 0x01000001, 0x1234n)).toBe(1);
    expect(add("x".repeat(32), 0x02000005, 0xffff_ffff_ffff_ffffn)).toBe(2);
    expect(capsetEntries(page)).toEqual([
      { name: "console", capId: 0x01000000, interfaceId: 0xacf0c15a7b2e0041n },
      { name: "spawner", capId: 0x01000001, interfaceId: 0x1234n },
      { name: "x".repeat(32), capId: 0x02000005, interfaceId: 0xffff_ffff_ffff_ffffn },
    ]);
    expect(k.u32(page + 12)).toBe(0);
    for (let b = page + 16 + 3 * 48; b < page + 4096; b++) expect(k.u8(b)).toBe(0);
    const find = (name: string): number => {
      const bytes = enc.encode(name);
      return k.fn("capsetFind")(page, k.put(bytes), bytes.length) as number;
    };
    expect(find("spawner")).toBe(1);
    expect(find("spawne")).toBe(-1);
    expect(find("console")).toBe(0);
  });

  it("rejects bad names, duplicates and a full page without changing it", () => {
    const page = k.alloc(4096, 4096);
    k.fn("capsetInit")(page);
    const add = (name: string): number => {
      const bytes = enc.encode(name);
      return k.fn("capsetAdd")(page, k.put(bytes), bytes.length, 0x01000000, 1n) as number;
    };
    const ERR_FULL = Number(k.constant("CAPSET_ERR_FULL"));
    const ERR_NAME = Number(k.constant("CAPSET_ERR_NAME"));
    const ERR_DUP = Number(k.constant("CAPSET_ERR_DUPLICATE"));
    expect(add("")).toBe(ERR_NAME);
    expect(add("y".repeat(33))).toBe(ERR_NAME);
    expect(add("a")).toBe(0);
    expect(add("a")).toBe(ERR_DUP);
    expect(k.fn("capsetCount")(page)).toBe(1);
    for (let i = 1; i < 85; i++) expect(add(`cap${i}`)).toBe(i);
    const before = k.bytes.slice(page, page + 4096);
    expect(add("one-too-many")).toBe(ERR_FULL);
    expect(k.bytes.slice(page, page + 4096)).toEqual(before);
    expect(capsetEntries(page)).toHaveLength(85);
    // The last entry ends inside the page.
    expect(16 + 85 * 48).toBeLessThanOrEqual(4096);
  });
});
