/**
 * Builds realistic run documents for the trace and memory tests: events are written the way the
 * orchestrator writes them, and `doc()` folds them with the real reducer (`replayTrace`), so the
 * `run` part is exactly the fold of the `trace` (the event-sourcing invariant) and a malformed
 * event fails the test where it is added.
 */
import { sha256Hex } from '../../../src/shared/canonical-json.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import type { Gate, RunDoc, TraceEvent, TraceEventName } from '../../../src/store/run-schema.ts';
import { RUN_SCHEMA_VERSION } from '../../../src/store/run-schema.ts';

export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

type Detail = TraceEvent['detail'];

export interface BuilderOptions {
  runId?: string;
  task?: string;
  role?: string;
  model?: string;
  parentRunId?: string | null;
}

export class TraceBuilder {
  readonly runId: string;
  readonly events: TraceEvent[] = [];
  now = T0;
  private readonly model: string;

  constructor(options: BuilderOptions = {}) {
    this.runId = options.runId ?? 'r_trace01';
    this.model = options.model ?? 'scripted';
    const parent = options.parentRunId ?? null;
    this.add('run_created', {
      runId: this.runId,
      parentRunId: parent,
      rootRunId: parent ?? this.runId,
      depth: parent === null ? 0 : 1,
      role: options.role ?? 'writer',
      lineage: parent === null ? [options.role ?? 'writer'] : ['pm', options.role ?? 'writer'],
      task: options.task ?? 'Write a report about harness engineering reliability',
      requestedBy: { userId: 'U_REQUESTER', source: 'slack' },
      origin: { kind: 'cli' },
      policyVersion: 'pv-1',
      model: this.model,
      budgets: { maxTurns: 20, maxToolCalls: 40, maxWallMs: 600_000, maxTokens: 200_000 },
    });
  }

  /** Appends an event `dt` ms after the previous one. */
  add(event: TraceEventName, detail: Detail, options: { stepId?: string; dt?: number } = {}): this {
    if (this.events.length > 0) this.now += options.dt ?? 10;
    const e: TraceEvent = { seq: this.events.length, ts: this.now, runId: this.runId, event, detail };
    if (options.stepId !== undefined) e.stepId = options.stepId;
    this.events.push(e);
    return this;
  }

  started(): this {
    return this.add('run_started', {});
  }

  model_(turn: number, calls: { name: string; args: unknown }[], text: string | null = null, usage = { inputTokens: 100, outputTokens: 20 }): this {
    return this.add('model_called', {
      turn,
      text,
      toolCalls: calls.map((c, i) => ({ id: `call_${turn}_${i}`, name: c.name, argumentsJson: JSON.stringify(c.args) })),
      usage,
      durationMs: 40,
      model: this.model,
    });
  }

  checked(stepId: string, tool: string, category: string, decision: 'allow' | 'approve' | 'deny', args: unknown = {}): this {
    return this.add(
      'policy_checked',
      {
        stepId,
        tool,
        category,
        risk: category === 'read_only' ? 'read' : 'write',
        decision,
        reason: `category ${category} → ${decision}`,
        rule: `category:${category}`,
        policyVersion: 'pv-1',
        argsHash: sha256Hex(JSON.stringify(args)),
        args: args as Detail[string],
        idempotent: category === 'read_only',
      },
      { stepId },
    );
  }

  denied(stepId: string, tool: string): this {
    return this.add('policy_denied', { stepId, tool, reason: 'denied by policy', rule: 'tool:disabled' }, { stepId });
  }

  start(stepId: string, tool: string, attempt = 1): this {
    return this.add('tool_start', { stepId, tool, idempotencyKey: `${this.runId}:${stepId}`, attempt }, { stepId });
  }

  ok(stepId: string, tool: string, content: string, options: { attempt?: number; durationMs?: number; files?: { path: string; bytes: number; sha256: string }[] } = {}): this {
    return this.add(
      'tool_ok',
      { stepId, tool, content, files: options.files ?? [], durationMs: options.durationMs ?? 30, attempt: options.attempt ?? 1 },
      { stepId },
    );
  }

