/**
 * Issue A, item 4: wall time of `harness runs --json` as a process, with 1,000 runs stored. The CLI
 * is spawned the way `npm run harness` runs it (`node --import tsx src/cli/main.ts`), read-only (no
 * lock), against a seeded data directory. To show where the time goes, the same is measured for
 * `node -e ""`, `node --import tsx -e ""` (tsx startup) and for `runCli` in-process (the command
 * itself, modules already loaded). Issue A sets no number for it: the figure is reported.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { runCli } from '../../src/cli/run-cli.ts';
import { seededCopy } from '../lib/seed.ts';
import { fmtMs, summarize } from '../lib/stats.ts';
import type { BenchContext, BenchResult, Benchmark } from '../lib/types.ts';
import { REPO_ROOT, makeWorld } from '../lib/world.ts';

/** tsx's loader by absolute URL, so the child can run from the tmp world (no node_modules there). */
const TSX = import.meta.resolve('tsx');
const CLI_MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
/** The module `main.ts` imports (all commands and their dependencies), loaded without running anything. */
const RUN_CLI_URL = pathToFileURL(join(REPO_ROOT, 'src', 'cli', 'run-cli.ts')).href;

/** The child's environment: nothing from the developer's shell that `loadConfig` would read. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Spawns `node <args>` in `cwd`; resolves with the wall time and stdout, rejects on a non-zero exit. */
function timeProcess(args: readonly string[], cwd: string): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 500)}`));
      else resolve({ ms, stdout: Buffer.concat(out).toString('utf8') });
    });
  });
}

function runCount(stdout: string): number {
  const parsed = JSON.parse(stdout) as { count?: unknown; data?: { count?: unknown } };
  const count = parsed.count ?? parsed.data?.count;
  if (typeof count !== 'number') throw new Error(`harness runs --json printed no count: ${stdout.slice(0, 200)}`);
  return count;
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const stored = ctx.quick ? 100 : 1000;
  const n = ctx.quick ? 3 : 10;
  const warmup = 2;
  const world = await makeWorld();
  try {
    const seed = await seededCopy(world.dataDir, { terminal: stored }, ctx);
    const cliArgs = ['--import', TSX, CLI_MAIN, 'runs', '--json', '--config', world.configPath];
    const measure = async (args: readonly string[], check?: (stdout: string) => void): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < warmup + n; i += 1) {
        const { ms, stdout } = await timeProcess(args, world.dir);
        check?.(stdout);
        if (i >= warmup) times.push(ms);
      }
      return times;
    };
    const checkCount = (stdout: string): void => {
      const count = runCount(stdout);
      if (count !== stored) throw new Error(`harness runs --json listed ${count} runs, expected ${stored}`);
    };
    // Interleaving would be fairer to noise, but each series is short; the baselines go first.
    const bare = summarize(await measure(['-e', '']));
    const tsx = summarize(await measure(['--import', TSX, '-e', '']));
    const load = summarize(await measure(['--import', TSX, '--input-type=module', '-e', `await import(${JSON.stringify(RUN_CLI_URL)});`]));
    const cli = summarize(await measure(cliArgs, checkCount));

    const inProcess: number[] = [];
    for (let i = 0; i < warmup + n; i += 1) {
      let stdout = '';
      const io = { stdout: (text: string) => void (stdout += text), stderr: () => undefined, cwd: world.dir, env: {} };
      const t0 = performance.now();
      const code = await runCli(['runs', '--json', '--config', world.configPath], io);
      const ms = performance.now() - t0;
      if (code !== 0) throw new Error(`runCli(runs --json) exited ${code}`);
      checkCount(stdout);
      if (i >= warmup) inProcess.push(ms);
    }
    const cmd = summarize(inProcess);
    return {
      measured: `p50 ${fmtMs(cli.p50)} wall: node ${fmtMs(bare.p50)}, tsx startup +${fmtMs(tsx.p50 - bare.p50)}, loading the CLI modules +${fmtMs(load.p50 - tsx.p50)}, the command itself ${fmtMs(cmd.p50)} (in-process)`,
      met: null,
      rows: [
        { label: `harness runs --json (process, ${stored.toLocaleString('en-US')} runs)`, summary: cli },
        { label: 'node -e "" (process)', summary: bare },
        { label: 'node --import tsx -e "" (process)', summary: tsx },
        { label: 'node --import tsx, import src/cli/run-cli.ts only (process)', summary: load },
        { label: 'runCli(runs --json) in-process (modules loaded)', summary: cmd },
        { label: 'tsx startup (p50 of node --import tsx -e "" minus node -e "")', value: fmtMs(tsx.p50 - bare.p50) },
        { label: 'loading the CLI modules (p50 of the import-only process minus tsx startup)', value: fmtMs(load.p50 - tsx.p50) },
        { label: 'rest of the process (p50 wall minus the import-only process: config, store open, listing, output, exit)', value: fmtMs(cli.p50 - load.p50) },
      ],
      notes: [
        `${n} samples per series after ${warmup} warm-up runs (tsx's transpile cache is warm, as for an operator running commands in a row).`,
        `Spawned as \`node --import <tsx> ${'src/cli/main.ts'} runs --json --config <tmp>/config.yaml\` from the tmp world with a minimal environment (PATH, HOME, TMPDIR), read-only (no lock).`,
        `${seed.describe()}; copied for this benchmark in ${fmtMs(seed.copyMs)}.`,
        'No numeric target in issue A: reported, not judged.',
      ],
    };
  } finally {
    await world.cleanup();
  }
}

export const benchmark: Benchmark = {
  name: 'cli-runs-json',
  issue: 'A',
  order: 4,
  title: '`harness runs --json` process wall time with 1,000 runs stored, with tsx startup shown separately',
  target: 'none set (report p50 over ~10 runs; tsx startup cost separately)',
  run,
};
