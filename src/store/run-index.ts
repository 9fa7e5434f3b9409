/**
 * The run index: `<dataDir>/index.jsonl`, so `list()` never opens run files and the cost of a step
 * does not grow with the number of stored runs (DESIGN.md §5).
 *
 * File format (one JSON value per line):
 * ```
 * {"index":"runs","version":1,"compactedAt":<ms>,"entries":N}   header, written by compaction
 * <N RunIndexEntry lines>                                        head: checked against the run files
 * <RunIndexEntry lines appended since>                           tail: intents, checked at next open
 * ```
 * - An index-relevant change appends one line (append + fsync: constant cost) **before** the run
 *   file is written. So every run whose listing fields changed since the last compaction has a
 *   tail line, and a crash between the two writes leaves an index that is ahead, never silently
 *   behind.
 * - At open, every run named in the tail is re-read from its run file (the run files are the truth),
 *   a torn last line (a crash mid-append) is ignored, and the whole index is rewritten atomically
 *   (temp + rename + directory fsync). A missing or unreadable index is rebuilt by scanning
 *   `runs/*.json` (the slow path, only at open).
 * - The index is a cache: deleting it is always safe.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { RunListFilter } from './port.ts';
import { RunIndexEntry, type RunDoc } from './run-schema.ts';
import { type Fs, isErrno } from './fs-port.ts';
import { parseJsonStrict, storeIoError, tempPathFor } from './durable-json-file.ts';

/** Name of the index file inside the data directory. */
export const INDEX_FILE = 'index.jsonl';

const IndexHeader = z.strictObject({
  index: z.literal('runs'),
  version: z.literal(1),
  compactedAt: z.number(),
  entries: z.int().nonnegative(),
});

/** The listing fields of a run, derived from its document. */
export function indexEntryOf(doc: RunDoc): RunIndexEntry {
  const run = doc.run;
  return {
    runId: run.runId,
    status: run.status,
    role: run.role,
    task: run.task,
    parentRunId: run.parentRunId,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    pendingGates: run.gates.filter((gate) => gate.status === 'pending').length,
  };
}

/**
 * True when `next` differs from `prev` in a field the listing depends on. `updatedAt` alone does not
 * count: a plain step write must not append a line; the stored `updatedAt` is that of the last
 * index-relevant change.
 */
export function indexChanged(prev: RunIndexEntry | undefined, next: RunIndexEntry): boolean {
  if (prev === undefined) return true;
  return (
    prev.runId !== next.runId ||
    prev.status !== next.status ||
    prev.role !== next.role ||
    prev.task !== next.task ||
    prev.parentRunId !== next.parentRunId ||
    prev.createdAt !== next.createdAt ||
    prev.pendingGates !== next.pendingGates
  );
}

/** Applies a {@link RunListFilter} and sorts newest first (by `createdAt`, then `runId`). Returns copies. */
export function selectEntries(entries: Iterable<RunIndexEntry>, filter: RunListFilter = {}): RunIndexEntry[] {
  const statuses = filter.status === undefined ? null : Array.isArray(filter.status) ? filter.status : [filter.status];
  const out: RunIndexEntry[] = [];
  for (const entry of entries) {
    if (statuses !== null && !statuses.includes(entry.status)) continue;
    if (filter.parentRunId !== undefined && entry.parentRunId !== filter.parentRunId) continue;
    out.push({ ...entry });
  }
  return out.sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
}

/** A parsed index file. */
export interface ParsedIndex {
  head: Map<string, RunIndexEntry>;
  /** Lines appended after the last compaction, in order. */
  tail: RunIndexEntry[];
  /** The file ended in a partial line (a crash mid-append); it was ignored. */
  torn: boolean;
}

/**
 * Parses index text. A partial last line (no trailing newline) is ignored: an append is complete
 * only with its newline, and the run file write that follows it had not started.
 * @throws Error naming the first problem when the header or any complete line is invalid.
 */
export function parseIndexText(text: string): ParsedIndex {
  const lines = text.split('\n');
  const last = lines.pop();
  const torn = last !== undefined && last !== '';
  const headerLine = lines[0];
  if (headerLine === undefined) throw new Error('index has no header line');
  const header = IndexHeader.safeParse(safeJson(headerLine));
  if (!header.success) throw new Error('index header is invalid');
  const count = header.data.entries;
  if (lines.length < count + 1) throw new Error(`index header announces ${count} entries but the file has ${lines.length - 1}`);
  const head = new Map<string, RunIndexEntry>();
  const tail: RunIndexEntry[] = [];
  for (let i = 1; i < lines.length; i += 1) {
    const parsed = RunIndexEntry.safeParse(safeJson(lines[i] ?? ''));
    if (!parsed.success) throw new Error(`index line ${i + 1} is invalid`);
    if (i <= count) head.set(parsed.data.runId, parsed.data);
    else tail.push(parsed.data);
  }
  return { head, tail, torn };
}

function safeJson(line: string): unknown {
  try {
    return parseJsonStrict(line);
  } catch {
    return undefined;
  }
}

/** What the store found in one run file while loading the index. */
export type ReadEntryResult = { kind: 'ok'; entry: RunIndexEntry } | { kind: 'missing' } | { kind: 'corrupt' };