  error(stepId: string, tool: string, message: string, options: { attempt?: number; willRetry?: boolean; durationMs?: number } = {}): this {
    return this.add(
      'tool_error',
      {
        stepId,
        tool,
        error: { code: 'tool_failed', message },
        retryable: options.willRetry ?? false,
        willRetry: options.willRetry ?? false,
        durationMs: options.durationMs ?? 5,
        attempt: options.attempt ?? 1,
      },
      { stepId },
    );
  }

  gate(stepId: string, tool: string, gateId: string, args: unknown = { path: 'reports/r.md' }): this {
    const gate: Gate = {
      gateId,
      runId: this.runId,
      stepId,
      tool,
      args: args as Gate['args'],
      argsHash: sha256Hex(`${tool}:${JSON.stringify(args)}`),
      policyVersion: 'pv-1',
      category: 'filesystem_write',
      risk: 'write',
      reason: 'category filesystem_write → approve',
      requestedBy: { userId: 'U_REQUESTER', source: 'slack' },
      lineage: ['writer'],
      approvers: ['U_APPROVER1', 'U_APPROVER2'],
      fourEyes: true,
      nonce: 'nonce1',
      status: 'pending',
      createdAt: this.now + 10,
      expiresAt: this.now + 10 + 86_400_000,
      remindedAt: null,
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
      decisionSource: null,
      editedArgs: null,
      approvedHash: null,
      card: null,
    };
    this.add('approval_required', { stepId, gate: gate as unknown as Detail[string] }, { stepId });
    return this.add('run_paused', { reason: 'approval', gateId });
  }

  granted(gateId: string, stepId: string, by = 'U_APPROVER1'): this {
    this.add('approval_granted', { gateId, stepId, by, at: this.now + 1000, source: 'slack', editedArgs: null, approvedHash: 'h'.repeat(64), reason: null }, { dt: 1000 });
    return this.add('run_resumed', { by, source: 'slack' });
  }

  rejected(gateId: string, stepId: string, reason: string, by = 'U_APPROVER2'): this {
    this.add('approval_rejected', { gateId, stepId, by, at: this.now + 1000, source: 'slack', reason }, { dt: 1000 });
    return this.add('run_resumed', { by, source: 'slack' });
  }

  doc(): RunDoc {
    return { schemaVersion: RUN_SCHEMA_VERSION, run: replayTrace(this.events), trace: structuredClone(this.events) };
  }
}

/**
 * A completed two-role run: a read, a gated write that was approved after a refused click and
 * succeeded on its second attempt, a planner→writer handoff, and a final answer.
 */
export function completedRun(): RunDoc {
  const b = new TraceBuilder();
  b.started()
    .add('role_activity', { role: 'planner', action: 'plan', payload: { steps: 2 } })
    .add('role_handoff', { from_role: 'planner', to_role: 'writer', purpose: 'write the report', payload: { steps: 2 } })
    .model_(0, [{ name: 'workspace_read', args: { path: 'notes/reliability.md' } }])
    .checked('0.0', 'workspace_read', 'read_only', 'allow', { path: 'notes/reliability.md' })
    .start('0.0', 'workspace_read')
    .ok('0.0', 'workspace_read', 'Harnesses are where   reliability lives.\nRetries need idempotency keys.', { durationMs: 30 })
    .add('role_activity', { role: 'writer', action: 'draft', payload: { chars: 120 } })
    .model_(1, [{ name: 'workspace_write', args: { path: 'reports/r.md', content: '# Report' } }])
    .checked('1.0', 'workspace_write', 'filesystem_write', 'approve', { path: 'reports/r.md', content: '# Report' })
    .gate('1.0', 'workspace_write', 'g_1')
    .add('approval_refused', { gateId: 'g_1', userId: 'U_VIEWER', reason: 'not an approver', source: 'slack' })
    .granted('g_1', '1.0')
    .start('1.0', 'workspace_write', 1)
    .error('1.0', 'workspace_write', 'disk busy', { willRetry: true, durationMs: 5 })
    .start('1.0', 'workspace_write', 2)
    .ok('1.0', 'workspace_write', 'wrote reports/r.md (8 bytes)', {
      attempt: 2,
      durationMs: 70,
      files: [{ path: 'reports/r.md', bytes: 8, sha256: sha256Hex('# Report') }],
    })
    .model_(2, [], 'The report is in reports/r.md.', { inputTokens: 300, outputTokens: 50 })
    .add('run_completed', { result: 'The report   is in reports/r.md.' });
  return b.doc();
}
