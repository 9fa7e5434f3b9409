/**
 * P4 across processes: while a bot process holds the data directory, a second open fails with
 * StoreLockedError naming its pid and touches nothing; after the holder is SIGKILLed the stale lock
 * is taken over.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../../src/shared/errors.ts';
import { readDataDirLock } from '../../../src/store/data-dir-lock.ts';
import { LowdbRunStore } from '../../../src/store/lowdb-run-store.ts';
import { snapshotDir } from '../../unit/store/tmp-dir.ts';
import { type Child, spawnChild } from './child.ts';

describe('data-dir lock across processes (P4)', () => {
  let dir: string;
  let child: Child | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lock-'));
  });
  afterEach(async () => {
    await child?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second process, then takes over the lock of a killed one', async () => {
    child = spawnChild('hold-store.ts', [dir]);
    const ready = await child.waitFor('ready');
    const childPid = Number(ready.split(' ')[1]);
    expect(childPid).toBe(child.process.pid);

    const before = await snapshotDir(dir);
    await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(StoreLockedError);
    await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(new RegExp(`pid ${childPid}\\b`));
    expect(await snapshotDir(dir)).toEqual(before);
    expect(await readDataDirLock(dir)).toMatchObject({ pid: childPid, alive: true });

    // Reads still work without the lock.
    const reader = await LowdbRunStore.open({ dataDir: dir, lock: false });
    expect((await reader.list()).map((e) => e.runId)).toEqual(['r_held']);
    await reader.close();

    await child.kill();
    expect(await readDataDirLock(dir)).toMatchObject({ pid: childPid, alive: false });
    const store = await LowdbRunStore.open({ dataDir: dir });
    expect(await readDataDirLock(dir)).toMatchObject({ pid: process.pid, alive: true });
    expect((await store.get('r_held'))?.run.runId).toBe('r_held');
    await store.close();
    expect(await readDataDirLock(dir)).toBeNull();
  });
});
