/**
 * The benchmark contract. Every file in `bench/benchmarks/*.ts` exports `benchmark: Benchmark`;
 * `bench/run.ts` discovers them, runs them in order, prints a table and rewrites BENCHMARKS.md from
 * what they return. Targets are targets, never test assertions: a missed target is reported with
 * its reason and what would fix it, and the run still exits 0.
 */
import type { Summary } from './stats.ts';

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** `--quick`: smaller N, for checking that the benchmark itself works. Numbers are not comparable. */
  quick: boolean;
  /** Progress lines (stderr), so a long seeding step is visibly alive. */
  log(message: string): void;
}

/** One row of a benchmark's detail table: a latency summary, or a single value. */
export interface MetricRow {
  label: string;
  /** Latency distribution in milliseconds. */
  summary?: Summary;
  /** A single value with its unit already formatted (counts, sizes, seconds). */
  value?: string;
}

/** What a benchmark measured. Every number in it comes from the run, none is typed in. */
export interface BenchResult {
  /** One line: the figure compared with the target, e.g. "gate p50 1.9 ms, approve p50 1.2 ms". */
  measured: string;
  /** `null` for a benchmark whose issue sets no numeric target: the figure is reported, not judged. */
  met: boolean | null;
  /** Required when `met` is false: why (from the data) and what would fix it. */
  missed?: { reason: string; fix: string };
  rows: MetricRow[];
  /** Context a reader needs to trust the numbers (seeding method and time, N, caveats). */
  notes: string[];
}

/** A registered benchmark. */
export interface Benchmark {
  /** Kebab-case, unique; `npm run bench -- --only <name>`. */
  name: string;
  /** The issue whose target it checks ("A", "B", ...). */
  issue: string;
  /** Sort key inside an issue (lower first); defaults to 100. */
  order?: number;
  /** What it measures, one sentence. */
  title: string;
  /** The target in words, e.g. "≤ 5 ms p50 per phase". */
  target: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}
