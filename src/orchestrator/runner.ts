/**
 * The drive loop. It reads the run, asks `nextAction` what to do, does it with one of the step
 * functions, and repeats until the run pauses, needs a human or ends. At most one loop drives a
 * run at a time; a drive requested while one is active makes that loop look again before it ends,
 * so a decision that lands during the loop's last write is never lost.
 */
import { ConfigError, ErrorCode, NotFoundError, asBotError } from '../shared/errors.ts';
import type { RunDoc, RunState } from '../store/run-schema.ts';
import type { Committer } from './commit.ts';
import type { HarnessDeps } from './deps.ts';
import { callModel } from './steps/call-model.ts';
import { checkStep } from './steps/check-step.ts';
import { executeApprovedStep, recoverInterruptedStep, runTool } from './steps/execute-step.ts';
import { nextAction } from './steps/next-action.ts';
import { rerequestGate } from './steps/rerequest-gate.ts';
import type { StepContext } from './steps/step-context.ts';
import type { RunPool } from './run-pool.ts';
import { toolViewFor } from './tool-view.ts';

interface ActiveDrive {
  again: boolean;
  controller: AbortController;
  promise: Promise<RunDoc>;
}

export class Runner {
  private readonly active = new Map<string, ActiveDrive>();
  private stopped = false;

  constructor(
    private readonly deps: HarnessDeps,
    private readonly committer: Committer,
    /** Gates the start of root runs (absent: every run starts at once). */
    private readonly pool?: RunPool,
  ) {}

  /** Drives the run until it pauses or ends; resolves with the document at that point. */
  drive(runId: string): Promise<RunDoc> {
    const existing = this.active.get(runId);
    if (existing) {
      existing.again = true;
      return existing.promise;
    }
    const entry: ActiveDrive = { again: false, controller: new AbortController(), promise: Promise.resolve(null as never) };
    entry.promise = (async () => {
      let doc: RunDoc;
      do {
        entry.again = false;
        doc = await this.loop(runId, entry.controller.signal);
      } while (entry.again && !entry.controller.signal.aborted);
      return doc;
    })().finally(() => this.active.delete(runId));
    this.active.set(runId, entry);
    return entry.promise;
  }

  /** True while a loop drives the run. */
  isDriving(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Aborts the loop driving `runId` (its in-flight tool or model call sees the signal). */
  abort(runId: string, reason: unknown): void {
    this.active.get(runId)?.controller.abort(reason);
  }

  /** Aborts every loop and waits for them; runs stay persisted where they were (resumed at next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    const drives = [...this.active.values()];
    for (const drive of drives) drive.controller.abort(new Error('harness shutting down'));
    await Promise.allSettled(drives.map((drive) => drive.promise));
  }

  private async loop(runId: string, signal: AbortSignal): Promise<RunDoc> {
    for (;;) {
      const doc = await this.deps.store.get(runId);
      if (!doc) throw new NotFoundError(ErrorCode.RunNotFound, `run ${runId} not found`);
      if (signal.aborted || this.stopped) return doc;
      const run = doc.run;
      if (run.status === 'queued') {
        // Over the global cap the run stays queued (durably); the pool drives it when a slot frees.
        if (this.pool && !this.pool.admit(run)) return doc;
        await this.committer.commit(runId, [
          { event: 'run_started', detail: {} },
          // A sub-agent's own trace records its role starting work (handoffs.json role_executions).
          ...(run.parentRunId === null
            ? []
            : [{ event: 'role_activity' as const, detail: { role: run.role, action: 'started', payload: { parentRunId: run.parentRunId, lineage: run.lineage } } }]),
        ]);
        continue;
      }
      if (run.status !== 'running') return doc;
      try {
        await this.step(run, signal);
      } catch (error) {
        if (signal.aborted) return (await this.deps.store.get(runId)) ?? doc;
        this.deps.logger.error({ runId, err: asBotError(error).toJSON() }, 'run step failed');
        const latest = await this.deps.store.get(runId);
        if (latest?.run.status === 'running') {
          await this.committer.commit(runId, [
            { event: 'run_failed', detail: { error: { code: asBotError(error).code, message: asBotError(error).message } } },
          ]);
        }
        throw error;
      }
    }
  }

  private async step(run: RunState, signal: AbortSignal): Promise<void> {
    const role = this.deps.roles.get(run.role);
    if (!role) {
      const error = new ConfigError(`role "${run.role}" of run ${run.runId} is not defined in the roles folder`);
      await this.committer.commit(run.runId, [{ event: 'run_failed', detail: { error: { code: error.code, message: error.message } } }]);
      return;
    }
    // The run's own view of the tools: its role's global tools plus its own agent-tool server's.
    const tools = await toolViewFor(this.deps.registry, this.deps.runTools, run);
    const ctx: StepContext = { deps: this.deps, committer: this.committer, signal, role, tools };
    const action = nextAction(run);
    switch (action.kind) {
      case 'call_model':
        await callModel(ctx, run);
        return;
      case 'check_step': {
        const outcome = await checkStep(ctx, run, action.step);
        if (outcome.execute) {
          const started = outcome.doc.run.steps.find((s) => s.stepId === action.step.stepId) ?? action.step;
          await runTool(ctx, outcome.doc.run, started, 1);
        }
        return;
      }
      case 'execute_step':
        await executeApprovedStep(ctx, run, action.step);
        return;
      case 'interrupted_step':
        await recoverInterruptedStep(ctx, run, action.step);
        return;
      case 'rerequest_gate':
        await rerequestGate(ctx, run, action.step);
        return;
      case 'pause':
        await this.committer.commit(run.runId, [{ event: 'run_paused', detail: { reason: 'approval', gateId: action.gate.gateId } }]);
        return;
      case 'complete':
        await this.committer.commit(run.runId, [{ event: 'run_completed', detail: { result: action.result } }]);
        return;
    }
  }
}
