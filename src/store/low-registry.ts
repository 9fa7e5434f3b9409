/**
 * One `Low` per file per process (RELIABILITY.md P4). Two lowdb instances on one file race on
 * rename and lose or tear writes (typicode/lowdb#478, #333; measured: ENOENT on rename and
 * unparseable files), so every writable `Low` the store makes is registered here by absolute path,
 * and a second one for the same path is an {@link InvariantError} (a bug in the caller).
 */
import { resolve } from 'node:path';
import { type Adapter, Low } from 'lowdb';
import { InvariantError } from '../shared/errors.ts';
import type { DurableJsonFile } from './durable-json-file.ts';

const openPaths = new Set<string>();

/**
 * A new `Low` over `adapter` with `null` as "no data yet". Never `JSONFilePreset`: under vitest
 * (`NODE_ENV=test`) it silently switches to an in-memory adapter.
 * @throws InvariantError when a `Low` for the same path is already open in this process.
 */
export function openLow<T>(adapter: DurableJsonFile<T>): Low<T | null> {
  const path = resolve(adapter.path);
  if (openPaths.has(path)) {
    throw new InvariantError(`a lowdb instance for ${path} is already open in this process; one Low per file`, {
      details: { path },
    });
  }
  openPaths.add(path);
  // Low never passes null to the adapter (`write` skips falsy data), so widening is safe.
  return new Low<T | null>(adapter as Adapter<T | null>, null);
}

/** Forgets the `Low` of `path` (after its last write settled). Idempotent. */
export function closeLow(path: string): void {
  openPaths.delete(resolve(path));
}

/** True when a `Low` for `path` is open in this process. */
export function isLowOpen(path: string): boolean {
  return openPaths.has(resolve(path));
}
