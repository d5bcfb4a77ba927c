// The machine's trace: optional, categorised diagnostic lines for the embedder
// (the CLI prints them to stderr). Nothing guest-visible depends on it; a
// category that is off costs one boolean test.

export const TRACE_CATEGORIES = ["ports", "irq", "exceptions", "boot", "devices"] as const;
export type TraceCategory = (typeof TRACE_CATEGORIES)[number];

export type TraceSink = (category: TraceCategory, message: string) => void;

export class Trace {
  private readonly enabled = new Set<TraceCategory>();

  constructor(
    private readonly sink: TraceSink | null = null,
    categories: Iterable<TraceCategory> = [],
  ) {
    if (sink !== null) for (const c of categories) this.enabled.add(c);
  }

  on(category: TraceCategory): boolean {
    return this.enabled.has(category);
  }

  emit(category: TraceCategory, message: string): void {
    if (this.sink !== null && this.enabled.has(category)) this.sink(category, message);
  }
}

/** Parses a comma-separated category list ("all" selects every category). */
export function parseTraceCategories(list: string): TraceCategory[] {
  const out: TraceCategory[] = [];
  for (const raw of list.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (name === "all") return [...TRACE_CATEGORIES];
    if (!(TRACE_CATEGORIES as readonly string[]).includes(name)) {
      throw new Error(`unknown trace category "${name}" (known: ${TRACE_CATEGORIES.join(", ")}, all)`);
    }
    out.push(name as TraceCategory);
  }
  return out;
}

/** Hex with a 0x prefix: int32 values read as unsigned, larger non-negative numbers printed whole. */
export function hex(v: number, digits = 0): string {
  const u = v >= 0x100000000 ? v : v >>> 0;
  return "0x" + u.toString(16).padStart(digits, "0");
}
