/**
 * Kill, limits and the tree check. Kill must really stop the child and its grandchild: the
 * grandchild's slow ledger (ticks on the fake clock) stops growing, in-flight calls see the abort,
 * and nothing drives the killed runs afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { BudgetExceededError, InvalidStateError, NotFoundError, UsageError } from '../../../src/shared/errors.ts';
import { APPROVER, REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, hangTool, lastDraftedId, lastTool, makeTree, tickTool, untilEntered, untilRun, untilSleeping } from './tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };
const ticking = Array.from({ length: 30 }, () => ({ calls: [{ name: 'tick', args: {} }] }));

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** pm → lead → ticker: the PM awaits the lead, the lead hangs, the ticker ticks. */
function killTree(pmAfterDraft: Parameters<typeof makeTree>[0]['scripts']['pm'] = undefined) {
  const clock = new FakeClock();
  const tick = tickTool(clock);
  const hang = hangTool();
  const pm = pmAfterDraft ?? [
    { calls: [{ name: 'draft_agent', args: { role: 'lead', task: 'coordinate the ticker' } }] },
    (messages: Parameters<typeof lastDraftedId>[0]) => ({
      calls: [{ name: 'await_agent', args: { agent_id: lastDraftedId(messages), timeout_seconds: 600 } }],
    }),
    (messages: Parameters<typeof lastTool>[0]) => ({ content: `lead ended: ${lastTool(messages)}` }),
  ];
  const lead = [{ calls: [{ name: 'draft_agent', args: { role: 'ticker', task: 'tick forever' } }] }, { calls: [{ name: 'hang', args: {} }] }];
  fx = makeTree({ scripts: { pm, lead, ticker: ticking }, tools: [tick.definition, hang.definition], clock });
  return { fx, clock, tick, hang };
}

async function startKillTree(fixture: TreeFixture, tick: ReturnType<typeof tickTool>) {
  const { harness } = fixture;
  const pm = await harness.createRun({ task: 'run the ticker team', role: 'pm', requestedBy });
  const pmDrive = harness.runner.drive(pm.run.runId);
  const pmDoc = await untilRun(harness, pm.run.runId, (d) => d.run.children.length === 1);
  const leadId = pmDoc.run.children[0]!;
  const leadDoc = await untilRun(harness, leadId, (d) => d.run.children.length === 1 && d.run.steps.some((s) => s.tool === 'hang' && s.status === 'started'));
  const tickerId = leadDoc.run.children[0]!;
  // Everyone parked on the fake clock before time moves: the lead's hang and the ticker's first
  // tick (each with its tool timeout), the PM's await_agent (its wait and its tool timeout).
  await tick.parked(1);
  await untilSleeping(fixture.clock, 5);
  // Let two ticks land, then leave the third one asleep.
  for (let n = 1; n <= 2; n += 1) {
    await tick.parked(n);
    fixture.clock.advance(1000);
  }
  await tick.parked(3);
  await untilRun(harness, tickerId, (d) => d.trace.filter((e) => e.event === 'tool_ok').length === 2);
  return { pmId: pm.run.runId, pmDrive, leadId, tickerId };
}

