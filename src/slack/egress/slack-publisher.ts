/**
 * Egress: everything the bot posts to Slack because a run changed durably (DESIGN.md §3, §8;
 * RELIABILITY.md P3, P14, P15). The publisher listens to `Harness.onCommit`, so it only ever
 * shows state that is already persisted (persist before effect), and it never blocks the harness:
 * the listener only queues work.
 *
 * Outbox rules (docs/architecture/slack-egress.md):
 * - Every post has a key, unique within its run: `status`, `gate:<gateId>`, `reminder:<gateId>`,
 *   `result` (then `result:2`, … for long answers; `result#<n>` for the n-th answer of a run that
 *   follow-ups resumed), `failure`, `subagent:<childRunId>`. A key is posted at most once.
 * - One serial queue per run: every Slack call for a run happens in order, one at a time, so a
 *   key can never be posted twice by two racing events, and a card is updated only after it
 *   was posted.
 * - After a post resolves, its `{channel, ts}` is kept in memory and recorded durably as a
 *   `slack_posted` event (with `gateId` for cards, which sets `gate.card`). Every post carries
 *   metadata `{event_type: 'harness_post', event_payload: {runId, key, gateId?}}` so that
 *   {@link SlackPublisher.reconcile} can find a post whose record was lost in a crash.
 * - The status message is coalesced: at most one `chat.update` per `statusIntervalMs`, always
 *   followed by a trailing update with the latest state.
 */
import type { CommitListener } from '../../orchestrator/commit.ts';
import type { CoreLogger } from '../../orchestrator/deps.ts';
import type { Harness } from '../../orchestrator/harness.ts';
import type { Clock } from '../../shared/clock.ts';
import { SlackApiError, asBotError } from '../../shared/errors.ts';
import { TERMINAL_STATUSES, type Gate, type RunDoc, type RunState, type TraceEvent } from '../../store/run-schema.ts';
import {
  inlineCode,
  renderApprovalCard,
  renderDecidedCard,
  renderFailure,
  renderProcessingCard,
  renderResult,
  renderRunStatus,
  renderSubagentStatus,
  slackDate,
  userMention,
  type SlackMessage,
} from '../blocks/index.ts';
import type { MessageMetadata, SlackPort } from '../port.ts';
import { publishAppHome } from './app-home.ts';

/** `event_type` of the metadata on every post (what reconciliation searches for). */
export const HARNESS_POST_EVENT = 'harness_post';

/** Slack errors meaning "these blocks were refused": the post is retried as plain text. */
const BLOCK_ERRORS = new Set(['invalid_blocks', 'invalid_blocks_format', 'msg_blocks_too_long']);

/**
 * Who gets an App Home refresh: Slack user ids (and the local workspace's `U_…` ids); CLI user
 * names in an approver list cannot have a Home tab.
 */
const HOME_USER_ID = /^[UW][A-Z0-9_]{2,}$/;

/** Card permalinks kept in memory. */
const PERMALINKS_KEPT = 5000;

/** Sub-agents (the whole tree, depth first) loaded for the status message's summary lines. */
const STATUS_CHILDREN = 25;

/** Root threads remembered for sub-agent runs. */
const ROOT_THREADS_KEPT = 5000;

/** Default of {@link SlackPublisherOptions.subagentPostDelayMs}. */
export const DEFAULT_SUBAGENT_POST_DELAY_MS = 1000;

/** The key of a sub-agent's own status post (recorded on the sub-agent's run). */
export function subagentPostKey(runId: string): string {
  return `subagent:${runId}`;
}

/** Where a run's messages go. */
export interface SlackThread {
  teamId: string;
  channel: string;
  /** The thread root; for a mention that started the thread, the user's message itself. */
  threadTs: string;
}

/** The default thread resolver: a Slack-origin run's own thread; nothing for other origins. */
export function slackThreadOf(run: RunState): SlackThread | null {
  return run.origin.kind === 'slack' ? { teamId: run.origin.teamId, channel: run.origin.channel, threadTs: run.origin.threadTs } : null;
}

/** App Home refreshes driven by run changes. */
export interface AppHomeRefreshOptions {
  /**
   * Republish the Home tab of a gate's approvers when the gate appears or is decided, and of a
   * run's requester when it starts or ends. Off by default.
   */
  refreshOnChange: boolean;
}

/** Options of {@link SlackPublisher}. */
export interface SlackPublisherOptions {
  harness: Harness;
  port: SlackPort;
  clock: Clock;
  logger: CoreLogger;
  /** Minimum spacing of updates to one status message (default 1000 ms: Slack's ~1/s guidance). */
  statusIntervalMs?: number;
  appHome?: AppHomeRefreshOptions;
  /** Which runs are posted and where; defaults to {@link slackThreadOf} (Slack-origin runs only). */
  threadOf?: (run: RunState) => SlackThread | null;
  /** Run page base for the card's run link (`renderApprovalCard`'s `permalinkBase`). */
  runLinkBase?: string;
  /** Terminal runs updated this recently have their outcome posts reconciled (default 1 h). */
  reconcileWindowMs?: number;
  /**
   * Every sub-agent gets its own status post (with a Kill button while it is live). The first post
   * waits this long after the draft, so the states a sub-agent passes through in that window land
   * in one post (a sub-agent that already ended is posted in its final state); a sub-agent waiting
   * for a human is posted at once. Default {@link DEFAULT_SUBAGENT_POST_DELAY_MS} (the same window
   * as status updates); 0 posts at the draft.
   */
  subagentPostDelayMs?: number;
}

