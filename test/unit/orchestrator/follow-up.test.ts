/**
 * Tasks and context (issue C, Build 4): a follow-up in a thread gets the original request and the
 * earlier results once — in its task, within `budgets.followUpContextTokens` — and keeps the
 * thread's role.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoleDefinition } from '../../../src/agents/role-types.ts';
import { type Fixture, REQUESTER, ScriptedModel, makeHarness, writerRole } from '../../support/harness-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };
const researcher: RoleDefinition = { ...writerRole, name: 'researcher', instructions: 'You research.' };

let fx: Fixture | undefined;
afterEach(() => fx?.cleanup());

describe('createFollowUp', () => {
  it('carries the original request, the result and tool results once, keeps the role, and stays in budget', async () => {
    const model = ScriptedModel.fromSteps([
      { calls: [{ name: 'workspace_read', args: { path: 'notes/durable-execution.md' } }] },
      { content: 'Durable execution persists every step before its effect.' },
    ]);
    fx = makeHarness({ model, roles: [writerRole, researcher], budgets: { followUpContextTokens: 200 } });
    const first = await fx.harness.startRun({ task: 'What is durable execution?', role: 'researcher', requestedBy });
    expect(first.run.status).toBe('completed');

    const follow = await fx.harness.createFollowUp({ previousRunId: first.run.runId, task: 'And how does resume work?', requestedBy });
    expect(follow.run.role).toBe('researcher');
    const task = follow.run.task;
    expect(task.startsWith('And how does resume work?\n\n---\n')).toBe(true);
    expect(task).toContain('Original request: What is durable execution?');
    expect(task).toContain('Result: Durable execution persists every step before its effect.');
    expect(task).toContain('workspace_read');
    expect(task.length - 'And how does resume work?\n\n---\n'.length).toBeLessThanOrEqual(200 * 4);
    // Once: the context is the run's first message, not repeated.
    expect(follow.run.transcript).toHaveLength(1);
  });

  it('drops the context rather than exceed maxInputChars, and an explicit role wins', async () => {
    fx = makeHarness({ model: ScriptedModel.fromSteps([{ content: 'x'.repeat(3000) }]), roles: [writerRole, researcher], budgets: { maxInputChars: 60 } });
    const first = await fx.harness.startRun({ task: 'first', role: 'researcher', requestedBy });
    const follow = await fx.harness.createFollowUp({ previousRunId: first.run.runId, task: 'a request of exactly fifty-five characters, more or less', role: 'writer', requestedBy });
    expect(follow.run.task.length).toBeLessThanOrEqual(60);
    expect(follow.run.role).toBe('writer');
  });
});
