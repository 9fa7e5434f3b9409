/**
 * Issue B (and F, item 3 "Slack writes per run"): Slack Web API calls per reference run — mention →
 * gate card → Approve → result — counted from the local workspace's call journal, by method. The
 * real bot runs in a child process in Socket Mode (the production default), as `npm start` builds it.
 */
import { performance } from 'node:perf_hooks';
import type { JournalEntry } from '../../src/local-workspace/call-journal.ts';
import { APPROVER, CHANNEL, ThreadWatcher, isOutcome, journalQuiet, loadNote, loadNow, makeSlackWorld, mentionUntilCard, spawnBot, startBenchSlack } from '../lib/slack-bench.ts';
import { fmtMs, summarize } from '../lib/stats.ts';
import type { BenchContext, BenchResult, Benchmark } from '../lib/types.ts';

/** Methods that change something in Slack (a "write"), as opposed to reads and the connection. */
const WRITES = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'chat.delete',
  'reactions.add',
  'reactions.remove',
  'views.open',
  'views.update',
  'views.publish',
  'assistant.threads.setStatus',
]);

interface RunCalls {
  toCard: JournalEntry[];
  afterClick: JournalEntry[];
  ms: number;
}

function byMethod(entries: readonly JournalEntry[], runs: number): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.method, (counts.get(e.method) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([method, n]) => `${method} ${Number.isInteger(n / runs) ? String(n / runs) : (n / runs).toFixed(1)}`)
    .join(', ');
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 2 : 10;
  const quietMs = 2500;
  const loadAtStart = loadNow();
  const world = await makeSlackWorld();
  const slack = await startBenchSlack();
  const watcher = new ThreadWatcher(slack);
  let stopBot: (() => Promise<void>) | undefined;
  try {
    const bot = await spawnBot(world, slack, 'socket');
    stopBot = () => bot.stop();
    await journalQuiet(slack, quietMs);
    const startupCalls = slack.journal.calls().length;

    const one = async (): Promise<RunCalls> => {
      const t0 = performance.now();
      const before = slack.journal.calls().length;
      const { thread, card } = await mentionUntilCard(slack, watcher);
      await journalQuiet(slack, quietMs);
      const atClick = slack.journal.calls().length;
      await slack.clickButton(APPROVER, CHANNEL, card.ts, 'gate_approve');
      await watcher.waitFor(CHANNEL, thread, isOutcome, 'the result', 60_000);
      const ms = performance.now() - t0;
      await journalQuiet(slack, quietMs);
      const calls = slack.journal.calls();
      return { toCard: calls.slice(before, atClick), afterClick: calls.slice(atClick), ms };
    };

    ctx.log('  warm-up run (not counted)...');
    const warm = await one();
    const measured: RunCalls[] = [];
    for (let i = 0; i < runs; i += 1) measured.push(await one());

    const all = measured.flatMap((r) => [...r.toCard, ...r.afterClick]);
    const totals = measured.map((r) => r.toCard.length + r.afterClick.length);
    const writes = measured.map((r) => [...r.toCard, ...r.afterClick].filter((e) => WRITES.has(e.method)).length);
    const failed = all.filter((e) => e.status !== 200 || (e.response as { ok?: boolean } | null)?.ok === false);
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const spread = (xs: readonly number[]): string => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${mean(xs).toFixed(1)} (min ${String(Math.min(...xs))}, max ${String(Math.max(...xs))})`);
    const warmTotal = warm.toCard.length + warm.afterClick.length;

    return {
      measured: `${spread(totals)} Web API calls per reference run, ${spread(writes)} of them writes: ${byMethod(all, runs)}`,
      met: null,
      rows: [
        { label: 'calls per run', value: spread(totals) },
        { label: 'writes per run (posts, updates, reactions, views, thread status)', value: spread(writes) },
        { label: 'by method, per run', value: byMethod(all, runs) },
        { label: 'mention → card (until the bot is quiet)', value: `${byMethod(measured.flatMap((r) => r.toCard), runs)}` },
        { label: 'Approve → result (until the bot is quiet)', value: `${byMethod(measured.flatMap((r) => r.afterClick), runs)}` },
        { label: 'calls answered with an error', value: failed.length === 0 ? 'none' : failed.map((e) => `${e.method} ${String(e.status)}`).join(', ') },
        { label: 'warm-up run (first after start, not counted)', value: `${String(warmTotal)} calls: ${byMethod([...warm.toCard, ...warm.afterClick], 1)}` },
        { label: 'startup (auth.test, Socket Mode connection, reconciliation)', value: `${String(startupCalls)} calls` },
        { label: 'run wall time, mention → result (includes the wait for quiet before the click)', summary: summarize(measured.map((r) => r.ms)) },
      ],
      notes: [
        `N = ${String(runs)} reference runs in sequence after one warm-up run: a mention of "write a short report on durable execution" in #general (search → read → write, the write waits for approval), the card's Approve clicked by an approver as soon as the bot went quiet, until the result is in the thread.`,
        `Counted from the local workspace's call journal between the mention and the bot going quiet (no call for ${fmtMs(quietMs)}) after the result, so coalesced status updates and App Home refreshes caused by the run are included. The bot runs in a child process in Socket Mode, configured as in production.`,
        'Issue B asks for the count and the list; it sets no numeric target, so the figure is reported, not judged.',
        loadNote(loadAtStart),
      ],
    };
  } finally {
    watcher.close();
    await stopBot?.().catch(() => undefined);
    await slack.close();
    await world.cleanup();
  }
}

export const benchmark: Benchmark = {
  name: 'slack-calls-per-run',
  issue: 'B',
  order: 11,
  title: 'Slack Web API calls per reference run (mention → gate card → Approve → result), by method, from the local workspace call journal',
  target: 'count and list (no numeric target in issue B)',
  run,
};
