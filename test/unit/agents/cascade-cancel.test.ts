/**
 * The harness's cascading cancel (issue C change in src/orchestrator/harness.ts): cancelling a run
 * cancels every non-terminal run below it — also below a child that already finished — with
 * `run_cancelled` on each and one `subagent_killed` on each parent, and aborts their drives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { InvalidStateError } from '../../../src/shared/errors.ts';
import { APPROVER, REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, hangTool, makeTree, untilEntered, untilRun } from './tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };
const admin = { userId: APPROVER, source: 'cli' as const };

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('Harness.cancel cascades', () => {
  it('reaches a grandchild below a child that already completed without awaiting it', async () => {
    const hang = hangTool();
    const lead = [{ calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'dig' } }] }, { content: 'delegated, not waiting' }];
    fx = makeTree({ scripts: { lead, researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition] });
    const { harness, manager } = fx;
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const { childRunId: leadId } = await manager.draft({ parentRunId: root.run.runId, role: 'lead', task: 'lead it', by: 'test' });
    const leadDone = await untilRun(harness, leadId, (d) => d.run.status === 'completed' && d.run.children.length === 1);
    const researcherId = leadDone.run.children[0]!;
    await untilEntered(hang, researcherId);

    const cancelled = await harness.cancel(root.run.runId, admin, 'operator stop');
    expect(cancelled.run.status).toBe('cancelled');
    await manager.drain();

    const researcher = await harness.getRun(researcherId);
    expect(researcher.run.status).toBe('cancelled');
    expect(researcher.run.error?.message).toBe(`cancelled by ${APPROVER}: operator stop (cascaded from ${root.run.runId})`);
    expect(hang.aborted).toEqual([researcherId]);
    expect(harness.runner.isDriving(researcherId)).toBe(false);

    const leadDoc = await harness.getRun(leadId);
    expect(leadDoc.run.status).toBe('completed'); // a finished run is left as it is
    expect(leadDoc.trace.filter((e) => e.event === 'subagent_killed').map((e) => e.detail)).toEqual([
      { childRunId: researcherId, by: APPROVER, source: 'cli', reason: `operator stop (cascaded from ${root.run.runId})`, cascade: true },
    ]);
    const rootDoc = await harness.getRun(root.run.runId);
    expect(rootDoc.trace.some((e) => e.event === 'subagent_killed')).toBe(false); // its child was not killed
    for (const doc of [rootDoc, leadDoc, researcher]) expect(replayTrace(doc.trace)).toEqual(doc.run);
  });

  it('a child drafted while its parent is being cancelled is cancelled too, never left running', async () => {
    fx = makeTree({ scripts: { researcher: [{ content: 'should never run' }] } });
    const { harness, manager } = fx;
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    let cancelling: Promise<unknown> | undefined;
    // The parent's cancel lands between the child's creation and the parent's draft record.
    const unsubscribe = harness.onCommit(({ doc, events }) => {
      if (doc.run.parentRunId === root.run.runId && events.some((e) => e.event === 'run_created')) {
        cancelling = harness.cancel(root.run.runId, admin, 'stop');
      }
    });
    await expect(manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'r', by: 'test' })).rejects.toThrow(
      /ended while drafting/,
    );
    unsubscribe();
    await cancelling;
    await manager.drain();
    const rootDoc = await harness.getRun(root.run.runId);
    expect(rootDoc.run.status).toBe('cancelled');
    const childId = rootDoc.run.children[0]!;
    const child = await harness.getRun(childId);
    expect(child.run.status).toBe('cancelled');
    expect(child.trace.some((e) => e.event === 'model_called')).toBe(false);
    expect(rootDoc.trace.filter((e) => e.event === 'subagent_killed').map((e) => e.detail['childRunId'])).toEqual([childId]);
  });

  it('records subagent_killed on the parent when a sub-agent itself is cancelled, and refuses a finished run', async () => {
    const hang = hangTool();
    fx = makeTree({ scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition] });
    const { harness, manager } = fx;
    const root = await harness.createRun({ task: 'root', role: 'pm', requestedBy });
    const { childRunId } = await manager.draft({ parentRunId: root.run.runId, role: 'researcher', task: 'r', by: 'test' });
    await untilEntered(hang, childRunId);

    await harness.cancel(childRunId, admin, 'not needed');
    const rootDoc = await harness.getRun(root.run.runId);
    expect(rootDoc.run.status).toBe('queued');
    expect(rootDoc.trace.find((e) => e.event === 'subagent_killed')?.detail).toEqual({
      childRunId,
      by: APPROVER,
      source: 'cli',
      reason: 'not needed',
      cascade: false,
    });
    await expect(harness.cancel(childRunId, admin)).rejects.toThrow(InvalidStateError);
    expect((await harness.getRun(root.run.runId)).trace.filter((e) => e.event === 'subagent_killed')).toHaveLength(1);
  });
});
