/**
 * What people do in the local workspace — post, click, submit, open the App Home — and the
 * deliveries Slack would make to the app as a result. Tests drive scenarios through these; the
 * browser UI will call the same methods.
 *
 * Event fan-out follows Slack: a channel message or thread reply produces a `message` event
 * (`message.channels`) and, when it mentions the bot, also an `app_mention` event, each with its
 * own `event_id` — the duplicate the bot's ingress must not double-handle (ecosystem.md §1.4).
 * DMs produce `message` (`message.im`) only. Events arrive only from channels the bot is in.
 *
 * Misuse by the caller (clicking a button that is not there, submitting someone else's modal,
 * leaving a required input empty) throws, because a real Slack client would not let it happen.
 */
import { InvalidStateError } from '../shared/errors.ts';
import type { CallJournal } from './call-journal.ts';
import type { DeliveryRecord, Dispatcher } from './delivery.ts';
import {
  buildAppHomeOpenedEvent,
  buildAppMentionEvent,
  buildBlockActionsPayload,
  buildEventCallback,
  buildMessageEvent,
  buildViewClosedPayload,
  buildViewSubmissionPayload,
  richTextOf,
  type ActionSource,
  type PayloadContext,
} from './events.ts';
import { newClientMsgId } from './slack-ids.ts';
import { validateView } from './view-schema.ts';
import type { StoredMessage, StoredView, ViewDefinition, WorkspaceState } from './workspace-state.ts';

/** The bot events the local workspace delivers unless configured otherwise. */
export const DEFAULT_EVENT_SUBSCRIPTIONS: readonly string[] = ['app_mention', 'message.channels', 'message.im', 'app_home_opened'];

/** Options for {@link UserActions}. */
export interface UserActionsOptions {
  ctx: PayloadContext;
  dispatcher: Dispatcher;
  journal: CallJournal;
  eventSubscriptions: readonly string[];
}

/** A posted message and the deliveries it caused (all acknowledged). */
export interface PostedUserMessage {
  message: StoredMessage;
  deliveries: DeliveryRecord[];
}

/** The outcome of a modal submission. */
export interface ViewSubmissionResult {
  delivery: DeliveryRecord;
  /** The app's `response_action` (`errors`, `update`, `push`, `clear`), if it gave one. */
  responseAction?: string;
  /** The submitted view after the app's answer (closed unless `errors`/`update`). */
  view: StoredView;
  /** A view pushed on top, for `response_action: 'push'`. */
  pushed?: StoredView;
}

/** Input values for {@link UserActions.submitView}: blockId → actionId → text (or a raw state value). */
export type SubmittedValues = Record<string, Record<string, string | Record<string, unknown>>>;

/** Options for a click. */
export interface ClickOptions {
  /** Which block, when the action id appears in several. */
  blockId?: string;
  /** Send this value instead of the button's own (to forge a tampered click). */
  value?: string;
}

interface FoundButton {
  blockId: string;
  button: Record<string, unknown>;
}

function findButton(blocks: unknown[] | undefined, actionId: string, blockId: string | undefined): FoundButton | undefined {
  for (const raw of blocks ?? []) {
    const block = raw as Record<string, unknown>;
    const id = typeof block['block_id'] === 'string' ? block['block_id'] : '';
    if (blockId !== undefined && id !== blockId) continue;
    const candidates: unknown[] = [];
    if (block['type'] === 'actions' && Array.isArray(block['elements'])) candidates.push(...(block['elements'] as unknown[]));
    if (block['type'] === 'section' && block['accessory'] !== undefined) candidates.push(block['accessory']);
    for (const candidate of candidates) {
      const element = candidate as Record<string, unknown>;
      if (element['type'] === 'button' && element['action_id'] === actionId) return { blockId: id, button: element };
    }
  }
  return undefined;
}

function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/** The user-side actions on a workspace. */
export class UserActions {
  private readonly subscriptions: ReadonlySet<string>;

  constructor(private readonly options: UserActionsOptions) {
    this.subscriptions = new Set(options.eventSubscriptions);
  }

  private get state(): WorkspaceState {
    return this.options.ctx.state;
  }

