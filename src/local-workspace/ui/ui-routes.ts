/**
 * The browser UI of the local workspace (issue E), mounted on a running {@link LocalSlack}:
 *
 * - `GET  <prefix>/`                 the single page (static files from `./static/`);
 * - `GET  <prefix>/api/snapshot`     what one user sees (`?user=`): channels, messages, their
 *                                    ephemerals and views, thread statuses, refused app calls;
 * - `GET  <prefix>/api/events`       the same user's live changes over Server-Sent Events, resumable
 *                                    with `Last-Event-ID` (or `?since=`), `event: reset` when the
 *                                    change buffer no longer covers the gap;
 * - `POST <prefix>/api/messages|click|views/submit|views/close|home|dm`  what a person does; each
 *                                    goes through {@link UserActions}, so the app receives exactly
 *                                    the Events API / `block_actions` / `view_submission` payloads
 *                                    the protocol tests pin.
 *
 * The UI is a stand-in for Slack's client, so it never talks to the harness: it only reads the
 * workspace state and acts as a person would. It binds where the server binds (loopback only) and
 * refuses requests whose `Host` is not a loopback name (DNS rebinding) and state changes whose
 * `Origin` is another site or whose body is not JSON (so a web page cannot post as a user).
 * Everything the page renders is inserted as text, never as HTML (see `static/blocks.js`), and a
 * strict Content-Security-Policy forbids inline script and foreign origins as a second line.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidStateError, SlackApiError, asBotError } from '../../shared/errors.ts';
import { BodyTooLargeError, readBody, sendJson } from '../http-util.ts';
import type { LocalSlack } from '../server.ts';
import { WorkspaceError, type WorkspaceChange, type WorkspaceSnapshot } from '../workspace-state.ts';

/** Options of {@link mountWorkspaceUi}. */
export interface WorkspaceUiOptions {
  /** Where the UI lives (default `/ui`); `GET /` from a browser redirects there. */
  prefix?: string;
  /** SSE keep-alive comment interval (default 15 s). */
  heartbeatMs?: number;
}

/** A mounted UI. */
export interface WorkspaceUi {
  /** The page's absolute URL (`http://127.0.0.1:<port>/ui/`). */
  readonly url: string;
  /** How many live event streams are open (tests wait for the page to be listening). */
  readonly streamCount: number;
  /** Ends every open event stream (the page reconnects if the server is still up). */
  closeStreams(): void;
}

/** The static files the page is made of, with their content types. Nothing else is served. */
const STATIC_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'blocks.js': 'text/javascript; charset=utf-8',
  'mrkdwn.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const UserId = z.string().regex(/^[UW][A-Z0-9_]{1,40}$/);
const Ts = z.string().regex(/^\d{1,12}\.\d{6}$/);
const ChannelRef = z.string().regex(/^[CDG][A-Z0-9_]{1,40}$/);
const Id = z.string().min(1).max(255);

const PostBody = z.strictObject({ user: UserId, channel: ChannelRef, text: z.string().min(1).max(40_000), threadTs: Ts.optional() });
const ClickBody = z.union([
  z.strictObject({ user: UserId, actionId: Id, blockId: Id.optional(), channel: ChannelRef, messageTs: Ts }),
  z.strictObject({ user: UserId, actionId: Id, blockId: Id.optional(), viewId: Id }),
]);
const SubmitBody = z.strictObject({
  user: UserId,
  viewId: Id,
  values: z.record(Id, z.record(Id, z.string().max(3000))),
});
const CloseBody = z.strictObject({ user: UserId, viewId: Id });
const UserBody = z.strictObject({ user: UserId });

/** A request the UI refuses before doing anything. */
class RefusedRequest extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = (req.headers.host ?? '').toLowerCase();
  const at = host.lastIndexOf(':');
  if (at <= 0) return false;
  return LOOPBACK_HOSTS.has(host.slice(0, at)) && host.slice(at + 1) === String(port);
}

function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && url.port === String(port);
  } catch {
    return false;
  }
}

async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) throw new RefusedRequest(415, 'json_required');
  let raw: string;
  try {
    raw = await readBody(req, 256 * 1024);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new RefusedRequest(413, 'body_too_large');
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RefusedRequest(400, 'invalid_json');
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success) throw new RefusedRequest(400, 'invalid_request');
  return checked.data;
}

