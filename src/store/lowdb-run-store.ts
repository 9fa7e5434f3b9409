/**
 * The durable {@link RunStore} (DESIGN.md §5; RELIABILITY.md P2–P5). Layout:
 * ```
 * <dataDir>/harness.lock        pid lock of the writing process (data-dir-lock.ts)
 * <dataDir>/index.jsonl         run index (run-index.ts)
 * <dataDir>/runs/<runId>.json   one run document per file, behind one lowdb Low each
 * <dataDir>/runs/<runId>.json.bak             previous good version
 * <dataDir>/runs/<runId>.json.corrupt-<ts>    a quarantined bad file (bytes as found)
 * ```
 * Rules it keeps: writes go through {@link DurableJsonFile} (temp, fsync, rename, dir fsync);
 * one `Low` per file ({@link openLow}); a per-run mutex around read-modify-write; a change is
 * computed on a copy, validated, persisted, and only then assigned; an index line is appended
 * only when a listing field changes; run ids are checked before any path is built.
 *
 * Fails closed: a writable open refuses to start while a run file is quarantined and not resolved
 * (restore its `.bak`, or move the quarantined file out of `runs/`), and a quarantined run is never
 * re-created or read as absent.
 */
import { basename, join, resolve } from 'node:path';
import type { Low } from 'lowdb';
import type { Clock } from '../shared/clock.ts';
import { ErrorCode, InvalidStateError, InvariantError, NotFoundError, StoreCorruptError } from '../shared/errors.ts';
import { assertRunId, isValidRunId } from '../shared/ids.ts';
import { type DataDirLock, acquireDataDirLock, type LockOptions } from './data-dir-lock.ts';
import { CORRUPT_MARKER, DurableJsonFile, backupPathOf, isTempFileName, storeIoError } from './durable-json-file.ts';
import { type Fs, isErrno, nodeFs } from './fs-port.ts';
import { closeLow, openLow } from './low-registry.ts';
import { describeIssues, migrateRunDoc } from './migrations.ts';
import type { RunListFilter, RunStore } from './port.ts';
import { RunIndex, type ReadEntryResult, indexChanged, indexEntryOf } from './run-index.ts';
import { RunDoc, type RunIndexEntry } from './run-schema.ts';
import { KeyedQueue } from '../shared/keyed-queue.ts';

/** Folder of run files inside the data directory. */
export const RUNS_DIR = 'runs';

/** Options of {@link LowdbRunStore.open}. */
export interface LowdbRunStoreOptions {
  dataDir: string;
  fs?: Fs;
  /**
   * Take the data-dir lock and allow writes (default true). `false` is read-only use (the CLI
   * while a bot runs): nothing on disk is created, moved or removed, and `create`/`update` throw.
   */
  lock?: boolean;
  clock?: Pick<Clock, 'now'>;
  /** Passed to {@link acquireDataDirLock} (tests inject pid, hostname, liveness). */
  lockOptions?: Omit<LockOptions, 'fs' | 'now'>;
  /** Run documents kept in memory (least recently used beyond this are dropped). Default 500. */
  maxCachedRuns?: number;
}

/** A run whose file was quarantined and not yet resolved by the operator. */
export interface QuarantinedRun {
  runId: string;
  /** Quarantine files (`runs/<id>.json.corrupt-<ts>`), absolute paths. */
  files: string[];
  /** The last good copy, when one exists. */
  bak: string | null;
  /** Why it was quarantined, when this process did it. */
  reason: string | null;
}

function runFileName(runId: string): string {
  return `${runId}.json`;
}

/** Parses `runs/` entry names into run ids with a live file and quarantine files per run id. */
function classifyRunFiles(names: readonly string[]): { live: Set<string>; corrupt: Map<string, string[]>; baks: Set<string>; temps: string[] } {
  const live = new Set<string>();
  const corrupt = new Map<string, string[]>();
  const baks = new Set<string>();
  const temps: string[] = [];
  for (const name of names) {
    if (isTempFileName(name)) {
      temps.push(name);
      continue;
    }
    const marker = name.indexOf(`.json${CORRUPT_MARKER}`);
    if (marker > 0) {
      const runId = name.slice(0, marker);
      if (isValidRunId(runId)) corrupt.set(runId, [...(corrupt.get(runId) ?? []), name]);
      continue;
    }
    if (name.endsWith('.json.bak')) {
      const runId = name.slice(0, -'.json.bak'.length);
      if (isValidRunId(runId)) baks.add(runId);
      continue;
    }
    if (name.endsWith('.json')) {
      const runId = name.slice(0, -'.json'.length);
      if (isValidRunId(runId)) live.add(runId);
    }
  }
  return { live, corrupt, baks, temps };
}

