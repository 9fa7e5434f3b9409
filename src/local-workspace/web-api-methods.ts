/**
 * The Web API methods the local workspace implements, each with the token type it accepts, the
 * scopes it needs (any one of them suffices) and its behaviour, following docs.slack.dev and the
 * facts collected in ecosystem.md §1.5 and §2.3. Handlers throw {@link WorkspaceError} for Slack
 * error codes; the HTTP layer turns that into `{ok:false, error}`.
 */
import { validateMessageBlocks, type BlockValidationResult } from '../slack/blocks/block-kit-schema.ts';
import {
  booleanArg,
  decodeCursor,
  encodeCursor,
  intArg,
  jsonArg,
  optionalString,
  requireString,
  withBlockIds,
  type ApiArgs,
} from './api-args.ts';
import type { InteractionRegistry } from './interaction-registry.ts';
import { validateView } from './view-schema.ts';
import { messageToWire, permalink, userToWire, viewToWire } from './wire-format.ts';
import { WorkspaceError, type MessageMetadata, type StoredMessage, type WorkspaceChannel, type WorkspaceState } from './workspace-state.ts';

/** What a method handler may use. */
export interface ApiContext {
  state: WorkspaceState;
  registry: InteractionRegistry;
  /** The server's http base URL (no trailing slash). */
  baseUrl: string;
  /** Issues a single-use Socket Mode URL. */
  issueSocketUrl(): string;
}

/** A Web API response body (always has `ok`). */
export type ApiResult = Record<string, unknown> & { ok: boolean };

/** One implemented method. */
export interface MethodDef {
  token: 'bot' | 'app';
  /** Scopes of which the bot token must hold at least one; none means no scope needed. */
  scopes?: (args: ApiArgs, ctx: ApiContext) => readonly string[];
  run(args: ApiArgs, ctx: ApiContext): ApiResult;
}

/** Slack truncates message text longer than this and warns `message_truncated` (ecosystem.md §2.3). */
export const MAX_MESSAGE_TEXT = 40_000;

function blockFailure(result: Exclude<BlockValidationResult, { ok: true }>): ApiResult {
  return {
    ok: false,
    error: result.error,
    errors: result.errors,
    response_metadata: { messages: result.errors.map((e) => `[ERROR] ${e}`) },
  };
}

/** Parses and validates a message's `blocks`: the blocks with ids, or a ready-made failure. */
function readMessageBlocks(args: ApiArgs): { blocks: unknown[] | undefined } | { failure: ApiResult } {
  const raw = jsonArg(args, 'blocks', 'invalid_blocks_format');
  if (raw === undefined) return { blocks: undefined };
  if (!Array.isArray(raw)) throw new WorkspaceError('invalid_blocks_format', 'blocks must be an array');
  const result = validateMessageBlocks(raw);
  if (!result.ok) return { failure: blockFailure(result) };
  return { blocks: withBlockIds(raw) };
}

function readMetadata(args: ApiArgs): MessageMetadata | undefined {
  const raw = jsonArg(args, 'metadata', 'invalid_metadata_format');
  if (raw === undefined) return undefined;
  const candidate = raw as { event_type?: unknown; event_payload?: unknown };
  if (
    typeof candidate !== 'object' ||
    typeof candidate.event_type !== 'string' ||
    candidate.event_payload === null ||
    typeof candidate.event_payload !== 'object' ||
    Array.isArray(candidate.event_payload)
  ) {
    throw new WorkspaceError('invalid_metadata_format');
  }
  return { event_type: candidate.event_type, event_payload: candidate.event_payload as Record<string, unknown> };
}

function readText(args: ApiArgs): { text: string | undefined; truncated: boolean } {
  const value = args['text'];
  if (value === undefined || value === null) return { text: undefined, truncated: false };
  const text = String(value);
  if (text.length > MAX_MESSAGE_TEXT) return { text: text.slice(0, MAX_MESSAGE_TEXT), truncated: true };
  return { text, truncated: false };
}

