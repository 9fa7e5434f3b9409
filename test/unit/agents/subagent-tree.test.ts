/**
 * Sub-agent trees end to end over fakes: a scripted PM drafts a researcher and a writer through
 * its MCP tools, awaits both, the writer's gate appears on the writer with its lineage, approving
 * it completes the tree; results are recorded on the parent even when never awaited; replaying
 * every trace rebuilds every run (P20).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelMessage } from '../../../src/model/port.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import { APPROVER, REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, makeTree, toolResults, untilRun } from './tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

const RESEARCH = 'Durable execution persists every step before its effect (notes/durable-execution.md).';
const REPORT = 'Report written to reports/durable.md.';

/** The PM: draft both, await both, keep awaiting whatever is not finished, then summarise. */
function pmScript() {
  const latest = (messages: ModelMessage[]) => {
    const byId = new Map<string, Record<string, unknown>>();
    for (const result of toolResults(messages)) if (typeof result['agent_id'] === 'string') byId.set(result['agent_id'], result);
    return [...byId.values()];
  };
  const follow = (messages: ModelMessage[]) => {
    const agents = latest(messages);
    const open = agents.filter((a) => a['status'] !== 'completed');
    if (open.length === 0) {
      const text = (roleName: string) => String(agents.find((a) => a['role'] === roleName)?.['result'] ?? '');
      return { content: `Research: ${text('researcher')}\nReport: ${text('writer')}` };
    }
    return { calls: open.map((a) => ({ name: 'await_agent', args: { agent_id: a['agent_id'], timeout_seconds: 600 } })) };
  };
  return [
    {
      calls: [
        { name: 'draft_agent', args: { role: 'researcher', task: 'Find what the notes say about durable execution' } },
        { name: 'draft_agent', args: { role: 'writer', task: 'Write a report on durable execution to reports/durable.md' } },
      ],
    },
    follow,
    follow,
    follow,
    follow,
    follow,
  ];
}

const researcherScript = [{ calls: [{ name: 'workspace_search', args: { query: 'durable execution' } }] }, { content: RESEARCH }];
const writerScript = [
  { calls: [{ name: 'workspace_write', args: { path: 'reports/durable.md', content: '# Durable execution\n' } }] },
  { content: REPORT },
];

async function treeDocs(fx: TreeFixture, rootId: string): Promise<RunDoc[]> {
  const root = await fx.harness.getRun(rootId);
  const out = [root];
  for (const childId of root.run.children) out.push(await fx.harness.getRun(childId));
  return out;
}

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('a PM drafts a researcher and a writer and awaits both', () => {
  it('through its own MCP tools registered for that run alone: gate with lineage, approval, final answer with both results', async () => {
    fx = makeTree({ scripts: { pm: pmScript(), researcher: researcherScript, writer: writerScript } });
    const { harness, workspaceRoot } = fx;
    const pm = await harness.createRun({ task: 'Get me a report on durable execution', role: 'pm', requestedBy });

    const pmDrive = harness.runner.drive(pm.run.runId);
    const waiting = await untilRun(harness, pm.run.runId, (d) => d.run.children.length === 2);
    const [researcherId, writerId] = waiting.run.children as [string, string];
    const writerPaused = await untilRun(harness, writerId, (d) => d.run.status === 'waiting_approval');

    const gate = writerPaused.run.gates[0]!;
    expect(gate).toMatchObject({ tool: 'workspace_write', status: 'pending', lineage: ['pm', 'writer'] });
    expect(gate.requestedBy).toEqual({ userId: REQUESTER, source: 'agent' });
    expect(existsSync(join(workspaceRoot, 'reports', 'durable.md'))).toBe(false);

    await harness.approve({ runId: writerId, actor: { userId: APPROVER, source: 'slack' } });
    const done = await pmDrive;

    expect(done.run.status).toBe('completed');
    expect(done.run.result).toContain(RESEARCH);
    expect(done.run.result).toContain(REPORT);
    expect(readFileSync(join(workspaceRoot, 'reports', 'durable.md'), 'utf8')).toBe('# Durable execution\n');
    await fx.manager.drain();

    const docs = await treeDocs(fx, pm.run.runId);
    const root = docs[0]!;
    expect(root.run.children).toEqual([researcherId, writerId]);
    const drafted = root.trace.filter((e) => e.event === 'subagent_drafted');
    expect(drafted.map((e) => [e.detail['childRunId'], e.detail['role']])).toEqual([
      [researcherId, 'researcher'],
      [writerId, 'writer'],
    ]);
    const finished = root.trace.filter((e) => e.event === 'subagent_finished');
    expect(finished.map((e) => e.detail['childRunId']).sort()).toEqual([researcherId, writerId].sort());
    expect(finished.every((e) => e.detail['status'] === 'completed')).toBe(true);
    const handoffs = root.trace.filter((e) => e.event === 'role_handoff').map((e) => [e.detail['from_role'], e.detail['to_role'], e.detail['purpose']]);
    expect(handoffs).toEqual(
      expect.arrayContaining([
        ['pm', 'researcher', 'draft'],
        ['pm', 'writer', 'draft'],
        ['researcher', 'pm', 'result'],
        ['writer', 'pm', 'result'],
      ]),
    );
    expect(handoffs).toHaveLength(4);

    // Every MCP call went through policy like any tool: checked, allowed as agent_lifecycle / read.
    const agentSteps = root.run.steps.filter((s) => s.tool === 'draft_agent' || s.tool === 'await_agent');
    expect(agentSteps.length).toBeGreaterThanOrEqual(4);
    for (const step of agentSteps) {
      expect(step).toMatchObject({ category: 'agent_lifecycle', risk: 'read', status: 'succeeded' });
      expect(step.decision?.decision).toBe('allow');
    }
    expect(root.trace.filter((e) => e.event === 'policy_checked' && e.detail['tool'] === 'draft_agent')).toHaveLength(2);

    for (const child of docs.slice(1)) {
      expect(child.run).toMatchObject({
        parentRunId: pm.run.runId,
        rootRunId: pm.run.runId,
        depth: 1,
        origin: { kind: 'agent', parentRunId: pm.run.runId },
        requestedBy: { userId: REQUESTER, source: 'agent' },
        status: 'completed',
      });
    }
    expect(docs[2]!.run.lineage).toEqual(['pm', 'writer']);
    for (const doc of docs) expect(replayTrace(doc.trace)).toEqual(doc.run);
  });

  it('every run of the tree talks to its own MCP server (one session per run, never shared)', async () => {
    fx = makeTree({ scripts: { pm: pmScript(), researcher: researcherScript, writer: writerScript } });
    const { harness, provider } = fx;
    const pm = await harness.createRun({ task: 'Get me a report on durable execution', role: 'pm', requestedBy });
    const pmDrive = harness.runner.drive(pm.run.runId);
    const waiting = await untilRun(harness, pm.run.runId, (d) => d.run.children.length === 2);
    const writerId = waiting.run.children[1]!;
    const paused = await untilRun(harness, writerId, (d) => d.run.status === 'waiting_approval');
    const pmSession = await provider.session((await harness.getRun(pm.run.runId)).run);
    const writerSession = await provider.session(paused.run);
    expect(pmSession?.runId).toBe(pm.run.runId);
    expect(writerSession?.runId).toBe(writerId);
    expect(pmSession?.server).not.toBe(writerSession?.server);
    expect(pmSession?.client).not.toBe(writerSession?.client);
    await harness.approve({ runId: writerId, actor: { userId: APPROVER, source: 'slack' } });
    const done = await pmDrive;

    expect(done.run.status).toBe('completed');
    expect(done.run.result).toBe(`Research: ${RESEARCH}\nReport: ${REPORT}`);
    await fx.manager.drain();
    for (const doc of await treeDocs(fx, pm.run.runId)) expect(replayTrace(doc.trace)).toEqual(doc.run);
  });
});

