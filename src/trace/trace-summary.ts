/**
 * The operator's roll-up of one run's trace (`trace_summary.json`, `harness trace-summary`).
 * Field names follow the seed's `trace_summary.json` where the concept is the same, so trace-aware
 * evals written against it carry over (reference/harness-engineering.md §4). Pure: reads the run
 * document only, never the clock or the disk.
 */
import type { RunDoc, Step, TraceEvent } from '../store/run-schema.ts';
import {
  type CostRollup,
  costRollup,
  countBy,
  currentStep,
  detailNumber,
  detailString,
  eventsNamed,
  isoTime,
  stepError,
} from './event-facts.ts';

/** Events that concern a step's action and therefore count toward `by_action_category`. */
const CATEGORY_EVENTS: readonly TraceEvent['event'][] = ['policy_checked', 'policy_denied', 'tool_start', 'tool_ok', 'tool_error'];

export interface ToolPerformance {
  /** Steps of this tool that ran to an end (succeeded or failed) with a measured duration. */
  count: number;
  total_duration_ms: number;
  average_duration_ms: number;
}

export interface PolicyDecisionSummary {
  step_id: string | null;
  tool: string | null;
  decision: string | null;
  category: string | null;
  reason: string | null;
  rule: string | null;
}

export interface TraceSummary {
  run_id: string;
  status: string;
  current_step: string;
  counts: {
    trace_events: number;
    steps: number;
    by_event: Record<string, number>;
    /** Steps per tool (a retried step counts once; see `attempts_by_tool`). */
    by_tool: Record<string, number>;
    attempts_by_tool: Record<string, number>;
    /** Step-related trace events (policy_checked, policy_denied, tool_*) per action category, as the seed counts them. */
    by_action_category: Record<string, number>;
  };
  performance: {
    /** Sum of step durations (tool time, not waiting for humans). */
    total_duration_ms: number;
    /** Sum of model call durations. */
    model_duration_ms: number;
    by_tool: Record<string, ToolPerformance>;
  };
  cost: CostRollup;
  timeline: { first_event_at: string | null; last_event_at: string | null; latest_event: string | null };
  approval: {
    /** True while a gate is pending (the seed's `requires_approval`). */
    required: boolean;
    /** Gates by their current status. */
    approved: number;
    rejected: number;
    expired: number;
    cancelled: number;
    pending: number;
    /** Unauthorised clicks refused (`approval_refused`). */
    refused: number;
    /** All `approval_*` events. */
    approval_events: number;
    granted_events: number;
  };
  policy: {
    policy_version: string;
    checks: number;
    denials: number;
    by_decision: Record<string, number>;
    latest_decision: PolicyDecisionSummary | null;
  };
  multi_agent: {
    enabled: boolean;
    handoff_count: number;
    handoff_pairs: Record<string, number>;
    role_activity_by_role: Record<string, number>;
    current_role: string;
    lineage: string[];
    subagents: { drafted: number; finished: number; killed: number; children: string[] };
  };
  artifacts: { files: { path: string; bytes: number; sha256: string }[] };
  failures: { step_id: string; tool_name: string; attempts: number; error: string; code: string }[];
}

function stepCategory(event: TraceEvent, steps: ReadonlyMap<string, Step>): string | null {
  const fromDetail = detailString(event, 'category');
  if (fromDetail !== null) return fromDetail;
  const stepId = event.stepId ?? detailString(event, 'stepId');
  return stepId === null ? null : (steps.get(stepId)?.category ?? null);
}

/** The role that acted last: the latest `role_activity`, else the run's own role. */
export function currentRole(doc: RunDoc): string {
  const activity = eventsNamed(doc, 'role_activity').at(-1);
  return (activity && detailString(activity, 'role')) ?? doc.run.role;
}

