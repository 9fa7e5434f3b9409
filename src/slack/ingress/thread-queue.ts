/**
 * The per-thread queue (issue C item 3; docs/architecture/routing.md §3): follow-ups in a thread a
 * run owns are never dropped and never answered with "busy". They wait while the thread's run is
 * active (queued, running, waiting for approval, needing attention) and are handled, in arrival
 * order, once it has ended; messages that arrive within `debounceMs` of each other are merged into
 * one task, so a burst of twenty lines becomes one follow-up rather than twenty.
 *
 * Guarantees (within one process):
 * - Every offered message is passed to `flush` exactly once, in the order offered per thread
 *   (merged with its neighbours or alone), or it is still pending: nothing is discarded.
 * - At most one `flush` per thread at a time, and never while the thread's run is active.
 * - A run that ends while the queue is deciding is not missed: `runEnded` queues another look
 *   behind the current one (the lane's work is one serial chain).
 * - The debounce is bounded: a steady stream is flushed at least every `4 × debounceMs`.
 *
 * Not durable: messages waiting here when the process dies are lost (Slack does not redeliver an
 * acknowledged event). They are few and short-lived (one run's duration); see the routing note.
 */
import type { Clock } from '../../shared/clock.ts';
import { asBotError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RunState } from '../../store/run-schema.ts';
import type { IncomingMessage } from './types.ts';

/** One follow-up waiting in a thread. */
export interface QueuedMessage {
  message: IncomingMessage;
  /** The text without the bot's mention, already checked for size. */
  text: string;
  /** Harness clock time it was offered. */
  at: number;
}

/** What the queue runs on. */
export interface ThreadQueueDeps {
  clock: Clock;
  logger: Logger;
  /** Merge window; 0 handles an idle thread's message before {@link ThreadQueue.offer} resolves. */
  debounceMs: number;
  /** The thread's run when it is still active (the messages must wait), else null. */
  activeRun(channel: string, threadTs: string): Promise<RunState | null>;
  /**
   * Handles the waiting messages of an idle thread: starts a follow-up from some prefix of
   * `pending` (at least one) and returns how many it consumed (handled, merged or refused).
   */
  flush(channel: string, threadTs: string, pending: readonly QueuedMessage[]): Promise<number>;
  /** Tells the thread its messages wait for `run` (once per wait). Must not throw. */
  notifyWaiting(channel: string, threadTs: string, run: RunState, waiting: number): Promise<void>;
}

interface Lane {
  channel: string;
  threadTs: string;
  pending: QueuedMessage[];
  /** The debounce sleep, if one is running. */
  timer: AbortController | null;
  /** Serial chain of this thread's work. */
  chain: Promise<void>;
  /** The run the pending messages were last told to wait for. */
  notifiedFor: string | null;
}

function key(channel: string, threadTs: string): string {
  return `${channel}:${threadTs}`;
}

/** See the module comment. */
export class ThreadQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly work = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: ThreadQueueDeps) {}

  /** Messages waiting in all threads (for tests and the debugger). */
  get waiting(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.pending.length;
    return n;
  }

  /**
   * Queues a follow-up. With `debounceMs` 0 it is handled (or found waiting behind the thread's
   * run) before this resolves; otherwise after the merge window. Never rejects.
   */
  async offer(message: IncomingMessage, text: string): Promise<void> {
    const k = key(message.channel, message.threadTs ?? message.ts);
    let lane = this.lanes.get(k);
    if (lane === undefined) {
      lane = { channel: message.channel, threadTs: message.threadTs ?? message.ts, pending: [], timer: null, chain: Promise.resolve(), notifiedFor: null };
      this.lanes.set(k, lane);
    }
    lane.pending.push({ message, text, at: this.deps.clock.now() });
    if (this.deps.debounceMs === 0 || this.closed) {
      await this.look(lane);
      return;
    }
    this.arm(lane);
  }

  /** The thread's run ended: its waiting messages may go now. */
  runEnded(channel: string, threadTs: string): void {
    const lane = this.lanes.get(key(channel, threadTs));
    if (lane === undefined || lane.pending.length === 0 || lane.timer !== null) return;
    void this.look(lane);
  }

  /** Resolves when no thread work is in progress (debounce windows still open are not waited for). */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /**
   * Ends every open merge window at once and handles what can be handled (at shutdown: a message
   * for an idle thread still becomes a persisted run). Messages behind an active run stay pending.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      const timer = lane.timer;
      lane.timer = null;
      timer?.abort();
      if (lane.pending.length > 0) void this.look(lane);
    }
    await this.settled();
  }

  /** (Re)starts the lane's merge window, bounded by 4 windows after its oldest pending message. */
  private arm(lane: Lane): void {
    lane.timer?.abort();
    const controller = new AbortController();
    lane.timer = controller;
    const oldest = lane.pending[0]?.at ?? this.deps.clock.now();
    const wait = Math.max(0, Math.min(this.deps.debounceMs, oldest + 4 * this.deps.debounceMs - this.deps.clock.now()));
    this.deps.clock.sleep(wait, controller.signal).then(
      () => {
        if (lane.timer !== controller) return;
        lane.timer = null;
        void this.look(lane);
      },
      () => undefined,
    );
  }

  /** Queues one look at the lane on its chain; resolves when that look is done. */
  private look(lane: Lane): Promise<void> {
    const next = lane.chain.then(() => this.drain(lane));
    lane.chain = next;
    this.work.add(next);
    void next.finally(() => this.work.delete(next));
    return next;
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      while (lane.pending.length > 0 && lane.timer === null) {
        const active = await this.deps.activeRun(lane.channel, lane.threadTs);
        if (active !== null) {
          if (lane.notifiedFor !== active.runId) {
            lane.notifiedFor = active.runId;
            await this.deps.notifyWaiting(lane.channel, lane.threadTs, active, lane.pending.length);
          }
          return;
        }
        const consumed = await this.deps.flush(lane.channel, lane.threadTs, lane.pending);
        lane.pending.splice(0, Math.max(1, consumed));
        lane.notifiedFor = null;
      }
    } catch (error) {
      // Kept pending: the next message or the next run end looks again.
      this.deps.logger.error({ channel: lane.channel, threadTs: lane.threadTs, err: asBotError(error).toJSON() }, 'thread queue: handling waiting messages failed');
    } finally {
      if (lane.pending.length === 0 && lane.timer === null && this.lanes.get(key(lane.channel, lane.threadTs)) === lane) {
        this.lanes.delete(key(lane.channel, lane.threadTs));
      }
    }
  }
}
