/**
 * The monitor at work (issue C, Build 8): applies the pure detectors of `monitor.ts` to live runs
 * and acts on their verdict.
 * - After every settled step (seen on the harness's commits): the repeated-error and tool-loop
 *   detectors. Orchestration calls (await_agent, list_agents, list_tasks, get_task_context) never
 *   count.
 * - From a periodic {@link RunMonitor.sweep}: the stall detector (an await_agent in flight is
 *   never a stall).
 *
 * Verdicts: `warn` records `role_activity {action:'monitor_warning'}` once per finding;
 * `stop` cancels the run through `Harness.cancel` (the cascade stops its sub-agents, and its parent's
 * await_agent reports `cancelled` with the monitor's reason); `escalate` (a coordinator, never
 * killed) records `role_activity {action:'monitor_escalation'}` for the humans in its thread.
 */
import type { Harness } from '../../orchestrator/harness.ts';
import { asBotError } from '../../shared/errors.ts';
import type { RunDoc, TraceEvent } from '../../store/run-schema.ts';
import { type MonitorSettings, type MonitorVerdict, checkRun } from './monitor.ts';
import { isTerminal } from './tree.ts';

/** Events after which a step is settled: the loop and error detectors look again. */
const SETTLING = new Set<string>(['tool_ok', 'tool_error', 'policy_denied', 'tool_call_invalid', 'approval_rejected']);

/** The identity the monitor acts under (trace, audit, Slack "killed by"). */
export const MONITOR_ACTOR = { userId: 'monitor', source: 'admin' } as const;

export interface RunMonitorOptions {
  harness: Harness;
  settings: MonitorSettings;
}

export class RunMonitor {
  private readonly harness: Harness;
  private readonly settings: MonitorSettings;
  private readonly unsubscribe: () => void;
  /** Findings already acted on, per run: `kind tool severity` (forgotten when the run ends). */
  private readonly acted = new Map<string, Set<string>>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: RunMonitorOptions) {
    this.harness = options.harness;
    this.settings = options.settings;
    this.unsubscribe = this.harness.onCommit(({ doc, events }) => this.onCommit(doc, events));
  }

  /** Checks every running run for stalls (and everything else). Returns the verdicts acted on. */
  async sweep(): Promise<{ runId: string; verdict: MonitorVerdict }[]> {
    const out: { runId: string; verdict: MonitorVerdict }[] = [];
    for (const entry of await this.harness.deps.store.list({ status: 'running' })) {
      const doc = await this.harness.deps.store.get(entry.runId);
      if (!doc || doc.run.status !== 'running') continue;
      const verdict = await this.evaluate(doc);
      if (verdict.action !== 'none') out.push({ runId: entry.runId, verdict });
    }
    return out;
  }

  /** Sweeps every `intervalMs` of real time (unref'd: it never keeps the process alive). */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.track(this.sweep());
    }, intervalMs);
    this.timer.unref();
  }

  /** Resolves when every action started so far has settled. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops sweeping and listening. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe();
  }

  private onCommit(doc: RunDoc, events: readonly TraceEvent[]): void {
    if (isTerminal(doc.run.status)) this.acted.delete(doc.run.runId);
    if (doc.run.status !== 'running' || !events.some((e) => SETTLING.has(e.event))) return;
    this.track(this.evaluate(doc));
  }

  private async evaluate(doc: RunDoc): Promise<MonitorVerdict> {
    const role = this.harness.deps.roles.get(doc.run.role);
    const verdict = checkRun(doc, this.harness.deps.clock.now(), this.settings, role?.category ?? 'worker');
    if (verdict.action === 'none') return verdict;
    const acted = this.acted.get(doc.run.runId) ?? new Set<string>();
    this.acted.set(doc.run.runId, acted);
    const fresh = verdict.findings.filter((f) => {
      const key = `${f.kind} ${f.tool ?? ''} ${f.severity}`;
      if (acted.has(key)) return false;
      acted.add(key);
      return true;
    });
    if (fresh.length === 0) return verdict;
    const runId = doc.run.runId;
    const message = fresh.map((f) => f.message).join('; ');
    if (verdict.action === 'stop') {
      await this.harness.cancel(runId, MONITOR_ACTOR, `stopped by the monitor: ${message}`).catch(() => undefined);
      return verdict;
    }
    const action = verdict.action === 'escalate' ? 'monitor_escalation' : 'monitor_warning';
    await this.harness.committer
      .commit(runId, [
        {
          event: 'role_activity',
          detail: {
            role: doc.run.role,
            action,
            payload: { findings: fresh.map((f) => ({ kind: f.kind, severity: f.severity, message: f.message, tool: f.tool ?? null, count: f.count ?? null })) },
          },
        },
      ])
      .catch(() => undefined);
    return verdict;
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => {
      this.harness.deps.logger.error({ err: asBotError(error).toJSON() }, 'run monitor failed');
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
