/**
 * The global pool (issue C, Build 5): over `budgets.maxConcurrentRuns` a task stays `queued` with a
 * visible FIFO position, starts when a slot frees, and a restart keeps the line (it is rebuilt from
 * the queued runs in the store, oldest first). Sub-agents never wait for a slot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { RunPool } from '../../../src/orchestrator/run-pool.ts';
import { MemoryRunStore } from '../../../src/store/memory-run-store.ts';
import { APPROVER, type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';
import { hangTool, untilEntered, untilRun } from '../agents/tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'cli' as const };
const admin = { userId: APPROVER, source: 'admin' as const };

const open: Fixture[] = [];
afterEach(async () => {
  for (const fx of open.splice(0)) {
    await fx.harness.stop();
    fx.cleanup();
  }
});

/** Every run calls `hang` (never returns until cancelled), then would answer. */
function poolHarness(cap: number, store = new MemoryRunStore()) {
  const hang = hangTool();
  const model = ScriptedModel.fromSteps([{ calls: [{ name: 'hang', args: {} }] }, { content: 'done' }]);
  const fx = makeHarness({ model, store, tools: [hang.definition], budgets: { maxConcurrentRuns: cap, maxActiveRunsPerUser: 10 } });
  open.push(fx);
  return { fx, hang };
}

describe('global cap (budgets.maxConcurrentRuns)', () => {
  it('cap 2: the third task is queued with position 1 of 1, then runs when a slot frees', async () => {
    const { fx, hang } = poolHarness(2);
    const { harness } = fx;
    const changes: string[][] = [];
    harness.onQueueChange((ids) => changes.push([...ids]));

    const [a, b, c] = await Promise.all([1, 2, 3].map((n) => harness.createRun({ task: `task ${n}`, requestedBy })));
    void harness.runner.drive(a!.run.runId);
    void harness.runner.drive(b!.run.runId);
    await untilEntered(hang, a!.run.runId);
    await untilEntered(hang, b!.run.runId);
    const third = await harness.runner.drive(c!.run.runId);

    expect(third.run.status).toBe('queued');
    expect(harness.queuePosition(c!.run.runId)).toEqual({ position: 1, of: 1 });
    expect(harness.queuePosition(a!.run.runId)).toBeNull();
    expect(changes).toEqual([[c!.run.runId]]);
    expect(harness.poolStats()).toEqual({ active: 2, waiting: 1, capacity: 2 });

    await harness.cancel(a!.run.runId, admin, 'make room');
    await untilEntered(hang, c!.run.runId);
    expect(harness.queuePosition(c!.run.runId)).toBeNull();
    expect(changes.at(-1)).toEqual([c!.run.runId]);
    const started = await harness.getRun(c!.run.runId);
    expect(started.run.status).toBe('running');
    expect(replayTrace(started.trace)).toEqual(started.run);
  });

  it('keeps FIFO order and tells every waiting run when its position moves; a cancelled waiter leaves the line', async () => {
    const { fx, hang } = poolHarness(1);
    const { harness } = fx;
    const runs = [];
    for (let n = 0; n < 4; n += 1) runs.push((await harness.createRun({ task: `task ${n}`, requestedBy })).run.runId);
    const [first, second, third, fourth] = runs as [string, string, string, string];
    void harness.runner.drive(first);
    await untilEntered(hang, first);
    for (const id of [second, third, fourth]) await harness.runner.drive(id);
    expect([second, third, fourth].map((id) => harness.queuePosition(id))).toEqual([
      { position: 1, of: 3 },
      { position: 2, of: 3 },
      { position: 3, of: 3 },
    ]);
    const changes: string[][] = [];
    harness.onQueueChange((ids) => changes.push([...ids]));

    await harness.cancel(third, admin, 'not needed');
    expect(changes).toEqual([[third, fourth]]);
    expect(harness.queuePosition(fourth)).toEqual({ position: 2, of: 2 });

    await harness.cancel(first, admin, 'next');
    await untilEntered(hang, second);
    expect(changes.at(-1)).toEqual([second, fourth]);
    expect(harness.queuePosition(fourth)).toEqual({ position: 1, of: 1 });
    expect((await harness.getRun(fourth)).run.status).toBe('queued');
  });

  it('a run paused for approval frees its slot; the human resumption takes one back even over the cap', async () => {
    const model = ScriptedModel.fromSteps([
      { calls: [{ name: 'workspace_write', args: { path: 'reports/a.md', content: 'x' } }] },
      { calls: [{ name: 'hang', args: {} }] },
      { content: 'done' },
    ]);
    const hang = hangTool();
    const fx = makeHarness({ model, tools: [hang.definition], budgets: { maxConcurrentRuns: 1, maxActiveRunsPerUser: 10 } });
    open.push(fx);
    const { harness } = fx;
    const a = await harness.startRun({ task: 'write a', requestedBy });
    expect(a.run.status).toBe('waiting_approval');
    const b = await harness.createRun({ task: 'write b', requestedBy });
    void harness.runner.drive(b.run.runId);
    await untilRun(harness, b.run.runId, (d) => d.run.status === 'waiting_approval');
    expect(harness.poolStats().active).toBe(0);

    void harness.approve({ runId: a.run.runId, actor: { userId: APPROVER, source: 'cli' } });
    void harness.approve({ runId: b.run.runId, actor: { userId: APPROVER, source: 'cli' } });
    await untilRun(harness, a.run.runId, (d) => d.run.steps.some((s) => s.tool === 'hang'));
    await untilEntered(hang, a.run.runId);
    await untilEntered(hang, b.run.runId);
    expect(harness.poolStats()).toMatchObject({ active: 2, waiting: 0 });
  });
});

