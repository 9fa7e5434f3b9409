import { describe, expect, it } from 'vitest';
import { ActionIds, decodeAgentAction } from '../../../../src/slack/blocks/action-ids.ts';
import { BlockLimits, countBlockTextChars, validateMessageBlocks } from '../../../../src/slack/blocks/block-kit-schema.ts';
import { renderRunStatus, renderSubagentStatus } from '../../../../src/slack/blocks/status-message.ts';
import type { SlackMessage } from '../../../../src/slack/blocks/types.ts';
import type { TraceEvent } from '../../../../src/store/run-schema.ts';
import { HOSTILE, REQUESTER, RUN_DOC_TIME, expectNoForeignMarkup, makeDoc, makeGate, makeStep } from './builders.ts';

const NOW = RUN_DOC_TIME + 192_000;

function text(message: SlackMessage): string {
  return JSON.stringify(message.blocks);
}

function expectWithinLimits(message: SlackMessage): void {
  expect(validateMessageBlocks(message.blocks)).toEqual({ ok: true });
  expect(countBlockTextChars(message.blocks)).toBeLessThanOrEqual(BlockLimits.messageTotalText);
}

function buttons(message: SlackMessage) {
  return message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
}

describe('renderRunStatus', () => {
  it('shows role, status, current step, usage and elapsed time for a running task', () => {
    const doc = makeDoc({
      status: 'running',
      steps: [makeStep(0), makeStep(1, { tool: 'workspace_search', status: 'started' })],
      usage: { turns: 2, toolCalls: 2, inputTokens: 1200, outputTokens: 345, activeMs: 900 },
    });
    const message = renderRunStatus(doc, NOW);
    const body = text(message);
    expect(body).toContain(':arrows_counterclockwise: *writer* · running');
    expect(body).toContain('Current step: `workspace_search` (started)');
    expect(body).toContain('elapsed 3m 12s');
    expect(body).toContain('tokens 1,545 (in 1,200 / out 345)');
    expect(body).toContain('tool calls 2/40');
    expect(message.text).toBe('writer: running');
    expectWithinLimits(message);
  });

  it('says which tool is waiting for approval', () => {
    const gate = makeGate();
    const doc = makeDoc({ status: 'waiting_approval', gates: [gate], steps: [makeStep(0, { tool: gate.tool, status: 'awaiting_approval', gateId: gate.gateId })] });
    const message = renderRunStatus(doc, NOW);
    expect(text(message)).toContain(':raised_hand: Waiting for approval of `workspace_write`');
    expect(message.text).toBe('writer: waiting for approval of workspace_write');
  });

  it('measures elapsed to updatedAt once the run is terminal', () => {
    const doc = makeDoc({ status: 'completed', updatedAt: RUN_DOC_TIME + 45_000, result: 'done' });
    expect(text(renderRunStatus(doc, RUN_DOC_TIME + 10_000_000))).toContain('elapsed 45s');
  });

  it('escapes model text in the task, tools, errors and attention reasons', () => {
    const steps = [makeStep(0, { tool: `tool ${HOSTILE}` })];
    for (const run of [
      { status: 'running' as const, task: HOSTILE, role: HOSTILE, steps },
      { status: 'failed' as const, error: { code: 'tool_failed', message: HOSTILE } },
      { status: 'needs_attention' as const, steps, attention: { stepId: 's_1', reason: HOSTILE } },
    ]) {
      const message = renderRunStatus(makeDoc(run), NOW);
      expectNoForeignMarkup(message, []);
      expectWithinLimits(message);
    }
  });

  it('stays small with 60 steps and 30 children, one line per child', () => {
    const steps = Array.from({ length: 60 }, (_, i) => makeStep(i, { tool: `tool_${i}` }));
    const children = Array.from({ length: 30 }, (_, i) =>
      makeDoc({
        runId: `r_child${String(i).padStart(2, '0')}`,
        parentRunId: 'r_test0001',
        rootRunId: 'r_test0001',
        depth: 1,
        role: i % 2 === 0 ? 'researcher' : `writer ${HOSTILE}`,
        status: i % 3 === 0 ? 'completed' : 'running',
        steps: [makeStep(0, { tool: 'http_fetch', status: 'started' })],
      }),
    );
    const doc = makeDoc({ steps, children: children.map((c) => c.run.runId) });
    const message = renderRunStatus(doc, NOW, { children });
    expectWithinLimits(message);
    expect(message.blocks.length).toBeLessThanOrEqual(10);
    const body = text(message);
    expect(body).toContain('*Recent steps* (55 earlier)');
    expect(body).toContain('`tool_59`');
    expect(body).not.toContain('`tool_10`');
    expect(body).toContain('*Sub-agents (30)*');
    expect(body).toContain('…and 5 more');
    expect(body).toContain('*researcher* — running · `http_fetch`');
    expectNoForeignMarkup(message, []);
  });

  it('matches the reviewed snapshot', async () => {
    const gate = makeGate();
    const child = makeDoc({ runId: 'r_child01', parentRunId: 'r_test0001', rootRunId: 'r_test0001', depth: 1, role: 'researcher', steps: [makeStep(0, { tool: 'http_fetch', status: 'started' })] });
    const doc = makeDoc({
      role: 'pm',
      lineage: ['pm'],
      task: 'Draft the Q3 summary and save it to notes/report.md',
      status: 'waiting_approval',
      gates: [gate],
      children: ['r_child01'],
      steps: [makeStep(0), makeStep(1, { tool: 'workspace_write', status: 'awaiting_approval', gateId: gate.gateId })],
      usage: { turns: 3, toolCalls: 1, inputTokens: 4200, outputTokens: 830, activeMs: 2100 },
    });
    const message = renderRunStatus(doc, NOW, { children: [child] });
    await expect(`${JSON.stringify(message, null, 2)}\n`).toMatchFileSnapshot('../../../fixtures/slack/run-status.json');
  });
});

