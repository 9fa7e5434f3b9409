/**
 * Issue F, item 3 (and B's egress rule "429 handled via Retry-After without losing or duplicating a
 * post"): a burst of reference runs (mention → card → Approve → result) while the local workspace
 * answers a fixed share of the bot's Web API calls with 429 and `Retry-After`. Afterwards every
 * thread is checked by post key: exactly one status message, one card per gate (decided, buttons
 * gone), one result; nothing lost, nothing twice. The same burst without faults first gives the
 * delay the storm adds.
 */
import { performance } from 'node:perf_hooks';
import type { LocalSlack } from '../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../src/local-workspace/workspace-state.ts';
import { APPROVER, CHANNEL, ThreadWatcher, faultShare, isOutcome, journalQuiet, loadNote, loadNow, makeSlackWorld, mentionUntilCard, postKey, spawnBot, startBenchSlack } from '../lib/slack-bench.ts';
import { type Summary, fmtMs, summarize } from '../lib/stats.ts';
import type { BenchContext, BenchResult, Benchmark } from '../lib/types.ts';

/** Every EVERY-th Web API call of the bot is answered 429 (25 %). */
const EVERY = 4;
const RETRY_AFTER_SEC = 1;

interface Burst {
  threads: string[];
  runMs: Summary;
  wallMs: number;
  failures: string[];
}

/** `n` reference runs started at once; each card is approved as soon as it appears. */
async function burst(slack: LocalSlack, watcher: ThreadWatcher, n: number): Promise<Burst> {
  const threads: string[] = [];
  const times: number[] = [];
  const failures: string[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      const t0 = performance.now();
      try {
        const { thread, card } = await mentionUntilCard(slack, watcher, 300_000);
        threads.push(thread);
        await slack.clickButton(APPROVER, CHANNEL, card.ts, 'gate_approve');
        await watcher.waitFor(CHANNEL, thread, isOutcome, 'the result', 300_000);
        times.push(performance.now() - t0);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }),
  );
  return { threads, runMs: summarize(times), wallMs: performance.now() - start, failures };
}

function hasButtons(message: StoredMessage): boolean {
  return (message.blocks ?? []).some((b) => (b as { type?: string }).type === 'actions');
}

