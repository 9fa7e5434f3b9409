/**
 * A real Bolt 5 `App` with its HTTP receiver (`signingSecret`, `app.start` on 127.0.0.1:0)
 * against the local workspace: signed events and interactions reach listeners, retries carry
 * `X-Slack-Retry-Num`, badly signed or stale requests get 401, and a modal round trip works
 * (trigger_id → views.open → view_submission → `response_action: 'errors'` → resubmit).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAppMentionEvent, buildEventCallback } from '../../../src/local-workspace/events.ts';
import { signSlackRequest } from '../../../src/local-workspace/http-delivery.ts';
import { QuietLogger } from '../../../src/local-workspace/quiet-logger.ts';
import { startLocalSlack, type LocalSlack } from '../../../src/local-workspace/server.ts';
import { APP_TOKEN, BOT_TOKEN, SCOPES, SIGNING_SECRET } from './fixtures.ts';

describe('local workspace: HTTP mode with a real Bolt app', () => {
  let server: LocalSlack;
  let app: App;
  let requestUrl: string;
  let seen: { text: string; retryNum: number | undefined; retryReason: string | undefined }[];

  beforeEach(async () => {
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, signingSecret: SIGNING_SECRET, grantedScopes: SCOPES });
    app = new App({
      token: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      logger: new QuietLogger(),
      clientOptions: { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } },
    });
    seen = [];
    app.event('app_mention', async ({ event, context }) => {
      seen.push({ text: event.text, retryNum: context.retryNum, retryReason: context.retryReason });
    });
    const httpServer = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    requestUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/slack/events`;
    server.setHttpRequestUrl(requestUrl);
  });

  afterEach(async () => {
    await app.stop();
    await server.close();
  });

  it('delivers a signed event over HTTP and the listener runs', async () => {
    const posted = await server.postUserMessage('U_REQUESTER', 'C_GENERAL', '<@U_BOT> hello over http');

    expect(posted.deliveries.map((d) => [d.via, d.httpStatus, d.status])).toEqual([
      ['http', 200, 'acked'],
      ['http', 200, 'acked'],
    ]);
    await expect.poll(() => seen).toEqual([{ text: '<@U_BOT> hello over http', retryNum: undefined, retryReason: undefined }]);
  });

  it('marks a redelivery with X-Slack-Retry-Num and X-Slack-Retry-Reason', async () => {
    const posted = await server.postUserMessage('U_REQUESTER', 'C_GENERAL', '<@U_BOT> once');
    const mention = posted.deliveries[0];

    const retry = await server.redeliver(mention?.id ?? '');

    expect(retry).toMatchObject({ via: 'http', attempt: 1, status: 'acked' });
    await expect.poll(() => seen.map((s) => [s.retryNum, s.retryReason])).toEqual([
      [undefined, undefined],
      [1, 'http_timeout'],
    ]);
  });

  it('gets 401 for a request signed with the wrong secret or a stale timestamp, and no listener runs', async () => {
    const message = server.state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: '<@U_BOT> forged' });
    const body = JSON.stringify(buildEventCallback(server.state, buildAppMentionEvent(server.state, message)));
    const post = (signature: string, ts: number): Promise<Response> =>
      fetch(requestUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
        body,
      });
    const now = Math.floor(Date.now() / 1000);

    const wrongSecret = await post(signSlackRequest('not-the-signing-secret', now, body), now);
    const stale = await post(signSlackRequest(SIGNING_SECRET, now - 600, body), now - 600);
    const good = await post(signSlackRequest(SIGNING_SECRET, now, body), now);

    expect(wrongSecret.status).toBe(401);
    expect(stale.status).toBe(401);
    expect(good.status).toBe(200);
    await expect.poll(() => seen.map((s) => s.text)).toEqual(['<@U_BOT> forged']);
  });

  it('runs a modal round trip: open from a click, reject with field errors, accept on resubmit', async () => {
    const submissions: string[] = [];
    app.action('open_form', async ({ ack, body, client }) => {
      await ack();
      await client.views.open({
        trigger_id: (body as { trigger_id: string }).trigger_id,
        view: {
          type: 'modal',
          callback_id: 'reject_reason',
          private_metadata: 'gate-7',
          title: { type: 'plain_text', text: 'Reject' },
          submit: { type: 'plain_text', text: 'Send' },
          blocks: [
            {
              type: 'input',
              block_id: 'reason',
              label: { type: 'plain_text', text: 'Reason' },
              element: { type: 'plain_text_input', action_id: 'text' },
            },
          ],
        },
      });
    });
    app.view('reject_reason', async ({ ack, view }) => {
      const reason = view.state.values['reason']?.['text']?.value ?? '';
      submissions.push(`${view.private_metadata}:${reason}`);
      if (reason.length < 5) await ack({ response_action: 'errors', errors: { reason: 'Say a bit more' } });
      else await ack();
    });
    const card = server.state.postMessage({
      channel: 'C_OPS',
      user: 'U_BOT',
      botId: 'B_BOT',
      text: 'gate',
      blocks: [{ type: 'actions', block_id: 'g', elements: [{ type: 'button', action_id: 'open_form', text: { type: 'plain_text', text: 'Reject…' } }] }],
    });

    await server.clickButton('U_APPROVER1', 'C_OPS', card.ts, 'open_form');
    await server.waitForCall('views.open');
    const [modal] = server.state.openModalsFor('U_APPROVER1');
    expect(modal?.definition.callback_id).toBe('reject_reason');

    const first = await server.submitView('U_APPROVER1', modal?.id ?? '', { reason: { text: 'no' } });
    expect(first.responseAction).toBe('errors');
    expect(first.view).toMatchObject({ open: true, errors: { reason: 'Say a bit more' } });

    const second = await server.submitView('U_APPROVER1', modal?.id ?? '', { reason: { text: 'wrong target host' } });
    expect(second.responseAction).toBeUndefined();
    expect(second.view.open).toBe(false);
    expect(submissions).toEqual(['gate-7:no', 'gate-7:wrong target host']);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
