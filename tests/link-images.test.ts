// The linker's images: user programs (static ELF64, W^X PT_LOADs, linear
// memory at 0, an entry stub that ends in the exit syscall) run on a bare CPU at
// CPL 3; kernel images (Multiboot 1 with the address kludge) boot on capos's
// machine, and on QEMU when it is installed; imports bind to native symbols.
import { describe, expect, it } from "vitest";
import binaryen from "binaryen";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wasmToUserElf, linkUserImage, USER_TEXT_BASE, SYS_EXIT, PT_CAPOS_WASM_MEMORY } from "../src/toolchain/link/user-image.js";
import { wasmToKernelElf, KERNEL_LOAD_ADDRESS, MULTIBOOT_MAGIC } from "../src/toolchain/link/kernel-image.js";
import { LinkError } from "../src/toolchain/link/linker.js";
import { fromAssemblerObject } from "../src/toolchain/link/object.js";
import { IMAGE_PREFIX, parseSymbolMap } from "../src/toolchain/link/static-link.js";
import { compileModule } from "../src/toolchain/wasm/compile-module.js";
import { assembleObject } from "../src/toolchain/x64/index.js";
import { readElf, PT_LOAD } from "../src/toolchain/x64/elf-read.js";
import { Machine } from "../src/emulator/machine.js";
import { runUserElf } from "./helpers/wasm-user-run.js";

