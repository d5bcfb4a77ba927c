// How a build shows itself. On a terminal: one status line redrawn in place
// (spinner, target, stage, elapsed) and one permanent line per finished
// target. Anywhere else (CI logs, pipes): plain lines as events happen, no
// control characters. Failures print every diagnostic in both modes.
import { relative } from "node:path";
import { formatDiagnostic } from "./diagnostics.js";
import type { BuildReporter, BuildSummary, TargetOutcome, WorkStage } from "./pipeline.js";

export interface ReporterStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const STAGE_TEXT: Record<WorkStage, string> = { asc: "asc", "x86-64": "x86-64 + link", link: "link" };

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function size(bytes: number): string {
  return bytes < 10 * 1024 ? `${bytes} B` : `${Math.round(bytes / 1024)} KiB`;
}

function stageTimes(o: TargetOutcome): string {
  const parts = (["asc", "x86-64", "link"] as const).filter((s) => o.stageMs[s] !== undefined).map((s) => `${s} ${seconds(o.stageMs[s]!)}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/** The line a finished target gets. */
export function outcomeLine(o: TargetOutcome, buildDir: string, cwd: string): string {
  const full = `${buildDir}/${o.output}`;
  const rel = relative(cwd, full);
  const shown = rel === "" || rel.startsWith("..") ? full : rel;
  switch (o.status) {
    case "up-to-date":
      return `${o.target}: up to date`;
    case "unchanged":
      return `${o.target}: sources changed, same wasm: ${shown} kept${stageTimes(o)}`;
    case "built":
      return `${o.target}: built in ${seconds(o.ms)}${stageTimes(o)} -> ${shown} (${size(o.bytes)})`;
    case "failed":
      return `${o.target}: ${o.error?.stage ?? "build"} failed`;
  }
}

/** The closing line. */
export function summaryLine(s: BuildSummary): string {
  const count = (st: TargetOutcome["status"]) => s.outcomes.filter((o) => o.status === st).length;
  const parts: string[] = [];
  if (count("built") > 0) parts.push(`${count("built")} built`);
  if (count("unchanged") > 0) parts.push(`${count("unchanged")} unchanged`);
  if (count("up-to-date") > 0) parts.push(`${count("up-to-date")} up to date`);
  if (count("failed") > 0) parts.push(`${count("failed")} failed`);
  const n = s.outcomes.length;
  return `capos build: ${n} target${n === 1 ? "" : "s"}${parts.length > 0 ? `: ${parts.join(", ")}` : ""} in ${seconds(s.ms)}`;
}

function details(o: TargetOutcome): string {
  const lines: string[] = [];
  for (const d of o.warnings) lines.push(formatDiagnostic(d));
  if (o.error !== null) for (const d of o.error.diagnostics) lines.push(formatDiagnostic(d));
  return lines.map((l) => `${l}\n`).join("");
}

/** Plain lines: `capos build: <target>: <what>`, one per event. */
export function plainReporter(out: ReporterStream, cwd = process.cwd()): BuildReporter {
  let dir = "";
  return {
    begin(_targets, buildDir) {
      dir = buildDir;
    },
    stage(target, stage) {
      out.write(`capos build: ${target}: ${STAGE_TEXT[stage]} ...\n`);
    },
    done(o) {
      out.write(`capos build: ${outcomeLine(o, dir, cwd)}\n${details(o)}`);
    },
    end(s) {
      out.write(`${summaryLine(s)}\n`);
    },
  };
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const CLEAR_LINE = "\r\x1b[2K";

/** A status line redrawn in place while a target builds (asc's optimizer holds the thread, so redraws come between its phases). */
export function terminalReporter(out: ReporterStream, cwd = process.cwd()): BuildReporter {
  let dir = "";
  let total = 0;
  let index = 0;
  let current: { target: string; stage: WorkStage; since: number } | null = null;
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  const draw = () => {
    if (current === null) return;
    frame = (frame + 1) % SPINNER.length;
    out.write(`${CLEAR_LINE}${SPINNER[frame]} [${index}/${total}] ${current.target}: ${STAGE_TEXT[current.stage]} ${seconds(performance.now() - current.since)}`);
  };
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (current !== null) out.write(CLEAR_LINE);
    current = null;
  };
  return {
    begin(targets, buildDir) {
      dir = buildDir;
      total = targets.length;
    },
    stage(target, stage) {
      if (current === null || current.target !== target) index++;
      current = { target, stage, since: current?.target === target ? current.since : performance.now() };
      current.stage = stage;
      if (timer === null) {
        timer = setInterval(draw, 100);
        timer.unref?.();
      }
      draw();
    },
    done(o) {
      if (current === null || current.target !== o.target) index++;
      stop();
      const mark = o.status === "failed" ? "✗" : o.status === "built" ? "✓" : "·";
      out.write(`${mark} ${outcomeLine(o, dir, cwd)}\n${details(o)}`);
    },
    end(s) {
      stop();
      out.write(`${summaryLine(s)}\n`);
    },
  };
}

/** The terminal reporter on a TTY outside CI, plain lines otherwise. */
export function autoReporter(out: ReporterStream & { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): BuildReporter {
  const ci = env["CI"] !== undefined && env["CI"] !== "" && env["CI"] !== "false";
  return out.isTTY === true && !ci ? terminalReporter(out, cwd) : plainReporter(out, cwd);
}
