/**
 * JSON views and text renderings of runs and gates shared by several commands. The JSON views
 * are stable snake_case objects (docs/cli.md); the text is short and aligned for a terminal.
 */
import { hashPrefix } from '../approvals/args-hash.ts';
import type { Gate, RunDoc, RunIndexEntry, TraceEvent } from '../store/run-schema.ts';
import { buildRunSummary } from '../trace/run-summary.ts';
import { alignRows, clip, isoTime } from './output.ts';

/** Characters of a gate's arguments shown in text output. */
export const ARGS_PREVIEW_CHARS = 240;

/** A gate as the CLI shows it. */
export interface GateView {
  run_id: string;
  gate_id: string;
  step_id: string;
  status: Gate['status'];
  tool: string;
  category: string;
  risk: string;
  reason: string;
  args: unknown;
  args_hash: string;
  args_hash_prefix: string;
  approvers: string[];
  four_eyes: boolean;
  requested_by: string;
  lineage: string[];
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  edited_args: unknown;
  approved_hash: string | null;
}

/** The JSON view of a gate. */
export function gateView(gate: Gate): GateView {
  return {
    run_id: gate.runId,
    gate_id: gate.gateId,
    step_id: gate.stepId,
    status: gate.status,
    tool: gate.tool,
    category: gate.category,
    risk: gate.risk,
    reason: gate.reason,
    args: gate.args,
    args_hash: gate.argsHash,
    args_hash_prefix: hashPrefix(gate.argsHash),
    approvers: [...gate.approvers],
    four_eyes: gate.fourEyes,
    requested_by: gate.requestedBy.userId,
    lineage: [...gate.lineage],
    created_at: isoTime(gate.createdAt),
    expires_at: isoTime(gate.expiresAt),
    decided_by: gate.decidedBy,
    decided_at: gate.decidedAt === null ? null : isoTime(gate.decidedAt),
    decision_reason: gate.decisionReason,
    edited_args: gate.editedArgs,
    approved_hash: gate.approvedHash,
  };
}

/** The outcome of a command that drove a run (start, approve, reject, resume, ...). */
export interface RunOutcome {
  run_id: string;
  status: string;
  role: string;
  task: string;
  requested_by: string;
  result: string | null;
  error: { code: string; message: string } | null;
  attention: { step_id: string; reason: string } | null;
  pending_gates: GateView[];
  files: { path: string; bytes: number; sha256: string }[];
  next_commands: string[];
}

/** The JSON view of where a run stands. */
export function runOutcome(doc: RunDoc): RunOutcome {
  const { run } = doc;
  return {
    run_id: run.runId,
    status: run.status,
    role: run.role,
    task: run.task,
    requested_by: run.requestedBy.userId,
    result: run.result,
    error: run.error === null ? null : { ...run.error },
    attention: run.attention === null ? null : { step_id: run.attention.stepId, reason: run.attention.reason },
    pending_gates: run.gates.filter((g) => g.status === 'pending').map(gateView),
    files: run.files.map((f) => ({ ...f })),
    next_commands: buildRunSummary(doc).next_commands,
  };
}

/** A gate as a few aligned lines. */
export function renderGate(gate: GateView, indent = ''): string {
  const rows: string[][] = [
    ['gate', `${gate.gate_id} (${gate.status})`],
    ['tool', `${gate.tool}  category ${gate.category}, risk ${gate.risk}`],
    ['args', clip(JSON.stringify(gate.args), ARGS_PREVIEW_CHARS)],
    ['hash', `${gate.args_hash_prefix}  (sha256 of tool + args + policy version)`],
    ['approvers', `${gate.approvers.join(', ') || '(none)'}${gate.four_eyes ? `  (four-eyes: not ${gate.requested_by})` : ''}`],
    ['reason', gate.reason],
    ['expires', gate.expires_at],
  ];
  if (gate.decided_by !== null) rows.push(['decided', `${gate.status} by ${gate.decided_by} at ${gate.decided_at ?? '-'}`]);
  if (gate.decision_reason !== null) rows.push(['why', gate.decision_reason]);
  return alignRows(rows, indent);
}

/** Where a run stands, then its pending gates and what to type next. */
export function renderOutcome(outcome: RunOutcome): string {
  const rows: string[][] = [
    ['run', outcome.run_id],
    ['status', outcome.status],
    ['role', outcome.role],
    ['task', clip(outcome.task, 120, false)],
  ];
  if (outcome.result !== null) rows.push(['result', clip(outcome.result, 600)]);
  if (outcome.error !== null) rows.push(['error', `${outcome.error.code}: ${outcome.error.message}`]);
  if (outcome.attention !== null) rows.push(['attention', `step ${outcome.attention.step_id}: ${outcome.attention.reason}`]);
  for (const file of outcome.files) rows.push(['file', `${file.path} (${file.bytes} bytes)`]);
  const parts = [alignRows(rows)];
  for (const gate of outcome.pending_gates) parts.push(`\nwaiting for approval:\n${renderGate(gate, '  ')}`);
  if (outcome.next_commands.length > 0) parts.push(`\nnext:\n${outcome.next_commands.map((c) => `  ${c}`).join('\n')}`);
  return parts.join('\n');
}

/** Index entries as a table. */
export function renderRunList(entries: readonly RunIndexEntry[]): string {
  if (entries.length === 0) return 'no runs';
  const rows = [['RUN', 'STATUS', 'ROLE', 'CREATED', 'GATES', 'TASK']];
  for (const e of entries) rows.push([e.runId, e.status, e.role, isoTime(e.createdAt), String(e.pendingGates), clip(e.task, 60, false)]);
  return alignRows(rows);
}

/** A trace event as one line: seq, time, event, step, and a clipped detail. */
export function renderEventLine(event: TraceEvent): string[] {
  return [String(event.seq), isoTime(event.ts), event.event, event.stepId ?? '-', clip(JSON.stringify(event.detail), 120, false)];
}
