/**
 * One writer per data directory (RELIABILITY.md P4). Two processes writing the same lowdb files
 * lose updates and can leave a torn file (typicode/lowdb#333, #478), so the bot takes an exclusive
 * pid lock file `<dataDir>/harness.lock` holding `{ pid, startedAt, hostname }` before it opens
 * anything for writing.
 *
 * - The file is created with `O_CREAT | O_EXCL`: of two processes starting together, exactly one
 *   creates it.
 * - If it exists and names a live process on this host, {@link acquireDataDirLock} throws
 *   {@link StoreLockedError} naming that pid.
 * - If that process is gone (`kill(pid, 0)` → ESRCH), the lock is stale: it is removed and the
 *   exclusive create retried. **Race:** two processes that both find the same stale lock can both
 *   pass the "still the same stale content" re-check before either unlinks; the second unlink then
 *   removes the first one's fresh lock. The window is the few microseconds between re-reading and
 *   unlinking, only right after a crash, and needs two starts at that moment; after creating, the
 *   holder re-reads the file and refuses if it is not its own, which catches most of it.
 * - A lock naming another host cannot be checked, so it counts as held (the operator removes it).
 * - A lock naming our own pid but not held in this process is stale (e.g. a container restarted
 *   and the bot got the same pid again).
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StoreLockedError } from '../shared/errors.ts';
import { type Fs, isErrno, nodeFs } from './fs-port.ts';
import { storeIoError } from './durable-json-file.ts';

/** Name of the lock file inside the data directory. */
export const LOCK_FILE = 'harness.lock';

/** What the lock file holds. `token` tells two lock files of the same pid apart. */
export const LockInfo = z.strictObject({
  pid: z.int().positive(),
  startedAt: z.number(),
  hostname: z.string(),
  token: z.string().optional(),
});
export type LockInfo = z.infer<typeof LockInfo>;

/** A held data-directory lock. */
export interface DataDirLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Options of {@link acquireDataDirLock}; the defaults are the real process and host. */
export interface LockOptions {
  fs?: Fs;
  pid?: number;
  hostname?: string;
  now?: () => number;
  /** Whether a pid is alive on this host (default: `process.kill(pid, 0)`). */
  isProcessAlive?: (pid: number) => boolean;
}

/** Lock files held by this process (absolute path), so a second in-process acquire is refused. */
const heldInProcess = new Set<string>();

/** `process.kill(pid, 0)`: ESRCH means gone; EPERM means it exists under another user. */
export function defaultIsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}

async function readLockText(fs: Fs, path: string): Promise<string | null> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw storeIoError('read lock', path, error);
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const parsed = LockInfo.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Who holds the lock, as seen from this process. */
export interface LockHolder extends LockInfo {
  /** False when the holder is a dead process on this host (a stale lock). */
  alive: boolean;
}

/**
 * Reads the lock file of `dataDir` without taking it (for the CLI and `harness doctor`).
 * @returns the holder (with `alive`), or `null` when there is no lock file.
 * @throws StoreLockedError when the lock file exists but cannot be parsed (nothing is invented;
 * the operator sees the problem).
 */
export async function readDataDirLock(
  dataDir: string,
  options: Pick<LockOptions, 'fs' | 'hostname' | 'isProcessAlive'> = {},
): Promise<LockHolder | null> {
  const fs = options.fs ?? nodeFs;
  const path = join(resolve(dataDir), LOCK_FILE);
  const text = await readLockText(fs, path);
  if (text === null) return null;
  const info = parseLock(text);
  if (info === null) {
    throw new StoreLockedError(`lock file ${path} is unreadable; if no harness is running, remove it`, { details: { path } });
  }
  const sameHost = info.hostname === (options.hostname ?? osHostname());
  const alive = sameHost ? (options.isProcessAlive ?? defaultIsProcessAlive)(info.pid) : true;
  return { ...info, alive };
}

