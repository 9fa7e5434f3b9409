/**
 * The in-memory {@link RunStore} fake for unit tests (STYLE.md points 2–3). Same semantics as the
 * durable store, minus the disk: deep copies in and out, a per-run mutex, compute → validate →
 * assign, `RunDoc` validation on create and update, a duplicate create is `invalid_state`
 * ("already exists"), malformed ids are `invalid_run_id`. It fails loudly: an async update fn, an
 * invalid document or any use after `close()` throws.
 *
 * Tests can make the next write fail with {@link MemoryRunStore.failNextWrite} to check that a
 * failed persist leaves state unchanged.
 */
import { ErrorCode, InvalidStateError, InvariantError, NotFoundError } from '../shared/errors.ts';
import { assertRunId } from '../shared/ids.ts';
import { describeIssues } from './migrations.ts';
import type { RunListFilter, RunStore } from './port.ts';
import { indexChanged, indexEntryOf, selectEntries } from './run-index.ts';
import { RunDoc, type RunIndexEntry } from './run-schema.ts';
import { KeyedQueue } from '../shared/keyed-queue.ts';

function parseDraft(draft: unknown, runId: string): RunDoc {
  const parsed = RunDoc.safeParse(draft);
  if (!parsed.success) {
    throw new InvariantError(`run ${runId}: the new document is invalid: ${describeIssues(parsed.error)}`, { runId, cause: parsed.error });
  }
  return parsed.data;
}

/** In-memory {@link RunStore}; no I/O. */
export class MemoryRunStore implements RunStore {
  private readonly docs = new Map<string, RunDoc>();
  /** Listing entries, updated like the durable index: only when a listing field changes. */
  private readonly entries = new Map<string, RunIndexEntry>();
  private readonly queue = new KeyedQueue();
  private pendingFailure: Error | undefined;
  private closed = false;
  /** Number of successful writes (creates and updates), for tests that count persists. */
  writes = 0;

  /** Makes the next create/update fail at the "persist" step with `error`. */
  failNextWrite(error: Error): void {
    this.pendingFailure = error;
  }

  private persist(runId: string, doc: RunDoc): void {
    const failure = this.pendingFailure;
    if (failure) {
      this.pendingFailure = undefined;
      throw failure;
    }
    this.docs.set(runId, doc);
    const entry = indexEntryOf(doc);
    if (indexChanged(this.entries.get(runId), entry)) this.entries.set(runId, entry);
    this.writes += 1;
  }

  private withRunLock<R>(runId: string, fn: () => R | Promise<R>): Promise<R> {
    return this.queue.run(runId, fn);
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the run store is closed');
  }

  /** @inheritdoc */
  async create(doc: RunDoc): Promise<RunDoc> {
    this.assertOpen();
    const runId = assertRunId(String((doc as { run?: { runId?: unknown } }).run?.runId ?? ''));
    const next = parseDraft(structuredClone(doc), runId);
    return this.withRunLock(runId, () => {
      if (this.docs.has(runId)) throw new InvalidStateError(`run ${runId} already exists`, { runId });
      this.persist(runId, next);
      return structuredClone(next);
    });
  }

  /** @inheritdoc */
  async get(runId: string): Promise<RunDoc | undefined> {
    assertRunId(runId);
    this.assertOpen();
    const doc = this.docs.get(runId);
    return doc === undefined ? undefined : structuredClone(doc);
  }

  /** @inheritdoc */
  async update<T>(runId: string, fn: (draft: RunDoc) => T): Promise<{ doc: RunDoc; result: T }> {
    assertRunId(runId);
    this.assertOpen();
    return this.withRunLock(runId, () => {
      const current = this.docs.get(runId);
      if (current === undefined) throw new NotFoundError(ErrorCode.RunNotFound, `run ${runId} not found`, { runId });
      const draft = structuredClone(current);
      const result = fn(draft);
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        throw new InvariantError(`run ${runId}: update fn returned a promise; it must be synchronous`, { runId });
      }
      const next = parseDraft(draft, runId);
      if (next.run.runId !== runId) throw new InvariantError(`run ${runId}: update changed the run id to ${next.run.runId}`, { runId });
      this.persist(runId, next);
      return { doc: structuredClone(next), result };
    });
  }

  /** @inheritdoc */
  async list(filter?: RunListFilter): Promise<RunIndexEntry[]> {
    this.assertOpen();
    return selectEntries(this.entries.values(), filter);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.drain();
  }
}
