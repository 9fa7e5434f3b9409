/**
 * The persisted run document (contract, DESIGN.md §2, §3, §5, §6).
 *
 * One JSON file per run holds `{ schemaVersion, run, trace }`. The `run` part is a pure fold of the
 * `trace` (see `src/orchestrator/apply-event.ts`): every change to a run is an event appended in the
 * same durable write, so the trace is complete by construction and replaying it rebuilds the state.
 *
 * Every object is strict: unknown keys (including `__proto__`) fail validation, and so do unknown
 * or future schema versions. Never widen a schema without a migration in `migrations.ts`.
 */
import { z } from 'zod';
import { ActionCategory, Decision, Risk } from '../shared/vocabulary.ts';

/** The schema version this build writes. */
export const RUN_SCHEMA_VERSION = 1;
/** The schema versions this build can read (older ones are migrated on read). */
export const SUPPORTED_RUN_SCHEMA_VERSIONS = [1] as const;

export const RunStatus = z.enum([
  'queued',
  'running',
  'waiting_approval',
  'needs_attention',
  'completed',
  'failed',
  'cancelled',
]);
export type RunStatus = z.infer<typeof RunStatus>;

/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export { ActionCategory, Decision, Risk };

const Json = z.json();

export const RequestedBy = z.strictObject({
  userId: z.string().min(1),
  source: z.enum(['cli', 'slack', 'mcp', 'agent', 'bench']),
});
export type RequestedBy = z.infer<typeof RequestedBy>;

export const Origin = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('cli') }),
  z.strictObject({
    kind: z.literal('slack'),
    teamId: z.string(),
    channel: z.string(),
    threadTs: z.string(),
    eventId: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('mcp'), client: z.string() }),
  z.strictObject({ kind: z.literal('agent'), parentRunId: z.string() }),
]);
export type Origin = z.infer<typeof Origin>;

export const Budgets = z.strictObject({
  maxTurns: z.int().positive(),
  maxToolCalls: z.int().positive(),
  maxWallMs: z.int().positive(),
  maxTokens: z.int().positive(),
});
export type Budgets = z.infer<typeof Budgets>;

export const Usage = z.strictObject({
  turns: z.int().nonnegative(),
  toolCalls: z.int().nonnegative(),
  inputTokens: z.int().nonnegative(),
  outputTokens: z.int().nonnegative(),
  /** Time spent actively driving the run (not waiting for humans). */
  activeMs: z.number().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

export const ToolCall = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** Exactly what the model sent; may be invalid JSON or missing (P12). */
  argumentsJson: z.string().nullable(),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const TranscriptEntry = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), text: z.string(), userId: z.string(), at: z.number() }),
  z.strictObject({
    kind: z.literal('assistant'),
    text: z.string().nullable(),
    toolCalls: z.array(ToolCall),
    at: z.number(),
  }),
  z.strictObject({
    kind: z.literal('tool'),
    toolCallId: z.string(),
    stepId: z.string(),
    content: z.string(),
    isError: z.boolean(),
  }),
]);
export type TranscriptEntry = z.infer<typeof TranscriptEntry>;

export const StepStatus = z.enum([
  'proposed',
  'invalid',
  'denied',
  'awaiting_approval',
  'approved',
  'rejected',
  'started',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]);
export type StepStatus = z.infer<typeof StepStatus>;

export const PolicyDecisionRecord = z.strictObject({
  decision: Decision,
  reason: z.string(),
  /** Which rule decided: e.g. `category:filesystem_write`, `tool:http_fetch`, `role:writer`, `unregistered`. */
  rule: z.string(),
  policyVersion: z.string(),
});
export type PolicyDecisionRecord = z.infer<typeof PolicyDecisionRecord>;

export const ToolOutput = z.strictObject({
  isError: z.boolean(),
  /** The text the model sees. */
  content: z.string(),
  data: Json.optional(),
});
export type ToolOutput = z.infer<typeof ToolOutput>;

