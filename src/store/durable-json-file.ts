/**
 * A lowdb {@link Adapter} that is durable and fails closed (DESIGN.md §5, RELIABILITY.md P2, P3, P5).
 *
 * lowdb's own `JSONFile` (steno) writes a fixed `.<file>.tmp` and renames it, but never fsyncs, so
 * a power loss can leave an empty or old file, and two writers on one path corrupt it
 * (typicode/lowdb#549, #333). This adapter:
 * - write: keeps the previous file as `<file>.bak` (a hard link, no copy), writes a unique temp file
 *   `.<base>.<pid>.<random>.tmp` in the same directory with fsync, renames it over the target, then
 *   fsyncs the directory. `write` resolves only after the directory fsync.
 * - read: parses JSON, refusing any `__proto__`/`constructor`/`prototype` key, then runs the
 *   caller's validator. A missing file reads as `null`. A bad file is renamed to
 *   `<file>.corrupt-<ts>` (bytes preserved, never overwritten with defaults) and
 *   {@link StoreCorruptError} is thrown naming the quarantine file and the `.bak` if there is one.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { BotError, ErrorCode, StoreCorruptError } from '../shared/errors.ts';
import { type Fs, isErrno, nodeFs } from './fs-port.ts';

/** Keys that can change an object's prototype when a parsed value is merged or assigned. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Suffix of every temp file the store writes; such files are never read, only removed at open. */
export const TEMP_SUFFIX = '.tmp';

/** Marker between a file name and the quarantine timestamp. */
export const CORRUPT_MARKER = '.corrupt-';

/** The `.bak` that holds the previous good version of `path`. */
export function backupPathOf(path: string): string {
  return `${path}.bak`;
}

