/**
 * `npm run bench [-- --only <name>[,<name>] ...] [--quick] [--write | --no-write] [--list]`
 *
 * Runs every benchmark in bench/benchmarks/*.ts (each exports `benchmark: Benchmark`), prints a
 * table, records the results in bench/results.json and rewrites BENCHMARKS.md from them. A full
 * run writes; `--quick` prints only unless `--write` is given; `--only` replaces the entries of the
 * benchmarks it ran and keeps the others. Exits 1 when a benchmark crashed (a missed target is a
 * result, not a failure), 2 on bad arguments.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { machineNotes } from './lib/machine.ts';
import { disposeSeeds } from './lib/seed.ts';
import { type RecordedResult, renderConsole, renderMarkdown, statusOf } from './lib/report.ts';
import { fmtMs } from './lib/stats.ts';
import type { BenchContext, Benchmark } from './lib/types.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = join(BENCH_DIR, '..');
const RESULTS_FILE = join(BENCH_DIR, 'results.json');
const MARKDOWN_FILE = join(REPO_ROOT, 'BENCHMARKS.md');

function isBenchmark(value: unknown): value is Benchmark {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  return (
    typeof b['name'] === 'string' &&
    typeof b['issue'] === 'string' &&
    typeof b['title'] === 'string' &&
    typeof b['target'] === 'string' &&
    typeof b['run'] === 'function'
  );
}

/** Every registered benchmark, ordered by issue, then `order`, then name. */
async function discover(): Promise<Benchmark[]> {
  const dir = join(BENCH_DIR, 'benchmarks');
  const files = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort();
  const found: Benchmark[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { benchmark?: unknown };
    if (!isBenchmark(mod.benchmark)) throw new Error(`bench/benchmarks/${file} does not export a valid \`benchmark\``);
    if (found.some((b) => b.name === (mod.benchmark as Benchmark).name)) throw new Error(`duplicate benchmark name ${mod.benchmark.name}`);
    found.push(mod.benchmark);
  }
  return found.sort((a, b) => a.issue.localeCompare(b.issue) || (a.order ?? 100) - (b.order ?? 100) || a.name.localeCompare(b.name));
}

async function readRecorded(): Promise<RecordedResult[]> {
  try {
    const parsed = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as { results?: RecordedResult[] };
    return Array.isArray(parsed.results) ? parsed.results : [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function usage(): string {
  return 'usage: npm run bench -- [--only <name>[,<name>]]... [--quick] [--write | --no-write] [--list]\n';
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: {
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        write: { type: 'boolean' },
        'no-write': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage()}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(usage());
    return 0;
  }
  const all = await discover();
  if (args.list) {
    for (const b of all) process.stdout.write(`${b.name.padEnd(22)} issue ${b.issue}  target: ${b.target}\n`);
    return 0;
  }
  const only = (args.only ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  const unknown = only.filter((name) => !all.some((b) => b.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = only.length === 0 ? all : all.filter((b) => only.includes(b.name));
  const quick = args.quick;
  const write = args['no-write'] ? false : (args.write ?? !quick);

  const log = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };
  const ctx: BenchContext = { quick, log };
  log(`measuring the machine (fsync latency under the tmp dir)...`);
  const machine = await machineNotes();
  const date = new Date().toISOString();
  const fresh: RecordedResult[] = [];
  for (const b of selected) {
    log(`[${b.name}] running (issue ${b.issue}${quick ? ', quick' : ''})...`);
    const start = performance.now();
    let result: RecordedResult['result'] = null;
    let error: string | undefined;
    try {
      result = await b.run(ctx);
      if (result.met === false && !result.missed) throw new Error(`benchmark ${b.name} missed its target without saying why (missed is required)`);
    } catch (caught) {
      result = null;
      error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
    }
    const durationMs = performance.now() - start;
    const recorded: RecordedResult = {
      name: b.name,
      issue: b.issue,
      order: b.order ?? 100,
      title: b.title,
      target: b.target,
      command: `npm run bench -- --only ${b.name}${quick ? ' --quick' : ''}`,
      date,
      mode: quick ? 'quick' : 'full',
      durationMs,
      machine,
      result,
      ...(error === undefined ? {} : { error: error.split('\n').slice(0, 3).join(' ') }),
    };
    fresh.push(recorded);
    log(`[${b.name}] ${statusOf(recorded)} in ${fmtMs(durationMs)}: ${result?.measured ?? error ?? ''}`);
  }

  process.stdout.write(`\n${renderConsole(fresh)}`);
  if (write) {
    const byName = new Map((await readRecorded()).map((r) => [r.name, r]));
    for (const r of fresh) byName.set(r.name, r);
    const known = new Set(all.map((b) => b.name));
    const merged = [...byName.values()]
      .filter((r) => known.has(r.name))
      .sort((a, b) => a.issue.localeCompare(b.issue) || a.order - b.order || a.name.localeCompare(b.name));
    await writeFile(RESULTS_FILE, `${JSON.stringify({ generatedBy: 'bench/run.ts', results: merged }, null, 2)}\n`);
    await writeFile(MARKDOWN_FILE, renderMarkdown(merged));
    log(`\nwrote ${MARKDOWN_FILE} and ${RESULTS_FILE}`);
  } else {
    log(`\n(not written: ${quick ? '--quick' : '--no-write'}; add --write to record these numbers)`);
  }
  return fresh.some((r) => r.result === null) ? 1 : 0;
}

try {
  process.exitCode = await main();
} finally {
  await disposeSeeds();
}
