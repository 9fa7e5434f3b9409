/**
 * The operator summary of one run (`summary.json`, `harness summary`): the seed's `summary.json`
 * adapted to multi-step runs with many gates (reference/harness-engineering.md §2). Seed names
 * are kept where the concept is the same (`pause_count`, `resume_count`, `approval_count`,
 * `tool_attempts`, `last_error`, `can_resume`, `next_commands` …). Pure: reads the document only.
 */
import { TERMINAL_STATUSES, type RunDoc, type Step } from '../store/run-schema.ts';
import {
  type CostRollup,
  compact,
  costRollup,
  countBy,
  currentStep,
  detailNumber,
  detailString,
  eventsNamed,
  isoTime,
  stepError,
} from './event-facts.ts';
import { currentRole } from './trace-summary.ts';

/** Characters of a gate's args hash shown to humans (the card shows the same prefix). */
export const ARGS_HASH_PREFIX_LENGTH = 12;
/** Characters of the run's result kept in `result_preview`. */
export const RESULT_PREVIEW_CHARS = 500;

export interface PendingGateSummary {
  gate_id: string;
  step_id: string;
  tool: string;
  category: string;
  risk: string;
  reason: string;
  args_hash_prefix: string;
  approvers: string[];
  four_eyes: boolean;
  requested_by: string;
  lineage: string[];
  created_at: string | null;
  expires_at: string | null;
}

export interface RunSummary {
  run_id: string;
  task: string;
  role: string;
  status: string;
  current_step: string;
  created_at: string | null;
  updated_at: string | null;
  /** From creation to the last recorded change (includes time waiting for humans). */
  duration_ms: number;
  parent_run_id: string | null;
  root_run_id: string;
  depth: number;
  lineage: string[];
  requested_by: { user_id: string; source: string };
  origin: string;
  model: string;
  policy_version: string;
  requires_approval: boolean;
  pending_gates: PendingGateSummary[];
  step_count: number;
  steps_succeeded: number;
  steps_failed: number;
  steps_denied: number;
  steps_rejected: number;
  steps_invalid: number;
  steps_skipped: number;
  total_attempts: number;
  tool_attempts: Record<string, number>;
  performance: {
    total_step_duration_ms: number;
    average_step_duration_ms: number;
    slowest_step: { step_id: string; tool_name: string; duration_ms: number; attempts: number } | null;
    model_duration_ms: number;
  };
  cost: CostRollup;
  usage: { turns: number; tool_calls: number; input_tokens: number; output_tokens: number; active_ms: number };
  budgets: { max_turns: number; max_tool_calls: number; max_wall_ms: number; max_tokens: number };
  /** `run_paused` events (each wait for a human). */
  pause_count: number;
  resume_count: number;
  /** `approval_granted` events. */
  approval_count: number;
  rejection_count: number;
  trace_event_counts: Record<string, number>;
  policy: {
    decision_count: number;
    denials: number;
    latest_decision: { step_id: string | null; tool: string | null; decision: string | null; reason: string | null } | null;
  };
  /** The run's error, else the last failed step's error. */
  last_error: { code: string; message: string } | null;
  result_preview: string | null;
  files: { path: string; bytes: number; sha256: string }[];
  attention: { step_id: string; reason: string } | null;
  children: string[];
  multi_agent: { enabled: boolean; handoff_count: number; current_role: string; roles_seen: string[] };
  can_resume: boolean;
  next_commands: string[];
}

function countStatus(steps: readonly Step[], status: Step['status']): number {
  return steps.filter((s) => s.status === status).length;
}

function lastError(doc: RunDoc): { code: string; message: string } | null {
  if (doc.run.error !== null) return { ...doc.run.error };
  const failed = doc.run.steps.filter((s) => s.status === 'failed').at(-1);
  return failed === undefined ? null : stepError(doc, failed);
}

/** What an operator can type next; commands only, never secrets. */
function nextCommands(doc: RunDoc, pending: readonly PendingGateSummary[]): string[] {
  const id = doc.run.runId;
  switch (doc.run.status) {
    case 'waiting_approval': {
      const out = [`harness pending ${id}`];
      for (const gate of pending) {
        const as = gate.approvers[0] ?? '<approver>';
        out.push(`harness approve ${id} --as ${as} --gate ${gate.gate_id}`);
        out.push(`harness reject ${id} --as ${as} --gate ${gate.gate_id} --reason "<why>"`);
      }
      if (pending.length === 0) out.push(`harness resume ${id}`);
      return out;
    }
    case 'queued':
    case 'running':
      return [`harness resume ${id}`, `harness cancel ${id}`];
    case 'needs_attention':
      return [`harness inspect ${id}`, `harness resume ${id}`, `harness cancel ${id}`];
    default:
      return [];
  }
}

