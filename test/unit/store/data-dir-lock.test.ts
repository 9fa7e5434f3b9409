import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../../src/shared/errors.ts';
import { LOCK_FILE, acquireDataDirLock, readDataDirLock } from '../../../src/store/data-dir-lock.ts';
import { RecordingFs, nodeFs } from '../../../src/store/fs-port.ts';
import { makeTmpDir } from './tmp-dir.ts';

const HOST = 'test-host';
const lockInfo = (pid: number, hostname = HOST) => `${JSON.stringify({ pid, startedAt: 1, hostname })}\n`;

describe('data-dir lock (P4)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTmpDir());
  });
  afterEach(() => cleanup());

  it('creates harness.lock exclusively with pid, startedAt and hostname, and removes it on release', async () => {
    const fs = new RecordingFs(nodeFs);
    const lock = await acquireDataDirLock(dir, { fs, pid: 4242, hostname: HOST, now: () => 7 });
    expect(fs.calls.find((c) => c.op === 'openExclusive')?.path).toBe(join(dir, LOCK_FILE));
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: 4242, startedAt: 7, hostname: HOST });
    await lock.release();
    await lock.release();
    expect(await readDataDirLock(dir)).toBeNull();
  });

  it('refuses when a live process holds it, naming the pid, and leaves its lock alone', async () => {
    await writeFile(join(dir, LOCK_FILE), lockInfo(777));
    const acquire = acquireDataDirLock(dir, { pid: 1000, hostname: HOST, isProcessAlive: (pid) => pid === 777 });
    await expect(acquire).rejects.toThrow(StoreLockedError);
    await expect(acquireDataDirLock(dir, { pid: 1000, hostname: HOST, isProcessAlive: () => true })).rejects.toThrow(/pid 777/);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(lockInfo(777));
  });

  it('takes over a stale lock of a dead process', async () => {
    await writeFile(join(dir, LOCK_FILE), lockInfo(777));
    const lock = await acquireDataDirLock(dir, { pid: 1000, hostname: HOST, isProcessAlive: () => false });
    expect(lock.info.pid).toBe(1000);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: 1000 });
    await lock.release();
  });

  it('treats a lock naming its own pid (not held in-process) as stale, e.g. after a container restart', async () => {
    await writeFile(join(dir, LOCK_FILE), lockInfo(1));
    const lock = await acquireDataDirLock(dir, { pid: 1, hostname: HOST, isProcessAlive: () => true });
    expect(lock.info.pid).toBe(1);
    await lock.release();
  });

  it('refuses a second acquire in the same process', async () => {
    const lock = await acquireDataDirLock(dir, { hostname: HOST });
    await expect(acquireDataDirLock(dir, { hostname: HOST })).rejects.toThrow(/already locked by this process/);
    await lock.release();
    const again = await acquireDataDirLock(dir, { hostname: HOST });
    await again.release();
  });

  it('refuses a lock held on another host (it cannot be checked)', async () => {
    await writeFile(join(dir, LOCK_FILE), lockInfo(777, 'other-host'));
    await expect(acquireDataDirLock(dir, { pid: 1000, hostname: HOST, isProcessAlive: () => false })).rejects.toThrow(/other-host/);
  });

  it('takes over an unparseable lock (a crash between create and write)', async () => {
    await writeFile(join(dir, LOCK_FILE), '');
    const lock = await acquireDataDirLock(dir, { pid: 1000, hostname: HOST });
    expect(lock.info.pid).toBe(1000);
    await lock.release();
  });

  it('release does not remove a lock that is no longer ours', async () => {
    const lock = await acquireDataDirLock(dir, { pid: 1000, hostname: HOST });
    await writeFile(join(dir, LOCK_FILE), lockInfo(2000));
    await lock.release();
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(lockInfo(2000));
  });

  it('readDataDirLock reports the holder and whether it is alive', async () => {
    expect(await readDataDirLock(dir)).toBeNull();
    await writeFile(join(dir, LOCK_FILE), lockInfo(777));
    expect(await readDataDirLock(dir, { hostname: HOST, isProcessAlive: () => true })).toMatchObject({ pid: 777, alive: true });
    expect(await readDataDirLock(dir, { hostname: HOST, isProcessAlive: () => false })).toMatchObject({ pid: 777, alive: false });
    await writeFile(join(dir, LOCK_FILE), 'garbage');
    await expect(readDataDirLock(dir)).rejects.toThrow(StoreLockedError);
  });

  it('lets exactly one of several concurrent acquirers win', async () => {
    const results = await Promise.allSettled(
      [11, 12, 13, 14].map((pid) => acquireDataDirLock(join(dir, 'shared'), { pid, hostname: HOST, isProcessAlive: () => true })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof StoreLockedError)).toBe(true);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireDataDirLock>>>).value.release();
  });
});
