import { appendFile, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, InvalidStateError, InvariantError, StoreCorruptError, StoreLockedError } from '../../../src/shared/errors.ts';
import { DurableJsonFile } from '../../../src/store/durable-json-file.ts';
import { type FsCall, RecordingFs, nodeFs } from '../../../src/store/fs-port.ts';
import { closeLow, openLow } from '../../../src/store/low-registry.ts';
import { LowdbRunStore, loadStoreReport } from '../../../src/store/lowdb-run-store.ts';
import { migrateRunDoc } from '../../../src/store/migrations.ts';
import { parseIndexText } from '../../../src/store/run-index.ts';
import { makeRunDoc, RUN_DOC_TIME } from '../../support/run-doc-factory.ts';
import { runStoreContract } from './run-store-contract.ts';
import { makeTmpDir, snapshotDir } from './tmp-dir.ts';

runStoreContract('LowdbRunStore', async () => {
  const tmp = await makeTmpDir();
  const store = await LowdbRunStore.open({ dataDir: tmp.dir });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await tmp.cleanup();
    },
  };
});

async function indexLines(dataDir: string): Promise<string[]> {
  return (await readFile(join(dataDir, 'index.jsonl'), 'utf8')).split('\n').filter((line) => line !== '');
}

describe('LowdbRunStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const open: LowdbRunStore[] = [];
  const openStore = async (options: Partial<Parameters<typeof LowdbRunStore.open>[0]> = {}): Promise<LowdbRunStore> => {
    const store = await LowdbRunStore.open({ dataDir: dir, ...options });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTmpDir());
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await cleanup();
  });

  describe('layout and persistence', () => {
    it('writes runs/<runId>.json, index.jsonl and harness.lock, and reloads them after a restart', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.update('r_a', (draft) => {
        draft.run.status = 'completed';
        draft.run.result = 'ok';
      });
      expect((await readdir(dir)).sort()).toEqual(['harness.lock', 'index.jsonl', 'runs']);
      const onDisk = migrateRunDoc(JSON.parse(await readFile(join(dir, 'runs', 'r_a.json'), 'utf8')));
      expect(onDisk.run.result).toBe('ok');
      const before = await store.list();
      await store.close();
      expect(await readdir(dir)).not.toContain('harness.lock');

      const reopened = await openStore();
      expect(await reopened.get('r_a')).toEqual(onDisk);
      expect(await reopened.list()).toEqual(before);
    });

    it('keeps the previous version as .bak', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.update('r_a', (draft) => {
        draft.run.usage.turns = 1;
      });
      await store.update('r_a', (draft) => {
        draft.run.usage.turns = 2;
      });
      const bak = migrateRunDoc(JSON.parse(await readFile(join(dir, 'runs', 'r_a.json.bak'), 'utf8')));
      expect(bak.run.usage.turns).toBe(1);
    });

    it('rejects a file that holds another run than its name says', async () => {
      const store = await openStore();
      await store.close();
      await writeFile(join(dir, 'runs', 'r_a.json'), JSON.stringify(makeRunDoc({ run: { runId: 'r_b' } })));
      const reopened = await openStore();
      await expect(reopened.get('r_a')).rejects.toThrow(/holds run "r_b"/);
    });

    it('keeps working past its cache size, reloading evicted runs', async () => {
      const store = await openStore({ maxCachedRuns: 2 });
      for (const id of ['r_1', 'r_2', 'r_3', 'r_4']) await store.create(makeRunDoc({ run: { runId: id } }));
      for (const id of ['r_1', 'r_2', 'r_3', 'r_4']) {
        await store.update(id, (draft) => {
          draft.run.usage.turns += 1;
        });
      }
      for (const id of ['r_1', 'r_2', 'r_3', 'r_4']) expect((await store.get(id))?.run.usage.turns).toBe(1);
    });
  });

  describe('run ids (nothing is created for a bad or absent id)', () => {
    it.each(['../x', 'a/b', '', '..'])('%j: invalid_run_id and the data dir is byte-identical', async (bad) => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const before = await snapshotDir(dir);
      await expect(store.get(bad)).rejects.toMatchObject({ code: ErrorCode.InvalidRunId });
      await expect(store.update(bad, () => undefined)).rejects.toMatchObject({ code: ErrorCode.InvalidRunId });
      const doc = makeRunDoc();
      doc.run.runId = bad;
      await expect(store.create(doc)).rejects.toMatchObject({ code: ErrorCode.InvalidRunId });
      expect(await snapshotDir(dir)).toEqual(before);
      expect(await snapshotDir(join(dir, '..', 'x'))).toEqual({});
    });

    it('get of a valid but absent id returns undefined and writes nothing', async () => {
      const store = await openStore();
      const before = await snapshotDir(dir);
      expect(await store.get('r_nobody')).toBeUndefined();
      await expect(store.update('r_nobody', () => undefined)).rejects.toMatchObject({ code: ErrorCode.RunNotFound });
      expect(await snapshotDir(dir)).toEqual(before);
    });
  });

  describe('index', () => {
    it('appends no line for a non-index change and exactly one for a status change', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const afterCreate = await indexLines(dir);
      await store.update('r_a', (draft) => {
        draft.run.usage.turns = 4;
        draft.run.updatedAt += 10;
        draft.trace.push({ seq: 1, ts: RUN_DOC_TIME + 10, runId: 'r_a', event: 'run_started', detail: {} });
      });
      expect(await indexLines(dir)).toEqual(afterCreate);
      await store.update('r_a', (draft) => {
        draft.run.status = 'waiting_approval';
      });
      const afterStatus = await indexLines(dir);
      expect(afterStatus).toHaveLength(afterCreate.length + 1);
      expect(JSON.parse(afterStatus.at(-1)!)).toMatchObject({ runId: 'r_a', status: 'waiting_approval' });
    });

    it('a plain step write costs one file write and no index write', async () => {
      const fs = new RecordingFs(nodeFs);
      const store = await openStore({ fs });
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      fs.clear();
      await store.update('r_a', (draft) => {
        draft.run.usage.turns = 1;
      });
      expect(fs.calls.filter((c) => c.op === 'writeFileFlush' || c.op === 'appendFileFlush')).toHaveLength(1);
      expect(fs.calls.some((c) => c.path.endsWith('index.jsonl'))).toBe(false);
    });

    it('compacts at open: one header and one line per run', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      for (const status of ['waiting_approval', 'running', 'completed'] as const) {
        await store.update('r_a', (draft) => {
          draft.run.status = status;
        });
      }
      expect((await indexLines(dir)).length).toBeGreaterThan(2);
      await store.close();
      await openStore();
      const parsed = parseIndexText(await readFile(join(dir, 'index.jsonl'), 'utf8'));
      expect([...parsed.head.values()]).toMatchObject([{ runId: 'r_a', status: 'completed' }]);
      expect(parsed.tail).toEqual([]);
    });

    it('ignores a torn last line (a crash mid-append)', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.close();
      await appendFile(join(dir, 'index.jsonl'), '{"runId":"r_a","status":"compl');
      const reopened = await openStore();
      expect(await reopened.list()).toMatchObject([{ runId: 'r_a', status: 'running' }]);
      expect(parseIndexText(await readFile(join(dir, 'index.jsonl'), 'utf8')).torn).toBe(false);
    });

    it('trusts the run file over an index line appended before a crash', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const ahead = { ...(await store.list())[0]!, status: 'completed' };
      const ghost = { ...ahead, runId: 'r_ghost', status: 'running' };
      await store.close();
      // The intent lines of an update and of a create whose run file writes never happened.
      await appendFile(join(dir, 'index.jsonl'), `${JSON.stringify(ahead)}\n${JSON.stringify(ghost)}\n`);
      const reopened = await openStore();
      expect(await reopened.list()).toMatchObject([{ runId: 'r_a', status: 'running' }]);
    });

    it('rebuilds the index from run files when index.jsonl is deleted', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.create(makeRunDoc({ run: { runId: 'r_b', createdAt: RUN_DOC_TIME + 1 } }));
      await store.update('r_b', (draft) => {
        draft.run.status = 'completed';
        draft.run.updatedAt = RUN_DOC_TIME + 9;
      });
      const before = await store.list();
      await store.close();
      await unlink(join(dir, 'index.jsonl'));
      const reopened = await openStore();
      expect(await reopened.list()).toEqual(before);
      expect(parseIndexText(await readFile(join(dir, 'index.jsonl'), 'utf8')).head.size).toBe(2);
    });

    it('rebuilds an unreadable index', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const before = await store.list();
      await store.close();
      const lines = await indexLines(dir);
      await writeFile(join(dir, 'index.jsonl'), `${lines[0]}\nnot json\n`);
      expect(await (await openStore()).list()).toEqual(before);
    });

    it('lists from the index only, never opening run files', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.close();
      const fs = new RecordingFs(nodeFs);
      const reopened = await openStore({ fs });
      fs.clear();
      expect(await reopened.list()).toHaveLength(1);
      expect(fs.calls).toEqual([]);
    });
  });

  describe('durability and failure', () => {
    it('update resolves only after the run directory fsync (P3)', async () => {
      let releaseFsync: () => void = () => undefined;
      let blocking = false;
      const fs = new RecordingFs(nodeFs, {
        before: (call: FsCall) =>
          blocking && call.op === 'fsyncDir' ? new Promise<void>((resolve) => (releaseFsync = resolve)) : undefined,
      });
      const store = await openStore({ fs });
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      blocking = true;
      let resolved = false;
      const pending = store
        .update('r_a', (draft) => {
          draft.run.usage.turns = 1;
        })
        .then((value) => {
          resolved = true;
          return value;
        });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(fs.calls.at(-1)).toEqual({ op: 'fsyncDir', path: join(dir, 'runs') });
      expect(resolved).toBe(false);
      expect((await store.get('r_a'))?.run.usage.turns).toBe(0); // not visible before it is durable
      blocking = false;
      releaseFsync();
      await pending;
      expect(resolved).toBe(true);
      expect((await store.get('r_a'))?.run.usage.turns).toBe(1);
    });

    it('leaves state and listing unchanged when the run file write fails', async () => {
      let fail = false;
      const fs = new RecordingFs(nodeFs, {
        before: (call) => {
          if (fail && call.op === 'rename' && call.to?.endsWith('r_a.json')) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        },
      });
      const store = await openStore({ fs });
      const original = await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      fail = true;
      await expect(
        store.update('r_a', (draft) => {
          draft.run.status = 'completed';
        }),
      ).rejects.toMatchObject({ code: ErrorCode.StoreIo });
      expect(await store.get('r_a')).toEqual(original);
      expect((await store.list())[0]?.status).toBe('running');
      fail = false;
      await store.close();
      const reopened = await openStore();
      expect(await reopened.get('r_a')).toEqual(original);
      expect((await reopened.list())[0]?.status).toBe('running');
      expect((await readdir(join(dir, 'runs'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });

    it('removes stray *.tmp files at open without reading them (P2)', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.close();
      const strays = [join(dir, 'runs', '.r_a.json.999.deadbeef.tmp'), join(dir, 'runs', '.r_a.json.bak.999.beef.tmp'), join(dir, '.index.jsonl.999.cafe.tmp')];
      for (const stray of strays) await writeFile(stray, '{ torn');
      const fs = new RecordingFs(nodeFs);
      await openStore({ fs });
      expect((await readdir(join(dir, 'runs'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(fs.calls.filter((c) => c.op === 'readFile' && c.path.endsWith('.tmp'))).toEqual([]);
      expect(fs.calls.filter((c) => c.op === 'unlink').map((c) => c.path).sort()).toEqual([...strays].sort());
    });
  });

  describe('quarantine (P5)', () => {
    it('quarantines a corrupt run on get, offers the .bak, refuses to start until resolved, then recovers', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.update('r_a', (draft) => {
        draft.run.usage.turns = 1;
      });
      await store.close();
      await (await LowdbRunStore.open({ dataDir: dir })).close(); // compacts: r_a is no longer re-checked at open
      const file = join(dir, 'runs', 'r_a.json');
      await writeFile(file, '{"schemaVersion": 1, "run": ');

      const running = await openStore();
      const error = await running.get('r_a').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreCorruptError);
      expect((error as StoreCorruptError).details).toMatchObject({ file, bak: `${file}.bak` });
      const quarantinedTo = (error as StoreCorruptError).details['quarantinedTo'] as string;
      expect(await readFile(quarantinedTo, 'utf8')).toBe('{"schemaVersion": 1, "run": ');
      await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      // Fails closed for the rest of this process too: not "absent", not re-creatable.
      await expect(running.get('r_a')).rejects.toThrow(StoreCorruptError);
      await expect(running.create(makeRunDoc({ run: { runId: 'r_a' } }))).rejects.toThrow(StoreCorruptError);
      expect(running.quarantined()).toEqual([{ runId: 'r_a', files: [quarantinedTo], bak: `${file}.bak`, reason: expect.stringContaining('JSON') }]);
      await running.close();
      open.splice(open.indexOf(running), 1);

      await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(/quarantined run file.*r_a\.json\.bak/);
      await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(StoreCorruptError); // lock was released

      await rename(`${file}.bak`, file); // the operator restores the last good copy
      const recovered = await openStore();
      expect((await recovered.get('r_a'))?.run.usage.turns).toBe(0);
      expect(await recovered.list()).toMatchObject([{ runId: 'r_a', status: 'running' }]);
    });

    it('re-checks runs changed since the last compaction at open, so a corrupt one stops the start', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.close();
      const file = join(dir, 'runs', 'r_a.json');
      await writeFile(file, '{"schemaVersion": 99}');
      await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(/schemaVersion 99/);
      expect((await readdir(join(dir, 'runs'))).filter((n) => n.startsWith('r_a.json.corrupt-'))).toHaveLength(1);
    });

    it('quarantines corrupt files found while rebuilding the index and refuses to start', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_good' } }));
      await store.close();
      await writeFile(join(dir, 'runs', 'r_bad.json'), '');
      await unlink(join(dir, 'index.jsonl'));
      await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toMatchObject({
        code: ErrorCode.StoreCorrupt,
        details: { quarantined: [{ runId: 'r_bad', bak: null }] },
      });
      const report = await loadStoreReport(dir);
      expect(report.ok).toEqual(['r_good']);
      expect(report.quarantined).toHaveLength(1);
      await unlink(report.quarantined[0]!); // the operator accepts the loss
      const reopened = await openStore();
      expect((await reopened.list()).map((e) => e.runId)).toEqual(['r_good']);
    });
  });

  describe('loadStoreReport', () => {
    it('reports valid and corrupt run files without moving anything', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_ok' } }));
      await writeFile(join(dir, 'runs', 'r_bad.json'), '[]');
      await writeFile(join(dir, 'runs', '.r_ok.json.1.ab.tmp'), '');
      const before = await snapshotDir(dir);
      const report = await loadStoreReport(dir);
      expect(report.ok).toEqual(['r_ok']);
      expect(report.corrupt.map((c) => c.file)).toEqual([join(dir, 'runs', 'r_bad.json')]);
      expect(report.corrupt[0]?.error).toBeInstanceOf(StoreCorruptError);
      expect(report.strayTemps).toEqual([join(dir, 'runs', '.r_ok.json.1.ab.tmp')]);
      expect(await snapshotDir(dir)).toEqual(before);
    });
  });

  describe('single writer (P4)', () => {
    it('refuses a second writable store on the same directory in one process', async () => {
      await openStore();
      await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(StoreLockedError);
    });

    it('registers one Low per run file: a second one for the same path throws', async () => {
      const store = await openStore();
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const path = join(dir, 'runs', 'r_a.json');
      expect(() => openLow(new DurableJsonFile(path, { validate: migrateRunDoc }))).toThrow(InvariantError);
      await store.close();
      expect(() => openLow(new DurableJsonFile(path, { validate: migrateRunDoc }))).not.toThrow();
      closeLow(path);
    });
  });

  describe('read-only mode (lock: false)', () => {
    it('reads what the lock holder writes and refuses to write', async () => {
      const writer = await openStore();
      await writer.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const reader = await openStore({ lock: false });
      expect(reader.writable).toBe(false);
      await writer.update('r_a', (draft) => {
        draft.run.status = 'waiting_approval';
        draft.run.usage.turns = 3;
      });
      expect((await reader.get('r_a'))?.run.usage.turns).toBe(3);
      expect(await reader.list()).toMatchObject([{ runId: 'r_a', status: 'waiting_approval' }]);
      await expect(reader.create(makeRunDoc({ run: { runId: 'r_b' } }))).rejects.toThrow(InvalidStateError);
      await expect(reader.update('r_a', () => undefined)).rejects.toThrow(InvalidStateError);
      await reader.close();
      expect(await readdir(dir)).toContain('harness.lock'); // the reader never touched the writer's lock
    });

    it('touches nothing on disk: no folders, no tmp cleanup, no quarantine', async () => {
      const missing = join(dir, 'not-yet');
      const reader = await openStore({ dataDir: missing, lock: false });
      expect(await reader.list()).toEqual([]);
      expect(await reader.get('r_a')).toBeUndefined();
      expect(await snapshotDir(dir)).toEqual({});

      const writer = await openStore();
      await writer.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await writer.close();
      await writeFile(join(dir, 'runs', 'r_a.json'), '{');
      await writeFile(join(dir, 'runs', '.r_a.json.1.ab.tmp'), '');
      const before = await snapshotDir(dir);
      const ro = await openStore({ lock: false });
      await expect(ro.get('r_a')).rejects.toMatchObject({ code: ErrorCode.StoreCorrupt, details: { quarantinedTo: null } });
      await ro.list();
      expect(await snapshotDir(dir)).toEqual(before);
    });
  });
});
