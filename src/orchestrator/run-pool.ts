/**
 * The run pool (issue C, Build 5): how many tasks run at once. A root run (a task a person started)
 * needs one of `budgets.maxConcurrentRuns` slots to start; over the cap it stays `queued` — durably,
 * it is an ordinary queued run in the store — and waits in a FIFO line with a visible position. When
 * a slot frees, the head of the line is started.
 *
 * Rules (docs/architecture/agents.md):
 * - Only the start of a root run is gated. Sub-agents ride on their root's slot (otherwise a PM
 *   awaiting its children while holding the last slot would deadlock the tree); their number is
 *   bounded by `agents.maxChildrenPerRun` and `agents.maxDepth` instead.
 * - A slot is held while the root run is `running`; pausing for a human (`waiting_approval`,
 *   `needs_attention`) or ending frees it. A run a human resumes takes a slot back at once, even
 *   over the cap (a person is waiting on it); new starts wait until the pool is under the cap again.
 * - The line is rebuilt at startup from the store: queued root runs, oldest first
 *   ({@link restore}), so a restart keeps the order.
 * - Per-user and per-channel caps are refusals at creation (`user-quota.ts`), not queueing: a person
 *   over their own cap is told so at once instead of waiting behind themselves.
 */
import type { RunDoc, RunState } from '../store/run-schema.ts';

/** Position of a waiting run: 1-based `position` in a line of `of` runs. */
export interface QueuePosition {
  position: number;
  of: number;
}

/** Receives the ids whose queue position changed (including runs that just left the line). */
export type QueueListener = (runIds: readonly string[]) => void;

export interface RunPoolOptions {
  /** `budgets.maxConcurrentRuns`. */
  capacity: number;
  /** Starts driving an admitted run (the harness passes `runner.drive`). */
  start: (runId: string) => void;
  onListenerError: (error: unknown) => void;
}

export class RunPool {
  private readonly holders = new Set<string>();
  private readonly line: string[] = [];
  private readonly listeners = new Set<QueueListener>();
  private stopped = false;

  constructor(private readonly options: RunPoolOptions) {}

  /** Slots in use (may exceed the capacity briefly after human resumptions). */
  get active(): number {
    return this.holders.size;
  }

  /** Runs waiting for a slot. */
  get waiting(): number {
    return this.line.length;
  }

  /**
   * Asked by the runner before a queued run starts. True when it may start now (a sub-agent, a run
   * that holds a slot, or a free slot with nobody ahead); otherwise the run joins the line (once)
   * and is started by the pool when its turn comes.
   */
  admit(run: Pick<RunState, 'runId' | 'parentRunId'>): boolean {
    if (run.parentRunId !== null || this.holders.has(run.runId)) return true;
    if (this.line.includes(run.runId)) return false;
    if (this.line.length === 0 && this.holders.size < this.options.capacity && !this.stopped) {
      this.holders.add(run.runId);
      return true;
    }
    this.line.push(run.runId);
    this.emit([run.runId]);
    return false;
  }

  /** The run's place in the line, or null when it is not waiting for a slot. */
  position(runId: string): QueuePosition | null {
    const index = this.line.indexOf(runId);
    return index === -1 ? null : { position: index + 1, of: this.line.length };
  }

  /** Subscribes to position changes; returns the unsubscribe function. */
  onChange(listener: QueueListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Follows every commit: slots are held while a root run runs and freed when it pauses or ends. */
  observe(doc: RunDoc): void {
    const { run } = doc;
    if (run.parentRunId !== null) return;
    if (run.status === 'running') {
      // Started by the pool, or resumed by a human / recovered: it holds a slot either way.
      this.holders.add(run.runId);
      return;
    }
    if (run.status === 'queued') return;
    const wasWaiting = this.line.indexOf(run.runId);
    if (wasWaiting !== -1) {
      this.line.splice(wasWaiting, 1);
      this.emit([run.runId, ...this.line.slice(wasWaiting)]);
    }
    if (this.holders.delete(run.runId)) this.pump();
  }

  /**
   * Startup: `running` roots hold their slots again, `queued` roots (oldest first) form the line,
   * then free slots are filled.
   */
  restore(running: readonly string[], queued: readonly string[]): void {
    for (const runId of running) this.holders.add(runId);
    const fresh = queued.filter((runId) => !this.line.includes(runId) && !this.holders.has(runId));
    this.line.push(...fresh);
    if (fresh.length > 0) this.emit(fresh);
    this.pump();
  }

  /** Stops starting runs (shutdown): the line stays persisted as queued runs. */
  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    if (this.stopped) return;
    const started: string[] = [];
    while (this.holders.size < this.options.capacity && this.line.length > 0) {
      const runId = this.line.shift() as string;
      this.holders.add(runId);
      started.push(runId);
    }
    if (started.length === 0) return;
    this.emit([...started, ...this.line]);
    for (const runId of started) this.options.start(runId);
  }

  private emit(runIds: readonly string[]): void {
    if (runIds.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(runIds);
      } catch (error) {
        this.options.onListenerError(error);
      }
    }
  }
}