describe('kill', () => {
  it('from a human (the Slack button path) stops the child and its grandchild: the ledger stops growing', async () => {
    const { fx: fixture, tick, hang } = killTree();
    const { harness, manager, clock } = fixture;
    const { pmId, pmDrive, leadId, tickerId } = await startKillTree(fixture, tick);
    expect(tick.ledger).toHaveLength(2);

    const result = await manager.kill({ childRunId: leadId, by: { userId: APPROVER, source: 'slack' } });
    expect(result).toEqual({ childRunId: leadId, killed: [leadId, tickerId] });
    const countAtKill = tick.ledger.length;

    // In-flight calls saw the abort: the lead's hang and the ticker's sleeping third tick.
    expect(hang.aborted).toEqual([leadId]);
    expect(tick.aborted).toHaveLength(1);
    // Time passes; nothing is driving the killed runs any more, so nothing else lands.
    for (let i = 0; i < 5; i += 1) clock.advance(60_000);
    await manager.drain();
    expect(tick.ledger).toHaveLength(countAtKill);
    expect(harness.runner.isDriving(leadId)).toBe(false);
    expect(harness.runner.isDriving(tickerId)).toBe(false);

    const lead = await harness.getRun(leadId);
    const ticker = await harness.getRun(tickerId);
    expect(lead.run.status).toBe('cancelled');
    expect(ticker.run.status).toBe('cancelled');
    expect(ticker.run.error?.message).toMatch(/cascaded from/);
    expect(ticker.trace.filter((e) => e.event === 'tool_ok')).toHaveLength(countAtKill);

    // The PM's await returned the kill, and the PM finished normally: the coordinator lives on.
    const pm = await pmDrive;
    expect(pm.run.status).toBe('completed');
    expect(pm.run.result).toMatch(/"status":"cancelled"/);
    await manager.drain();
    const pmDoc = await harness.getRun(pmId);
    expect(pmDoc.trace.filter((e) => e.event === 'subagent_killed')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ childRunId: leadId, by: APPROVER, cascade: false }) }),
    ]);
    expect(pmDoc.trace.filter((e) => e.event === 'subagent_finished').map((e) => e.detail['status'])).toEqual(['cancelled']);
    const leadDoc = await harness.getRun(leadId);
    expect(leadDoc.trace.filter((e) => e.event === 'subagent_killed')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ childRunId: tickerId, cascade: true }) }),
    ]);
    expect(leadDoc.trace.filter((e) => e.event === 'subagent_finished').map((e) => e.detail['status'])).toEqual(['cancelled']);
    for (const doc of [pmDoc, leadDoc, await harness.getRun(tickerId)]) expect(replayTrace(doc.trace)).toEqual(doc.run);
  });

  it('from the parent with kill_agent (after a timed-out await) stops the child and its grandchild', async () => {
    const pm = [
      { calls: [{ name: 'draft_agent', args: { role: 'lead', task: 'coordinate the ticker' } }] },
      (messages: Parameters<typeof lastDraftedId>[0]) => ({
        calls: [{ name: 'await_agent', args: { agent_id: lastDraftedId(messages), timeout_seconds: 30 } }],
      }),
      (messages: Parameters<typeof lastDraftedId>[0]) => ({
        calls: [{ name: 'kill_agent', args: { agent_id: lastDraftedId(messages), reason: 'taking too long' } }],
      }),
      (messages: Parameters<typeof lastTool>[0]) => ({ content: `killed: ${lastTool(messages)}` }),
    ];
    const { fx: fixture, tick } = killTree(pm);
    const { harness, manager, clock } = fixture;
    const { pmId, pmDrive, leadId, tickerId } = await startKillTree(fixture, tick);
    // The PM waits 30 s (fake): the ticks so far took 2 s; let the rest of the wait pass.
    const countBefore = tick.ledger.length;
    clock.advance(28_000);
    const done = await pmDrive;
    expect(done.run.status).toBe('completed');
    expect(tick.ledger.length).toBeLessThanOrEqual(countBefore + 1);
    const countAtKill = tick.ledger.length;

    const awaitStep = done.run.steps.find((s) => s.tool === 'await_agent')!;
    expect(JSON.parse(awaitStep.output!.content)).toMatchObject({ agent_id: leadId, status: 'running', timed_out: true });
    const killStep = done.run.steps.find((s) => s.tool === 'kill_agent')!;
    expect(killStep).toMatchObject({ status: 'succeeded', category: 'agent_lifecycle', idempotent: false });
    expect(JSON.parse(killStep.output!.content)).toEqual({ agent_id: leadId, status: 'cancelled', killed: [leadId, tickerId] });

    for (let i = 0; i < 5; i += 1) clock.advance(60_000);
    await manager.drain();
    expect(tick.ledger).toHaveLength(countAtKill);
    expect((await harness.getRun(tickerId)).run.status).toBe('cancelled');
    const pmDoc = await harness.getRun(pmId);
    expect(pmDoc.trace.find((e) => e.event === 'subagent_killed')?.detail).toMatchObject({
      childRunId: leadId,
      by: `agent:${pmId}`,
      source: 'mcp',
      reason: 'taking too long',
    });
  });

  it('cancelling the root cascades to the whole tree and aborts the waiting coordinator', async () => {
    const { fx: fixture, tick, hang } = killTree();
    const { harness, manager } = fixture;
    const { pmId, pmDrive, leadId, tickerId } = await startKillTree(fixture, tick);
    await harness.cancel(pmId, { userId: APPROVER, source: 'slack' }, 'stop everything');
    await pmDrive;
    await manager.drain();
    for (const id of [pmId, leadId, tickerId]) expect((await harness.getRun(id)).run.status).toBe('cancelled');
    expect(hang.aborted).toEqual([leadId]);
    const pm = await harness.getRun(pmId);
    expect(pm.run.steps.find((s) => s.tool === 'await_agent')?.status).toBe('cancelled');
    expect(pm.trace.filter((e) => e.event === 'subagent_killed').map((e) => e.detail['childRunId'])).toEqual([leadId]);
  });

  it('refuses a kill from a run that is not the parent, and a kill of a run that already ended', async () => {
    const hang = hangTool();
    fx = makeTree({ scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition] });
    const { harness, manager } = fx;
    const a = await harness.createRun({ task: 'a', role: 'pm', requestedBy });
    const b = await harness.createRun({ task: 'b', role: 'pm', requestedBy });
    const { childRunId } = await manager.draft({ parentRunId: a.run.runId, role: 'researcher', task: 'r', by: 'test' });

    await expect(manager.kill({ childRunId, parentRunId: b.run.runId, by: { userId: 'agent:b', source: 'mcp' } })).rejects.toThrow(NotFoundError);
    await expect(manager.await({ childRunId, parentRunId: b.run.runId, timeoutMs: 0 })).rejects.toThrow(/is not a sub-agent of run/);
    await expect(manager.kill({ childRunId: a.run.runId, by: { userId: APPROVER, source: 'slack' } })).rejects.toThrow(UsageError);
    expect((await harness.getRun(childRunId)).run.status).not.toBe('cancelled');

    await untilEntered(hang, childRunId);
    await manager.kill({ childRunId, parentRunId: a.run.runId, by: { userId: 'agent:a', source: 'mcp' } });
    await expect(manager.kill({ childRunId, parentRunId: a.run.runId, by: { userId: 'agent:a', source: 'mcp' } })).rejects.toThrow(InvalidStateError);
  });
});