describe('results are persisted on the parent', () => {
  it('records subagent_finished and the result handoff exactly once even when nobody awaits', async () => {
    const pm = [
      { calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'Find what the notes say about durable execution' } }] },
      { content: 'Drafted a researcher; its result will be in the thread.' },
    ];
    fx = makeTree({ scripts: { pm, researcher: researcherScript } });
    const { harness, manager } = fx;
    const done = await harness.startRun({ task: 'look into durable execution', role: 'pm', requestedBy });
    expect(done.run.status).toBe('completed');
    const childId = done.run.children[0]!;

    const root = await untilRun(harness, done.run.runId, (d) => d.trace.some((e) => e.event === 'subagent_finished'));
    await manager.drain();
    expect(await manager.reconcile(done.run.runId)).toBe(0);

    const after = await harness.getRun(root.run.runId);
    const finished = after.trace.filter((e) => e.event === 'subagent_finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]!.detail).toMatchObject({ childRunId: childId, role: 'researcher', status: 'completed', resultPreview: RESEARCH });
    expect(after.trace.filter((e) => e.event === 'role_handoff' && e.detail['purpose'] === 'result')).toHaveLength(1);
    expect(after.run.status).toBe('completed');
    const child = await harness.getRun(childId);
    expect(child.run.result).toBe(RESEARCH);
    expect(replayTrace(after.trace)).toEqual(after.run);
    expect(replayTrace(child.trace)).toEqual(child.run);
  });

  it('reconcile records a finished child whose end nobody observed (e.g. the process stopped), once', async () => {
    fx = makeTree({ scripts: { researcher: researcherScript } });
    const { harness, manager } = fx;
    const root = await harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const { childRunId } = await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'research', by: 'test' });
    manager.close(); // stops listening before the child ends: its end goes unrecorded
    await manager.drain();
    expect((await harness.getRun(childRunId)).run.status).toBe('completed');
    expect((await harness.getRun(root.run.runId)).trace.some((e) => e.event === 'subagent_finished')).toBe(false);

    expect(await manager.reconcile(root.run.runId)).toBe(1);
    expect(await manager.reconcile(root.run.runId)).toBe(0);
    const doc = await harness.getRun(root.run.runId);
    expect(doc.trace.filter((e) => e.event === 'subagent_finished' && e.detail['childRunId'] === childRunId)).toHaveLength(1);
    expect(replayTrace(doc.trace)).toEqual(doc.run);
  });
});