/** True for a temp-file name written by this module (`.<base>.<pid>.<random>.tmp`). */
export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/** A unique temp path next to `path`, so concurrent or crashed writers never share one. */
export function tempPathFor(path: string, pid: number = process.pid): string {
  return join(dirname(path), `.${basename(path)}.${pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/**
 * `JSON.parse` that throws on any `__proto__`, `constructor` or `prototype` key at any depth. Such a
 * key is never legitimate in a store file and is a classic pollution vector once a parsed value is
 * spread or `Object.assign`-ed.
 * @throws SyntaxError for invalid JSON; Error for a forbidden key.
 */
export function parseJsonStrict(text: string): unknown {
  return JSON.parse(text, function reviver(this: unknown, key: string, value: unknown) {
    if (FORBIDDEN_KEYS.has(key)) throw new Error(`forbidden key ${JSON.stringify(key)}`);
    return value;
  });
}

/** Wraps an unexpected I/O failure as a typed `store_io` error. */
export function storeIoError(action: string, path: string, cause: unknown): BotError {
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const transient = code === 'EAGAIN' || code === 'EBUSY' || code === 'EMFILE' || code === 'ENFILE';
  return new BotError(ErrorCode.StoreIo, `could not ${action} ${path}${typeof code === 'string' ? ` (${code})` : ''}`, {
    cause,
    retryable: transient,
    details: { path, ...(typeof code === 'string' ? { errno: code } : {}) },
  });
}

/** Options of {@link DurableJsonFile}. */
export interface DurableJsonFileOptions<T> {
  /** Turns the parsed JSON into `T` or throws (a zod parse or `migrateRunDoc`). */
  validate: (raw: unknown) => T;
  fs?: Fs;
  /** Rename a bad file aside on read (default true). Read-only users pass false: they must not move files. */
  quarantine?: boolean;
  /** Keep the previous file as `.bak` on write (default true). */
  backup?: boolean;
  /** Clock for the quarantine suffix (default `Date.now`). */
  now?: () => number;
  /** Pid in temp names (default `process.pid`). */
  pid?: number;
}

/**
 * Durable, validating lowdb adapter for one JSON file. One instance per path per process: the
 * caller serialises writes (the store's per-run mutex); writes issued concurrently on one instance
 * are queued in call order anyway, so the last call wins on disk as it does in memory.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  readonly path: string;
  private readonly fs: Fs;
  private readonly validate: (raw: unknown) => T;
  private readonly quarantine: boolean;
  private readonly backup: boolean;
  private readonly now: () => number;
  private readonly pid: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(path: string, options: DurableJsonFileOptions<T>) {
    this.path = path;
    this.fs = options.fs ?? nodeFs;
    this.validate = options.validate;
    this.quarantine = options.quarantine ?? true;
    this.backup = options.backup ?? true;
    this.now = options.now ?? Date.now;
    this.pid = options.pid ?? process.pid;
  }

  /**
   * The validated document, or `null` when the file does not exist.
   * @throws StoreCorruptError (after quarantining, unless disabled) when the file is empty, not
   * JSON, holds a forbidden key, or fails validation (including unknown schema versions).
   * @throws BotError `store_io` on other read failures.
   */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await this.fs.readFile(this.path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw storeIoError('read', this.path, error);
    }
    try {
      return this.validate(parseJsonStrict(text));
    } catch (error) {
      throw await this.corrupt(error);
    }
  }

  /**
   * Durably replaces the file with `data`; resolves only after the directory fsync.
   * @throws BotError `store_io` when any step fails (the target then still holds the previous version).
   */
  write(data: T): Promise<void> {
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const run = this.queue.then(() => this.writeNow(text));
    // The queue must survive a failed write, or every later write would fail with it.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeNow(text: string): Promise<void> {
    const dir = dirname(this.path);
    if (this.backup) await this.keepBackup();
    const tmp = tempPathFor(this.path, this.pid);
    try {
      await this.fs.writeFileFlush(tmp, text);
      await this.fs.rename(tmp, this.path);
    } catch (error) {
      await this.fs.unlink(tmp).catch(() => undefined);
      throw storeIoError('write', this.path, error);
    }
    try {
      await this.fs.fsyncDir(dir);
    } catch (error) {
      throw storeIoError('fsync directory of', this.path, error);
    }
  }

  /**
   * Points `<file>.bak` at the current file before it is replaced. A hard link costs no copy; the
   * link goes to a temp name first and is renamed over the old `.bak`, so a `.bak` always exists
   * once one was made. The directory fsync at the end of the write covers both renames.
   */
  private async keepBackup(): Promise<void> {
    const bak = backupPathOf(this.path);
    const tmp = tempPathFor(bak, this.pid);
    try {
      await this.fs.link(this.path, tmp);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return; // first write: nothing to keep
      try {
        await this.fs.copyFile(this.path, tmp); // filesystems without hard links
      } catch (copyError) {
        if (isErrno(copyError, 'ENOENT')) return;
        throw storeIoError('back up', this.path, copyError);
      }
    }
    try {
      await this.fs.rename(tmp, bak);
    } catch (error) {
      await this.fs.unlink(tmp).catch(() => undefined);
      throw storeIoError('back up', this.path, error);
    }
    // When a kill left `.bak` and the file as two links to one inode, POSIX makes the rename above
    // a successful no-op that leaves `tmp` in place (pinned by test/integration/crash/bak-temp-leak).
    await this.fs.unlink(tmp).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw storeIoError('back up', this.path, error);
    });
  }

  /** Moves the bad file aside (when allowed) and builds the error that reports it. */
  private async corrupt(reason: unknown): Promise<StoreCorruptError> {
    const why = reason instanceof Error ? reason.message : String(reason);
    const bak = backupPathOf(this.path);
    const bakExists = await this.fs.exists(bak).catch(() => false);
    const inner = reason instanceof StoreCorruptError ? reason.details : {};
    let quarantinedTo: string | null = null;
    if (this.quarantine) {
      quarantinedTo = await this.quarantinePath();
      try {
        await this.fs.rename(this.path, quarantinedTo);
        await this.fs.fsyncDir(dirname(this.path));
      } catch (error) {
        throw storeIoError('quarantine corrupt file', this.path, error);
      }
    }
    const where = quarantinedTo === null ? 'left in place (read-only)' : `quarantined to ${quarantinedTo}`;
    const offer = bakExists ? `; the last good copy is ${bak}` : '; no .bak exists';
    return new StoreCorruptError(`store file ${this.path} is corrupt: ${why}; ${where}${offer}`, {
      cause: reason,
      details: { ...inner, file: this.path, quarantinedTo, bak: bakExists ? bak : null, reason: why },
    });
  }

  /** `<file>.corrupt-<ISO time>`, with a counter if that name is taken (two failures in one ms). */
  private async quarantinePath(): Promise<string> {
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    const base = `${this.path}${CORRUPT_MARKER}${stamp}`;
    let candidate = base;
    for (let n = 1; await this.fs.exists(candidate); n += 1) candidate = `${base}-${n}`;
    return candidate;
  }
}
