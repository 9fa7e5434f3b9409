import { describe, expect, it } from 'vitest';
import { buildFollowUpContext, buildMemorySnapshot, queryWords, RETRIEVAL_CONTENT_CHARS } from '../../../src/memory/snapshot.ts';
import { completedRun, TraceBuilder } from '../trace/trace-builder.ts';

/** A run whose transcript holds several tool results and a follow-up message. */
function researchRun(): ReturnType<TraceBuilder['doc']> {
  return new TraceBuilder({ task: 'Compare retry policies' })
    .started()
    .model_(0, [
      { name: 'workspace_read', args: { path: 'a.md' } },
      { name: 'workspace_read', args: { path: 'b.md' } },
      { name: 'workspace_read', args: { path: 'c.md' } },
    ])
    .checked('0.0', 'workspace_read', 'read_only', 'allow')
    .start('0.0', 'workspace_read')
    .ok('0.0', 'workspace_read', 'Exponential backoff with jitter spreads retries.')
    .checked('0.1', 'workspace_read', 'read_only', 'allow')
    .start('0.1', 'workspace_read')
    .ok('0.1', 'workspace_read', `Idempotency keys make a retry safe. ${'padding '.repeat(80)}`)
    .checked('0.2', 'workspace_read', 'read_only', 'allow')
    .start('0.2', 'workspace_read')
    .error('0.2', 'workspace_read', 'retry file missing')
    .model_(1, [], 'Backoff plus idempotency keys.')
    .add('run_completed', { result: 'Use exponential backoff and idempotency keys.' })
    .add('run_resumed', { by: 'U_REQUESTER', source: 'slack' })
    .add('user_message', { text: 'And what about retry budgets?', userId: 'U_REQUESTER' })
    .doc();
}

describe('queryWords', () => {
  it('lowercases, strips punctuation, drops 1-char words and duplicates', () => {
    expect(queryWords('Retry, RETRY! a idempotency-keys? Ünïcode 42')).toEqual(['retry', 'idempotency', 'keys', 'ünïcode', '42']);
  });
});

