// The `fs` object a Go js/wasm program calls (Go's syscall package for GOOS=js
// forwards every file operation to globalThis.fs in Node's callback style),
// served read-only from a SourceTree, with stdout and stderr captured. Any
// attempt to create, change or delete a file fails with EROFS.
import type { SourceTree } from "../source-tree.js";
import { resolve } from "../posix-path.js";

type Callback = (err: Error | null, result?: unknown) => void;

interface OpenFile {
  path: string;
  kind: "file" | "dir";
  /** File contents, read at open time. */
  data: Uint8Array;
  position: number;
}

// Linux open(2) flag values: Go translates its flags into whatever numbers these say.
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const WRITE_FLAGS = O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_TRUNC | O_APPEND;

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const FIRST_FD = 16; // 0-2 are Go's stdio; keep a margin

function fsError(code: string, message: string): Error {
  // Go maps the `code` string back to an errno.
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class GoFs {
  readonly constants = {
    O_WRONLY,
    O_RDWR,
    O_CREAT,
    O_TRUNC,
    O_APPEND,
    O_EXCL,
    O_NONBLOCK: 0o4000,
    O_SYNC: 0o4010000,
  };
  stdout = "";
  stderr = "";
  private readonly decoder = new TextDecoder("utf-8");
  private readonly openFiles = new Map<number, OpenFile>();
  private readonly inodes = new Map<string, number>();
  private nextFd = FIRST_FD;
  private detached = false;

  /** `cwd` is the absolute directory relative paths are resolved against. */
  constructor(
    private readonly tree: SourceTree,
    private readonly cwd: string,
  ) {}

  /** The Go program has exited: answers to calls still in flight are dropped. */
  detach(): void {
    this.detached = true;
  }

  // --- the calls a read-only Go program makes ------------------------------

  open(path: string, flags: number, _mode: number, cb: Callback): void {
    const abs = this.abs(path);
    if ((flags & WRITE_FLAGS) !== 0) return this.fail(cb, "EROFS", `${abs} is read-only`);
    const st = this.tree.stat(abs);
    if (st === null) return this.fail(cb, "ENOENT", `no such file or directory, open '${abs}'`);
    const fd = this.nextFd++;
    const data = st.kind === "file" ? this.tree.readFile(abs) : new Uint8Array(0);
    this.openFiles.set(fd, { path: abs, kind: st.kind, data, position: 0 });
    this.done(cb, fd);
  }

  close(fd: number, cb: Callback): void {
    if (!this.openFiles.delete(fd)) return this.fail(cb, "EBADF", `bad file descriptor ${fd}`);
    this.done(cb);
  }

  fstat(fd: number, cb: Callback): void {
    const f = this.openFiles.get(fd);
    if (f === undefined) return this.fail(cb, "EBADF", `bad file descriptor ${fd}`);
    this.done(cb, this.stats(f.path, f.kind, f.data.length));
  }

  stat(path: string, cb: Callback): void {
    const abs = this.abs(path);
    const st = this.tree.stat(abs);
    if (st === null) return this.fail(cb, "ENOENT", `no such file or directory, stat '${abs}'`);
    this.done(cb, this.stats(abs, st.kind, st.kind === "file" ? st.size : 0));
  }

  lstat(path: string, cb: Callback): void {
    this.stat(path, cb);
  }

  readdir(path: string, cb: Callback): void {
    const abs = this.abs(path);
    const st = this.tree.stat(abs);
    if (st === null) return this.fail(cb, "ENOENT", `no such file or directory, scandir '${abs}'`);
    if (st.kind !== "dir") return this.fail(cb, "ENOTDIR", `not a directory, scandir '${abs}'`);
    this.done(cb, this.tree.readDir(abs));
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null, cb: Callback): void {
    const f = this.openFiles.get(fd);
    if (f === undefined) return this.fail(cb, "EBADF", `bad file descriptor ${fd}`);
    if (f.kind === "dir") return this.fail(cb, "EISDIR", `illegal operation on a directory, read '${f.path}'`);
    const from = position ?? f.position;
    const n = Math.max(0, Math.min(length, f.data.length - from));
    buffer.set(f.data.subarray(from, from + n), offset);
    if (position === null) f.position += n;
    this.done(cb, n);
  }

  write(fd: number, buffer: Uint8Array, offset: number, length: number, _position: number | null, cb: Callback): void {
    if (fd !== 1 && fd !== 2) return this.fail(cb, "EBADF", `file descriptor ${fd} is not writable`);
    this.done(cb, this.writeSync(fd, buffer.subarray(offset, offset + length)));
  }

  /** Used directly by the Go runtime for its own diagnostics (panics, println). */
  writeSync(fd: number, buffer: Uint8Array): number {
    const text = this.decoder.decode(buffer);
    if (fd === 1) this.stdout += text;
    else this.stderr += text;
    return buffer.length;
  }

  fsync(_fd: number, cb: Callback): void {
    this.done(cb);
  }

  // --- everything that would change the tree --------------------------------

  mkdir(...args: unknown[]): void { this.refuse(args); }
  unlink(...args: unknown[]): void { this.refuse(args); }
  rmdir(...args: unknown[]): void { this.refuse(args); }
  rename(...args: unknown[]): void { this.refuse(args); }
  chmod(...args: unknown[]): void { this.refuse(args); }
  fchmod(...args: unknown[]): void { this.refuse(args); }
  utimes(...args: unknown[]): void { this.refuse(args); }
  truncate(...args: unknown[]): void { this.refuse(args); }
  ftruncate(...args: unknown[]): void { this.refuse(args); }
  link(...args: unknown[]): void { this.refuse(args); }
  symlink(...args: unknown[]): void { this.refuse(args); }

  readlink(path: string, cb: Callback): void {
    this.fail(cb, "EINVAL", `not a symbolic link: '${this.abs(path)}'`);
  }

  // --- helpers -------------------------------------------------------------

  private abs(path: string): string {
    return resolve(this.cwd, path);
  }

  private stats(path: string, kind: "file" | "dir", size: number) {
    let ino = this.inodes.get(path);
    if (ino === undefined) {
      ino = this.inodes.size + 1;
      this.inodes.set(path, ino);
    }
    const isDir = kind === "dir";
    return {
      dev: 1,
      ino,
      mode: isDir ? S_IFDIR | 0o555 : S_IFREG | 0o444,
      nlink: 1,
      uid: 0,
      gid: 0,
      rdev: 0,
      size,
      blksize: 4096,
      blocks: Math.ceil(size / 512),
      atimeMs: 0,
      mtimeMs: 0,
      ctimeMs: 0,
      isDirectory: () => isDir,
    };
  }

  private refuse(args: unknown[]): void {
    const cb = args[args.length - 1];
    if (typeof cb === "function") this.fail(cb as Callback, "EROFS", "the manifest source tree is read-only");
  }

  // Go blocks its goroutine on the callback, so deliver it after the current
  // call into JavaScript has returned, as Node's own fs would.
  private done(cb: Callback, result?: unknown): void {
    queueMicrotask(() => {
      if (!this.detached) cb(null, result);
    });
  }

  private fail(cb: Callback, code: string, message: string): void {
    const err = fsError(code, message);
    queueMicrotask(() => {
      if (!this.detached) cb(err);
    });
  }
}
