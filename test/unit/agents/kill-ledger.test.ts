/**
 * kill_agent really stops the child and its children (issue C acceptance; the reference harness's
 * kill "succeeded" without stopping anything): a lead and its researcher append to the rig's
 * ledger tool (src/tools/testing/ledger-tool.ts) as fast as they can; the PM kills the lead with
 * kill_agent; after the kill returns, the ledger never grows again and both are cancelled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelMessage } from '../../../src/model/port.ts';
import type { ScriptedStep } from '../../../src/model/scripted-model.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { createLedgerTool } from '../../../src/tools/testing/ledger-tool.ts';
import { REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, makeTree, toolResults } from './tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** `n` ledger calls, each with different arguments (identical calls would be a loop the monitor stops). */
function appending(who: string, n: number): ((messages: ModelMessage[]) => ScriptedStep)[] {
  return Array.from({ length: n }, (_, i) => () => ({ calls: [{ name: 'ledger_note', args: { note: `${who} ${i}` } }] }));
}

describe('kill_agent', () => {
  it('stops the child and the grandchild: the ledger stops growing the moment kill returns', async () => {
    const ledger = createLedgerTool({ name: 'ledger_note', category: 'read_only', risk: 'read', idempotent: true });
    const count = (who: string) => ledger.entries.filter((e) => String((e.args as { note: string }).note).startsWith(`${who} `)).length;
    const poll = (messages: ModelMessage[]): ScriptedStep => {
      const leadId = toolResults(messages).find((r) => r['next'] !== undefined)?.['agent_id'];
      if (count('lead') >= 3 && count('researcher') >= 3) return { calls: [{ name: 'kill_agent', args: { agent_id: leadId, reason: 'enough' } }] };
      return { calls: [{ name: 'list_agents', args: {} }] };
    };
    const afterKill = (messages: ModelMessage[]): ScriptedStep =>
      toolResults(messages).some((r) => r['status'] === 'cancelled' && Array.isArray(r['killed'])) ? { content: 'killed the lead' } : poll(messages);
    fx = makeTree({
      tools: [ledger.definition],
      budgets: { maxTurns: 400, maxToolCalls: 400 },
      scripts: {
        pm: [{ calls: [{ name: 'draft_agent', args: { role: 'lead', task: 'append forever' } }] }, ...Array.from({ length: 300 }, () => afterKill)],
        lead: [{ calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'append forever too' } }] }, ...appending('lead', 300)],
        researcher: appending('researcher', 300),
      },
    });
    const pm = await fx.harness.startRun({ task: 'run the appenders', role: 'pm', requestedBy });
    expect(pm.run.status).toBe('completed');
    const kill = pm.run.steps.find((s) => s.tool === 'kill_agent')!;
    const killed = JSON.parse(kill.output!.content) as { agent_id: string; killed: string[] };
    const lead = await fx.harness.getRun(killed.agent_id);
    const researcherId = lead.run.children[0]!;
    expect(killed.killed).toEqual([lead.run.runId, researcherId]);

    const frozen = ledger.entries.length;
    await fx.manager.drain();
    for (let i = 0; i < 50; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(ledger.entries.length).toBe(frozen);
    expect(frozen).toBeLessThan(600);
    const researcher = await fx.harness.getRun(researcherId);
    for (const doc of [lead, researcher]) {
      expect(doc.run.status).toBe('cancelled');
      expect(doc.trace.filter((e) => e.event === 'tool_start').length).toBe(doc.trace.filter((e) => e.event === 'tool_ok' || e.event === 'tool_error').length);
      expect(replayTrace(doc.trace)).toEqual(doc.run);
    }
    const root = await fx.harness.getRun(pm.run.runId);
    expect(root.trace.filter((e) => e.event === 'subagent_killed').map((e) => [e.detail['childRunId'], e.detail['by']])).toEqual([[lead.run.runId, `agent:${pm.run.runId}`]]);
  });
});
