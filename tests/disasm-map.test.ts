// capos disasm names compiled wasm functions from the linker's symbol map.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSymbolMap, runDisasm } from "../src/cli/disasm.js";

const MAP = `# capos symbol map: address size kind name [wasm function name]
0000000000000002 000000 - SOME_CONSTANT
0000000000112010 0000d0 func wasm.f24 kernel/log/logStr
00000000001120e0 000090 func wasm.f25 $25
0000000000118770 001000 func kmain kernel/main/kmain
`;

describe("symbol maps", () => {
  it("prefers the wasm function name, skips constants and unnamed ($n) functions keep the symbol", () => {
    const m = readSymbolMap(MAP);
    expect(m.get(0x112010n)).toBe("kernel/log/logStr");
    expect(m.get(0x1120e0n)).toBe("wasm.f25");
    expect(m.get(0x118770n)).toBe("kernel/main/kmain");
    expect(m.has(2n)).toBe(false);
  });

  it("reports a missing --map file clearly", () => {
    const dir = mkdtempSync(join(tmpdir(), "capos-disasm-"));
    // A minimal ELF64 executable header with no sections or segments.
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    const dv = new DataView(elf.buffer);
    dv.setUint16(16, 2, true); // ET_EXEC
    dv.setUint16(18, 62, true); // EM_X86_64
    dv.setUint32(20, 1, true);
    dv.setUint16(52, 64, true); // e_ehsize
    const file = join(dir, "a.elf");
    writeFileSync(file, elf);
    expect(() => runDisasm(file, { map: join(dir, "missing.map") })).toThrow(/symbol map .*missing\.map not found/);
  });
});
