/**
 * P2 (and the store half of P1): a writer is SIGKILLed at random moments, 40 times. After every
 * kill the next open takes the stale lock, removes stray temp files without reading them, and
 * finds every run file valid, every run listed with the status its file holds, and every
 * acknowledged update still there.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LowdbRunStore, loadStoreReport } from '../../../src/store/lowdb-run-store.ts';
import { spawnChild } from './child.ts';

const ITERATIONS = 40;

describe('kill -9 loop against the durable store (P2)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-kill-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`survives ${ITERATIONS} random SIGKILLs with valid files, a correct index and no lost acknowledged update`, async () => {
    const acked = new Map<string, number>();
    let killedBeforeReady = 0;
    let totalAcks = 0;
    for (let i = 0; i < ITERATIONS; i += 1) {
      const child = spawnChild('write-loop.ts', [dir]);
      if (i % 4 === 3) {
        // Kill anywhere in startup: lock takeover, temp cleanup, index compaction, first writes.
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 400));
      } else {
        await child.waitFor('ready');
        await new Promise((r) => setTimeout(r, Math.random() * 150));
      }
      if (!child.lines.includes('ready')) killedBeforeReady += 1;
      await child.kill();
      expect(child.stderr()).toBe('');
      for (const line of child.lines) {
        const [kind, runId, turns] = line.split(' ');
        if (kind !== 'ack' || runId === undefined) continue;
        totalAcks += 1;
        acked.set(runId, Math.max(acked.get(runId) ?? 0, Number(turns)));
      }

      // The files exactly as the crash left them.
      const crashed = await loadStoreReport(dir);
      expect(crashed.corrupt).toEqual([]);

      const store = await LowdbRunStore.open({ dataDir: dir });
      try {
        expect((await readdir(join(dir, 'runs'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        const report = await loadStoreReport(dir);
        expect(report.corrupt).toEqual([]);
        expect(report.quarantined).toEqual([]);
        const listed = new Map((await store.list()).map((entry) => [entry.runId, entry]));
        expect([...listed.keys()].sort()).toEqual([...report.ok].sort());
        for (const runId of report.ok) {
          const doc = await store.get(runId);
          expect(listed.get(runId)?.status).toBe(doc?.run.status);
          expect(doc?.run.usage.turns).toBeGreaterThanOrEqual(acked.get(runId) ?? 0);
        }
        for (const runId of acked.keys()) expect(listed.has(runId)).toBe(true);
      } finally {
        await store.close();
      }
    }
    expect(totalAcks).toBeGreaterThan(ITERATIONS); // the loop really wrote between kills
    expect(killedBeforeReady).toBeLessThan(ITERATIONS);
  });
});
