/**
 * Builders for the payloads Slack sends to an app, with the fields Bolt 5 reads (the shapes of
 * `@slack/types` 3 / `@slack/bolt` 5 `EnvelopedEvent`, `BlockAction`, `ViewSubmitAction`; see
 * desplega-ai/slack-mock docs/research/04-payload-shapes.md and ecosystem.md §1.4):
 *
 * - Events API `event_callback` wrappers with a fresh `event_id` (`Ev…`), `event_time`,
 *   `team_id`, `api_app_id` and `authorizations`, around `message`, `app_mention` and
 *   `app_home_opened` events;
 * - `block_actions` with `user`, `team`, `container`, `trigger_id`, `channel`, the full
 *   `message` (blocks included), a `response_url` pointing at this server, and `actions`;
 * - `view_submission` / `view_closed` with the view and its `state.values`.
 *
 * Each builder issues the short-lived handles (trigger id, response url) it embeds.
 */
import type { InteractionRegistry } from './interaction-registry.ts';
import { newClientMsgId, newEventId, newOpaqueId } from './slack-ids.ts';
import { messageToWire, viewToWire } from './wire-format.ts';
import type { EphemeralMessage, StoredMessage, StoredView, WorkspaceChannel, WorkspaceState, WorkspaceUser } from './workspace-state.ts';

/** The legacy verification token Slack still puts in payloads (Bolt ignores it). */
export const VERIFICATION_TOKEN = 'local-verification-token';

/** What the interaction builders need. */
export interface PayloadContext {
  state: WorkspaceState;
  registry: InteractionRegistry;
  /** The server's http base URL (no trailing slash), for response urls. */
  baseUrl: string;
}

/** A JSON object payload. */
export type Payload = Record<string, unknown>;

