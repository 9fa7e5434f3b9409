/**
 * Chaos, random moments (RELIABILITY.md P1, P2, P15, P20 through Slack): one data directory, one
 * local workspace, and a loop. Each iteration a person mentions the bot and clicks Approve as soon
 * as the card shows; the bot process is SIGKILLed after a delay drawn from a seeded PRNG, anywhere
 * between the mention and a little after an uncrashed run would have finished. A new bot process
 * starts on the same directory, the person clicks every unfinished scenario through (a mention the
 * dead bot never acknowledged is redelivered, as Slack retries it), and `checkWorld` must find
 * nothing wrong with any run so far.
 *
 * `CHAOS_ITERATIONS` (default 12, CI-sized; the documented full run is 200) per scenario,
 * `CHAOS_SEED` to replay a failure (every assertion message names seed and iteration),
 * `CHAOS_REPORT=<file>` writes a JSON summary (kill delays, outcomes, audit gaps).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../src/local-workspace/server.ts';
import { sleep, startServer } from '../integration/slack/support/rig.ts';
import { type ChaosBot, spawnBot } from './support/child-bot.ts';
import { type Mention, type Outcome, allRuns, checkWorld, finishAll, outcomeOf, startScenario } from './support/chaos-world.ts';
import { CHAOS_SCENARIOS, makeScenarioWorld } from './support/scenarios.ts';

const ITERATIONS = Number(process.env['CHAOS_ITERATIONS'] ?? 12);
const SEED = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const REPORT = process.env['CHAOS_REPORT'];

/** mulberry32: a small seeded PRNG, so a failing sequence of kill moments can be replayed. */
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

interface IterationRecord {
  scenario: string;
  iteration: number;
  killAfterMs: number;
  /** Whether the run had already finished when the kill landed. */
  finishedBeforeKill: boolean;
  outcome: string;
}
const summary: { seed: number; iterations: number; records: IterationRecord[]; auditGaps: string[] } = {
  seed: SEED,
  iterations: ITERATIONS,
  records: [],
  auditGaps: [],
};

afterAll(async () => {
  if (REPORT !== undefined) await writeFile(`${REPORT}.random-kills.json`, `${JSON.stringify(summary, null, 2)}\n`);
});

for (const scenario of CHAOS_SCENARIOS) {
  const reason = scenario.unavailable();
  describe.skipIf(reason !== null)(`chaos: SIGKILL at random moments — ${scenario.name}${reason === null ? '' : ` (not run: ${reason})`}`, () => {
    let server: LocalSlack;

    beforeAll(async () => {
      server = await startServer();
    });

    afterAll(async () => {
      await server.close();
    });

    it(`${String(ITERATIONS)} seeded kills, each followed by a restart and a click-through; every invariant holds after each`, async () => {
      expect(Number.isInteger(ITERATIONS) && ITERATIONS > 0, 'CHAOS_ITERATIONS must be a positive integer').toBe(true);
      const random = prng(SEED);
      const world = await makeScenarioWorld(scenario);
      let bot: ChaosBot | undefined;
      try {
        // The uncrashed reference, in the same world: its outcome and how long it takes.
        bot = await spawnBot(world, server);
        const startedAt = Date.now();
        const first = await startScenario(server, scenario.mention);
        expect(await finishAll(server, world, bot, [first])).toBe('done');
        const referenceMs = Date.now() - startedAt;
        const reference: Outcome = outcomeOf(server, await allRuns(world), first.runId);
        const mentions: Mention[] = [first];

        for (let i = 0; i < ITERATIONS; i += 1) {
          const where = `seed=${String(SEED)} iteration=${String(i)}`;
          const killAfterMs = Math.floor(random() * referenceMs * 1.2);
          // Every run starts from the reference's workspace: earlier runs' reports (already checked
          // by hash through their run files) would otherwise be found by the next run's search.
          await rm(join(world.workspaceRoot, 'reports'), { recursive: true, force: true });
          // Likewise the external MCP scenario's notes, so each run adds note n1 as the reference did.
          await rm(join(world.dir, 'notes'), { recursive: true, force: true });
          const victim: ChaosBot = bot;
          const killed = sleep(killAfterMs).then(() => victim.kill());
          const mention = await startScenario(server, scenario.mention);
          mentions.push(mention);
          const state = await finishAll(server, world, victim, [mention]);
          const exit = await killed;
          expect(exit.signal, where).toBe('SIGKILL');

          bot = await spawnBot(world, server);
          expect(await finishAll(server, world, bot, mentions), where).toBe('done');
          const auditGaps: string[] = [];
          const problems = await checkWorld(world, server, mentions, reference, auditGaps);
          for (const gap of auditGaps) if (!summary.auditGaps.includes(gap)) summary.auditGaps.push(gap);
          summary.records.push({
            scenario: scenario.name,
            iteration: i,
            killAfterMs,
            finishedBeforeKill: state === 'done',
            outcome: outcomeOf(server, await allRuns(world), mention.runId).status,
          });
          expect(problems, where).toEqual([]);
          // Recovery writes the audit line of a decision whose append a kill cut off.
          expect(auditGaps, where).toEqual([]);
        }
      } finally {
        await bot?.kill();
        await world.cleanup();
      }
    });
  });
}
