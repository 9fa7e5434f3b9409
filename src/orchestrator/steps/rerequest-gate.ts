/**
 * A gate expired and someone asked again ("request again" on the card, or `harness resume`):
 * policy is consulted afresh and a new gate is persisted for the same step.
 */
import { buildGate } from '../../approvals/build-gate.ts';
import { computeArgsHash } from '../../approvals/args-hash.ts';
import { decide } from '../../policy/engine.ts';
import type { RunDoc, RunState, Step } from '../../store/run-schema.ts';
import { gateOpenedEvents, policyDeniedEvent } from './event-builders.ts';
import type { StepContext } from './step-context.ts';

/** Persists a fresh gate (or a denial, if policy now denies) for a step whose gate expired. */
export async function rerequestGate(ctx: StepContext, run: RunState, step: Step): Promise<RunDoc> {
  const { deps } = ctx;
  const tool = ctx.tools.get(step.tool);
  const targets = tool?.targets?.(step.args as never) ?? {};
  const decision = decide(deps.policy, {
    tool: step.tool,
    registered: tool !== undefined,
    category: tool?.category ?? 'unknown',
    risk: tool?.risk ?? 'irreversible',
    role: run.role,
    roleTools: ctx.tools.roleTools(ctx.role.tools),
    writePaths: targets.writePaths ?? [],
    urls: targets.urls ?? [],
  });
  if (decision.decision === 'deny' || !tool) {
    return ctx.committer.commit(run.runId, [policyDeniedEvent(step, decision.reason, decision.rule)]);
  }
  const argsHash = computeArgsHash(step.tool, step.args, deps.policy.version);
  const gate = buildGate({
    run,
    step,
    args: step.args,
    argsHash,
    risk: tool.risk,
    decision: { ...decision, decision: 'approve' },
    now: deps.clock.now(),
    reason: `${decision.reason} (requested again after the previous approval request expired)`,
  });
  const doc = await ctx.committer.commit(run.runId, gateOpenedEvents(step, gate));
  deps.crash.hit('after-gate-persisted');
  return doc;
}
