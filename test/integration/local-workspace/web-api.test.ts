/**
 * The local Web API driven by the real `@slack/web-api` 8 `WebClient` over loopback HTTP: Slack's
 * error conventions (invalid_blocks with json-pointer errors, msg_blocks_too_long, unknown_method
 * recorded as a loud failure, auth and scope errors), 429 + Retry-After honoured without a
 * duplicate, and the read/write methods the bot uses.
 */
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QuietLogger } from '../../../src/local-workspace/quiet-logger.ts';
import { startLocalSlack, type LocalSlack } from '../../../src/local-workspace/server.ts';
import { APP_TOKEN, BOT_TOKEN, SCOPES } from './fixtures.ts';

function client(server: LocalSlack, token = BOT_TOKEN, retries = 0): WebClient {
  return new WebClient(token, { slackApiUrl: server.apiUrl, logger: new QuietLogger(), retryConfig: { retries, factor: 1, minTimeout: 10, maxTimeout: 10 } });
}

const section = (text: string): { type: 'section'; text: { type: 'mrkdwn'; text: string } } => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('local workspace: Web API', () => {
  let server: LocalSlack;
  let web: WebClient;

  beforeEach(async () => {
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, grantedScopes: SCOPES });
    web = client(server);
  });

  afterEach(async () => {
    await server.close();
  });

  it('answers auth.test with the bot identity and reports granted scopes via x-oauth-scopes', async () => {
    const result = await web.auth.test();

    expect(result).toMatchObject({ ok: true, user_id: 'U_BOT', bot_id: 'B_BOT', team_id: 'T_LOCAL', url: `${server.url}/` });
    expect(result.response_metadata?.scopes).toEqual([...SCOPES]);
  });

  it('refuses bad tokens and the wrong token type', async () => {
    await expect(client(server, 'xoxb-wrong').chat.postMessage({ channel: 'C_GENERAL', text: 'x' })).rejects.toMatchObject({
      data: { error: 'invalid_auth' },
    });
    await expect(client(server, APP_TOKEN).chat.postMessage({ channel: 'C_GENERAL', text: 'x' })).rejects.toMatchObject({
      data: { error: 'not_allowed_token_type' },
    });
    await expect(web.apps.connections.open({})).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    expect(server.state.history('C_GENERAL')).toEqual([]);
  });

  it('refuses a method whose scope was not granted with missing_scope', async () => {
    await server.close();
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, grantedScopes: ['chat:write'] });
    web = client(server);
    const { ts } = await web.chat.postMessage({ channel: 'C_GENERAL', text: 'hi' });

    await expect(web.reactions.add({ channel: 'C_GENERAL', timestamp: String(ts), name: 'eyes' })).rejects.toMatchObject({
      data: { error: 'missing_scope', needed: 'reactions:write', provided: 'chat:write' },
    });
  });

  it('rejects 51 blocks and a 3001-character section with invalid_blocks and json-pointer errors', async () => {
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    await expect(web.chat.postMessage({ channel: 'C_GENERAL', text: 'x', blocks: tooMany })).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: ['must be less than 51 items [json-pointer:/blocks]'] },
    });
    await expect(web.chat.postMessage({ channel: 'C_GENERAL', text: 'x', blocks: [section('a'.repeat(3001))] })).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] },
    });
    expect(server.state.history('C_GENERAL')).toEqual([]);
  });

  it('rejects blocks whose total text exceeds 13,000 characters with msg_blocks_too_long', async () => {
    const blocks = Array.from({ length: 5 }, () => section('b'.repeat(2900)));

    await expect(web.chat.postMessage({ channel: 'C_GENERAL', text: 'x', blocks })).rejects.toMatchObject({ data: { error: 'msg_blocks_too_long' } });
  });

  it('answers an unknown method with unknown_method and records it as an unexpected call', async () => {
    await expect(web.apiCall('chat.scheduleMessage', { channel: 'C_GENERAL', text: 'later', post_at: 1 })).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });

    expect(server.unexpectedCalls).toMatchObject([{ kind: 'unknown_method', detail: expect.stringContaining('chat.scheduleMessage') as unknown }]);
  });

  it('honours a 429 with Retry-After and the message lands exactly once', async () => {
    const retrying = client(server, BOT_TOKEN, 1);
    server.injectFault({ method: 'chat.postMessage', status: 429, retryAfterSec: 1 });

    const result = await retrying.chat.postMessage({ channel: 'C_OPS', text: 'after the rate limit' });

    expect(result.ok).toBe(true);
    expect(server.calls('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(server.calls('chat.postMessage')[0]?.fault).toEqual({ status: 429, retryAfterSec: 1 });
    expect(server.state.history('C_OPS').map((m) => m.text)).toEqual(['after the rate limit']);
  });

  it('injects 500s and ok:false errors, each consumed per call', async () => {
    server.injectFault({ method: 'chat.postMessage', status: 500 });
    server.injectFault({ method: 'chat.postMessage', error: 'channel_not_found' });

    await expect(web.chat.postMessage({ channel: 'C_OPS', text: 'one' })).rejects.toMatchObject({ statusCode: 500 });
    await expect(web.chat.postMessage({ channel: 'C_OPS', text: 'two' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    await web.chat.postMessage({ channel: 'C_OPS', text: 'three' });

    expect(server.state.history('C_OPS').map((m) => m.text)).toEqual(['three']);
    expect(server.faults.pending()).toEqual([]);
  });

  it('truncates text over 40,000 characters with a message_truncated warning', async () => {
    const result = await web.chat.postMessage({ channel: 'C_GENERAL', text: 'z'.repeat(40_005) });

    expect(result.warning).toBe('message_truncated');
    expect(server.state.getMessage('C_GENERAL', String(result.ts))?.text).toHaveLength(40_000);
  });

  it('redacts tokens from the journal', async () => {
    await web.chat.postMessage({ channel: 'C_GENERAL', text: 'hi', token: BOT_TOKEN });

    expect(JSON.stringify(server.calls())).not.toContain(BOT_TOKEN);
    expect(server.calls('chat.postMessage')[0]?.body['token']).toBe('[REDACTED]');
  });

  it('serves threads, history with metadata, permalinks, reactions, ephemerals and users', async () => {
    const root = await web.chat.postMessage({
      channel: 'C_OPS',
      text: 'card',
      metadata: { event_type: 'harness_gate', event_payload: { gateId: 'g1' } },
    });
    const rootTs = String(root.ts);
    await web.chat.postMessage({ channel: 'C_OPS', text: 'reply 1', thread_ts: rootTs });
    await web.chat.postMessage({ channel: 'C_OPS', text: 'reply 2', thread_ts: rootTs });
    await web.reactions.add({ channel: 'C_OPS', timestamp: rootTs, name: 'eyes' });
    await expect(web.reactions.add({ channel: 'C_OPS', timestamp: rootTs, name: 'eyes' })).rejects.toMatchObject({ data: { error: 'already_reacted' } });

    const replies = await web.conversations.replies({ channel: 'C_OPS', ts: rootTs });
    const history = await web.conversations.history({ channel: 'C_OPS', include_all_metadata: true });
    const bare = await web.conversations.history({ channel: 'C_OPS' });
    const paged = await web.conversations.replies({ channel: 'C_OPS', ts: rootTs, limit: 2 });
    const link = await web.chat.getPermalink({ channel: 'C_OPS', message_ts: rootTs });
    const ephemeral = await web.chat.postEphemeral({ channel: 'C_OPS', user: 'U_PM', text: 'psst' });
    const user = await web.users.info({ user: 'U_APPROVER1' });
    await web.reactions.remove({ channel: 'C_OPS', timestamp: rootTs, name: 'eyes' });

    expect(replies.messages?.map((m) => m.text)).toEqual(['card', 'reply 1', 'reply 2']);
    expect(history.messages).toHaveLength(1);
    expect(history.messages?.[0]).toMatchObject({
      text: 'card',
      reply_count: 2,
      thread_ts: rootTs,
      reactions: [{ name: 'eyes', count: 1, users: ['U_BOT'] }],
      metadata: { event_type: 'harness_gate', event_payload: { gateId: 'g1' } },
    });
    expect(bare.messages?.[0]?.metadata).toBeUndefined();
    expect(paged.has_more).toBe(true);
    expect(paged.response_metadata?.next_cursor).not.toBe('');
    expect(link.permalink).toBe(`${server.url}/archives/C_OPS/p${rootTs.replace('.', '')}`);
    expect(server.state.ephemeralsFor('U_PM').map((e) => [e.ts, e.text])).toEqual([[ephemeral.message_ts, 'psst']]);
    expect(user.user).toMatchObject({ id: 'U_APPROVER1', real_name: 'Avery', is_bot: false });
    expect(server.state.getMessage('C_OPS', rootTs)?.reactions).toEqual([]);
  });

  it('refuses a thread reply to a message that does not exist and an update of a user message', async () => {
    const userMessage = server.state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: 'mine' });

    await expect(web.chat.postMessage({ channel: 'C_GENERAL', text: 'x', thread_ts: '1.000001' })).rejects.toMatchObject({
      data: { error: 'thread_not_found' },
    });
    await expect(web.chat.update({ channel: 'C_GENERAL', ts: userMessage.ts, text: 'edited' })).rejects.toMatchObject({
      data: { error: 'cant_update_message' },
    });
  });

  it('sets an assistant thread status that a bot reply in the thread clears', async () => {
    const root = server.state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: '<@U_BOT> go' });

    await web.assistant.threads.setStatus({ channel_id: 'C_GENERAL', thread_ts: root.ts, status: 'Thinking…' });
    expect(server.state.threadStatus('C_GENERAL', root.ts)?.status).toBe('Thinking…');
    await web.chat.postMessage({ channel: 'C_GENERAL', thread_ts: root.ts, text: 'done' });

    expect(server.state.threadStatus('C_GENERAL', root.ts)?.status).toBe('');
  });

  it('publishes an App Home, validates views, and refuses an unknown trigger_id', async () => {
    const published = await web.views.publish({
      user_id: 'U_APPROVER2',
      view: { type: 'home', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Pending approvals' } }] },
    });

    expect(published.view?.id).toBe(server.state.homeOf('U_APPROVER2')?.id);
    await expect(
      web.views.publish({ user_id: 'U_APPROVER2', view: { type: 'home', blocks: [section('c'.repeat(3001))] } }),
    ).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    await expect(
      web.views.open({ trigger_id: '1.2.abc', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } }),
    ).rejects.toMatchObject({ data: { error: 'invalid_trigger_id' } });
  });
});
