/**
 * Fault injection for the local Web API: a test queues a fault for a method and the next call(s)
 * to that method get it instead of (or, for a pure delay, before) the normal answer. Faults are
 * consumed per call, first queued first served, so "429 twice, then success" is two `times`.
 */
import { ConfigError } from '../shared/errors.ts';

/** What to do to the next call(s) of `method` (`'*'` matches every method). */
export interface FaultSpec {
  method: string;
  /** How many calls this fault applies to (default 1). */
  times?: number;
  /** Answer with this HTTP status: 429 (with `Retry-After`) or 500. */
  status?: 429 | 500;
  /** Seconds for the `Retry-After` header on a 429 (default 1). */
  retryAfterSec?: number;
  /** Answer HTTP 200 `{ok:false, error}` with this Slack error code. */
  error?: string;
  /** Wait this long before answering (alone: a slow but otherwise normal answer). */
  delayMs?: number;
}

/** A queued fault; `cancel()` drops what is left of it. */
export interface FaultHandle {
  readonly remaining: number;
  cancel(): void;
}

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
}

/** The fault queue. */
export class FaultInjector {
  private faults: ActiveFault[] = [];

  /** Queues a fault. @throws ConfigError on a nonsensical spec (times < 1, negative delay). */
  inject(spec: FaultSpec): FaultHandle {
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new ConfigError('fault times must be a positive integer');
    if (spec.delayMs !== undefined && spec.delayMs < 0) throw new ConfigError('fault delayMs must be >= 0');
    if (spec.retryAfterSec !== undefined && spec.retryAfterSec < 0) throw new ConfigError('fault retryAfterSec must be >= 0');
    if (spec.status === undefined && spec.error === undefined && spec.delayMs === undefined) {
      throw new ConfigError('a fault needs status, error or delayMs');
    }
    const active: ActiveFault = { spec: { ...spec }, remaining: times };
    this.faults.push(active);
    return {
      get remaining() {
        return active.remaining;
      },
      cancel: () => {
        active.remaining = 0;
        this.faults = this.faults.filter((f) => f !== active);
      },
    };
  }

  /** Consumes one use of the first fault matching `method`, if any. */
  take(method: string): FaultSpec | undefined {
    const active = this.faults.find((f) => f.remaining > 0 && (f.spec.method === method || f.spec.method === '*'));
    if (active === undefined) return undefined;
    active.remaining -= 1;
    if (active.remaining === 0) this.faults = this.faults.filter((f) => f !== active);
    return active.spec;
  }

  /** Faults not yet consumed. */
  pending(): FaultSpec[] {
    return this.faults.map((f) => ({ ...f.spec, times: f.remaining }));
  }

  /** Drops every queued fault. */
  clear(): void {
    this.faults = [];
  }
}