/** Builds the trace summary of a run. Never throws on a well-formed {@link RunDoc}. */
export function buildTraceSummary(doc: RunDoc): TraceSummary {
  const { run, trace } = doc;
  const steps = new Map(run.steps.map((s) => [s.stepId, s]));

  const byToolPerf: Record<string, ToolPerformance> = {};
  let totalDuration = 0;
  for (const step of run.steps) {
    if (step.durationMs === null) continue;
    totalDuration += step.durationMs;
    const perf = (byToolPerf[step.tool] ??= { count: 0, total_duration_ms: 0, average_duration_ms: 0 });
    perf.count += 1;
    perf.total_duration_ms += step.durationMs;
  }
  for (const perf of Object.values(byToolPerf)) perf.average_duration_ms = Math.round(perf.total_duration_ms / perf.count);

  const attemptsByTool: Record<string, number> = {};
  for (const step of run.steps) attemptsByTool[step.tool] = (attemptsByTool[step.tool] ?? 0) + step.attempts;

  const checks = eventsNamed(doc, 'policy_checked');
  const latestCheck = eventsNamed(doc, 'policy_checked', 'policy_denied').at(-1);
  const latestDecision: PolicyDecisionSummary | null =
    latestCheck === undefined
      ? null
      : {
          step_id: latestCheck.stepId ?? detailString(latestCheck, 'stepId'),
          tool: detailString(latestCheck, 'tool'),
          decision: latestCheck.event === 'policy_denied' ? 'deny' : detailString(latestCheck, 'decision'),
          category: stepCategory(latestCheck, steps),
          reason: detailString(latestCheck, 'reason'),
          rule: detailString(latestCheck, 'rule'),
        };

  const handoffs = eventsNamed(doc, 'role_handoff');
  const activities = eventsNamed(doc, 'role_activity');
  const gateCount = (status: string): number => run.gates.filter((g) => g.status === status).length;
  const first = trace[0];
  const last = trace.at(-1);

  return {
    run_id: run.runId,
    status: run.status,
    current_step: currentStep(run),
    counts: {
      trace_events: trace.length,
      steps: run.steps.length,
      by_event: countBy(trace, (e) => e.event),
      by_tool: countBy(run.steps, (s) => s.tool),
      attempts_by_tool: attemptsByTool,
      by_action_category: countBy(
        trace.filter((e) => CATEGORY_EVENTS.includes(e.event)),
        (e) => stepCategory(e, steps),
      ),
    },
    performance: {
      total_duration_ms: totalDuration,
      model_duration_ms: eventsNamed(doc, 'model_called').reduce((sum, e) => sum + (detailNumber(e, 'durationMs') ?? 0), 0),
      by_tool: byToolPerf,
    },
    cost: costRollup(doc),
    timeline: {
      first_event_at: isoTime(first?.ts),
      last_event_at: isoTime(last?.ts),
      latest_event: last?.event ?? null,
    },
    approval: {
      required: gateCount('pending') > 0,
      approved: gateCount('approved'),
      rejected: gateCount('rejected'),
      expired: gateCount('expired'),
      cancelled: gateCount('cancelled'),
      pending: gateCount('pending'),
      refused: eventsNamed(doc, 'approval_refused').length,
      approval_events: trace.filter((e) => e.event.startsWith('approval_')).length,
      granted_events: eventsNamed(doc, 'approval_granted').length,
    },
    policy: {
      policy_version: run.policyVersion,
      checks: checks.length,
      denials: eventsNamed(doc, 'policy_denied').length,
      by_decision: countBy(checks, (e) => detailString(e, 'decision')),
      latest_decision: latestDecision,
    },
    multi_agent: {
      enabled: handoffs.length > 0 || activities.length > 0 || run.children.length > 0 || run.parentRunId !== null,
      handoff_count: handoffs.length,
      handoff_pairs: countBy(handoffs, (e) => `${detailString(e, 'from_role') ?? '?'}->${detailString(e, 'to_role') ?? '?'}`),
      role_activity_by_role: countBy(activities, (e) => detailString(e, 'role')),
      current_role: currentRole(doc),
      lineage: [...run.lineage],
      subagents: {
        drafted: eventsNamed(doc, 'subagent_drafted').length,
        finished: eventsNamed(doc, 'subagent_finished').length,
        killed: eventsNamed(doc, 'subagent_killed').length,
        children: [...run.children],
      },
    },
    artifacts: { files: run.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })) },
    failures: run.steps
      .filter((s) => s.status === 'failed')
      .map((s) => {
        const error = stepError(doc, s);
        return {
          step_id: s.stepId,
          tool_name: s.tool,
          attempts: s.attempts,
          error: error?.message ?? '',
          code: error?.code ?? 'unknown',
        };
      }),
  };
}
