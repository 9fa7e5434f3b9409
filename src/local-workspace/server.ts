/**
 * The local Slack-compatible server: one `node:http` server on loopback that serves
 *
 * - `POST /api/<method>`   the Web API subset in {@link METHODS} (ecosystem.md §1.9);
 * - `GET  /socket?ticket=` Socket Mode (WebSocket upgrade), see {@link SocketModeServer};
 * - `POST /response/<id>`  interaction response urls;
 * - anything mounted with {@link LocalSlack.mount} (the browser UI, `src/local-workspace/ui/`);
 * - `GET /` the home page set with {@link LocalSlack.setHomePage} for browsers, else a health JSON.
 *
 * App calls Slack refuses for their content (`invalid_blocks`, `no_text`, …) are also put on the
 * workspace's change feed as `app_error`, so the UI can show them where the message would be.
 *
 * A real, unmodified Bolt 5 `App` connects with `clientOptions: { slackApiUrl: server.apiUrl }`
 * (plus its `xapp-` token in Socket Mode, or `server.setHttpRequestUrl()` in HTTP mode). State is
 * in memory and lost on close.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../shared/clock.ts';
import { ConfigError } from '../shared/errors.ts';
import { createRedactor } from '../shared/redact.ts';
import { CallJournal, type JournalEntry, type LoudFailure } from './call-journal.ts';
import { Dispatcher, type DeliveryRecord } from './delivery.ts';
import { FaultInjector, type FaultHandle, type FaultSpec } from './fault-injection.ts';
import { HttpDelivery } from './http-delivery.ts';
import { sendJson } from './http-util.ts';
import { InteractionRegistry, InteractionLimits } from './interaction-registry.ts';
import { createResponseUrlHandler } from './response-url.ts';
import { SocketModeServer, type EnvelopeKind } from './socket-mode.ts';
import {
  DEFAULT_EVENT_SUBSCRIPTIONS,
  UserActions,
  type ClickOptions,
  type PostedUserMessage,
  type SubmittedValues,
  type ViewSubmissionResult,
} from './user-actions.ts';
import { createWebApiHandler } from './web-api.ts';
import { WorkspaceState, type AppError } from './workspace-state.ts';

/** Options for {@link startLocalSlack}. */
export interface LocalSlackOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only: `127.0.0.1` (default), `::1` or `localhost`. */
  host?: string;
  /** The bot token the app will present (`xoxb-…`). */
  botToken: string;
  /** The app-level token for Socket Mode (`xapp-…`). */
  appToken: string;
  /** Needed for HTTP delivery (signing). */
  signingSecret?: string;
  /** Scopes reported in `x-oauth-scopes` and enforced per method. */
  grantedScopes: readonly string[];
  /** Where to deliver when no socket client is connected (Bolt's HTTP receiver: `…/slack/events`). */
  httpRequestUrl?: string;
  /** Bot events delivered (default: app_mention, message.channels, message.im, app_home_opened). */
  eventSubscriptions?: readonly string[];
  /** Refuse calls lacking a granted scope with `missing_scope` (default true). */
  enforceScopes?: boolean;
  /** Socket ack / HTTP answer timeout (default 3000 ms, Slack's). */
  ackTimeoutMs?: number;
  /** How long a trigger_id stays valid (default 3000 ms, Slack's). */
  triggerTtlMs?: number;
  /** Time source for message timestamps and handle expiry (default: system clock). */
  clock?: Clock;
}

/** Handles a request under a mounted prefix. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A running local Slack. Methods are bound: they can be destructured. */
export interface LocalSlack {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** `<url>/api/` — pass as `clientOptions.slackApiUrl`. */
  readonly apiUrl: string;
  readonly port: number;
  readonly state: WorkspaceState;
  readonly socket: SocketModeServer;
  readonly journal: CallJournal;
  readonly faults: FaultInjector;
  readonly dispatcher: Dispatcher;
  readonly actions: UserActions;
  /** Signed HTTP delivery (present when a signing secret is configured), for hand-made requests. */
  readonly http: HttpDelivery | undefined;

  /** See {@link UserActions.postUserMessage}. */
  postUserMessage(user: string, channel: string, text: string, threadTs?: string): Promise<PostedUserMessage>;
  /** See {@link UserActions.clickButton}. */
  clickButton(user: string, channel: string, messageTs: string, actionId: string, options?: ClickOptions): Promise<DeliveryRecord>;
  /** See {@link UserActions.clickViewButton}. */
  clickViewButton(user: string, viewId: string, actionId: string, options?: ClickOptions): Promise<DeliveryRecord>;
  /** See {@link UserActions.submitView}. */
  submitView(user: string, viewId: string, values: SubmittedValues): Promise<ViewSubmissionResult>;
  /** See {@link UserActions.closeView}. */
  closeView(user: string, viewId: string): Promise<DeliveryRecord | undefined>;
  /** See {@link UserActions.openAppHome}. */
  openAppHome(user: string, tab?: 'home' | 'messages'): Promise<DeliveryRecord | undefined>;

