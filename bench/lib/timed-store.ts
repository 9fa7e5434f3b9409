/**
 * A {@link RunStore} wrapper that counts and times every call, so a benchmark can say how much of
 * a run was spent in the store (and, with a {@link MeteredFs} under it, in the filesystem).
 */
import { performance } from 'node:perf_hooks';
import type { RunListFilter, RunStore } from '../../src/store/port.ts';
import type { RunDoc, RunIndexEntry } from '../../src/store/run-schema.ts';
import type { OpStats } from './metered-fs.ts';

type StoreOp = 'create' | 'get' | 'update' | 'list';

/** Forwards to `inner`, recording calls and milliseconds per method. */
export class TimedRunStore implements RunStore {
  private readonly stats = new Map<StoreOp, OpStats>();

  constructor(private readonly inner: RunStore) {}

  /** A copy of the per-method counters. */
  snapshot(): Map<StoreOp, OpStats> {
    return new Map([...this.stats].map(([op, s]) => [op, { ...s }]));
  }

  reset(): void {
    this.stats.clear();
  }

  private async time<R>(op: StoreOp, run: () => Promise<R>): Promise<R> {
    const start = performance.now();
    try {
      return await run();
    } finally {
      const entry = this.stats.get(op) ?? { calls: 0, ms: 0 };
      entry.calls += 1;
      entry.ms += performance.now() - start;
      this.stats.set(op, entry);
    }
  }

  create(doc: RunDoc): Promise<RunDoc> {
    return this.time('create', () => this.inner.create(doc));
  }
  get(runId: string): Promise<RunDoc | undefined> {
    return this.time('get', () => this.inner.get(runId));
  }
  update<T>(runId: string, fn: (draft: RunDoc) => T): Promise<{ doc: RunDoc; result: T }> {
    return this.time('update', () => this.inner.update(runId, fn));
  }
  list(filter?: RunListFilter): Promise<RunIndexEntry[]> {
    return this.time('list', () => this.inner.list(filter));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
