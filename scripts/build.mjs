// Bundles the `capos` command line into dist/capos.js with esbuild.
// Runs on `npm install` (prepare) so `npx capos` works in a fresh clone.
import { build } from "esbuild";
import { chmodSync } from "node:fs";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/capos.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  // CommonJS dependencies (commander) call require() for Node built-ins; give the ESM bundle one.
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __capos_createRequire } from "node:module";\nconst require = __capos_createRequire(import.meta.url);' },
  logLevel: "warning",
  // Large dependencies stay in node_modules and load only when a command needs
  // them (asc and Binaryen for capos build): bundling them made every command,
  // even --version, parse a 17 MB file.
  external: ["assemblyscript", "assemblyscript/*", "binaryen"],
});
chmodSync("dist/capos.js", 0o755);