  /**
   * `user` posts `text` in `channel` (an id, `#name`, or a user id for the bot's DM), optionally
   * as a reply under `threadTs`. Resolves once every resulting event was acknowledged.
   * @throws WorkspaceError `user_not_found`, `channel_not_found`, `thread_not_found`; InvalidStateError
   *   when the user is not in the channel; SlackApiError when a delivery fails.
   */
  async postUserMessage(userId: string, channelRef: string, text: string, threadTs?: string): Promise<PostedUserMessage> {
    const user = this.state.requireUser(userId);
    const channel = this.state.resolveChannel(channelRef);
    if (!this.state.isMember(channel.id, user.id)) throw new InvalidStateError(`${user.id} is not a member of ${channel.id}`);
    const message = this.state.postMessage({
      channel: channel.id,
      user: user.id,
      text,
      blocks: [richTextOf(text)],
      clientMsgId: newClientMsgId(),
      ...(threadTs !== undefined ? { threadTs } : {}),
    });
    const events: Record<string, unknown>[] = [];
    if (this.state.isMember(channel.id, this.state.bot.userId)) {
      if (channel.kind === 'channel' && this.subscriptions.has('app_mention') && mentionsBot(text, this.state.bot.userId)) {
        events.push(buildAppMentionEvent(this.state, message));
      }
      const messageSubscription = channel.kind === 'im' ? 'message.im' : 'message.channels';
      if (this.subscriptions.has(messageSubscription)) events.push(buildMessageEvent(this.state, message, channel));
    }
    // Sent together, as Slack does: the bot sees both before either is handled.
    const deliveries = await Promise.all(events.map((event) => this.options.dispatcher.deliver('events_api', buildEventCallback(this.state, event))));
    return { message, deliveries };
  }

  /**
   * `user` clicks the button `actionId` on a message (or on an ephemeral visible to them).
   * The action's `value` is the button's own unless `options.value` forges another.
   * @throws InvalidStateError when there is no such message or button; SlackApiError when the delivery fails.
   */
  async clickButton(userId: string, channelRef: string, messageTs: string, actionId: string, options: ClickOptions = {}): Promise<DeliveryRecord> {
    const user = this.state.requireUser(userId);
    const channel = this.state.resolveChannel(channelRef);
    const message = this.state.getMessage(channel.id, messageTs);
    let source: ActionSource;
    let blocks: unknown[] | undefined;
    if (message !== undefined) {
      source = { kind: 'message', message, channel };
      blocks = message.blocks;
    } else {
      const ephemeral = this.state.getEphemeral(channel.id, messageTs, user.id);
      if (ephemeral === undefined) throw new InvalidStateError(`no message ${messageTs} in ${channel.id} visible to ${user.id}`);
      source = { kind: 'ephemeral', ephemeral, channel };
      blocks = ephemeral.blocks;
    }
    return this.click(user.id, source, blocks, actionId, options);
  }

  /**
   * `user` clicks the button `actionId` in one of their open views (modal or App Home).
   * @throws InvalidStateError when the view is not theirs, not open, or has no such button.
   */
  async clickViewButton(userId: string, viewId: string, actionId: string, options: ClickOptions = {}): Promise<DeliveryRecord> {
    const view = this.ownOpenView(userId, viewId);
    return this.click(userId, { kind: 'view', view }, view.definition.blocks, actionId, options);
  }

  private async click(userId: string, source: ActionSource, blocks: unknown[] | undefined, actionId: string, options: ClickOptions): Promise<DeliveryRecord> {
    const user = this.state.requireUser(userId);
    const found = findButton(blocks, actionId, options.blockId);
    if (found === undefined) throw new InvalidStateError(`no button ${actionId}${options.blockId !== undefined ? ` in block ${options.blockId}` : ''}`);
    const ownValue = typeof found.button['value'] === 'string' ? found.button['value'] : undefined;
    const value = options.value ?? ownValue;
    const style = typeof found.button['style'] === 'string' ? found.button['style'] : undefined;
    const payload = buildBlockActionsPayload(this.options.ctx, user, source, {
      action_id: actionId,
      block_id: found.blockId,
      text: found.button['text'],
      ...(value !== undefined ? { value } : {}),
      ...(style !== undefined ? { style } : {}),
    });
    return this.options.dispatcher.deliver('interactive', payload);
  }

  private ownOpenView(userId: string, viewId: string): StoredView {
    const view = this.state.getView(viewId);
    if (view === undefined) throw new InvalidStateError(`no view ${viewId}`);
    if (view.userId !== userId) throw new InvalidStateError(`view ${viewId} belongs to ${view.userId}, not ${userId}`);
    if (!view.open) throw new InvalidStateError(`view ${viewId} is closed`);
    return view;
  }

