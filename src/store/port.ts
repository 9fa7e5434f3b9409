/**
 * The store seam (DESIGN.md §5). The orchestrator, approvals and CLI depend on this interface only;
 * `lowdb-run-store.ts` is the durable adapter and `memory-run-store.ts` the in-memory fake.
 *
 * Guarantees every implementation keeps:
 * - `update` runs `fn` on a private copy under a per-run mutex, persists the copy durably, and
 *   only then makes it visible (compute → persist → assign). If `fn` or the write throws, nothing
 *   changes.
 * - Reads return deep copies; mutating them changes nothing.
 * - A run id is validated (`assertRunId`) before any path is built from it.
 */
import type { RunDoc, RunIndexEntry, RunStatus } from './run-schema.ts';

/** Filter for {@link RunStore.list}. */
export interface RunListFilter {
  status?: RunStatus | readonly RunStatus[];
  parentRunId?: string | null;
}

export interface RunStore {
  /**
   * Persists a new run document.
   * @throws InvalidStateError if a run with that id already exists (the caller can treat it as a
   * duplicate delivery).
   */
  create(doc: RunDoc): Promise<RunDoc>;
  /** The run document, or `undefined` when no such run exists. Throws on a malformed id. */
  get(runId: string): Promise<RunDoc | undefined>;
  /**
   * Read-modify-write under the run's mutex. `fn` receives a deep copy it may mutate and returns a
   * value passed through to the caller. The copy is validated and durably written before it becomes
   * visible.
   * @throws NotFoundError (`run_not_found`) when the run does not exist.
   */
  update<T>(runId: string, fn: (draft: RunDoc) => T): Promise<{ doc: RunDoc; result: T }>;
  /** Index entries, newest first. Cost does not grow with the number of steps of stored runs. */
  list(filter?: RunListFilter): Promise<RunIndexEntry[]>;
  /** Flushes and releases files (and the data-dir lock, if this store holds it). */
  close(): Promise<void>;
}
