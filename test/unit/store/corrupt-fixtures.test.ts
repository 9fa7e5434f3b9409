/**
 * P5: a corrupt or unknown store file fails closed and can be recovered. For each file of the
 * negative corpus: reading it through the store gives StoreCorruptError, the bytes survive in
 * `<file>.corrupt-<ts>`, nothing is written in its place, and the store refuses to start until the
 * operator resolves it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, StoreCorruptError } from '../../../src/shared/errors.ts';
import { LowdbRunStore } from '../../../src/store/lowdb-run-store.ts';
import { makeTmpDir } from './tmp-dir.ts';

const fixturesDir = new URL('../../fixtures/store/', import.meta.url).pathname;
const negative = readdirSync(join(fixturesDir, 'negative')).filter((name) => name.endsWith('.json')).sort();
const RUN_ID = 'r_fixture';

describe('negative store fixtures (P5)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTmpDir());
  });
  afterEach(() => cleanup());

  it('has the whole corpus', () => {
    expect(negative).toEqual(
      expect.arrayContaining(['empty.json', 'truncated.json', 'future-schema.json', 'missing-schema.json', 'prototype-key.json', 'wrong-types.json', 'extra-key.json']),
    );
  });

  const runFile = (): string => join(dir, 'runs', `${RUN_ID}.json`);
  const quarantineFiles = async (): Promise<string[]> => (await readdir(join(dir, 'runs'))).filter((n) => n.startsWith(`${RUN_ID}.json.corrupt-`));

  it.each(negative)('%s: get → StoreCorruptError, bytes quarantined, nothing written in its place', async (name) => {
    const bytes = readFileSync(join(fixturesDir, 'negative', name), 'utf8');
    await (await LowdbRunStore.open({ dataDir: dir })).close(); // an index that does not name the run
    await copyFile(join(fixturesDir, 'negative', name), runFile());

    const store = await LowdbRunStore.open({ dataDir: dir });
    try {
      await expect(store.get(RUN_ID)).rejects.toThrow(StoreCorruptError);
      await expect(store.get(RUN_ID)).rejects.toMatchObject({ code: ErrorCode.StoreCorrupt });
      await expect(store.update(RUN_ID, () => undefined)).rejects.toThrow(StoreCorruptError);
    } finally {
      await store.close();
    }
    const quarantined = await quarantineFiles();
    expect(quarantined).toHaveLength(1);
    expect(await readFile(join(dir, 'runs', quarantined[0]!), 'utf8')).toBe(bytes);
    await expect(readFile(runFile())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

    // Fails closed at the next start, and recovers once the operator moves the file out.
    await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(StoreCorruptError);
    await unlink(join(dir, 'runs', quarantined[0]!));
    const recovered = await LowdbRunStore.open({ dataDir: dir });
    expect(await recovered.get(RUN_ID)).toBeUndefined();
    await recovered.close();
  });

  it.each(negative)('%s: found while rebuilding the index → open throws StoreCorruptError', async (name) => {
    const bytes = readFileSync(join(fixturesDir, 'negative', name), 'utf8');
    await (await LowdbRunStore.open({ dataDir: dir })).close();
    await unlink(join(dir, 'index.jsonl'));
    await copyFile(join(fixturesDir, 'negative', name), runFile());
    await expect(LowdbRunStore.open({ dataDir: dir })).rejects.toThrow(StoreCorruptError);
    const quarantined = await quarantineFiles();
    expect(quarantined).toHaveLength(1);
    expect(await readFile(join(dir, 'runs', quarantined[0]!), 'utf8')).toBe(bytes);
    await expect(readFile(runFile())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('the historical v1 fixture loads through the store', async () => {
    await (await LowdbRunStore.open({ dataDir: dir })).close();
    await unlink(join(dir, 'index.jsonl'));
    await copyFile(join(fixturesDir, 'historical', 'v1-minimal.json'), runFile());
    const store = await LowdbRunStore.open({ dataDir: dir });
    expect((await store.get(RUN_ID))?.run.runId).toBe(RUN_ID);
    expect((await store.list()).map((e) => e.runId)).toEqual([RUN_ID]);
    await store.close();
  });
});