/** Builds the run summary. Never throws on a well-formed {@link RunDoc}. */
export function buildRunSummary(doc: RunDoc): RunSummary {
  const { run } = doc;
  const pending: PendingGateSummary[] = run.gates
    .filter((g) => g.status === 'pending')
    .map((g) => ({
      gate_id: g.gateId,
      step_id: g.stepId,
      tool: g.tool,
      category: g.category,
      risk: g.risk,
      reason: g.reason,
      args_hash_prefix: g.argsHash.slice(0, ARGS_HASH_PREFIX_LENGTH),
      approvers: [...g.approvers],
      four_eyes: g.fourEyes,
      requested_by: g.requestedBy.userId,
      lineage: [...g.lineage],
      created_at: isoTime(g.createdAt),
      expires_at: isoTime(g.expiresAt),
    }));

  const timed = run.steps.filter((s): s is Step & { durationMs: number } => s.durationMs !== null);
  const totalStepMs = timed.reduce((sum, s) => sum + s.durationMs, 0);
  const slowest = timed.reduce<(Step & { durationMs: number }) | null>(
    (best, s) => (best === null || s.durationMs > best.durationMs ? s : best),
    null,
  );
  const toolAttempts: Record<string, number> = {};
  for (const step of run.steps) toolAttempts[step.tool] = (toolAttempts[step.tool] ?? 0) + step.attempts;

  const checks = eventsNamed(doc, 'policy_checked', 'policy_denied');
  const latest = checks.at(-1);
  const handoffs = eventsNamed(doc, 'role_handoff');
  const roles = new Set<string>();
  for (const e of eventsNamed(doc, 'role_activity')) roles.add(detailString(e, 'role') ?? '?');
  for (const e of handoffs) {
    roles.add(detailString(e, 'from_role') ?? '?');
    roles.add(detailString(e, 'to_role') ?? '?');
  }

  return {
    run_id: run.runId,
    task: run.task,
    role: run.role,
    status: run.status,
    current_step: currentStep(run),
    created_at: isoTime(run.createdAt),
    updated_at: isoTime(run.updatedAt),
    duration_ms: Math.max(0, run.updatedAt - run.createdAt),
    parent_run_id: run.parentRunId,
    root_run_id: run.rootRunId,
    depth: run.depth,
    lineage: [...run.lineage],
    requested_by: { user_id: run.requestedBy.userId, source: run.requestedBy.source },
    origin: run.origin.kind,
    model: run.model,
    policy_version: run.policyVersion,
    requires_approval: pending.length > 0,
    pending_gates: pending,
    step_count: run.steps.length,
    steps_succeeded: countStatus(run.steps, 'succeeded'),
    steps_failed: countStatus(run.steps, 'failed'),
    steps_denied: countStatus(run.steps, 'denied'),
    steps_rejected: countStatus(run.steps, 'rejected'),
    steps_invalid: countStatus(run.steps, 'invalid'),
    steps_skipped: countStatus(run.steps, 'skipped'),
    total_attempts: run.steps.reduce((sum, s) => sum + s.attempts, 0),
    tool_attempts: toolAttempts,
    performance: {
      total_step_duration_ms: totalStepMs,
      average_step_duration_ms: timed.length === 0 ? 0 : Math.round(totalStepMs / timed.length),
      slowest_step:
        slowest === null
          ? null
          : { step_id: slowest.stepId, tool_name: slowest.tool, duration_ms: slowest.durationMs, attempts: slowest.attempts },
      model_duration_ms: eventsNamed(doc, 'model_called').reduce((sum, e) => sum + (detailNumber(e, 'durationMs') ?? 0), 0),
    },
    cost: costRollup(doc),
    usage: {
      turns: run.usage.turns,
      tool_calls: run.usage.toolCalls,
      input_tokens: run.usage.inputTokens,
      output_tokens: run.usage.outputTokens,
      active_ms: run.usage.activeMs,
    },
    budgets: {
      max_turns: run.budgets.maxTurns,
      max_tool_calls: run.budgets.maxToolCalls,
      max_wall_ms: run.budgets.maxWallMs,
      max_tokens: run.budgets.maxTokens,
    },
    pause_count: eventsNamed(doc, 'run_paused').length,
    resume_count: eventsNamed(doc, 'run_resumed').length,
    approval_count: eventsNamed(doc, 'approval_granted').length,
    rejection_count: eventsNamed(doc, 'approval_rejected').length,
    trace_event_counts: countBy(doc.trace, (e) => e.event),
    policy: {
      decision_count: eventsNamed(doc, 'policy_checked').length,
      denials: eventsNamed(doc, 'policy_denied').length,
      latest_decision:
        latest === undefined
          ? null
          : {
              step_id: latest.stepId ?? detailString(latest, 'stepId'),
              tool: detailString(latest, 'tool'),
              decision: latest.event === 'policy_denied' ? 'deny' : detailString(latest, 'decision'),
              reason: detailString(latest, 'reason'),
            },
    },
    last_error: lastError(doc),
    result_preview: run.result === null ? null : compact(run.result, RESULT_PREVIEW_CHARS),
    files: run.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })),
    attention: run.attention === null ? null : { step_id: run.attention.stepId, reason: run.attention.reason },
    children: [...run.children],
    multi_agent: {
      enabled: handoffs.length > 0 || roles.size > 0 || run.children.length > 0 || run.parentRunId !== null,
      handoff_count: handoffs.length,
      current_role: currentRole(doc),
      roles_seen: [...roles],
    },
    can_resume: !TERMINAL_STATUSES.includes(run.status),
    next_commands: nextCommands(doc, pending),
  };
}