const MENTION = /<([@#!])([A-Z0-9_]+)(?:\|[^>]*)?>/g;

/** The rich_text block Slack clients attach to what a user typed (user mentions become `user` elements). */
export function richTextOf(text: string): Payload {
  const elements: Payload[] = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const index = match.index;
    if (index > last) elements.push({ type: 'text', text: text.slice(last, index) });
    const [, sigil, id] = match;
    if (sigil === '@') elements.push({ type: 'user', user_id: id });
    else if (sigil === '#') elements.push({ type: 'channel', channel_id: id });
    else elements.push({ type: 'text', text: match[0] });
    last = index + match[0].length;
  }
  if (last < text.length) elements.push({ type: 'text', text: text.slice(last) });
  return { type: 'rich_text', block_id: newOpaqueId().slice(0, 5), elements: [{ type: 'rich_text_section', elements }] };
}

/** The `user` object of interaction payloads. */
export function payloadUser(state: WorkspaceState, user: WorkspaceUser): Payload {
  return { id: user.id, username: user.name, name: user.name, team_id: state.team.id };
}

/** Wraps an event in Slack's `event_callback` envelope with a fresh `event_id`. */
export function buildEventCallback(state: WorkspaceState, event: Payload): Payload {
  return {
    token: VERIFICATION_TOKEN,
    team_id: state.team.id,
    context_team_id: state.team.id,
    context_enterprise_id: null,
    api_app_id: state.appId,
    event,
    type: 'event_callback',
    event_id: newEventId(),
    event_time: Math.floor(state.clock.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: state.team.id, user_id: state.bot.userId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${newOpaqueId()}`,
  };
}

function userMessageFields(state: WorkspaceState, message: StoredMessage): Payload {
  const fields: Payload = {
    user: message.user,
    text: message.text,
    ts: message.ts,
    team: state.team.id,
    blocks: message.blocks ?? [richTextOf(message.text)],
    client_msg_id: message.clientMsgId ?? newClientMsgId(),
    event_ts: message.ts,
    channel: message.channel,
  };
  if (message.threadTs !== undefined) {
    fields['thread_ts'] = message.threadTs;
    const root = state.getMessage(message.channel, message.threadTs);
    if (root !== undefined) fields['parent_user_id'] = root.user;
  }
  return fields;
}

/** A `message` event (no subtype: a new message by a person). */
export function buildMessageEvent(state: WorkspaceState, message: StoredMessage, channel: WorkspaceChannel): Payload {
  return { type: 'message', ...userMessageFields(state, message), channel_type: channel.kind === 'im' ? 'im' : 'channel' };
}

/** An `app_mention` event for a message that mentions the bot. */
export function buildAppMentionEvent(state: WorkspaceState, message: StoredMessage): Payload {
  return { type: 'app_mention', ...userMessageFields(state, message) };
}

/** An `app_home_opened` event (the user opened the app's Home tab or Messages tab). */
export function buildAppHomeOpenedEvent(
  state: WorkspaceState,
  user: WorkspaceUser,
  dm: WorkspaceChannel,
  tab: 'home' | 'messages',
  home: StoredView | undefined,
): Payload {
  return {
    type: 'app_home_opened',
    user: user.id,
    channel: dm.id,
    tab,
    event_ts: state.nextTs(),
    ...(tab === 'home' && home !== undefined ? { view: viewToWire(state, home) } : {}),
  };
}

/** Where a clicked element lives. */
export type ActionSource =
  | { kind: 'message'; message: StoredMessage; channel: WorkspaceChannel }
  | { kind: 'ephemeral'; ephemeral: EphemeralMessage; channel: WorkspaceChannel }
  | { kind: 'view'; view: StoredView };

/** The clicked button as it appears in `actions[]`. */
export interface ClickedAction {
  action_id: string;
  block_id: string;
  value?: string;
  text?: unknown;
  style?: string;
}

/** A `block_actions` payload for one button click. */
export function buildBlockActionsPayload(ctx: PayloadContext, user: WorkspaceUser, source: ActionSource, action: ClickedAction): Payload {
  const { state } = ctx;
  const payload: Payload = {
    type: 'block_actions',
    user: payloadUser(state, user),
    api_app_id: state.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: ctx.registry.issueTrigger(user.id),
    team: { id: state.team.id, domain: state.team.domain },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [
      {
        action_id: action.action_id,
        block_id: action.block_id,
        ...(action.text !== undefined ? { text: action.text } : {}),
        ...(action.value !== undefined ? { value: action.value } : {}),
        ...(action.style !== undefined ? { style: action.style } : {}),
        type: 'button',
        action_ts: state.nextTs(),
      },
    ],
  };
  if (source.kind === 'view') {
    payload['container'] = { type: 'view', view_id: source.view.id };
    payload['view'] = viewToWire(state, source.view);
    return payload;
  }
  const channel = source.channel;
  const ts = source.kind === 'message' ? source.message.ts : source.ephemeral.ts;
  const threadTs = source.kind === 'message' ? source.message.threadTs : source.ephemeral.threadTs;
  payload['container'] = { type: 'message', message_ts: ts, channel_id: channel.id, is_ephemeral: source.kind === 'ephemeral' };
  payload['channel'] = { id: channel.id, name: channel.kind === 'im' ? 'directmessage' : channel.name };
  if (source.kind === 'message') payload['message'] = messageToWire(state, source.message, { includeMetadata: true });
  const responseId = ctx.registry.issueResponseUrl({
    channel: channel.id,
    user: user.id,
    messageTs: ts,
    isEphemeral: source.kind === 'ephemeral',
    ...(threadTs !== undefined ? { threadTs } : {}),
  });
  payload['response_url'] = `${ctx.baseUrl}/response/${responseId}`;
  return payload;
}

/** A `view_submission` payload; `view.state.values` carries what the user entered. */
export function buildViewSubmissionPayload(ctx: PayloadContext, user: WorkspaceUser, view: StoredView): Payload {
  const { state } = ctx;
  return {
    type: 'view_submission',
    team: { id: state.team.id, domain: state.team.domain },
    user: payloadUser(state, user),
    api_app_id: state.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: ctx.registry.issueTrigger(user.id),
    view: viewToWire(state, view),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** A `view_closed` payload (sent only for views opened with `notify_on_close`). */
export function buildViewClosedPayload(ctx: PayloadContext, user: WorkspaceUser, view: StoredView): Payload {
  const { state } = ctx;
  return {
    type: 'view_closed',
    team: { id: state.team.id, domain: state.team.domain },
    user: payloadUser(state, user),
    api_app_id: state.appId,
    token: VERIFICATION_TOKEN,
    view: viewToWire(state, view),
    is_cleared: false,
    is_enterprise_install: false,
    enterprise: null,
  };
}
