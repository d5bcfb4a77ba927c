// `npm run schema`: regenerates the checked-in bindings under schema/host/
// (capnp-es TypeScript) and schema/as/ (capnp-as AssemblyScript) from
// schema/*.capnp. Needs the `capnp` compiler (Debian package `capnproto`).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { capnpAvailable, compileRequest, generateBindings } from "../src/toolchain/capnp-as/pipeline.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
if (!capnpAvailable()) {
  process.stderr.write("npm run schema: the `capnp` compiler is not installed (apt-get install capnproto)\n");
  process.exit(1);
}
const files = await generateBindings(compileRequest(repoRoot), repoRoot);
for (const [path, contents] of files) {
  const full = join(repoRoot, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, contents);
  process.stdout.write(`wrote ${path}\n`);
}
