/**
 * Converts the workspace's stored records into the JSON shapes Slack puts on the wire (Web API
 * responses, event payloads), so both the Web API and the event builders agree on one shape.
 */
import type { StoredMessage, StoredView, WorkspaceState, WorkspaceUser } from './workspace-state.ts';

/** A Slack message object as returned by `conversations.history` / `chat.postMessage`. */
export type WireMessage = Record<string, unknown> & { type: 'message'; ts: string; text: string };

/**
 * The Slack JSON of a stored message. Thread roots carry `thread_ts`, `reply_count` and friends;
 * `metadata` is included only when asked for (Slack's `include_all_metadata`).
 */
export function messageToWire(state: WorkspaceState, message: StoredMessage, options: { includeMetadata?: boolean } = {}): WireMessage {
  const wire: WireMessage = { type: 'message', ts: message.ts, text: message.text, user: message.user, team: state.team.id };
  if (message.botId !== undefined) {
    wire['bot_id'] = message.botId;
    wire['app_id'] = state.appId;
    wire['bot_profile'] = { id: message.botId, app_id: state.appId, name: state.bot.name, team_id: state.team.id, deleted: false };
  }
  if (message.clientMsgId !== undefined) wire['client_msg_id'] = message.clientMsgId;
  if (message.blocks !== undefined) wire['blocks'] = message.blocks;
  if (message.threadTs !== undefined) {
    wire['thread_ts'] = message.threadTs;
    const root = state.getMessage(message.channel, message.threadTs);
    if (root !== undefined) wire['parent_user_id'] = root.user;
  } else {
    const replies = state.replies(message.channel, message.ts);
    const last = replies.at(-1);
    if (last !== undefined) {
      const replyUsers = [...new Set(replies.map((r) => r.user))];
      wire['thread_ts'] = message.ts;
      wire['reply_count'] = replies.length;
      wire['reply_users'] = replyUsers;
      wire['reply_users_count'] = replyUsers.length;
      wire['latest_reply'] = last.ts;
    }
  }
  if (message.reactions.length > 0) {
    wire['reactions'] = message.reactions.map((r) => ({ name: r.name, users: r.users, count: r.users.length }));
  }
  if (message.edited !== undefined) wire['edited'] = message.edited;
  if (options.includeMetadata === true && message.metadata !== undefined) wire['metadata'] = message.metadata;
  return wire;
}

/** The Slack JSON of a user (`users.info`). */
export function userToWire(state: WorkspaceState, user: WorkspaceUser): Record<string, unknown> {
  return {
    id: user.id,
    team_id: state.team.id,
    name: user.name,
    real_name: user.realName,
    deleted: false,
    is_bot: user.isBot,
    is_app_user: false,
    is_admin: false,
    tz: 'UTC',
    tz_offset: 0,
    profile: {
      real_name: user.realName,
      display_name: user.realName,
      team: state.team.id,
      ...(user.botId !== undefined ? { bot_id: user.botId } : {}),
    },
  };
}

/** The Slack JSON of a view (`views.*` responses, `view_submission` payloads). */
export function viewToWire(state: WorkspaceState, view: StoredView): Record<string, unknown> {
  const d = view.definition;
  return {
    id: view.id,
    team_id: state.team.id,
    type: d.type,
    blocks: d.blocks,
    private_metadata: d.private_metadata ?? '',
    callback_id: d.callback_id ?? '',
    state: { values: view.stateValues },
    hash: view.hash,
    title: d.title ?? { type: 'plain_text', text: '' },
    clear_on_close: d.clear_on_close ?? false,
    notify_on_close: d.notify_on_close ?? false,
    close: d.close ?? null,
    submit: d.submit ?? null,
    previous_view_id: view.previousViewId,
    root_view_id: view.rootViewId,
    app_id: state.appId,
    external_id: d.external_id ?? '',
    app_installed_team_id: state.team.id,
    bot_id: state.bot.botId,
  };
}

/** `https://…/archives/C/p1234567890123456` (+ `?thread_ts=…&cid=…` for replies), like Slack. */
export function permalink(baseUrl: string, message: StoredMessage): string {
  const link = `${baseUrl}/archives/${message.channel}/p${message.ts.replace('.', '')}`;
  return message.threadTs === undefined ? link : `${link}?thread_ts=${message.threadTs}&cid=${message.channel}`;
}
