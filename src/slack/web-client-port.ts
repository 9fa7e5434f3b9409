/**
 * The real {@link SlackPort}: `@slack/web-api` 8's `WebClient`, pointed at Slack or at any
 * Slack-compatible server (`slackApiUrl`, e.g. the local workspace).
 *
 * Rate limits are waited out by the WebClient itself (ecosystem.md §2.2): with
 * `rejectRateLimitedCalls: false` a 429 pauses the client's queue for `Retry-After` seconds and
 * retries under `retryConfig`, so a call resolves once it landed and is never sent twice by us.
 * {@link slackWebClientOptions} builds those options with a bounded retry policy
 * ({@link SLACK_RETRY_CONFIG}); tests pass small ones.
 *
 * Every failure leaves as a {@link SlackApiError} with the Slack code in `details.slackError` and
 * `retryable` decided here. Errors carry the method, the code and Slack's own validation messages;
 * never a token, a request body or the original error object (its fields could hold headers).
 *
 * `@slack/web-api` is CommonJS: the named imports below work under Node ESM, `retryPolicies`
 * does not (ecosystem.md §1.1), so the retry policy is a literal.
 */
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  type Logger as SlackLogger,
  type RetryOptions,
  type WebAPICallResult,
  type WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import type { CoreLogger } from '../orchestrator/deps.ts';
import { SlackApiError } from '../shared/errors.ts';
import { patternRedactor } from '../shared/redact.ts';
import type { SlackPort } from './port.ts';

/**
 * The production retry policy for Web API calls: at most 5 attempts (1 + 4 retries), backoff
 * 1 s → 2 s → 4 s → 8 s (randomised ×1–2, capped at 30 s), and no retry after 2 minutes in
 * total. A 429's `Retry-After` wait happens inside an attempt and counts against both limits.
 * The default (`tenRetriesInAboutThirtyMinutes`) would hold a user-facing post for half an hour
 * (ecosystem.md §2.2); two minutes is long enough for Slack's 429 windows (usually 1–30 s) and
 * short enough that a failure is reported while the user still waits.
 */
export const SLACK_RETRY_CONFIG: Readonly<RetryOptions> = Object.freeze({
  retries: 4,
  factor: 2,
  minTimeout: 1_000,
  maxTimeout: 30_000,
  randomize: true,
  maxRetryTime: 120_000,
});

/** Per-request timeout (ms) in production: a hung connection fails (and is retried) instead of waiting forever. */
export const SLACK_REQUEST_TIMEOUT_MS = 30_000;

/** Slack error codes that mean "try again later" rather than "the request is wrong". */
const RETRYABLE_SLACK_ERRORS = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** The message of the WebClient's internal "rate limited, retrying" error (WebClient.ts, 429 path). */
const RATE_LIMIT_RETRY = /rate limit was exceeded/i;

