// Reads conformance vector files (a JSONL file or a directory of them) for the CLI and tests.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Vector } from "../emulator/cpu/conformance.js";

export interface VectorFile {
  name: string;
  vectors: Vector[];
}

export function loadVectorFiles(path: string): VectorFile[] {
  const st = statSync(path);
  const files = st.isDirectory()
    ? readdirSync(path).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(path, f))
    : [path];
  return files.map((f) => ({
    name: f.split("/").pop()!,
    vectors: readFileSync(f, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Vector),
  }));
}

/** The shared data folder beside the repository (../shared), or null when absent (a user's clone). */
export function sharedDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const base of [process.cwd(), here, join(here, ".."), join(here, "../..")]) {
    const candidate = resolve(base, "../shared");
    if (existsSync(join(candidate, "conformance"))) return candidate;
  }
  return null;
}
