// capnp-as as a Cap'n Proto compiler plugin: `capnp compile -o<this>:<dir>`
// runs it in <dir> with the CodeGeneratorRequest on stdin. Optional argument:
// --runtime=<path of the guest runtime module relative to <dir>>.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { generateAssemblyScript } from "./index.js";

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

const runtimeArg = process.argv.slice(2).find((a) => a.startsWith("--runtime="));
try {
  const request = await readStdin();
  const files = generateAssemblyScript(request, runtimeArg === undefined ? {} : { runtimePath: runtimeArg.slice("--runtime=".length) });
  for (const file of files) {
    mkdirSync(dirname(file.path) === "" ? "." : dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
} catch (e) {
  process.stderr.write(`capnp-as: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