  /** Delivers a raw payload (socket if connected, else HTTP). See {@link Dispatcher.deliver}. */
  deliver(kind: EnvelopeKind, payload: Record<string, unknown>): Promise<DeliveryRecord>;
  /** Sends an earlier delivery again as Slack's retry. See {@link Dispatcher.redeliver}. */
  redeliver(deliveryId: string, reason?: string): Promise<DeliveryRecord>;
  /** Every delivery so far. */
  deliveries(): DeliveryRecord[];

  /** Queues a Web API fault. See {@link FaultInjector.inject}. */
  injectFault(spec: FaultSpec): FaultHandle;
  /** Journaled Web API calls (tokens redacted). */
  calls(method?: string): JournalEntry[];
  /** See {@link CallJournal.waitForCall}. */
  waitForCall(method: string, predicate?: (entry: JournalEntry) => boolean, timeoutMs?: number): Promise<JournalEntry>;
  /** Loud failures: unknown methods, stray acks… Empty for a well-behaved bot. */
  readonly unexpectedCalls: LoudFailure[];

  /** Sets (or clears) the HTTP Request URL, e.g. once an HTTP-mode Bolt app has its port. */
  setHttpRequestUrl(url: string | undefined): void;
  /** Serves `prefix` (e.g. `/ui`) with `handler`; for the browser UI. @throws ConfigError on a reserved prefix. */
  mount(prefix: string, handler: RouteHandler): void;
  /**
   * Makes `GET /` from a browser (an `Accept` naming `text/html`) redirect to `path` (e.g. `/ui/`);
   * other clients keep getting the health JSON. @throws ConfigError unless `path` starts with `/`.
   */
  setHomePage(path: string): void;
  /** Closes sockets and the HTTP server. Stop the Bolt app first. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Methods whose refusals for their content are shown in the UI, and the errors that count as such. */
const CONTENT_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'views.open', 'views.update', 'views.publish']);
const CONTENT_ERRORS = new Set(['invalid_blocks', 'invalid_blocks_format', 'msg_blocks_too_long', 'invalid_arguments', 'no_text', 'invalid_metadata_format']);

/** The refused app call an answered Web API call stands for, if it is one. */
function appErrorOf(entry: JournalEntry): AppError | undefined {
  if (entry.auth !== 'bot' || !CONTENT_METHODS.has(entry.method) || entry.fault !== undefined) return undefined;
  const response = entry.response as { ok?: unknown; error?: unknown; response_metadata?: { messages?: unknown } } | null;
  if (response === null || typeof response !== 'object' || response.ok !== false || typeof response.error !== 'string') return undefined;
  if (!CONTENT_ERRORS.has(response.error)) return undefined;
  const text = (key: string): string | undefined => (typeof entry.body[key] === 'string' ? (entry.body[key] as string) : undefined);
  const messages = Array.isArray(response.response_metadata?.messages) ? response.response_metadata.messages.filter((m): m is string => typeof m === 'string') : [];
  const channel = text('channel');
  const threadTs = text('thread_ts');
  const ts = text('ts');
  const user = text('user') ?? text('user_id');
  return {
    method: entry.method,
    error: response.error,
    messages,
    ...(channel !== undefined ? { channel } : {}),
    ...(threadTs !== undefined ? { threadTs } : {}),
    ...(ts !== undefined ? { ts } : {}),
    ...(user !== undefined ? { user } : {}),
  };
}

const RESERVED = ['/api', '/socket', '/response'];

function checkOptions(options: LocalSlackOptions): void {
  if (!options.botToken.startsWith('xoxb-')) throw new ConfigError('local workspace: botToken must be an xoxb- token');
  if (!options.appToken.startsWith('xapp-')) throw new ConfigError('local workspace: appToken must be an xapp- token');
  if (!LOOPBACK.has(options.host ?? '127.0.0.1')) throw new ConfigError('local workspace: host must be a loopback address');
  if (options.httpRequestUrl !== undefined && (options.signingSecret ?? '') === '') {
    throw new ConfigError('local workspace: httpRequestUrl needs signingSecret');
  }
}

/**
 * Starts the server and resolves once it listens.
 * @throws ConfigError on bad options (token prefixes, non-loopback host, HTTP mode without a
 *   signing secret); the listen error if the port is taken.
 */
