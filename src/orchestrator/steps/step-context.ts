/**
 * What every step function receives: the dependencies, the single write path, the run's abort
 * signal (cancel, shutdown) and the run's role.
 */
import type { RoleDefinition } from '../../agents/role-types.ts';
import { type BotError, ModelBehaviorError, asBotError } from '../../shared/errors.ts';
import type { RunDoc } from '../../store/run-schema.ts';
import type { Committer } from '../commit.ts';
import type { HarnessDeps } from '../deps.ts';
import type { RunToolView } from '../tool-view.ts';

export interface StepContext {
  deps: HarnessDeps;
  committer: Committer;
  signal: AbortSignal;
  role: RoleDefinition;
  /** The tools as this run sees them: the registry plus its own (agent) tools. */
  tools: RunToolView;
}

/** Commits `run_failed` for an error and returns the new document. */
export function failRun(ctx: StepContext, runId: string, error: unknown): Promise<RunDoc> {
  const botError: BotError = asBotError(error);
  return ctx.committer.commit(runId, [
    { event: 'run_failed', detail: { error: { code: botError.code, message: botError.message } } },
  ]);
}

/** Exponential backoff with a ceiling; `retryAfterMs` from the error wins when present. */
export function backoffMs(attempt: number, error: BotError, baseMs = 250, maxMs = 10_000): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, 60_000);
  return Math.min(baseMs * 2 ** (attempt - 1), maxMs);
}

/** The error a run fails with after too many malformed calls in a row (P12). */
export function tooManyInvalid(runId: string, count: number): ModelBehaviorError {
  return new ModelBehaviorError(`the model made ${count} malformed or unregistered tool calls in a row`, { runId });
}
