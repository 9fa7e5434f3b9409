/**
 * A real Bolt 5 `App` in Socket Mode against the local workspace, all on 127.0.0.1: start-up
 * handshake, mention → threaded reply, button click → ack → chat.update, redelivery visible as
 * `context.retryNum`, `respond()` through the response_url, and reconnection after a
 * `disconnect` frame.
 */
import type { App } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSlack, type LocalSlack } from '../../../src/local-workspace/server.ts';
import { APP_TOKEN, BOT_TOKEN, SCOPES, fastReconnectSocketApp, socketApp } from './fixtures.ts';

const approveBlocks = [
  { type: 'section', text: { type: 'mrkdwn', text: 'Deploy *api* to prod?' } },
  {
    type: 'actions',
    block_id: 'gate',
    elements: [
      { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'gate-1', style: 'primary' },
      { type: 'button', action_id: 'ack_it', text: { type: 'plain_text', text: 'Acknowledge' }, value: 'gate-1' },
    ],
  },
];

describe('local workspace: Socket Mode with a real Bolt app', () => {
  let server: LocalSlack;
  let app: App | undefined;

  beforeEach(async () => {
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, grantedScopes: SCOPES });
  });

  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await server.close();
  });

  it('completes auth.test, apps.connections.open and the hello handshake on start', async () => {
    ({ app } = socketApp(server));
    await app.start();

    expect(server.calls('auth.test').map((c) => c.auth)).toContain('bot');
    const open = server.calls('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.auth).toBe('app');
    expect(String((open[0]?.response as { url: string }).url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=/);
    expect(server.socket.connectionCount).toBe(1);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('delivers a mention as app_mention and message events and stores the threaded reply', async () => {
    const created = socketApp(server);
    app = created.app;
    const seen: { type: string; eventId: string }[] = [];
    app.event('app_mention', async ({ event, body, say }) => {
      seen.push({ type: event.type, eventId: body.event_id });
      await say({ text: 'On it.', thread_ts: event.ts, blocks: approveBlocks });
    });
    app.message(async ({ body }) => {
      seen.push({ type: 'message', eventId: (body as { event_id: string }).event_id });
    });
    await app.start();

    const posted = await server.postUserMessage('U_REQUESTER', 'C_GENERAL', '<@U_BOT> deploy api please');
    await server.waitForCall('chat.postMessage');

    expect(posted.deliveries.map((d) => (d.payload['event'] as { type: string }).type)).toEqual(['app_mention', 'message']);
    expect(posted.deliveries.every((d) => d.status === 'acked' && d.via === 'socket')).toBe(true);
    const eventIds = posted.deliveries.map((d) => d.payload['event_id']);
    expect(new Set(eventIds).size).toBe(2);
    await expect.poll(() => seen.length).toBe(2);

    const replies = server.state.replies('C_GENERAL', posted.message.ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ text: 'On it.', botId: 'B_BOT', user: 'U_BOT', threadTs: posted.message.ts });
    // Slack fills in missing block ids; the fake does too.
    expect(replies[0]?.blocks?.every((b) => typeof (b as { block_id?: unknown }).block_id === 'string')).toBe(true);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('routes a button click to app.action, records the envelope ack, and applies chat.update', async () => {
    ({ app } = socketApp(server));
    const clicks: { user: string; value: string | undefined; team: string | undefined }[] = [];
    app.action('approve', async ({ ack, body, action, client }) => {
      await ack();
      const button = action as { value?: string };
      const actionBody = body as { user: { id: string }; team: { id: string } | null; channel?: { id: string }; message?: { ts: string } };
      clicks.push({ user: actionBody.user.id, value: button.value, team: actionBody.team?.id });
      await client.chat.update({
        channel: actionBody.channel?.id ?? '',
        ts: actionBody.message?.ts ?? '',
        text: 'Approved by <@U_APPROVER1>',
      });
    });
    await app.start();
    const { ts } = await app.client.chat.postMessage({ channel: 'C_OPS', text: 'approval needed', blocks: approveBlocks });

    const delivery = await server.clickButton('U_APPROVER1', 'C_OPS', String(ts), 'approve');
    await server.waitForCall('chat.update');

    expect(delivery).toMatchObject({ via: 'socket', kind: 'interactive', status: 'acked' });
    const ack = server.socket.acks().find((a) => a.envelopeId === delivery.id);
    expect(ack?.kind).toBe('interactive');
    expect(ack?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(clicks).toEqual([{ user: 'U_APPROVER1', value: 'gate-1', team: 'T_LOCAL' }]);
    const updated = server.state.getMessage('C_OPS', String(ts));
    expect(updated?.text).toBe('Approved by <@U_APPROVER1>');
    // Text without blocks removes the old blocks, as Slack's chat.update does.
    expect(updated?.blocks).toBeUndefined();
    expect(updated?.edited?.user).toBe('U_BOT');
  });

  it('passes a forged button value through unchanged so the bot must not trust it', async () => {
    ({ app } = socketApp(server));
    const values: (string | undefined)[] = [];
    app.action('approve', async ({ ack, action }) => {
      await ack();
      values.push((action as { value?: string }).value);
    });
    await app.start();
    const { ts } = await app.client.chat.postMessage({ channel: 'C_OPS', text: 'approval needed', blocks: approveBlocks });

    await server.clickButton('U_VIEWER', 'C_OPS', String(ts), 'approve', { value: 'gate-999' });

    await expect.poll(() => values).toEqual(['gate-999']);
  });

  it('redelivers an event with a higher retry_attempt, visible as context.retryNum', async () => {
    ({ app } = socketApp(server));
    const seen: { eventId: string; retryNum: number | undefined; retryReason: string | undefined }[] = [];
    app.event('app_mention', async ({ body, context }) => {
      seen.push({ eventId: body.event_id, retryNum: context.retryNum, retryReason: context.retryReason });
    });
    await app.start();

    const posted = await server.postUserMessage('U_REQUESTER', 'C_GENERAL', '<@U_BOT> status?');
    const mention = posted.deliveries.find((d) => (d.payload['event'] as { type: string }).type === 'app_mention');
    expect(mention).toBeDefined();
    const retry = await server.redeliver(mention?.id ?? '');

    expect(retry).toMatchObject({ attempt: 1, retryOf: mention?.id, status: 'acked' });
    expect(retry.id).not.toBe(mention?.id);
    await expect.poll(() => seen.length).toBe(2);
    expect(seen[0]).toEqual({ eventId: mention?.payload['event_id'], retryNum: 0, retryReason: '' });
    expect(seen[1]).toEqual({ eventId: mention?.payload['event_id'], retryNum: 1, retryReason: 'timeout' });
  });

  it('applies respond({replace_original}) posted to the response_url', async () => {
    ({ app } = socketApp(server));
    const statuses: number[] = [];
    app.action('ack_it', async ({ ack, respond }) => {
      await ack();
      const response = await respond({ replace_original: true, text: 'Acknowledged ✅' });
      statuses.push(response.status);
    });
    await app.start();
    const { ts } = await app.client.chat.postMessage({ channel: 'C_OPS', text: 'approval needed', blocks: approveBlocks });

    const delivery = await server.clickButton('U_APPROVER2', 'C_OPS', String(ts), 'ack_it');
    const call = await server.waitForCall('response_url');

    expect(String(delivery.payload['response_url'])).toMatch(new RegExp(`^${server.url}/response/`));
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({ replace_original: true, text: 'Acknowledged ✅' });
    await expect.poll(() => statuses).toEqual([200]);
    const replaced = server.state.getMessage('C_OPS', String(ts));
    expect(replaced?.text).toBe('Acknowledged ✅');
    expect(replaced?.blocks).toBeUndefined();
  });

  it('sends an ephemeral response to the clicking user only', async () => {
    ({ app } = socketApp(server));
    app.action('ack_it', async ({ ack, respond }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: 'Only you can see this' });
    });
    await app.start();
    const { ts } = await app.client.chat.postMessage({ channel: 'C_OPS', text: 'approval needed', blocks: approveBlocks });

    await server.clickButton('U_VIEWER', 'C_OPS', String(ts), 'ack_it');
    await server.waitForCall('response_url');

    expect(server.state.ephemeralsFor('U_VIEWER', 'C_OPS').map((e) => e.text)).toEqual(['Only you can see this']);
    expect(server.state.ephemeralsFor('U_APPROVER1')).toEqual([]);
    expect(server.state.getMessage('C_OPS', String(ts))?.text).toBe('approval needed');
  });

  it('publishes the App Home on app_home_opened and routes a click on it with a view container', async () => {
    ({ app } = socketApp(server));
    const homeClicks: { container: unknown; user: string }[] = [];
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({
        user_id: event.user,
        view: {
          type: 'home',
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: 'Pending approvals' } },
            { type: 'section', text: { type: 'mrkdwn', text: 'gate-1: deploy api' }, accessory: { type: 'button', action_id: 'approve_home', text: { type: 'plain_text', text: 'Approve' }, value: 'gate-1' } },
          ],
        },
      });
    });
    app.action('approve_home', async ({ ack, body }) => {
      await ack();
      homeClicks.push({ container: (body as { container: unknown }).container, user: body.user.id });
    });
    await app.start();

    const opened = await server.openAppHome('U_APPROVER1');
    await server.waitForCall('views.publish');
    const home = server.state.homeOf('U_APPROVER1');
    await server.clickViewButton('U_APPROVER1', home?.id ?? '', 'approve_home');

    expect((opened?.payload['event'] as { type: string; tab: string }).tab).toBe('home');
    expect(home?.definition.blocks).toHaveLength(2);
    await expect.poll(() => homeClicks).toEqual([{ container: { type: 'view', view_id: home?.id }, user: 'U_APPROVER1' }]);
    await expect(server.clickViewButton('U_APPROVER2', home?.id ?? '', 'approve_home')).rejects.toThrow(/belongs to U_APPROVER1/);
  });

  it('reconnects after a disconnect frame through a fresh apps.connections.open', async () => {
    ({ app } = fastReconnectSocketApp(server));
    const texts: string[] = [];
    app.event('app_mention', async ({ event }) => {
      texts.push(event.text);
    });
    await app.start();

    server.socket.requestReconnect('refresh_requested');
    await expect.poll(() => server.socket.connectionsOpened, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => server.socket.connectionCount, { timeout: 15_000 }).toBe(1);
    await server.postUserMessage('U_REQUESTER', 'C_GENERAL', '<@U_BOT> still there?');

    expect(server.calls('apps.connections.open')).toHaveLength(2);
    await expect.poll(() => texts).toEqual(['<@U_BOT> still there?']);
  });

  it('delivers to a restarted bot on its new connection', async () => {
    const first = socketApp(server).app;
    await first.start();
    await first.stop();
    ({ app } = socketApp(server));
    const texts: string[] = [];
    app.event('app_mention', async ({ event }) => {
      texts.push(event.text);
    });
    await app.start();
    await expect.poll(() => server.socket.connectionCount).toBe(1);

    const posted = await server.postUserMessage('U_REQUESTER', 'C_GENERAL', '<@U_BOT> after restart');

    expect(server.socket.connectionsOpened).toBe(2);
    expect(posted.deliveries.every((d) => d.status === 'acked')).toBe(true);
    await expect.poll(() => texts).toEqual(['<@U_BOT> after restart']);
  });

  it('fails a delivery that is never acked after the ack timeout', async () => {
    await server.close();
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, grantedScopes: SCOPES, ackTimeoutMs: 200 });
    ({ app } = socketApp(server));
    // A listener that never acks: Bolt leaves the ack to action listeners.
    app.action('approve', async () => undefined);
    await app.start();
    const { ts } = await app.client.chat.postMessage({ channel: 'C_OPS', text: 'approval needed', blocks: approveBlocks });

    await expect(server.clickButton('U_APPROVER1', 'C_OPS', String(ts), 'approve')).rejects.toThrow(/not acked within 200 ms/);
    expect(server.deliveries().at(-1)?.status).toBe('failed');
  });
});