  /**
   * `user` submits their open modal with `values` for its input blocks and the app's answer is
   * applied: `errors` keeps it open with field errors, `update` replaces it, `push` opens another
   * on top, `clear` closes all of the user's modals, no answer closes it.
   * @throws InvalidStateError for someone else's or a closed view, an unknown input, or a
   *   required input left empty; SlackApiError when the delivery fails.
   */
  async submitView(userId: string, viewId: string, values: SubmittedValues): Promise<ViewSubmissionResult> {
    const user = this.state.requireUser(userId);
    const view = this.ownOpenView(user.id, viewId);
    if (view.definition.type !== 'modal') throw new InvalidStateError(`view ${viewId} is not a modal`);
    const stateValues = this.collectValues(view, values);
    const submitted = this.state.setViewState(view.id, stateValues);
    const delivery = await this.options.dispatcher.deliver('interactive', buildViewSubmissionPayload(this.options.ctx, user, submitted));
    const answer = delivery.ackPayload;
    const responseAction = typeof answer?.['response_action'] === 'string' ? answer['response_action'] : undefined;
    const result = (after: StoredView, pushed?: StoredView): ViewSubmissionResult => ({
      delivery,
      view: after,
      ...(responseAction !== undefined ? { responseAction } : {}),
      ...(pushed !== undefined ? { pushed } : {}),
    });
    switch (responseAction) {
      case 'errors': {
        const errors = answer?.['errors'];
        const map = errors !== null && typeof errors === 'object' ? (errors as Record<string, string>) : {};
        return result(this.state.setViewErrors(view.id, map));
      }
      case 'update':
      case 'push': {
        const next = this.appView(answer?.['view'], responseAction);
        if (next === undefined) return result(this.state.getView(view.id) ?? submitted);
        if (responseAction === 'update') return result(this.state.updateView(view.id, next));
        return result(this.state.getView(view.id) ?? submitted, this.state.openModal(user.id, next, view.id));
      }
      case 'clear': {
        for (const open of this.state.openModalsFor(user.id)) this.state.closeView(open.id);
        return result(this.state.getView(view.id) ?? submitted);
      }
      default:
        return result(this.state.closeView(view.id));
    }
  }

  private appView(raw: unknown, action: string): ViewDefinition | undefined {
    const checked = validateView(raw, 'modal');
    if (checked.ok) return checked.view;
    this.options.journal.recordUnexpected('invalid_response', `response_action ${action} carried an invalid view: ${checked.errors.join('; ')}`);
    return undefined;
  }

  private collectValues(view: StoredView, values: SubmittedValues): Record<string, Record<string, unknown>> {
    const inputs = new Map<string, { actionId: string; type: string; optional: boolean }>();
    for (const raw of view.definition.blocks) {
      const block = raw as { type?: unknown; block_id?: unknown; optional?: unknown; element?: { action_id?: unknown; type?: unknown } };
      if (block.type !== 'input' || typeof block.block_id !== 'string') continue;
      inputs.set(block.block_id, {
        actionId: String(block.element?.action_id),
        type: String(block.element?.type),
        optional: block.optional === true,
      });
    }
    for (const [blockId, byAction] of Object.entries(values)) {
      const input = inputs.get(blockId);
      if (input === undefined) throw new InvalidStateError(`view ${view.id} has no input block ${blockId}`);
      for (const actionId of Object.keys(byAction)) {
        if (actionId !== input.actionId) throw new InvalidStateError(`input block ${blockId} has no element ${actionId}`);
      }
    }
    const out: Record<string, Record<string, unknown>> = {};
    for (const [blockId, input] of inputs) {
      const given = values[blockId]?.[input.actionId];
      if ((given === undefined || given === '') && !input.optional) throw new InvalidStateError(`required input ${blockId} is empty`);
      out[blockId] = {
        [input.actionId]: typeof given === 'object' ? given : { type: input.type, value: given === undefined || given === '' ? null : given },
      };
    }
    return out;
  }

  /**
   * `user` dismisses their open modal. Resolves with the `view_closed` delivery when the view
   * asked for `notify_on_close`, else `undefined`.
   */
  async closeView(userId: string, viewId: string): Promise<DeliveryRecord | undefined> {
    const user = this.state.requireUser(userId);
    this.ownOpenView(user.id, viewId);
    const closed = this.state.closeView(viewId);
    if (closed.definition.notify_on_close !== true) return undefined;
    return this.options.dispatcher.deliver('interactive', buildViewClosedPayload(this.options.ctx, user, closed));
  }

  /**
   * `user` opens the app's Home (or Messages) tab. Resolves with the `app_home_opened` delivery,
   * or `undefined` when the app is not subscribed to it.
   */
  async openAppHome(userId: string, tab: 'home' | 'messages' = 'home'): Promise<DeliveryRecord | undefined> {
    const user = this.state.requireUser(userId);
    if (!this.subscriptions.has('app_home_opened')) return undefined;
    const dm = this.state.ensureIm(user.id);
    const event = buildAppHomeOpenedEvent(this.state, user, dm, tab, this.state.homeOf(user.id));
    return this.options.dispatcher.deliver('events_api', buildEventCallback(this.state, event));
  }
}