/** What `user` may see of a snapshot: their channels, their ephemerals and views, their app errors. */
export function snapshotFor(snapshot: WorkspaceSnapshot, user: string): WorkspaceSnapshot {
  const channels = snapshot.channels.filter((c) => c.members.includes(user));
  const visible = new Set(channels.map((c) => c.id));
  return {
    ...snapshot,
    channels,
    messages: snapshot.messages.filter((m) => visible.has(m.channel)),
    ephemerals: snapshot.ephemerals.filter((e) => e.user === user),
    views: snapshot.views.filter((v) => v.userId === user),
    statuses: snapshot.statuses.filter((s) => visible.has(s.channel)),
    appErrors: snapshot.appErrors.filter((e) => e.user === undefined || e.user === user),
  };
}

/**
 * Whether `user` may see `change`. Channel membership is checked against `isMember`, so a DM
 * created after the page loaded is still filtered correctly.
 */
export function changeVisibleTo(change: WorkspaceChange, user: string, isMember: (channel: string, user: string) => boolean): boolean {
  switch (change.type) {
    case 'message_posted':
    case 'message_changed':
    case 'message_deleted':
      return isMember(change.message.channel, user);
    case 'reactions_changed':
      return isMember(change.channel, user);
    case 'ephemeral_posted':
    case 'ephemeral_changed':
    case 'ephemeral_deleted':
      return change.ephemeral.user === user;
    case 'view_opened':
    case 'view_updated':
    case 'view_closed':
    case 'home_published':
      return change.view.userId === user;
    case 'thread_status':
      return isMember(change.status.channel, user);
    case 'app_error':
      return change.error.user === undefined || change.error.user === user;
  }
}

/**
 * Mounts the UI on `local` and makes `GET /` from a browser open it.
 * @throws ConfigError when the prefix is reserved or not a path.
 */
