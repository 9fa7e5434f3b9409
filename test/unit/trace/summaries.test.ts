import { describe, expect, it } from 'vitest';
import { buildHandoffs } from '../../../src/trace/handoffs.ts';
import { buildRunSummary } from '../../../src/trace/run-summary.ts';
import { buildTraceSummary } from '../../../src/trace/trace-summary.ts';
import { completedRun, T0, TraceBuilder } from './trace-builder.ts';

/** A run paused on a pending gate after one denied step and one failed step. */
function waitingRun(): ReturnType<TraceBuilder['doc']> {
  return new TraceBuilder({ runId: 'r_wait01' })
    .started()
    .model_(0, [
      { name: 'http_fetch', args: { url: 'https://evil.example.net' } },
      { name: 'workspace_read', args: { path: 'missing.md' } },
    ])
    .checked('0.0', 'http_fetch', 'network', 'deny', { url: 'https://evil.example.net' })
    .denied('0.0', 'http_fetch')
    .checked('0.1', 'workspace_read', 'read_only', 'allow', { path: 'missing.md' })
    .start('0.1', 'workspace_read')
    .error('0.1', 'workspace_read', 'file not found: missing.md', { durationMs: 3 })
    .model_(1, [{ name: 'workspace_write', args: { path: 'reports/x.md' } }])
    .checked('1.0', 'workspace_write', 'filesystem_write', 'approve', { path: 'reports/x.md' })
    .gate('1.0', 'workspace_write', 'g_wait', { path: 'reports/x.md' })
    .doc();
}

