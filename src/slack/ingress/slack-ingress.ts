/**
 * What the bot does with what Slack sends: messages become runs, clicks become decisions, modal
 * submissions become decisions with a reason or edited arguments. Transport-neutral: the Bolt
 * listeners in `register-listeners.ts` ack first and then call these methods; unit tests call them
 * directly with the fake Slack port.
 *
 * Rules (docs/architecture/slack-ingress.md §9, §12–§14):
 * - One handler per mention: channel mentions arrive as `app_mention`; `message` is used only for
 *   DMs and for replies in threads a run owns, and ignores channel messages that mention the bot.
 * - Dedupe: a redelivered event maps to the same run id (`ev_<event_id>`), which the store refuses
 *   to create twice; an in-memory TTL set of event ids skips the work earlier. A delivery whose
 *   first attempt failed before the run was persisted is processed again (never dropped).
 * - A run is created durably, then driven in the background: the listener returns at once.
 * - Authority: button values and `private_metadata` only name a gate; team and app ids are checked
 *   here, everything else (approvers, four-eyes, nonce, pending) by the harness against the store.
 *   Every refusal is an ephemeral message to the clicker plus an `approval_refused` trace event
 *   and audit entry; nothing else changes.
 */
import { authorizeDecision } from '../../approvals/authorize.ts';
import type { Actor, Harness } from '../../orchestrator/harness.ts';
import type { Clock } from '../../shared/clock.ts';
import {
  ApprovalAuthError,
  ApprovalConflictError,
  BudgetExceededError,
  type BotError,
  ErrorCode,
  InvalidStateError,
  NotFoundError,
  UsageError,
  asBotError,
} from '../../shared/errors.ts';
import { runIdFromExternal } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';
import { Router, helpText, type RouteDecision } from '../../routing/router.ts';
import { TERMINAL_STATUSES, type Gate, type RunDoc, type RunState } from '../../store/run-schema.ts';
import { ActionIds, CallbackIds, ModalInputs, decodeAgentAction, decodeGateAction, type GateActionValue } from '../blocks/action-ids.ts';
import { renderArgsModal, renderEditModal, renderRejectModal } from '../blocks/modals.ts';
import { escapeAndTruncate, inlineCode } from '../blocks/mrkdwn.ts';
import type { SlackPort } from '../port.ts';
import type { IdentityCheck } from './identity.ts';
import { mentionsBot, stripBotMention } from './message-text.ts';
import type { ThreadIndex } from './thread-index.ts';
import { ThreadQueue, type QueuedMessage } from './thread-queue.ts';
import { TtlSet } from './ttl-set.ts';
import type { IncomingClick, IncomingMessage, IncomingSubmission, IngressPublisher, ViewAck } from './types.ts';

/** What the ingress runs on. */
export interface SlackIngressDeps {
  harness: Harness;
  /** Replies, ephemerals and modals go through the Slack port. */
  slack: SlackPort;
  publisher: IngressPublisher;
  identity: IdentityCheck;
  threads: ThreadIndex;
  /** The bot's own user id (its mention is stripped from tasks). */
  botUserId: string;
  logger: Logger;
  clock: Clock;
  /** Remember delivery ids this long (default 1 h). */
  dedupeTtlMs?: number;
  /** Message → role (config `routing:`); defaults to the harness's roles and default role only. */
  router?: Router;
  /**
   * Merge window for follow-ups in one thread (config `routing.debounceMs`). Default 0: each
   * follow-up to an idle thread is handled before its handler returns.
   */
  debounceMs?: number;
}

/** Shown when a mention carries no task. */
export const EMPTY_TASK_HINT =
  'Mention me with a task, for example "write a short report on durable execution" or "summarise the incident notes".';

/** Error kinds whose message is meant for the person who clicked or wrote. */
function isUserFacing(error: unknown): error is BotError {
  return (
    error instanceof ApprovalAuthError ||
    error instanceof ApprovalConflictError ||
    error instanceof NotFoundError ||
    error instanceof InvalidStateError ||
    error instanceof UsageError
  );
}

function actorOf(userId: string): Actor {
  return { userId, source: 'slack' };
}

/** All approvers named anywhere in the policy (for actions that are not about one gate). */
function policyApprovers(harness: Harness): Set<string> {
  const approvers = harness.deps.policy.config.approvers;
  const all = new Set<string>(approvers.default);
  for (const list of Object.values(approvers.categories)) for (const user of list ?? []) all.add(user);
  for (const tool of Object.values(harness.deps.policy.config.tools)) for (const user of tool?.approvers ?? []) all.add(user);
  return all;
}

