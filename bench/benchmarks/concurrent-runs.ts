/**
 * Issue C: 1,000 concurrent scripted runs in one process — peak RSS (target < 500 MB) and the time
 * until all of them completed. The workload runs in a child process (this very file, started with
 * `CONCURRENT_RUNS_CHILD=1`), so the peak RSS is that of the workload alone, not of the benchmark
 * runner and the benchmarks before it.
 *
 * Each run is the bot's own stack from `createRuntime` (durable lowdb store, policy, the per-run
 * agent-tool MCP server every run gets, the monitor, the pool): role `researcher`, the `summarise`
 * scenario of `scenarios/default.yaml` (workspace_search → workspace_read → answer; no gate).
 * Two settings: the pool wide open (`budgets.maxConcurrentRuns` = N: all runs in flight at once)
 * and the default cap (8: the rest queued in FIFO order, started as slots free).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchResult, Benchmark } from '../lib/types.ts';
import { makeWorld } from '../lib/world.ts';

const SELF = fileURLToPath(import.meta.url);
const TSX = import.meta.resolve('tsx');
const TASK = 'summarise the notes on durable execution';
const TARGET_BYTES = 500 * 1024 * 1024;

interface ChildReport {
  runs: number;
  cap: number;
  completed: number;
  statuses: Record<string, number>;
  /** Creation of all runs until the last one completed. */
  wallMs: number;
  peakRssBytes: number;
  baselineRssBytes: number;
  maxQueued: number;
  maxOpenSessions: number;
}

/** The workload: N runs started at once over one runtime; prints one JSON line. */
async function child(): Promise<void> {
  const n = Number(process.env['RUNS']);
  const cap = Number(process.env['CAP']);
  const world = await makeWorld('harness-bench-conc-');
  try {
    const config = { ...world.config, budgets: { ...world.config.budgets, maxConcurrentRuns: cap, maxActiveRunsPerUser: n, maxActiveRunsPerChannel: n } };
    const { createRuntime } = await import('../../src/app/create-runtime.ts');
    const runtime = await createRuntime(config, { lock: true });
    const { harness } = runtime;
    let maxQueued = 0;
    let maxOpenSessions = 0;
    const sample = setInterval(() => {
      maxQueued = Math.max(maxQueued, harness.poolStats().waiting);
      maxOpenSessions = Math.max(maxOpenSessions, runtime.subagents.provider.openSessions);
    }, 20);
    global.gc?.();
    const baselineRssBytes = process.memoryUsage().rss;
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const doc = await harness.createRun({ task: TASK, role: 'researcher', requestedBy: { userId: 'U_REQUESTER', source: 'bench' }, runId: `r_bench${String(i).padStart(6, '0')}` });
        return doc.run.runId;
      }),
    );
    const ends = await Promise.all(
      ids.map(
        (runId) =>
          new Promise<string>((resolve) => {
            const check = (status: string): boolean => ['completed', 'failed', 'cancelled', 'waiting_approval', 'needs_attention'].includes(status);
            const off = harness.onCommit(({ doc }) => {
              if (doc.run.runId === runId && check(doc.run.status)) {
                off();
                resolve(doc.run.status);
              }
            });
            harness.runner.drive(runId).catch(() => undefined);
          }),
      ),
    );
    const wallMs = performance.now() - t0;
    clearInterval(sample);
    const statuses: Record<string, number> = {};
    for (const status of ends) statuses[status] = (statuses[status] ?? 0) + 1;
    const report: ChildReport = {
      runs: n,
      cap,
      completed: statuses['completed'] ?? 0,
      statuses,
      wallMs,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      baselineRssBytes,
      maxQueued,
      maxOpenSessions,
    };
    await runtime.close();
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await world.cleanup();
  }
}

function runChild(runs: number, cap: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', TSX, SELF], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', TMPDIR: process.env['TMPDIR'] ?? '/tmp', CONCURRENT_RUNS_CHILD: '1', RUNS: String(runs), CAP: String(cap) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`concurrent-runs child exited ${code}: ${err.slice(0, 800)}`));
      else resolve(JSON.parse(line) as ChildReport);
    });
  });
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function run(ctx: BenchContext): Promise<BenchResult> {
  const n = ctx.quick ? 100 : 1000;
  ctx.log(`[concurrent-runs] ${n} runs, pool wide open`);
  const open = await runChild(n, n);
  ctx.log(`[concurrent-runs] ${n} runs, default cap 8`);
  const capped = await runChild(n, 8);
  for (const r of [open, capped]) {
    if (r.completed !== r.runs) throw new Error(`only ${r.completed} of ${r.runs} runs completed (cap ${r.cap}): ${JSON.stringify(r.statuses)}`);
  }
  const met = open.peakRssBytes < TARGET_BYTES;
  return {
    measured: `${n} concurrent runs: peak RSS ${mb(open.peakRssBytes)}, all completed in ${secs(open.wallMs)} (cap 8: ${mb(capped.peakRssBytes)}, ${secs(capped.wallMs)})`,
    met,
    ...(met
      ? {}
      : {
          missed: {
            reason: `peak RSS ${mb(open.peakRssBytes)} with ${open.maxOpenSessions} agent-tool MCP sessions open at once`,
            fix: 'create each run\'s agent-tool MCP session only when it first calls one of those tools (offer the static specs before), or lower budgets.maxConcurrentRuns',
          },
        }),
    rows: [
      { label: `peak RSS, ${n} runs at once (maxConcurrentRuns ${n})`, value: mb(open.peakRssBytes) },
      { label: 'RSS before the runs were created', value: mb(open.baselineRssBytes) },
      { label: 'time until every run completed', value: secs(open.wallMs) },
      { label: 'most agent-tool MCP sessions open at once', value: String(open.maxOpenSessions) },
      { label: `peak RSS, ${n} runs, default cap 8 (queued FIFO)`, value: mb(capped.peakRssBytes) },
      { label: 'time until every run completed (cap 8)', value: secs(capped.wallMs) },
      { label: 'longest queue (cap 8)', value: String(capped.maxQueued) },
    ],
    notes: [
      'Each setting runs in its own child process (node --import tsx), so its peak RSS (getrusage maxrss) is the workload\'s alone, including tsx and module loading.',
      `Runs: role researcher, task "${TASK}" (the summarise scenario: 2 tool calls and an answer, ~10 durable commits each, fsync per commit), durable lowdb store in a tmp dir.`,
      'Every run gets its own in-process agent-tool MCP server (3 read-only tools for this role), closed when the run ends.',
    ],
  };
}

export const benchmark: Benchmark = {
  name: 'concurrent-runs',
  issue: 'C',
  order: 2,
  title: '1,000 concurrent scripted runs in one process: peak RSS and completion time',
  target: 'peak RSS < 500 MB (completion time reported)',
  run,
};

if (process.env['CONCURRENT_RUNS_CHILD'] === '1' && process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  child().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
