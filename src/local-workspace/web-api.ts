/**
 * The HTTP side of the local Web API: `POST /api/<method>` with form-encoded or JSON bodies, as
 * `@slack/web-api` 8 sends them (ecosystem.md §1.9). It authenticates the bearer token (or a
 * `token` body field) against the configured bot/app tokens, applies queued faults, enforces the
 * granted scopes, runs the method from {@link METHODS}, and journals every call.
 *
 * Slack's conventions are kept on purpose: errors are HTTP 200 `{ok:false, error}`; only
 * injected faults produce 429 (with `Retry-After`) or 5xx. Granted scopes are reported in the
 * `x-oauth-scopes` header, which `WebClient` turns into `response_metadata.scopes` (P17).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { CallJournal, JournalEntry } from './call-journal.ts';
import type { FaultInjector } from './fault-injection.ts';
import { BodyTooLargeError, parseApiBody, readBody, sendJson } from './http-util.ts';
import { METHODS, type ApiContext, type ApiResult } from './web-api-methods.ts';
import { WorkspaceError } from './workspace-state.ts';

/** What the Web API handler needs. */
export interface WebApiOptions {
  ctx: ApiContext;
  journal: CallJournal;
  faults: FaultInjector;
  botToken: string;
  appToken: string;
  grantedScopes: readonly string[];
  /** Refuse calls whose method needs a scope that was not granted (default true). */
  enforceScopes: boolean;
  now(): number;
}

/** Handles one `/api/<method>` request. Never throws; every outcome is an HTTP answer. */
export type WebApiHandler = (req: IncomingMessage, res: ServerResponse, method: string) => Promise<void>;

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** Builds the `/api/<method>` handler. */
export function createWebApiHandler(options: WebApiOptions): WebApiHandler {
  const scopesHeader = options.grantedScopes.join(',');

  return async (req, res, method) => {
    const startedAt = options.now();
    let args: Record<string, unknown> = {};
    let auth: JournalEntry['auth'] = 'none';

    const answer = (status: number, body: ApiResult, extra: { headers?: Record<string, string>; fault?: JournalEntry['fault'] } = {}): void => {
      const headers: Record<string, string> = { ...extra.headers };
      if (auth === 'bot') headers['x-oauth-scopes'] = scopesHeader;
      options.journal.record({
        ts: startedAt,
        method,
        auth,
        body: args,
        status,
        response: body,
        ...(extra.fault !== undefined ? { fault: extra.fault } : {}),
      });
      sendJson(res, status, body, headers);
    };

    if (req.method !== 'POST' && req.method !== 'GET') {
      answer(405, { ok: false, error: 'method_not_allowed' });
      return;
    }
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const query = Object.fromEntries(url.searchParams.entries());
      const parsed = req.method === 'POST' ? parseApiBody(req.headers['content-type'], await readBody(req)) : {};
      if (parsed === undefined) {
        answer(200, { ok: false, error: 'invalid_json' });
        return;
      }
      args = { ...query, ...parsed };
    } catch (error) {
      answer(error instanceof BodyTooLargeError ? 413 : 400, { ok: false, error: 'invalid_form_data' });
      return;
    }

    const token = bearer(req) ?? (typeof args['token'] === 'string' ? args['token'] : undefined);
    auth = token === undefined ? 'none' : token === options.botToken ? 'bot' : token === options.appToken ? 'app' : 'invalid';

    const fault = options.faults.take(method);
    if (fault !== undefined) {
      if (fault.delayMs !== undefined) await delay(fault.delayMs);
      const recorded: JournalEntry['fault'] = {
        ...(fault.status !== undefined ? { status: fault.status } : {}),
        ...(fault.error !== undefined ? { error: fault.error } : {}),
        ...(fault.delayMs !== undefined ? { delayMs: fault.delayMs } : {}),
        ...(fault.status === 429 ? { retryAfterSec: fault.retryAfterSec ?? 1 } : {}),
      };
      if (fault.status === 429) {
        answer(429, { ok: false, error: 'ratelimited' }, { headers: { 'retry-after': String(fault.retryAfterSec ?? 1) }, fault: recorded });
        return;
      }
      if (fault.status !== undefined) {
        answer(fault.status, { ok: false, error: 'internal_error' }, { fault: recorded });
        return;
      }
      if (fault.error !== undefined) {
        answer(200, { ok: false, error: fault.error }, { fault: recorded });
        return;
      }
      // A pure delay: fall through to the normal answer.
    }

    const def = METHODS[method];
    if (def === undefined) {
      options.journal.recordUnexpected('unknown_method', `the bot called ${method}, which the local workspace does not implement`);
      answer(200, { ok: false, error: 'unknown_method' });
      return;
    }
    if (auth === 'none') {
      answer(200, { ok: false, error: 'not_authed' });
      return;
    }
    if (auth === 'invalid') {
      answer(200, { ok: false, error: 'invalid_auth' });
      return;
    }
    if (auth !== def.token) {
      answer(200, { ok: false, error: 'not_allowed_token_type' });
      return;
    }
    const needed = def.scopes?.(args, options.ctx) ?? [];
    const headers: Record<string, string> = needed.length > 0 ? { 'x-accepted-oauth-scopes': needed.join(',') } : {};
    if (options.enforceScopes && auth === 'bot' && needed.length > 0 && !needed.some((s) => options.grantedScopes.includes(s))) {
      answer(200, { ok: false, error: 'missing_scope', needed: needed.join(','), provided: scopesHeader }, { headers });
      return;
    }
    try {
      answer(200, def.run(args, options.ctx), { headers });
    } catch (error) {
      if (error instanceof WorkspaceError) {
        answer(200, { ok: false, error: error.slackError }, { headers });
        return;
      }
      options.journal.recordUnexpected('handler_error', `${method} failed inside the local workspace: ${String(error)}`);
      // 200, not 5xx: a 5xx would make WebClient retry our own bug for minutes.
      answer(200, { ok: false, error: 'fatal_error' }, { headers });
    }
  };
}
