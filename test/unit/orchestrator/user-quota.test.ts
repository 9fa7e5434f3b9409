/**
 * Consumption bounds per user (P18): a burst of parallel requests is admitted only up to the
 * active-run cap, and the daily token budget holds across a restart (it is primed from the store).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelPort } from '../../../src/model/port.ts';
import { Harness } from '../../../src/orchestrator/harness.ts';
import { type Fixture, REQUESTER, makeHarness } from '../../support/harness-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'cli' as const };

/** Answers every call at once with a fixed token usage. */
function fixedUsageModel(tokens: number): ModelPort {
  return {
    name: 'fixed-usage',
    complete: async () => ({ content: 'done', toolCalls: [], usage: { inputTokens: tokens, outputTokens: 0 } }),
  };
}

let fixture: Fixture | undefined;
afterEach(() => fixture?.cleanup());

describe('per-user admission (P18)', () => {
  it('admits a burst of 20 parallel requests only up to the active-run cap', async () => {
    fixture = makeHarness({ model: fixedUsageModel(1), budgets: { maxActiveRunsPerUser: 3 } });
    const { harness } = fixture;

    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => harness.startRun({ task: `task ${i}`, requestedBy })));

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refusals = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refusals).toHaveLength(17);
    for (const refusal of refusals) expect(String(refusal.reason)).toMatch(/already has 3 runs in progress/);
    expect(await fixture.store.list()).toHaveLength(3);

    // Finished runs free their slots; another user was never affected.
    await expect(harness.startRun({ task: 'later', requestedBy })).resolves.toMatchObject({ run: { status: 'completed' } });
    await expect(harness.startRun({ task: 'other', requestedBy: { userId: 'U_OTHER', source: 'cli' } })).resolves.toBeDefined();
  });

  it('frees the slot of a run that waits for approval', async () => {
    const { ScriptedModel } = await import('../../support/harness-fixture.ts');
    const writes = () =>
      ScriptedModel.fromSteps(
        Array.from({ length: 4 }, () => ({ calls: [{ name: 'workspace_write', args: { path: 'reports/a.md', content: 'a' } }] })),
      );
    fixture = makeHarness({ model: writes(), budgets: { maxActiveRunsPerUser: 1 } });
    const first = await fixture.harness.startRun({ task: 'write a', requestedBy });
    expect(first.run.status).toBe('waiting_approval');
    await expect(fixture.harness.createRun({ task: 'write b', requestedBy })).resolves.toMatchObject({ run: { status: 'queued' } });
  });
});

describe('daily token budget (P18)', () => {
  it('fails the next model call once the user spent the day budget, also after a restart, and resets the next day', async () => {
    fixture = makeHarness({ model: fixedUsageModel(600), budgets: { dailyTokensPerUser: 1_000 } });
    const { harness, clock, store } = fixture;

    expect((await harness.startRun({ task: 'one', requestedBy })).run.status).toBe('completed');
    expect((await harness.startRun({ task: 'two', requestedBy })).run.status).toBe('completed');
    const third = await harness.startRun({ task: 'three', requestedBy });
    expect(third.run.status).toBe('failed');
    expect(third.run.error).toMatchObject({ code: 'budget_exceeded' });
    expect(third.run.error?.message).toMatch(/daily token budget exceeded: U_REQUESTER's runs used 1200 of 1000/);

    // A new process on the same store knows what was spent today.
    const restarted = new Harness({ ...harness.deps, quota: undefined });
    expect((await restarted.startRun({ task: 'four', requestedBy })).run.status).toBe('failed');
    expect((await restarted.startRun({ task: 'mine', requestedBy: { userId: 'U_OTHER', source: 'cli' } })).run.status).toBe('completed');

    clock.advance(24 * 60 * 60 * 1000);
    expect((await restarted.startRun({ task: 'tomorrow', requestedBy })).run.status).toBe('completed');
    expect((await store.list({ status: 'failed' })).length).toBe(2);
  });
});

describe('sub-agents and the active-run cap', () => {
  it('does not count a run started by an agent against its user (it shares its root slot)', async () => {
    fixture = makeHarness({ model: fixedUsageModel(1), budgets: { maxActiveRunsPerUser: 1 } });
    const { harness } = fixture;
    const root = await harness.createRun({ task: 'root', requestedBy });
    const child = await harness.createRun({ task: 'child', requestedBy: { userId: REQUESTER, source: 'agent' }, parentRunId: root.run.runId });
    expect(child.run.parentRunId).toBe(root.run.runId);
    await expect(harness.createRun({ task: 'second root', requestedBy })).rejects.toThrow(/already has 1 runs in progress/);
  });
});

describe('per-channel admission (P18)', () => {
  it('caps the runs in progress in one Slack channel across users, and leaves other channels alone', async () => {
    fixture = makeHarness({ model: fixedUsageModel(1), budgets: { maxActiveRunsPerChannel: 2 } });
    const { harness } = fixture;
    const origin = (channel: string, n: number) => ({ kind: 'slack' as const, teamId: 'T1', channel, threadTs: `1.${n}` });
    const inOps = (user: string, n: number) => harness.createRun({ task: `t${n}`, requestedBy: { userId: user, source: 'slack' }, origin: origin('C_OPS', n) });

    await inOps('U_A', 1);
    await inOps('U_B', 2);
    await expect(inOps('U_C', 3)).rejects.toThrow(/this channel already has 2 runs in progress/);
    await expect(
      harness.createRun({ task: 'elsewhere', requestedBy: { userId: 'U_C', source: 'slack' }, origin: origin('C_GENERAL', 4) }),
    ).resolves.toMatchObject({ run: { status: 'queued' } });
  });
});
