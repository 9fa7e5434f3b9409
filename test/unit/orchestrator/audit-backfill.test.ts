/**
 * Regression (found by the chaos suite): a decision is committed to the run, then audited. A
 * process killed between the two left a decided gate with no audit line, and recovery never wrote
 * it. Recovery now writes the missing line from the gate's record, once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditSink } from '../../../src/orchestrator/deps.ts';
import { MemoryRunStore } from '../../../src/store/memory-run-store.ts';
import { APPROVER, type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

type Line = Parameters<AuditSink['append']>[0];

/** An audit log in memory; `stallOn` makes that action's append never finish (the process "dies" there). */
class MemoryAudit implements AuditSink {
  readonly lines: Line[] = [];
  constructor(private readonly stallOn?: string) {}
  append(entry: Line): Promise<unknown> {
    if (entry.action === this.stallOn) return new Promise(() => undefined);
    this.lines.push(entry);
    return Promise.resolve(entry);
  }
  records(): Promise<readonly Line[]> {
    return Promise.resolve([...this.lines]);
  }
}

function reportModel(): ScriptedModel {
  return ScriptedModel.fromSteps([
    { calls: [{ name: 'workspace_write', args: { path: 'reports/audit.md', content: '# Audit\n' } }] },
    { content: 'Report written to reports/audit.md.' },
  ]);
}

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

describe('recovery writes the audit line a crash cut off', () => {
  it('audits an approval committed just before the process stopped, once', async () => {
    const store = new MemoryRunStore();
    const dying = makeHarness({ model: reportModel(), store, audit: new MemoryAudit('approved') });
    fixtures.push(dying);
    const paused = await dying.harness.startRun({ task: 'write the audit report', requestedBy: { userId: REQUESTER, source: 'cli' } });
    const runId = paused.run.runId;
    // The decision commits, then the audit append never returns: the process is gone from here on.
    void dying.harness.approve({ runId, actor: { userId: APPROVER, source: 'slack' } });
    await expect.poll(async () => (await store.get(runId))?.run.gates[0]?.status).toBe('approved');
    expect((await store.get(runId))?.run.status).toBe('running');

    const audit = new MemoryAudit();
    const restarted = makeHarness({ model: reportModel(), store, audit });
    fixtures.push(restarted);
    expect(await restarted.harness.recover()).toEqual([runId]);
    await expect.poll(async () => (await store.get(runId))?.run.status).toBe('completed');

    const decisions = audit.lines.filter((l) => l.action === 'approved');
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ runId, gateId: paused.run.gates[0]!.gateId, actor: APPROVER, source: 'slack' });
    expect(decisions[0]!.reason).toMatch(/written at recovery/);

    // A second recovery finds the line and writes nothing more.
    await restarted.harness.recover();
    expect(audit.lines.filter((l) => l.action === 'approved')).toHaveLength(1);
  });
});
