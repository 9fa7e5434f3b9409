/**
 * P1 + P2 + P20 under random kills: a bot process runs the `crash` scenario back to back
 * (approving every gate as it comes, and settling what the previous process left) and is SIGKILLed
 * at a random moment, KILL_LOOP_ITERATIONS times (default 50) over one tmp world.
 *
 * Each iteration uses one child, in two phases:
 * 1. recovery (never killed): it opens the store (taking over the dead child's stale lock,
 *    removing temp files), runs `harness.recover()` and waits until no run is queued or running,
 *    reports, and pauses. While it pauses, the test checks the world (below).
 * 2. soak: on the test's word it settles leftovers (approves pending gates; resolves
 *    needs_attention by the ledger rule: skip when the ledger holds the key, retry when not) and
 *    starts new runs; it is SIGKILLed 20–400 ms (seeded PRNG) after it says it is ready.
 * (Recovery and soak share a process only to halve the tsx start-ups; the recovery phase is never
 * interrupted, so it is exactly "a restart after a crash".) After the last kill, a plain `recover`
 * child runs to the end and exits, releasing the lock.
 *
 * Checked after every recovery: every run file and `.bak` validates and replays to its state
 * (P2, P20); the store's own report (every 10th iteration and at the end) finds nothing corrupt
 * or quarantined; no `*.tmp` is left, and the garbage decoy temp files planted before the restart
 * were removed without being read; the lock holds the new pid (the stale one was taken over); no
 * run is queued or running; each non-idempotent ledger key appears at most once; a run's key is
 * missing only while the run waits for the ledger step's approval or needs attention on it; every
 * completed run has its key; the audit chain (audit.jsonl) verifies.
 *
 * Reproduce a failure with KILL_LOOP_SEED=<seed from the message>; soak longer with
 * KILL_LOOP_ITERATIONS=500; KILL_LOOP_REPORT=<file> writes what the loop did (finished runs,
 * retries, skips, stale temp files found after kills …) as JSON, since tests may not print.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStoreReport } from '../../../src/store/lowdb-run-store.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import { ChildPool, type RunningChild, describeChild } from './child-process.ts';
import {
  type CrashFixture,
  LEDGER_STEP,
  WRITE_STEP,
  countKeys,
  ledgerKeys,
  lockPid,
  makeCrashFixture,
  readAudit,
  readStore,
  storeTmpFiles,
} from './fixture.ts';

const ITERATIONS = Number(process.env['KILL_LOOP_ITERATIONS'] ?? 50);
const SEED = Number(process.env['KILL_LOOP_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
/** More scenarios than any kill window can finish, so every kill lands inside the work. */
const SOAK_RUNS = '100000';
const REPORT_FILE = process.env['KILL_LOOP_REPORT'];

