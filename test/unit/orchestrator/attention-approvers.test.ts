/**
 * Regression: deciding how an interrupted step continues (retry / skip) when it never had a gate
 * used its own copy of "who approves": the category's approvers, else the default list. It
 * ignored approvers set on the tool itself (`policy.tools.<tool>.approvers`), which the policy
 * engine puts first for gates. Both now use `approversFor`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLedgerTool } from '../../../src/tools/testing/ledger-tool.ts';
import { APPROVER, type Fixture, REQUESTER, ScriptedModel, makeHarness, testPolicy } from '../../support/harness-fixture.ts';

const cli = (userId: string) => ({ userId, source: 'cli' as const });
const OPS = 'U_OPS';

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

describe('an interrupted step without a gate is decided by the tool’s own approvers', () => {
  it('lets the tool’s approver retry it and refuses the default approvers', async () => {
    // A read tool runs without a gate; it is not idempotent, so an interruption needs a human.
    const policy = { ...testPolicy, tools: { once_read: { approvers: [OPS] } } };
    const model = (): ScriptedModel => ScriptedModel.fromSteps([{ calls: [{ name: 'once_read', args: { note: 'a' } }] }, { content: 'done' }]);
    // The first process hangs inside the tool (tool_start is durable), then is gone.
    const hung = createLedgerTool({ name: 'once_read', category: 'read_only', risk: 'read', idempotent: false, hang: true });
    const dying = makeHarness({ model: model(), tools: [hung.definition], policy });
    fixtures.push(dying);
    void dying.harness.startRun({ task: 'read once', requestedBy: cli(REQUESTER) }).catch(() => undefined);
    await expect.poll(async () => (await dying.store.list({})).length).toBe(1);
    const runId = (await dying.store.list({}))[0]!.runId;
    await expect.poll(async () => (await dying.store.get(runId))?.trace.some((e) => e.event === 'tool_start')).toBe(true);

    const once = createLedgerTool({ name: 'once_read', category: 'read_only', risk: 'read', idempotent: false });
    const restarted = makeHarness({ model: model(), tools: [once.definition], policy, store: dying.store });
    fixtures.push(restarted);
    const { harness } = restarted;
    const attention = await harness.resume(runId, cli(OPS));
    expect(attention.run.status).toBe('needs_attention');
    expect(attention.run.gates).toEqual([]);

    // The default approvers do not decide a tool that names its own.
    await expect(harness.resolveAttention(runId, 'retry', cli(APPROVER))).rejects.toThrow(/not an approver/);
    expect(once.entries).toEqual([]);

    const retried = await harness.resolveAttention(runId, 'retry', cli(OPS));
    expect(retried.run.status).toBe('completed');
    expect(once.entries.map((e) => e.key)).toEqual([`${runId}:0.0`]);
  });
});
