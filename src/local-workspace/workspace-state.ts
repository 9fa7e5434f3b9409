/**
 * The in-memory model of the local Slack workspace: one team, one app with its bot user, seeded
 * people and channels, messages (threads, reactions, edits, metadata), per-user ephemerals,
 * modals, App Home views and assistant thread statuses.
 *
 * It is the single source of truth for both the Web API handlers and the (future) browser UI:
 * every mutation goes through a method here and emits one {@link WorkspaceChange} with a
 * monotonically increasing `seq`, so a UI can stream changes (SSE) and resume after a reconnect
 * via {@link WorkspaceState.changesSince}. Getters return copies: callers cannot mutate state
 * behind the change feed's back.
 *
 * Errors are Slack's error codes (`channel_not_found`, `message_not_found`, …) carried by
 * {@link WorkspaceError}, so the Web API layer can answer `{ok:false, error}` verbatim.
 */
import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../shared/clock.ts';
import { SlackApiError } from '../shared/errors.ts';
import { LocalIds, TsClock, newViewId } from './slack-ids.ts';

/** What a seeded person is for in the harness scenarios. */
export type UserRole = 'requester' | 'approver' | 'pm' | 'viewer' | 'bot';

/** A person (or the bot user) in the workspace. */
export interface WorkspaceUser {
  id: string;
  /** The handle (`@name`). */
  name: string;
  realName: string;
  role: UserRole;
  isBot: boolean;
  botId?: string;
}

/** A public channel or a direct-message conversation with one user. */
export interface WorkspaceChannel {
  id: string;
  name: string;
  kind: 'channel' | 'im';
  members: string[];
  /** For `kind: 'im'`: the human on the other side of the bot. */
  imUser?: string;
}

/** One emoji reaction on a message. */
export interface Reaction {
  name: string;
  users: string[];
}

/** Slack message metadata (`chat.postMessage` `metadata`). */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** A stored channel message. `threadTs` is set only on replies (a root has none). */
export interface StoredMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  botId?: string;
  text: string;
  blocks?: unknown[];
  metadata?: MessageMetadata;
  reactions: Reaction[];
  edited?: { user: string; ts: string };
  clientMsgId?: string;
}

/** A message only one user can see; it lives until replaced or deleted via its response_url. */
export interface EphemeralMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  /** The only user who sees it. */
  user: string;
  botId: string;
  text: string;
  blocks?: unknown[];
}

/** The view JSON an app sends (`views.open` / `views.update` / `views.publish`). */
export interface ViewDefinition {
  type: 'modal' | 'home';
  blocks: unknown[];
  title?: { type: 'plain_text'; text: string; emoji?: boolean };
  submit?: { type: 'plain_text'; text: string; emoji?: boolean };
  close?: { type: 'plain_text'; text: string; emoji?: boolean };
  callback_id?: string;
  private_metadata?: string;
  external_id?: string;
  clear_on_close?: boolean;
  notify_on_close?: boolean;
  submit_disabled?: boolean;
}

/** A modal or App Home view as the workspace holds it. */
export interface StoredView {
  id: string;
  userId: string;
  definition: ViewDefinition;
  hash: string;
  /** `state.values` as last submitted (blockId → actionId → value object). */
  stateValues: Record<string, Record<string, unknown>>;
  rootViewId: string;
  previousViewId: string | null;
  /** Modals close on submit or cancel; a home view stays open. */
  open: boolean;
  /** Field errors returned by the app with `response_action: 'errors'`. */
  errors?: Record<string, string>;
}

/** An `assistant.threads.setStatus` status; an empty `status` means cleared. */
export interface ThreadStatus {
  channel: string;
  threadTs: string;
  status: string;
  loadingMessages?: string[];
  setAt: number;
}

