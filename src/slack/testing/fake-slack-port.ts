/**
 * The in-memory {@link SlackPort} (STYLE.md points 2 and 3). It keeps messages (with ts, thread,
 * blocks, metadata and every update), ephemerals, reactions, views, App Homes and thread statuses,
 * records every call, and can be told to fail the next call(s) of a method.
 *
 * It behaves like Slack where Slack has an answer (blocks over the limits → `invalid_blocks`,
 * `already_reacted` / `no_reaction` ignored as the port promises) and fails loudly where a correct
 * caller never goes: updating a message it never posted, an unknown view, an empty message, a
 * metadata payload Slack would refuse. Those throw {@link FakeSlackMisuseError} and are kept in
 * {@link FakeSlackPort.unexpected}, so a caller that swallows errors still fails a test that
 * asserts `unexpected` is empty.
 */
import { validateMessageBlocks, validateViewBlocks } from '../blocks/block-kit-schema.ts';
import { InvariantError, SlackApiError } from '../../shared/errors.ts';
import type { EphemeralInput, MessageMetadata, PostMessageInput, SlackPort, UpdateMessageInput } from '../port.ts';

/** A SlackPort method name. */
export type SlackMethod = keyof SlackPort;

/** One recorded call (inputs are deep copies). */
export interface FakeSlackCall {
  seq: number;
  method: SlackMethod;
  input: unknown;
  /** The programmed failure it got, if any. */
  failed?: Error;
}

/** A message as the fake stores it. */
export interface FakeMessage {
  channel: string;
  ts: string;
  /** Set on replies. */
  threadTs?: string;
  /** `bot` for posts made through the port, `user` for {@link FakeSlackPort.addUserMessage}. */
  author: 'bot' | 'user';
  text: string;
  blocks?: unknown[];
  metadata?: MessageMetadata;
  /** Every earlier version, oldest first (one per `updateMessage`). */
  history: { text: string; blocks?: unknown[] }[];
}

/** A caller did something a correct caller never does (see the module comment). */
export class FakeSlackMisuseError extends InvariantError {}

/** Builds the error the real port throws for a Slack error code (`invalid_blocks`, `ratelimited`, …). */
export function slackApiError(slackError: string, options: { retryable?: boolean; retryAfterMs?: number } = {}): SlackApiError {
  return new SlackApiError(`Slack call failed: ${slackError}`, {
    retryable: options.retryable ?? false,
    ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
    details: { slackError },
  });
}

interface Failure {
  error: Error;
  remaining: number;
  when?: (input: unknown) => boolean;
}

interface Hold {
  reached: () => void;
  released: Promise<void>;
  when?: (input: unknown) => boolean;
}

const key = (channel: string, ts: string): string => `${channel}\u0000${ts}`;
const copy = <T>(value: T): T => structuredClone(value);

/** Options of {@link FakeSlackPort}. */
export interface FakeSlackPortOptions {
  /** First ts second (default 1_700_000_000); each message gets the next microsecond. */
  tsBase?: number;
  /** Permalink base (default `https://fake.slack.test`). */
  permalinkBase?: string;
}

/** The in-memory SlackPort. Single-threaded by construction; every getter returns copies. */
export class FakeSlackPort implements SlackPort {
  /** Every call, in order. */
  readonly calls: FakeSlackCall[] = [];
  /** Loud failures (misuse); a well-behaved caller leaves this empty. */
  readonly unexpected: string[] = [];

  private readonly store = new Map<string, FakeMessage>();
  private readonly order: string[] = [];
  private readonly reactionSets = new Map<string, Set<string>>();
  private readonly ephemeralList: EphemeralInput[] = [];
  private readonly viewMap = new Map<string, Record<string, unknown>>();
  private readonly homeMap = new Map<string, Record<string, unknown>>();
  private readonly statusMap = new Map<string, string>();
  private readonly failures = new Map<SlackMethod, Failure[]>();
  private readonly holds = new Map<SlackMethod, Hold[]>();
  private counter = 0;
  private viewCounter = 0;
  private readonly tsBase: number;
  private readonly permalinkBase: string;

