/**
 * The filesystem seam of the store (STYLE.md point 2). It holds exactly the calls the store makes,
 * each with the durability it promises spelled out, so the durable-write order (P3) can be checked
 * over {@link RecordingFs} without a real disk, and failures can be injected at a named call.
 *
 * Errors are Node's own (`code: 'ENOENT' | 'EEXIST' | ...`); callers test them with {@link isErrno}.
 */
import { constants } from 'node:fs';
import { appendFile, copyFile, link, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';

/** The filesystem operations the store needs, nothing more. */
export interface Fs {
  /** The whole file as UTF-8. Throws ENOENT when absent. */
  readFile(path: string): Promise<string>;
  /** Creates or truncates `path`, writes `data` and fsyncs the file before resolving (`flush: true`). */
  writeFileFlush(path: string, data: string): Promise<void>;
  /** Appends `data` and fsyncs the file before resolving. Creates the file if absent. */
  appendFileFlush(path: string, data: string): Promise<void>;
  /** Atomically replaces `to` with `from` (same directory, same filesystem). */
  rename(from: string, to: string): Promise<void>;
  /** fsyncs a directory, so renames, creations and unlinks in it survive a power loss. */
  fsyncDir(dir: string): Promise<void>;
  /** Removes a file. Throws ENOENT when absent. */
  unlink(path: string): Promise<void>;
  /** Entry names of a directory (not paths). Throws ENOENT when absent. */
  readdir(dir: string): Promise<string[]>;
  /** Creates `dir` and its parents; no error if it exists. */
  mkdirp(dir: string): Promise<void>;
  /** Copies a file (used for a `.bak` when hard links are not available). */
  copyFile(from: string, to: string): Promise<void>;
  /** Hard-links `to` to the inode of `from`. Throws EEXIST if `to` exists, ENOENT if `from` does not. */
  link(from: string, to: string): Promise<void>;
  /** True when something exists at `path` (file or directory). */
  exists(path: string): Promise<boolean>;
  /**
   * Creates `path` with `O_CREAT | O_EXCL`, writes `content` and fsyncs it. Throws EEXIST when the
   * file exists: the exclusive create is what makes the data-dir lock a lock.
   */
  openExclusive(path: string, content: string): Promise<void>;
}

/** True when `error` is a Node system error with the given `code`. */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** Files the store writes hold run contents, so they are owner-only. */
const FILE_MODE = 0o600;

/** The real filesystem. */
export const nodeFs: Fs = {
  readFile: (path) => readFile(path, 'utf8'),
  writeFileFlush: (path, data) => writeFile(path, data, { encoding: 'utf8', mode: FILE_MODE, flush: true }),
  appendFileFlush: (path, data) => appendFile(path, data, { encoding: 'utf8', mode: FILE_MODE, flush: true }),
  rename: (from, to) => rename(from, to),
  async fsyncDir(dir) {
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  unlink: (path) => unlink(path),
  readdir: (dir) => readdir(dir),
  async mkdirp(dir) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  },
  copyFile: (from, to) => copyFile(from, to),
  link: (from, to) => link(from, to),
  async exists(path) {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  },
  async openExclusive(path, content) {
    const handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** The name of an {@link Fs} method. */
export type FsOp = keyof Fs;

/** One recorded filesystem call. */
export interface FsCall {
  op: FsOp;
  path: string;
  /** The second path of `rename`, `copyFile` and `link`. */
  to?: string;
}

/**
 * Wraps another {@link Fs} and records every call (name and paths) in call order, before it runs.
 * `before` may delay or fail a call (throw to inject an I/O error at an exact point); it is for
 * tests that check ordering (P3) and failure handling.
 */
export class RecordingFs implements Fs {
  readonly calls: FsCall[] = [];
  private readonly inner: Fs;
  private readonly before: ((call: FsCall) => void | Promise<void>) | undefined;

  constructor(inner: Fs = nodeFs, options: { before?: (call: FsCall) => void | Promise<void> } = {}) {
    this.inner = inner;
    this.before = options.before;
  }

  /** Calls in order as `op path[ -> to]` strings, handy for exact-order assertions. */
  get log(): string[] {
    return this.calls.map((call) => (call.to === undefined ? `${call.op} ${call.path}` : `${call.op} ${call.path} -> ${call.to}`));
  }

  /** Forgets the calls recorded so far. */
  clear(): void {
    this.calls.length = 0;
  }

  private async record<R>(op: FsOp, path: string, to: string | undefined, run: () => Promise<R>): Promise<R> {
    const call: FsCall = to === undefined ? { op, path } : { op, path, to };
    this.calls.push(call);
    if (this.before) await this.before(call);
    return run();
  }

  readFile(path: string): Promise<string> {
    return this.record('readFile', path, undefined, () => this.inner.readFile(path));
  }
  writeFileFlush(path: string, data: string): Promise<void> {
    return this.record('writeFileFlush', path, undefined, () => this.inner.writeFileFlush(path, data));
  }
  appendFileFlush(path: string, data: string): Promise<void> {
    return this.record('appendFileFlush', path, undefined, () => this.inner.appendFileFlush(path, data));
  }
  rename(from: string, to: string): Promise<void> {
    return this.record('rename', from, to, () => this.inner.rename(from, to));
  }
  fsyncDir(dir: string): Promise<void> {
    return this.record('fsyncDir', dir, undefined, () => this.inner.fsyncDir(dir));
  }
  unlink(path: string): Promise<void> {
    return this.record('unlink', path, undefined, () => this.inner.unlink(path));
  }
  readdir(dir: string): Promise<string[]> {
    return this.record('readdir', dir, undefined, () => this.inner.readdir(dir));
  }
  mkdirp(dir: string): Promise<void> {
    return this.record('mkdirp', dir, undefined, () => this.inner.mkdirp(dir));
  }
  copyFile(from: string, to: string): Promise<void> {
    return this.record('copyFile', from, to, () => this.inner.copyFile(from, to));
  }
  link(from: string, to: string): Promise<void> {
    return this.record('link', from, to, () => this.inner.link(from, to));
  }
  exists(path: string): Promise<boolean> {
    return this.record('exists', path, undefined, () => this.inner.exists(path));
  }
  openExclusive(path: string, content: string): Promise<void> {
    return this.record('openExclusive', path, undefined, () => this.inner.openExclusive(path, content));
  }
}
