/**
 * The WebClient port with a real `@slack/web-api` 8 WebClient whose `fetch` is a local function
 * (no sockets): what goes on the wire, how every failure becomes a SlackApiError with the right
 * code and retryability, 429 waited out inside the client, and no token in any error or log line.
 */
import { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { SlackApiError } from '../../../src/shared/errors.ts';
import {
  SLACK_REQUEST_TIMEOUT_MS,
  SLACK_RETRY_CONFIG,
  createWebClientPort,
  slackWebClientOptions,
  toSlackApiError,
} from '../../../src/slack/web-client-port.ts';
import { RecordingLogger } from './egress/egress-fixture.ts';

const TOKEN = 'xoxb-unit-CANARY-0123456789';

interface Seen {
  method: string;
  body: URLSearchParams;
  authorization: string | undefined;
}

type Answer = Response | Error;

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function setup(answer: (method: string, body: URLSearchParams, index: number) => Answer, retries = 0) {
  const seen: Seen[] = [];
  const logger = new RecordingLogger();
  const fetch = async (url: string | URL, init?: { body?: string | FormData; headers?: Record<string, string> }): Promise<Response> => {
    const text = String(url);
    const method = text.slice(text.lastIndexOf('/') + 1);
    const body = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    seen.push({ method, body, authorization: init?.headers?.['Authorization'] ?? init?.headers?.['authorization'] });
    const result = answer(method, body, seen.length - 1);
    if (result instanceof Error) throw result;
    return result;
  };
  const client = new WebClient(TOKEN, {
    ...slackWebClientOptions({ apiUrl: 'http://slack.invalid/api/', logger, retryConfig: { retries, factor: 1, minTimeout: 1, maxTimeout: 1 }, timeoutMs: 2000 }),
    fetch,
  });
  return { port: createWebClientPort(client, { botId: 'B_ME' }), seen, logger };
}

/** Asserts that `promise` rejects with a token-free SlackApiError, and returns it. */
async function caught(promise: Promise<unknown>): Promise<SlackApiError> {
  let error: unknown;
  await expect(
    promise.catch((e: unknown) => {
      error = e;
      throw e;
    }),
  ).rejects.toBeInstanceOf(SlackApiError);
  const slackError = error as SlackApiError;
  expect(slackError.message).not.toContain(TOKEN);
  expect(JSON.stringify(slackError.toJSON())).not.toContain(TOKEN);
  return slackError;
}

describe('createWebClientPort: requests', () => {
  it('posts in a thread with blocks, metadata and no unfurling, and returns channel and ts', async () => {
    const { port, seen } = setup(() => json({ ok: true, channel: 'C1', ts: '1.000100' }));

    const posted = await port.postMessage({
      channel: 'C1',
      threadTs: '1.000001',
      text: 'fallback',
      blocks: [{ type: 'divider' }],
      metadata: { event_type: 'harness_post', event_payload: { runId: 'r_1', key: 'status' } },
    });

    expect(posted).toEqual({ channel: 'C1', ts: '1.000100' });
    expect(seen[0]?.method).toBe('chat.postMessage');
    expect(seen[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    const body = Object.fromEntries(seen[0]?.body ?? []);
    expect(body).toMatchObject({ channel: 'C1', thread_ts: '1.000001', text: 'fallback', unfurl_links: 'false', unfurl_media: 'false' });
    expect(JSON.parse(body['blocks'] ?? 'null')).toEqual([{ type: 'divider' }]);
    expect(JSON.parse(body['metadata'] ?? 'null')).toEqual({ event_type: 'harness_post', event_payload: { runId: 'r_1', key: 'status' } });
  });

  it('maps update, ephemeral, views, home and thread status to their Web API methods', async () => {
    const { port, seen } = setup((method) => (method === 'views.open' ? json({ ok: true, view: { id: 'V1' } }) : json({ ok: true })));

    await port.updateMessage({ channel: 'C1', ts: '1.1', text: 't', blocks: [] });
    await port.postEphemeral({ channel: 'C1', user: 'U1', text: 'only you', threadTs: '1.1' });
    expect(await port.openView({ triggerId: 'tr', view: { type: 'modal' } })).toEqual({ viewId: 'V1' });
    await port.updateView({ viewId: 'V1', view: { type: 'modal' } });
    await port.publishHome({ userId: 'U1', view: { type: 'home', blocks: [] } });
    await port.setThreadStatus({ channel: 'C1', threadTs: '1.1', status: 'thinking…' });

    expect(seen.map((s) => s.method)).toEqual(['chat.update', 'chat.postEphemeral', 'views.open', 'views.update', 'views.publish', 'assistant.threads.setStatus']);
    expect(Object.fromEntries(seen[0]?.body ?? [])).toMatchObject({ channel: 'C1', ts: '1.1', blocks: '[]' });
    expect(Object.fromEntries(seen[1]?.body ?? [])).toMatchObject({ user: 'U1', thread_ts: '1.1' });
    expect(Object.fromEntries(seen[4]?.body ?? [])).toMatchObject({ user_id: 'U1' });
    expect(Object.fromEntries(seen[5]?.body ?? [])).toMatchObject({ channel_id: 'C1', thread_ts: '1.1', status: 'thinking…' });
  });

  it('ignores already_reacted and no_reaction, but not other reaction errors', async () => {
    const answers = [{ ok: false, error: 'already_reacted' }, { ok: false, error: 'no_reaction' }, { ok: false, error: 'message_not_found' }];
    const { port } = setup((_m, _b, i) => json(answers[i]));

    await port.addReaction({ channel: 'C1', ts: '1.1', name: 'eyes' });
    await port.removeReaction({ channel: 'C1', ts: '1.1', name: 'eyes' });
    const error = await caught(port.addReaction({ channel: 'C1', ts: '1.1', name: 'eyes' }));
    expect(error.details['slackError']).toBe('message_not_found');
  });

  it('gives a permalink, null when Slack has none, and throws on transport trouble', async () => {
    const answers: Answer[] = [json({ ok: true, permalink: 'https://x.slack.com/archives/C1/p1' }), json({ ok: false, error: 'message_not_found' }), json({}, 500)];
    const { port } = setup((_m, _b, i) => answers[i] ?? json({}, 500));

    expect(await port.getPermalink({ channel: 'C1', ts: '1.1' })).toBe('https://x.slack.com/archives/C1/p1');
    expect(await port.getPermalink({ channel: 'C1', ts: '1.2' })).toBeNull();
    expect((await caught(port.getPermalink({ channel: 'C1', ts: '1.3' }))).retryable).toBe(true);
  });
});

describe('createWebClientPort: errors', () => {
  it('turns invalid_blocks into a non-retryable SlackApiError with Slack\'s messages', async () => {
    const { port } = setup(() =>
      json({ ok: false, error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] } }),
    );

    const error = await caught(port.postMessage({ channel: 'C1', text: 'x', blocks: [] }));

    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ method: 'chat.postMessage', slackError: 'invalid_blocks' });
    expect(error.details['errors']).toEqual(['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);
  });

  it('marks ratelimited and internal errors retryable, request errors too', async () => {
    const answers: Answer[] = [json({ ok: false, error: 'ratelimited' }), json({ ok: false, error: 'internal_error' }), new TypeError(`fetch failed for ${TOKEN}`)];
    const { port } = setup((_m, _b, i) => answers[i] ?? json({}, 500));

    const limited = await caught(port.postMessage({ channel: 'C1', text: 'x' }));
    expect([limited.details['slackError'], limited.retryable]).toEqual(['ratelimited', true]);
    const internal = await caught(port.postMessage({ channel: 'C1', text: 'x' }));
    expect([internal.details['slackError'], internal.retryable]).toEqual(['internal_error', true]);
    const network = await caught(port.postMessage({ channel: 'C1', text: 'x' }));
    expect([network.details['slackError'], network.retryable]).toEqual(['request_error', true]);
  });

  it('retries a 5xx under the retry config, then reports http_500 as retryable', async () => {
    const { port, seen, logger } = setup(() => json({ error: 'boom' }, 500), 1);

    const error = await caught(port.postMessage({ channel: 'C1', text: 'x' }));

    expect(seen).toHaveLength(2);
    expect(error.details).toMatchObject({ slackError: 'http_500', statusCode: 500 });
    expect(error.retryable).toBe(true);
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });

  it('waits out 429 Retry-After inside the client and lands the post exactly once', async () => {
    const { port, seen } = setup((_m, _b, i) => (i < 2 ? json({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': '0' }) : json({ ok: true, channel: 'C1', ts: '9.9' })), 3);

    expect(await port.postMessage({ channel: 'C1', text: 'x' })).toEqual({ channel: 'C1', ts: '9.9' });
    expect(seen).toHaveLength(3);
  });

  it('reports ratelimited (retryable) once the retries are used up on 429s', async () => {
    const { port, seen } = setup(() => json({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': '0' }), 1);

    const error = await caught(port.postMessage({ channel: 'C1', text: 'x' }));

    expect(seen).toHaveLength(2);
    expect([error.details['slackError'], error.retryable]).toEqual(['ratelimited', true]);
  });

  it('passes a SlackApiError through and scrubs token-shaped text from unknown errors', () => {
    const original = new SlackApiError('already mapped');
    expect(toSlackApiError('chat.update', original)).toBe(original);
    const unknown = toSlackApiError('chat.update', new Error(`weird ${TOKEN}`));
    expect(unknown.message).not.toContain(TOKEN);
    expect(unknown.details['slackError']).toBe('unknown_error');
  });
});

describe('createWebClientPort.findPostedMessage', () => {
  const meta = (runId: string, key: string) => ({ event_type: 'harness_post', event_payload: { runId, key } });

  it('pages through the thread and matches only this bot\'s message with the run and key', async () => {
    const pages = [
      {
        ok: true,
        messages: [
          { ts: '1.0', user: 'U1', text: 'root' },
          { ts: '1.1', user: 'U1', metadata: meta('r_1', 'gate:g1') },
          { ts: '1.2', bot_id: 'B_OTHER', metadata: meta('r_1', 'gate:g1') },
          { ts: '1.3', bot_id: 'B_ME', metadata: meta('r_2', 'gate:g1') },
        ],
        response_metadata: { next_cursor: 'page2' },
      },
      { ok: true, messages: [{ ts: '1.4', bot_id: 'B_ME', metadata: meta('r_1', 'gate:g1') }], response_metadata: { next_cursor: '' } },
    ];
    const { port, seen } = setup((_m, _b, i) => json(pages[i]));

    const found = await port.findPostedMessage({ channel: 'C1', threadTs: '1.0', eventType: 'harness_post', key: 'gate:g1', runId: 'r_1' });

    expect(found).toEqual({ ts: '1.4' });
    expect(seen.map((s) => Object.fromEntries(s.body))).toEqual([
      expect.objectContaining({ channel: 'C1', ts: '1.0', include_all_metadata: 'true', limit: '200' }),
      expect.objectContaining({ cursor: 'page2' }),
    ]);
  });

  it('returns null when nothing matches or the thread is gone', async () => {
    const answers = [{ ok: true, messages: [{ ts: '1.0', user: 'U1' }] }, { ok: false, error: 'thread_not_found' }];
    const { port } = setup((_m, _b, i) => json(answers[i]));

    expect(await port.findPostedMessage({ channel: 'C1', threadTs: '1.0', eventType: 'harness_post', key: 'status' })).toBeNull();
    expect(await port.findPostedMessage({ channel: 'C1', threadTs: '1.0', eventType: 'harness_post', key: 'status' })).toBeNull();
  });
});

describe('slackWebClientOptions', () => {
  it('waits out rate limits in the client with a bounded retry policy and never logs to the console', () => {
    const options = slackWebClientOptions({ apiUrl: 'http://127.0.0.1:1/api/' });

    expect(options).toMatchObject({ slackApiUrl: 'http://127.0.0.1:1/api/', rejectRateLimitedCalls: false, timeout: SLACK_REQUEST_TIMEOUT_MS, allowAbsoluteUrls: false });
    expect(options.retryConfig).toEqual(SLACK_RETRY_CONFIG);
    expect(SLACK_RETRY_CONFIG.retries).toBeLessThanOrEqual(5);
    expect(SLACK_RETRY_CONFIG.maxRetryTime).toBeLessThanOrEqual(120_000);
    // Without a core logger the Slack logger is silent (the console guard fails the test otherwise).
    options.logger?.error('nothing should print', TOKEN);
    options.logger?.warn('nothing should print');
  });

  it('scrubs tokens from the WebClient\'s log lines and drops its debug lines', () => {
    const logger = new RecordingLogger();
    const slackLogger = slackWebClientOptions({ logger }).logger;
    slackLogger?.warn('http request failed', `Bearer ${TOKEN}`);
    slackLogger?.debug(`http request body: {"token":"${TOKEN}"}`);

    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.msg).toContain('http request failed');
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });
});