/** See the module comment. */
export class SlackIngress {
  private readonly events: TtlSet;
  private readonly triggers: TtlSet;
  /** Gates whose "processing…" card this process already asked for. */
  private readonly processing: TtlSet;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Deliveries whose handler has returned (whatever it decided, ignoring included). Operators read
   * it in a debugger; tests wait on it to know a delivery was fully handled before asserting that
   * it changed nothing.
   */
  readonly handled = { events: 0, clicks: 0, submissions: 0, followUps: 0 };
  readonly router: Router;
  /** Follow-ups waiting for their thread's run, or for the merge window (docs/architecture/routing.md). */
  readonly queue: ThreadQueue;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: SlackIngressDeps) {
    this.events = new TtlSet(deps.clock, deps.dedupeTtlMs);
    this.triggers = new TtlSet(deps.clock, deps.dedupeTtlMs);
    this.processing = new TtlSet(deps.clock, deps.dedupeTtlMs);
    const roles = deps.harness.deps.roles;
    this.router = deps.router ?? new Router({ roles: roles.list(), defaultRole: roles.defaultRole });
    this.queue = new ThreadQueue({
      clock: deps.clock,
      logger: deps.logger,
      debounceMs: deps.debounceMs ?? 0,
      activeRun: (channel, threadTs) => this.activeRun(channel, threadTs),
      flush: (channel, threadTs, pending) => this.flushFollowUps(channel, threadTs, pending),
      notifyWaiting: (channel, threadTs, run, waiting) => this.notifyWaiting(channel, threadTs, run, waiting),
    });
    // The thread index learns every new run (whoever created it); a thread's waiting follow-ups go
    // when its run ends (terminal commits of top-level Slack runs).
    this.unsubscribe = deps.harness.onCommit(({ doc, events }) => {
      if (events.some((event) => event.event === 'run_created')) deps.threads.observe(doc);
      const run = doc.run;
      if (run.parentRunId !== null || run.origin.kind !== 'slack' || !TERMINAL_STATUSES.includes(run.status)) return;
      this.queue.runEnded(run.origin.channel, run.origin.threadTs);
    });
  }

  /** Resolves once every background task started so far (drives, resumes, queued follow-ups) has settled. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0 || this.queue.waiting > 0) {
      await Promise.allSettled([...this.inFlight]);
      await this.queue.settled();
      if (this.inFlight.size === 0 && this.queue.waiting > 0) return;
    }
  }

  /**
   * Stops listening for run ends and closes the open merge windows (their messages to idle threads
   * become persisted runs). Call after the transport stopped and before the harness stops.
   */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.queue.close();
  }

  // ---------------------------------------------------------------- events

  /** An `app_mention`: a new task, or a follow-up when the thread belongs to a run. */
  async handleMention(message: IncomingMessage): Promise<void> {
    try {
      if (!this.acceptEvent(message)) return;
      await this.route(message);
    } finally {
      this.handled.events += 1;
    }
  }

  /**
   * A `message` event. DMs start tasks (or follow up in an owned DM thread); in channels only replies
   * in an owned thread count, and those that mention the bot are left to {@link handleMention}.
   */
  async handleMessage(message: IncomingMessage): Promise<void> {
    try {
      if (message.channelType !== 'im') {
        if (message.threadTs === undefined) return;
        if (mentionsBot(message.text, this.deps.botUserId)) return;
        if (this.deps.threads.ownerOf(message.channel, message.threadTs) === undefined) return;
      }
      if (!this.acceptEvent(message)) return;
      await this.route(message);
    } finally {
      this.handled.events += 1;
    }
  }

  /**
   * A new task goes through the router at once; a message in a thread a run owns goes to the
   * thread's queue, which hands it to {@link flushFollowUps} once the thread's run has ended.
   */
  private async route(message: IncomingMessage): Promise<void> {
    const text = stripBotMention(message.text, this.deps.botUserId);
    const threadTs = message.threadTs ?? message.ts;
    const owner = message.threadTs === undefined ? undefined : this.deps.threads.ownerOf(message.channel, message.threadTs);
    if (!(await this.checkInput(message, text, threadTs))) return;
    if (owner !== undefined) {
      // Remembered now: a redelivery must not queue the message twice.
      this.events.add(message.eventId);
      await this.queue.offer(message, text);
      return;
    }
    const decision = this.router.route({ text, channel: message.channel });
    if (decision.kind !== 'route') {
      this.events.add(message.eventId);
      await this.replyHelp(message.channel, threadTs, decision);
      return;
    }
    if (decision.task.length === 0) {
      this.events.add(message.eventId);
      await this.reply(message.channel, threadTs, EMPTY_TASK_HINT);
      return;
    }
    await this.startTask(message, decision.task, threadTs, decision.role);
  }

  private async replyHelp(channel: string, threadTs: string, decision: Exclude<RouteDecision, { kind: 'route' }>): Promise<void> {
    const text = helpText(decision, this.router.roles, this.deps.harness.deps.roles.defaultRole);
    await this.reply(channel, threadTs, `:grey_question: ${escapeAndTruncate(text, 3500)}`);
  }

  /** `app_home_opened` on the Home tab. */
  async handleHomeOpened(userId: string, tab: string | undefined): Promise<void> {
    if (tab !== undefined && tab !== 'home') return;
    await this.deps.publisher.publishAppHome(userId).catch((error: unknown) => this.logFailure('publishing the App Home failed', error));
  }

  private acceptEvent(message: IncomingMessage): boolean {
    const problem = this.deps.identity.check(message.teamId, message.appId);
    if (problem !== null) {
      this.deps.logger.warn({ eventId: message.eventId, teamId: message.teamId, appId: message.appId }, `event ignored: ${problem}`);
      return false;
    }
    if (message.user === '') return false;
    if (this.events.has(message.eventId)) {
      this.deps.logger.debug({ eventId: message.eventId, retryNum: message.retryNum }, 'duplicate event skipped');
      return false;
    }
    return true;
  }

  /** The thread's run while it is active (its follow-ups wait), else null. */
  private async activeRun(channel: string, threadTs: string): Promise<RunState | null> {
    const owner = this.deps.threads.ownerOf(channel, threadTs);
    if (owner === undefined) return null;
    try {
      const { run } = await this.deps.harness.getRun(owner.runId);
      return TERMINAL_STATUSES.includes(run.status) ? null : run;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  private async notifyWaiting(channel: string, threadTs: string, run: RunState, waiting: number): Promise<void> {
    const what = waiting === 1 ? 'your message' : 'your messages';
    await this.reply(
      channel,
      threadTs,
      `:inbox_tray: Got it. I will take ${what} up when the current task of this thread (run ${inlineCode(run.runId, 90)}, ` +
        `${run.status.replace('_', ' ')}) has finished; messages sent meanwhile are read together.`,
    );
  }

  /**
   * Starts one follow-up run from the head of a thread's waiting messages: the first message, plus
   * the following ones from the same person that name no role of their own and fit the input budget,
   * merged in order (one line each). The role is the one the first message names, else the
   * thread's. Returns how many messages were consumed (a refused role name consumes its message).
   */
  private async flushFollowUps(channel: string, threadTs: string, pending: readonly QueuedMessage[]): Promise<number> {
    const first = pending[0];
    if (first === undefined) return 0;
    const owner = this.deps.threads.ownerOf(channel, threadTs);
    let previous: RunDoc | undefined;
    if (owner !== undefined) {
      try {
        previous = await this.deps.harness.getRun(owner.runId);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    const threadRole = previous?.run.role;
    const decision = this.router.route({ text: first.text, channel, ...(threadRole === undefined ? {} : { threadRole }) });
    if (decision.kind !== 'route') {
      await this.replyHelp(channel, threadTs, decision);
      this.handled.followUps += 1;
      return 1;
    }
    const max = this.deps.harness.deps.budgets.maxInputChars;
    // Room for the previous task and result, which the harness appends to the request.
    const budget = previous === undefined ? max : Math.max(Math.floor(max / 2), max - 4500);
    const parts = [decision.task];
    let size = decision.task.length;
    let consumed = 1;
    for (const next of pending.slice(1)) {
      if (next.message.user !== first.message.user) break;
      const nextDecision = this.router.route({ text: next.text, channel, ...(threadRole === undefined ? {} : { threadRole }) });
      if (nextDecision.kind !== 'route' || nextDecision.source !== 'thread') break;
      if (size + 1 + next.text.length > budget) break;
      parts.push(next.text);
      size += 1 + next.text.length;
      consumed += 1;
    }
    const request = parts.filter((part) => part.length > 0).join('\n');
    this.handled.followUps += consumed;
    if (request.length === 0) {
      await this.reply(channel, threadTs, EMPTY_TASK_HINT);
      return consumed;
    }
    this.deps.logger.info({ channel, threadTs, merged: consumed, role: decision.role }, 'follow-up taken from the thread queue');
    // The harness adds the earlier request and result once, within budgets.followUpContextTokens.
    await this.startTask(first.message, request, threadTs, decision.role, previous?.run.runId);
    return consumed;
  }

  /** Refuses empty and oversized input with a thread reply (P18). True when the input may run. */
  private async checkInput(message: IncomingMessage, text: string, threadTs: string): Promise<boolean> {
    const max = this.deps.harness.deps.budgets.maxInputChars;
    if (text.length === 0) {
      this.events.add(message.eventId);
      await this.reply(message.channel, threadTs, EMPTY_TASK_HINT);
      return false;
    }
    if (text.length > max) {
      this.events.add(message.eventId);
      this.deps.logger.info({ eventId: message.eventId, chars: text.length, max }, 'oversized input refused');
      await this.reply(
        message.channel,
        threadTs,
        `:no_entry_sign: That message has ${text.length.toLocaleString('en-US')} characters; the limit is ${max.toLocaleString('en-US')}. Please shorten it (nothing was started).`,
      );
      return false;
    }
    return true;
  }

  /** Creates the run durably (id from the event id), then drives it in the background. */
  private async startTask(message: IncomingMessage, text: string, threadTs: string, role?: string, previousRunId?: string): Promise<void> {
    const runId = runIdFromExternal('ev', message.eventId);
    try {
      const input = {
        task: text,
        ...(role === undefined ? {} : { role }),
        requestedBy: { userId: message.user, source: 'slack' as const },
        origin: { kind: 'slack' as const, teamId: message.teamId ?? this.deps.identity.teamId, channel: message.channel, threadTs, eventId: message.eventId },
        runId,
      };
      // The commit listener above records the new run in the thread index.
      if (previousRunId === undefined) await this.deps.harness.createRun(input);
      else await this.deps.harness.createFollowUp({ ...input, previousRunId });
    } catch (error) {
      if (error instanceof InvalidStateError) {
        // The durable dedupe: this event's run exists already (a redelivery, or two handlers).
        this.events.add(message.eventId);
        this.deps.logger.debug({ eventId: message.eventId, runId, retryNum: message.retryNum }, 'redelivered event: run exists');
        return;
      }
      if (error instanceof UsageError || error instanceof BudgetExceededError) {
        // Refused on purpose (unknown role, per-user active-run cap, daily budget): say why, once.
        this.events.add(message.eventId);
        await this.reply(message.channel, threadTs, `:no_entry_sign: ${escapeAndTruncate(error.message, 2000)}`);
        return;
      }
      // Not persisted: a retry of this event must be allowed to try again, so it is not remembered.
      this.logFailure('creating a run from Slack failed', error, { eventId: message.eventId });
      await this.reply(message.channel, threadTs, `:warning: I could not start this task (${asBotError(error).code}). Please try again.`);
      return;
    }
    this.events.add(message.eventId);
    this.deps.logger.info({ runId, eventId: message.eventId, channel: message.channel, retryNum: message.retryNum }, 'run created from Slack');
    this.drive(runId);
  }

  // ---------------------------------------------------------------- actions

  /**
   * A button click, after `ack()`. Dedupes by trigger id, checks team and app, then dispatches on
   * the action id. Never throws: failures end as an ephemeral message and a log line.
   */
  async handleClick(click: IncomingClick): Promise<void> {
    try {
      await this.click(click);
    } finally {
      this.handled.clicks += 1;
    }
  }

  private async click(click: IncomingClick): Promise<void> {
    if (!this.triggers.claim(click.triggerId)) {
      this.deps.logger.debug({ actionId: click.actionId }, 'duplicate click skipped');
      return;
    }
    try {
      if (click.actionId === ActionIds.agentKill) {
        await this.killAgent(click);
        return;
      }
      const ref = decodeGateAction(click.value);
      if (ref === null) {
        this.deps.logger.warn({ actionId: click.actionId, userId: click.userId }, 'click with an undecodable gate value refused');
        await this.notify(click, ':no_entry_sign: This button does not name an approval request I know; nothing was changed.');
        return;
      }
      if (!(await this.transportAllows(click, ref, click))) return;
      switch (click.actionId) {
        case ActionIds.approve:
          await this.approve(click, ref);
          return;
        case ActionIds.reject:
        case ActionIds.edit:
          await this.openDecisionModal(click, ref);
          return;
        case ActionIds.viewArgs:
          await this.openArgsModal(click, ref);
          return;
        case ActionIds.requestAgain:
          await this.requestAgain(click, ref);
          return;
        default:
          this.deps.logger.warn({ actionId: click.actionId }, 'unknown action ignored');
      }
    } catch (error) {
      await this.refuse(click, error);
    }
  }

  /**
   * Team/app check. On a mismatch: `approval_refused` + audit on the named gate, an ephemeral to
   * the clicker when `click` is given (a modal shows the refusal in the form instead), and false.
   */
  private async transportAllows(
    who: { userId: string; teamId: string | undefined; appId: string | undefined },
    ref: GateActionValue,
    click?: IncomingClick,
  ): Promise<boolean> {
    const problem = this.deps.identity.check(who.teamId, who.appId);
    if (problem === null) return true;
    this.deps.logger.warn({ runId: ref.runId, gateId: ref.gateId, userId: who.userId, teamId: who.teamId, appId: who.appId }, `refused: ${problem}`);
    await this.deps.harness.recordRefusal(ref.runId, ref.gateId, actorOf(who.userId), problem).catch((error: unknown) => {
      this.logFailure('recording a transport refusal failed', error, { runId: ref.runId });
    });
    if (click !== undefined) await this.notify(click, `:no_entry_sign: Not allowed: ${escapeAndTruncate(problem, 500)}. Nothing was changed.`);
    return false;
  }

  private async approve(click: IncomingClick, ref: GateActionValue): Promise<void> {
    const actor = actorOf(click.userId);
    await this.showProcessingIfDecidable(ref, click.userId);
    await this.deps.harness.decideGate({ runId: ref.runId, gateId: ref.gateId, nonce: ref.nonce, actor, decision: 'approve' });
    this.deps.logger.info({ runId: ref.runId, gateId: ref.gateId, userId: click.userId }, 'gate approved from Slack');
    this.drive(ref.runId);
  }

  /**
   * Shows the card as "processing…" while the decision is being made, but only when the store says
   * this user could decide the gate now (so an unauthorised click never touches the card) and only
   * for the first such click per gate (so ten racing clicks cause one). The decision itself is
   * judged afterwards by the harness; the publisher's queue puts the decided card (or the restored
   * buttons after a refusal) after this update. Not awaited: the publisher never rejects, and the
   * decision must not wait for Slack.
   */
  private async showProcessingIfDecidable(ref: GateActionValue, userId: string): Promise<void> {
    const doc = await this.deps.harness.getRun(ref.runId);
    const gate = doc.run.gates.find((g) => g.gateId === ref.gateId);
    if (gate === undefined || gate.status !== 'pending' || doc.run.status !== 'waiting_approval') return;
    if (this.deps.clock.now() >= gate.expiresAt || authorizeDecision(gate, userId, ref.nonce) !== null) return;
    if (!this.processing.claim(`${ref.runId}:${ref.gateId}`)) return;
    void this.deps.publisher.showProcessing(ref.runId, ref.gateId, userId).catch((error: unknown) => {
      this.logFailure('showing the processing card failed', error, { runId: ref.runId });
    });
  }

  /**
   * The gate as persisted, checked the way a decision would be, before a modal is opened for it
   * (so a non-approver never gets a form). Refusals are recorded like a refused decision.
   */
  private async decidableGate(click: IncomingClick, ref: GateActionValue): Promise<{ doc: RunDoc; gate: Gate } | null> {
    const doc = await this.deps.harness.getRun(ref.runId);
    const gate = doc.run.gates.find((g) => g.gateId === ref.gateId);
    const refusal = (() => {
      if (gate === undefined) return `gate ${ref.gateId} not found on run ${ref.runId}`;
      if (gate.status !== 'pending') return `already ${gate.status}${gate.decidedBy === null ? '' : ` by ${gate.decidedBy}`}`;
      if (doc.run.status !== 'waiting_approval') return `run ${doc.run.runId} is ${doc.run.status}, not waiting for approval`;
      if (this.deps.clock.now() >= gate.expiresAt) return `gate ${gate.gateId} expired; use "Request again"`;
      return authorizeDecision(gate, click.userId, ref.nonce);
    })();
    if (refusal === null && gate !== undefined) return { doc, gate };
    await this.deps.harness.recordRefusal(ref.runId, ref.gateId, actorOf(click.userId), refusal ?? 'refused');
    await this.notify(click, `:no_entry_sign: Not done: ${escapeAndTruncate(refusal ?? 'refused', 500)}.`);
    return null;
  }

  private async openDecisionModal(click: IncomingClick, ref: GateActionValue): Promise<void> {
    const found = await this.decidableGate(click, ref);
    if (found === null) return;
    const view = click.actionId === ActionIds.reject ? renderRejectModal(found.gate) : renderEditModal(found.gate);
    await this.deps.slack.openView({ triggerId: click.triggerId, view: view as unknown as Record<string, unknown> });
  }

  private async openArgsModal(click: IncomingClick, ref: GateActionValue): Promise<void> {
    const doc = await this.deps.harness.getRun(ref.runId);
    const gate = doc.run.gates.find((g) => g.gateId === ref.gateId);
    if (gate === undefined) throw new NotFoundError(ErrorCode.GateNotFound, `gate ${ref.gateId} not found on run ${ref.runId}`);
    await this.deps.slack.openView({ triggerId: click.triggerId, view: renderArgsModal(gate) as unknown as Record<string, unknown> });
  }

  /** "Request again" on an expired card: the requester or one of the gate's approvers may ask. */
  private async requestAgain(click: IncomingClick, ref: GateActionValue): Promise<void> {
    const doc = await this.deps.harness.getRun(ref.runId);
    const gate = doc.run.gates.find((g) => g.gateId === ref.gateId);
    const allowed = doc.run.requestedBy.userId === click.userId || (gate?.approvers.includes(click.userId) ?? false);
    if (!allowed) {
      const reason = 'only the requester or an approver of this request can ask again';
      await this.deps.harness.recordRefusal(ref.runId, ref.gateId, actorOf(click.userId), reason);
      await this.notify(click, `:no_entry_sign: Not done: ${reason}.`);
      return;
    }
    this.background(async () => {
      try {
        await this.deps.harness.resume(ref.runId, actorOf(click.userId));
      } catch (error) {
        await this.refuse(click, error);
      }
    });
  }

  /** Kill a (sub-agent) run: the requester of its root run, or any approver named in the policy. */
  private async killAgent(click: IncomingClick): Promise<void> {
    const ref = decodeAgentAction(click.value);
    if (ref === null) {
      await this.notify(click, ':no_entry_sign: This button does not name a run I know; nothing was changed.');
      return;
    }
    const problem = this.deps.identity.check(click.teamId, click.appId);
    if (problem !== null) {
      this.deps.logger.warn({ runId: ref.runId, userId: click.userId }, `kill refused: ${problem}`);
      await this.notify(click, `:no_entry_sign: Not allowed: ${escapeAndTruncate(problem, 500)}. Nothing was changed.`);
      return;
    }
    const doc = await this.deps.harness.getRun(ref.runId);
    const root = doc.run.rootRunId === doc.run.runId ? doc : await this.deps.harness.getRun(doc.run.rootRunId);
    const allowed = root.run.requestedBy.userId === click.userId || policyApprovers(this.deps.harness).has(click.userId);
    if (!allowed) {
      this.deps.logger.warn({ runId: ref.runId, userId: click.userId }, 'kill refused: not the requester or an approver');
      await this.notify(click, ':no_entry_sign: Not done: only the requester of the task or an approver can stop it.');
      return;
    }
    await this.deps.harness.cancel(ref.runId, actorOf(click.userId), `stopped from Slack by ${click.userId}`);
    this.deps.logger.info({ runId: ref.runId, userId: click.userId }, 'run cancelled from Slack');
  }

  // ---------------------------------------------------------------- views

  /**
   * A submitted reject or edit modal. Returns what to ack with: field errors keep the modal open
   * (empty reason, invalid JSON, arguments the tool or policy refuses, a refused decision); success
   * closes it. The decision is committed before the ack (a local durable write, well within 3 s),
   * so the person sees a refusal in the form itself.
   */
  async handleSubmission(submission: IncomingSubmission): Promise<ViewAck> {
    try {
      return await this.submit(submission);
    } finally {
      this.handled.submissions += 1;
    }
  }

  private async submit(submission: IncomingSubmission): Promise<ViewAck> {
    const field = submission.callbackId === CallbackIds.rejectModal ? ModalInputs.rejectReason : ModalInputs.editArgs;
    const errors = (message: string): ViewAck => ({ response_action: 'errors', errors: { [field.blockId]: escapeAndTruncate(message, 1900) } });
    if (submission.callbackId !== CallbackIds.rejectModal && submission.callbackId !== CallbackIds.editModal) return undefined;
    const ref = decodeGateAction(submission.privateMetadata);
    if (ref === null) return errors('This form no longer names an approval request; close it and use the card.');
    if (!(await this.transportAllows(submission, ref))) return errors('This request came from another workspace or app; nothing was changed.');
    const raw = submission.values[field.blockId]?.[field.actionId]?.value ?? '';
    const actor = actorOf(submission.userId);
    try {
      if (submission.callbackId === CallbackIds.rejectModal) {
        const reason = raw.trim();
        if (reason.length === 0) return errors('A reason is required: the agent reads it.');
        await this.deps.harness.decideGate({ runId: ref.runId, gateId: ref.gateId, nonce: ref.nonce, actor, decision: 'reject', reason });
        this.deps.logger.info({ runId: ref.runId, gateId: ref.gateId, userId: submission.userId }, 'gate rejected from Slack');
        this.drive(ref.runId);
        return undefined;
      }
      let editedArgs: unknown;
      try {
        editedArgs = JSON.parse(raw);
      } catch (error) {
        return errors(`Not valid JSON: ${(error as Error).message}`);
      }
      // No "processing…" card here: an edit the tool or policy refuses aborts the commit without a
      // refusal event, which would leave the card stuck in that state.
      await this.deps.harness.decideGate({ runId: ref.runId, gateId: ref.gateId, nonce: ref.nonce, actor, decision: 'approve', editedArgs });
      this.deps.logger.info({ runId: ref.runId, gateId: ref.gateId, userId: submission.userId }, 'gate approved with edited arguments from Slack');
      this.drive(ref.runId);
      return undefined;
    } catch (error) {
      if (isUserFacing(error)) return errors(error.message);
      this.logFailure('a modal decision failed', error, { runId: ref.runId });
      return errors(`Something went wrong (${asBotError(error).code}); nothing was changed.`);
    }
  }

  // ---------------------------------------------------------------- helpers

  private drive(runId: string): void {
    this.background(async () => {
      try {
        await this.deps.harness.runner.drive(runId);
      } catch (error) {
        this.logFailure('driving a run failed', error, { runId });
      }
    });
  }

  private background(task: () => Promise<void>): void {
    const promise = task().finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  /** Turns an error from a click into the clicker's ephemeral. */
  private async refuse(click: IncomingClick, error: unknown): Promise<void> {
    if (isUserFacing(error)) {
      this.deps.logger.info({ actionId: click.actionId, userId: click.userId, code: error.code }, `click refused: ${error.message}`);
      await this.notify(click, `:no_entry_sign: Not done: ${escapeAndTruncate(error.message, 1000)}.`);
      return;
    }
    this.logFailure('handling a click failed', error, { actionId: click.actionId });
    await this.notify(click, `:warning: Something went wrong (${asBotError(error).code}); nothing was changed.`);
  }

  /** An ephemeral to the clicker where they clicked; a DM when the button was not on a message. */
  private async notify(click: IncomingClick, text: string): Promise<void> {
    try {
      if (click.channel !== undefined) {
        await this.deps.slack.postEphemeral({
          channel: click.channel,
          user: click.userId,
          ...(click.threadTs === undefined ? {} : { threadTs: click.threadTs }),
          text,
        });
      } else {
        await this.deps.slack.postMessage({ channel: click.userId, text });
      }
    } catch (error) {
      this.logFailure('telling the clicker failed', error, { userId: click.userId });
    }
  }

  private async reply(channel: string, threadTs: string, text: string): Promise<void> {
    try {
      await this.deps.slack.postMessage({ channel, threadTs, text });
    } catch (error) {
      this.logFailure('a thread reply failed', error, { channel });
    }
  }

  private logFailure(what: string, error: unknown, fields: Record<string, unknown> = {}): void {
    this.deps.logger.error({ ...fields, err: asBotError(error).toJSON() }, what);
  }
}