function wat(text: string): Uint8Array {
  const m = binaryen.parseText(text);
  try {
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

const USER_PROGRAM = wat(`(module
  (memory 1 8)
  (data (i32.const 1024) "capos")
  (global $counter (mut i32) (i32.const 40))
  (table 2 funcref)
  (elem (i32.const 0) $add $twice)
  (func $add (param i32) (result i32) (i32.add (local.get 0) (global.get $counter)))
  (func $twice (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))
  (func $start (global.set $counter (i32.add (global.get $counter) (i32.const 2))))
  (start $start)
  (func (export "_start") (param $ring i32) (param $pid i32) (param $capset i32) (result i32)
    (i32.store8 (i32.const 2000) (i32.load8_u (i32.const 1024)))
    (i32.store (i32.const 2004) (memory.grow (i32.const 1)))
    (i32.store (i32.const 2008) (local.get $pid))
    (call_indirect (param i32) (result i32)
      (call_indirect (param i32) (result i32) (i32.const 0) (i32.const 0))
      (i32.const 1)))
)`);

describe("user programs", () => {
  it("are W^X ELF64 executables with linear memory at virtual address 0", () => {
    const u = wasmToUserElf(USER_PROGRAM);
    const elf = readElf(u.elf);
    expect(elf.bits).toBe(64);
    expect(Number(elf.entry)).toBe(u.entry);
    const loads = elf.segments.filter((s) => s.type === PT_LOAD);
    for (const s of loads) expect((s.flags & 1) !== 0 && (s.flags & 2) !== 0, `segment at 0x${s.vaddr.toString(16)} is W+X`).toBe(false);
    const memory = loads.find((s) => s.vaddr === 0n)!;
    expect(memory.memsz).toBe(65536);
    expect(new TextDecoder().decode(u.elf.subarray(memory.offset + 1024, memory.offset + 1029))).toBe("capos");
    const text = loads.find((s) => (s.flags & 1) !== 0)!;
    expect(Number(text.vaddr)).toBe(USER_TEXT_BASE);
    const rodata = loads.find((s) => s.flags === 4)!; // read-only: the PC map (and constant pool, passive data)
    expect(Number(rodata.vaddr)).toBeGreaterThan(Number(text.vaddr));
    const reservation = elf.segments.find((s) => s.type === PT_CAPOS_WASM_MEMORY)!;
    expect(reservation.memsz).toBe(8 * 65536);
    // The symbol map names wasm functions and exports.
    const map = parseSymbolMap(u.symbolMap);
    expect(map.find((s) => s.name === "_start")?.addr).toBe(map.find((s) => s.name === `${IMAGE_PREFIX}f3`)?.addr);
    expect(elf.symbols.some((s) => s.name === "_start")).toBe(true);
  });

  it("run: start function, data, table, memory.grow and the exit syscall", () => {
    const u = wasmToUserElf(USER_PROGRAM);
    const run = runUserElf(u.elf, { rdi: 0x1000, rsi: 77, rdx: 0x2000 });
    expect(run.exception).toBe(-1);
    expect(run.syscall).toEqual({ number: SYS_EXIT, rdi: (0 + 42) * 2 }); // twice(add(0)) after start added 2
    expect(run.read(2000, 1)[0]).toBe("c".charCodeAt(0));
    expect(new DataView(run.read(2004, 8).buffer).getInt32(0, true)).toBe(-1); // the default grow hook refuses
    expect(new DataView(run.read(2004, 8).buffer).getInt32(4, true)).toBe(77); // the pid argument
  });

  it("let a wasm export provide the memory.grow hook (a user runtime that grows)", () => {
    const u = wasmToUserElf(wat(`(module
      (import "cpu" "peek32" (func $peek32 (param i64) (result i32)))
      (import "cpu" "poke32" (func $poke32 (param i64 i32)))
      (memory 1 4)
      (func (export "__wasm_memory_grow") (param $delta i32) (param $desc i64) (result i32)
        (local $old i32)
        (local.set $old (call $peek32 (local.get $desc)))
        (call $poke32 (local.get $desc) (i32.add (local.get $old) (local.get $delta)))
        (local.get $old))
      (func (export "_start") (result i32)
        (drop (memory.grow (i32.const 2)))
        (i32.add (i32.mul (memory.size) (i32.const 10)) (memory.grow (i32.const 0)))))`));
    expect(runUserElf(u.elf).syscall).toEqual({ number: SYS_EXIT, rdi: 33 });
  });

  it("traps exit with 128 + the trap kind", () => {
    const u = wasmToUserElf(wat(`(module (func (export "_start") (drop (i32.div_u (i32.const 1) (i32.const 0)))))`));
    expect(runUserElf(u.elf).syscall).toEqual({ number: SYS_EXIT, rdi: 128 + 2 });
    const oob = wasmToUserElf(wat(`(module (memory 1) (func (export "_start") (drop (i32.load (i32.const 70000)))))`));
    expect(runUserElf(oob.elf).exception).toBe(14); // the kernel sees a page fault in the guard region
  });

  it("binds imports to native symbols and names the ones it cannot satisfy", () => {
    const wasm = wat(`(module (import "env" "answer" (func $answer (result i32))) (func (export "_start") (result i32) (call $answer)))`);
    expect(() => wasmToUserElf(wasm)).toThrow(/unsatisfied import "env" "answer"/);
    const native = fromAssemblerObject("native", assembleObject(`
      .text
      env.answer:
        mov eax, 42
        ret
    `));
    const u = linkUserImage(compileModule(wasm, { prefix: IMAGE_PREFIX }), { natives: [native] });
    expect(runUserElf(u.elf).syscall).toEqual({ number: SYS_EXIT, rdi: 42 });
    expect(() => compileModule(wat(`(module (import "cpu" "nosuch" (func)))`))).toThrow(/import "cpu" "nosuch"/);
  });

  it("user code may issue capos syscalls through the cpu intrinsics", () => {
    const u = wasmToUserElf(wat(`(module
      (import "cpu" "syscall2" (func $sys (param i64 i64 i64) (result i64)))
      (func (export "_start") (drop (call $sys (i64.const 0) (i64.const 3) (i64.const 1000000)))))`));
    const run = runUserElf(u.elf);
    expect(run.syscall?.number).toBe(0);
    expect(run.cpu.r[14]).toBe(3);
    expect(run.cpu.r[12]).toBe(1000000);
  });
});

const KERNEL = wat(`(module
  (import "cpu" "outb" (func $outb (param i32 i32)))
  (import "cpu" "readCr0" (func $cr0 (result i64)))
  (memory 256)
  (data (i32.const 0x400000) "kernel says hi\\n")
  (func $puts (param $p i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (local.get $p))))
      (call $outb (i32.const 0x3f8) (i32.load8_u (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l))))
  (func (export "kmain") (param $magic i32) (param $info i32)
    (call $puts (i32.const 0x400000))
    ;; exit status: 1 when booted by a Multiboot loader with paging on, else 2
    (call $outb (i32.const 0xf4)
      (select (i32.const 1) (i32.const 2)
        (i32.and (i32.eq (local.get $magic) (i32.const 0x2BADB002))
                 (i64.ne (i64.and (call $cr0) (i64.const 0x80000000)) (i64.const 0))))))
)`);

describe("kernel images", () => {
  it("carry a Multiboot 1 header with the address kludge at the start of the loaded image", () => {
    const k = wasmToKernelElf(KERNEL);
    const elf = readElf(k.elf);
    const text = elf.segments.find((s) => s.type === PT_LOAD && s.vaddr === BigInt(KERNEL_LOAD_ADDRESS))!;
    expect(text.offset).toBeLessThan(8192);
    const dv = new DataView(k.elf.buffer, k.elf.byteOffset + text.offset);
    expect(dv.getUint32(0, true)).toBe(MULTIBOOT_MAGIC);
    expect((dv.getUint32(0, true) + dv.getUint32(4, true) + dv.getUint32(8, true)) >>> 0).toBe(0);
    expect(dv.getUint32(12, true)).toBe(KERNEL_LOAD_ADDRESS); // header_addr
    expect(dv.getUint32(16, true)).toBe(KERNEL_LOAD_ADDRESS); // load_addr
    expect(dv.getUint32(20, true)).toBe(0x400000 + 15); // load_end_addr: through the data segment
    expect(dv.getUint32(28, true)).toBe(k.entry);
    expect(parseSymbolMap(k.symbolMap).some((s) => s.name === "kmain")).toBe(true);
  });

  it("boot on capos's machine", async () => {
    const k = wasmToKernelElf(KERNEL);
    const m = new Machine();
    let out = "";
    m.attachSerial(0, { output: (b) => { out += String.fromCharCode(b); } });
    m.loadMultiboot(k.elf);
    const r = await m.run({ maxInstructions: 5_000_000 });
    expect(out).toBe("kernel says hi\n");
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(3);
  });

  const qemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;
  it.skipIf(!qemu)("boot on QEMU with the same transcript (needs qemu-system-x86_64)", () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-kernel-"));
    const file = join(dir, "kernel.elf");
    writeFileSync(file, wasmToKernelElf(KERNEL).elf);
    let out = "";
    let status = 0;
    try {
      out = execFileSync("qemu-system-x86_64", ["-kernel", file, "-serial", "stdio", "-display", "none", "-no-reboot", "-m", "128",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"], { timeout: 30000 }).toString();
    } catch (e) {
      const err = e as { status: number; stdout: Buffer };
      status = err.status;
      out = err.stdout.toString();
    }
    expect(out).toBe("kernel says hi\n");
    expect(status).toBe(3);
  });

  it("refuse linear-memory data that would overlap the image", () => {
    expect(() => wasmToKernelElf(wat(`(module (memory 2) (data (i32.const 1024) "x") (func (export "kmain") (param i32 i32)))`))).toThrow(LinkError);
  });
});

describe("the linker core", () => {
  it("reports duplicate and undefined symbols, and references out of reach", async () => {
    const { SymbolSpace, relocate } = await import("../src/toolchain/link/linker.js");
    const space = new SymbolSpace();
    space.define("a", 0x1000, "one");
    expect(() => space.define("a", 0x2000, "two")).toThrow(/defined twice \(one and two\)/);
    expect(space.sigId("i32 -> i32")).toBe(space.sigId("i32 -> i32"));
    expect(space.sigId("i32 -> i32")).not.toBe(space.sigId("i64 -> i32"));
    expect(space.sigId("i32 -> i32")).toBeGreaterThan(0);
    const obj = {
      name: "t",
      sections: [{ kind: "text" as const, bytes: new Uint8Array(8), size: 8, align: 1, relocs: [{ offset: 0, kind: "pc32" as const, symbol: "far", addend: -4 }] }],
      symbols: [],
    };
    expect(() => relocate({ object: obj, addr: [0x1000] }, space)).toThrow(/undefined symbol "far"/);
    space.define("far", 0x1_0000_1000);
    expect(() => relocate({ object: obj, addr: [0x1000] }, space)).toThrow(/out of reach/);
    space.alias("near", "a");
    const near = { ...obj, sections: [{ ...obj.sections[0]!, relocs: [{ offset: 0, kind: "pc32" as const, symbol: "near", addend: -4 }] }] };
    const bytes = relocate({ object: near, addr: [0x1000] }, space)[0]!;
    expect(new DataView(bytes.buffer).getInt32(0, true)).toBe(0x1000 - 4 - 0x1000);
  });
});