/** Options of {@link RunIndex.load}. */
export interface RunIndexLoadOptions {
  dataDir: string;
  fs: Fs;
  /** Compact (rewrite) the file after loading, and allow appends. Only the lock holder is writable. */
  writable: boolean;
  now: () => number;
  /** Reads one run file's listing fields (the run files are authoritative). */
  readEntry: (runId: string) => Promise<ReadEntryResult>;
  /** Run ids that have a run file (`runs/<id>.json`), for the rebuild path. */
  listRunIds: () => Promise<readonly string[]>;
  /** Extra run ids to re-check even if the tail does not name them (e.g. restored from `.bak`). */
  alsoCheck?: Iterable<string>;
}

/** How the index was loaded. */
export interface RunIndexLoadReport {
  /** Rebuilt by scanning run files, and why. */
  rebuilt: string | null;
  /** A partial last line was ignored. */
  torn: boolean;
  /** Run ids re-read from their run files. */
  checked: number;
}

/** The in-memory run index and its append-only file. */
export class RunIndex {
  readonly path: string;
  private readonly dataDir: string;
  private readonly fs: Fs;
  private readonly writable: boolean;
  private readonly entries: Map<string, RunIndexEntry>;
  private appendQueue: Promise<void> = Promise.resolve();

  private constructor(dataDir: string, fs: Fs, writable: boolean, entries: Map<string, RunIndexEntry>) {
    this.dataDir = dataDir;
    this.path = join(dataDir, INDEX_FILE);
    this.fs = fs;
    this.writable = writable;
    this.entries = entries;
  }

  /**
   * Reads the index, re-checks the runs its tail names against their files, rebuilds it when it is
   * missing or unreadable, and (when writable) rewrites it compacted.
   * @throws BotError `store_io` on filesystem failures.
   */
  static async load(options: RunIndexLoadOptions): Promise<{ index: RunIndex; report: RunIndexLoadReport }> {
    const path = join(options.dataDir, INDEX_FILE);
    let text: string | null = null;
    try {
      text = await options.fs.readFile(path);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw storeIoError('read', path, error);
    }
    let parsed: ParsedIndex | null = null;
    let rebuilt: string | null = null;
    if (text === null) rebuilt = 'index missing';
    else {
      try {
        parsed = parseIndexText(text);
      } catch (error) {
        rebuilt = (error as Error).message;
      }
    }

    const entries = new Map<string, RunIndexEntry>();
    let checked = 0;
    if (parsed === null) {
      for (const runId of await options.listRunIds()) {
        checked += 1;
        const found = await options.readEntry(runId);
        if (found.kind === 'ok') entries.set(runId, found.entry);
      }
    } else {
      for (const [runId, entry] of parsed.head) entries.set(runId, entry);
      const toCheck = new Set<string>(parsed.tail.map((entry) => entry.runId));
      for (const runId of options.alsoCheck ?? []) toCheck.add(runId);
      for (const runId of toCheck) {
        checked += 1;
        const found = await options.readEntry(runId);
        if (found.kind === 'ok') entries.set(runId, found.entry);
        else if (found.kind === 'missing') entries.delete(runId);
        // corrupt: keep the head entry (last verified state) so the run stays listed and fails closed on get
      }
    }

    const index = new RunIndex(options.dataDir, options.fs, options.writable, entries);
    if (options.writable) await index.compact(options.now());
    return { index, report: { rebuilt, torn: parsed?.torn ?? false, checked } };
  }

  /** The entry of a run, if listed. */
  get(runId: string): RunIndexEntry | undefined {
    const entry = this.entries.get(runId);
    return entry === undefined ? undefined : { ...entry };
  }

  /** Filtered entries, newest first (copies). */
  list(filter?: RunListFilter): RunIndexEntry[] {
    return selectEntries(this.entries.values(), filter);
  }

  /** Number of listed runs. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Durably appends `entry` as an intent line: one `append + fsync`, whatever the number of runs.
   * Call before writing the run file; call {@link RunIndex.set} after the run file write succeeded.
   * @throws BotError `store_io` when the append fails (the run file must then not be written).
   */
  append(entry: RunIndexEntry): Promise<void> {
    if (!this.writable) return Promise.reject(storeIoError('append to read-only index', this.path, undefined));
    const line = `${JSON.stringify(RunIndexEntry.parse(entry))}\n`;
    const run = this.appendQueue.then(async () => {
      try {
        await this.fs.appendFileFlush(this.path, line);
      } catch (error) {
        throw storeIoError('append to', this.path, error);
      }
    });
    this.appendQueue = run.catch(() => undefined);
    return run;
  }

  /** Updates the in-memory entry (after the run file write landed). */
  set(entry: RunIndexEntry): void {
    this.entries.set(entry.runId, { ...entry });
  }

  /** Rewrites the file as header + one line per run, atomically (temp + fsync + rename + dir fsync). */
  async compact(now: number): Promise<void> {
    const header = { index: 'runs', version: 1, compactedAt: now, entries: this.entries.size };
    const lines = [JSON.stringify(header), ...[...this.entries.values()].map((entry) => JSON.stringify(entry))];
    const tmp = tempPathFor(this.path);
    // Appends wait for the compaction, so no line can land in the file being replaced.
    const run = this.appendQueue.then(async () => {
      try {
        await this.fs.writeFileFlush(tmp, `${lines.join('\n')}\n`);
        await this.fs.rename(tmp, this.path);
        await this.fs.fsyncDir(this.dataDir);
      } catch (error) {
        await this.fs.unlink(tmp).catch(() => undefined);
        throw storeIoError('compact', this.path, error);
      }
    });
    this.appendQueue = run.catch(() => undefined);
    return run;
  }
}