/** One change to the workspace, as streamed to a UI. */
export type WorkspaceChangeBody =
  | { type: 'message_posted'; message: StoredMessage }
  | { type: 'message_changed'; message: StoredMessage; previous: StoredMessage }
  | { type: 'message_deleted'; message: StoredMessage }
  | { type: 'reactions_changed'; channel: string; ts: string; reactions: Reaction[] }
  | { type: 'ephemeral_posted'; ephemeral: EphemeralMessage }
  | { type: 'ephemeral_changed'; ephemeral: EphemeralMessage }
  | { type: 'ephemeral_deleted'; ephemeral: EphemeralMessage }
  | { type: 'view_opened'; view: StoredView }
  | { type: 'view_updated'; view: StoredView }
  | { type: 'view_closed'; view: StoredView }
  | { type: 'home_published'; view: StoredView }
  | { type: 'thread_status'; status: ThreadStatus }
  | { type: 'app_error'; error: AppError };

/**
 * A Web API call of the app that Slack refused for its content (`invalid_blocks`, `no_text`, …).
 * Slack's own clients show nothing; the local UI shows it where the message would have appeared,
 * so a renderer bug is visible instead of a silently missing card.
 */
export interface AppError {
  method: string;
  /** Slack's error code, e.g. `invalid_blocks`. */
  error: string;
  /** Slack's `[ERROR] … [json-pointer:…]` lines, if any. */
  messages: string[];
  /** Where the message was going, when the call named it (a channel id as the app sent it). */
  channel?: string;
  threadTs?: string;
  /** For `chat.update`: the message that stayed unchanged. */
  ts?: string;
  /** For `chat.postEphemeral` and `views.*`: the user who would have seen it. */
  user?: string;
}

/** A change with its position in the feed. */
export type WorkspaceChange = WorkspaceChangeBody & { seq: number; at: number };

/** A whole-workspace snapshot (what a UI loads before it follows the change feed). */
export interface WorkspaceSnapshot {
  seq: number;
  team: { id: string; domain: string; name: string };
  appId: string;
  bot: { userId: string; botId: string; name: string };
  users: WorkspaceUser[];
  channels: WorkspaceChannel[];
  messages: StoredMessage[];
  ephemerals: EphemeralMessage[];
  views: StoredView[];
  statuses: ThreadStatus[];
  /** The most recent refused app calls (at most {@link APP_ERROR_BUFFER}), oldest first. */
  appErrors: AppError[];
}

/**
 * A Slack error code raised by a state operation; the Web API layer answers it verbatim as
 * `{ok:false, error: slackError}`. Not retryable: the request itself is wrong.
 */
export class WorkspaceError extends SlackApiError {
  constructor(
    readonly slackError: string,
    message?: string,
  ) {
    super(message ?? slackError, { details: { slackError } });
  }
}

/** The people every local workspace starts with (issue B). */
export const SEEDED_USERS: readonly WorkspaceUser[] = [
  { id: LocalIds.botUserId, name: LocalIds.botName, realName: 'Harness', role: 'bot', isBot: true, botId: LocalIds.botId },
  { id: 'U_REQUESTER', name: 'riley', realName: 'Riley', role: 'requester', isBot: false },
  { id: 'U_APPROVER1', name: 'avery', realName: 'Avery', role: 'approver', isBot: false },
  { id: 'U_APPROVER2', name: 'sam', realName: 'Sam', role: 'approver', isBot: false },
  { id: 'U_PM', name: 'pat', realName: 'Pat', role: 'pm', isBot: false },
  { id: 'U_VIEWER', name: 'vic', realName: 'Vic', role: 'viewer', isBot: false },
];

/** The channels every local workspace starts with; everyone (bot included) is a member. */
export const SEEDED_CHANNELS: readonly { id: string; name: string }[] = [
  { id: 'C_GENERAL', name: 'general' },
  { id: 'C_OPS', name: 'ops' },
];

const CHANGE_BUFFER = 1000;
/** How many refused app calls a snapshot keeps. */
export const APP_ERROR_BUFFER = 50;

const clone = <T>(value: T): T => structuredClone(value);

/** Options for {@link WorkspaceState}. */
export interface WorkspaceStateOptions {
  clock?: Clock;
}

