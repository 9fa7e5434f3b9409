/**
 * Judges one proposed tool call: registered? valid arguments? preflight (filesystem) ok? what does
 * policy say? The verdict and its consequence (denial, gate + pause, or the start of execution)
 * are written in one commit, so a crash can never leave a decided-but-unrecorded call.
 */
import { buildGate } from '../../approvals/build-gate.ts';
import { computeArgsHash } from '../../approvals/args-hash.ts';
import { decide } from '../../policy/engine.ts';
import type { PolicyDecision } from '../../policy/types.ts';
import { asBotError } from '../../shared/errors.ts';
import type { Risk, RunDoc, RunState, Step } from '../../store/run-schema.ts';
import { gateOpenedEvents, policyCheckedEvent, policyDeniedEvent, toolStartEvent } from './event-builders.ts';
import { checkToolBudgets } from './budgets.ts';
import { type StepContext, failRun } from './step-context.ts';

/** The outcome of checking a step. */
export type CheckOutcome = { doc: RunDoc; execute: boolean };

/** Validates and judges `step`; when allowed, the returned doc already has the step started. */
export async function checkStep(ctx: StepContext, run: RunState, step: Step): Promise<CheckOutcome> {
  const { deps } = ctx;
  const tool = ctx.tools.get(step.tool);
  const policyCall = {
    tool: step.tool,
    role: run.role,
    roleTools: ctx.tools.roleTools(ctx.role.tools),
  };

  if (!tool) {
    const decision = decide(deps.policy, {
      ...policyCall,
      registered: false,
      category: 'unknown',
      risk: 'irreversible',
      writePaths: [],
      urls: [],
    });
    return { doc: await commitDenied(ctx, run, step, decision, 'irreversible', false, null, null), execute: false };
  }

  const validation = ctx.tools.validateArgs(step.tool, step.argumentsJson, deps.budgets.maxArgumentsBytes);
  if (!validation.ok) {
    const doc = await ctx.committer.commit(run.runId, [
      { event: 'tool_call_invalid', stepId: step.stepId, detail: { stepId: step.stepId, tool: step.tool, error: validation.error } },
    ]);
    return { doc, execute: false };
  }
  const args = validation.args;
  const argsHash = computeArgsHash(step.tool, args, deps.policy.version);

  if (tool.preflight) {
    let reason: string | null;
    try {
      reason = await tool.preflight(args, { role: run.role });
    } catch (error) {
      reason = asBotError(error).message;
    }
    if (reason !== null) {
      const decision: PolicyDecision = {
        decision: 'deny',
        reason,
        rule: 'preflight',
        policyVersion: deps.policy.version,
        category: tool.category,
        approvers: [],
        fourEyes: true,
        gateTtlMs: 0,
      };
      return { doc: await commitDenied(ctx, run, step, decision, tool.risk, tool.idempotent, args, argsHash), execute: false };
    }
  }

  const targets = tool.targets?.(args) ?? {};
  const decision = decide(deps.policy, {
    ...policyCall,
    registered: true,
    category: tool.category,
    risk: tool.risk,
    writePaths: targets.writePaths ?? [],
    urls: targets.urls ?? [],
  });
  const checked = policyCheckedEvent(step, decision, tool.risk, tool.idempotent, args, argsHash);

  if (decision.decision === 'deny') {
    return { doc: await commitDenied(ctx, run, step, decision, tool.risk, tool.idempotent, args, argsHash), execute: false };
  }
  if (decision.decision === 'approve') {
    const gate = buildGate({ run, step, args, argsHash, risk: tool.risk, decision, now: deps.clock.now() });
    const doc = await ctx.committer.commit(run.runId, [checked, ...gateOpenedEvents(step, gate)]);
    deps.crash.hit('after-gate-persisted');
    return { doc, execute: false };
  }

  const overrun = checkToolBudgets(run);
  if (overrun) return { doc: await failRun(ctx, run.runId, overrun), execute: false };
  const doc = await ctx.committer.commit(run.runId, [checked, toolStartEvent(run.runId, step, 1)]);
  return { doc, execute: true };
}

function commitDenied(
  ctx: StepContext,
  run: RunState,
  step: Step,
  decision: PolicyDecision,
  risk: Risk,
  idempotent: boolean,
  args: unknown,
  argsHash: string | null,
): Promise<RunDoc> {
  return ctx.committer.commit(run.runId, [
    policyCheckedEvent(step, { ...decision, decision: 'deny' }, risk, idempotent, args, argsHash),
    policyDeniedEvent(step, decision.reason, decision.rule),
  ]);
}