  constructor(options: FakeSlackPortOptions = {}) {
    this.tsBase = options.tsBase ?? 1_700_000_000;
    this.permalinkBase = options.permalinkBase ?? 'https://fake.slack.test';
  }

  // ---- programming ------------------------------------------------------------------------------

  /**
   * The next `times` calls of `method` (only those matching `when`, if given) throw `error`.
   * Failures of one method are consumed in the order they were programmed.
   */
  failNext(method: SlackMethod, error: Error, options: { times?: number; when?: (input: unknown) => boolean } = {}): void {
    const times = options.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new FakeSlackMisuseError('failNext: times must be a positive integer');
    const list = this.failures.get(method) ?? [];
    list.push({ error, remaining: times, ...(options.when === undefined ? {} : { when: options.when }) });
    this.failures.set(method, list);
  }

  /** Programmed failures not yet consumed. */
  pendingFailures(): number {
    return [...this.failures.values()].reduce((sum, list) => sum + list.reduce((n, f) => n + f.remaining, 0), 0);
  }

  /**
   * The next call of `method` (matching `when`, if given) waits until `release()`; `reached`
   * resolves once it is waiting. Lets a test act while a call is in flight.
   */
  hold(method: SlackMethod, when?: (input: unknown) => boolean): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const list = this.holds.get(method) ?? [];
    list.push({ reached, released, ...(when === undefined ? {} : { when }) });
    this.holds.set(method, list);
    return { reached: reachedPromise, release };
  }

  /** Seeds a message a user wrote (a thread root to reply under or react to); returns its ts. */
  addUserMessage(channel: string, text = 'hello'): string {
    const ts = this.nextTs();
    this.save({ channel, ts, author: 'user', text, history: [] });
    return ts;
  }

  // ---- inspection -------------------------------------------------------------------------------

  /** Messages in posting order, optionally one channel's. */
  messages(channel?: string): FakeMessage[] {
    return this.order
      .map((k) => this.store.get(k))
      .filter((m): m is FakeMessage => m !== undefined && (channel === undefined || m.channel === channel))
      .map(copy);
  }

  /** Messages the bot posted (through the port). */
  botMessages(channel?: string): FakeMessage[] {
    return this.messages(channel).filter((m) => m.author === 'bot');
  }

  /** One message, or undefined. */
  message(channel: string, ts: string): FakeMessage | undefined {
    const found = this.store.get(key(channel, ts));
    return found === undefined ? undefined : copy(found);
  }

  /** Replies under `threadTs`, in order. */
  replies(channel: string, threadTs: string): FakeMessage[] {
    return this.messages(channel).filter((m) => m.threadTs === threadTs);
  }

  /** Reaction names the bot has on a message. */
  reactions(channel: string, ts: string): string[] {
    return [...(this.reactionSets.get(key(channel, ts)) ?? [])];
  }

  /** Ephemerals posted, in order. */
  ephemerals(): EphemeralInput[] {
    return this.ephemeralList.map(copy);
  }

  /** A modal by id. */
  view(viewId: string): Record<string, unknown> | undefined {
    const found = this.viewMap.get(viewId);
    return found === undefined ? undefined : copy(found);
  }

  /** The App Home last published for `userId`. */
  home(userId: string): Record<string, unknown> | undefined {
    const found = this.homeMap.get(userId);
    return found === undefined ? undefined : copy(found);
  }

  /** The assistant thread status, or undefined when cleared / never set. */
  threadStatus(channel: string, threadTs: string): string | undefined {
    return this.statusMap.get(key(channel, threadTs));
  }

  /** Calls of one method (successful and failed). */
  callsOf(method: SlackMethod): FakeSlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  // ---- SlackPort --------------------------------------------------------------------------------

  async postMessage(input: PostMessageInput): Promise<{ channel: string; ts: string }> {
    await this.enter('postMessage', input);
    this.checkChannel('postMessage', input.channel);
    this.checkText('postMessage', input.text, input.blocks);
    this.checkBlocks(input.blocks);
    if (input.metadata !== undefined) this.checkMetadata('postMessage', input.metadata);
    const ts = this.nextTs();
    this.save({
      channel: input.channel,
      ts,
      ...(input.threadTs === undefined ? {} : { threadTs: input.threadTs }),
      author: 'bot',
      text: input.text,
      ...(input.blocks === undefined ? {} : { blocks: copy([...input.blocks]) }),
      ...(input.metadata === undefined ? {} : { metadata: copy(input.metadata) }),
      history: [],
    });
    return { channel: input.channel, ts };
  }

  async updateMessage(input: UpdateMessageInput): Promise<void> {
    await this.enter('updateMessage', input);
    const message = this.store.get(key(input.channel, input.ts));
    if (message === undefined || message.author !== 'bot') {
      this.misuse(`updateMessage: ${input.channel}/${input.ts} was never posted by the bot`);
    }
    this.checkText('updateMessage', input.text, input.blocks);
    this.checkBlocks(input.blocks);
    if (input.metadata !== undefined) this.checkMetadata('updateMessage', input.metadata);
    message.history.push({ text: message.text, ...(message.blocks === undefined ? {} : { blocks: message.blocks }) });
    message.text = input.text;
    // Slack drops the old blocks when an update sends none (ecosystem.md §1.5).
    if (input.blocks === undefined || input.blocks.length === 0) delete message.blocks;
    else message.blocks = copy([...input.blocks]);
    if (input.metadata !== undefined) message.metadata = copy(input.metadata);
  }

  async postEphemeral(input: EphemeralInput): Promise<void> {
    await this.enter('postEphemeral', input);
    this.checkChannel('postEphemeral', input.channel);
    if (input.user === '') this.misuse('postEphemeral: empty user');
    this.checkText('postEphemeral', input.text, input.blocks);
    this.checkBlocks(input.blocks);
    this.ephemeralList.push(copy(input));
  }

  async addReaction(input: { channel: string; ts: string; name: string }): Promise<void> {
    await this.enter('addReaction', input);
    this.checkReaction('addReaction', input);
    const k = key(input.channel, input.ts);
    const set = this.reactionSets.get(k) ?? new Set<string>();
    set.add(input.name);
    this.reactionSets.set(k, set);
  }

  async removeReaction(input: { channel: string; ts: string; name: string }): Promise<void> {
    await this.enter('removeReaction', input);
    this.checkReaction('removeReaction', input);
    this.reactionSets.get(key(input.channel, input.ts))?.delete(input.name);
  }

  async getPermalink(input: { channel: string; ts: string }): Promise<string | null> {
    await this.enter('getPermalink', input);
    if (!this.store.has(key(input.channel, input.ts))) return null;
    return `${this.permalinkBase}/archives/${input.channel}/p${input.ts.replace('.', '')}`;
  }

  async openView(input: { triggerId: string; view: Record<string, unknown> }): Promise<{ viewId: string }> {
    await this.enter('openView', input);
    if (input.triggerId === '') this.misuse('openView: empty trigger id');
    this.checkView(input.view);
    this.viewCounter += 1;
    const viewId = `V_FAKE${this.viewCounter}`;
    this.viewMap.set(viewId, copy(input.view));
    return { viewId };
  }

  async updateView(input: { viewId: string; view: Record<string, unknown> }): Promise<void> {
    await this.enter('updateView', input);
    if (!this.viewMap.has(input.viewId)) this.misuse(`updateView: unknown view ${input.viewId}`);
    this.checkView(input.view);
    this.viewMap.set(input.viewId, copy(input.view));
  }

  async publishHome(input: { userId: string; view: Record<string, unknown> }): Promise<void> {
    await this.enter('publishHome', input);
    if (input.userId === '') this.misuse('publishHome: empty user id');
    if (input.view['type'] !== 'home') this.misuse('publishHome: view type must be "home"');
    this.checkView(input.view);
    this.homeMap.set(input.userId, copy(input.view));
  }

  async setThreadStatus(input: { channel: string; threadTs: string; status: string }): Promise<void> {
    await this.enter('setThreadStatus', input);
    this.checkChannel('setThreadStatus', input.channel);
    if (input.status === '') this.statusMap.delete(key(input.channel, input.threadTs));
    else this.statusMap.set(key(input.channel, input.threadTs), input.status);
  }

  async findPostedMessage(input: {
    channel: string;
    threadTs: string;
    eventType: string;
    key: string;
    runId?: string;
  }): Promise<{ ts: string } | null> {
    await this.enter('findPostedMessage', input);
    this.checkChannel('findPostedMessage', input.channel);
    const found = this.messages(input.channel).find(
      (m) =>
        m.author === 'bot' &&
        (m.ts === input.threadTs || m.threadTs === input.threadTs) &&
        m.metadata?.event_type === input.eventType &&
        m.metadata.event_payload['key'] === input.key &&
        (input.runId === undefined || m.metadata.event_payload['runId'] === input.runId),
    );
    return found === undefined ? null : { ts: found.ts };
  }

  // ---- internals --------------------------------------------------------------------------------

  private async enter(method: SlackMethod, input: unknown): Promise<void> {
    const call: FakeSlackCall = { seq: this.calls.length + 1, method, input: copy(input) };
    this.calls.push(call);
    const holds = this.holds.get(method) ?? [];
    const holdIndex = holds.findIndex((h) => h.when === undefined || h.when(input));
    const hold = holds[holdIndex];
    if (hold !== undefined) {
      holds.splice(holdIndex, 1);
      hold.reached();
      await hold.released;
    }
    const list = this.failures.get(method) ?? [];
    const index = list.findIndex((f) => f.when === undefined || f.when(input));
    const failure = list[index];
    if (failure !== undefined) {
      failure.remaining -= 1;
      if (failure.remaining === 0) list.splice(index, 1);
      call.failed = failure.error;
      throw failure.error;
    }
  }

  private nextTs(): string {
    this.counter += 1;
    return `${this.tsBase + Math.floor(this.counter / 1_000_000)}.${String(this.counter % 1_000_000).padStart(6, '0')}`;
  }

  private save(message: FakeMessage): void {
    const k = key(message.channel, message.ts);
    this.store.set(k, message);
    this.order.push(k);
  }

  private misuse(message: string): never {
    this.unexpected.push(message);
    throw new FakeSlackMisuseError(`FakeSlackPort: ${message}`);
  }

  private checkChannel(method: SlackMethod, channel: string): void {
    if (channel === '') this.misuse(`${method}: empty channel`);
  }

  private checkText(method: SlackMethod, text: string, blocks: readonly unknown[] | undefined): void {
    // Slack accepts blocks without text, but the port promises a fallback text on every message.
    if (text.trim() === '') this.misuse(`${method}: empty text${blocks === undefined ? '' : ' (blocks need a fallback text)'}`);
  }

  private checkBlocks(blocks: readonly unknown[] | undefined): void {
    if (blocks === undefined || blocks.length === 0) return;
    const result = validateMessageBlocks([...blocks]);
    if (!result.ok) {
      const error = slackApiError(result.error);
      Object.assign(error.details, { errors: result.errors.slice(0, 5) });
      throw error;
    }
  }

  private checkView(view: Record<string, unknown>): void {
    const blocks = view['blocks'];
    if (!Array.isArray(blocks)) this.misuse('view without a blocks array');
    const result = validateViewBlocks(blocks);
    if (!result.ok) throw slackApiError('invalid_arguments');
  }

  private checkMetadata(method: SlackMethod, metadata: MessageMetadata): void {
    if (metadata.event_type === '') this.misuse(`${method}: metadata without event_type`);
    for (const [name, value] of Object.entries(metadata.event_payload)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) this.misuse(`${method}: metadata field ${name} is not a scalar`);
    }
  }

  private checkReaction(method: SlackMethod, input: { channel: string; ts: string; name: string }): void {
    this.checkChannel(method, input.channel);
    if (!/^[a-z0-9_+-]+$/.test(input.name)) this.misuse(`${method}: invalid reaction name ${JSON.stringify(input.name)}`);
    if (!this.store.has(key(input.channel, input.ts)) && !/^\d+\.\d+$/.test(input.ts)) {
      this.misuse(`${method}: ${JSON.stringify(input.ts)} is not a message ts`);
    }
  }
}
