/**
 * One model turn: budgets, prompt, the call with retries for retryable errors only, then one
 * durable write of the answer (and of completion, when the answer has no tool calls).
 */
import { asBotError } from '../../shared/errors.ts';
import type { RunDoc, RunState } from '../../store/run-schema.ts';
import type { RunEventInput } from '../event-schemas.ts';
import { buildPrompt } from './build-prompt.ts';
import { checkModelBudgets } from './budgets.ts';
import { type StepContext, backoffMs, failRun, tooManyInvalid } from './step-context.ts';

/** Calls the model once (with retries) and persists its answer. */
export async function callModel(ctx: StepContext, run: RunState): Promise<RunDoc> {
  const { deps } = ctx;
  if (run.consecutiveInvalid >= deps.budgets.maxConsecutiveInvalid) {
    return failRun(ctx, run.runId, tooManyInvalid(run.runId, run.consecutiveInvalid));
  }
  const overrun = checkModelBudgets(run) ?? (await deps.quota?.checkTokens(run.requestedBy.userId, deps.clock.now())) ?? null;
  if (overrun) return failRun(ctx, run.runId, overrun);

  const messages = buildPrompt(run, ctx.role);
  const tools = ctx.tools.specsFor(ctx.role.tools);
  const maxAttempts = 1 + deps.modelRetries;
  for (let attempt = 1; ; attempt += 1) {
    const started = deps.clock.now();
    try {
      const response = await deps.model.complete({ messages, tools, signal: ctx.signal });
      deps.crash.hit('after-model-response');
      const events: RunEventInput[] = [
        {
          event: 'model_called',
          detail: {
            turn: run.usage.turns,
            text: response.content,
            toolCalls: response.toolCalls,
            usage: response.usage,
            durationMs: Math.max(0, deps.clock.now() - started),
            model: deps.model.name,
          },
        },
      ];
      if (response.toolCalls.length === 0) {
        events.push({ event: 'run_completed', detail: { result: response.content ?? '' } });
      }
      const doc = await ctx.committer.commit(run.runId, events);
      deps.crash.hit('after-model-persisted');
      return doc;
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const botError = asBotError(error);
      const willRetry = botError.retryable && attempt < maxAttempts;
      await ctx.committer.commit(run.runId, [
        {
          event: 'model_error',
          detail: { error: { code: botError.code, message: botError.message }, attempt, willRetry },
        },
      ]);
      if (!willRetry) return failRun(ctx, run.runId, botError);
      await deps.clock.sleep(backoffMs(attempt, botError), ctx.signal);
    }
  }
}