/** mulberry32: a tiny seeded PRNG, so a failing kill schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe(`random SIGKILL loop (P1, P2, P20), ${ITERATIONS} iterations`, () => {
  let pool: ChildPool;
  let fx: CrashFixture;
  /** The child of the current iteration, killed at teardown if an assertion failed mid-iteration. */
  let current: RunningChild | undefined;

  beforeAll(async () => {
    pool = new ChildPool(2);
    fx = await makeCrashFixture('crash-kill-');
  });

  afterAll(async () => {
    await current?.kill().catch(() => undefined);
    await pool.close();
    await fx.cleanup();
  });

  it('resumes, never duplicates a non-idempotent effect, and keeps every store file valid', async () => {
    expect(Number.isInteger(ITERATIONS) && ITERATIONS > 0, 'KILL_LOOP_ITERATIONS').toBe(true);
    const random = prng(SEED);
    const cache = new Map<string, { signature: string; doc: RunDoc }>();
    const evidence = { finished: 0, settled: 0, retried: 0, skipped: 0, staleTemps: 0, attention: 0, waitingOnLedger: 0 };

    /** The invariants that must hold whenever no process is working (see the file comment). */
    const checkWorld = async (context: string, storeView: boolean): Promise<void> => {
      const { docs, problems } = await readStore(fx.runsDir, cache);
      expect(problems, context).toEqual([]);
      if (storeView) {
        // The store's own full read (uncached, so only every few iterations: it grows with the runs).
        const report = await loadStoreReport(fx.dataDir);
        expect(report.corrupt.map((c) => `${c.file}: ${c.error.message}`), context).toEqual([]);
        expect(report.quarantined, context).toEqual([]);
        expect([...docs.keys()].sort(), `${context}: the store's own view`).toEqual([...report.ok].sort());
      }
      const temps = await storeTmpFiles(fx);
      const hint = temps.some((name) => name.includes('.json.bak.')) ? ' (a .bak temp link: see bak-temp-leak.test.ts)' : '';
      expect(temps, `${context}: *.tmp left after the restart${hint}`).toEqual([]);

      const audit = await readAudit(fx.dataDir);
      expect(audit.verify, `${context}: the audit chain`).toMatchObject({ ok: true, tornLines: [] });

      const counts = countKeys(await ledgerKeys(fx.ledgerFile));
      for (const [key, n] of counts) {
        expect(n, `${context}: non-idempotent ledger key ${key} executed ${n} times`).toBe(1);
        expect(docs.has(key.slice(0, key.lastIndexOf(':'))), `${context}: ledger key ${key} of an unknown run`).toBe(true);
      }
      for (const doc of docs.values()) {
        const { runId, status } = doc.run;
        const where = `${context}: run ${runId} (${status})`;
        expect(['completed', 'waiting_approval', 'needs_attention'], where).toContain(status);
        if (status === 'needs_attention') {
          // Only the non-idempotent step may need a human; the idempotent write re-runs by itself.
          expect(doc.run.attention?.stepId, where).toBe(LEDGER_STEP);
          evidence.attention += 1;
        }
        const hasKey = counts.has(`${runId}:${LEDGER_STEP}`);
        if (status === 'completed') expect(hasKey, `${where}: completed without its ledger effect`).toBe(true);
        if (!hasKey && status === 'waiting_approval') {
          const pending = doc.run.gates.find((g) => g.status === 'pending');
          expect(pending?.stepId, `${where}: waits on a later step although the ledger step never ran`).toBe(LEDGER_STEP);
          evidence.waitingOnLedger += 1;
        }
        if (status === 'waiting_approval') {
          expect(doc.run.gates.filter((g) => g.status === 'pending').map((g) => g.stepId), where).toHaveLength(1);
          expect([LEDGER_STEP, WRITE_STEP], where).toContain(doc.run.gates.find((g) => g.status === 'pending')?.stepId);
        }
      }
    };

    let deadPid: number | null = null;
    for (let i = 0; i < ITERATIONS; i += 1) {
      const context = `seed=${SEED} iteration=${i}`;
      if (deadPid !== null) {
        // The world exactly as the kill left it: every file already valid, the lock stale.
        const atCrash = await readStore(fx.runsDir, cache);
        expect(atCrash.problems, `${context}: right after the kill`).toEqual([]);
        expect(await lockPid(fx.dataDir), `${context}: the dead child's lock`).toBe(deadPid);
        evidence.staleTemps += (await storeTmpFiles(fx)).length;
        // Decoys: garbage temp files named like the store's own. Reading one would break the restart.
        const victim = [...atCrash.docs.keys()][0] ?? 'r_decoy';
        await writeFile(join(fx.runsDir, `.${victim}.json.99999.${randomBytes(6).toString('hex')}.tmp`), '{"schemaVersion": 1, "run": ');
        await writeFile(join(fx.dataDir, `.index.jsonl.99999.${randomBytes(6).toString('hex')}.tmp`), '{"runId": "r_decoy"');
      }

      const child = pool.start({ argv: ['recover-soak', SOAK_RUNS], env: fx.env(), cwd: fx.dir, interactive: true, timeoutMs: 30_000 });
      current = child;
      await child.waitForLine((line) => line['event'] === 'recovered');
      expect(await lockPid(fx.dataDir), `${context}: the restarted child took over the lock`).toBe(child.pid);
      await checkWorld(context, i % 10 === 0);

      child.sendLast('soak');
      await child.waitForLine((line) => line['ready'] === true);
      await sleep(20 + Math.floor(random() * 381));
      const killed = await child.kill();
      expect(killed.signal, `${context}: ${describeChild(killed)}`).toBe('SIGKILL');
      expect(killed.stderr, `${context}: ${describeChild(killed)}`).toBe('');
      for (const line of killed.lines) {
        if (line['event'] === 'finished') evidence.finished += 1;
        if (line['event'] === 'settled') evidence.settled += 1;
        if (line['event'] === 'resolved' && line['action'] === 'retry') evidence.retried += 1;
        if (line['event'] === 'resolved' && line['action'] === 'skip') evidence.skipped += 1;
      }
      deadPid = child.pid;
    }

    const last = await pool.run({ argv: ['recover'], env: fx.env(), cwd: fx.dir });
    expect(last.code, `seed=${SEED} final recover: ${describeChild(last)}`).toBe(0);
    expect(last.stderr, `seed=${SEED} final recover: ${describeChild(last)}`).toBe('');
    await checkWorld(`seed=${SEED} final`, true);
    expect(await lockPid(fx.dataDir), `seed=${SEED}: the lock is released at a clean exit`).toBeNull();
    if (REPORT_FILE !== undefined) await writeFile(REPORT_FILE, `${JSON.stringify({ seed: SEED, iterations: ITERATIONS, ...evidence }, null, 2)}\n`);
    // The loop really worked between kills (how much depends on the machine; that it did, does not).
    const final = await readStore(fx.runsDir, cache);
    expect(evidence.finished + evidence.settled, `seed=${SEED} ${JSON.stringify(evidence)}`).toBeGreaterThan(0);
    expect([...final.docs.values()].filter((d) => d.run.status === 'completed').length, `seed=${SEED}`).toBeGreaterThan(0);
  }, 120_000 + ITERATIONS * 2_000);
});
