/**
 * The status message's issue C parts: the queue position of a task waiting for a slot of the
 * global cap, the tree summary (nested sub-agents indented, tokens per sub-agent), and a drafted
 * sub-agent's own post.
 */
import { describe, expect, it } from 'vitest';
import { validateMessageBlocks } from '../../../../src/slack/blocks/block-kit-schema.ts';
import { renderRunStatus, renderSubagentStatus } from '../../../../src/slack/blocks/status-message.ts';
import { RUN_DOC_TIME, makeDoc } from './builders.ts';

const NOW = RUN_DOC_TIME + 5000;

describe('renderRunStatus: queue and tree', () => {
  it('shows "queued — position N of M" while the task waits for a slot', () => {
    const message = renderRunStatus(makeDoc({ status: 'queued', steps: [], gates: [] }), NOW, { queue: { position: 2, of: 3 } });
    expect(message.text).toBe('writer: queued — position 2 of 3');
    expect(JSON.stringify(message.blocks)).toContain('Queued — position 2 of 3; it starts when a slot frees up.');
    expect(validateMessageBlocks(message.blocks)).toEqual({ ok: true });
  });

  it('says just "Queued." without a position', () => {
    const message = renderRunStatus(makeDoc({ status: 'queued', steps: [], gates: [] }), NOW, { queue: null });
    expect(JSON.stringify(message.blocks)).toContain(':hourglass: Queued.');
  });

  it('summarises the whole tree, nested sub-agents indented, with their tokens', () => {
    const root = makeDoc({ runId: 'r_root', role: 'pm', status: 'running', depth: 0, children: ['r_a', 'r_b'], steps: [], gates: [] });
    const a = makeDoc({ runId: 'r_a', role: 'researcher', status: 'completed', depth: 1, parentRunId: 'r_root', rootRunId: 'r_root', children: ['r_a1'], steps: [], gates: [], usage: { turns: 1, toolCalls: 0, inputTokens: 1000, outputTokens: 234, activeMs: 1 } });
    const a1 = makeDoc({ runId: 'r_a1', role: 'reviewer', status: 'running', depth: 2, parentRunId: 'r_a', rootRunId: 'r_root', steps: [], gates: [] });
    const b = makeDoc({ runId: 'r_b', role: 'writer', status: 'queued', depth: 1, parentRunId: 'r_root', rootRunId: 'r_root', steps: [], gates: [] });
    const text = JSON.stringify(renderRunStatus(root, NOW, { children: [a, a1, b] }).blocks);
    expect(text).toContain('*Sub-agents (3)*');
    expect(text).toContain('• :white_check_mark: *researcher* — completed · 1,234 tokens');
    expect(text).toContain('\\n\u2003• :arrows_counterclockwise: *reviewer* — running');
    expect(text.indexOf('*reviewer*')).toBeGreaterThan(text.indexOf('*researcher*'));
    expect(text.indexOf('*writer*')).toBeGreaterThan(text.indexOf('*reviewer*'));
  });
});

describe('renderSubagentStatus', () => {
  it('calls a sub-agent that has not started yet "drafted"', () => {
    const doc = makeDoc({ runId: 'r_c', status: 'queued', depth: 1, parentRunId: 'r_root', rootRunId: 'r_root', lineage: ['pm', 'writer'], steps: [], gates: [] });
    const text = JSON.stringify(renderSubagentStatus(doc, NOW, { canKill: true }).blocks);
    expect(text).toContain(':seedling: Drafted; starting…');
    expect(text).toContain('*Lineage:* pm → writer');
    expect(text).toContain('"action_id":"agent_kill"');
  });
});
