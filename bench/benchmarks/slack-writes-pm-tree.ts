/**
 * Issue C benchmark: Slack Web API writes for a PM run with 10 sub-agents (target ≤ 14, excluding
 * 429 retries), counted from the local workspace's call journal. The real bot runs in a child
 * process in Socket Mode with the production Slack settings (status updates coalesced to 1/s,
 * sub-agent posts after 3 s of life); a scripted PM drafts ten researchers (search → read →
 * summary, no approvals), awaits all ten and answers.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import type { JournalEntry } from '../../src/local-workspace/call-journal.ts';
import { CHANNEL, REQUESTER, ThreadWatcher, isOutcome, journalQuiet, makeSlackWorld, spawnBot, startBenchSlack } from '../lib/slack-bench.ts';
import { fmtMs, summarize } from '../lib/stats.ts';
import type { BenchContext, BenchResult, Benchmark } from '../lib/types.ts';
import { REPO_ROOT } from '../lib/world.ts';

const SUBAGENTS = 10;
const TARGET = 14;
const TASK = `pm: summarise the durable execution notes with ten researchers`;

/** Methods that change something in Slack (a "write"). */
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

/** The repo's scenarios plus `pm10`: draft ten researchers, list them, await all ten, answer. */
async function writeScenarios(dir: string): Promise<string> {
  const base = parse(await readFile(join(REPO_ROOT, 'scenarios', 'default.yaml'), 'utf8')) as { fallback: string; scenarios: unknown[] };
  const indexes = Array.from({ length: SUBAGENTS }, (_, i) => i);
  const pm10 = {
    name: 'pm10',
    match: '\\bwith ten researchers\\b',
    steps: [
      { calls: indexes.map(() => ({ name: 'draft_agent', args: { role: 'researcher', task: 'Summarise the workspace notes on {{keywords}}' } })) },
      { calls: [{ name: 'list_agents' }] },
      { calls: indexes.map((i) => ({ name: 'await_agent', args: { agent_id: `{{last.agents.${String(i)}.agent_id}}`, timeout_seconds: 600 } })) },
      { say: `Done: ${String(SUBAGENTS)} researchers reported.` },
    ],
    on_error: 'The team could not finish: {{last_error}}',
  };
  const path = join(dir, 'scenarios-pm10.yaml');
  await writeFile(path, stringify({ ...base, scenarios: [pm10, ...base.scenarios] }));
  return path;
}

function byMethod(entries: readonly JournalEntry[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.method, (counts.get(e.method) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([method, n]) => `${method} ${String(n)}`)
    .join(', ');
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 2 : 5;
  const quietMs = 2500;
  const world = await makeSlackWorld();
  const slack = await startBenchSlack();
  const watcher = new ThreadWatcher(slack);
  let stopBot: (() => Promise<void>) | undefined;
  try {
    const file = parse(await readFile(world.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    file['model'] = { ...file['model'], scenarios: await writeScenarios(world.dir) };
    file['agents'] = { ...file['agents'], maxChildrenPerRun: SUBAGENTS };
    await writeFile(world.configPath, stringify(file));
    const bot = await spawnBot(world, slack, 'socket');
    stopBot = () => bot.stop();
    await journalQuiet(slack, quietMs);

    const one = async (): Promise<{ calls: JournalEntry[]; ms: number }> => {
      const before = slack.journal.calls().length;
      const t0 = performance.now();
      const posted = await slack.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${TASK}`);
      const result = await watcher.waitFor(CHANNEL, posted.message.ts, isOutcome, 'the PM’s answer', 120_000);
      const ms = performance.now() - t0;
      if (!result.text.includes(`Done: ${String(SUBAGENTS)} researchers reported.`)) throw new Error(`the PM did not finish as scripted: ${result.text.slice(0, 300)}`);
      await journalQuiet(slack, quietMs);
      return { calls: slack.journal.calls().slice(before), ms };
    };

    ctx.log('  warm-up PM run (not counted)...');
    await one();
    const measured: { calls: JournalEntry[]; ms: number }[] = [];
    for (let i = 0; i < runs; i += 1) measured.push(await one());

    const retried = (e: JournalEntry): boolean => e.status === 429;
    const writes = measured.map((r) => r.calls.filter((e) => WRITES.has(e.method) && !retried(e)));
    const counts = writes.map((w) => w.length);
    const worst = Math.max(...counts);
    const retries = measured.reduce((n, r) => n + r.calls.filter(retried).length, 0);
    const spread = Math.min(...counts) === worst ? String(worst) : `${String(Math.min(...counts))}–${String(worst)}`;
    return {
      measured: `${spread} Slack writes per PM run with ${String(SUBAGENTS)} sub-agents (worst ${String(worst)}): ${byMethod(writes.at(-1) ?? [])}`,
      met: worst <= TARGET,
      ...(worst <= TARGET
        ? {}
        : {
            missed: {
              reason: `Every sub-agent gets its own status post (issue C: one post per sub-agent, with a Kill button), so a PM run with ${String(SUBAGENTS)} sub-agents makes at least ${String(SUBAGENTS)} chat.postMessage calls for the sub-agents alone, before the PM's reaction, status message, answer and App Home refreshes; ${String(TARGET)} writes cannot hold ${String(SUBAGENTS)} posts and the PM's own messages. Coalescing already folds a quick sub-agent's states into one post (posted once, in its final state).`,
              fix: 'Group the sub-agents of one PM turn into one tree post updated in place (one chat.postMessage and a few coalesced chat.update calls for all ten), keeping a Kill button per live branch as an overflow menu, and give a sub-agent a post of its own only when it waits for a human or lives longer than a threshold. That trades the per-sub-agent post for the write budget; which one wins is a product decision.',
            },
          }),
      rows: [
        { label: 'writes per PM run (worst of N)', value: String(worst) },
        { label: 'writes per PM run, each run', value: counts.join(', ') },
        { label: 'writes by method (last run)', value: byMethod(writes.at(-1) ?? []) },
        { label: 'all calls by method (last run)', value: byMethod(measured.at(-1)?.calls ?? []) },
        { label: '429 retries excluded', value: String(retries) },
        { label: 'mention → answer wall time', summary: summarize(measured.map((r) => r.ms)) },
      ],
      notes: [
        `N = ${String(runs)} PM runs after one warm-up: a mention "${TASK}" in #general; the scripted PM drafts ${String(SUBAGENTS)} researchers in one turn, awaits all of them and answers. Counted from the mention until the bot made no call for ${fmtMs(quietMs)} after the answer, so coalesced status updates and App Home refreshes are included.`,
        'Production Slack settings: status and sub-agent posts updated at most once per second per message; every sub-agent gets its own post (with Kill while live), first posted one coalescing window (1 s) after its draft, or at once when it waits for a human (docs/architecture/slack-egress.md).',
        'The real bot in a child process in Socket Mode, configured as in production except agents.maxChildrenPerRun = 10 (default 5) and the bench scenario file.',
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
  name: 'slack-writes-pm-tree',
  issue: 'C',
  order: 30,
  title: 'Slack Web API writes for a PM run with 10 sub-agents, from the local workspace call journal',
  target: `≤ ${String(TARGET)} writes per run (excluding 429 retries)`,
  run,
};