/**
 * Takes the exclusive lock of `dataDir` (created if missing).
 * @throws StoreLockedError when a live process (or one on another host, or this same process)
 * holds it; the message names the pid.
 * @throws BotError `store_io` on filesystem failures.
 */
export async function acquireDataDirLock(dataDir: string, options: LockOptions = {}): Promise<DataDirLock> {
  const fs = options.fs ?? nodeFs;
  const pid = options.pid ?? process.pid;
  const host = options.hostname ?? osHostname();
  const now = options.now ?? Date.now;
  const isAlive = options.isProcessAlive ?? defaultIsProcessAlive;
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);

  if (heldInProcess.has(path)) {
    throw new StoreLockedError(`data directory ${dir} is already locked by this process (pid ${pid})`, {
      details: { path, pid },
    });
  }
  await fs.mkdirp(dir).catch((error: unknown) => {
    throw storeIoError('create data directory', dir, error);
  });

  const info: LockInfo = { pid, startedAt: now(), hostname: host, token: randomBytes(8).toString('hex') };
  const content = `${JSON.stringify(info)}\n`;

  // A round may find a stale lock and remove it; the next round's exclusive create then decides
  // between us and anyone else who raced for it.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await fs.openExclusive(path, content);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw storeIoError('create lock', path, error);
      await removeIfStale(fs, path, { pid, host, isAlive });
      continue;
    }
    await fs.fsyncDir(dir).catch((error: unknown) => {
      throw storeIoError('fsync data directory', dir, error);
    });
    // Catch the stale-takeover race in its most common form: someone replaced our file.
    const check = await readLockText(fs, path);
    if (check !== content) {
      throw new StoreLockedError(`data directory ${dir} was locked by another process while this one started`, {
        details: { path },
      });
    }
    heldInProcess.add(path);
    let released = false;
    return {
      path,
      info,
      async release() {
        if (released) return;
        released = true;
        heldInProcess.delete(path);
        const current = await readLockText(fs, path);
        if (current !== content) return; // not ours any more: leave it alone
        try {
          await fs.unlink(path);
          await fs.fsyncDir(dir);
        } catch (error) {
          if (!isErrno(error, 'ENOENT')) throw storeIoError('release lock', path, error);
        }
      },
    };
  }
  throw new StoreLockedError(`could not take the lock ${path}: other processes keep taking it`, { details: { path } });
}

/**
 * Removes the lock at `path` when its holder is dead; throws {@link StoreLockedError} when it is
 * alive. Returns when the lock file is gone (or changed, so the caller retries).
 */
async function removeIfStale(fs: Fs, path: string, self: { pid: number; host: string; isAlive: (pid: number) => boolean }): Promise<void> {
  const text = await readLockText(fs, path);
  if (text === null) return; // released meanwhile: retry the create
  const holder = parseLock(text);
  if (holder === null) {
    // A lock file is written whole by one `write` right after its exclusive create, so an
    // unparseable one is almost always a crash between the two. Give a live creator a moment.
    await new Promise((r) => setTimeout(r, 50));
    const again = await readLockText(fs, path);
    if (again !== text) return;
  } else if (holder.hostname !== self.host) {
    throw new StoreLockedError(
      `data directory is locked by pid ${holder.pid} on host ${holder.hostname}; this host cannot check it. If that process is gone, remove ${path}`,
      { details: { path, pid: holder.pid, hostname: holder.hostname } },
    );
  } else if (holder.pid !== self.pid && self.isAlive(holder.pid)) {
    throw new StoreLockedError(`data directory is locked by running process pid ${holder.pid} (since ${new Date(holder.startedAt).toISOString()})`, {
      details: { path, pid: holder.pid, startedAt: holder.startedAt },
    });
  }
  // Stale. Re-check that it is still the same file content right before removing it.
  if ((await readLockText(fs, path)) !== text) return;
  try {
    await fs.unlink(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw storeIoError('remove stale lock', path, error);
  }
}
