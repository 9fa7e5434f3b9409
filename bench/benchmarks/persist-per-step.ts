/**
 * Issue A, target 2: the cost of persisting one step does not grow with the number of stored runs.
 * Three stores are open at once (10, 1,000 and 10,000 completed runs stored); the same fresh runs
 * are stepped in each, round-robin across the stores, so disk noise lands on all three alike. One
 * step = one `model_called` event committed through the real write path (committer → reducer →
 * `store.update`: validate, durable run-file write, no index line since no listing field changes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCommitter } from '../../src/orchestrator/commit.ts';
import type { RunEventInput } from '../../src/orchestrator/event-schemas.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { LowdbRunStore } from '../../src/store/lowdb-run-store.ts';
import { MeteredFs, describeOps } from '../lib/metered-fs.ts';
import { cloneAs, loadTemplates, seededCopy } from '../lib/seed.ts';
import { fmtMs, summarize } from '../lib/stats.ts';
import type { BenchContext, BenchResult, Benchmark, MetricRow } from '../lib/types.ts';

const MAX_SPREAD = 1.2;

function stepEvent(turn: number): RunEventInput {
  return {
    event: 'model_called',
    detail: {
      turn,
      text: `step ${turn}: a short answer of the size a model gives between tool calls.`,
      toolCalls: [],
      usage: { inputTokens: 420, outputTokens: 24 },
      durationMs: 3,
      model: 'scripted',
    },
  };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const sizes = ctx.quick ? [10, 100, 1000] : [10, 1000, 10_000];
  const runsPerStore = ctx.quick ? 5 : 20;
  const stepsPerRun = ctx.quick ? 6 : 10;
  const warmupSteps = 2;
  const dir = await mkdtemp(join(tmpdir(), 'harness-bench-persist-'));
  const stores: { size: number; store: LowdbRunStore; fs: MeteredFs; samples: number[]; runIds: string[] }[] = [];
  const notes: string[] = [];
  try {
    for (const size of sizes) {
      const dataDir = join(dir, `data-${size}`);
      const seed = await seededCopy(dataDir, { terminal: size }, ctx);
      notes.push(`${size} runs: ${seed.describe()}; copied for this benchmark in ${fmtMs(seed.copyMs)}.`);
      const fs = new MeteredFs();
      stores.push({ size, store: await LowdbRunStore.open({ dataDir, fs }), fs, samples: [], runIds: [] });
    }
    const { queued } = await loadTemplates();
    const committers = new Map(stores.map((s) => [s, createCommitter(s.store, systemClock, (v) => v, () => undefined)]));
    const now = Date.now();
    for (const s of stores) {
      for (let r = 0; r < runsPerStore; r += 1) {
        const runId = `r_step${String(r).padStart(3, '0')}`;
        await s.store.create(cloneAs(queued, runId, now + r));
        await committers.get(s)?.commit(runId, [{ event: 'run_started', detail: {} }]);
        s.runIds.push(runId);
      }
    }
    for (let step = 0; step < warmupSteps + stepsPerRun; step += 1) {
      if (step === warmupSteps) for (const s of stores) s.fs.reset();
      for (let r = 0; r < runsPerStore; r += 1) {
        for (const s of stores) {
          const committer = committers.get(s);
          const runId = s.runIds[r];
          if (!committer || runId === undefined) throw new Error('bench setup is inconsistent');
          const t0 = performance.now();
          await committer.commit(runId, [stepEvent(step)]);
          if (step >= warmupSteps) s.samples.push(performance.now() - t0);
        }
      }
    }
    const summaries = stores.map((s) => ({ size: s.size, summary: summarize(s.samples), ops: describeOps(s.fs.snapshot(), s.samples.length) }));
    const p50s = summaries.map((x) => x.summary.p50);
    const spread = Math.max(...p50s) / Math.min(...p50s);
    const p95s = summaries.map((x) => x.summary.p95);
    const spread95 = Math.max(...p95s) / Math.min(...p95s);
    const rows: MetricRow[] = summaries.map((x) => ({ label: `${x.size.toLocaleString('en-US')} runs stored: one step`, summary: x.summary }));
    rows.push({ label: 'p50 spread (max/min)', value: `${spread.toFixed(2)}× (p95 spread ${spread95.toFixed(2)}×)` });
    for (const x of summaries) rows.push({ label: `${x.size.toLocaleString('en-US')} runs: store fs calls per step`, value: x.ops });
    const met = spread <= MAX_SPREAD;
    const result: BenchResult = {
      measured: `p50 ${summaries.map((x) => `${fmtMs(x.summary.p50)} @${x.size.toLocaleString('en-US')}`).join(', ')}; spread ${spread.toFixed(2)}×`,
      met,
      rows,
      notes: [
        `${runsPerStore} fresh runs per store × ${stepsPerRun} steps (after ${warmupSteps} warm-up steps each) = ${runsPerStore * stepsPerRun} samples per size, interleaved across the three stores.`,
        ...notes,
      ],
    };
    if (!met) {
      const same = new Set(summaries.map((x) => x.ops)).size === 1;
      result.missed = {
        reason: same
          ? `the store made the same filesystem calls per step at every size (${summaries[0]?.ops ?? ''}), so the spread is in the time of those calls (directory size or disk noise), not in work that grows with the store.`
          : `the filesystem calls per step differ between sizes: ${summaries.map((x) => `${x.size}: ${x.ops}`).join('; ')}.`,
        fix: same
          ? 'Re-run to separate noise from a trend; if it persists, shard runs/ into subdirectories (e.g. by id prefix) so a directory fsync and rename touch a small directory.'
          : 'Make the step write path independent of the number of stored runs (no listing, no index rewrite per step).',
      };
    }
    return result;
  } finally {
    for (const s of stores) await s.store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const benchmark: Benchmark = {
  name: 'persist-per-step',
  issue: 'A',
  order: 2,
  title: 'Persist cost of one step (committer → store.update, durable) with 10, 1,000 and 10,000 runs stored',
  target: `flat: p50 spread ≤ ${MAX_SPREAD}× between 10, 1,000 and 10,000 stored runs`,
  run,
};
