/**
 * The run state machine as data (contract, DESIGN.md §2). `apply-event.ts` refuses any status
 * change not listed here, and `harness workflow` prints this very table, so the exported graph and
 * the runtime cannot drift.
 */
import type { RunStatus, TraceEventName } from '../store/run-schema.ts';

export interface Transition {
  from: RunStatus;
  to: RunStatus;
  event: TraceEventName;
  condition: string;
}

const NON_TERMINAL: RunStatus[] = ['queued', 'running', 'waiting_approval', 'needs_attention'];

/** Every status change a run can make. */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'queued', to: 'running', event: 'run_started', condition: 'a worker picks the run up' },
  {
    from: 'running',
    to: 'waiting_approval',
    event: 'run_paused',
    condition: 'policy says approve: a gate was persisted for the step',
  },
  {
    from: 'waiting_approval',
    to: 'running',
    event: 'run_resumed',
    condition: 'the gate was decided (approved or rejected), or re-requested after expiry',
  },
  {
    from: 'running',
    to: 'needs_attention',
    event: 'needs_attention',
    condition: 'a non-idempotent step was found started but unfinished after a crash',
  },
  {
    from: 'needs_attention',
    to: 'running',
    event: 'attention_resolved',
    condition: 'an operator chose retry or skip',
  },
  { from: 'running', to: 'completed', event: 'run_completed', condition: 'the model answered without tool calls' },
  ...(['queued', 'running', 'waiting_approval'] as const).map(
    (from): Transition => ({
      from,
      to: 'failed',
      event: 'run_failed',
      condition: 'budget exceeded, model misbehaved, rejection ends run, or an unrecoverable error',
    }),
  ),
  ...NON_TERMINAL.map(
    (from): Transition => ({ from, to: 'cancelled', event: 'run_cancelled', condition: 'a user or parent cancelled it' }),
  ),
  {
    from: 'completed',
    to: 'running',
    event: 'run_resumed',
    condition: 'a follow-up message arrived in the thread (the only way out of a terminal status)',
  },
];

/** Events that do not change the status, and the statuses in which they may occur. */
export const STATUS_NEUTRAL_EVENTS: Readonly<Partial<Record<TraceEventName, readonly RunStatus[]>>> = {
  user_message: [...NON_TERMINAL, 'completed'],
  model_called: ['running'],
  model_error: ['running'],
  tool_call_invalid: ['running'],
  policy_checked: ['running'],
  policy_denied: ['running'],
  approval_required: ['running'],
  approval_granted: ['waiting_approval'],
  approval_rejected: ['waiting_approval'],
  approval_expired: ['waiting_approval'],
  approval_refused: [...NON_TERMINAL, 'completed', 'failed', 'cancelled'],
  approval_reminded: ['waiting_approval'],
  tool_start: ['running'],
  tool_ok: ['running'],
  tool_error: ['running'],
};

/** The status an event moves a run from `from` to, `from` itself for neutral events, or null if illegal. */
export function nextStatus(from: RunStatus, event: TraceEventName): RunStatus | null {
  const transition = TRANSITIONS.find((t) => t.from === from && t.event === event);
  if (transition) return transition.to;
  if (TRANSITIONS.some((t) => t.event === event)) return null;
  const allowed = STATUS_NEUTRAL_EVENTS[event];
  if (allowed === undefined) return from; // annotation events (slack_posted, role_activity, ...) never change state
  return allowed.includes(from) ? from : null;
}

/** The workflow graph for `harness workflow --format json`. */
export function workflowGraph(): {
  entry_state: RunStatus;
  terminal_states: RunStatus[];
  statuses: RunStatus[];
  transitions: Transition[];
  status_neutral_events: Partial<Record<TraceEventName, readonly RunStatus[]>>;
} {
  return {
    entry_state: 'queued',
    terminal_states: ['completed', 'failed', 'cancelled'],
    statuses: ['queued', 'running', 'waiting_approval', 'needs_attention', 'completed', 'failed', 'cancelled'],
    transitions: [...TRANSITIONS],
    status_neutral_events: STATUS_NEUTRAL_EVENTS,
  };
}

/** The same graph as a Mermaid `stateDiagram-v2`. */
export function workflowMermaid(): string {
  const graph = workflowGraph();
  const lines = ['stateDiagram-v2', `  [*] --> ${graph.entry_state}`];
  for (const t of graph.transitions) lines.push(`  ${t.from} --> ${t.to}: ${t.event}`);
  for (const terminal of graph.terminal_states) lines.push(`  ${terminal} --> [*]`);
  return `${lines.join('\n')}\n`;
}