interface PostRecord {
  channel: string;
  ts: string;
}

interface StatusState {
  dirty: boolean;
  /** A flush task is in the run's queue. */
  queued: boolean;
  /** Waiting out the interval before the next flush. */
  sleeping: AbortController | null;
  lastSentAt: number | null;
  /** Look for an unrecorded status message before posting one (after a restart). */
  search: boolean;
}

interface Lane {
  runId: string;
  /** A sub-agent's lane posts into its root's thread: cards and its own `subagent:<id>` post only. */
  child: boolean;
  /** Sub-agent lanes: whether its own post is due (see `subagentPostDelayMs`). */
  visible: boolean;
  /** Sub-agent lanes: the timer that makes the post due. */
  reveal: AbortController | null;
  thread: SlackThread;
  /** The newest document seen (by trace length). */
  doc: RunDoc;
  /** Highest trace seq already dispatched. */
  maxSeq: number;
  posts: Map<string, PostRecord>;
  /** Last rendered state of each gate's card (skips identical updates). */
  cards: Map<string, string>;
  chain: Promise<void>;
  pending: number;
  status: StatusState;
}

interface PostSpec {
  key: string;
  kind: string;
  /** Recorded on `slack_posted` (sets `gate.card`): cards only. */
  cardOf: string | null;
  /** Put in the metadata (also for reminders). */
  gateId?: string;
  message: SlackMessage;
  /** Plain text used when Slack refuses the blocks. */
  fallbackText: string;
  /** Look for an unrecorded post first (reconciliation). */
  search: boolean;
}

interface PostOutcome {
  record: PostRecord;
  /** Found by metadata rather than posted now. */
  adopted: boolean;
}

function isBlocksError(error: unknown): boolean {
  return error instanceof SlackApiError && BLOCK_ERRORS.has(String(error.details['slackError']));
}

function slackCode(error: unknown): string {
  return error instanceof SlackApiError ? String(error.details['slackError'] ?? error.code) : asBotError(error).code;
}

function cardVersion(gate: Gate): string {
  return gate.status === 'pending' ? 'pending' : `${gate.status}:${gate.decidedAt ?? ''}:${gate.decidedBy ?? ''}`;
}

function lastSeq(doc: RunDoc): number {
  return doc.trace.at(-1)?.seq ?? -1;
}

/**
 * Posts and updates a run's Slack messages from its durable commits. Guarantees: nothing is
 * posted for a transition before its commit resolved; a key is posted at most once per process
 * (and, with {@link reconcile} at startup, at most once across a crash unless Slack lost the
 * metadata); Slack failures are logged and never thrown into the harness.
 */
export class SlackPublisher {
  private readonly harness: Harness;
  private readonly port: SlackPort;
  private readonly clock: Clock;
  private readonly logger: CoreLogger;
  private readonly statusIntervalMs: number;
  private readonly threadOf: (run: RunState) => SlackThread | null;
  private readonly runLinkBase: string | undefined;
  private readonly reconcileWindowMs: number;
  private readonly homeRefresh: boolean;
  private readonly subagentPostDelayMs: number;
  private readonly lanes = new Map<string, Lane>();
  /** Root run id → its thread, for sub-agent runs (whose own origin names no thread). */
  private readonly rootThreads = new Map<string, SlackThread | null>();
  private unsubscribeQueue: (() => void) | null = null;
  private readonly permalinks = new Map<string, string>();
  private readonly homeWanted = new Map<string, Promise<void>>();
  /** When each user's Home was last published (for the per-user coalescing window). */
  private readonly homeLastAt = new Map<string, number>();
  private homeChain: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(options: SlackPublisherOptions) {
    this.harness = options.harness;
    this.port = options.port;
    this.clock = options.clock;
    this.logger = options.logger;
    this.statusIntervalMs = options.statusIntervalMs ?? 1000;
    this.threadOf = options.threadOf ?? slackThreadOf;
    this.runLinkBase = options.runLinkBase;
    this.reconcileWindowMs = options.reconcileWindowMs ?? 60 * 60 * 1000;
    this.homeRefresh = options.appHome?.refreshOnChange ?? false;
    this.subagentPostDelayMs = options.subagentPostDelayMs ?? DEFAULT_SUBAGENT_POST_DELAY_MS;
  }

  /** Subscribes to the harness's commits (and its pool's queue changes). Idempotent. */
  start(): void {
    if (this.unsubscribe !== null) return;
    this.stopped = false;
    this.unsubscribe = this.harness.onCommit(this.handleCommit);
    // A queued task's status shows its position; every move in the line re-renders it (coalesced).
    this.unsubscribeQueue = this.harness.onQueueChange((runIds) => {
      for (const runId of runIds) {
        const lane = this.lanes.get(runId);
        if (lane !== undefined && !lane.child) this.markStatusDirty(lane);
      }
    });
  }

