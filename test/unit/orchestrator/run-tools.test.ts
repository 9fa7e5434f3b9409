/**
 * The runner's per-run tool view (issue C, Build 6): each run is offered, and may call, exactly its
 * role's tools plus its OWN agent-tool server's tools; every agent-tool call passes validation,
 * policy and gates like any tool; time inside await_agent is not active work (maxWallMs); and a
 * tool cancelled mid-call still gets its end event (P20).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import type { ModelMessage } from '../../../src/model/port.ts';
import { APPROVER, REQUESTER, testPolicy } from '../../support/harness-fixture.ts';
import { type TreeFixture, hangTool, lastDraftedId, makeTree, untilEntered, untilRun, untilSleeping } from '../agents/tree-fixture.ts';
import type { RoleRoutedModel } from '../../../src/agents/subagents/testing/role-routed-model.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };
const AGENT_READ = ['list_agents', 'list_tasks', 'get_task_context'];
const AGENT_ALL = [...AGENT_READ, 'draft_agent', 'await_agent', 'kill_agent'];

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** The tool names each model call was offered, per role (read from the scripted models). */
function offered(model: unknown, role: string): string[][] {
  const routes = (model as { routes: { role: string; model: { requests: { tools: { name: string }[] }[] } }[] }).routes;
  const route = routes.find((r) => r.role === role);
  return route ? route.model.requests.map((r) => r.tools.map((t) => t.name)) : [];
}

describe('what a run is offered and may call', () => {
  it('a full-access role is offered its role tools plus six agent tools; a read-only role its tools plus three', async () => {
    fx = makeTree({
      scripts: {
        pm: [{ calls: [{ name: 'draft_agent', args: { role: 'writer', task: 'write nothing' } }] }, { content: 'drafted' }],
        writer: [{ content: 'nothing to write' }],
      },
    });
    const pm = await fx.harness.startRun({ task: 'delegate', role: 'pm', requestedBy });
    expect(pm.run.status).toBe('completed');
    await untilRun(fx.harness, pm.run.children[0]!, (d) => d.run.status === 'completed');
    const model = fx.harness.deps.model as RoleRoutedModel;
    expect(offered(model, 'pm')).toEqual([AGENT_ALL, AGENT_ALL]);
    expect(offered(model, 'writer')).toEqual([['workspace_read', 'workspace_write', ...AGENT_READ]]);
  });

  it('a read-only run calling draft_agent is denied (its server has no such tool) and nothing is created', async () => {
    fx = makeTree({ scripts: { writer: [{ calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'x' } }] }, { content: 'ok' }] } });
    const run = await fx.harness.startRun({ task: 'try to delegate', role: 'writer', requestedBy });
    expect(run.run.status).toBe('completed');
    expect(run.run.steps[0]).toMatchObject({ tool: 'draft_agent', status: 'denied' });
    expect(run.trace.find((e) => e.event === 'policy_denied')?.detail).toMatchObject({ rule: 'unregistered' });
    expect(run.run.children).toEqual([]);
    expect(await fx.harness.listRuns()).toHaveLength(1);
  });

  it('a global tool outside the role list is denied by policy, although it is registered', async () => {
    fx = makeTree({ scripts: { pm: [{ calls: [{ name: 'workspace_write', args: { path: 'reports/x.md', content: 'x' } }] }, { content: 'ok' }] } });
    const run = await fx.harness.startRun({ task: 'write it yourself', role: 'pm', requestedBy });
    expect(run.trace.find((e) => e.event === 'policy_denied')?.detail).toMatchObject({ rule: 'role:pm:tools' });
  });

  it('agent tools pass policy and gates like any tool: agent_lifecycle: approve gates draft_agent', async () => {
    fx = makeTree({
      scripts: {
        pm: [{ calls: [{ name: 'draft_agent', args: { role: 'writer', task: 'write nothing' } }] }, { content: 'drafted after approval' }],
        writer: [{ content: 'nothing' }],
      },
      policy: { ...testPolicy, categories: { read_only: 'allow', agent_lifecycle: 'approve', filesystem_write: 'approve' } },
    });
    const paused = await fx.harness.startRun({ task: 'delegate with approval', role: 'pm', requestedBy });
    expect(paused.run.status).toBe('waiting_approval');
    expect(paused.run.gates[0]).toMatchObject({ tool: 'draft_agent', category: 'agent_lifecycle', lineage: ['pm'] });
    expect(paused.run.children).toEqual([]);
    const done = await fx.harness.approve({ runId: paused.run.runId, actor: { userId: APPROVER, source: 'slack' } });
    expect(done.doc.run.status).toBe('completed');
    expect(done.doc.run.children).toHaveLength(1);
    expect(replayTrace(done.doc.trace)).toEqual(done.doc.run);
  });

  it('schema validation applies to agent tools: extra keys are an invalid call the model sees', async () => {
    fx = makeTree({ scripts: { pm: [{ calls: [{ name: 'draft_agent', args: { role: 'writer', task: 'x', sudo: true } }] }, { content: 'ok' }] } });
    const run = await fx.harness.startRun({ task: 'bad args', role: 'pm', requestedBy });
    expect(run.run.steps[0]).toMatchObject({ tool: 'draft_agent', status: 'invalid' });
    expect(run.run.children).toEqual([]);
  });
});