export const Step = z.strictObject({
  stepId: z.string(),
  turn: z.int().nonnegative(),
  index: z.int().nonnegative(),
  toolCallId: z.string(),
  tool: z.string(),
  argumentsJson: z.string().nullable(),
  /** Parsed, schema-valid arguments (the edited ones after an edit-then-approve). */
  args: Json.nullable(),
  /** Arguments as first proposed, kept when an approver edited them. */
  originalArgs: Json.nullable(),
  argsHash: z.string().nullable(),
  category: ActionCategory.nullable(),
  risk: Risk.nullable(),
  idempotent: z.boolean(),
  status: StepStatus,
  decision: PolicyDecisionRecord.nullable(),
  gateId: z.string().nullable(),
  attempts: z.int().nonnegative(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  durationMs: z.number().nullable(),
  output: ToolOutput.nullable(),
});
export type Step = z.infer<typeof Step>;

export const GateStatus = z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled']);
export type GateStatus = z.infer<typeof GateStatus>;

export const Gate = z.strictObject({
  gateId: z.string(),
  runId: z.string(),
  stepId: z.string(),
  tool: z.string(),
  args: Json,
  /** sha256(canonicalJson({ tool, args, policyVersion })) */
  argsHash: z.string(),
  policyVersion: z.string(),
  category: ActionCategory,
  risk: Risk,
  reason: z.string(),
  requestedBy: RequestedBy,
  /** Role chain from the root run to this run, e.g. ["pm", "writer"]. */
  lineage: z.array(z.string()),
  approvers: z.array(z.string()),
  fourEyes: z.boolean(),
  /** Random value shown on buttons beside the gate id; checked, but never authority. */
  nonce: z.string(),
  status: GateStatus,
  createdAt: z.number(),
  expiresAt: z.number(),
  remindedAt: z.number().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
  decisionReason: z.string().nullable(),
  decisionSource: z.string().nullable(),
  editedArgs: Json.nullable(),
  /** The hash of what was approved (differs from argsHash after an edit). */
  approvedHash: z.string().nullable(),
  card: z.strictObject({ channel: z.string(), ts: z.string() }).nullable(),
});
export type Gate = z.infer<typeof Gate>;

export const ErrorInfo = z.strictObject({ code: z.string(), message: z.string() });
export type ErrorInfo = z.infer<typeof ErrorInfo>;

export const ProducedFile = z.strictObject({ path: z.string(), bytes: z.int().nonnegative(), sha256: z.string() });
export type ProducedFile = z.infer<typeof ProducedFile>;

export const SlackPost = z.strictObject({
  kind: z.string(),
  key: z.string(),
  channel: z.string(),
  ts: z.string(),
});
export type SlackPost = z.infer<typeof SlackPost>;

export const RunState = z.strictObject({
  runId: z.string(),
  parentRunId: z.string().nullable(),
  rootRunId: z.string(),
  depth: z.int().nonnegative(),
  role: z.string(),
  lineage: z.array(z.string()),
  task: z.string(),
  requestedBy: RequestedBy,
  origin: Origin,
  status: RunStatus,
  createdAt: z.number(),
  updatedAt: z.number(),
  policyVersion: z.string(),
  model: z.string(),
  budgets: Budgets,
  usage: Usage,
  consecutiveInvalid: z.int().nonnegative(),
  transcript: z.array(TranscriptEntry),
  steps: z.array(Step),
  gates: z.array(Gate),
  result: z.string().nullable(),
  error: ErrorInfo.nullable(),
  attention: z.strictObject({ stepId: z.string(), reason: z.string() }).nullable(),
  files: z.array(ProducedFile),
  children: z.array(z.string()),
  /** Slack messages this run owns, keyed so a retry updates instead of re-posting (P15). */
  posts: z.array(SlackPost),
});
export type RunState = z.infer<typeof RunState>;

/** Every trace event name (DESIGN.md §6; seed names kept where the concept is the seed's). */
export const TraceEventName = z.enum([
  'run_created',
  'run_started',
  'user_message',
  'model_called',
  'model_error',
  'tool_call_invalid',
  'policy_checked',
  'policy_denied',
  'approval_required',
  'run_paused',
  'approval_granted',
  'approval_rejected',
  'approval_expired',
  'approval_refused',
  'approval_reminded',
  'run_resumed',
  'tool_start',
  'tool_ok',
  'tool_error',
  'needs_attention',
  'attention_resolved',
  'run_completed',
  'run_failed',
  'run_cancelled',
  'draft_reviewed',
  'role_activity',
  'role_handoff',
  'subagent_drafted',
  'subagent_finished',
  'subagent_killed',
  'slack_posted',
]);
export type TraceEventName = z.infer<typeof TraceEventName>;

export const TraceEvent = z.strictObject({
  seq: z.int().nonnegative(),
  ts: z.number(),
  runId: z.string(),
  stepId: z.string().optional(),
  event: TraceEventName,
  detail: z.record(z.string(), Json),
});
export type TraceEvent = z.infer<typeof TraceEvent>;

export const RunDoc = z.strictObject({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  run: RunState,
  trace: z.array(TraceEvent),
});
export type RunDoc = z.infer<typeof RunDoc>;

/** One line of the run index (`index.jsonl`): enough to list and recover without opening runs. */
export const RunIndexEntry = z.strictObject({
  runId: z.string(),
  status: RunStatus,
  role: z.string(),
  task: z.string(),
  parentRunId: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  pendingGates: z.int().nonnegative(),
});
export type RunIndexEntry = z.infer<typeof RunIndexEntry>;
