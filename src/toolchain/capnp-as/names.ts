// Naming rules for generated AssemblyScript: how schema names become
// identifiers, and escaping of names that are reserved words.

/** Words that cannot be used as AssemblyScript identifiers (TypeScript's reserved words plus AS type names). */
const RESERVED = new Set([
  "abstract", "as", "async", "await", "break", "case", "catch", "class", "const", "continue", "debugger",
  "declare", "default", "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for",
  "from", "function", "get", "if", "implements", "import", "in", "instanceof", "interface", "is", "keyof",
  "let", "module", "namespace", "new", "null", "of", "package", "private", "protected", "public",
  "readonly", "require", "return", "set", "static", "super", "switch", "this", "throw", "true", "try",
  "type", "typeof", "var", "void", "while", "with", "yield",
  "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "bool", "isize", "usize", "v128",
  "string", "number", "boolean", "object", "symbol", "never", "unknown", "any",
]);

/** `name` made safe as a standalone identifier (constants, namespace members). */
export function safeIdentifier(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}

/** `writeLine` → `WriteLine`, for accessor names like getWriteLine. */
export function capitalize(name: string): string {
  return name.length === 0 ? name : name[0]!.toUpperCase() + name.slice(1);
}

/** A 64-bit id as an AssemblyScript hex literal. */
export function hex64(id: bigint): string {
  return `0x${BigInt.asUintN(64, id).toString(16).padStart(16, "0")}`;
}