async function readdirOrEmpty(fs: Fs, dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw storeIoError('list', dir, error);
  }
}

/** Validates a draft as a {@link RunDoc}; a failure is our caller's bug, not corrupt storage. */
function parseDraft(draft: unknown, runId: string): RunDoc {
  const parsed = RunDoc.safeParse(draft);
  if (!parsed.success) {
    throw new InvariantError(`run ${runId}: the new document is invalid: ${describeIssues(parsed.error)}`, {
      runId,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Validates a run file: version, schema, and that it holds the run its name says. */
function runDocValidator(runId: string): (raw: unknown) => RunDoc {
  return (raw) => {
    const doc = migrateRunDoc(raw);
    if (doc.run.runId !== runId) throw new StoreCorruptError(`file holds run ${JSON.stringify(doc.run.runId)}, not ${runId}`);
    return doc;
  };
}

function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The durable, lowdb-backed {@link RunStore}. Build it with {@link LowdbRunStore.open}. */
export class LowdbRunStore implements RunStore {
  readonly dataDir: string;
  readonly runsDir: string;
  /** False in read-only (`lock: false`) mode. */
  readonly writable: boolean;
  private readonly fs: Fs;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly maxCachedRuns: number;
  private readonly lock: DataDirLock | undefined;
  private index: RunIndex | undefined;
  /** Cached `Low`s in least-recently-used order (Map keeps insertion order). */
  private readonly lows = new Map<string, Low<RunDoc | null>>();
  /** Tail of each run's mutex chain. */
  private readonly queue = new KeyedQueue();
  private readonly quarantinedRuns = new Map<string, QuarantinedRun>();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(options: { dataDir: string; fs: Fs; clock: Pick<Clock, 'now'>; writable: boolean; lock: DataDirLock | undefined; maxCachedRuns: number }) {
    this.dataDir = options.dataDir;
    this.runsDir = join(options.dataDir, RUNS_DIR);
    this.fs = options.fs;
    this.clock = options.clock;
    this.writable = options.writable;
    this.lock = options.lock;
    this.maxCachedRuns = options.maxCachedRuns;
  }

  /**
   * Opens the store. Writable (default): takes the data-dir lock, creates the folders, removes stray
   * `*.tmp` files (never reading them), loads and compacts the index, and refuses to continue while
   * a quarantined run file is unresolved. Read-only (`lock: false`): touches nothing on disk.
   * @throws StoreLockedError when another live process holds the lock.
   * @throws StoreCorruptError naming every quarantined run file and its `.bak` (the lock is released).
   * @throws BotError `store_io` on filesystem failures.
   */
  static async open(options: LowdbRunStoreOptions): Promise<LowdbRunStore> {
    const fs = options.fs ?? nodeFs;
    const clock = options.clock ?? { now: Date.now };
    const dataDir = resolve(options.dataDir);
    const writable = options.lock ?? true;
    const lock = writable ? await acquireDataDirLock(dataDir, { ...options.lockOptions, fs, now: () => clock.now() }) : undefined;
    const store = new LowdbRunStore({ dataDir, fs, clock, writable, lock, maxCachedRuns: options.maxCachedRuns ?? 500 });
    try {
      await store.load();
    } catch (error) {
      store.dropAll();
      await lock?.release();
      throw error;
    }
    return store;
  }

  private async load(): Promise<void> {
    if (this.writable) {
      await this.fs.mkdirp(this.runsDir).catch((error: unknown) => {
        throw storeIoError('create', this.runsDir, error);
      });
      await this.fs.fsyncDir(this.dataDir).catch((error: unknown) => {
        throw storeIoError('fsync', this.dataDir, error);
      });
      await this.removeStrayTemps();
    }
    const files = classifyRunFiles(await readdirOrEmpty(this.fs, this.runsDir));
    for (const [runId, names] of files.corrupt) {
      if (files.live.has(runId)) continue; // the operator restored a good copy; it is re-checked below
      this.quarantinedRuns.set(runId, {
        runId,
        files: names.map((name) => join(this.runsDir, name)),
        bak: files.baks.has(runId) ? backupPathOf(this.runFile(runId)) : null,
        reason: null,
      });
    }
    const restored = [...files.corrupt.keys()].filter((runId) => files.live.has(runId));
    const { index } = await RunIndex.load({
      dataDir: this.dataDir,
      fs: this.fs,
      writable: this.writable,
      now: () => this.clock.now(),
      readEntry: (runId) => this.readEntryAtOpen(runId),
      listRunIds: async () => [...files.live],
      alsoCheck: restored,
    });
    this.index = index;
    if (this.writable && this.quarantinedRuns.size > 0) throw this.quarantineError();
  }

  /** Removes `*.tmp` left by a crash in `runs/` and the data directory. They are never read. */
  private async removeStrayTemps(): Promise<void> {
    for (const dir of [this.runsDir, this.dataDir]) {
      let removed = 0;
      for (const name of await readdirOrEmpty(this.fs, dir)) {
        if (!isTempFileName(name)) continue;
        try {
          await this.fs.unlink(join(dir, name));
          removed += 1;
        } catch (error) {
          if (!isErrno(error, 'ENOENT')) throw storeIoError('remove stray temp file', join(dir, name), error);
        }
      }
      if (removed > 0) {
        await this.fs.fsyncDir(dir).catch((error: unknown) => {
          throw storeIoError('fsync', dir, error);
        });
      }
    }
  }

  private async readEntryAtOpen(runId: string): Promise<ReadEntryResult> {
    try {
      const doc = this.writable ? (await this.loadLow(runId))?.data : await this.readOnce(runId);
      return doc ? { kind: 'ok', entry: indexEntryOf(doc) } : { kind: 'missing' };
    } catch (error) {
      if (error instanceof StoreCorruptError) {
        this.noteCorrupt(runId, error);
        return { kind: 'corrupt' };
      }
      throw error;
    }
  }

  private quarantineError(): StoreCorruptError {
    const runs = [...this.quarantinedRuns.values()];
    const lines = runs.map(
      (q) =>
        `${q.files.map((f) => basename(f)).join(', ')} (${q.reason === null ? '' : `${q.reason}; `}${q.bak === null ? 'no .bak' : `last good copy: ${basename(q.bak)}`})`,
    );
    return new StoreCorruptError(
      `data directory ${this.dataDir} has ${runs.length} quarantined run file(s): ${lines.join('; ')}. ` +
        `Restore a .bak to runs/<runId>.json, or move the quarantined file out of runs/ to accept the loss, then start again`,
      { details: { quarantined: runs } },
    );
  }

  private noteCorrupt(runId: string, error: StoreCorruptError): void {
    const quarantinedTo = error.details['quarantinedTo'];
    const bak = error.details['bak'];
    const reason = error.details['reason'];
    const previous = this.quarantinedRuns.get(runId);
    this.quarantinedRuns.set(runId, {
      runId,
      files: [...new Set([...(previous?.files ?? []), ...(typeof quarantinedTo === 'string' ? [quarantinedTo] : [])])],
      bak: typeof bak === 'string' ? bak : null,
      reason: typeof reason === 'string' ? reason : (previous?.reason ?? null),
    });
  }

  /** Runs quarantined by this store (at open or since) and not resolved. */
  quarantined(): QuarantinedRun[] {
    return [...this.quarantinedRuns.values()].map((q) => ({ ...q, files: [...q.files] }));
  }

  private runFile(runId: string): string {
    return join(this.runsDir, runFileName(runId));
  }

  private adapter(runId: string): DurableJsonFile<RunDoc> {
    return new DurableJsonFile<RunDoc>(this.runFile(runId), {
      fs: this.fs,
      validate: runDocValidator(runId),
      quarantine: this.writable,
      now: () => this.clock.now(),
    });
  }

  /** Read-only path: one validated read, no `Low`, nothing moved. */
  private async readOnce(runId: string): Promise<RunDoc | undefined> {
    const doc = await this.adapter(runId).read();
    return doc ?? undefined;
  }

  private quarantinedError(q: QuarantinedRun): StoreCorruptError {
    return new StoreCorruptError(
      `run ${q.runId} is quarantined (${q.files.map((f) => basename(f)).join(', ')})${q.bak === null ? '' : `; the last good copy is ${q.bak}`}`,
      { runId: q.runId, details: { quarantined: q } },
    );
  }

  /**
   * The cached `Low` of a run, loading it on first use. Call under the run's mutex (or at open).
   * @returns undefined when the run file does not exist (nothing is created).
   */
  private async loadLow(runId: string): Promise<Low<RunDoc | null> | undefined> {
    const cached = this.lows.get(runId);
    if (cached) {
      this.lows.delete(runId);
      this.lows.set(runId, cached);
      return cached;
    }
    const quarantined = this.quarantinedRuns.get(runId);
    if (quarantined) throw this.quarantinedError(quarantined);
    const adapter = this.adapter(runId);
    const low = openLow(adapter);
    try {
      await low.read();
    } catch (error) {
      closeLow(adapter.path);
      if (error instanceof StoreCorruptError) this.noteCorrupt(runId, error);
      throw error;
    }
    if (low.data === null) {
      closeLow(adapter.path);
      return undefined;
    }
    this.cache(runId, low);
    return low;
  }

  private cache(runId: string, low: Low<RunDoc | null>): void {
    this.lows.set(runId, low);
    if (this.lows.size <= this.maxCachedRuns) return;
    for (const candidate of this.lows.keys()) {
      if (this.lows.size <= this.maxCachedRuns) break;
      if (candidate === runId || this.queue.busy(candidate)) continue; // busy: its Low is in use
      this.lows.delete(candidate);
      closeLow(this.runFile(candidate));
    }
  }

  /** Runs `fn` after every earlier operation on `runId` settled. */
  private withRunLock<R>(runId: string, fn: () => R | Promise<R>): Promise<R> {
    return this.queue.run(runId, fn);
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the run store is closed');
  }

  private assertWritable(action: string): void {
    this.assertOpen();
    if (!this.writable) {
      throw new InvalidStateError(`cannot ${action}: the run store is open read-only (another process holds the data-dir lock)`);
    }
  }

  private requireIndex(): RunIndex {
    if (!this.index) throw new InvariantError('run index used before open finished');
    return this.index;
  }

  /**
   * Persists a new run (index intent line, then the durable run file write).
   * @throws NotFoundError `invalid_run_id` for a malformed id (nothing is created).
   * @throws InvalidStateError `invalid_state` ("already exists") for a duplicate id, or when read-only.
   * @throws InvariantError when `doc` is not a valid {@link RunDoc}.
   * @throws StoreCorruptError when the id belongs to a quarantined run.
   */
  async create(doc: RunDoc): Promise<RunDoc> {
    this.assertWritable('create a run');
    const runId = assertRunId(String((doc as { run?: { runId?: unknown } }).run?.runId ?? ''));
    const next = parseDraft(structuredClone(doc), runId);
    return this.withRunLock(runId, async () => {
      const quarantined = this.quarantinedRuns.get(runId);
      if (quarantined) throw this.quarantinedError(quarantined);
      const path = this.runFile(runId);
      if (this.lows.has(runId) || (await this.fs.exists(path))) {
        throw new InvalidStateError(`run ${runId} already exists`, { runId });
      }
      const index = this.requireIndex();
      const entry = indexEntryOf(next);
      await index.append(entry);
      const adapter = this.adapter(runId);
      const low = openLow(adapter);
      try {
        await adapter.write(next);
      } catch (error) {
        closeLow(adapter.path);
        throw error;
      }
      low.data = next;
      this.cache(runId, low);
      index.set(entry);
      return structuredClone(next);
    });
  }

  /**
   * The run document (a deep copy), or undefined when there is no such run. Creates nothing.
   * @throws NotFoundError `invalid_run_id` for a malformed id.
   * @throws StoreCorruptError when the run file is corrupt (it is quarantined) or quarantined.
   */
  async get(runId: string): Promise<RunDoc | undefined> {
    assertRunId(runId);
    this.assertOpen();
    if (!this.writable) {
      const doc = await this.readOnce(runId);
      if (doc === undefined) {
        const quarantined = this.quarantinedRuns.get(runId);
        if (quarantined) throw this.quarantinedError(quarantined);
      }
      return doc;
    }
    const cached = this.lows.get(runId);
    if (cached?.data) return structuredClone(cached.data);
    return this.withRunLock(runId, async () => {
      const low = await this.loadLow(runId);
      return low?.data ? structuredClone(low.data) : undefined;
    });
  }

  /**
   * Read-modify-write under the run's mutex: `fn` mutates a private copy; the copy is validated,
   * the index line appended if a listing field changed, the file durably written, and only then
   * the copy becomes the run's state. If anything throws, nothing changed in memory.
   * @throws NotFoundError `run_not_found` / `invalid_run_id`.
   * @throws InvalidStateError when read-only or closed.
   * @throws InvariantError when `fn` returns a promise (it must be synchronous) or the result is
   * not a valid {@link RunDoc} or changes the run id.
   * @throws BotError `store_io` when the write fails.
   */
  async update<T>(runId: string, fn: (draft: RunDoc) => T): Promise<{ doc: RunDoc; result: T }> {
    assertRunId(runId);
    this.assertWritable('update a run');
    return this.withRunLock(runId, async () => {
      const low = await this.loadLow(runId);
      const current = low?.data;
      if (!low || !current) throw new NotFoundError(ErrorCode.RunNotFound, `run ${runId} not found`, { runId });
      const draft = structuredClone(current);
      const result = fn(draft);
      if (isThenable(result)) {
        throw new InvariantError(`run ${runId}: update fn returned a promise; it must be synchronous`, { runId });
      }
      const next = parseDraft(draft, runId);
      if (next.run.runId !== runId) {
        throw new InvariantError(`run ${runId}: update changed the run id to ${next.run.runId}`, { runId });
      }
      const index = this.requireIndex();
      const entry = indexEntryOf(next);
      const changed = indexChanged(index.get(runId) ?? indexEntryOf(current), entry);
      if (changed) await index.append(entry);
      await low.adapter.write(next);
      low.data = next;
      if (changed) index.set(entry);
      return { doc: structuredClone(next), result };
    });
  }

  /**
   * Index entries, newest first; never opens run files in writable mode. Read-only mode re-reads the
   * index file on each call (the writer keeps appending) and re-checks the runs its tail names.
   */
  async list(filter?: RunListFilter): Promise<RunIndexEntry[]> {
    this.assertOpen();
    if (this.writable) return this.requireIndex().list(filter);
    const files = classifyRunFiles(await readdirOrEmpty(this.fs, this.runsDir));
    const { index } = await RunIndex.load({
      dataDir: this.dataDir,
      fs: this.fs,
      writable: false,
      now: () => this.clock.now(),
      readEntry: (runId) => this.readEntryAtOpen(runId),
      listRunIds: async () => [...files.live],
    });
    return index.list(filter);
  }

  /** Waits for pending writes, forgets the `Low`s and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.queue.drain();
      this.dropAll();
      await this.lock?.release();
    })();
    return this.closing;
  }

  private dropAll(): void {
    for (const runId of this.lows.keys()) closeLow(this.runFile(runId));
    this.lows.clear();
  }
}

/** Result of {@link loadStoreReport}. */
export interface StoreReport {
  /** Run ids whose file parsed and validated. */
  ok: string[];
  /** Run files that failed (quarantined only when `quarantine: true`). */
  corrupt: { file: string; error: StoreCorruptError }[];
  /** Quarantine files already present (`*.corrupt-*`). */
  quarantined: string[];
  /** Stray temp files present (a writable open removes them). */
  strayTemps: string[];
}

/**
 * Validates every run file of `dataDir` (for tests and `harness doctor`). Read-only by default: it
 * moves nothing unless `quarantine: true`, and needs no lock.
 * @throws BotError `store_io` when a file cannot be read for a reason other than corruption.
 */
export async function loadStoreReport(dataDir: string, options: { fs?: Fs; quarantine?: boolean } = {}): Promise<StoreReport> {
  const fs = options.fs ?? nodeFs;
  const runsDir = join(resolve(dataDir), RUNS_DIR);
  const files = classifyRunFiles(await readdirOrEmpty(fs, runsDir));
  const report: StoreReport = {
    ok: [],
    corrupt: [],
    quarantined: [...files.corrupt.values()].flat().map((name) => join(runsDir, name)),
    strayTemps: files.temps.map((name) => join(runsDir, name)),
  };
  for (const runId of [...files.live].sort()) {
    const file = join(runsDir, runFileName(runId));
    const adapter = new DurableJsonFile<RunDoc>(file, { fs, validate: runDocValidator(runId), quarantine: options.quarantine ?? false });
    try {
      if ((await adapter.read()) !== null) report.ok.push(runId);
    } catch (error) {
      if (!(error instanceof StoreCorruptError)) throw error;
      report.corrupt.push({ file, error });
    }
  }
  return report;
}
