/**
 * The approval flow end to end over fakes: pause at a gate, approve / reject / edit, exactly one
 * decision, authorisation, expiry, and the event-sourcing invariant (state = fold of trace, P20).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { computeArgsHash } from '../../../src/approvals/args-hash.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import { APPROVER, APPROVER2, type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

const cli = (userId: string) => ({ userId, source: 'cli' as const });
const requestedBy = { userId: REQUESTER, source: 'cli' as const };

function reportModel(path = 'reports/durable.md') {
  return ScriptedModel.fromSteps([
    { calls: [{ name: 'workspace_search', args: { query: 'durable execution' } }] },
    { calls: [{ name: 'workspace_read', args: { path: 'notes/durable-execution.md' } }] },
    { calls: [{ name: 'workspace_write', args: { path, content: '# Report: durable execution\n' } }] },
    { content: `Report written to ${path}.` },
  ]);
}

function expectReplayable(doc: RunDoc): void {
  expect(replayTrace(doc.trace)).toEqual(doc.run);
}

let fixture: Fixture | undefined;
afterEach(() => fixture?.cleanup());

describe('approval gates', () => {
  it('pauses at a gate for workspace_write, and completes once an approver approves', async () => {
    fixture = makeHarness({ model: reportModel() });
    const { harness, workspaceRoot, store } = fixture;
    const paused = await harness.startRun({ task: 'write a report on durable execution', requestedBy });

    expect(paused.run.status).toBe('waiting_approval');
    expect(paused.run.gates).toHaveLength(1);
    const gate = paused.run.gates[0]!;
    expect(gate).toMatchObject({ tool: 'workspace_write', status: 'pending', category: 'filesystem_write', risk: 'write' });
    expect(gate.approvers).toEqual([APPROVER, APPROVER2]);
    expect(gate.argsHash).toBe(computeArgsHash('workspace_write', gate.args, gate.policyVersion));
    expect(existsSync(join(workspaceRoot, 'reports', 'durable.md'))).toBe(false);
    expect((await store.list({ status: 'waiting_approval' })).map((e) => e.runId)).toEqual([paused.run.runId]);

    const { doc } = await harness.approve({ runId: paused.run.runId, actor: cli(APPROVER) });

    expect(doc.run.status).toBe('completed');
    expect(doc.run.result).toBe('Report written to reports/durable.md.');
    expect(readFileSync(join(workspaceRoot, 'reports', 'durable.md'), 'utf8')).toBe('# Report: durable execution\n');
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER, approvedHash: gate.argsHash });
    expect(doc.trace.filter((e) => e.event === 'approval_granted')).toHaveLength(1);
    expectReplayable(doc);
  });

  it('refuses a second approval with "already approved by", and approving a completed run', async () => {
    fixture = makeHarness({ model: reportModel() });
    const { harness } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    await harness.approve({ runId: paused.run.runId, actor: cli(APPROVER) });

    await expect(harness.approve({ runId: paused.run.runId, actor: cli(APPROVER2) })).rejects.toThrow(
      /already approved by U_APPROVER1/,
    );
    const doc = await harness.getRun(paused.run.runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.trace.filter((e) => e.event === 'approval_granted')).toHaveLength(1);
    expect(doc.trace.filter((e) => e.event === 'tool_ok' && e.detail['tool'] === 'workspace_write')).toHaveLength(1);
    expectReplayable(doc);
  });

  it('returns a rejection reason to the model as the tool result, and the run goes on', async () => {
    const model = ScriptedModel.fromSteps([
      { calls: [{ name: 'workspace_write', args: { path: 'reports/x.md', content: 'x' } }] },
      (messages) => ({ content: `Understood: ${String(messages[messages.length - 1]?.content)}` }),
    ]);
    fixture = makeHarness({ model });
    const paused = await fixture.harness.startRun({ task: 'write x', requestedBy });

    const { doc } = await fixture.harness.reject({ runId: paused.run.runId, actor: cli(APPROVER), reason: 'use the ops folder' });

    expect(doc.run.status).toBe('completed');
    expect(doc.run.result).toContain('rejected by U_APPROVER1: use the ops folder');
    expect(existsSync(join(fixture.workspaceRoot, 'reports', 'x.md'))).toBe(false);
    const lastRequest = model.requests[model.requests.length - 1]!;
    expect(lastRequest.messages.at(-1)).toMatchObject({ role: 'tool', content: expect.stringContaining('use the ops folder') });
    expectReplayable(doc);
  });

  it('needs a reason to reject', async () => {
    fixture = makeHarness({ model: reportModel() });
    const paused = await fixture.harness.startRun({ task: 'write a report', requestedBy });
    await expect(fixture.harness.reject({ runId: paused.run.runId, actor: cli(APPROVER), reason: '  ' })).rejects.toThrow(
      /needs a reason/,
    );
    expect((await fixture.harness.getRun(paused.run.runId)).run.gates[0]?.status).toBe('pending');
  });

  it('refuses the requester under four-eyes and a non-approver, recording each refusal (P7)', async () => {
    const audit: { action: string; actor: string }[] = [];
    fixture = makeHarness({
      model: reportModel(),
      policy: { approvers: { default: [REQUESTER, APPROVER], categories: {} }, filesystem: { roots: ['reports'] } },
      audit: { append: async (entry) => audit.push(entry) },
    });
    const { harness } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const runId = paused.run.runId;

    await expect(harness.approve({ runId, actor: cli(REQUESTER) })).rejects.toThrow(/four-eyes/);
    await expect(harness.approve({ runId, actor: cli('U_VIEWER') })).rejects.toThrow(/not an approver/);
    await expect(harness.approve({ runId, actor: cli(APPROVER), nonce: 'forged' })).rejects.toThrow(/does not match/);
    await expect(harness.approve({ runId, gateId: 'g_unknown', actor: cli(APPROVER) })).rejects.toThrow(/not found/);

    const doc = await harness.getRun(runId);
    expect(doc.run.status).toBe('waiting_approval');
    expect(doc.run.gates[0]?.status).toBe('pending');
    expect(existsSync(join(fixture.workspaceRoot, 'reports', 'durable.md'))).toBe(false);
    expect(doc.trace.filter((e) => e.event === 'approval_refused').map((e) => e.detail['userId'])).toEqual([
      REQUESTER,
      'U_VIEWER',
      APPROVER,
      APPROVER,
    ]);
    expect(audit.map((e) => `${e.action}:${e.actor}`)).toEqual([
      `refused:${REQUESTER}`,
      'refused:U_VIEWER',
      `refused:${APPROVER}`,
      `refused:${APPROVER}`,
    ]);
    expectReplayable(doc);
  });

  it('records exactly one decision when approvals and rejections race (P8)', async () => {
    fixture = makeHarness({ model: reportModel() });
    const { harness } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const runId = paused.run.runId;

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? harness.approve({ runId, actor: cli(i % 4 === 0 ? APPROVER : APPROVER2) })
          : harness.reject({ runId, actor: cli(APPROVER2), reason: `no ${i}` }),
      ),
    );

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const loser of results.filter((r) => r.status === 'rejected')) {
      expect(String((loser as PromiseRejectedResult).reason)).toMatch(/already (approved|rejected) by/);
    }
    const doc = await harness.getRun(runId);
    const decisions = doc.trace.filter((e) => e.event === 'approval_granted' || e.event === 'approval_rejected');
    expect(decisions).toHaveLength(1);
    expect(doc.trace.filter((e) => e.event === 'tool_start' && e.detail['tool'] === 'workspace_write').length).toBeLessThanOrEqual(1);
    expectReplayable(doc);
  });

  it('runs edited arguments, records the edit and its new hash', async () => {
    fixture = makeHarness({ model: reportModel('reports/draft.md') });
    const { harness, workspaceRoot } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const edited = { path: 'reports/final.md', content: '# Edited\n' };

    const { doc } = await harness.approve({ runId: paused.run.runId, actor: cli(APPROVER), editedArgs: edited });

    expect(doc.run.status).toBe('completed');
    expect(readFileSync(join(workspaceRoot, 'reports', 'final.md'), 'utf8')).toBe('# Edited\n');
    expect(existsSync(join(workspaceRoot, 'reports', 'draft.md'))).toBe(false);
    const gate = doc.run.gates[0]!;
    expect(gate.editedArgs).toEqual(edited);
    expect(gate.approvedHash).toBe(computeArgsHash('workspace_write', edited, gate.policyVersion));
    expect(gate.approvedHash).not.toBe(gate.argsHash);
    const step = doc.run.steps.find((s) => s.stepId === gate.stepId)!;
    expect(step.originalArgs).toMatchObject({ path: 'reports/draft.md' });
    expectReplayable(doc);
  });

  it('refuses edited arguments that break the schema or the policy', async () => {
    fixture = makeHarness({ model: reportModel() });
    const { harness } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const runId = paused.run.runId;

    await expect(harness.approve({ runId, actor: cli(APPROVER), editedArgs: { path: 'reports/a.md' } })).rejects.toThrow(/invalid/);
    await expect(
      harness.approve({ runId, actor: cli(APPROVER), editedArgs: { path: '../escape.md', content: 'x' } }),
    ).rejects.toThrow(/denied by policy/);
    expect((await harness.getRun(runId)).run.gates[0]?.status).toBe('pending');
  });
});

describe('what you approve is what runs (P10)', () => {
  it('asks for a new gate when the stored arguments changed between approval and execution', async () => {
    fixture = makeHarness({ model: reportModel() });
    const { harness, store, workspaceRoot } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const runId = paused.run.runId;
    await harness.decideGate({ runId, actor: cli(APPROVER), decision: 'approve' });

    // A tampered store: the approved step's arguments are swapped behind the harness's back.
    await store.update(runId, (draft) => {
      const step = draft.run.steps.find((s) => s.status === 'approved')!;
      step.args = { path: 'reports/evil.md', content: 'pwned' };
    });
    const doc = await harness.runner.drive(runId);

    expect(doc.run.status).toBe('waiting_approval');
    expect(doc.run.gates).toHaveLength(2);
    expect(doc.run.gates[1]).toMatchObject({ status: 'pending', args: { path: 'reports/evil.md', content: 'pwned' } });
    expect(doc.run.gates[1]?.reason).toMatch(/changed after approval/);
    expect(existsSync(join(workspaceRoot, 'reports', 'evil.md'))).toBe(false);
    expect(doc.trace.some((e) => e.event === 'tool_start' && e.detail['tool'] === 'workspace_write')).toBe(false);
  });

  it('gives a re-planned call under the same call id its own gate', async () => {
    const model = ScriptedModel.fromSteps([
      { calls: [{ id: 'call_same', name: 'workspace_write', args: { path: 'reports/a.md', content: 'a' } }] },
      { calls: [{ id: 'call_same', name: 'workspace_write', args: { path: 'reports/b.md', content: 'b' } }] },
      { content: 'done' },
    ]);
    fixture = makeHarness({ model });
    const { harness, workspaceRoot } = fixture;
    const paused = await harness.startRun({ task: 'write a and b', requestedBy });

    const { doc } = await harness.approve({ runId: paused.run.runId, actor: cli(APPROVER) });

    expect(doc.run.status).toBe('waiting_approval');
    expect(existsSync(join(workspaceRoot, 'reports', 'a.md'))).toBe(true);
    expect(existsSync(join(workspaceRoot, 'reports', 'b.md'))).toBe(false);
    expect(doc.run.gates.map((g) => g.status)).toEqual(['approved', 'pending']);
    expectReplayable(doc);
  });
});

describe('gate expiry', () => {
  it('reminds, expires, refuses late approvals, and asks again on resume', async () => {
    fixture = makeHarness({
      model: reportModel(),
      policy: { approvers: { default: [APPROVER], categories: {} }, gateTtlMs: 10_000, reminderBeforeMs: 3_000 },
    });
    const { harness, clock } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const runId = paused.run.runId;

    clock.advance(8_000);
    expect((await harness.sweepGates()).map((e) => e.event)).toEqual(['approval_reminded']);
    expect(await harness.sweepGates()).toEqual([]);
    clock.advance(2_000);
    expect((await harness.sweepGates()).map((e) => e.event)).toEqual(['approval_expired']);
    await expect(harness.approve({ runId, actor: cli(APPROVER) })).rejects.toThrow(/already expired/);

    const again = await harness.resume(runId, cli(APPROVER));
    expect(again.run.status).toBe('waiting_approval');
    expect(again.run.gates.map((g) => g.status)).toEqual(['expired', 'pending']);
    const { doc } = await harness.approve({ runId, actor: cli(APPROVER) });
    expect(doc.run.status).toBe('completed');
    expectReplayable(doc);
  });

  it('refuses resume while a live gate waits', async () => {
    fixture = makeHarness({ model: reportModel() });
    const paused = await fixture.harness.startRun({ task: 'write a report', requestedBy });
    await expect(fixture.harness.resume(paused.run.runId, cli(APPROVER))).rejects.toThrow(/waiting for approval of gate/);
  });
});

describe('cancel', () => {
  it('cancels a waiting run and its gate; later decisions are refused', async () => {
    fixture = makeHarness({ model: reportModel() });
    const { harness } = fixture;
    const paused = await harness.startRun({ task: 'write a report', requestedBy });
    const doc = await harness.cancel(paused.run.runId, cli(REQUESTER), 'changed my mind');
    expect(doc.run.status).toBe('cancelled');
    expect(doc.run.gates[0]?.status).toBe('cancelled');
    await expect(harness.approve({ runId: paused.run.runId, actor: cli(APPROVER) })).rejects.toThrow(/already cancelled/);
    await expect(harness.cancel(paused.run.runId, cli(REQUESTER))).rejects.toThrow(/cannot be cancelled/);
    expectReplayable(await harness.getRun(paused.run.runId));
  });
});
