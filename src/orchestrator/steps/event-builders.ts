/**
 * Builders for the events step functions commit, so each event's shape is written once.
 */
import type { PolicyDecision } from '../../policy/types.ts';
import type { Gate, Risk, Step } from '../../store/run-schema.ts';
import type { RunEventInput } from '../event-schemas.ts';

/** The idempotency key of a step: the same on every retry and after a crash-restart. */
export function idempotencyKey(runId: string, stepId: string): string {
  return `${runId}:${stepId}`;
}

/** `tool_start` for attempt `attempt` of `step`. */
export function toolStartEvent(runId: string, step: Step, attempt: number): RunEventInput {
  return {
    event: 'tool_start',
    stepId: step.stepId,
    detail: { stepId: step.stepId, tool: step.tool, idempotencyKey: idempotencyKey(runId, step.stepId), attempt },
  };
}

/** `policy_checked` recording a verdict and the validated arguments it judged. */
export function policyCheckedEvent(
  step: Step,
  decision: Pick<PolicyDecision, 'decision' | 'reason' | 'rule' | 'policyVersion' | 'category'>,
  risk: Risk,
  idempotent: boolean,
  args: unknown,
  argsHash: string | null,
): RunEventInput {
  return {
    event: 'policy_checked',
    stepId: step.stepId,
    detail: {
      stepId: step.stepId,
      tool: step.tool,
      category: decision.category,
      risk,
      decision: decision.decision,
      reason: decision.reason,
      rule: decision.rule,
      policyVersion: decision.policyVersion,
      argsHash,
      args: (args ?? null) as never,
      idempotent,
    },
  };
}

/** `policy_denied`: the step is settled with the reason as a model-visible error. */
export function policyDeniedEvent(step: Step, reason: string, rule: string): RunEventInput {
  return { event: 'policy_denied', stepId: step.stepId, detail: { stepId: step.stepId, tool: step.tool, reason, rule } };
}

/** A persisted gate and the pause it causes, always written together. */
export function gateOpenedEvents(step: Step, gate: Gate): RunEventInput[] {
  return [
    { event: 'approval_required', stepId: step.stepId, detail: { stepId: step.stepId, gate } },
    { event: 'run_paused', detail: { reason: 'approval', gateId: gate.gateId } },
  ];
}