describe('limits', () => {
  function hangingTree(limits: Parameters<typeof makeTree>[0]['limits']) {
    const hang = hangTool();
    const script = [{ calls: [{ name: 'hang', args: {} }] }];
    fx = makeTree({ scripts: { researcher: script, lead: script }, tools: [hang.definition], ...(limits === undefined ? {} : { limits }) });
    return { ...fx, hang };
  }

  it('refuses a draft deeper than agents.maxDepth, naming the limit; nothing is created', async () => {
    const { harness, manager } = hangingTree({ maxDepth: 1 });
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const child = await manager.draft({ parentRunId: root.run.runId, role: 'lead', task: 'sub-coordinate', by: 'test' });
    expect(child.depth).toBe(1);
    await expect(manager.draft({ parentRunId: child.childRunId, role: 'researcher', task: 'too deep', by: 'test' })).rejects.toThrow(
      /depth 2; agents\.maxDepth is 1/,
    );
    await expect(manager.draft({ parentRunId: child.childRunId, role: 'researcher', task: 'too deep', by: 'test' })).rejects.toThrow(BudgetExceededError);
    expect((await harness.getRun(child.childRunId)).run.children).toEqual([]);
    expect(await harness.listRuns()).toHaveLength(2);
  });

  it('allows depth 2 by default and refuses depth 3', async () => {
    const { harness, manager } = hangingTree(undefined);
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const child = await manager.draft({ parentRunId: root.run.runId, role: 'lead', task: 'level 1', by: 'test' });
    const grandchild = await manager.draft({ parentRunId: child.childRunId, role: 'lead', task: 'level 2', by: 'test' });
    expect(grandchild).toMatchObject({ depth: 2, lineage: ['pm', 'lead', 'lead'] });
    await expect(manager.draft({ parentRunId: grandchild.childRunId, role: 'researcher', task: 'level 3', by: 'test' })).rejects.toThrow(/maxDepth is 2/);
  });

  it('refuses more unfinished children than agents.maxChildrenPerRun; a finished one frees a slot', async () => {
    const { harness, manager, hang } = hangingTree({ maxChildrenPerRun: 2 });
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const first = await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'one', by: 'test' });
    await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'two', by: 'test' });
    await expect(manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'three', by: 'test' })).rejects.toThrow(
      /already has 2 unfinished sub-agents; agents\.maxChildrenPerRun is 2/,
    );
    await untilEntered(hang, first.childRunId);
    await manager.kill({ childRunId: first.childRunId, parentRunId: root.run.runId, by: { userId: 'agent:root', source: 'mcp' } });
    const third = await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'three', by: 'test' });
    expect((await harness.getRun(root.run.runId)).run.children).toHaveLength(3);
    expect(third.childRunId).not.toBe(first.childRunId);
  });

  it('counts concurrent drafts against the children limit (no race past it)', async () => {
    const { harness, manager } = hangingTree({ maxChildrenPerRun: 2 });
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const results = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((task) => manager.draft({ parentRunId: root.run.runId, role: 'researcher', task, by: 'test' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect((await harness.getRun(root.run.runId)).run.children).toHaveLength(2);
  });

  it('refuses a draft once the tree used agents.maxTreeTokens', async () => {
    const { harness, manager } = hangingTree({ maxTreeTokens: 5 });
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const child = await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'spend some tokens', by: 'test' });
    await untilRun(harness, child.childRunId, (d) => d.run.usage.inputTokens > 0);
    await expect(manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'more', by: 'test' })).rejects.toThrow(
      /model tokens; agents\.maxTreeTokens is 5/,
    );
  });

  it('refuses an unknown role (listing the roles) and a finished parent', async () => {
    const { harness, manager } = hangingTree(undefined);
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    await expect(manager.draft({ parentRunId: root.run.runId, role: 'poet', task: 'x', by: 'test' })).rejects.toThrow(
      /unknown role "poet"; known roles: pm, lead, researcher, writer, ticker/,
    );
    await harness.cancel(root.run.runId, { userId: APPROVER, source: 'cli' });
    await expect(manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'x', by: 'test' })).rejects.toThrow(
      /cancelled; a finished run cannot draft/,
    );
    expect(await harness.listRuns()).toHaveLength(1);
  });
});