  /**
   * Unsubscribes, sends every pending coalesced status update now (ignoring the interval), and
   * resolves when every queued Slack call has settled. Never rejects.
   */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.unsubscribeQueue?.();
    this.unsubscribeQueue = null;
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      lane.reveal?.abort();
      lane.reveal = null;
      const sleeping = lane.status.sleeping;
      lane.status.sleeping = null;
      sleeping?.abort();
      if (lane.status.dirty && !lane.status.queued) {
        lane.status.queued = true;
        void this.enqueue(lane, 'status', () => this.flushStatus(lane));
      }
    }
    await this.idle();
  }

  /**
   * Resolves when no Slack work is queued (status updates still waiting out their interval are
   * not waited for). For shutdown and tests.
   */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.lanes.values()].filter((lane) => lane.pending > 0);
      const home = this.homeChain;
      if (busy.length === 0 && this.homeWanted.size === 0) {
        await home;
        if (home === this.homeChain) return;
        continue;
      }
      await Promise.all([...busy.map((lane) => lane.chain), home, ...this.homeWanted.values()]);
    }
  }

  /** The permalink of a gate's card, once Slack gave one (for the audit log). */
  permalinkFor(gateId: string): string | undefined {
    return this.permalinks.get(gateId);
  }

  /**
   * At startup: for every non-terminal run posted to Slack, makes sure its status message and
   * the cards of its gates exist and show the persisted state; for runs that ended within
   * `reconcileWindowMs`, that the outcome was posted. A message missing from `run.posts` is
   * first looked up by its metadata (`findPostedMessage`) and adopted (recorded) if found, so a
   * crash between a post and its record does not duplicate it (P15); only then is it posted.
   * Resolves when done; failures are logged per run, never thrown.
   */
  async reconcile(): Promise<void> {
    let entries;
    try {
      entries = await this.harness.listRuns();
    } catch (error) {
      this.logger.error({ err: asBotError(error).toJSON() }, 'slack reconcile: listing runs failed');
      return;
    }
    const now = this.clock.now();
    const work: Promise<void>[] = [];
    for (const entry of entries) {
      const terminal = TERMINAL_STATUSES.includes(entry.status);
      if (terminal && now - entry.updatedAt > this.reconcileWindowMs) continue;
      const lane = await this.laneFromStore(entry.runId);
      if (lane === undefined) continue;
      work.push(this.enqueue(lane, 'reconcile', () => this.reconcileRun(lane)));
    }
    await Promise.all(work);
  }

  /**
   * Shows "Processing approval by <@user>…" on the gate's card (no buttons) while the gate is
   * still pending and its card exists; otherwise does nothing. Runs in the run's queue, so a
   * decision committed meanwhile still ends with the decided card, and a refusal recorded for
   * the gate (`approval_refused`) restores the buttons. Once the decision is committed the
   * decided card (queued by that commit) is shown instead, so calling this after `decideGate`
   * is a harmless no-op. Never rejects.
   */
  async showProcessing(runId: string, gateId: string, userId: string): Promise<void> {
    if (this.stopped) return;
    const lane = this.lanes.get(runId) ?? (await this.laneFromStore(runId));
    if (lane === undefined) return;
    await this.enqueue(lane, 'processing', async () => {
      this.absorb(lane, await this.harness.getRun(runId));
      const gate = lane.doc.run.gates.find((g) => g.gateId === gateId);
      const card = lane.posts.get(`gate:${gateId}`);
      if (gate?.status !== 'pending' || card === undefined) return;
      const message = renderProcessingCard(lane.doc.run, gate, userId);
      await this.update(card, message, `${message.text} (processing)`);
      lane.cards.set(gateId, `processing:${userId}`);
    });
  }

  /**
   * Publishes `userId`'s App Home tab from the store (ingress calls it on `app_home_opened`).
   * Shares the Home queue with the change-driven refreshes, so two publishes for one user never
   * race. Never rejects (a failure is logged).
   */
  publishAppHome(userId: string): Promise<void> {
    return this.queueHome(userId, true);
  }

  /**
   * Posts `render(doc)` under `key` once, and updates that message on later calls (for
   * sub-agent posts: `subagent:<childRunId>`). Runs in the run's queue. Never rejects.
   */
  async upsertMessage(runId: string, key: string, kind: string, render: (doc: RunDoc) => SlackMessage): Promise<void> {
    if (this.stopped) return;
    const lane = this.lanes.get(runId) ?? (await this.laneFromStore(runId));
    if (lane === undefined) return;
    await this.enqueue(lane, `upsert ${key}`, async () => {
      const message = render(lane.doc);
      const existing = lane.posts.get(key);
      if (existing === undefined) {
        await this.post(lane, { key, kind, cardOf: null, message, fallbackText: message.text, search: false });
      } else {
        await this.port.updateMessage({ channel: existing.channel, ts: existing.ts, text: message.text, blocks: message.blocks });
      }
    });
  }

  // ---- the commit listener ----------------------------------------------------------------------

  /**
   * The commit listener {@link start} subscribes. Public so that commits arriving another way
   * can be fed in; delivering the same commit twice (or an older one late) queues nothing new.
   * Returns at once; never throws.
   */
  readonly handleCommit: CommitListener = ({ doc, events }) => {
    try {
      if (this.stopped || events.length === 0) return;
      let lane = this.lanes.get(doc.run.runId);
      if (lane === undefined) {
        const thread = this.threadNow(doc.run);
        if (thread === undefined) {
          // A sub-agent whose root's thread is not known yet: look it up, then handle this commit.
          void this.rootThread(doc.run).then((found) => {
            if (found !== null && !this.stopped) this.handleCommit({ doc, events });
          });
          return;
        }
        if (thread === null) return;
        lane = this.newLane(doc, thread, (events[0]?.seq ?? 0) - 1);
      }
      this.absorb(lane, doc);
      // Everything after what was dispatched, from the doc itself: a commit delivered twice adds
      // nothing, and one delivered late is covered by the newer commit that contains it.
      const after = lane.maxSeq;
      const fresh = doc.trace.filter((event) => event.seq > after);
      if (fresh.length === 0) return;
      lane.maxSeq = lastSeq(doc);
      this.dispatch(lane, doc, fresh);
    } catch (error) {
      this.logger.error({ runId: doc.run.runId, err: asBotError(error).toJSON() }, 'slack publisher: dispatch failed');
    }
  };

  private dispatch(lane: Lane, doc: RunDoc, events: readonly TraceEvent[]): void {
    if (lane.child) {
      this.dispatchChild(lane, doc, events);
      return;
    }
    let changed = false;
    for (const event of events) {
      if (event.event === 'slack_posted') continue;
      changed = true;
      const gateId = typeof event.detail['gateId'] === 'string' ? event.detail['gateId'] : undefined;
      switch (event.event) {
        case 'run_created':
          void this.enqueue(lane, 'reaction', () => this.react(lane, 'eyes'));
          this.wantHome(doc.run.requestedBy.userId);
          break;
        case 'approval_required': {
          const gate = event.detail['gate'] as { gateId?: unknown } | undefined;
          if (typeof gate?.gateId === 'string') this.queueCard(lane, gate.gateId, false);
          break;
        }
        case 'approval_granted':
        case 'approval_rejected':
        case 'approval_expired':
          if (gateId !== undefined) this.queueCard(lane, gateId, false);
          break;
        case 'approval_refused':
          // A "processing…" card shown for a click that was then refused gets its buttons back.
          if (gateId !== undefined && lane.cards.get(gateId)?.startsWith('processing:') === true) {
            void this.enqueue(lane, 'card', () => this.syncCard(lane, gateId, false));
          }
          break;
        case 'approval_reminded':
          if (gateId !== undefined) void this.enqueue(lane, 'reminder', () => this.remind(lane, gateId, false));
          break;
        case 'run_completed':
          void this.enqueue(lane, 'result', () => this.postOutcome(lane, doc, event, false));
          this.wantHome(doc.run.requestedBy.userId);
          break;
        case 'run_failed':
        case 'run_cancelled':
          for (const gate of doc.run.gates) if (gate.status === 'cancelled') this.queueCard(lane, gate.gateId, false);
          void this.enqueue(lane, 'failure', () => this.postOutcome(lane, doc, event, false));
          this.wantHome(doc.run.requestedBy.userId);
          break;
        default:
          break;
      }
    }
    if (changed) this.markStatusDirty(lane);
  }

  /**
   * A sub-agent's events: its gate cards go to the root's thread like any card (their header names
   * the lineage); its own post follows its state once it is visible; its parent's and root's
   * status messages are re-rendered (they summarise the tree). No reactions, no status message and
   * no result post of its own: the parent reports the outcome.
   */
  private dispatchChild(lane: Lane, doc: RunDoc, events: readonly TraceEvent[]): void {
    let changed = false;
    for (const event of events) {
      if (event.event === 'slack_posted') continue;
      changed = true;
      const gateId = typeof event.detail['gateId'] === 'string' ? event.detail['gateId'] : undefined;
      switch (event.event) {
        case 'run_created':
          this.armReveal(lane);
          break;
        case 'approval_required': {
          const gate = event.detail['gate'] as { gateId?: unknown } | undefined;
          if (typeof gate?.gateId === 'string') this.queueCard(lane, gate.gateId, false);
          // Waiting for a human: the post (and its Kill button) is due now.
          this.revealNow(lane);
          break;
        }
        case 'approval_granted':
        case 'approval_rejected':
        case 'approval_expired':
          if (gateId !== undefined) this.queueCard(lane, gateId, false);
          break;
        case 'approval_refused':
          if (gateId !== undefined && lane.cards.get(gateId)?.startsWith('processing:') === true) {
            void this.enqueue(lane, 'card', () => this.syncCard(lane, gateId, false));
          }
          break;
        case 'approval_reminded':
          if (gateId !== undefined) void this.enqueue(lane, 'reminder', () => this.remind(lane, gateId, false));
          break;
        case 'needs_attention':
          this.revealNow(lane);
          break;
        case 'run_failed':
        case 'run_cancelled':
          for (const gate of doc.run.gates) if (gate.status === 'cancelled') this.queueCard(lane, gate.gateId, false);
          break;
        default:
          break;
      }
    }
    if (!changed) return;
    // A sub-agent that ended before its post was due keeps its reveal: it is posted once, final.
    if (lane.visible) this.markStatusDirty(lane);
    for (const id of new Set([doc.run.parentRunId, doc.run.rootRunId])) {
      const upper = id === null ? undefined : this.lanes.get(id);
      if (upper !== undefined && (!upper.child || upper.visible)) this.markStatusDirty(upper);
    }
  }

  /** Makes a sub-agent's post due after `subagentPostDelayMs`, in whatever state it is then. */
  private armReveal(lane: Lane): void {
    if (lane.visible || lane.reveal !== null || TERMINAL_STATUSES.includes(lane.doc.run.status)) return;
    if (this.subagentPostDelayMs <= 0) {
      this.revealNow(lane);
      return;
    }
    const controller = new AbortController();
    lane.reveal = controller;
    this.clock.sleep(this.subagentPostDelayMs, controller.signal).then(
      () => {
        if (lane.reveal !== controller) return;
        lane.reveal = null;
        this.revealNow(lane);
      },
      () => undefined,
    );
  }

  private revealNow(lane: Lane): void {
    lane.reveal?.abort();
    lane.reveal = null;
    if (lane.visible || this.stopped) return;
    lane.visible = true;
    this.markStatusDirty(lane);
  }

  // ---- threads ----------------------------------------------------------------------------------

  /**
   * Where a run's messages go, if known without I/O: a top-level run's own thread (`threadOf`), a
   * sub-agent's root's thread when that is remembered; `undefined` when it must be looked up.
   */
  private threadNow(run: RunState): SlackThread | null | undefined {
    if (run.parentRunId === null) {
      const thread = this.threadOf(run);
      this.rememberRoot(run.runId, thread);
      return thread;
    }
    return this.rootThreads.get(run.rootRunId);
  }

  /** A sub-agent's root's thread, read from the store when not remembered (null: not posted to Slack). */
  private async rootThread(run: RunState): Promise<SlackThread | null> {
    const known = this.rootThreads.get(run.rootRunId);
    if (known !== undefined) return known;
    try {
      const root = await this.harness.getRun(run.rootRunId);
      const thread = root.run.parentRunId === null ? this.threadOf(root.run) : null;
      this.rememberRoot(run.rootRunId, thread);
      return thread;
    } catch (error) {
      this.logger.warn({ runId: run.runId, rootRunId: run.rootRunId, err: asBotError(error).toJSON() }, 'slack publisher: root run not loadable');
      return null;
    }
  }

  private rememberRoot(runId: string, thread: SlackThread | null): void {
    if (this.rootThreads.has(runId)) return;
    this.rootThreads.set(runId, thread);
    if (this.rootThreads.size > ROOT_THREADS_KEPT) this.rootThreads.delete(this.rootThreads.keys().next().value ?? '');
  }

  // ---- lanes ------------------------------------------------------------------------------------

  private newLane(doc: RunDoc, thread: SlackThread, maxSeq: number): Lane {
    const child = doc.run.parentRunId !== null;
    const lane: Lane = {
      runId: doc.run.runId,
      child,
      // A sub-agent that already has its post (after a restart) keeps it up to date.
      visible: child && doc.run.posts.some((post) => post.key === subagentPostKey(doc.run.runId)),
      reveal: null,
      thread,
      doc,
      maxSeq,
      posts: new Map(),
      cards: new Map(),
      chain: Promise.resolve(),
      pending: 0,
      status: { dirty: false, queued: false, sleeping: null, lastSentAt: null, search: false },
    };
    this.lanes.set(lane.runId, lane);
    return lane;
  }

  /** A lane for a run read from the store (reconcile, processing), starting after its last event. */
  private async laneFromStore(runId: string): Promise<Lane | undefined> {
    let doc: RunDoc;
    try {
      doc = await this.harness.getRun(runId);
    } catch (error) {
      this.logger.warn({ runId, err: asBotError(error).toJSON() }, 'slack publisher: run not loadable');
      return undefined;
    }
    const existing = this.lanes.get(runId);
    if (existing !== undefined) {
      this.absorb(existing, doc);
      return existing;
    }
    const thread = doc.run.parentRunId === null ? this.threadNow(doc.run) : await this.rootThread(doc.run);
    if (thread === null || thread === undefined) return undefined;
    return this.newLane(doc, thread, lastSeq(doc));
  }

  /** Keeps the newest document and learns the posts it records. */
  private absorb(lane: Lane, doc: RunDoc): void {
    if (doc.trace.length >= lane.doc.trace.length) lane.doc = doc;
    for (const post of doc.run.posts) if (!lane.posts.has(post.key)) lane.posts.set(post.key, { channel: post.channel, ts: post.ts });
  }

  /** Queues `task` on the run's serial chain; the promise settles when it ran (never rejects). */
  private enqueue(lane: Lane, name: string, task: () => Promise<void>): Promise<void> {
    lane.pending += 1;
    const run = lane.chain.then(async () => {
      try {
        await task();
      } catch (error) {
        this.logger.error({ runId: lane.runId, task: name, err: asBotError(error).toJSON() }, `slack publisher: ${name} failed`);
      } finally {
        lane.pending -= 1;
        this.retireIfDone(lane);
      }
    });
    lane.chain = run;
    return run;
  }

  /** Forgets a finished run's lane once nothing is queued (its posts are in the store). */
  private retireIfDone(lane: Lane): void {
    const { status } = lane;
    if (lane.pending > 0 || status.dirty || status.queued || status.sleeping !== null || lane.reveal !== null) return;
    if (!TERMINAL_STATUSES.includes(lane.doc.run.status)) return;
    if (this.lanes.get(lane.runId) === lane) this.lanes.delete(lane.runId);
  }

  // ---- posting ----------------------------------------------------------------------------------

  private metadata(lane: Lane, key: string, gateId: string | undefined): MessageMetadata {
    return { event_type: HARNESS_POST_EVENT, event_payload: { runId: lane.runId, key, ...(gateId === undefined ? {} : { gateId }) } };
  }

  /**
   * Posts `spec` unless its key is known (or, with `search`, found by metadata and adopted).
   * Records the post durably right after it resolved; a failed record is logged (the in-memory
   * record still prevents a second post in this process).
   */
  private async post(lane: Lane, spec: PostSpec): Promise<PostOutcome> {
    const known = lane.posts.get(spec.key);
    if (known !== undefined) return { record: known, adopted: true };
    const { channel, threadTs } = lane.thread;
    const metadata = this.metadata(lane, spec.key, spec.gateId);
    if (spec.search) {
      const found = await this.port.findPostedMessage({ channel, threadTs, eventType: HARNESS_POST_EVENT, key: spec.key, runId: lane.runId });
      if (found !== null) {
        const record = { channel, ts: found.ts };
        lane.posts.set(spec.key, record);
        this.logger.info({ runId: lane.runId, key: spec.key, ts: found.ts }, 'slack publisher: adopted an unrecorded post');
        await this.record(lane, spec.kind, spec.key, record, spec.cardOf);
        return { record, adopted: true };
      }
    }
    let kind = spec.kind;
    let posted: { channel: string; ts: string };
    try {
      posted = await this.port.postMessage({ channel, threadTs, text: spec.message.text, blocks: spec.message.blocks, metadata });
    } catch (error) {
      if (!isBlocksError(error)) throw error;
      this.logger.warn(
        { runId: lane.runId, key: spec.key, err: asBotError(error).toJSON() },
        'slack publisher: blocks refused, posting plain text instead',
      );
      kind = `${spec.kind}_fallback`;
      posted = await this.port.postMessage({ channel, threadTs, text: spec.fallbackText, metadata });
    }
    const record = { channel: posted.channel, ts: posted.ts };
    lane.posts.set(spec.key, record);
    await this.record(lane, kind, spec.key, record, spec.cardOf);
    if (spec.cardOf !== null) this.fetchPermalink(spec.cardOf, record);
    return { record, adopted: false };
  }

  private async record(lane: Lane, kind: string, key: string, record: PostRecord, gateId: string | null): Promise<void> {
    try {
      await this.harness.committer.commit(lane.runId, [
        { event: 'slack_posted', detail: { kind, key, channel: record.channel, ts: record.ts, gateId } },
      ]);
    } catch (error) {
      this.logger.error({ runId: lane.runId, key, ts: record.ts, err: asBotError(error).toJSON() }, 'slack publisher: recording a post failed');
    }
  }

  /** `chat.update`; refused blocks fall back to plain text with the blocks (and buttons) removed. */
  private async update(target: PostRecord, message: SlackMessage, fallbackText: string): Promise<void> {
    try {
      await this.port.updateMessage({ channel: target.channel, ts: target.ts, text: message.text, blocks: message.blocks });
    } catch (error) {
      if (!isBlocksError(error)) throw error;
      this.logger.warn({ ts: target.ts, err: asBotError(error).toJSON() }, 'slack publisher: update blocks refused, using plain text');
      await this.port.updateMessage({ channel: target.channel, ts: target.ts, text: fallbackText, blocks: [] });
    }
  }

  private fetchPermalink(gateId: string, record: PostRecord): void {
    this.port.getPermalink(record).then(
      (link) => {
        if (link === null) return;
        this.permalinks.set(gateId, link);
        // Oldest first out: the audit log reads a permalink soon after the card went out.
        if (this.permalinks.size > PERMALINKS_KEPT) this.permalinks.delete(this.permalinks.keys().next().value ?? '');
      },
      (error: unknown) => this.logger.debug({ gateId, err: asBotError(error).toJSON() }, 'slack publisher: no permalink'),
    );
  }

  // ---- cards ------------------------------------------------------------------------------------

  private queueCard(lane: Lane, gateId: string, search: boolean): void {
    void this.enqueue(lane, 'card', () => this.syncCard(lane, gateId, search));
    this.wantHomeForGate(lane, gateId);
  }

  private cardFallback(lane: Lane, gate: Gate, message: SlackMessage | null, why: string): string {
    const head = message?.text ?? `Approval ${gate.status}: ${inlineCode(gate.tool, 80)}`;
    const hint =
      gate.status === 'pending' ? ` Decide in the bot's App Home tab, or with \`harness approve ${lane.runId}\` / \`harness reject ${lane.runId}\`.` : '';
    return `${head}. The full card could not be shown (${why}).${hint}`;
  }

  /** Makes the gate's card show the gate's persisted state: posts it, or updates it. */
  private async syncCard(lane: Lane, gateId: string, search: boolean): Promise<void> {
    const run = lane.doc.run;
    const gate = run.gates.find((g) => g.gateId === gateId);
    if (gate === undefined) return;
    const version = cardVersion(gate);
    if (lane.cards.get(gateId) === version) return;
    const key = `gate:${gateId}`;
    const existing = lane.posts.get(key);
    // A gate cancelled before its card went out was never shown; announcing it adds noise.
    if (existing === undefined && gate.status === 'cancelled' && !search) return;
    let message: SlackMessage | null = null;
    let why = 'invalid_blocks';
    try {
      message =
        gate.status === 'pending'
          ? renderApprovalCard({ run, gate, now: this.clock.now(), ...(this.runLinkBase === undefined ? {} : { permalinkBase: this.runLinkBase }) })
          : renderDecidedCard(run, gate);
    } catch (error) {
      why = asBotError(error).code;
      this.logger.error({ runId: lane.runId, gateId, err: asBotError(error).toJSON() }, 'slack publisher: card renderer failed');
    }
    const fallbackText = this.cardFallback(lane, gate, message, why);
    const shown = message ?? { text: fallbackText, blocks: [] };
    if (existing === undefined) {
      if (gate.status !== 'pending' && search) {
        // After a restart: adopt a card that exists; never post a fresh card for a decided gate.
        const found = await this.port.findPostedMessage({
          channel: lane.thread.channel,
          threadTs: lane.thread.threadTs,
          eventType: HARNESS_POST_EVENT,
          key,
          runId: lane.runId,
        });
        if (found === null) return;
        const record = { channel: lane.thread.channel, ts: found.ts };
        lane.posts.set(key, record);
        await this.record(lane, 'card', key, record, gateId);
        await this.update(record, shown, fallbackText);
      } else {
        const outcome = await this.post(lane, { key, kind: 'card', cardOf: gateId, gateId, message: shown, fallbackText, search });
        if (outcome.adopted) await this.update(outcome.record, shown, fallbackText);
      }
    } else {
      await this.update(existing, shown, fallbackText);
    }
    lane.cards.set(gateId, version);
  }

  private async remind(lane: Lane, gateId: string, search: boolean): Promise<void> {
    const gate = lane.doc.run.gates.find((g) => g.gateId === gateId);
    if (gate?.status !== 'pending') return;
    // Only valid Slack ids become mentions; any other entry is shown as escaped text.
    const approvers = gate.approvers.map(userMention).join(' ');
    const link = this.permalinks.get(gateId);
    const where = link !== undefined && /^https?:\/\/[^\s<>|]+$/.test(link) ? ` <${link}|Open the card>` : ' The card is above in this thread.';
    const text =
      `:alarm_clock: ${approvers === '' ? '' : `${approvers} `}Reminder: approval of ${inlineCode(gate.tool, 80)} ` +
      `for run ${inlineCode(lane.runId, 90)} expires ${slackDate(gate.expiresAt)}.${where}`;
    await this.post(lane, {
      key: `reminder:${gateId}`,
      kind: 'reminder',
      cardOf: null,
      gateId,
      message: { text, blocks: [] },
      fallbackText: text,
      search,
    });
  }

  // ---- outcomes and reactions -------------------------------------------------------------------

  /** The result (split over several keyed messages) or the failure, rendered from `doc` as committed. */
  private async postOutcome(lane: Lane, doc: RunDoc, event: TraceEvent, search: boolean): Promise<void> {
    if (event.event === 'run_completed') {
      const ordinal = doc.trace.filter((e) => e.event === 'run_completed' && e.seq <= event.seq).length;
      const base = ordinal <= 1 ? 'result' : `result#${ordinal}`;
      const messages = renderResult(doc);
      for (const [index, message] of messages.entries()) {
        const key = index === 0 ? base : `${base}:${index + 1}`;
        await this.post(lane, { key, kind: 'result', cardOf: null, message, fallbackText: message.text, search });
      }
      await this.react(lane, 'white_check_mark');
    } else {
      const message = renderFailure(doc);
      await this.post(lane, { key: 'failure', kind: 'failure', cardOf: null, message, fallbackText: message.text, search });
      await this.react(lane, event.event === 'run_cancelled' ? 'no_entry_sign' : 'x');
    }
    await this.port.removeReaction({ channel: lane.thread.channel, ts: lane.thread.threadTs, name: 'eyes' });
  }

  private async react(lane: Lane, name: string): Promise<void> {
    await this.port.addReaction({ channel: lane.thread.channel, ts: lane.thread.threadTs, name });
  }

  // ---- the status message -----------------------------------------------------------------------

  private markStatusDirty(lane: Lane): void {
    lane.status.dirty = true;
    this.scheduleStatus(lane);
  }

  private scheduleStatus(lane: Lane): void {
    const status = lane.status;
    if (!status.dirty || status.queued || status.sleeping !== null) return;
    const wait = status.lastSentAt === null ? 0 : status.lastSentAt + this.statusIntervalMs - this.clock.now();
    if (wait <= 0 || this.stopped) {
      status.queued = true;
      void this.enqueue(lane, 'status', () => this.flushStatus(lane));
      return;
    }
    const controller = new AbortController();
    status.sleeping = controller;
    this.clock.sleep(wait, controller.signal).then(
      () => {
        if (status.sleeping !== controller) return;
        status.sleeping = null;
        this.scheduleStatus(lane);
      },
      () => {
        // Aborted by stop(), which flushes itself.
        if (status.sleeping === controller) status.sleeping = null;
      },
    );
  }

  private async flushStatus(lane: Lane): Promise<void> {
    const status = lane.status;
    status.queued = false;
    if (!status.dirty) return;
    status.dirty = false;
    const doc = lane.doc;
    status.lastSentAt = this.clock.now();
    try {
      const key = lane.child ? subagentPostKey(lane.runId) : 'status';
      const message = lane.child
        ? renderSubagentStatus(doc, this.clock.now(), { canKill: true })
        : renderRunStatus(doc, this.clock.now(), { children: await this.children(doc), queue: this.harness.queuePosition(lane.runId) });
      const existing = lane.posts.get(key);
      if (existing === undefined) {
        const outcome = await this.post(lane, { key, kind: lane.child ? 'subagent' : 'status', cardOf: null, message, fallbackText: message.text, search: status.search });
        if (outcome.adopted) await this.port.updateMessage({ channel: outcome.record.channel, ts: outcome.record.ts, text: message.text, blocks: message.blocks });
      } else {
        await this.port.updateMessage({ channel: existing.channel, ts: existing.ts, text: message.text, blocks: message.blocks });
      }
    } catch (error) {
      // A lost status update is cosmetic: the next change (or the trailing update) retries it.
      this.logger.warn({ runId: lane.runId, slackError: slackCode(error), err: asBotError(error).toJSON() }, 'slack publisher: status update failed');
    } finally {
      status.search = false;
      this.scheduleStatus(lane);
    }
  }

  /** The run's sub-agents, depth first (a child, then its own), at most {@link STATUS_CHILDREN}. */
  private async children(doc: RunDoc): Promise<RunDoc[]> {
    const docs: RunDoc[] = [];
    const visit = async (ids: readonly string[]): Promise<void> => {
      for (const childId of ids) {
        if (docs.length >= STATUS_CHILDREN) return;
        let child: RunDoc;
        try {
          child = this.lanes.get(childId)?.doc ?? (await this.harness.getRun(childId));
        } catch {
          // A child that fails to load is counted by the renderer but not listed.
          continue;
        }
        docs.push(child);
        await visit(child.run.children);
      }
    };
    await visit(doc.run.children);
    return docs;
  }

  // ---- reconciliation ---------------------------------------------------------------------------

  private async reconcileRun(lane: Lane): Promise<void> {
    this.absorb(lane, await this.harness.getRun(lane.runId));
    const { doc } = lane;
    const run = doc.run;
    const statusKey = lane.child ? subagentPostKey(run.runId) : 'status';
    if (lane.child) {
      // A sub-agent's post is brought up to date if it exists or is due; outcomes are the parent's.
      if (lane.posts.has(statusKey) || run.status === 'waiting_approval' || run.status === 'needs_attention') {
        lane.visible = true;
        lane.status.search = !lane.posts.has(statusKey);
        this.markStatusDirty(lane);
      } else if (!TERMINAL_STATUSES.includes(run.status)) {
        lane.status.search = true;
        this.armReveal(lane);
      }
    } else if (!TERMINAL_STATUSES.includes(run.status) || lane.posts.has('status')) {
      lane.status.search = !lane.posts.has('status');
      this.markStatusDirty(lane);
    }
    for (const gate of run.gates) {
      if (gate.status === 'cancelled' && !lane.posts.has(`gate:${gate.gateId}`)) continue;
      await this.syncCard(lane, gate.gateId, true);
      if (gate.status === 'pending' && gate.remindedAt !== null) await this.remind(lane, gate.gateId, true);
    }
    const ending = [...doc.trace].reverse().find((e) => e.event === 'run_completed' || e.event === 'run_failed' || e.event === 'run_cancelled');
    if (!lane.child && TERMINAL_STATUSES.includes(run.status) && ending !== undefined) await this.postOutcome(lane, doc, ending, true);
  }

  // ---- App Home ---------------------------------------------------------------------------------

  private wantHomeForGate(lane: Lane, gateId: string): void {
    const gate = lane.doc.run.gates.find((g) => g.gateId === gateId);
    for (const approver of gate?.approvers ?? []) this.wantHome(approver);
  }

  private wantHome(userId: string): void {
    if (!this.homeRefresh || !HOME_USER_ID.test(userId)) return;
    void this.queueHome(userId);
  }

  /**
   * Queues one Home publish for `userId` on the shared Home queue; a user already waiting shares
   * that publish (it reads the store when it runs, after this call). Change-driven publishes for
   * one user are coalesced like status messages: at most one per `statusIntervalMs`, so a run's
   * burst of changes costs one `views.publish` and one store scan, not one per event. `immediate`
   * (the user just opened the tab) skips the wait. Never rejects.
   */
  private queueHome(userId: string, immediate = false): Promise<void> {
    const waiting = this.homeWanted.get(userId);
    if (waiting !== undefined) return waiting;
    const last = this.homeLastAt.get(userId);
    const wait = immediate || last === undefined ? 0 : Math.max(0, last + this.statusIntervalMs - this.clock.now());
    const due = wait > 0 ? this.clock.sleep(wait).catch(() => undefined) : Promise.resolve();
    const run = due.then(() => {
      const published = this.homeChain.then(async () => {
        this.homeWanted.delete(userId);
        this.homeLastAt.set(userId, this.clock.now());
        try {
          await publishAppHome({ harness: this.harness, port: this.port, userId, now: this.clock.now() });
        } catch (error) {
          this.logger.warn({ userId, err: asBotError(error).toJSON() }, 'slack publisher: App Home publish failed');
        }
      });
      this.homeChain = published;
      return published;
    });
    this.homeWanted.set(userId, run);
    return run;
  }
}