describe('restart keeps the queue', () => {
  it('queued tasks stay queued in the store and start oldest first after recover()', async () => {
    const store = new MemoryRunStore();
    const first = poolHarness(1, store);
    const ids: string[] = [];
    for (let n = 0; n < 3; n += 1) {
      ids.push((await first.fx.harness.createRun({ task: `task ${n}`, requestedBy })).run.runId);
      first.fx.clock.advance(10);
    }
    const [a, b, c] = ids as [string, string, string];
    void first.fx.harness.runner.drive(a);
    await untilEntered(first.hang, a);
    await first.fx.harness.runner.drive(c);
    await first.fx.harness.runner.drive(b);
    expect(first.fx.harness.queuePosition(c)).toEqual({ position: 1, of: 2 });
    await first.fx.harness.stop();

    const second = poolHarness(1, store);
    const { harness } = second.fx;
    expect(await harness.recover()).toHaveLength(3);
    // a was running (it holds its slot and its interrupted idempotent tool runs again); b and c
    // wait in creation order, whatever order they were driven in before.
    await untilEntered(second.hang, a);
    expect(harness.queuePosition(b)).toEqual({ position: 1, of: 2 });
    expect(harness.queuePosition(c)).toEqual({ position: 2, of: 2 });
    await harness.cancel(a, admin, 'next');
    await untilEntered(second.hang, b);
    expect(harness.queuePosition(c)).toEqual({ position: 1, of: 1 });
  });
});

describe('RunPool', () => {
  it('never queues a sub-agent, and starts nothing after stop()', () => {
    const started: string[] = [];
    const pool = new RunPool({ capacity: 1, start: (id) => started.push(id), onListenerError: () => undefined });
    expect(pool.admit({ runId: 'r_a', parentRunId: null })).toBe(true);
    expect(pool.admit({ runId: 'r_child', parentRunId: 'r_a' })).toBe(true);
    expect(pool.admit({ runId: 'r_b', parentRunId: null })).toBe(false);
    expect(pool.admit({ runId: 'r_b', parentRunId: null })).toBe(false);
    expect(pool.position('r_b')).toEqual({ position: 1, of: 1 });
    pool.stop();
    pool.observe({ run: { runId: 'r_a', parentRunId: null, status: 'completed' } } as never);
    expect(started).toEqual([]);
    expect(pool.position('r_b')).toEqual({ position: 1, of: 1 });
  });
});