describe('await', () => {
  it('returns the current status on timeout, reports a gate once, and waits through it on the next call', async () => {
    const writer = [{ calls: [{ name: 'workspace_write', args: { path: 'reports/a.md', content: 'a' } }] }, { content: 'written' }];
    fx = makeTree({ scripts: { writer } });
    const { harness, manager, clock } = fx;
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const parentRunId = root.run.runId;
    const { childRunId } = await manager.draft({ parentRunId, role: 'writer', task: 'write a', by: 'test' });

    const first = await manager.await({ parentRunId, childRunId, timeoutMs: 60_000 });
    expect(first).toMatchObject({ status: 'waiting_approval', timedOut: false, pendingGate: { tool: 'workspace_write', lineage: ['pm', 'writer'] } });

    const sleeping = clock.pendingSleeps;
    const second = manager.await({ parentRunId, childRunId, timeoutMs: 60_000 });
    await untilSleeping(clock, sleeping + 1);
    clock.advance(60_000);
    expect(await second).toMatchObject({ status: 'waiting_approval', timedOut: true });

    const third = manager.await({ parentRunId, childRunId, timeoutMs: 60_000 });
    await harness.approve({ runId: childRunId, actor: { userId: APPROVER, source: 'slack' } });
    expect(await third).toMatchObject({ status: 'completed', timedOut: false, result: 'written' });
    // The finished record is on the parent before await resolves.
    const parent = await harness.getRun(parentRunId);
    expect(parent.trace.filter((e) => e.event === 'subagent_finished')).toHaveLength(1);
  });

  it('returns at once with timeout 0, and rejects when its signal aborts', async () => {
    const hang = hangTool();
    fx = makeTree({ scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition] });
    const { harness, manager } = fx;
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const { childRunId } = await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'r', by: 'test' });
    const now = await manager.await({ parentRunId: root.run.runId, childRunId, timeoutMs: 0 });
    expect(['queued', 'running']).toContain(now.status);
    expect(now.timedOut).toBe(true);

    const controller = new AbortController();
    const waiting = manager.await({ parentRunId: root.run.runId, childRunId, timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('the tool call was cancelled'));
    await expect(waiting).rejects.toThrow('the tool call was cancelled');
  });
});