function withTruncationWarning(result: ApiResult, truncated: boolean): ApiResult {
  if (!truncated) return result;
  return { ...result, warning: 'message_truncated', response_metadata: { warnings: ['message_truncated'] } };
}

function channelFor(ctx: ApiContext, args: ApiArgs, key = 'channel'): WorkspaceChannel {
  return ctx.state.resolveChannel(requireString(args, key, 'channel_not_found'));
}

function requireBotMember(ctx: ApiContext, channel: WorkspaceChannel): void {
  if (!ctx.state.isMember(channel.id, ctx.state.bot.userId)) throw new WorkspaceError('not_in_channel');
}

function historyScopes(args: ApiArgs, ctx: ApiContext): readonly string[] {
  const ref = optionalString(args, 'channel');
  let kind: WorkspaceChannel['kind'] = 'channel';
  if (ref !== undefined) {
    try {
      kind = ctx.state.resolveChannel(ref).kind;
    } catch {
      // An unknown channel gets its own error from the handler; any scope check passes here.
    }
  }
  return kind === 'im' ? ['im:history'] : ['channels:history'];
}

function page<T>(items: readonly T[], args: ApiArgs): { items: T[]; has_more: boolean; response_metadata: { next_cursor: string } } {
  const limit = intArg(args, 'limit', 100, 999);
  const offset = decodeCursor(args);
  const slice = items.slice(offset, offset + limit);
  const more = offset + limit < items.length;
  return { items: slice, has_more: more, response_metadata: { next_cursor: more ? encodeCursor(offset + limit) : '' } };
}

function inTsRange(message: StoredMessage, args: ApiArgs): boolean {
  const oldest = optionalString(args, 'oldest');
  const latest = optionalString(args, 'latest');
  const inclusive = booleanArg(args, 'inclusive');
  const ts = Number(message.ts);
  if (oldest !== undefined && (inclusive ? ts < Number(oldest) : ts <= Number(oldest))) return false;
  if (latest !== undefined && (inclusive ? ts > Number(latest) : ts >= Number(latest))) return false;
  return true;
}

const chatWrite = (): readonly string[] => ['chat:write'];
const reactionsWrite = (): readonly string[] => ['reactions:write'];

