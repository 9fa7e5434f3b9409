/**
 * The detail schema of every trace event the reducer acts on. Events are the only way a run
 * changes (`apply-event.ts`), so these schemas are as much a contract as the run document itself:
 * a replayed trace is validated event by event before it is folded.
 */
import { z } from 'zod';
import {
  ActionCategory,
  Budgets,
  Decision,
  ErrorInfo,
  Gate,
  Origin,
  ProducedFile,
  RequestedBy,
  Risk,
  ToolCall,
  type TraceEventName,
} from '../store/run-schema.ts';

const Json = z.json();
const Files = z.array(ProducedFile);

/** Detail schemas by event name. Events without an entry carry free-form, state-neutral detail. */
export const EventDetail = {
  run_created: z.strictObject({
    runId: z.string(),
    parentRunId: z.string().nullable(),
    rootRunId: z.string(),
    depth: z.int().nonnegative(),
    role: z.string(),
    lineage: z.array(z.string()),
    task: z.string(),
    requestedBy: RequestedBy,
    origin: Origin,
    policyVersion: z.string(),
    model: z.string(),
    budgets: Budgets,
  }),
  run_started: z.strictObject({}),
  user_message: z.strictObject({ text: z.string(), userId: z.string() }),
  model_called: z.strictObject({
    turn: z.int().nonnegative(),
    text: z.string().nullable(),
    toolCalls: z.array(ToolCall),
    usage: z.strictObject({ inputTokens: z.int().nonnegative(), outputTokens: z.int().nonnegative() }),
    durationMs: z.number().nonnegative(),
    model: z.string(),
  }),
  tool_call_invalid: z.strictObject({ stepId: z.string(), tool: z.string(), error: z.string() }),
  policy_checked: z.strictObject({
    stepId: z.string(),
    tool: z.string(),
    category: ActionCategory,
    risk: Risk,
    decision: Decision,
    reason: z.string(),
    rule: z.string(),
    policyVersion: z.string(),
    argsHash: z.string().nullable(),
    args: Json.nullable(),
    idempotent: z.boolean(),
  }),
  policy_denied: z.strictObject({ stepId: z.string(), tool: z.string(), reason: z.string(), rule: z.string() }),
  approval_required: z.strictObject({ stepId: z.string(), gate: Gate }),
  run_paused: z.strictObject({ reason: z.string(), gateId: z.string().nullable() }),
  approval_granted: z.strictObject({
    gateId: z.string(),
    stepId: z.string(),
    by: z.string(),
    at: z.number(),
    source: z.string(),
    editedArgs: Json.nullable(),
    approvedHash: z.string(),
    reason: z.string().nullable(),
  }),
  approval_rejected: z.strictObject({
    gateId: z.string(),
    stepId: z.string(),
    by: z.string(),
    at: z.number(),
    source: z.string(),
    reason: z.string(),
  }),
  approval_expired: z.strictObject({ gateId: z.string(), stepId: z.string() }),
  approval_reminded: z.strictObject({ gateId: z.string() }),
  run_resumed: z.strictObject({ by: z.string(), source: z.string() }),
  tool_start: z.strictObject({
    stepId: z.string(),
    tool: z.string(),
    idempotencyKey: z.string(),
    attempt: z.int().positive(),
  }),
  tool_ok: z.strictObject({
    stepId: z.string(),
    tool: z.string(),
    content: z.string(),
    data: Json.optional(),
    files: Files,
    durationMs: z.number().nonnegative(),
    /** Part of `durationMs` spent waiting on other runs (await_agent); not counted as active work. */
    waitedMs: z.number().nonnegative().optional(),
    attempt: z.int().positive(),
  }),
  tool_error: z.strictObject({
    stepId: z.string(),
    tool: z.string(),
    error: ErrorInfo,
    retryable: z.boolean(),
    willRetry: z.boolean(),
    durationMs: z.number().nonnegative(),
    waitedMs: z.number().nonnegative().optional(),
    attempt: z.int().positive(),
  }),
  needs_attention: z.strictObject({ stepId: z.string(), reason: z.string() }),
  attention_resolved: z.strictObject({ stepId: z.string(), action: z.enum(['retry', 'skip']), by: z.string() }),
  run_completed: z.strictObject({ result: z.string() }),
  run_failed: z.strictObject({ error: ErrorInfo }),
  run_cancelled: z.strictObject({ by: z.string(), reason: z.string() }),
  slack_posted: z.strictObject({
    kind: z.string(),
    key: z.string(),
    channel: z.string(),
    ts: z.string(),
    gateId: z.string().nullable(),
  }),
  subagent_drafted: z.looseObject({ childRunId: z.string() }),
} satisfies Partial<Record<TraceEventName, z.ZodType>>;

type DetailSchemas = typeof EventDetail;
/** Events whose detail has a schema. */
export type TypedEventName = keyof DetailSchemas;

/** An event as the orchestrator emits it (before `seq`, `ts` and `runId` are stamped on). */
export type RunEventInput =
  | { [K in TypedEventName]: { event: K; stepId?: string; detail: z.input<DetailSchemas[K]> } }[TypedEventName]
  | { event: Exclude<TraceEventName, TypedEventName>; stepId?: string; detail: Record<string, z.infer<typeof Json>> };

/** Parses an event's detail with its schema (identity for free-form events). */
export function parseDetail<K extends TypedEventName>(event: K, detail: unknown): z.infer<DetailSchemas[K]> {
  return EventDetail[event].parse(detail) as z.infer<DetailSchemas[K]>;
}

/** True when the event has a detail schema (and therefore may change state). */
export function isTypedEvent(event: string): event is TypedEventName {
  return Object.hasOwn(EventDetail, event);
}
