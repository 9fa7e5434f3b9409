/**
 * Runs a tool whose call is allowed or approved. Before an approved call runs, the arguments hash
 * is recomputed against the gate (P10): any drift (a tampered store, changed policy) asks for a new
 * gate instead of running. Execution is bracketed by `tool_start` / `tool_ok|tool_error` writes and
 * carries the idempotency key `${runId}:${stepId}`, the same on every retry and after a restart.
 */
import { buildGate } from '../../approvals/build-gate.ts';
import { computeArgsHash } from '../../approvals/args-hash.ts';
import { decide } from '../../policy/engine.ts';
import { ToolError, asBotError, ErrorCode } from '../../shared/errors.ts';
import type { RunDoc, RunState, Step } from '../../store/run-schema.ts';
import type { ToolResult } from '../../tools/types.ts';
import { checkToolBudgets } from './budgets.ts';
import { gateOpenedEvents, idempotencyKey, policyCheckedEvent, policyDeniedEvent, toolStartEvent } from './event-builders.ts';
import { type StepContext, backoffMs, failRun } from './step-context.ts';

const MAX_TOOL_ATTEMPTS = 3;

/** Executes an approved step after re-verifying its gate binding. */
export async function executeApprovedStep(ctx: StepContext, run: RunState, step: Step): Promise<RunDoc> {
  const { deps } = ctx;
  const gate = run.gates.find((g) => g.gateId === step.gateId);
  const tool = ctx.tools.get(step.tool);
  if (!gate || gate.status !== 'approved' || gate.approvedHash === null || !tool) {
    return failRun(ctx, run.runId, new ToolError(`step ${step.stepId} is marked approved without an approved gate`, { code: ErrorCode.Invariant }));
  }
  const currentHash = computeArgsHash(step.tool, step.args, deps.policy.version);
  if (currentHash !== gate.approvedHash) {
    // What would run now is not what was approved: a changed policy or tampered arguments.
    const targets = tool.targets?.(step.args as never) ?? {};
    const decision = decide(deps.policy, {
      tool: step.tool,
      registered: true,
      category: tool.category,
      risk: tool.risk,
      role: run.role,
      roleTools: ctx.tools.roleTools(ctx.role.tools),
      writePaths: targets.writePaths ?? [],
      urls: targets.urls ?? [],
    });
    const reason = `the arguments or policy changed after approval (approved ${gate.approvedHash.slice(0, 12)}, now ${currentHash.slice(0, 12)}); a new approval is required`;
    const verdict =
      decision.decision === 'deny' ? decision : { ...decision, decision: 'approve' as const, reason, rule: 'args_hash_mismatch' };
    const checked = policyCheckedEvent(step, verdict, tool.risk, tool.idempotent, step.args, currentHash);
    if (decision.decision === 'deny') {
      return ctx.committer.commit(run.runId, [checked, policyDeniedEvent(step, decision.reason, decision.rule)]);
    }
    const newGate = buildGate({
      run,
      step,
      args: step.args,
      argsHash: currentHash,
      risk: tool.risk,
      decision: { ...decision, decision: 'approve' },
      now: deps.clock.now(),
      reason,
    });
    return ctx.committer.commit(run.runId, [checked, ...gateOpenedEvents(step, newGate)]);
  }
  const overrun = checkToolBudgets(run);
  if (overrun) return failRun(ctx, run.runId, overrun);
  const attempt = step.attempts + 1;
  await ctx.committer.commit(run.runId, [toolStartEvent(run.runId, step, attempt)]);
  return runTool(ctx, run, step, attempt);
}

/**
 * A step found `started` when a run is (re)driven: the process died while the tool ran. An
 * idempotent tool runs again with the same key; anything else needs a human (fail closed).
 */
export async function recoverInterruptedStep(ctx: StepContext, run: RunState, step: Step): Promise<RunDoc> {
  if (step.idempotent) {
    const attempt = step.attempts + 1;
    await ctx.committer.commit(run.runId, [toolStartEvent(run.runId, step, attempt)]);
    return runTool(ctx, run, step, attempt);
  }
  return ctx.committer.commit(run.runId, [
    {
      event: 'needs_attention',
      stepId: step.stepId,
      detail: {
        stepId: step.stepId,
        reason: `${step.tool} (step ${step.stepId}) was started but not finished before the process stopped, and it is not idempotent: it may or may not have taken effect. Retry, skip or cancel.`,
      },
    },
  ]);
}

