/**
 * Small, total readers over trace events and run state shared by the summaries. The trace layer
 * reads events the orchestrator wrote, but never imports the orchestrator (layer rule): details
 * are read defensively, so a summary of an old or odd trace degrades to nulls, never throws.
 */
import type { RunDoc, RunState, Step, TraceEvent } from '../store/run-schema.ts';

/** ISO-8601 UTC with milliseconds, or null for a missing timestamp. */
export function isoTime(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** A string field of an event's detail, or null. */
export function detailString(event: TraceEvent, key: string): string | null {
  const value = event.detail[key];
  return typeof value === 'string' ? value : null;
}

/** A finite number field of an event's detail, or null. */
export function detailNumber(event: TraceEvent, key: string): number | null {
  const value = event.detail[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** An object field of an event's detail, or null. */
export function detailObject(event: TraceEvent, key: string): Record<string, unknown> | null {
  const value = event.detail[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The `{code, message}` error carried by an event's detail (`error`), or null. */
export function detailError(event: TraceEvent): { code: string; message: string } | null {
  const error = detailObject(event, 'error');
  if (error === null) return null;
  const code = typeof error['code'] === 'string' ? error['code'] : 'unknown';
  const message = typeof error['message'] === 'string' ? error['message'] : '';
  return { code, message };
}

/** Counts items by key; keys keep first-seen order. */
export function countBy<T>(items: readonly T[], key: (item: T) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== null) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Events with the given name(s). */
export function eventsNamed(doc: RunDoc, ...names: readonly TraceEvent['event'][]): TraceEvent[] {
  return doc.trace.filter((e) => names.includes(e.event));
}

/** Collapses whitespace and cuts to `max` characters (ending with `…` when cut). */
export function compact(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/**
 * Where a run stands, in the seed's `current_step` sense: the status once the run is `completed`
 * or `cancelled` (the seed's `done`), otherwise the id of the latest step (so a failed run stays
 * on the step it failed at, as in the seed), or the status while there is no step yet.
 */
export function currentStep(run: RunState): string {
  if (run.status === 'completed' || run.status === 'cancelled') return run.status;
  return run.steps.at(-1)?.stepId ?? run.status;
}

/** How the cost of a model is known: scripted models are local; other providers are not priced here. */
export function costStatusOf(model: string): 'local_or_mock' | 'unpriced' {
  return model === 'scripted' || model.startsWith('scripted:') || model.startsWith('scripted ') ? 'local_or_mock' : 'unpriced';
}

/**
 * Token and model-call roll-up from `model_called` events (the run's `usage` is the same fold,
 * but the events also say which model answered, which decides the cost status).
 */
export interface CostRollup {
  model_step_count: number;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
  estimated_total_tokens: number;
  /** `local_or_mock`, `unpriced`, `mixed` (both kinds), or `not_applicable` (no model call). */
  status: 'local_or_mock' | 'unpriced' | 'mixed' | 'not_applicable';
  note: string;
}

/** Builds the cost roll-up of a run. */
export function costRollup(doc: RunDoc): CostRollup {
  const calls = eventsNamed(doc, 'model_called');
  let input = 0;
  let output = 0;
  const statuses = new Set<'local_or_mock' | 'unpriced'>();
  for (const call of calls) {
    const usage = detailObject(call, 'usage');
    input += typeof usage?.['inputTokens'] === 'number' ? usage['inputTokens'] : 0;
    output += typeof usage?.['outputTokens'] === 'number' ? usage['outputTokens'] : 0;
    statuses.add(costStatusOf(detailString(call, 'model') ?? doc.run.model));
  }
  const status = statuses.size === 0 ? 'not_applicable' : statuses.size > 1 ? 'mixed' : [...statuses][0]!;
  return {
    model_step_count: calls.length,
    estimated_input_tokens: input,
    estimated_output_tokens: output,
    estimated_total_tokens: input + output,
    status,
    note:
      status === 'local_or_mock'
        ? 'Scripted model: token counts are estimates and cost nothing.'
        : 'Token counts as reported by the provider (or estimated); no price table is applied, so no currency cost is shown.',
  };
}

/** The last error message recorded for a step (from its final `tool_error`), or its error output. */
export function stepError(doc: RunDoc, step: Step): { code: string; message: string } | null {
  for (let i = doc.trace.length - 1; i >= 0; i -= 1) {
    const event = doc.trace[i]!;
    if (event.event === 'tool_error' && detailString(event, 'stepId') === step.stepId) return detailError(event);
  }
  if (step.output?.isError) return { code: step.status, message: step.output.content };
  return null;
}

/** Steps that ended badly: failed, denied, invalid, rejected or skipped. */
export const UNSUCCESSFUL_STEP_STATUSES: readonly Step['status'][] = ['failed', 'denied', 'invalid', 'rejected', 'skipped'];
