/**
 * A bounded, time-limited set of delivery ids (Slack `event_id`s, action `trigger_id`s): the cheap
 * first line of dedupe (ecosystem.md §1.7). It is only an optimisation: for events, the durable
 * truth is the run id derived from the `event_id` (`createRun` refuses a second one), and for
 * actions the gate's compare-and-set. So losing this set in a restart is harmless.
 */
import type { Clock } from '../../shared/clock.ts';

/** Default time an id is remembered: Slack's last HTTP retry comes about 5 minutes after the first. */
export const DEFAULT_DEDUPE_TTL_MS = 60 * 60 * 1000;
/** Default cap; the oldest ids are dropped first. */
export const DEFAULT_DEDUPE_MAX = 10_000;

/** See the module comment. Not persisted; not shared between processes. */
export class TtlSet {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = DEFAULT_DEDUPE_TTL_MS,
    private readonly max = DEFAULT_DEDUPE_MAX,
  ) {}

  /** True when `id` was added less than the TTL ago. */
  has(id: string): boolean {
    const at = this.seen.get(id);
    if (at === undefined) return false;
    if (this.clock.now() - at >= this.ttlMs) {
      this.seen.delete(id);
      return false;
    }
    return true;
  }

  /** Remembers `id` from now on. */
  add(id: string): void {
    this.seen.delete(id);
    this.seen.set(id, this.clock.now());
    this.prune();
  }

  /**
   * Adds `id` and reports whether it was new: the one atomic check-and-claim for paths where two
   * deliveries may race within one process (actions: a double click).
   */
  claim(id: string): boolean {
    if (this.has(id)) return false;
    this.add(id);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(): void {
    const now = this.clock.now();
    // Map iteration is insertion order, and add() re-inserts, so the oldest come first.
    for (const [id, at] of this.seen) {
      if (this.seen.size <= this.max && now - at < this.ttlMs) break;
      this.seen.delete(id);
    }
  }
}