/** The workspace model. Single-threaded by construction (Node), so no locking is needed. */
export class WorkspaceState {
  readonly team = { id: LocalIds.teamId, domain: LocalIds.teamDomain, name: LocalIds.teamName } as const;
  readonly appId: string = LocalIds.appId;
  readonly bot = { userId: LocalIds.botUserId, botId: LocalIds.botId, name: LocalIds.botName } as const;
  readonly clock: Clock;

  private readonly ts: TsClock;
  private readonly emitter = new EventEmitter();
  private readonly users = new Map<string, WorkspaceUser>();
  private readonly channels = new Map<string, WorkspaceChannel>();
  /** channel → messages in ts order (ts is monotonic, so append keeps the order). */
  private readonly messages = new Map<string, StoredMessage[]>();
  private ephemerals: EphemeralMessage[] = [];
  private readonly views = new Map<string, StoredView>();
  private readonly homeViews = new Map<string, string>();
  private readonly statuses = new Map<string, ThreadStatus>();
  private readonly recent: WorkspaceChange[] = [];
  private readonly appErrors: AppError[] = [];
  private seq = 0;
  private hashCounter = 0;

  constructor(options: WorkspaceStateOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.ts = new TsClock(this.clock);
    // Many SSE clients may subscribe; the default cap of 10 would warn on stderr.
    this.emitter.setMaxListeners(0);
    for (const user of SEEDED_USERS) this.users.set(user.id, clone(user));
    const everyone = SEEDED_USERS.map((u) => u.id);
    for (const channel of SEEDED_CHANNELS) {
      this.channels.set(channel.id, { id: channel.id, name: channel.name, kind: 'channel', members: [...everyone] });
      this.messages.set(channel.id, []);
    }
  }

  // ---- change feed ----------------------------------------------------------------------------