describe('buildMemorySnapshot', () => {
  it('builds the three layers with descriptions', () => {
    const snap = buildMemorySnapshot(completedRun());
    expect(snap.run_id).toBe('r_trace01');
    const { working_context: wc, session_state: ss, retrieval_memory: rm } = snap.layers;
    for (const layer of [wc, ss, rm]) expect(layer.description.length).toBeGreaterThan(10);
    expect(wc).toMatchObject({ task: completedRun().run.task, role: 'writer', status: 'completed', pending_gate: null, turn_count: 3 });
    expect(wc.facts_preview).toEqual(['Harnesses are where reliability lives. Retries need idempotency keys.', 'wrote reports/r.md (8 bytes)']);
    expect(wc.latest_assistant_text).toBe('The report is in reports/r.md.');
    expect(ss).toMatchObject({ run_id: 'r_trace01', status: 'completed', handoff_count: 1, files: ['reports/r.md'], last_error: null });
    expect(ss.step_results).toEqual([
      { step_id: '0.0', tool: 'workspace_read', status: 'succeeded', attempts: 1, error: null },
      { step_id: '1.0', tool: 'workspace_write', status: 'succeeded', attempts: 2, error: null },
    ]);
    expect(ss.trace_event_counts['tool_start']).toBe(3);
    expect(rm.query).toBe(completedRun().run.task);
    expect(rm.top_k).toBe(5);
  });

  it('shows the pending gate in the working context', () => {
    const doc = new TraceBuilder()
      .started()
      .model_(0, [{ name: 'workspace_write', args: { path: 'reports/x.md' } }])
      .checked('0.0', 'workspace_write', 'filesystem_write', 'approve')
      .gate('0.0', 'workspace_write', 'g_9')
      .doc();
    const { working_context: wc, session_state: ss } = buildMemorySnapshot(doc).layers;
    expect(wc.pending_gate).toMatchObject({ gate_id: 'g_9', step_id: '0.0', tool: 'workspace_write', approvers: ['U_APPROVER1', 'U_APPROVER2'] });
    expect(wc.pending_gate?.args_hash_prefix).toHaveLength(12);
    expect(ss.requires_approval).toBe(true);
  });

  it('retrieves matching user messages and successful tool results, scored by query words', () => {
    const { results, query, top_k } = buildMemorySnapshot(researchRun(), { query: 'retry idempotency keys', topK: 5 }).layers.retrieval_memory;
    expect(query).toBe('retry idempotency keys');
    expect(top_k).toBe(5);
    expect(results.map((r) => [r.kind, r.score])).toEqual([
      ['tool_result', 3],
      ['user_message', 1],
      ['user_message', 1],
    ]);
    expect(results[0]?.title).toBe('workspace_read (step 0.1)');
    // Error results are not memory; the compacted content respects the limit.
    expect(results.some((r) => r.content.includes('retry file missing'))).toBe(false);
    expect(results[0]?.content.length).toBeLessThanOrEqual(RETRIEVAL_CONTENT_CHARS);
    expect(results[0]?.content.endsWith('…')).toBe(true);
    // Equal scores keep transcript order: the task first, then the follow-up.
    expect(results[1]?.content).toBe('Compare retry policies');
    expect(results[2]?.content).toBe('And what about retry budgets?');
  });

  it('lets a tool result win a tie against a user message', () => {
    const results = buildMemorySnapshot(researchRun(), { query: 'jitter retry' }).layers.retrieval_memory.results;
    expect(results.map((r) => [r.kind, r.score])).toEqual([
      ['tool_result', 1],
      ['tool_result', 1],
      ['user_message', 1],
      ['user_message', 1],
    ]);
  });

  it('keeps top_k and drops zero scores', () => {
    const limited = buildMemorySnapshot(researchRun(), { query: 'retry', topK: 1 }).layers.retrieval_memory.results;
    expect(limited).toHaveLength(1);
    expect(buildMemorySnapshot(researchRun(), { query: 'zebra' }).layers.retrieval_memory.results).toEqual([]);
    expect(buildMemorySnapshot(researchRun(), { query: 'retry', topK: 0 }).layers.retrieval_memory.results).toEqual([]);
  });

  it('reports the last error of a failed step', () => {
    const snap = buildMemorySnapshot(researchRun());
    expect(snap.layers.session_state.step_results[2]).toEqual({
      step_id: '0.2',
      tool: 'workspace_read',
      status: 'failed',
      attempts: 1,
      error: 'workspace_read failed: retry file missing',
    });
    expect(snap.layers.session_state.last_error).toEqual({ code: 'tool_failed', message: 'retry file missing' });
  });
});

describe('buildFollowUpContext', () => {
  it('carries the original request, the result, follow-ups and tool results', () => {
    const text = buildFollowUpContext(researchRun(), { maxChars: 2000 });
    const lines = text.split('\n');
    expect(lines[0]).toBe('Earlier in this thread (run r_trace01, role writer, status running):');
    expect(lines[1]).toBe('Original request: Compare retry policies');
    expect(lines[2]).toBe('Result: Use exponential backoff and idempotency keys.');
    expect(lines[3]).toBe('Follow-up: And what about retry budgets?');
    expect(lines[4]).toBe('Tool results:');
    expect(lines[5]).toBe('- workspace_read (step 0.0): Exponential backoff with jitter spreads retries.');
    expect(lines[6]?.startsWith('- workspace_read (step 0.1): Idempotency keys make a retry safe.')).toBe(true);
    expect(text).not.toContain('retry file missing');
  });

  it('never exceeds the budget and drops the oldest tool results first', () => {
    for (const max of [0, 10, 60, 120, 200, 300, 500]) {
      expect(buildFollowUpContext(researchRun(), { maxChars: max }).length).toBeLessThanOrEqual(max);
    }
    const tight = buildFollowUpContext(researchRun(), { maxChars: 330, perResultChars: 60 });
    expect(tight).toContain('Original request: Compare retry policies');
    expect(tight).toContain('(step 0.1)');
    expect(tight).not.toContain('(step 0.0)');
  });
});
