// AssemblyScript compiles only what a program reaches, so a generated module
// that nothing calls is never type-checked. This writes a program that names
// every generated constant and calls every generated method once, so that
// compiling it checks all of the generated code.

const RUNTIME_VIEWS: Record<string, string> = {
  MessageBuilder: "mb",
  ListBuilder: "lb",
  ListReader: "lr",
  TextReader: "tr",
  DataReader: "dr",
};

function argumentFor(type: string): string {
  const view = RUNTIME_VIEWS[type];
  if (view !== undefined) return view;
  if (type === "bool") return "false";
  if (type === "string") return '""';
  if (/^[iuf](8|16|32|64)$|^usize$/.test(type)) return `<${type}>0`;
  // A generated reader or builder class: view zeroed scratch memory as one.
  return `changetype<${type}>(scratch)`;
}

/** Program text exercising every declaration of the generated module at `importPath`. */
export function coverageProgram(importPath: string, runtimePath: string, source: string): string {
  const names = new Set<string>();
  const body: string[] = [];
  const stack: string[] = [];
  let inClass: string | null = null;
  for (const line of source.split("\n")) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^@unmanaged export class (\w+) extends \w+ \{$/))) {
      inClass = m[1]!;
      names.add(inClass);
      body.push(`  const v${inClass} = changetype<${inClass}>(scratch);`);
      continue;
    }
    if (inClass !== null) {
      if (line === "}") {
        inClass = null;
        continue;
      }
      if ((m = line.match(/^ {2}(\w+)\((.*)\): [\w<>]+ \{$/))) {
        const params = m[2]!.trim() === "" ? [] : m[2]!.split(",").map((p) => p.split(":")[1]!.trim());
        body.push(`  v${inClass}.${m[1]}(${params.map(argumentFor).join(", ")});`);
      }
      continue;
    }
    if ((m = line.match(/^( *)export namespace (\w+) \{$/))) {
      stack.length = m[1]!.length / 2;
      stack.push(m[2]!);
      if (stack.length === 1) names.add(m[2]!);
      continue;
    }
    if ((m = line.match(/^( *)export const (\w+): (\w+) = /))) {
      const depth = m[1]!.length / 2;
      stack.length = depth;
      if (depth === 0) names.add(m[2]!);
      const ref = [...stack, m[2]].join(".");
      const type = m[3]!;
      body.push(`  sink += ${type === "string" ? `<u64>${ref}.length` : type === "bool" ? `(${ref} ? 1 : 0)` : `<u64>${ref}`};`);
    }
  }
  return [
    `import { MessageBuilder, ListBuilder, ListReader, TextReader, DataReader } from "${runtimePath}";`,
    `import { ${[...names].sort().join(", ")} } from "${importPath}";`,
    "const scratch = memory.data(256);",
    "const mb = changetype<MessageBuilder>(scratch);",
    "const lb = changetype<ListBuilder>(scratch);",
    "const lr = changetype<ListReader>(scratch);",
    "const tr = changetype<TextReader>(scratch);",
    "const dr = changetype<DataReader>(scratch);",
    "let sink: u64 = 0;",
    "/** Never called: exists so that compiling it checks every generated declaration. */",
    "export function touchEverything(): u64 {",
    ...body,
    "  return sink;",
    "}",
    "export function alloc(size: u32): usize { return heap.alloc(<usize>size); }",
    "",
  ].join("\n");
}