  /** Subscribes to changes; returns the unsubscribe function. Listeners must not throw. */
  onChange(listener: (change: WorkspaceChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  /** The sequence number of the latest change (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Changes after `seq`, oldest first, or `undefined` when some were already dropped from the
   * bounded buffer (the caller should reload a {@link snapshot}).
   */
  changesSince(seq: number): WorkspaceChange[] | undefined {
    const first = this.recent[0];
    if (first !== undefined && first.seq > seq + 1) return undefined;
    if (first === undefined && seq < this.seq) return undefined;
    return clone(this.recent.filter((c) => c.seq > seq));
  }

  private emit(body: WorkspaceChangeBody): void {
    this.seq += 1;
    const change = { ...clone(body), seq: this.seq, at: this.clock.now() } as WorkspaceChange;
    this.recent.push(change);
    if (this.recent.length > CHANGE_BUFFER) this.recent.shift();
    this.emitter.emit('change', clone(change));
  }

  /** Everything, for a UI's first paint. */
  snapshot(): WorkspaceSnapshot {
    return clone({
      seq: this.seq,
      team: this.team,
      appId: this.appId,
      bot: this.bot,
      users: [...this.users.values()],
      channels: [...this.channels.values()],
      messages: [...this.messages.values()].flat(),
      ephemerals: this.ephemerals,
      views: [...this.views.values()],
      statuses: [...this.statuses.values()],
      appErrors: this.appErrors,
    });
  }

  /** The next message timestamp (strictly increasing). */
  nextTs(): string {
    return this.ts.next();
  }

  // ---- people and channels --------------------------------------------------------------------

  /** A user by id, or `undefined`. */
  getUser(id: string): WorkspaceUser | undefined {
    const user = this.users.get(id);
    return user === undefined ? undefined : clone(user);
  }

  /** A user by id. @throws WorkspaceError `user_not_found`. */
  requireUser(id: string): WorkspaceUser {
    const user = this.getUser(id);
    if (user === undefined) throw new WorkspaceError('user_not_found', `no user ${id}`);
    return user;
  }

  /** All users, bot included, in seeding order. */
  listUsers(): WorkspaceUser[] {
    return clone([...this.users.values()]);
  }

  /** All channels and DMs. */
  listChannels(): WorkspaceChannel[] {
    return clone([...this.channels.values()]);
  }

  /**
   * Resolves what a Web API `channel` argument may name: a channel id, `#name`/`name`, a DM id,
   * or a user id (Slack opens the bot's DM with that user).
   * @throws WorkspaceError `channel_not_found`.
   */
  resolveChannel(ref: string): WorkspaceChannel {
    const byId = this.channels.get(ref);
    if (byId !== undefined) return clone(byId);
    const name = ref.startsWith('#') ? ref.slice(1) : ref;
    for (const channel of this.channels.values()) {
      if (channel.kind === 'channel' && channel.name === name) return clone(channel);
    }
    const user = this.users.get(ref);
    if (user !== undefined && !user.isBot) return this.ensureIm(user.id);
    throw new WorkspaceError('channel_not_found', `no channel ${ref}`);
  }

  /** The bot's DM with `userId`, created on first use. @throws WorkspaceError `user_not_found`. */
  ensureIm(userId: string): WorkspaceChannel {
    const user = this.requireUser(userId);
    const id = `D_${user.id.replace(/^U_?/, '')}`;
    let channel = this.channels.get(id);
    if (channel === undefined) {
      channel = { id, name: user.name, kind: 'im', members: [this.bot.userId, user.id], imUser: user.id };
      this.channels.set(id, channel);
      this.messages.set(id, []);
    }
    return clone(channel);
  }

  /** True when `userId` is a member of `channelId`. */
  isMember(channelId: string, userId: string): boolean {
    return this.channels.get(channelId)?.members.includes(userId) ?? false;
  }

  // ---- messages -------------------------------------------------------------------------------

  private list(channel: string): StoredMessage[] {
    const list = this.messages.get(channel);
    if (list === undefined) throw new WorkspaceError('channel_not_found', `no channel ${channel}`);
    return list;
  }

  private find(channel: string, ts: string): StoredMessage {
    const message = this.list(channel).find((m) => m.ts === ts);
    if (message === undefined) throw new WorkspaceError('message_not_found', `no message ${ts} in ${channel}`);
    return message;
  }

  /**
   * Appends a message. A `threadTs` naming a reply is normalised to that reply's root, as Slack
   * does. @throws WorkspaceError `channel_not_found`, `thread_not_found` (no such parent).
   */
  postMessage(input: {
    channel: string;
    user: string;
    botId?: string;
    text: string;
    blocks?: unknown[];
    threadTs?: string;
    metadata?: MessageMetadata;
    clientMsgId?: string;
  }): StoredMessage {
    const list = this.list(input.channel);
    let threadTs: string | undefined;
    if (input.threadTs !== undefined) {
      const parent = list.find((m) => m.ts === input.threadTs);
      if (parent === undefined) throw new WorkspaceError('thread_not_found', `no message ${input.threadTs} in ${input.channel}`);
      threadTs = parent.threadTs ?? parent.ts;
    }
    const message: StoredMessage = {
      channel: input.channel,
      ts: this.nextTs(),
      ...(threadTs !== undefined ? { threadTs } : {}),
      user: input.user,
      ...(input.botId !== undefined ? { botId: input.botId } : {}),
      text: input.text,
      ...(input.blocks !== undefined ? { blocks: clone(input.blocks) } : {}),
      ...(input.metadata !== undefined ? { metadata: clone(input.metadata) } : {}),
      reactions: [],
      ...(input.clientMsgId !== undefined ? { clientMsgId: input.clientMsgId } : {}),
    };
    list.push(message);
    this.emit({ type: 'message_posted', message });
    // Slack clears an assistant thread status when the app replies in that thread.
    if (input.botId === this.bot.botId && threadTs !== undefined) {
      const status = this.statuses.get(`${input.channel}:${threadTs}`);
      if (status !== undefined && status.status !== '') this.setThreadStatus(input.channel, threadTs, '', undefined);
    }
    return clone(message);
  }

  /** A message, or `undefined`. @throws WorkspaceError `channel_not_found`. */
  getMessage(channel: string, ts: string): StoredMessage | undefined {
    const message = this.list(channel).find((m) => m.ts === ts);
    return message === undefined ? undefined : clone(message);
  }

  /**
   * Changes a message in place. `text`/`blocks`/`metadata` that are `undefined` in the patch are
   * left alone; `blocks: null` removes the blocks. Marks it edited by `editor`.
   * @throws WorkspaceError `channel_not_found`, `message_not_found`.
   */
  updateMessage(
    channel: string,
    ts: string,
    patch: { text?: string; blocks?: unknown[] | null; metadata?: MessageMetadata },
    editor: string,
  ): StoredMessage {
    const message = this.find(channel, ts);
    const previous = clone(message);
    if (patch.text !== undefined) message.text = patch.text;
    if (patch.blocks === null) delete message.blocks;
    else if (patch.blocks !== undefined) message.blocks = clone(patch.blocks);
    if (patch.metadata !== undefined) message.metadata = clone(patch.metadata);
    message.edited = { user: editor, ts: this.nextTs() };
    this.emit({ type: 'message_changed', message, previous });
    return clone(message);
  }

  /** Removes a message. @throws WorkspaceError `channel_not_found`, `message_not_found`. */
  deleteMessage(channel: string, ts: string): StoredMessage {
    const list = this.list(channel);
    const message = this.find(channel, ts);
    list.splice(list.indexOf(message), 1);
    this.emit({ type: 'message_deleted', message });
    return clone(message);
  }

  /** Top-level messages of a channel (roots and unthreaded), oldest first. */
  history(channel: string): StoredMessage[] {
    return clone(this.list(channel).filter((m) => m.threadTs === undefined));
  }

  /**
   * A thread: its root then its replies, oldest first. A `ts` naming a reply resolves to its
   * thread. @throws WorkspaceError `channel_not_found`, `thread_not_found`.
   */
  thread(channel: string, ts: string): StoredMessage[] {
    const list = this.list(channel);
    const anchor = list.find((m) => m.ts === ts);
    if (anchor === undefined) throw new WorkspaceError('thread_not_found', `no message ${ts} in ${channel}`);
    const rootTs = anchor.threadTs ?? anchor.ts;
    return clone(list.filter((m) => m.ts === rootTs || m.threadTs === rootTs));
  }

  /** Replies under a root (not the root itself), oldest first. */
  replies(channel: string, rootTs: string): StoredMessage[] {
    return clone(this.list(channel).filter((m) => m.threadTs === rootTs));
  }

  /** Adds `user`'s reaction. @throws WorkspaceError `message_not_found`, `already_reacted`. */
  addReaction(channel: string, ts: string, name: string, user: string): Reaction[] {
    const message = this.find(channel, ts);
    let reaction = message.reactions.find((r) => r.name === name);
    if (reaction?.users.includes(user)) throw new WorkspaceError('already_reacted');
    if (reaction === undefined) {
      reaction = { name, users: [] };
      message.reactions.push(reaction);
    }
    reaction.users.push(user);
    this.emit({ type: 'reactions_changed', channel, ts, reactions: message.reactions });
    return clone(message.reactions);
  }

  /** Removes `user`'s reaction. @throws WorkspaceError `message_not_found`, `no_reaction`. */
  removeReaction(channel: string, ts: string, name: string, user: string): Reaction[] {
    const message = this.find(channel, ts);
    const reaction = message.reactions.find((r) => r.name === name);
    if (reaction === undefined || !reaction.users.includes(user)) throw new WorkspaceError('no_reaction');
    reaction.users = reaction.users.filter((u) => u !== user);
    if (reaction.users.length === 0) message.reactions = message.reactions.filter((r) => r !== reaction);
    this.emit({ type: 'reactions_changed', channel, ts, reactions: message.reactions });
    return clone(message.reactions);
  }

  // ---- ephemerals -----------------------------------------------------------------------------

  /** Shows a message to one user only. @throws WorkspaceError `channel_not_found`. */
  postEphemeral(input: { channel: string; user: string; text: string; blocks?: unknown[]; threadTs?: string }): EphemeralMessage {
    this.list(input.channel);
    const ephemeral: EphemeralMessage = {
      channel: input.channel,
      ts: this.nextTs(),
      ...(input.threadTs !== undefined ? { threadTs: input.threadTs } : {}),
      user: input.user,
      botId: this.bot.botId,
      text: input.text,
      ...(input.blocks !== undefined ? { blocks: clone(input.blocks) } : {}),
    };
    this.ephemerals.push(ephemeral);
    this.emit({ type: 'ephemeral_posted', ephemeral });
    return clone(ephemeral);
  }

  /** The ephemerals `user` can see (optionally in one channel), oldest first. */
  ephemeralsFor(user: string, channel?: string): EphemeralMessage[] {
    return clone(this.ephemerals.filter((e) => e.user === user && (channel === undefined || e.channel === channel)));
  }

  /** One ephemeral, or `undefined`. */
  getEphemeral(channel: string, ts: string, user: string): EphemeralMessage | undefined {
    const found = this.ephemerals.find((e) => e.channel === channel && e.ts === ts && e.user === user);
    return found === undefined ? undefined : clone(found);
  }

  /** Replaces an ephemeral's content. @throws WorkspaceError `message_not_found`. */
  replaceEphemeral(channel: string, ts: string, user: string, content: { text: string; blocks?: unknown[] }): EphemeralMessage {
    const found = this.ephemerals.find((e) => e.channel === channel && e.ts === ts && e.user === user);
    if (found === undefined) throw new WorkspaceError('message_not_found');
    found.text = content.text;
    if (content.blocks === undefined) delete found.blocks;
    else found.blocks = clone(content.blocks);
    this.emit({ type: 'ephemeral_changed', ephemeral: found });
    return clone(found);
  }

  /** Deletes an ephemeral. @throws WorkspaceError `message_not_found`. */
  deleteEphemeral(channel: string, ts: string, user: string): void {
    const found = this.ephemerals.find((e) => e.channel === channel && e.ts === ts && e.user === user);
    if (found === undefined) throw new WorkspaceError('message_not_found');
    this.ephemerals = this.ephemerals.filter((e) => e !== found);
    this.emit({ type: 'ephemeral_deleted', ephemeral: found });
  }

  // ---- views ----------------------------------------------------------------------------------

  private newHash(): string {
    this.hashCounter += 1;
    return `${Math.floor(this.clock.now() / 1000)}.${String(this.hashCounter).padStart(8, '0')}`;
  }

  /** Opens a modal for `userId`. @throws WorkspaceError `user_not_found`. */
  openModal(userId: string, definition: ViewDefinition, previousViewId: string | null = null): StoredView {
    this.requireUser(userId);
    const id = newViewId();
    const root = previousViewId === null ? id : (this.views.get(previousViewId)?.rootViewId ?? id);
    const view: StoredView = {
      id,
      userId,
      definition: clone(definition),
      hash: this.newHash(),
      stateValues: {},
      rootViewId: root,
      previousViewId,
      open: true,
    };
    this.views.set(id, view);
    this.emit({ type: 'view_opened', view });
    return clone(view);
  }

  /** A view by id, or `undefined`. */
  getView(id: string): StoredView | undefined {
    const view = this.views.get(id);
    return view === undefined ? undefined : clone(view);
  }

  /** A view by the app's `external_id`, or `undefined`. */
  getViewByExternalId(externalId: string): StoredView | undefined {
    for (const view of this.views.values()) if (view.definition.external_id === externalId) return clone(view);
    return undefined;
  }

  /** The open modals of a user, oldest first. */
  openModalsFor(userId: string): StoredView[] {
    return clone([...this.views.values()].filter((v) => v.userId === userId && v.definition.type === 'modal' && v.open));
  }

  /** The published App Home of a user, or `undefined`. */
  homeOf(userId: string): StoredView | undefined {
    const id = this.homeViews.get(userId);
    return id === undefined ? undefined : this.getView(id);
  }

  /**
   * Replaces a view's definition. A given `hash` must match the current one (Slack's optimistic
   * concurrency for views). @throws WorkspaceError `not_found`, `hash_conflict`.
   */
  updateView(id: string, definition: ViewDefinition, hash?: string): StoredView {
    const view = this.views.get(id);
    if (view === undefined) throw new WorkspaceError('not_found', `no view ${id}`);
    if (hash !== undefined && hash !== view.hash) throw new WorkspaceError('hash_conflict');
    view.definition = clone(definition);
    view.hash = this.newHash();
    delete view.errors;
    this.emit({ type: 'view_updated', view });
    return clone(view);
  }

  /** Records submitted input values on a view (before the app answers the submission). */
  setViewState(id: string, values: Record<string, Record<string, unknown>>): StoredView {
    const view = this.views.get(id);
    if (view === undefined) throw new WorkspaceError('not_found', `no view ${id}`);
    view.stateValues = clone(values);
    return clone(view);
  }

  /** Records field errors from `response_action: 'errors'`; the modal stays open. */
  setViewErrors(id: string, errors: Record<string, string>): StoredView {
    const view = this.views.get(id);
    if (view === undefined) throw new WorkspaceError('not_found', `no view ${id}`);
    view.errors = clone(errors);
    this.emit({ type: 'view_updated', view });
    return clone(view);
  }

  /** Closes a modal (submit or cancel). @throws WorkspaceError `not_found`. */
  closeView(id: string): StoredView {
    const view = this.views.get(id);
    if (view === undefined) throw new WorkspaceError('not_found', `no view ${id}`);
    view.open = false;
    this.emit({ type: 'view_closed', view });
    return clone(view);
  }

  /** Publishes (creates or replaces) `userId`'s App Home. @throws WorkspaceError `user_not_found`, `hash_conflict`. */
  publishHome(userId: string, definition: ViewDefinition, hash?: string): StoredView {
    this.requireUser(userId);
    const existingId = this.homeViews.get(userId);
    const existing = existingId === undefined ? undefined : this.views.get(existingId);
    if (existing !== undefined) {
      if (hash !== undefined && hash !== existing.hash) throw new WorkspaceError('hash_conflict');
      existing.definition = clone(definition);
      existing.hash = this.newHash();
      this.emit({ type: 'home_published', view: existing });
      return clone(existing);
    }
    const id = newViewId();
    const view: StoredView = {
      id,
      userId,
      definition: clone(definition),
      hash: this.newHash(),
      stateValues: {},
      rootViewId: id,
      previousViewId: null,
      open: true,
    };
    this.views.set(id, view);
    this.homeViews.set(userId, id);
    this.emit({ type: 'home_published', view });
    return clone(view);
  }

  // ---- app errors -----------------------------------------------------------------------------

  /** Records a refused app call on the change feed (nothing else changes). */
  reportAppError(error: AppError): void {
    this.appErrors.push(clone(error));
    if (this.appErrors.length > APP_ERROR_BUFFER) this.appErrors.shift();
    this.emit({ type: 'app_error', error });
  }

  // ---- assistant thread status ----------------------------------------------------------------

  /** Sets (or, with `''`, clears) the status line shown under a thread. */
  setThreadStatus(channel: string, threadTs: string, status: string, loadingMessages: string[] | undefined): ThreadStatus {
    this.list(channel);
    const entry: ThreadStatus = {
      channel,
      threadTs,
      status,
      ...(loadingMessages !== undefined ? { loadingMessages: [...loadingMessages] } : {}),
      setAt: this.clock.now(),
    };
    this.statuses.set(`${channel}:${threadTs}`, entry);
    this.emit({ type: 'thread_status', status: entry });
    return clone(entry);
  }

  /** The current status of a thread, or `undefined` if none was ever set. */
  threadStatus(channel: string, threadTs: string): ThreadStatus | undefined {
    const entry = this.statuses.get(`${channel}:${threadTs}`);
    return entry === undefined ? undefined : clone(entry);
  }
}
