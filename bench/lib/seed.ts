/**
 * Seeding stored runs for the store benchmarks. Seeded runs are copies of real documents: one
 * reference run is driven to completion (and one run created but not started) through the real
 * harness, and each copy only gets a new run id and creation time, so every seeded file is a run
 * the store wrote itself, byte for byte the same shape.
 *
 * Seeding is never what a benchmark measures. It goes through the store API (`store.create`,
 * durable) while that keeps the projected total within a time budget; past it, the rest is written
 * with plain `writeFile` (no fsync) and the index is rebuilt by a writable open, which is the
 * store's own slow path. The method and the time it took are returned so a benchmark can say so.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LowdbRunStore, RUNS_DIR } from '../../src/store/lowdb-run-store.ts';
import { INDEX_FILE } from '../../src/store/run-index.ts';
import { RunDoc } from '../../src/store/run-schema.ts';
import { fmtMs } from './stats.ts';
import type { BenchContext } from './types.ts';
import { APPROVER, REPORT_TASK, REQUESTER, makeWorld } from './world.ts';

/** Real documents to copy: a completed reference run and a queued (created, never driven) one. */
export interface Templates {
  completed: RunDoc;
  queued: RunDoc;
}

let templates: Promise<Templates> | undefined;

/** Drives one reference run to completion in a scratch world (once per process). */
export function loadTemplates(): Promise<Templates> {
  templates ??= (async () => {
    const world = await makeWorld('harness-bench-template-');
    try {
      const runtime = await world.runtime();
      try {
        const { harness } = runtime;
        const gated = await harness.startRun({ task: REPORT_TASK, requestedBy: REQUESTER });
        const done = await harness.approve({ runId: gated.run.runId, actor: APPROVER });
        if (done.doc.run.status !== 'completed') throw new Error(`template run ended ${done.doc.run.status}, expected completed`);
        const queued = await harness.createRun({ task: REPORT_TASK, requestedBy: REQUESTER });
        return { completed: done.doc, queued };
      } finally {
        await runtime.close();
      }
    } finally {
      await world.cleanup();
    }
  })();
  return templates;
}

/** Seeded run ids are `r_seed<kind><index>`: valid, sortable, and never the template's id. */
export function seedRunId(kind: 't' | 'q', index: number): string {
  return `r_seed${kind}${index.toString().padStart(6, '0')}`;
}

/** A copy of `template` as run `runId`, created `createdAt` (every occurrence of the old id replaced). */
export function cloneAs(template: RunDoc, runId: string, createdAt: number): RunDoc {
  const text = JSON.stringify(template).split(template.run.runId).join(runId);
  const doc = RunDoc.parse(JSON.parse(text));
  doc.run.createdAt = createdAt;
  doc.run.updatedAt = Math.max(doc.run.updatedAt, createdAt);
  return doc;
}

/** What to seed. */
export interface SeedPlan {
  /** Completed runs. */
  terminal: number;
  /** Queued runs (what `recover()` picks up). */
  queued?: number;
  /** Durable seeding stops once the projected total passes this (default 60 s). */
  durableBudgetMs?: number;
}

/** How seeding went. */
export interface SeedReport {
  runs: number;
  /** Runs created through `store.create` (durable, fsync on). */
  durableRuns: number;
  /** Runs written with plain writeFile, then indexed by a rebuild at open. */
  plainRuns: number;
  /** Mean cost of one durable `store.create` while seeding (ms), when any was made. */
  durableMsPerRun: number | null;
  /** Total seeding time including the final index compaction (ms). */
  ms: number;
  /**
   * The writable open that ended seeding: it had to read every seeded run file, either to re-check
   * the index tail (every run was created since the last start) or to rebuild a missing index.
   */
  reopen: { ms: number; how: 'tail re-check' | 'index rebuild' };
  /** One line for a benchmark's notes. */
  describe(): string;
}

/**
 * Seeds `dataDir` (which must hold no store yet) and leaves it closed, lock released, with a
 * compacted index: a clean shutdown, the state a restart finds.
 */
