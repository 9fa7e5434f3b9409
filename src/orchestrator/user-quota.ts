/**
 * Per-user consumption limits (P18): how many runs a user may have queued or running at once, and
 * how many model tokens their runs may use per UTC day. Admission is reserved synchronously, so a
 * burst of parallel requests cannot all pass the check before any of them is recorded.
 */
import { BudgetExceededError } from '../shared/errors.ts';
import type { RunStore } from '../store/port.ts';
import type { RunDoc, TraceEvent } from '../store/run-schema.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface UserQuotaLimits {
  maxActiveRunsPerUser: number;
  maxActiveRunsPerChannel: number;
  dailyTokensPerUser: number;
}

/** The admission keys of a run: its user, and its Slack channel when it has one. */
function slotKeys(userId: string, channel: string | undefined): string[] {
  return channel === undefined ? [`user:${userId}`] : [`user:${userId}`, `channel:${channel}`];
}

export class UserQuota {
  private readonly active = new Map<string, Set<string>>();
  private day = -1;
  private readonly tokens = new Map<string, number>();
  private primed: Promise<void> | null = null;

  constructor(
    private readonly limits: UserQuotaLimits,
    private readonly store: RunStore,
  ) {}

  /**
   * Reserves an active slot for `runId` under its user (and channel, for Slack runs), or throws
   * when either already has the maximum. Call {@link release} if the run is not created after all.
   */
  admit(userId: string, runId: string, channel?: string): void {
    const users = this.active.get(`user:${userId}`)?.size ?? 0;
    if (users >= this.limits.maxActiveRunsPerUser) {
      throw new BudgetExceededError(
        `${userId} already has ${users} runs in progress (the limit is ${this.limits.maxActiveRunsPerUser}); wait for one to finish or pause`,
        { details: { limit: 'maxActiveRunsPerUser', value: this.limits.maxActiveRunsPerUser } },
      );
    }
    const channels = channel === undefined ? 0 : (this.active.get(`channel:${channel}`)?.size ?? 0);
    if (channel !== undefined && channels >= this.limits.maxActiveRunsPerChannel) {
      throw new BudgetExceededError(
        `this channel already has ${channels} runs in progress (the limit is ${this.limits.maxActiveRunsPerChannel}); wait for one to finish or pause`,
        { details: { limit: 'maxActiveRunsPerChannel', value: this.limits.maxActiveRunsPerChannel } },
      );
    }
    for (const key of slotKeys(userId, channel)) {
      const runs = this.active.get(key) ?? new Set<string>();
      runs.add(runId);
      this.active.set(key, runs);
    }
  }

  /** Frees a run's slots (it paused, ended, or was never created). */
  release(userId: string, runId: string, channel?: string): void {
    for (const key of slotKeys(userId, channel)) {
      const runs = this.active.get(key);
      runs?.delete(runId);
      if (runs?.size === 0) this.active.delete(key);
    }
  }

  /** Follows every commit: slots track queued/running runs, tokens track model usage. */
  observe(doc: RunDoc, events: readonly TraceEvent[], now: number): void {
    const { run } = doc;
    const userId = run.requestedBy.userId;
    // Sub-agents hold no slot of their own (they share their root's); their tokens still count.
    if (run.parentRunId === null) {
      const channel = run.origin.kind === 'slack' ? run.origin.channel : undefined;
      if (run.status === 'queued' || run.status === 'running') {
        for (const key of slotKeys(userId, channel)) {
          const runs = this.active.get(key) ?? new Set<string>();
          runs.add(run.runId);
          this.active.set(key, runs);
        }
      } else {
        this.release(userId, run.runId, channel);
      }
    }
    this.rollDay(now);
    for (const event of events) {
      if (event.event !== 'model_called' || dayOf(event.ts) !== this.day) continue;
      const usage = event.detail['usage'] as { inputTokens?: number; outputTokens?: number } | undefined;
      const spent = (usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0);
      this.tokens.set(userId, (this.tokens.get(userId) ?? 0) + spent);
    }
  }

  /** The error to fail a run with when its user's daily token budget is spent, or null. */
  async checkTokens(userId: string, now: number): Promise<BudgetExceededError | null> {
    await this.prime(now);
    const used = this.tokens.get(userId) ?? 0;
    if (used < this.limits.dailyTokensPerUser) return null;
    return new BudgetExceededError(
      `daily token budget exceeded: ${userId}'s runs used ${used} of ${this.limits.dailyTokensPerUser} tokens today (UTC)`,
      { details: { limit: 'dailyTokensPerUser', value: this.limits.dailyTokensPerUser } },
    );
  }

  /** Sums today's usage from runs created today, once per day and process (survives restarts). */
  private prime(now: number): Promise<void> {
    if (this.rollDay(now) || this.primed === null) {
      const day = this.day;
      this.primed = (async () => {
        const entries = await this.store.list();
        const totals = new Map<string, number>();
        for (const entry of entries) {
          if (entry.updatedAt < day * DAY_MS) continue;
          const doc = await this.store.get(entry.runId);
          if (!doc) continue;
          const spent = doc.trace
            .filter((e) => e.event === 'model_called' && dayOf(e.ts) === day)
            .reduce((sum, e) => {
              const usage = e.detail['usage'] as { inputTokens?: number; outputTokens?: number } | undefined;
              return sum + (usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0);
            }, 0);
          const userId = doc.run.requestedBy.userId;
          totals.set(userId, (totals.get(userId) ?? 0) + spent);
        }
        // Usage observed while priming is already in the stored traces; the scan is the truth.
        if (this.day === day) {
          this.tokens.clear();
          for (const [userId, spent] of totals) this.tokens.set(userId, spent);
        }
      })();
    }
    return this.primed;
  }

  /** Starts a new day's tally when the UTC day changed; true when it did. */
  private rollDay(now: number): boolean {
    const today = dayOf(now);
    if (today === this.day) return false;
    this.day = today;
    this.tokens.clear();
    this.primed = null;
    return true;
  }
}

function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}