/** Keyed posts per thread: what is missing, what is there twice, and cards left with live buttons. */
function audit(slack: LocalSlack, threads: readonly string[]): { lost: string[]; duplicates: string[]; liveCards: string[]; failures: string[] } {
  const lost: string[] = [];
  const duplicates: string[] = [];
  const liveCards: string[] = [];
  const failures: string[] = [];
  for (const thread of threads) {
    const posts = slack.state.replies(CHANNEL, thread).filter((m) => m.botId !== undefined);
    const byKey = new Map<string, StoredMessage[]>();
    for (const m of posts) {
      const key = postKey(m) ?? '(unkeyed)';
      byKey.set(key, [...(byKey.get(key) ?? []), m]);
    }
    for (const [key, list] of byKey) if (list.length > 1) duplicates.push(`${thread} ${key} ×${String(list.length)}`);
    if (!byKey.has('status')) lost.push(`${thread} status`);
    if (!byKey.has('result')) lost.push(`${thread} result`);
    if (byKey.has('failure')) failures.push(thread);
    const cards = [...byKey].filter(([key]) => key.startsWith('gate:'));
    if (cards.length === 0) lost.push(`${thread} gate card`);
    for (const [key, list] of cards) if (list.some(hasButtons)) liveCards.push(`${thread} ${key}`);
  }
  return { lost, duplicates, liveCards, failures };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const n = ctx.quick ? 6 : 20;
  const loadAtStart = loadNow();
  const world = await makeSlackWorld();
  const slack = await startBenchSlack();
  const watcher = new ThreadWatcher(slack);
  let stopBot: (() => Promise<void>) | undefined;
  try {
    const bot = await spawnBot(world, slack, 'socket');
    stopBot = () => bot.stop();
    await journalQuiet(slack, 1500);

    ctx.log(`  baseline burst of ${String(n)} runs, no faults...`);
    const baseline = await burst(slack, watcher, n);
    await journalQuiet(slack, 2500);

    ctx.log(`  storm burst of ${String(n)} runs, every ${String(EVERY)}th Web API call answered 429 Retry-After ${String(RETRY_AFTER_SEC)} s...`);
    const callsBefore = slack.journal.calls().length;
    const share = faultShare(slack.faults, EVERY, { status: 429, retryAfterSec: RETRY_AFTER_SEC }, ['apps.connections.open']);
    let storm: Burst;
    try {
      storm = await burst(slack, watcher, n);
      // Keep the storm on until the bot's trailing updates (coalesced status, cards) are through too.
      await journalQuiet(slack, 2500);
    } finally {
      share.stop();
    }
    await journalQuiet(slack, 2500);
    const stormCalls = slack.journal.calls().slice(callsBefore);
    const limited = stormCalls.filter((e) => e.status === 429);
    const limitedBy = new Map<string, number>();
    for (const e of limited) limitedBy.set(e.method, (limitedBy.get(e.method) ?? 0) + 1);

    const b = audit(slack, baseline.threads);
    const s = audit(slack, storm.threads);
    const unexpected = slack.unexpectedCalls;
    const problems = [
      ...(storm.failures.length > 0 ? [`${String(storm.failures.length)} storm runs did not finish (${storm.failures[0] ?? ''})`] : []),
      ...(s.lost.length > 0 ? [`lost posts: ${s.lost.slice(0, 5).join(', ')}`] : []),
      ...(s.duplicates.length > 0 ? [`duplicate posts: ${s.duplicates.slice(0, 5).join(', ')}`] : []),
      ...(s.liveCards.length > 0 ? [`cards still showing buttons after the decision: ${s.liveCards.slice(0, 5).join(', ')}`] : []),
      ...(s.failures.length > 0 ? [`runs that posted a failure: ${String(s.failures.length)}`] : []),
      ...(unexpected.length > 0 ? [`loud failures in the local workspace: ${unexpected.map((u) => u.kind).join(', ')}`] : []),
    ];
    const delayP50 = storm.runMs.p50 - baseline.runMs.p50;
    const result: BenchResult = {
      measured:
        `${String(storm.threads.length)}/${String(n)} runs finished under ${String(limited.length)} × 429; lost ${String(s.lost.length)}, duplicated ${String(s.duplicates.length)}, live cards ${String(s.liveCards.length)}; ` +
        `run time p50 ${fmtMs(storm.runMs.p50)} vs ${fmtMs(baseline.runMs.p50)} without faults (+${fmtMs(delayP50)}), p95 ${fmtMs(storm.runMs.p95)} vs ${fmtMs(baseline.runMs.p95)}`,
      met: problems.length === 0,
      rows: [
        { label: 'storm: mention → result per run', summary: storm.runMs },
        { label: 'baseline (no faults): mention → result per run', summary: baseline.runMs },
        { label: 'burst wall time', value: `storm ${fmtMs(storm.wallMs)}, baseline ${fmtMs(baseline.wallMs)}` },
        {
          label: '429s served during the storm',
          value: `${String(limited.length)} of ${String(stormCalls.length)} Web API calls (${((limited.length / Math.max(1, stormCalls.length)) * 100).toFixed(0)}%): ${[...limitedBy].map(([m, c]) => `${m} ${String(c)}`).join(', ')}`,
        },
        { label: 'storm: lost / duplicate keyed posts', value: `${String(s.lost.length)} / ${String(s.duplicates.length)}${s.lost.length + s.duplicates.length > 0 ? ` (${[...s.lost, ...s.duplicates].slice(0, 5).join('; ')})` : ''}` },
        { label: 'storm: cards still live after approval', value: String(s.liveCards.length) },
        { label: 'baseline: lost / duplicate keyed posts', value: `${String(b.lost.length)} / ${String(b.duplicates.length)}` },
        { label: 'runs not finished (storm / baseline)', value: `${String(storm.failures.length)} / ${String(baseline.failures.length)}` },
      ],
      notes: [
        `N = ${String(n)} reference runs started at once by mentions (report scenario: search → read → write gate); each card approved by an approver as soon as it appears; then every thread checked by the harness_post key of each bot message (status, gate:<id>, result).`,
        `Storm: the local workspace answers every ${String(EVERY)}th Web API call of the bot (all methods but apps.connections.open) with HTTP 429 and Retry-After: ${String(RETRY_AFTER_SEC)}, from the first mention until the bot has been quiet for 2.5 s after the last result. The bot uses its production WebClient settings (429s waited out, bounded retries).`,
        'The baseline burst runs first on the same bot; the delay is storm minus baseline at the same percentile.',
        "Why a few 429s cost seconds: @slack/web-api 8's WebClient pauses its whole request queue for the Retry-After of any 429 (WebClient.js: requestQueue.pause()), so each 429 holds every run's Slack calls for 1 s, not only the limited call's.",
        'The bot runs in a child process in Socket Mode, configured as in production; the machine is shared, so absolute times are noisy.',
        loadNote(loadAtStart),
      ],
    };
    if (problems.length > 0) {
      result.missed = {
        reason: problems.join('; '),
        fix: 'Every post must go through the keyed publisher with a recorded intent before the call and a lookup by metadata key before a re-post; a 429 must be waited out inside the same attempt (Retry-After), never turned into a fresh post.',
      };
    }
    return result;
  } finally {
    watcher.close();
    await stopBot?.().catch(() => undefined);
    await slack.close();
    await world.cleanup();
  }
}

export const benchmark: Benchmark = {
  name: 'slack-429-storm',
  issue: 'F',
  order: 12,
  title: 'A burst of reference runs while the local workspace answers 25% of the bot\'s Web API calls with 429 + Retry-After: lost and duplicate posts by key, and the delay the storm adds',
  target: 'no lost or duplicate message (keyed posts), every run finished; delay reported',
  run,
};
