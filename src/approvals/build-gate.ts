/**
 * Builds a gate for a step policy wants approved. The gate captures everything an approver must
 * see and everything execution must re-check, and is persisted before anyone is shown it.
 */
import { newGateId, newNonce } from '../shared/ids.ts';
import type { PolicyDecision } from '../policy/types.ts';
import type { Gate, RunState, Step } from '../store/run-schema.ts';

/** A pending gate for `step` with validated `args`. */
export function buildGate(input: {
  run: RunState;
  step: Step;
  args: unknown;
  argsHash: string;
  risk: Gate['risk'];
  decision: PolicyDecision;
  now: number;
  reason?: string;
}): Gate {
  const { run, step, decision } = input;
  return {
    gateId: newGateId(),
    runId: run.runId,
    stepId: step.stepId,
    tool: step.tool,
    args: input.args as Gate['args'],
    argsHash: input.argsHash,
    policyVersion: decision.policyVersion,
    category: decision.category,
    risk: input.risk,
    reason: input.reason ?? decision.reason,
    requestedBy: run.requestedBy,
    lineage: [...run.lineage],
    approvers: [...decision.approvers],
    fourEyes: decision.fourEyes,
    nonce: newNonce(),
    status: 'pending',
    createdAt: input.now,
    expiresAt: input.now + decision.gateTtlMs,
    remindedAt: null,
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    decisionSource: null,
    editedArgs: null,
    approvedHash: null,
    card: null,
  };
}
