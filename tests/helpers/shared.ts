// Locates ../shared beside the repository. Suites that need it skip with a visible notice when absent.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const candidate = resolve(__dirname, "../../../shared");
export const SHARED_DIR: string | null = existsSync(join(candidate, "conformance")) ? candidate : null;

export function sharedNotice(what: string): void {
  if (SHARED_DIR === null) {
    // eslint-disable-next-line no-console
    console.warn(`NOTICE: ../shared not found beside the repository; skipping ${what}.`);
  }
}