/** Runs the handler (attempt `attempt` is already recorded as started) with timeout and retries. */
export async function runTool(ctx: StepContext, run: RunState, step: Step, firstAttempt: number): Promise<RunDoc> {
  const { deps } = ctx;
  const tool = ctx.tools.get(step.tool);
  if (!tool) return failRun(ctx, run.runId, new ToolError(`tool ${step.tool} disappeared from the registry`));
  const waiting = ctx.tools.isWaitingTool(step.tool);
  const key = idempotencyKey(run.runId, step.stepId);
  const timeoutMs = tool.timeoutMs ?? deps.budgets.toolTimeoutMs;

  for (let attempt = firstAttempt; ; attempt += 1) {
    if (attempt > firstAttempt) {
      await ctx.committer.commit(run.runId, [toolStartEvent(run.runId, step, attempt)]);
    }
    deps.crash.hit('before-tool-exec');
    const started = deps.clock.now();
    let result: ToolResult | undefined;
    let failure: ToolError | undefined;
    try {
      result = await withTimeout(
        (signal) => tool.handler(step.args as never, { runId: run.runId, stepId: step.stepId, idempotencyKey: key, role: run.role, signal }),
        timeoutMs,
        ctx.signal,
        step.tool,
        deps.clock,
      );
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const botError = asBotError(error);
      failure = botError instanceof ToolError ? botError : new ToolError(botError.message, { code: botError.code, retryable: botError.retryable, cause: error });
    }
    deps.crash.hit('after-tool-exec-before-checkpoint');
    const durationMs = Math.max(0, deps.clock.now() - started);
    // Time spent waiting on other runs (await_agent) is not this run's active work.
    const waited = waiting ? { waitedMs: durationMs } : {};
    if (result !== undefined) {
      const doc = await ctx.committer.commit(run.runId, [
        {
          event: 'tool_ok',
          stepId: step.stepId,
          detail: {
            stepId: step.stepId,
            tool: step.tool,
            content: result.content,
            ...(result.data === undefined ? {} : { data: JSON.parse(JSON.stringify(result.data)) as never }),
            files: result.files ?? [],
            durationMs,
            ...waited,
            attempt,
          },
        },
      ]);
      deps.crash.hit('after-tool-checkpoint');
      return doc;
    }
    const error = failure ?? new ToolError(`${step.tool} failed`);
    const willRetry = error.retryable && step.idempotent && attempt < MAX_TOOL_ATTEMPTS;
    const doc = await ctx.committer.commit(run.runId, [
      {
        event: 'tool_error',
        stepId: step.stepId,
        detail: {
          stepId: step.stepId,
          tool: step.tool,
          error: { code: error.code, message: error.message },
          retryable: error.retryable,
          willRetry,
          durationMs,
          ...waited,
          attempt,
        },
      },
    ]);
    if (!willRetry) return doc;
    await deps.clock.sleep(backoffMs(attempt, error), ctx.signal);
  }
}

/**
 * Runs `fn` with an abort signal that fires on timeout or when `outer` aborts. The timeout waits on
 * the injected clock, so a test with a fake clock can trip it without sleeping.
 */
async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  outer: AbortSignal,
  name: string,
  clock: StepContext['deps']['clock'],
): Promise<T> {
  // A listener added to an already-aborted signal never fires: a cancel that landed between
  // tool_start and here must still stop the tool before it starts.
  if (outer.aborted) throw outer.reason;
  const controller = new AbortController();
  const timerStop = new AbortController();
  const onOuterAbort = (): void => controller.abort(outer.reason);
  outer.addEventListener('abort', onOuterAbort, { once: true });
  const timeout = clock.sleep(timeoutMs, timerStop.signal).then(
    () => {
      const error = new ToolError(`${name} timed out after ${timeoutMs} ms`, { code: ErrorCode.ToolTimeout, retryable: true });
      controller.abort(error);
      throw error;
    },
    () => new Promise<never>(() => undefined),
  );
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    timerStop.abort();
    outer.removeEventListener('abort', onOuterAbort);
  }
}
