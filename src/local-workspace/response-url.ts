/**
 * The `response_url` endpoint (`POST /response/<id>`) that interaction payloads point at. Bolt's
 * `respond()` posts JSON here (ecosystem.md §1.5) and throws `RespondError` on a non-2xx answer:
 *
 * - `delete_original: true` deletes the message (or ephemeral) the interaction came from;
 * - `replace_original: true` replaces its text and blocks (blocks absent → removed);
 * - otherwise a new message: `response_type: 'in_channel'` posts in the channel, the default
 *   (`ephemeral`) shows it to the clicking user only.
 *
 * A url takes 5 posts within 30 minutes; later ones get 404 `used_url` / `expired_url`.
 * Bad blocks get 400 `invalid_blocks`, so `respond()` fails loudly in the bot.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { validateMessageBlocks } from '../slack/blocks/block-kit-schema.ts';
import { withBlockIds } from './api-args.ts';
import type { CallJournal } from './call-journal.ts';
import type { FaultInjector } from './fault-injection.ts';
import { parseApiBody, readBody, sendJson } from './http-util.ts';
import type { InteractionRegistry, ResponseUrlTarget } from './interaction-registry.ts';
import { WorkspaceError, type WorkspaceState } from './workspace-state.ts';

/** The journal's method name for response_url posts (and the fault-injection key). */
export const RESPONSE_URL_METHOD = 'response_url';

/** What the response_url handler needs. */
export interface ResponseUrlOptions {
  state: WorkspaceState;
  registry: InteractionRegistry;
  journal: CallJournal;
  faults: FaultInjector;
  now(): number;
}

function apply(state: WorkspaceState, target: ResponseUrlTarget, body: Record<string, unknown>, blocks: unknown[] | undefined): void {
  const text = typeof body['text'] === 'string' ? body['text'] : '';
  if (body['delete_original'] === true || body['delete_original'] === 'true') {
    if (target.messageTs === undefined) throw new WorkspaceError('message_not_found');
    if (target.isEphemeral) state.deleteEphemeral(target.channel, target.messageTs, target.user);
    else state.deleteMessage(target.channel, target.messageTs);
    return;
  }
  if (body['replace_original'] === true || body['replace_original'] === 'true') {
    if (target.messageTs === undefined) throw new WorkspaceError('message_not_found');
    if (target.isEphemeral) {
      state.replaceEphemeral(target.channel, target.messageTs, target.user, { text, ...(blocks !== undefined ? { blocks } : {}) });
      return;
    }
    const original = state.getMessage(target.channel, target.messageTs);
    if (original === undefined) throw new WorkspaceError('message_not_found');
    if (original.botId !== state.bot.botId) throw new WorkspaceError('cant_update_message');
    state.updateMessage(target.channel, target.messageTs, { text, blocks: blocks ?? null }, state.bot.userId);
    return;
  }
  const threadTs = typeof body['thread_ts'] === 'string' ? body['thread_ts'] : target.threadTs;
  if (body['response_type'] === 'in_channel') {
    state.postMessage({
      channel: target.channel,
      user: state.bot.userId,
      botId: state.bot.botId,
      text,
      ...(blocks !== undefined ? { blocks } : {}),
      ...(threadTs !== undefined ? { threadTs } : {}),
    });
    return;
  }
  state.postEphemeral({
    channel: target.channel,
    user: target.user,
    text,
    ...(blocks !== undefined ? { blocks } : {}),
    ...(threadTs !== undefined ? { threadTs } : {}),
  });
}

/** Builds the `/response/<id>` handler. Never throws; every outcome is an HTTP answer. */
export function createResponseUrlHandler(options: ResponseUrlOptions): (req: IncomingMessage, res: ServerResponse, id: string) => Promise<void> {
  return async (req, res, id) => {
    const ts = options.now();
    let body: Record<string, unknown> = {};
    const answer = (status: number, response: Record<string, unknown>, headers: Record<string, string> = {}): void => {
      options.journal.record({ ts, method: RESPONSE_URL_METHOD, auth: 'none', body: { ...body, response_url_id: id }, status, response });
      sendJson(res, status, response, headers);
    };
    if (req.method !== 'POST') {
      answer(405, { ok: false, error: 'method_not_allowed' });
      return;
    }
    try {
      const parsed = parseApiBody(req.headers['content-type'], await readBody(req));
      // Slack also accepts `payload=<json>` form bodies on response urls.
      const fromForm = typeof parsed?.['payload'] === 'string' ? parseApiBody('application/json', parsed['payload']) : parsed;
      if (fromForm === undefined) {
        answer(400, { ok: false, error: 'invalid_payload' });
        return;
      }
      body = fromForm;
    } catch {
      answer(400, { ok: false, error: 'invalid_payload' });
      return;
    }
    const fault = options.faults.take(RESPONSE_URL_METHOD);
    if (fault?.delayMs !== undefined) await delay(fault.delayMs);
    if (fault?.status !== undefined) {
      answer(fault.status, { ok: false, error: fault.status === 429 ? 'ratelimited' : 'internal_error' }, fault.status === 429 ? { 'retry-after': String(fault.retryAfterSec ?? 1) } : {});
      return;
    }
    if (fault?.error !== undefined) {
      answer(400, { ok: false, error: fault.error });
      return;
    }
    const check = options.registry.useResponseUrl(id);
    if (!check.ok) {
      answer(404, { ok: false, error: check.error });
      return;
    }
    let blocks: unknown[] | undefined;
    if (body['blocks'] !== undefined) {
      let raw: unknown = body['blocks'];
      if (typeof raw === 'string') {
        try {
          raw = JSON.parse(raw) as unknown;
        } catch {
          raw = null;
        }
      }
      const result = validateMessageBlocks(raw);
      if (!result.ok) {
        answer(400, { ok: false, error: result.error, errors: result.errors });
        return;
      }
      blocks = withBlockIds(raw as unknown[]);
    }
    try {
      apply(options.state, check.target, body, blocks);
      answer(200, { ok: true });
    } catch (error) {
      if (error instanceof WorkspaceError) {
        answer(404, { ok: false, error: error.slackError });
        return;
      }
      options.journal.recordUnexpected('handler_error', `response_url failed inside the local workspace: ${String(error)}`);
      answer(500, { ok: false, error: 'internal_error' });
    }
  };
}
