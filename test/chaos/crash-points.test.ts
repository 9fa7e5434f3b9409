/**
 * Chaos, named crash points (RELIABILITY.md P1, P2, P15, P20 through Slack): for each scenario of
 * the table, the bot (`src/main.ts`, a child process in Socket Mode against the local workspace)
 * SIGKILLs itself at a named crash point (`BOT_CRASH_AT`) while a person drives the scenario in
 * Slack; a new bot process starts on the same data directory; the person clicks the scenario
 * through to its end. Then every invariant of `checkWorld` must hold, and the run must end exactly
 * like an uncrashed reference run (status, result, gates and deciders, files, the thread's posts).
 *
 * Each point is hit at every occurrence one uncrashed run passes (`@1` … `@n`, n counted from the
 * reference run's trace); `CHAOS_CRASH_HITS=first` keeps only `@1` for a quick look.
 * `CHAOS_REPORT=<file>` writes what happened (cases, attention outcomes, audit gaps) as JSON.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../src/local-workspace/server.ts';
import { CRASH_POINT_NAMES, type CrashPointName } from '../../src/orchestrator/deps.ts';
import { startServer } from '../integration/slack/support/rig.ts';
import { spawnBot } from './support/child-bot.ts';
import { type Outcome, allRuns, checkWorld, finishAll, outcomeOf, startScenario, treeTrace } from './support/chaos-world.ts';
import { CHAOS_SCENARIOS, makeScenarioWorld } from './support/scenarios.ts';

const ALL_HITS = process.env['CHAOS_CRASH_HITS'] !== 'first';
const REPORT = process.env['CHAOS_REPORT'];

let referenceRecord: Outcome | undefined;

interface CaseRecord {
  scenario: string;
  crashAt: string;
  outcome: string;
  auditGaps: string[];
}
const records: CaseRecord[] = [];

afterAll(async () => {
  if (REPORT !== undefined) await writeFile(`${REPORT}.crash-points.json`, `${JSON.stringify({ allHits: ALL_HITS, reference: referenceRecord, cases: records }, null, 2)}\n`);
});

for (const scenario of CHAOS_SCENARIOS) {
  const reason = scenario.unavailable();
  describe.skipIf(reason !== null)(`chaos: SIGKILL at every named crash point — ${scenario.name}${reason === null ? '' : ` (not run: ${reason})`}`, () => {
    let server: LocalSlack;
    let reference: Outcome;
    let hits: Record<CrashPointName, number>;

    beforeAll(async () => {
      server = await startServer();
      // The uncrashed reference run, through the same child-process bot.
      const world = await makeScenarioWorld(scenario);
      const bot = await spawnBot(world, server);
      try {
        const mention = await startScenario(server, scenario.mention);
        expect(await finishAll(server, world, bot, [mention])).toBe('done');
        const docs = await allRuns(world);
        reference = outcomeOf(server, docs, mention.runId);
        hits = scenario.crashHits(treeTrace(docs, mention.runId));
        referenceRecord ??= reference;
        expect(await checkWorld(world, server, [mention], reference)).toEqual([]);
      } finally {
        await bot.kill();
        await world.cleanup();
      }
    }, 120_000);

    afterAll(async () => {
      await server.close();
    });

    it('the reference run is a gated run that completes (so every crash point is reachable)', () => {
      expect(reference.status).toBe('completed');
      expect(reference.gates.length).toBeGreaterThan(0);
      for (const name of CRASH_POINT_NAMES) expect(hits[name], name).toBeGreaterThan(0);
    });

    it.for([...CRASH_POINT_NAMES])('%s: killed there, restarted, clicked through — every invariant holds', { timeout: 600_000 }, async (point: CrashPointName) => {
      const occurrences = ALL_HITS ? hits[point] : 1;
      for (let n = 1; n <= occurrences; n += 1) {
        const crashAt = `${point}@${String(n)}`;
        const world = await makeScenarioWorld(scenario);
        try {
          const crashing = await spawnBot(world, server, { crashAt });
          const mention = await startScenario(server, scenario.mention);
          const first = await finishAll(server, world, crashing, [mention]).catch(async (error: unknown) => {
            await crashing.kill();
            throw error;
          });
          expect(first, `${crashAt}: the bot never reached its crash point`).toBe('died');
          expect((await crashing.exited).signal, crashAt).toBe('SIGKILL');

          const restarted = await spawnBot(world, server);
          try {
            expect(await finishAll(server, world, restarted, [mention]), crashAt).toBe('done');
            const auditGaps: string[] = [];
            const problems = await checkWorld(world, server, [mention], reference, auditGaps);
            const docs = await allRuns(world);
            records.push({ scenario: scenario.name, crashAt, outcome: outcomeOf(server, docs, mention.runId).status, auditGaps });
            expect(problems, crashAt).toEqual([]);
            // A named crash point is after a durable write, or before a side effect: the audit
            // line of a decision is appended before `after-approval-recorded`, so none is missing.
            expect(auditGaps, crashAt).toEqual([]);
          } finally {
            await restarted.kill();
          }
        } finally {
          await world.cleanup();
        }
      }
    });
  });
}