describe('buildTraceSummary', () => {
  it('rolls up a completed run with the seed field names', () => {
    const s = buildTraceSummary(completedRun());
    expect(s.run_id).toBe('r_trace01');
    expect(s.status).toBe('completed');
    expect(s.current_step).toBe('completed');
    expect(s.counts.trace_events).toBe(22);
    expect(s.counts.steps).toBe(2);
    expect(s.counts.by_event).toMatchObject({ run_created: 1, model_called: 3, tool_start: 3, tool_ok: 2, tool_error: 1, policy_checked: 2 });
    expect(s.counts.by_tool).toEqual({ workspace_read: 1, workspace_write: 1 });
    expect(s.counts.attempts_by_tool).toEqual({ workspace_read: 1, workspace_write: 2 });
    // Seed semantics: step-related events per category (read: checked+start+ok; write: checked+2 starts+error+ok).
    expect(s.counts.by_action_category).toEqual({ read_only: 3, filesystem_write: 5 });
    expect(s.performance.total_duration_ms).toBe(100);
    expect(s.performance.by_tool).toEqual({
      workspace_read: { count: 1, total_duration_ms: 30, average_duration_ms: 30 },
      workspace_write: { count: 1, total_duration_ms: 70, average_duration_ms: 70 },
    });
    expect(s.performance.model_duration_ms).toBe(120);
    expect(s.cost).toMatchObject({
      model_step_count: 3,
      estimated_input_tokens: 500,
      estimated_output_tokens: 90,
      estimated_total_tokens: 590,
      status: 'local_or_mock',
    });
    expect(s.timeline.first_event_at).toBe(new Date(T0).toISOString());
    expect(s.timeline.last_event_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(s.timeline.latest_event).toBe('run_completed');
    expect(s.approval).toEqual({
      required: false,
      approved: 1,
      rejected: 0,
      expired: 0,
      cancelled: 0,
      pending: 0,
      refused: 1,
      approval_events: 3,
      granted_events: 1,
    });
    expect(s.policy).toMatchObject({ policy_version: 'pv-1', checks: 2, denials: 0, by_decision: { allow: 1, approve: 1 } });
    expect(s.policy.latest_decision).toMatchObject({ step_id: '1.0', tool: 'workspace_write', decision: 'approve', category: 'filesystem_write' });
    expect(s.multi_agent).toMatchObject({
      enabled: true,
      handoff_count: 1,
      handoff_pairs: { 'planner->writer': 1 },
      role_activity_by_role: { planner: 1, writer: 1 },
      current_role: 'writer',
    });
    expect(s.artifacts.files.map((f) => f.path)).toEqual(['reports/r.md']);
    expect(s.failures).toEqual([]);
  });

  it('reports pending gates, denials and failures of a paused run', () => {
    const s = buildTraceSummary(waitingRun());
    expect(s.status).toBe('waiting_approval');
    expect(s.current_step).toBe('1.0');
    expect(s.approval).toMatchObject({ required: true, pending: 1, approved: 0 });
    expect(s.policy).toMatchObject({ checks: 3, denials: 1, by_decision: { deny: 1, allow: 1, approve: 1 } });
    expect(s.failures).toEqual([
      { step_id: '0.1', tool_name: 'workspace_read', attempts: 1, error: 'file not found: missing.md', code: 'tool_failed' },
    ]);
    expect(s.counts.by_action_category).toEqual({ network: 2, read_only: 3, filesystem_write: 1 });
    expect(s.multi_agent.enabled).toBe(false);
  });

  it('summarises a run that has only been created, without throwing', () => {
    const s = buildTraceSummary(new TraceBuilder().doc());
    expect(s.status).toBe('queued');
    expect(s.current_step).toBe('queued');
    expect(s.counts).toMatchObject({ trace_events: 1, steps: 0 });
    expect(s.cost.status).toBe('not_applicable');
    expect(s.policy.latest_decision).toBeNull();
    expect(s.performance.by_tool).toEqual({});
  });

  it('marks costs of a real provider as unpriced', () => {
    const doc = new TraceBuilder({ model: 'openai:gpt-4o-mini' }).started().model_(0, [], 'hi').doc();
    expect(buildTraceSummary(doc).cost).toMatchObject({ status: 'unpriced', model_step_count: 1 });
  });
});

describe('buildRunSummary', () => {
  it('summarises a completed run', () => {
    const s = buildRunSummary(completedRun());
    expect(s).toMatchObject({
      run_id: 'r_trace01',
      status: 'completed',
      role: 'writer',
      created_at: new Date(T0).toISOString(),
      requires_approval: false,
      pending_gates: [],
      step_count: 2,
      steps_succeeded: 2,
      steps_failed: 0,
      total_attempts: 3,
      tool_attempts: { workspace_read: 1, workspace_write: 2 },
      pause_count: 1,
      resume_count: 1,
      approval_count: 1,
      rejection_count: 0,
      last_error: null,
      result_preview: 'The report is in reports/r.md.',
      can_resume: false,
      next_commands: [],
    });
    expect(s.duration_ms).toBe(Date.parse(s.updated_at ?? '') - T0);
    expect(s.performance.slowest_step).toEqual({ step_id: '1.0', tool_name: 'workspace_write', duration_ms: 70, attempts: 2 });
    expect(s.performance.average_step_duration_ms).toBe(50);
    expect(s.files).toEqual([expect.objectContaining({ path: 'reports/r.md', bytes: 8 })]);
    expect(s.multi_agent.roles_seen).toEqual(['planner', 'writer']);
    expect(s.trace_event_counts['approval_granted']).toBe(1);
  });

  it('lists pending gates with a hash prefix and approve/reject commands', () => {
    const doc = waitingRun();
    const s = buildRunSummary(doc);
    const gate = doc.run.gates[0];
    expect(s.requires_approval).toBe(true);
    expect(s.pending_gates).toEqual([
      expect.objectContaining({
        gate_id: 'g_wait',
        step_id: '1.0',
        tool: 'workspace_write',
        args_hash_prefix: gate?.argsHash.slice(0, 12),
        approvers: ['U_APPROVER1', 'U_APPROVER2'],
        four_eyes: true,
        requested_by: 'U_REQUESTER',
      }),
    ]);
    expect(s.pending_gates[0]?.args_hash_prefix).toHaveLength(12);
    expect(s.can_resume).toBe(true);
    expect(s.next_commands).toEqual([
      'harness pending r_wait01',
      'harness approve r_wait01 --as U_APPROVER1 --gate g_wait',
      'harness reject r_wait01 --as U_APPROVER1 --gate g_wait --reason "<why>"',
    ]);
    expect(s.steps_denied).toBe(1);
    expect(s.steps_failed).toBe(1);
    expect(s.last_error).toEqual({ code: 'tool_failed', message: 'file not found: missing.md' });
    expect(s.policy).toMatchObject({ decision_count: 3, denials: 1 });
  });

  it('prefers the run error and offers no commands once failed', () => {
    const doc = new TraceBuilder({ runId: 'r_fail01' })
      .started()
      .model_(0, [{ name: 'workspace_read', args: {} }])
      .checked('0.0', 'workspace_read', 'read_only', 'allow')
      .start('0.0', 'workspace_read')
      .error('0.0', 'workspace_read', 'boom')
      .add('run_failed', { error: { code: 'budget_exceeded', message: 'max turns exceeded' } })
      .doc();
    const s = buildRunSummary(doc);
    expect(s.status).toBe('failed');
    expect(s.current_step).toBe('0.0');
    expect(s.last_error).toEqual({ code: 'budget_exceeded', message: 'max turns exceeded' });
    expect(s.can_resume).toBe(false);
    expect(s.next_commands).toEqual([]);
  });

  it('offers resume and cancel for a running run and truncates a long result', () => {
    const running = buildRunSummary(new TraceBuilder({ runId: 'r_run01' }).started().doc());
    expect(running.next_commands).toEqual(['harness resume r_run01', 'harness cancel r_run01']);
    const long = 'word '.repeat(400);
    const done = buildRunSummary(new TraceBuilder().started().model_(0, [], long).add('run_completed', { result: long }).doc());
    expect(done.result_preview?.length).toBeLessThanOrEqual(500);
    expect(done.result_preview?.endsWith('…')).toBe(true);
  });
});

describe('buildHandoffs', () => {
  it('lists handoffs and role executions in trace order', () => {
    const h = buildHandoffs(completedRun());
    expect(h).toMatchObject({ run_id: 'r_trace01', run_mode: 'multi_agent', current_role: 'writer', handoff_count: 1, role_execution_count: 2 });
    expect(h.handoffs).toEqual([
      expect.objectContaining({ from_role: 'planner', to_role: 'writer', purpose: 'write the report', payload: { steps: 2 } }),
    ]);
    expect(h.role_executions.map((r) => `${r.role}/${r.action}`)).toEqual(['planner/plan', 'writer/draft']);
    expect(h.role_executions[0]?.timestamp).toMatch(/\.\d{3}Z$/);
  });

  it('is written with empty lists for a single-role run', () => {
    const h = buildHandoffs(new TraceBuilder().started().doc());
    expect(h).toEqual({
      run_id: 'r_trace01',
      run_mode: 'single',
      current_role: 'writer',
      handoff_count: 0,
      role_execution_count: 0,
      handoffs: [],
      role_executions: [],
    });
  });
});