describe('budgets', () => {
  it('time inside await_agent does not count against maxWallMs', async () => {
    const hang = hangTool();
    const awaitOnce = (messages: ModelMessage[]) => ({ calls: [{ name: 'await_agent', args: { agent_id: lastDraftedId(messages), timeout_seconds: 1 } }] });
    fx = makeTree({
      tools: [hang.definition],
      budgets: { maxWallMs: 2_000 },
      scripts: {
        pm: [
          { calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'hang around' } }] },
          awaitOnce,
          awaitOnce,
          awaitOnce,
          (messages: ModelMessage[]) => ({ calls: [{ name: 'kill_agent', args: { agent_id: lastDraftedId(messages) } }] }),
          { content: 'waited three seconds and stopped the researcher' },
        ],
        researcher: [{ calls: [{ name: 'hang', args: {} }] }],
      },
    });
    const pm = await fx.harness.createRun({ task: 'wait for the researcher', role: 'pm', requestedBy });
    const drive = fx.harness.runner.drive(pm.run.runId);
    const researcher = (await untilRun(fx.harness, pm.run.runId, (d) => d.run.children.length === 1)).run.children[0]!;
    await untilEntered(hang, researcher);
    for (let n = 1; n <= 3; n += 1) {
      await untilRun(fx.harness, pm.run.runId, (d) => d.run.steps.some((s) => s.tool === 'await_agent' && s.status === 'started' && s.stepId === `${n}.0`));
      await untilSleeping(fx.clock, 3); // the researcher's hang timeout, the await's wait and its tool timeout
      fx.clock.advance(1000);
      await untilRun(fx.harness, pm.run.runId, (d) => d.run.steps.some((s) => s.stepId === `${n}.0` && s.status === 'succeeded'));
    }
    const done = await drive;
    expect(done.run.status).toBe('completed');
    const awaits = done.run.steps.filter((s) => s.tool === 'await_agent');
    expect(awaits.map((s) => JSON.parse(s.output!.content).timed_out)).toEqual([true, true, true]);
    expect(awaits.reduce((sum, s) => sum + (s.durationMs ?? 0), 0)).toBeGreaterThanOrEqual(3000);
    expect(done.run.usage.activeMs).toBeLessThan(2000);
    expect((await fx.harness.getRun(researcher)).run.status).toBe('cancelled');
    expect(replayTrace(done.trace)).toEqual(done.run);
  });
});

describe('P20: a tool cancelled mid-call', () => {
  it('pairs tool_start with tool_error {code: cancelled}; the step is cancelled and the trace replays', async () => {
    const hang = hangTool();
    fx = makeTree({ tools: [hang.definition], scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] } });
    const run = await fx.harness.createRun({ task: 'hang', role: 'researcher', requestedBy });
    const drive = fx.harness.runner.drive(run.run.runId);
    await untilEntered(hang, run.run.runId);
    await fx.harness.cancel(run.run.runId, { userId: APPROVER, source: 'slack' }, 'stop');
    await drive;
    const doc = await fx.harness.getRun(run.run.runId);
    const starts = doc.trace.filter((e) => e.event === 'tool_start');
    const ends = doc.trace.filter((e) => e.event === 'tool_ok' || e.event === 'tool_error');
    expect(starts).toHaveLength(1);
    expect(ends.map((e) => [e.event, e.stepId, (e.detail['error'] as { code: string }).code])).toEqual([['tool_error', starts[0]!.stepId, 'cancelled']]);
    expect(doc.run.steps[0]?.status).toBe('cancelled');
    expect(hang.aborted).toEqual([run.run.runId]);
    expect(replayTrace(doc.trace)).toEqual(doc.run);
  });
});
