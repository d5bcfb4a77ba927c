// POSIX path arithmetic for the manifest compiler's virtual file trees. The CUE
// evaluator sees absolute '/'-separated paths whatever the host is, and this
// module must run in browsers, so it cannot lean on node:path.

/** Collapses '.', '..' and repeated slashes; the result is absolute when `path` is. */
export function normalize(path: string): string {
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (absolute) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** Resolves `path` against the absolute directory `base`. */
export function resolve(base: string, path: string): string {
  return normalize(path.startsWith("/") ? path : `${base}/${path}`);
}

export function dirname(path: string): string {
  const p = normalize(path);
  const i = p.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : p.slice(0, i);
}

export function basename(path: string): string {
  const p = normalize(path);
  return p.slice(p.lastIndexOf("/") + 1);
}

export function join(...parts: string[]): string {
  return normalize(parts.join("/"));
}

/** The path of `to` relative to the absolute directory `from` ('./x', '../y/z'). */
export function relative(from: string, to: string): string {
  const a = normalize(from).split("/").filter((s) => s !== "");
  const b = normalize(to).split("/").filter((s) => s !== "");
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const up = a.slice(common).map(() => "..");
  const rest = [...up, ...b.slice(common)];
  return rest.length === 0 ? "." : rest.join("/");
}
