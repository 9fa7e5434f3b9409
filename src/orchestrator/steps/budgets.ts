/**
 * Budget checks (P18). Each returns the violated limit as a typed error, or null.
 */
import { BudgetExceededError } from '../../shared/errors.ts';
import type { RunState } from '../../store/run-schema.ts';

/** Checked before every model call. */
export function checkModelBudgets(run: RunState): BudgetExceededError | null {
  const { budgets, usage } = run;
  if (usage.turns >= budgets.maxTurns) {
    return new BudgetExceededError(`max turns exceeded: the run used ${usage.turns} of ${budgets.maxTurns} model turns`, {
      runId: run.runId,
      details: { limit: 'maxTurns', value: budgets.maxTurns },
    });
  }
  const tokens = usage.inputTokens + usage.outputTokens;
  if (tokens >= budgets.maxTokens) {
    return new BudgetExceededError(`max tokens exceeded: ${tokens} of ${budgets.maxTokens}`, {
      runId: run.runId,
      details: { limit: 'maxTokens', value: budgets.maxTokens },
    });
  }
  return checkWallBudget(run);
}

/** Checked before every tool execution. */
export function checkToolBudgets(run: RunState): BudgetExceededError | null {
  const { budgets, usage } = run;
  if (usage.toolCalls >= budgets.maxToolCalls) {
    return new BudgetExceededError(`max tool calls exceeded: ${usage.toolCalls} of ${budgets.maxToolCalls}`, {
      runId: run.runId,
      details: { limit: 'maxToolCalls', value: budgets.maxToolCalls },
    });
  }
  return checkWallBudget(run);
}

function checkWallBudget(run: RunState): BudgetExceededError | null {
  if (run.usage.activeMs >= run.budgets.maxWallMs) {
    return new BudgetExceededError(
      `max wall time exceeded: ${Math.round(run.usage.activeMs)} ms of ${run.budgets.maxWallMs} ms of active work`,
      { runId: run.runId, details: { limit: 'maxWallMs', value: run.budgets.maxWallMs } },
    );
  }
  return null;
}