export async function seedRuns(dataDir: string, plan: SeedPlan, ctx: BenchContext): Promise<SeedReport> {
  const start = performance.now();
  const { completed, queued } = await loadTemplates();
  const base = Date.now() - 86_400_000;
  const docs: RunDoc[] = [];
  for (let i = 0; i < plan.terminal; i += 1) docs.push(cloneAs(completed, seedRunId('t', i), base + i));
  for (let i = 0; i < (plan.queued ?? 0); i += 1) docs.push(cloneAs(queued, seedRunId('q', i), base + plan.terminal + i));

  const budget = plan.durableBudgetMs ?? 60_000;
  const store = await LowdbRunStore.open({ dataDir });
  let durableRuns = 0;
  let durableMs = 0;
  try {
    for (const doc of docs) {
      const t0 = performance.now();
      await store.create(doc);
      durableMs += performance.now() - t0;
      durableRuns += 1;
      // Decide after a sample: stop durable seeding when it would blow the budget.
      if (durableRuns >= 50 && (durableMs / durableRuns) * docs.length > budget) break;
      if (durableRuns % 1000 === 0) ctx.log(`  seeded ${durableRuns}/${docs.length} runs durably`);
    }
  } finally {
    await store.close();
  }
  const rest = docs.slice(durableRuns);
  if (rest.length > 0) {
    ctx.log(
      `  durable create costs ${fmtMs(durableMs / durableRuns)}/run (projected ${fmtMs((durableMs / durableRuns) * docs.length)} for ${docs.length}); writing ${rest.length} runs plainly`,
    );
    const runsDir = join(dataDir, RUNS_DIR);
    await mkdir(runsDir, { recursive: true });
    for (const doc of rest) {
      await writeFile(join(runsDir, `${doc.run.runId}.json`), `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
    }
    await rm(join(dataDir, INDEX_FILE), { force: true });
  }
  // A writable open re-checks every run the index tail names (or rebuilds the index from every run
  // file) and compacts it; closing it is a clean shutdown.
  const reopenStart = performance.now();
  await (await LowdbRunStore.open({ dataDir })).close();
  const reopenMs = performance.now() - reopenStart;
  const ms = performance.now() - start;
  const durableMsPerRun = durableRuns > 0 ? durableMs / durableRuns : null;
  return {
    runs: docs.length,
    durableRuns,
    plainRuns: rest.length,
    durableMsPerRun,
    ms,
    reopen: { ms: reopenMs, how: rest.length === 0 ? 'tail re-check' : 'index rebuild' },
    describe() {
      const how =
        rest.length === 0
          ? `${durableRuns} × store.create (durable) in ${fmtMs(durableMs)} (${fmtMs(durableMsPerRun ?? Number.NaN)}/run)`
          : `${durableRuns} × store.create (durable, ${fmtMs(durableMsPerRun ?? Number.NaN)}/run, projected ${fmtMs((durableMsPerRun ?? 0) * docs.length)} for all, over the ${fmtMs(budget)} budget), ` +
            `then ${rest.length} with plain writeFile`;
      return (
        `seeded ${docs.length} runs in ${fmtMs(ms)} (seeding, not measured): ${how}, ` +
        `then a writable open that read every run file (${rest.length === 0 ? 'index tail re-check' : 'index rebuild'}) and compacted the index in ${fmtMs(reopenMs)}`
      );
    },
  };
}

/** A pristine seeded data directory, seeded once per process and plan. */
interface CachedSeed {
  dir: string;
  dataDir: string;
  report: SeedReport;
}

const seedCache = new Map<string, Promise<CachedSeed>>();

/**
 * A fresh copy of a data directory seeded with `plan`, at `targetDataDir` (which must not exist).
 * The first call for a plan seeds a pristine directory (kept until {@link disposeSeeds}); later
 * calls copy it, so benchmarks that need the same 10,000 runs pay for seeding once. The copy is
 * of a closed store (lock released, index compacted) and is plain file copying, part of seeding.
 */
export async function seededCopy(targetDataDir: string, plan: SeedPlan, ctx: BenchContext): Promise<SeedReport & { copyMs: number }> {
  const key = JSON.stringify([plan.terminal, plan.queued ?? 0, plan.durableBudgetMs ?? null]);
  let cached = seedCache.get(key);
  if (!cached) {
    cached = (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'harness-bench-seed-'));
      const dataDir = join(dir, 'data');
      ctx.log(`  seeding ${plan.terminal} terminal + ${plan.queued ?? 0} queued runs...`);
      try {
        const report = await seedRuns(dataDir, plan, ctx);
        ctx.log(`  ${report.describe()}`);
        return { dir, dataDir, report };
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    })();
    seedCache.set(key, cached);
    cached.catch(() => seedCache.delete(key));
  }
  const seed = await cached;
  const start = performance.now();
  await cp(seed.dataDir, targetDataDir, { recursive: true, errorOnExist: true, force: false });
  const copyMs = performance.now() - start;
  return { ...seed.report, copyMs, describe: () => `${seed.report.describe()} [seeded once per bench process and copied]` };
}

/** Removes every pristine seeded directory. Call once when all benchmarks are done. */
export async function disposeSeeds(): Promise<void> {
  const seeds = [...seedCache.values()];
  seedCache.clear();
  for (const seed of await Promise.allSettled(seeds)) {
    if (seed.status === 'fulfilled') await rm(seed.value.dir, { recursive: true, force: true });
  }
}
