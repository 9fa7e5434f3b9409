/**
 * The run monitor (issue C): pure functions over a run document and the current time that say
 * whether a run is stuck — stalled, failing the same way twice, or calling the same tool with the
 * same arguments over and over — and what to do about it. No I/O, no clock reads (the caller
 * passes `now`), no mutation.
 *
 * Two mistakes of the reference harness are designed out:
 * - Orchestration calls are never a loop. `await_agent`, `list_agents`, `list_tasks` and
 *   `get_task_context` are how a coordinator waits and looks; they are skipped by the loop and
 *   error detectors, and an `await_agent` in flight is not a stall (the children have monitors of
 *   their own).
 * - A coordinator is never killed by the monitor. For a `conversational` run, a finding that
 *   would stop a worker escalates to a human instead.
 */
import type { RoleCategory } from '../role-types.ts';
import type { RunDoc, Step } from '../../store/run-schema.ts';

/** Tools that never count towards a loop or a repeated error. */
export const ORCHESTRATION_TOOLS: readonly string[] = ['await_agent', 'list_agents', 'list_tasks', 'get_task_context'];

/** Thresholds (config `agents.monitor`). */
export interface MonitorSettings {
  /** A running run with no event for this long is stalled. */
  stallMs: number;
  /** Identical calls within the window: warn at this count ... */
  loopWarnAt: number;
  /** ... and stop at this one. */
  loopStopAt: number;
  /** Recent (non-orchestration) steps the loop detector looks at. */
  window: number;
}

/** The defaults of config `agents.monitor`. */
export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = { stallMs: 300_000, loopWarnAt: 3, loopStopAt: 5, window: 10 };

export type FindingKind = 'stall' | 'repeated_error' | 'tool_loop';

/** One thing the monitor noticed. */
export interface MonitorFinding {
  kind: FindingKind;
  severity: 'warn' | 'stop';
  /** One sentence for the model (as steering), the thread and the trace. */
  message: string;
  tool?: string;
  count?: number;
}

/**
 * What the runner should do:
 * - `none`: nothing;
 * - `warn`: tell the model (a steering message) and record it; the run goes on;
 * - `stop`: cancel the run (the harness cascades to its sub-agents; the parent's await returns
 *   `cancelled` with the monitor's message);
 * - `escalate`: the run is a coordinator — never cancel it; tell the humans in its thread.
 */
export type MonitorAction = 'none' | 'warn' | 'stop' | 'escalate';

/** The monitor's verdict on one run. */
export interface MonitorVerdict {
  action: MonitorAction;
  findings: MonitorFinding[];
}

/** True for the orchestration tools (never a loop). */
export function isOrchestrationTool(name: string): boolean {
  return ORCHESTRATION_TOOLS.includes(name);
}

/**
 * A run is stalled when it is `running`, its last event is at least `stallMs` old, and it is not
 * waiting in an `await_agent` call. Queued and human-waiting runs are never stalled.
 */
export function detectStall(doc: RunDoc, now: number, stallMs: number): MonitorFinding | null {
  const { run } = doc;
  if (run.status !== 'running') return null;
  const last = doc.trace[doc.trace.length - 1];
  if (!last) return null;
  const idleMs = now - last.ts;
  if (idleMs < stallMs) return null;
  if (run.steps.some((step) => step.status === 'started' && step.tool === 'await_agent')) return null;
  return {
    kind: 'stall',
    severity: 'stop',
    message: `no progress for ${Math.round(idleMs / 1000)} s (the limit is ${Math.round(stallMs / 1000)} s)`,
  };
}

const ERROR_STATUSES: ReadonlySet<Step['status']> = new Set(['failed', 'denied', 'invalid']);
const SETTLED_STATUSES: ReadonlySet<Step['status']> = new Set(['succeeded', 'failed', 'denied', 'invalid', 'rejected', 'skipped']);

/**
 * The same error twice in a row: the last two settled (non-orchestration) steps both failed, were
 * denied or were invalid, with the same tool and the same error text. A human rejection is not an
 * error (the model is expected to adapt), and a success in between resets it.
 */
export function detectRepeatedError(doc: RunDoc): MonitorFinding | null {
  const settled = doc.run.steps.filter((s) => SETTLED_STATUSES.has(s.status) && !isOrchestrationTool(s.tool));
  const [previous, last] = settled.slice(-2);
  if (!previous || !last) return null;
  if (!ERROR_STATUSES.has(previous.status) || !ERROR_STATUSES.has(last.status)) return null;
  if (previous.tool !== last.tool || previous.output?.content !== last.output?.content) return null;
  return {
    kind: 'repeated_error',
    severity: 'stop',
    message: `${last.tool} failed twice in a row with the same error: ${clip(last.output?.content ?? '', 160)}`,
    tool: last.tool,
    count: 2,
  };
}

/**
 * Identical calls (same tool, same arguments) among the last `window` non-orchestration steps:
 * `warn` from `loopWarnAt`, `stop` from `loopStopAt`. Different arguments are different calls, so
 * drafting five agents with five tasks is never a loop.
 */
export function detectToolLoop(doc: RunDoc, settings: MonitorSettings): MonitorFinding | null {
  const recent = doc.run.steps.filter((s) => !isOrchestrationTool(s.tool)).slice(-settings.window);
  const counts = new Map<string, { tool: string; count: number }>();
  let worst: { tool: string; count: number } | undefined;
  for (const step of recent) {
    const key = `${step.tool}\u0000${step.argsHash ?? step.argumentsJson ?? ''}`;
    const entry = counts.get(key) ?? { tool: step.tool, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
    if (!worst || entry.count > worst.count) worst = entry;
  }
  if (!worst || worst.count < settings.loopWarnAt) return null;
  const severity = worst.count >= settings.loopStopAt ? 'stop' : 'warn';
  return {
    kind: 'tool_loop',
    severity,
    message: `${worst.tool} was called ${worst.count} times with the same arguments in the last ${recent.length} steps`,
    tool: worst.tool,
    count: worst.count,
  };
}

/**
 * Runs every detector and decides the action. `category` is the run's role category: for a
 * `conversational` run (a coordinator) a `stop` becomes `escalate`.
 */
export function checkRun(doc: RunDoc, now: number, settings: MonitorSettings, category: RoleCategory): MonitorVerdict {
  const findings = [detectStall(doc, now, settings.stallMs), detectRepeatedError(doc), detectToolLoop(doc, settings)].filter(
    (f): f is MonitorFinding => f !== null,
  );
  let action: MonitorAction = 'none';
  if (findings.some((f) => f.severity === 'stop')) action = category === 'conversational' ? 'escalate' : 'stop';
  else if (findings.length > 0) action = 'warn';
  return { action, findings };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
