/**
 * The transition table is the runtime: the reducer accepts exactly the listed status changes, and
 * `harness workflow` exports that same table.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent } from '../../../src/orchestrator/apply-event.ts';
import { TRANSITIONS, nextStatus, workflowGraph, workflowMermaid } from '../../../src/orchestrator/transitions.ts';
import { RunStatus, type RunState, type TraceEvent } from '../../../src/store/run-schema.ts';

const created: TraceEvent = {
  seq: 0,
  ts: 1,
  runId: 'r_1',
  event: 'run_created',
  detail: {
    runId: 'r_1',
    parentRunId: null,
    rootRunId: 'r_1',
    depth: 0,
    role: 'writer',
    lineage: ['writer'],
    task: 'task',
    requestedBy: { userId: 'U1', source: 'cli' },
    origin: { kind: 'cli' },
    policyVersion: 'p1',
    model: 'scripted',
    budgets: { maxTurns: 1, maxToolCalls: 1, maxWallMs: 1, maxTokens: 1 },
  },
};

const details: Record<string, Record<string, unknown>> = {
  run_started: {},
  run_paused: { reason: 'approval', gateId: null },
  run_resumed: { by: 'U1', source: 'cli' },
  needs_attention: { stepId: 's', reason: 'r' },
  attention_resolved: { stepId: 's', action: 'skip', by: 'U1' },
  run_completed: { result: 'ok' },
  run_failed: { error: { code: 'x', message: 'y' } },
  run_cancelled: { by: 'U1', reason: 'r' },
};

function stateIn(status: RunState['status']): RunState {
  const base = applyEvent(null, created);
  return {
    ...base,
    status,
    steps: [
      {
        stepId: 's', turn: 0, index: 0, toolCallId: 'c', tool: 't', argumentsJson: '{}', args: {}, originalArgs: null,
        argsHash: null, category: 'read_only', risk: 'read', idempotent: true, status: 'started', decision: null,
        gateId: null, attempts: 1, startedAt: 1, finishedAt: null, durationMs: null, output: null,
      },
    ],
    attention: status === 'needs_attention' ? { stepId: 's', reason: 'r' } : null,
  };
}

describe('transition table', () => {
  it('lets the reducer make exactly the listed status changes', () => {
    for (const from of RunStatus.options) {
      for (const event of Object.keys(details)) {
        const listed = TRANSITIONS.find((t) => t.from === from && t.event === event);
        const apply = () =>
          applyEvent(stateIn(from), { seq: 1, ts: 2, runId: 'r_1', event: event as TraceEvent['event'], detail: details[event] as TraceEvent['detail'] });
        if (listed) expect(apply().status, `${from} --${event}-->`).toBe(listed.to);
        else expect(apply, `${from} --${event}--> must be refused`).toThrow(/not allowed/);
      }
    }
  });

  it('refuses work events on a terminal run', () => {
    expect(nextStatus('completed', 'tool_start')).toBeNull();
    expect(nextStatus('cancelled', 'model_called')).toBeNull();
    expect(nextStatus('failed', 'approval_granted')).toBeNull();
  });

  it('exports the same table as JSON and Mermaid', () => {
    expect(workflowGraph().transitions).toEqual(TRANSITIONS);
    const mermaid = workflowMermaid();
    for (const t of TRANSITIONS) expect(mermaid).toContain(`${t.from} --> ${t.to}: ${t.event}`);
  });

  it('refuses a second run_created and events for another run', () => {
    const state = applyEvent(null, created);
    expect(() => applyEvent(state, { ...created, seq: 1 })).toThrow(/already exists/);
    expect(() => applyEvent(state, { seq: 1, ts: 2, runId: 'r_other', event: 'run_started', detail: {} })).toThrow(/mismatch/);
  });
});