describe('renderSubagentStatus', () => {
  const child = () =>
    makeDoc({ runId: 'r_child01', parentRunId: 'r_test0001', rootRunId: 'r_test0001', depth: 1, role: 'researcher', lineage: ['pm', 'researcher'] });

  it('offers a Kill button carrying only the run id while the run is live', () => {
    const message = renderSubagentStatus(child(), NOW, { canKill: true });
    const [kill] = buttons(message);
    expect(kill?.action_id).toBe(ActionIds.agentKill);
    expect(kill?.style).toBe('danger');
    expect(kill?.confirm).toBeDefined();
    expect(decodeAgentAction(kill?.value)).toEqual({ runId: 'r_child01' });
    expect(text(message)).toContain('*Lineage:* pm → researcher');
    expectWithinLimits(message);
  });

  it('has no Kill button when not allowed or terminal', () => {
    expect(buttons(renderSubagentStatus(child(), NOW, { canKill: false }))).toEqual([]);
    const done = makeDoc({ ...child().run, status: 'completed', result: 'ok' });
    expect(buttons(renderSubagentStatus(done, NOW, { canKill: true }))).toEqual([]);
  });

  it('says who killed it', () => {
    const base = child();
    const cancel: TraceEvent = { seq: 1, ts: NOW, runId: 'r_child01', event: 'run_cancelled', detail: { by: REQUESTER, reason: `stop ${HOSTILE}` } };
    const doc = makeDoc(
      { ...base.run, status: 'cancelled', error: { code: 'cancelled', message: `cancelled by ${REQUESTER}: stop` } },
      { trace: [...base.trace, cancel] },
    );
    const message = renderSubagentStatus(doc, NOW, { canKill: true });
    expect(text(message)).toContain(`:no_entry_sign: Killed by <@${REQUESTER}>: stop`);
    expect(buttons(message)).toEqual([]);
    expectNoForeignMarkup(message, [REQUESTER]);
  });

  it('does not build a mention when the canceller is not a Slack user', () => {
    const base = child();
    const cancel: TraceEvent = { seq: 1, ts: NOW, runId: 'r_child01', event: 'run_cancelled', detail: { by: '<!channel>', reason: 'cancelled' } };
    const doc = makeDoc({ ...base.run, status: 'cancelled' }, { trace: [...base.trace, cancel] });
    const message = renderSubagentStatus(doc, NOW, { canKill: false });
    expect(text(message)).toContain('Killed by &lt;!channel&gt;');
    expectNoForeignMarkup(message, []);
  });
});
