/**
 * Pins a temp-file leak found by the kill loop (P2: no stray `*.tmp` after a restart).
 *
 * `DurableJsonFile.keepBackup` (src/store/durable-json-file.ts) links the current file to a temp
 * name and renames that over `<file>.bak`. A SIGKILL after that rename and before the new version
 * is renamed over `<file>` leaves `<file>.bak` and `<file>` as two hard links to one inode. On the
 * next write, the temp link is a third link to the same inode, and POSIX `rename()` between two
 * links of the same file "does nothing, and returns a success status" (rename(2)): the temp file
 * `.<id>.json.bak.<pid>.<hex>.tmp` stays behind, in a directory the running process owns, until
 * the next start-up sweeps it.
 *
 * The test builds exactly the on-disk state such a kill leaves (no named crash point sits inside a
 * store write, so a real kill would land there only at random), then lets a clean child write the
 * run again and exit.
 */
import { link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildPool, describeChild } from './child-process.ts';
import { APPROVERS, type CrashFixture, lockPid, makeCrashFixture, readStore, storeTmpFiles } from './fixture.ts';

const RUN_ID = 'bakleak';

describe('store write after a kill inside the previous write', () => {
  let pool: ChildPool;
  let fx: CrashFixture;

  beforeAll(async () => {
    pool = new ChildPool(1);
    fx = await makeCrashFixture('crash-bak-');
  });

  afterAll(async () => {
    await pool.close();
    await fx.cleanup();
  });

  it('leaves no temp file when <run>.json.bak already is a hard link of <run>.json', async () => {
    const started = await pool.run({ argv: ['start', 'crash bak leak', RUN_ID], env: fx.env(), cwd: fx.dir });
    expect(started.code, describeChild(started)).toBe(0);
    expect(await storeTmpFiles(fx)).toEqual([]);

    // What a SIGKILL between keepBackup's rename and the data rename leaves on disk.
    const file = join(fx.runsDir, `${RUN_ID}.json`);
    await unlink(`${file}.bak`);
    await link(file, `${file}.bak`);

    const approved = await pool.run({ argv: ['approve', RUN_ID, APPROVERS[0]], env: fx.env(), cwd: fx.dir });
    expect(approved.code, describeChild(approved)).toBe(0);
    expect(approved.final?.runs?.[0]?.status).toBe('waiting_approval');
    expect(await lockPid(fx.dataDir)).toBeNull();
    expect((await readStore(fx.runsDir)).problems).toEqual([]);
    expect(await storeTmpFiles(fx), 'temp files left by a clean process').toEqual([]);
  });
});