export async function startLocalSlack(options: LocalSlackOptions): Promise<LocalSlack> {
  checkOptions(options);
  const clock = options.clock ?? systemClock;
  const now = (): number => clock.now();
  const host = options.host ?? '127.0.0.1';
  const state = new WorkspaceState({ clock });
  const journal = new CallJournal(createRedactor([options.botToken, options.appToken, options.signingSecret]), now);
  // Calls Slack would refuse for their content also show in the UI, as Slack's client shows them.
  journal.onCall((entry) => {
    const appError = appErrorOf(entry);
    if (appError !== undefined) state.reportAppError(appError);
  });
  const faults = new FaultInjector();
  const registry = new InteractionRegistry(clock, options.triggerTtlMs ?? InteractionLimits.triggerTtlMs);
  const socket = new SocketModeServer({ appId: state.appId, journal, now, ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}) });
  const signingSecret = options.signingSecret;
  const http =
    signingSecret !== undefined && signingSecret !== ''
      ? new HttpDelivery({ signingSecret, now, ...(options.ackTimeoutMs !== undefined ? { timeoutMs: options.ackTimeoutMs } : {}) })
      : undefined;
  let requestUrl = options.httpRequestUrl;
  const dispatcher = new Dispatcher({ socket, ...(http !== undefined ? { http } : {}), requestUrl: () => requestUrl, now });
  const mounts: { prefix: string; handler: RouteHandler }[] = [];
  let homePage: string | undefined;

  // The URL is known only after listen; handlers read it through this box.
  const base = { url: '' };
  const apiContext = {
    state,
    registry,
    get baseUrl() {
      return base.url;
    },
    issueSocketUrl: () => `${base.url.replace(/^http/, 'ws')}${SocketModeServer.path}?ticket=${socket.issueTicket()}`,
  };
  const webApi = createWebApiHandler({
    ctx: apiContext,
    journal,
    faults,
    botToken: options.botToken,
    appToken: options.appToken,
    grantedScopes: options.grantedScopes,
    enforceScopes: options.enforceScopes ?? true,
    now,
  });
  const responseUrl = createResponseUrlHandler({ state, registry, journal, faults, now });
  const actions = new UserActions({
    ctx: apiContext,
    dispatcher,
    journal,
    eventSubscriptions: options.eventSubscriptions ?? DEFAULT_EVENT_SUBSCRIPTIONS,
  });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith('/api/')) {
      await webApi(req, res, decodeURIComponent(path.slice('/api/'.length)));
      return;
    }
    if (path.startsWith('/response/')) {
      await responseUrl(req, res, decodeURIComponent(path.slice('/response/'.length)));
      return;
    }
    const mounted = mounts.find((m) => path === m.prefix || path.startsWith(`${m.prefix}/`));
    if (mounted !== undefined) {
      await mounted.handler(req, res);
      return;
    }
    if (path === '/' && homePage !== undefined && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      res.writeHead(302, { location: homePage, 'content-length': 0 });
      res.end();
      return;
    }
    if (path === '/' || path === '/health') {
      sendJson(res, 200, { ok: true, team_id: state.team.id, app_id: state.appId, socket_connections: socket.connectionCount });
      return;
    }
    sendJson(res, 404, { ok: false, error: 'not_found' });
  };

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      journal.recordUnexpected('handler_error', `${req.method ?? '?'} ${req.url ?? '?'} failed: ${String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error' });
      else res.end();
    });
  });
  server.on('upgrade', (req, sock, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === SocketModeServer.path) socket.handleUpgrade(req, sock, head);
    else sock.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  base.url = `http://${hostPart}:${address.port}`;

  let closed = false;
  const local: LocalSlack = {
    url: base.url,
    apiUrl: `${base.url}/api/`,
    port: address.port,
    state,
    socket,
    journal,
    faults,
    dispatcher,
    actions,
    http,
    postUserMessage: (user, channel, text, threadTs) => actions.postUserMessage(user, channel, text, threadTs),
    clickButton: (user, channel, messageTs, actionId, clickOptions) => actions.clickButton(user, channel, messageTs, actionId, clickOptions),
    clickViewButton: (user, viewId, actionId, clickOptions) => actions.clickViewButton(user, viewId, actionId, clickOptions),
    submitView: (user, viewId, values) => actions.submitView(user, viewId, values),
    closeView: (user, viewId) => actions.closeView(user, viewId),
    openAppHome: (user, tab) => actions.openAppHome(user, tab),
    deliver: (kind, payload) => dispatcher.deliver(kind, payload),
    redeliver: (deliveryId, reason) => dispatcher.redeliver(deliveryId, reason),
    deliveries: () => dispatcher.records(),
    injectFault: (spec) => faults.inject(spec),
    calls: (method) => journal.calls(method),
    waitForCall: (method, predicate, timeoutMs) => journal.waitForCall(method, predicate, timeoutMs),
    get unexpectedCalls() {
      return journal.unexpected;
    },
    setHttpRequestUrl: (url) => {
      if (url !== undefined && http === undefined) throw new ConfigError('local workspace: an HTTP Request URL needs signingSecret');
      requestUrl = url;
    },
    mount: (prefix, handler) => {
      const normalized = prefix.replace(/\/+$/, '');
      if (!normalized.startsWith('/') || normalized === '' || RESERVED.some((r) => normalized === r || normalized.startsWith(`${r}/`))) {
        throw new ConfigError(`local workspace: cannot mount ${prefix}`);
      }
      mounts.push({ prefix: normalized, handler });
      mounts.sort((a, b) => b.prefix.length - a.prefix.length);
    },
    setHomePage: (path) => {
      if (!path.startsWith('/') || path.startsWith('//')) throw new ConfigError(`local workspace: home page must be a path, not ${path}`);
      homePage = path;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await socket.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return local;
}
