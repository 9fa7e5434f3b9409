/**
 * The global cap over the durable lowdb store (issue C acceptance, harness level): with
 * `budgets.maxConcurrentRuns: 2` the third task is queued with position 1 of 1; the process stops
 * (abort-and-persist) and a new one over the same data directory recovers: the two running tasks
 * hold their slots again, the third is still waiting at 1 of 1, and it runs when a slot frees.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { LowdbRunStore } from '../../../src/store/lowdb-run-store.ts';
import { APPROVER, type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';
import { hangTool } from '../../unit/agents/tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

let dir: string | undefined;
const open: { fx: Fixture; store: LowdbRunStore }[] = [];
afterEach(async () => {
  for (const { fx, store } of open.splice(0)) {
    await fx.harness.stop();
    await store.close();
    fx.cleanup();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Resolves once `runId` is inside the hang tool (real files: fsyncs take real time, so poll on timers). */
async function entered(hang: { entered: string[] }, runId: string): Promise<void> {
  for (let i = 0; i < 1000 && !hang.entered.includes(runId); i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 10));
  expect(hang.entered).toContain(runId);
}

async function boot(dataDir: string) {
  const store = await LowdbRunStore.open({ dataDir });
  const hang = hangTool();
  const model = ScriptedModel.fromSteps([{ calls: [{ name: 'hang', args: {} }] }, { content: 'done' }]);
  const fx = makeHarness({ model, store, tools: [hang.definition], budgets: { maxConcurrentRuns: 2, maxActiveRunsPerUser: 10 } });
  open.push({ fx, store });
  return { fx, store, hang };
}

describe('global cap 2 on the durable store', () => {
  it('queues the third task at 1 of 1, keeps it across a restart, and runs it when a slot frees', async () => {
    dir = await mkdtemp(join(tmpdir(), 'harness-pool-'));
    const first = await boot(dir);
    const ids: string[] = [];
    for (let n = 1; n <= 3; n += 1) {
      ids.push((await first.fx.harness.createRun({ task: `task ${n}`, requestedBy })).run.runId);
      first.fx.clock.advance(5);
    }
    const [a, b, c] = ids as [string, string, string];
    void first.fx.harness.runner.drive(a);
    void first.fx.harness.runner.drive(b);
    await entered(first.hang, a);
    await entered(first.hang, b);
    expect((await first.fx.harness.runner.drive(c)).run.status).toBe('queued');
    expect(first.fx.harness.queuePosition(c)).toEqual({ position: 1, of: 1 });

    // Shutdown: drives aborted, nothing lost; the queued run is just a queued run on disk.
    const { fx: oldFx, store: oldStore } = open.splice(0)[0]!;
    await oldFx.harness.stop();
    await oldStore.close();
    oldFx.cleanup();

    const second = await boot(dir);
    const { harness } = second.fx;
    expect((await harness.recover()).sort()).toEqual([a, b, c].sort());
    await entered(second.hang, a);
    await entered(second.hang, b);
    expect(harness.queuePosition(c)).toEqual({ position: 1, of: 1 });
    expect((await harness.getRun(c)).run.status).toBe('queued');

    await harness.cancel(a, { userId: APPROVER, source: 'slack' }, 'make room');
    await entered(second.hang, c);
    expect(harness.queuePosition(c)).toBeNull();
    for (const id of ids) {
      const doc = await harness.getRun(id);
      expect(replayTrace(doc.trace)).toEqual(doc.run);
    }
    expect((await harness.getRun(c)).run.status).toBe('running');
  });
});
