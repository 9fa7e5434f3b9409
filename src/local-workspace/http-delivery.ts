/**
 * Signed HTTP delivery to a bot running Bolt's HTTP receiver, exactly as Slack signs requests
 * (ecosystem.md §1.6): HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the signing secret, sent
 * as `x-slack-signature: v0=<hex>` with `x-slack-request-timestamp`. Retries carry
 * `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` (§1.7).
 *
 * Events are JSON bodies; interactions are form-encoded `payload=<json>` with the content type
 * exactly `application/x-www-form-urlencoded` (Bolt compares it literally). A delivery never
 * throws: timeouts and connection failures come back as a result with `status: 0`.
 */
import { createHmac } from 'node:crypto';
import { ConfigError } from '../shared/errors.ts';

/**
 * Slack's request signature for `body` sent at `timestampSec`: `v0=` + hex HMAC-SHA256 of
 * `v0:<timestampSec>:<body>`. Tests use it to forge good and bad requests.
 */
export function signSlackRequest(secret: string, timestampSec: number | string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${String(timestampSec)}:${body}`).digest('hex')}`;
}

/** What happened to one HTTP delivery. */
export interface HttpDeliveryResult {
  /** HTTP status, or 0 when no answer came (timeout, refused connection). */
  status: number;
  body: string;
  headers: Record<string, string>;
  latencyMs: number;
  /** Set when `status` is 0: `http_timeout` or `connection_failed` (Slack's retry reasons). */
  error?: 'http_timeout' | 'connection_failed';
}

/** Per-request options. */
export interface HttpPostOptions {
  /** Marks the request as Slack's n-th retry. */
  retryNum?: number;
  /** Defaults to `http_timeout` when `retryNum` is set. */
  retryReason?: string;
  /** Override the configured secret (to forge a bad signature). */
  signingSecret?: string;
  /** Override the signed timestamp (to forge a stale request). */
  timestampSec?: number;
  timeoutMs?: number;
}

/** Options for {@link HttpDelivery}. */
export interface HttpDeliveryOptions {
  signingSecret: string;
  now(): number;
  /** Slack waits 3 s for the HTTP answer. */
  timeoutMs?: number;
}

/** Posts signed requests to a bot's Request URL. */
export class HttpDelivery {
  private readonly timeoutMs: number;

  /** @throws ConfigError when the signing secret is empty. */
  constructor(private readonly options: HttpDeliveryOptions) {
    if (options.signingSecret === '') throw new ConfigError('HTTP delivery needs a signing secret');
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  /** Posts an `event_callback` body as JSON. */
  postEvent(url: string, eventCallbackBody: Record<string, unknown>, options: HttpPostOptions = {}): Promise<HttpDeliveryResult> {
    return this.post(url, JSON.stringify(eventCallbackBody), 'application/json', options);
  }

  /** Posts an interaction payload as `payload=<json>`, form-encoded. */
  postInteraction(url: string, payload: Record<string, unknown>, options: HttpPostOptions = {}): Promise<HttpDeliveryResult> {
    return this.post(url, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', options);
  }

  /** Posts a slash command's fields, form-encoded. */
  postSlashCommand(url: string, fields: Record<string, string>, options: HttpPostOptions = {}): Promise<HttpDeliveryResult> {
    return this.post(url, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', options);
  }

  private async post(url: string, body: string, contentType: string, options: HttpPostOptions): Promise<HttpDeliveryResult> {
    const timestampSec = options.timestampSec ?? Math.floor(this.options.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestampSec),
      'x-slack-signature': signSlackRequest(options.signingSecret ?? this.options.signingSecret, timestampSec, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    };
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
    }
    const started = Date.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
      });
      return {
        status: response.status,
        body: await response.text(),
        headers: Object.fromEntries(response.headers.entries()),
        latencyMs: Date.now() - started,
      };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { status: 0, body: '', headers: {}, latencyMs: Date.now() - started, error: timedOut ? 'http_timeout' : 'connection_failed' };
    }
  }
}
