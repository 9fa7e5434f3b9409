/**
 * Which Slack threads belong to which run: `channel + thread_ts` → the newest top-level run started
 * there. The ingress needs it to tell a follow-up in a bot-owned thread from chatter in a thread the
 * bot merely can see (ecosystem.md §1.4: `message` is only for DMs and owned threads).
 *
 * It is derived data, rebuilt at startup from the store and kept current from durable commits
 * (`run_created` with a Slack origin), so it never disagrees with the store for long and needs no
 * file of its own. The startup scan reads at most `scanLimit` of the newest runs: an older thread
 * simply stops counting as owned (a reply there is ignored; a mention there starts a new task).
 */
import type { RunDoc } from '../../store/run-schema.ts';
import type { RunStore } from '../../store/port.ts';

/** Runs read at startup. */
export const DEFAULT_THREAD_SCAN_LIMIT = 2000;

/** The run a thread belongs to. */
export interface ThreadOwner {
  runId: string;
  createdAt: number;
}

function key(channel: string, threadTs: string): string {
  return `${channel}:${threadTs}`;
}

/** See the module comment. */
export class ThreadIndex {
  private readonly owners = new Map<string, ThreadOwner>();

  /**
   * Records `doc`'s thread when it is a top-level run started from Slack. A run created later wins;
   * of two created in the same millisecond, the one observed last (commits arrive in order).
   */
  observe(doc: RunDoc): void {
    const run = doc.run;
    if (run.parentRunId !== null || run.origin.kind !== 'slack') return;
    const k = key(run.origin.channel, run.origin.threadTs);
    const current = this.owners.get(k);
    // Newer wins; on a tie the later observation (commit order) wins.
    if (current !== undefined && current.createdAt > run.createdAt) return;
    this.owners.set(k, { runId: run.runId, createdAt: run.createdAt });
  }

  /** The newest top-level run of the thread, if the bot owns it. */
  ownerOf(channel: string, threadTs: string): ThreadOwner | undefined {
    return this.owners.get(key(channel, threadTs));
  }

  get size(): number {
    return this.owners.size;
  }

  /**
   * Loads the newest `limit` runs' threads (oldest first, so ties resolve to the newest). Unreadable
   * runs are skipped (the store quarantines them and says so itself).
   */
  async load(store: RunStore, limit = DEFAULT_THREAD_SCAN_LIMIT): Promise<number> {
    const entries = (await store.list({ parentRunId: null })).slice(0, limit).reverse();
    for (const entry of entries) {
      let doc: RunDoc | undefined;
      try {
        doc = await store.get(entry.runId);
      } catch {
        continue;
      }
      if (doc) this.observe(doc);
    }
    return this.owners.size;
  }
}
