/**
 * Handoffs (issue C, Build 9): planner → executor → reviewer handoffs are trace events on the
 * parent (`role_handoff`, `role_activity`, `draft_reviewed` for a reviewer) and rows of
 * `handoffs.json` (`buildHandoffs`); a sub-agent's own trace records its role starting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelMessage } from '../../../src/model/port.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { buildHandoffs } from '../../../src/trace/handoffs.ts';
import { REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, lastDraftedId, makeTree, untilRun } from './tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('planner → executor → reviewer', () => {
  it('records draft and result handoffs with stages, role executions, and draft_reviewed for the reviewer', async () => {
    const awaitLast = (messages: ModelMessage[]) => ({ calls: [{ name: 'await_agent', args: { agent_id: lastDraftedId(messages), timeout_seconds: 600 } }] });
    fx = makeTree({
      scripts: {
        pm: [
          { calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'find the facts' } }] },
          awaitLast,
          { calls: [{ name: 'draft_agent', args: { role: 'critic', task: 'review the facts' } }] },
          awaitLast,
          { content: 'reviewed' },
        ],
        researcher: [{ content: 'the facts' }],
        critic: [{ content: 'pass: the facts hold' }],
      },
    });
    const pm = await fx.harness.startRun({ task: 'facts, reviewed', role: 'pm', requestedBy });
    expect(pm.run.status).toBe('completed');
    await fx.manager.drain();
    const root = await fx.harness.getRun(pm.run.runId);
    const [researcherId, criticId] = root.run.children as [string, string];

    const report = buildHandoffs(root);
    expect(report.handoffs.map((h) => [h.from_role, h.to_role, h.purpose, (h.payload as Record<string, unknown>)['from_stage'], (h.payload as Record<string, unknown>)['to_stage']])).toEqual([
      ['pm', 'researcher', 'draft', 'planner', 'executor'],
      ['researcher', 'pm', 'result', 'executor', 'planner'],
      ['pm', 'critic', 'review', 'planner', 'reviewer'],
      ['critic', 'pm', 'result', 'reviewer', 'planner'],
    ]);
    expect(report.role_executions.map((r) => [r.role, r.action])).toEqual([
      ['pm', 'delegated'],
      ['researcher', 'completed'],
      ['pm', 'delegated'],
      ['critic', 'completed'],
    ]);
    const reviewed = root.trace.filter((e) => e.event === 'draft_reviewed');
    expect(reviewed.map((e) => e.detail['review'])).toEqual([{ childRunId: criticId, role: 'critic', status: 'completed', verdict: 'pass: the facts hold' }]);

    const researcher = await untilRun(fx.harness, researcherId, (d) => d.run.status === 'completed');
    expect(buildHandoffs(researcher).role_executions).toEqual([
      expect.objectContaining({ role: 'researcher', action: 'started', payload: { parentRunId: root.run.runId, lineage: ['pm', 'researcher'] } }),
    ]);
    for (const doc of [root, researcher]) expect(replayTrace(doc.trace)).toEqual(doc.run);
  });
});
