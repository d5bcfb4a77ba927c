// What a failed build tells its user: diagnostics with file:line:col (from asc,
// the assembler) or without a place (the wasm compiler, the linker), and the
// error that carries them out of the pipeline. Formatting lives here too, so
// the command line, the manifest hook and the tests print the same text.

export type BuildStage = "config" | "asc" | "x86-64" | "assemble" | "link" | "write";

export interface Diagnostic {
  severity: "error" | "warning";
  /** Path relative to the source root (posix separators), or null when the problem has no source place. */
  file: string | null;
  /** 1-based line and column (0 when unknown). */
  line: number;
  column: number;
  /** The tool's own code, e.g. "TS2304" (empty when it has none). */
  code: string;
  message: string;
  /** The source line the diagnostic points into, for a caret display. */
  lineText?: string;
}

/** A target failed: nothing of it was written, previous outputs are intact. */
export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    readonly target: string,
    readonly stage: BuildStage,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(`${target}: ${stage} failed\n${diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic).join("\n")}`);
  }
}

/** `file:line:col: error CODE: message` plus the source line and a caret under the column. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file === null ? "" : d.line > 0 ? `${d.file}:${d.line}:${d.column}: ` : `${d.file}: `;
  const head = `${where}${d.severity}${d.code === "" ? "" : ` ${d.code}`}: ${d.message}`;
  if (d.lineText === undefined || d.line === 0) return head;
  const gutter = String(d.line);
  const text = d.lineText.replace(/\t/g, " ");
  return `${head}\n  ${gutter} | ${text}\n  ${" ".repeat(gutter.length)} | ${" ".repeat(Math.max(0, d.column - 1))}^`;
}

/** 1-based line and column of a character offset, and the line's text. */
export function locate(text: string, offset: number): { line: number; column: number; lineText: string } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = text.indexOf("\n", lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  return { line, column: end - lineStart + 1, lineText: text.slice(lineStart, lineEnd).replace(/\r$/, "") };
}
