/**
 * An {@link Fs} that counts every call the store makes and the time spent in it, per operation, so a
 * benchmark can report durable writes per run and where the time of a missed target went (how much
 * of it was fsync). It wraps the real filesystem: the numbers are those of the disk under test.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { type Fs, type FsOp, nodeFs } from '../../src/store/fs-port.ts';

/** Operations that end in an fsync (of a file or of a directory). */
export const FSYNC_OPS: ReadonlySet<FsOp> = new Set<FsOp>(['writeFileFlush', 'appendFileFlush', 'fsyncDir', 'openExclusive']);

/** Calls and milliseconds of one operation. */
export interface OpStats {
  calls: number;
  ms: number;
}

/** Counts and times calls to an inner {@link Fs} (the real one by default). */
export class MeteredFs implements Fs {
  private readonly stats = new Map<FsOp, OpStats>();

  constructor(private readonly inner: Fs = nodeFs) {}

  /** A copy of the per-operation counters. */
  snapshot(): Map<FsOp, OpStats> {
    return new Map([...this.stats].map(([op, s]) => [op, { ...s }]));
  }

  /** Forgets everything counted so far. */
  reset(): void {
    this.stats.clear();
  }

  private async meter<R>(op: FsOp, run: () => Promise<R>): Promise<R> {
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

  readFile(path: string): Promise<string> {
    return this.meter('readFile', () => this.inner.readFile(path));
  }
  writeFileFlush(path: string, data: string): Promise<void> {
    return this.meter('writeFileFlush', () => this.inner.writeFileFlush(path, data));
  }
  appendFileFlush(path: string, data: string): Promise<void> {
    return this.meter('appendFileFlush', () => this.inner.appendFileFlush(path, data));
  }
  rename(from: string, to: string): Promise<void> {
    return this.meter('rename', () => this.inner.rename(from, to));
  }
  fsyncDir(dir: string): Promise<void> {
    return this.meter('fsyncDir', () => this.inner.fsyncDir(dir));
  }
  unlink(path: string): Promise<void> {
    return this.meter('unlink', () => this.inner.unlink(path));
  }
  readdir(dir: string): Promise<string[]> {
    return this.meter('readdir', () => this.inner.readdir(dir));
  }
  mkdirp(dir: string): Promise<void> {
    return this.meter('mkdirp', () => this.inner.mkdirp(dir));
  }
  copyFile(from: string, to: string): Promise<void> {
    return this.meter('copyFile', () => this.inner.copyFile(from, to));
  }
  link(from: string, to: string): Promise<void> {
    return this.meter('link', () => this.inner.link(from, to));
  }
  exists(path: string): Promise<boolean> {
    return this.meter('exists', () => this.inner.exists(path));
  }
  openExclusive(path: string, content: string): Promise<void> {
    return this.meter('openExclusive', () => this.inner.openExclusive(path, content));
  }
}

/** Totals over a snapshot: all calls, fsync-bearing calls and the time spent in each group. */
export function totals(stats: ReadonlyMap<FsOp, OpStats>): { calls: number; ms: number; fsyncCalls: number; fsyncMs: number } {
  let calls = 0;
  let ms = 0;
  let fsyncCalls = 0;
  let fsyncMs = 0;
  for (const [op, s] of stats) {
    calls += s.calls;
    ms += s.ms;
    if (FSYNC_OPS.has(op)) {
      fsyncCalls += s.calls;
      fsyncMs += s.ms;
    }
  }
  return { calls, ms, fsyncCalls, fsyncMs };
}

/** "writeFileFlush 4, rename 8, ..." for the calls of a snapshot, divided by `per` (e.g. runs). */
export function describeOps(stats: ReadonlyMap<FsOp, OpStats>, per = 1): string {
  return [...stats]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, s]) => `${op} ${Number.isInteger(s.calls / per) ? s.calls / per : (s.calls / per).toFixed(1)}`)
    .join(', ');
}

/**
 * The real filesystem with every fsync removed (writes are plain, `fsyncDir` does nothing): for
 * comparison rows only, to show what a durable path costs beyond its CPU work. Never a target.
 */
export const noSyncFs: Fs = {
  ...nodeFs,
  writeFileFlush: (path, data) => writeFile(path, data, { encoding: 'utf8', mode: 0o600 }),
  appendFileFlush: (path, data) => appendFile(path, data, { encoding: 'utf8', mode: 0o600 }),
  fsyncDir: async () => undefined,
};