/** Every implemented method, by name. Anything else is `unknown_method` (and a loud failure). */
export const METHODS: Readonly<Record<string, MethodDef>> = {
  'auth.test': {
    token: 'bot',
    run: (_args, ctx) => ({
      ok: true,
      url: `${ctx.baseUrl}/`,
      team: ctx.state.team.name,
      user: ctx.state.bot.name,
      team_id: ctx.state.team.id,
      user_id: ctx.state.bot.userId,
      bot_id: ctx.state.bot.botId,
      is_enterprise_install: false,
    }),
  },

  'apps.connections.open': {
    token: 'app',
    run: (_args, ctx) => ({ ok: true, url: ctx.issueSocketUrl() }),
  },

  'chat.postMessage': {
    token: 'bot',
    scopes: chatWrite,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      requireBotMember(ctx, channel);
      const blocks = readMessageBlocks(args);
      if ('failure' in blocks) return blocks.failure;
      const { text, truncated } = readText(args);
      if ((text === undefined || text === '') && blocks.blocks === undefined) throw new WorkspaceError('no_text');
      const metadata = readMetadata(args);
      const threadTs = optionalString(args, 'thread_ts');
      const message = ctx.state.postMessage({
        channel: channel.id,
        user: ctx.state.bot.userId,
        botId: ctx.state.bot.botId,
        text: text ?? '',
        ...(blocks.blocks !== undefined ? { blocks: blocks.blocks } : {}),
        ...(threadTs !== undefined ? { threadTs } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      });
      return withTruncationWarning(
        { ok: true, channel: channel.id, ts: message.ts, message: messageToWire(ctx.state, message, { includeMetadata: true }) },
        truncated,
      );
    },
  },

  'chat.update': {
    token: 'bot',
    scopes: chatWrite,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      const ts = requireString(args, 'ts', 'message_not_found');
      const existing = ctx.state.getMessage(channel.id, ts);
      if (existing === undefined) throw new WorkspaceError('message_not_found');
      if (existing.botId !== ctx.state.bot.botId) throw new WorkspaceError('cant_update_message');
      const blocks = readMessageBlocks(args);
      if ('failure' in blocks) return blocks.failure;
      const { text, truncated } = readText(args);
      if (text === undefined && blocks.blocks === undefined) throw new WorkspaceError('no_text');
      const metadata = readMetadata(args);
      // Text without blocks removes the old blocks (ecosystem.md §1.5); `blocks: []` clears them too.
      const nextBlocks = blocks.blocks === undefined ? null : blocks.blocks.length === 0 ? null : blocks.blocks;
      const message = ctx.state.updateMessage(
        channel.id,
        ts,
        { ...(text !== undefined ? { text } : {}), blocks: nextBlocks, ...(metadata !== undefined ? { metadata } : {}) },
        ctx.state.bot.userId,
      );
      return withTruncationWarning(
        {
          ok: true,
          channel: channel.id,
          ts: message.ts,
          text: message.text,
          message: messageToWire(ctx.state, message, { includeMetadata: true }),
        },
        truncated,
      );
    },
  },

  'chat.postEphemeral': {
    token: 'bot',
    scopes: chatWrite,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      requireBotMember(ctx, channel);
      const user = ctx.state.requireUser(requireString(args, 'user', 'user_not_found'));
      if (!ctx.state.isMember(channel.id, user.id)) throw new WorkspaceError('user_not_in_channel');
      const blocks = readMessageBlocks(args);
      if ('failure' in blocks) return blocks.failure;
      const { text, truncated } = readText(args);
      if ((text === undefined || text === '') && blocks.blocks === undefined) throw new WorkspaceError('no_text');
      const threadTs = optionalString(args, 'thread_ts');
      const ephemeral = ctx.state.postEphemeral({
        channel: channel.id,
        user: user.id,
        text: text ?? '',
        ...(blocks.blocks !== undefined ? { blocks: blocks.blocks } : {}),
        ...(threadTs !== undefined ? { threadTs } : {}),
      });
      return withTruncationWarning({ ok: true, message_ts: ephemeral.ts }, truncated);
    },
  },

  'chat.getPermalink': {
    token: 'bot',
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      const message = ctx.state.getMessage(channel.id, requireString(args, 'message_ts', 'message_not_found'));
      if (message === undefined) throw new WorkspaceError('message_not_found');
      return { ok: true, channel: channel.id, permalink: permalink(ctx.baseUrl, message) };
    },
  },

  'reactions.add': {
    token: 'bot',
    scopes: reactionsWrite,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      const name = requireString(args, 'name', 'invalid_name');
      if (name.includes(':') || name.includes(' ')) throw new WorkspaceError('invalid_name');
      ctx.state.addReaction(channel.id, requireString(args, 'timestamp', 'message_not_found'), name, ctx.state.bot.userId);
      return { ok: true };
    },
  },

  'reactions.remove': {
    token: 'bot',
    scopes: reactionsWrite,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      const name = requireString(args, 'name', 'invalid_name');
      ctx.state.removeReaction(channel.id, requireString(args, 'timestamp', 'message_not_found'), name, ctx.state.bot.userId);
      return { ok: true };
    },
  },

  'views.open': {
    token: 'bot',
    run: (args, ctx) => {
      const trigger = ctx.registry.useTrigger(requireString(args, 'trigger_id', 'invalid_trigger_id'));
      if (!trigger.ok) throw new WorkspaceError(trigger.error);
      const checked = validateView(jsonArg(args, 'view', 'invalid_arguments'), 'modal');
      if (!checked.ok) return { ok: false, error: checked.error, response_metadata: { messages: checked.errors.map((e) => `[ERROR] ${e}`) } };
      const view = ctx.state.openModal(trigger.user, { ...checked.view, blocks: withBlockIds(checked.view.blocks) });
      return { ok: true, view: viewToWire(ctx.state, view) };
    },
  },

  'views.update': {
    token: 'bot',
    run: (args, ctx) => {
      const viewId = optionalString(args, 'view_id');
      const externalId = optionalString(args, 'external_id');
      const existing = viewId !== undefined ? ctx.state.getView(viewId) : externalId !== undefined ? ctx.state.getViewByExternalId(externalId) : undefined;
      if (existing === undefined) throw new WorkspaceError('not_found');
      const checked = validateView(jsonArg(args, 'view', 'invalid_arguments'), existing.definition.type);
      if (!checked.ok) return { ok: false, error: checked.error, response_metadata: { messages: checked.errors.map((e) => `[ERROR] ${e}`) } };
      const view = ctx.state.updateView(existing.id, { ...checked.view, blocks: withBlockIds(checked.view.blocks) }, optionalString(args, 'hash'));
      return { ok: true, view: viewToWire(ctx.state, view) };
    },
  },

  'views.publish': {
    token: 'bot',
    run: (args, ctx) => {
      const user = ctx.state.requireUser(requireString(args, 'user_id', 'user_not_found'));
      const checked = validateView(jsonArg(args, 'view', 'invalid_arguments'), 'home');
      if (!checked.ok) return { ok: false, error: checked.error, response_metadata: { messages: checked.errors.map((e) => `[ERROR] ${e}`) } };
      const view = ctx.state.publishHome(user.id, { ...checked.view, blocks: withBlockIds(checked.view.blocks) }, optionalString(args, 'hash'));
      return { ok: true, view: viewToWire(ctx.state, view) };
    },
  },

  'conversations.history': {
    token: 'bot',
    scopes: historyScopes,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      const includeMetadata = booleanArg(args, 'include_all_metadata');
      const newestFirst = ctx.state
        .history(channel.id)
        .filter((m) => inTsRange(m, args))
        .reverse();
      const { items, has_more, response_metadata } = page(newestFirst, args);
      return {
        ok: true,
        messages: items.map((m) => messageToWire(ctx.state, m, { includeMetadata })),
        has_more,
        pin_count: 0,
        response_metadata,
      };
    },
  },

  'conversations.replies': {
    token: 'bot',
    scopes: historyScopes,
    run: (args, ctx) => {
      const channel = channelFor(ctx, args);
      const includeMetadata = booleanArg(args, 'include_all_metadata');
      const thread = ctx.state.thread(channel.id, requireString(args, 'ts', 'thread_not_found')).filter((m) => inTsRange(m, args));
      const { items, has_more, response_metadata } = page(thread, args);
      return { ok: true, messages: items.map((m) => messageToWire(ctx.state, m, { includeMetadata })), has_more, response_metadata };
    },
  },

  'users.info': {
    token: 'bot',
    scopes: () => ['users:read'],
    run: (args, ctx) => ({ ok: true, user: userToWire(ctx.state, ctx.state.requireUser(requireString(args, 'user', 'user_not_found'))) }),
  },

  'assistant.threads.setStatus': {
    token: 'bot',
    scopes: () => ['assistant:write', 'chat:write'],
    run: (args, ctx) => {
      const channel = channelFor(ctx, args, 'channel_id');
      const threadTs = requireString(args, 'thread_ts', 'invalid_arguments');
      const status = args['status'];
      if (typeof status !== 'string') throw new WorkspaceError('invalid_arguments', 'missing status');
      const loading = jsonArg(args, 'loading_messages', 'invalid_arguments');
      if (loading !== undefined && (!Array.isArray(loading) || loading.some((l) => typeof l !== 'string') || loading.length > 10)) {
        throw new WorkspaceError('invalid_arguments', 'loading_messages must be up to 10 strings');
      }
      ctx.state.setThreadStatus(channel.id, threadTs, status, loading as string[] | undefined);
      return { ok: true };
    },
  },
};
