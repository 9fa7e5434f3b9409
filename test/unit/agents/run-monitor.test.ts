/**
 * The monitor wired to live runs (issue C, Build 8): a looping worker is warned, then stopped
 * (cancelled, so its tool calls stop); a coordinator with the same finding is escalated, never
 * killed; a PM that awaits or lists the same agent many times is never flagged; a stalled worker
 * is stopped by the sweep, a PM inside await_agent is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelMessage } from '../../../src/model/port.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, hangTool, lastDraftedId, makeTree, untilEntered, untilRun } from './tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'cli' as const };

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const activities = (doc: { trace: { event: string; detail: Record<string, unknown> }[] }) =>
  doc.trace.filter((e) => e.event === 'role_activity').map((e) => e.detail['action']);

describe('after every settled step', () => {
  it('warns a worker at 3 identical calls and cancels it at 5: no sixth call is made', async () => {
    const searches = Array.from({ length: 8 }, () => ({ calls: [{ name: 'workspace_search', args: { query: 'durable' } }] }));
    fx = makeTree({ scripts: { researcher: [...searches, { content: 'found it' }] } });
    const run = await fx.harness.createRun({ task: 'search', role: 'researcher', requestedBy });
    await fx.harness.runner.drive(run.run.runId).catch(() => undefined);
    const doc = await untilRun(fx.harness, run.run.runId, (d) => d.run.status === 'cancelled');
    await fx.monitor.drain();
    const final = await fx.harness.getRun(run.run.runId);
    expect(final.run.error?.message).toMatch(/stopped by the monitor: workspace_search was called 5 times/);
    expect(final.run.steps.filter((s) => s.tool === 'workspace_search' && s.status === 'succeeded')).toHaveLength(5);
    expect(final.run.steps.length).toBeLessThanOrEqual(6);
    expect(activities(final)).toEqual(['monitor_warning']);
    expect(final.trace.find((e) => e.event === 'run_cancelled')?.detail).toMatchObject({ by: 'monitor' });
    expect(replayTrace(final.trace)).toEqual(final.run);
    expect(doc.run.status).toBe('cancelled');
  });

  it('escalates a coordinator with the same error twice instead of cancelling it', async () => {
    const denied = { calls: [{ name: 'workspace_write', args: { path: 'reports/x.md', content: 'x' } }] };
    fx = makeTree({ scripts: { lead: [denied, denied, { content: 'gave up' }] } });
    const run = await fx.harness.startRun({ task: 'write it yourself', role: 'lead', requestedBy });
    await fx.monitor.drain();
    const doc = await fx.harness.getRun(run.run.runId);
    expect(doc.run.status).toBe('completed');
    expect(activities(doc)).toEqual(['monitor_escalation']);
    expect(doc.trace.find((e) => e.event === 'role_activity')?.detail).toMatchObject({
      role: 'lead',
      payload: { findings: [expect.objectContaining({ kind: 'repeated_error', tool: 'workspace_write' })] },
    });
  });

  it('never flags a PM that awaits and lists the same agent many times', async () => {
    const hang = hangTool();
    const poll = (messages: ModelMessage[]) => ({
      calls: [
        { name: 'await_agent', args: { agent_id: lastDraftedId(messages), timeout_seconds: 0 } },
        { name: 'list_agents', args: {} },
      ],
    });
    fx = makeTree({
      tools: [hang.definition],
      scripts: {
        pm: [
          { calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'hang' } }] },
          ...Array.from({ length: 7 }, () => poll),
          (messages: ModelMessage[]) => ({ calls: [{ name: 'kill_agent', args: { agent_id: lastDraftedId(messages) } }] }),
          { content: 'stopped it' },
        ],
        researcher: [{ calls: [{ name: 'hang', args: {} }] }],
      },
    });
    const pm = await fx.harness.startRun({ task: 'poll', role: 'pm', requestedBy });
    await fx.monitor.drain();
    expect(pm.run.status).toBe('completed');
    expect(pm.run.steps.filter((s) => s.tool === 'await_agent')).toHaveLength(7);
    expect(activities(pm)).toEqual(['delegated', 'cancelled']);
  });
});

describe('the stall sweep', () => {
  it('cancels a worker idle for stallMs, but not a PM waiting inside await_agent', async () => {
    const hang = hangTool();
    fx = makeTree({
      tools: [hang.definition],
      monitor: { stallMs: 60_000 },
      scripts: {
        pm: [
          { calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'hang' } }] },
          (messages: ModelMessage[]) => ({ calls: [{ name: 'await_agent', args: { agent_id: lastDraftedId(messages), timeout_seconds: 600 } }] }),
          { content: 'the researcher ended' },
        ],
        researcher: [{ calls: [{ name: 'hang', args: {} }] }],
      },
    });
    const pm = await fx.harness.createRun({ task: 'wait', role: 'pm', requestedBy });
    const drive = fx.harness.runner.drive(pm.run.runId);
    const researcherId = (await untilRun(fx.harness, pm.run.runId, (d) => d.run.children.length === 1)).run.children[0]!;
    await untilEntered(hang, researcherId);
    await untilRun(fx.harness, pm.run.runId, (d) => d.run.steps.some((s) => s.tool === 'await_agent' && s.status === 'started'));
    expect(await fx.monitor.sweep()).toEqual([]);

    fx.clock.advance(61_000);
    const acted = await fx.monitor.sweep();
    expect(acted.map((a) => [a.runId, a.verdict.action])).toEqual([[researcherId, 'stop']]);
    const done = await drive;
    expect(done.run.status).toBe('completed');
    expect((await fx.harness.getRun(researcherId)).run.error?.message).toMatch(/stopped by the monitor: no progress for 61 s/);
  });
});