/** Input of {@link slackWebClientOptions}. */
export interface SlackClientSettings {
  /** `https://slack.com/api/` by default; the local workspace's `apiUrl` in tests and offline. */
  apiUrl?: string;
  /** Where the WebClient's own log lines go (scrubbed); nothing is logged when absent. */
  logger?: CoreLogger;
  /** Defaults to {@link SLACK_RETRY_CONFIG}. */
  retryConfig?: RetryOptions;
  /** Defaults to {@link SLACK_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * The WebClient options this bot uses: 429s waited out inside the client
 * (`rejectRateLimitedCalls: false`), a bounded retry policy, a request timeout, method names
 * that can never be turned into absolute URLs, and a logger that never writes to the console.
 */
export function slackWebClientOptions(settings: SlackClientSettings = {}): WebClientOptions {
  return {
    ...(settings.apiUrl === undefined ? {} : { slackApiUrl: settings.apiUrl }),
    logger: slackLoggerFor(settings.logger),
    retryConfig: { ...(settings.retryConfig ?? SLACK_RETRY_CONFIG) },
    rejectRateLimitedCalls: false,
    timeout: settings.timeoutMs ?? SLACK_REQUEST_TIMEOUT_MS,
    allowAbsoluteUrls: false,
  };
}

function describeParts(parts: unknown[]): string {
  return patternRedactor(
    parts
      .map((part) => (typeof part === 'string' ? part : part instanceof Error ? `${part.name}: ${part.message}` : safeJson(part)))
      .join(' '),
  );
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A `@slack/logger` Logger over the core logger (or silent). Lines are token-scrubbed; debug
 * lines are dropped because the WebClient's carry request bodies.
 */
export function slackLoggerFor(core: CoreLogger | undefined): SlackLogger {
  let level: LogLevel = LogLevel.INFO;
  const rank: Record<LogLevel, number> = { [LogLevel.DEBUG]: 0, [LogLevel.INFO]: 1, [LogLevel.WARN]: 2, [LogLevel.ERROR]: 3 };
  const emit = (at: LogLevel, parts: unknown[]): void => {
    if (core === undefined || at === LogLevel.DEBUG || rank[at] < rank[level]) return;
    const fields = { component: 'slack-web-api' };
    if (at === LogLevel.INFO) core.info(fields, describeParts(parts));
    else if (at === LogLevel.WARN) core.warn(fields, describeParts(parts));
    else core.error(fields, describeParts(parts));
  };
  return {
    debug: () => undefined,
    info: (...parts: unknown[]) => emit(LogLevel.INFO, parts),
    warn: (...parts: unknown[]) => emit(LogLevel.WARN, parts),
    error: (...parts: unknown[]) => emit(LogLevel.ERROR, parts),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/**
 * Converts whatever a WebClient call threw into a {@link SlackApiError}:
 * - `WebAPIPlatformError` (`ok:false`): `details.slackError = data.error`, plus Slack's
 *   validation messages (`details.errors`) for `invalid_blocks`; retryable only for
 *   `ratelimited` and Slack-side internal errors;
 * - `WebAPIRateLimitedError`: `ratelimited`, retryable, `retryAfterMs`;
 * - `WebAPIHTTPError`: `http_<status>`, retryable for 5xx (and 429);
 * - `WebAPIRequestError` (network, timeout): `request_error`, retryable — except the one the
 *   WebClient raises when its retries ran out on 429s, which is `ratelimited` (retryable).
 * The message names the method and code only (scrubbed of token-shaped strings).
 */
export function toSlackApiError(method: string, error: unknown): SlackApiError {
  if (error instanceof SlackApiError) return error;
  const make = (slackError: string, retryable: boolean, extra: Record<string, unknown> = {}, retryAfterMs?: number, note?: string): SlackApiError =>
    new SlackApiError(patternRedactor(`Slack ${method} failed: ${slackError}${note === undefined ? '' : ` (${note})`}`), {
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      details: { method, slackError, ...extra },
    });
  if (error instanceof WebAPIPlatformError) {
    const slackError = typeof error.data.error === 'string' ? error.data.error : 'unknown_error';
    const meta = error.data.response_metadata as { messages?: unknown; retryAfter?: unknown } | undefined;
    const messages = Array.isArray(meta?.messages) ? meta.messages.filter((m): m is string => typeof m === 'string').slice(0, 5).map(patternRedactor) : [];
    const retryAfter = typeof meta?.retryAfter === 'number' ? meta.retryAfter * 1000 : undefined;
    return make(slackError, RETRYABLE_SLACK_ERRORS.has(slackError), messages.length > 0 ? { errors: messages } : {}, retryAfter);
  }
  if (error instanceof WebAPIRateLimitedError) return make('ratelimited', true, {}, error.retryAfter * 1000);
  if (error instanceof WebAPIHTTPError) {
    return make(`http_${error.statusCode}`, error.statusCode >= 500 || error.statusCode === 429, { statusCode: error.statusCode });
  }
  if (error instanceof WebAPIRequestError) {
    // The WebClient signals "429 waited out, try again" with a plain Error inside its request
    // task, which it wraps as a request error; when the retries run out, that is what surfaces.
    if (RATE_LIMIT_RETRY.test(error.original.message)) return make('ratelimited', true);
    return make('request_error', true, {}, undefined, error.original.message);
  }
  if (error instanceof Error && RATE_LIMIT_RETRY.test(error.message)) return make('ratelimited', true);
  return make('unknown_error', false, {}, undefined, error instanceof Error ? error.message : String(error));
}

/** Options of {@link createWebClientPort}. */
export interface WebClientPortOptions {
  /**
   * The bot's own bot id (`auth.test` → `bot_id`). When given, `findPostedMessage` considers only
   * messages from this bot; otherwise any bot message with matching metadata.
   */
  botId?: string;
  /** Pages of 200 replies `findPostedMessage` reads at most (default 10). */
  maxReplyPages?: number;
}

/** One field of a Web API answer (the typed result has no index signature). */
function field(result: WebAPICallResult, name: string): unknown {
  return (result as unknown as Record<string, unknown>)[name];
}

interface WireMessage {
  ts?: unknown;
  bot_id?: unknown;
  metadata?: { event_type?: unknown; event_payload?: Record<string, unknown> };
}

/**
 * The SlackPort over `client`. Build the client with {@link slackWebClientOptions} (or at least
 * `rejectRateLimitedCalls: false`, a bounded `retryConfig` and a non-console logger).
 */
export function createWebClientPort(client: WebClient, options: WebClientPortOptions = {}): SlackPort {
  const maxPages = options.maxReplyPages ?? 10;

  const call = async (method: string, args: Record<string, unknown>): Promise<WebAPICallResult> => {
    try {
      return await client.apiCall(method, args);
    } catch (error) {
      throw toSlackApiError(method, error);
    }
  };

  const ignoring = async (method: string, args: Record<string, unknown>, ignored: string): Promise<void> => {
    try {
      await call(method, args);
    } catch (error) {
      if (error instanceof SlackApiError && error.details['slackError'] === ignored) return;
      throw error;
    }
  };

  const stringField = (result: WebAPICallResult, method: string, name: string): string => {
    const value = field(result, name);
    if (typeof value !== 'string' || value === '') {
      throw new SlackApiError(`Slack ${method} answered without ${name}`, { details: { method, slackError: 'invalid_response' } });
    }
    return value;
  };

  return {
    async postMessage(input) {
      const result = await call('chat.postMessage', {
        channel: input.channel,
        text: input.text,
        ...(input.threadTs === undefined ? {} : { thread_ts: input.threadTs }),
        ...(input.blocks === undefined ? {} : { blocks: input.blocks }),
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
        // Model text may contain URLs; the bot never wants Slack to fetch and preview them.
        unfurl_links: false,
        unfurl_media: false,
      });
      return { channel: stringField(result, 'chat.postMessage', 'channel'), ts: stringField(result, 'chat.postMessage', 'ts') };
    },

    async updateMessage(input) {
      await call('chat.update', {
        channel: input.channel,
        ts: input.ts,
        text: input.text,
        ...(input.blocks === undefined ? {} : { blocks: input.blocks }),
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
      });
    },

    async postEphemeral(input) {
      await call('chat.postEphemeral', {
        channel: input.channel,
        user: input.user,
        text: input.text,
        ...(input.threadTs === undefined ? {} : { thread_ts: input.threadTs }),
        ...(input.blocks === undefined ? {} : { blocks: input.blocks }),
      });
    },

    addReaction(input) {
      return ignoring('reactions.add', { channel: input.channel, timestamp: input.ts, name: input.name }, 'already_reacted');
    },

    removeReaction(input) {
      return ignoring('reactions.remove', { channel: input.channel, timestamp: input.ts, name: input.name }, 'no_reaction');
    },

    async getPermalink(input) {
      try {
        const result = await call('chat.getPermalink', { channel: input.channel, message_ts: input.ts });
        const link = field(result, 'permalink');
        return typeof link === 'string' && link !== '' ? link : null;
      } catch (error) {
        // A missing message or channel has no permalink; transport trouble is still an error.
        if (error instanceof SlackApiError && !error.retryable) return null;
        throw error;
      }
    },

    async openView(input) {
      const result = await call('views.open', { trigger_id: input.triggerId, view: input.view });
      const view = field(result, 'view') as { id?: unknown } | undefined;
      if (typeof view?.id !== 'string') {
        throw new SlackApiError('Slack views.open answered without view.id', { details: { method: 'views.open', slackError: 'invalid_response' } });
      }
      return { viewId: view.id };
    },

    async updateView(input) {
      await call('views.update', { view_id: input.viewId, view: input.view });
    },

    async publishHome(input) {
      await call('views.publish', { user_id: input.userId, view: input.view });
    },

    async setThreadStatus(input) {
      await call('assistant.threads.setStatus', { channel_id: input.channel, thread_ts: input.threadTs, status: input.status });
    },

    async findPostedMessage(input) {
      let cursor: string | undefined;
      for (let page = 0; page < maxPages; page += 1) {
        let result: WebAPICallResult;
        try {
          result = await call('conversations.replies', {
            channel: input.channel,
            ts: input.threadTs,
            include_all_metadata: true,
            limit: 200,
            ...(cursor === undefined ? {} : { cursor }),
          });
        } catch (error) {
          // No thread (deleted root) means nothing was posted there that could be adopted.
          if (error instanceof SlackApiError && error.details['slackError'] === 'thread_not_found') return null;
          throw error;
        }
        const messages = field(result, 'messages');
        for (const message of Array.isArray(messages) ? (messages as WireMessage[]) : []) {
          const payload = message.metadata?.event_payload;
          if (
            typeof message.ts === 'string' &&
            typeof message.bot_id === 'string' &&
            (options.botId === undefined || message.bot_id === options.botId) &&
            message.metadata?.event_type === input.eventType &&
            payload?.['key'] === input.key &&
            (input.runId === undefined || payload['runId'] === input.runId)
          ) {
            return { ts: message.ts };
          }
        }
        cursor = result.response_metadata?.next_cursor;
        if (cursor === undefined || cursor === '') return null;
      }
      return null;
    },
  };
}