export function mountWorkspaceUi(local: LocalSlack, options: WorkspaceUiOptions = {}): WorkspaceUi {
  const prefix = (options.prefix ?? '/ui').replace(/\/+$/, '');
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<ServerResponse>();
  const { state, actions } = local;

  const serveStatic = async (res: ServerResponse, name: string): Promise<void> => {
    const type = Object.hasOwn(STATIC_FILES, name) ? STATIC_FILES[name] : undefined;
    if (type === undefined) {
      sendJson(res, 404, { ok: false, error: 'not_found' }, SECURITY_HEADERS);
      return;
    }
    const body = await readFile(`${STATIC_DIR}${name}`);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': body.length });
    res.end(body);
  };

  const userParam = (url: URL): string => {
    const checked = UserId.safeParse(url.searchParams.get('user'));
    if (!checked.success) throw new RefusedRequest(400, 'invalid_user');
    state.requireUser(checked.data);
    return checked.data;
  };

  const openStream = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const user = userParam(url);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const send = (change: WorkspaceChange): void => {
      if (!changeVisibleTo(change, user, (channel, who) => state.isMember(channel, who))) return;
      res.write(`id: ${change.seq}\nevent: change\ndata: ${JSON.stringify(change)}\n\n`);
    };
    const resumeFrom = req.headers['last-event-id'] ?? url.searchParams.get('since') ?? undefined;
    const since = resumeFrom === undefined || Array.isArray(resumeFrom) ? Number.NaN : Number(resumeFrom);
    // Subscribe before replaying: Node runs this synchronously, so nothing falls between the two.
    const unsubscribe = state.onChange(send);
    if (Number.isInteger(since) && since >= 0) {
      const missed = state.changesSince(since);
      if (missed === undefined) res.write(`event: reset\ndata: {}\n\n`);
      else for (const change of missed) send(change);
    }
    const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
    heartbeat.unref();
    streams.add(res);
    const done = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.once('close', done);
    res.once('close', done);
  };

  const act = async (req: IncomingMessage, res: ServerResponse, action: string): Promise<void> => {
    switch (action) {
      case 'messages': {
        const body = await readJson(req, PostBody);
        const seq = state.lastSeq;
        try {
          const posted = await actions.postUserMessage(body.user, body.channel, body.text, body.threadTs);
          sendJson(res, 200, { ok: true, ts: posted.message.ts, delivered: true }, SECURITY_HEADERS);
        } catch (error) {
          // As in Slack, the message is posted even when the app cannot be reached; the page says
          // the app did not get it instead of offering to post it a second time.
          const stored = (state.changesSince(seq) ?? []).find((c) => c.type === 'message_posted' && c.message.user === body.user);
          if (!(error instanceof SlackApiError) || error instanceof WorkspaceError || stored?.type !== 'message_posted') throw error;
          sendJson(res, 200, { ok: true, ts: stored.message.ts, delivered: false }, SECURITY_HEADERS);
        }
        return;
      }
      case 'click': {
        const body = await readJson(req, ClickBody);
        const clickOptions = body.blockId === undefined ? {} : { blockId: body.blockId };
        if ('viewId' in body) await actions.clickViewButton(body.user, body.viewId, body.actionId, clickOptions);
        else await actions.clickButton(body.user, body.channel, body.messageTs, body.actionId, clickOptions);
        sendJson(res, 200, { ok: true }, SECURITY_HEADERS);
        return;
      }
      case 'views/submit': {
        const body = await readJson(req, SubmitBody);
        const result = await actions.submitView(body.user, body.viewId, body.values);
        sendJson(res, 200, { ok: true, responseAction: result.responseAction ?? null, open: result.view.open }, SECURITY_HEADERS);
        return;
      }
      case 'views/close': {
        const body = await readJson(req, CloseBody);
        await actions.closeView(body.user, body.viewId);
        sendJson(res, 200, { ok: true }, SECURITY_HEADERS);
        return;
      }
      case 'home': {
        const body = await readJson(req, UserBody);
        const delivery = await actions.openAppHome(body.user);
        sendJson(res, 200, { ok: true, delivered: delivery !== undefined }, SECURITY_HEADERS);
        return;
      }
      case 'dm': {
        const body = await readJson(req, UserBody);
        sendJson(res, 200, { ok: true, channel: state.ensureIm(body.user) }, SECURITY_HEADERS);
        return;
      }
      default:
        throw new RefusedRequest(404, 'not_found');
    }
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (!hostAllowed(req, local.port)) throw new RefusedRequest(421, 'host_not_allowed');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const rest = url.pathname.slice(prefix.length);
      if (req.method === 'GET') {
        if (rest === '' ) {
          res.writeHead(302, { location: `${prefix}/`, 'content-length': 0 });
          res.end();
          return;
        }
        if (rest === '/') return await serveStatic(res, 'index.html');
        if (rest === '/api/snapshot') {
          sendJson(res, 200, { ok: true, snapshot: snapshotFor(state.snapshot(), userParam(url)) }, SECURITY_HEADERS);
          return;
        }
        if (rest === '/api/events') {
          openStream(req, res, url);
          return;
        }
        return await serveStatic(res, rest.slice(1));
      }
      if (req.method === 'POST' && rest.startsWith('/api/')) {
        if (!originAllowed(req, local.port)) throw new RefusedRequest(403, 'origin_not_allowed');
        await act(req, res, rest.slice('/api/'.length));
        return;
      }
      throw new RefusedRequest(405, 'method_not_allowed');
    } catch (error) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (error instanceof RefusedRequest) sendJson(res, error.status, { ok: false, error: error.code }, SECURITY_HEADERS);
      else if (error instanceof WorkspaceError) sendJson(res, 400, { ok: false, error: error.slackError }, SECURITY_HEADERS);
      else if (error instanceof InvalidStateError) sendJson(res, 409, { ok: false, error: 'invalid_state', message: error.message }, SECURITY_HEADERS);
      else if (error instanceof SlackApiError) {
        // The app is not connected, or did not acknowledge in time (Slack shows a warning too).
        sendJson(res, 503, { ok: false, error: 'app_unreachable', message: asBotError(error).message }, SECURITY_HEADERS);
      } else throw error;
    }
  };

  local.mount(prefix, handler);
  local.setHomePage(`${prefix}/`);
  return {
    url: `${local.url}${prefix}/`,
    get streamCount() {
      return streams.size;
    },
    closeStreams() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
