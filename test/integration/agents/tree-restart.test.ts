/**
 * A sub-agent tree over the durable store (real files): the process stops in the middle of the
 * tree — the writer waits for approval, the PM waits in await_agent — and a new process over the
 * same data directory recovers the PM, the approval is given there, and the tree completes. Every
 * trace still replays to its run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelMessage } from '../../../src/model/port.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { LowdbRunStore } from '../../../src/store/lowdb-run-store.ts';
import { APPROVER, REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, makeTree, toolResults, untilRun } from '../../unit/agents/tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

function pmScript() {
  const follow = (messages: ModelMessage[]) => {
    const latest = toolResults(messages).filter((r) => typeof r['agent_id'] === 'string').at(-1);
    if (latest?.['status'] === 'completed') return { content: `The writer says: ${String(latest['result'])}` };
    return { calls: [{ name: 'await_agent', args: { agent_id: latest?.['agent_id'], timeout_seconds: 600 } }] };
  };
  return [{ calls: [{ name: 'draft_agent', args: { role: 'writer', task: 'Write reports/tree.md' } }] }, follow, follow, follow, follow, follow];
}
const writerScript = [
  { calls: [{ name: 'workspace_write', args: { path: 'reports/tree.md', content: '# Tree\n' } }] },
  { content: 'Wrote reports/tree.md.' },
];

let dataDir: string | undefined;
const open: { fx: TreeFixture; store: LowdbRunStore }[] = [];
afterEach(async () => {
  for (const { fx, store } of open.splice(0)) {
    await fx.close();
    await store.close();
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function boot(dir: string): Promise<{ fx: TreeFixture; store: LowdbRunStore }> {
  const store = await LowdbRunStore.open({ dataDir: dir });
  const fx = makeTree({ scripts: { pm: pmScript(), writer: writerScript }, store });
  const booted = { fx, store };
  open.push(booted);
  return booted;
}

describe('a tree across a restart', () => {
  it('child waiting for approval, parent awaiting → restart → approve → the tree completes', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'harness-tree-'));
    const first = await boot(dataDir);
    const pm = await first.fx.harness.createRun({ task: 'Have a report on trees written', role: 'pm', requestedBy });
    const pmId = pm.run.runId;
    void first.fx.harness.runner.drive(pmId);
    const drafted = await untilRun(first.fx.harness, pmId, (d) => d.run.children.length === 1);
    const writerId = drafted.run.children[0]!;
    await untilRun(first.fx.harness, writerId, (d) => d.run.status === 'waiting_approval');
    // The PM reported the gate once and is now waiting in a second await_agent.
    await untilRun(first.fx.harness, pmId, (d) => d.run.steps.filter((s) => s.tool === 'await_agent' && s.status === 'started').length === 1 && d.run.steps.filter((s) => s.tool === 'await_agent').length === 2);

    // The process stops: drives are aborted, everything stays on disk where it was.
    open.splice(0);
    await first.fx.close();
    await first.store.close();

    const second = await boot(dataDir);
    const { harness, manager } = second.fx;
    expect((await harness.getRun(pmId)).run.status).toBe('running');
    expect((await harness.getRun(writerId)).run.status).toBe('waiting_approval');
    expect(await harness.recover()).toEqual([pmId]);

    // The PM's interrupted await (idempotent) runs again in the new process and waits again.
    await untilRun(harness, pmId, (d) => d.run.steps.some((s) => s.tool === 'await_agent' && s.status === 'started' && s.attempts === 2) || d.run.steps.filter((s) => s.tool === 'await_agent').length > 2);
    await harness.approve({ runId: writerId, actor: { userId: APPROVER, source: 'slack' } });
    const done = await untilRun(harness, pmId, (d) => d.run.status === 'completed');
    expect(done.run.result).toBe('The writer says: Wrote reports/tree.md.');
    await manager.drain();

    const root = await harness.getRun(pmId);
    const writer = await harness.getRun(writerId);
    expect(writer.run.status).toBe('completed');
    expect(root.trace.filter((e) => e.event === 'subagent_finished')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ childRunId: writerId, status: 'completed' }) }),
    ]);
    expect(await manager.reconcile(pmId)).toBe(0);
    // The interrupted await ran again (attempt 2). The gate was already reported before the crash
    // (the PM's persisted await result says so), so it is not reported again: the re-run waited
    // through the approval to the writer's end.
    expect(root.run.steps.map((s) => [s.tool, s.status, s.attempts, JSON.parse(s.output?.content ?? '{}').status])).toEqual([
      ['draft_agent', 'succeeded', 1, 'running'],
      ['await_agent', 'succeeded', 1, 'waiting_approval'],
      ['await_agent', 'succeeded', 2, 'completed'],
    ]);
    for (const doc of [root, writer]) expect(replayTrace(doc.trace)).toEqual(doc.run);
  });
});
