/**
 * The ingress's small parts: the delivery-id TTL set, mention stripping and follow-up task text,
 * the thread index, the team/app identity check, and the Bolt payload mappers.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../src/shared/clock.ts';
import { IdentityCheck } from '../../../../src/slack/ingress/identity.ts';
import { mentionsBot, stripBotMention } from '../../../../src/slack/ingress/message-text.ts';
import { toIncomingClick, toIncomingMessage, toIncomingSubmission } from '../../../../src/slack/ingress/register-listeners.ts';
import { ThreadIndex } from '../../../../src/slack/ingress/thread-index.ts';
import { TtlSet } from '../../../../src/slack/ingress/ttl-set.ts';
import { MemoryRunStore } from '../../../../src/store/memory-run-store.ts';
import type { RunDoc } from '../../../../src/store/run-schema.ts';
import { makeRunDoc } from '../../../support/run-doc-factory.ts';

describe('TtlSet', () => {
  it('forgets ids after the TTL and drops the oldest beyond the cap', () => {
    const clock = new FakeClock();
    const set = new TtlSet(clock, 1000, 2);
    expect(set.claim('a')).toBe(true);
    expect(set.claim('a')).toBe(false);
    clock.advance(1000);
    expect(set.has('a')).toBe(false);
    expect(set.claim('a')).toBe(true);
    set.add('b');
    set.add('c');
    expect([set.has('a'), set.has('b'), set.has('c'), set.size]).toEqual([false, true, true, 2]);
  });
});

describe('message text', () => {
  it('strips every mention of the bot and keeps other mentions', () => {
    expect(stripBotMention('<@U_BOT> ask <@U_PM> about <@U_BOT|harness> it', 'U_BOT')).toBe('ask <@U_PM> about it');
    expect(stripBotMention('  <@U_BOT>  ', 'U_BOT')).toBe('');
    expect(mentionsBot('hey <@U_BOT|harness>', 'U_BOT')).toBe(true);
    expect(mentionsBot('hey <@U_BOTTOM>', 'U_BOT')).toBe(false);
  });
});

describe('ThreadIndex', () => {
  function slackRun(runId: string, threadTs: string, createdAt: number, parentRunId: string | null = null): RunDoc {
    return makeRunDoc({ run: { runId, parentRunId, createdAt, origin: { kind: 'slack', teamId: 'T', channel: 'C1', threadTs } } });
  }

  it('maps a thread to its newest top-level Slack run', () => {
    const index = new ThreadIndex();
    index.observe(slackRun('r_new', '1.1', 20));
    index.observe(slackRun('r_old', '1.1', 10));
    index.observe(slackRun('r_child', '2.2', 30, 'r_new'));
    expect(index.ownerOf('C1', '1.1')?.runId).toBe('r_new');
    expect(index.ownerOf('C1', '2.2')).toBeUndefined();
  });

  it('loads threads from the store at startup', async () => {
    const store = new MemoryRunStore();
    await store.create(slackRun('r_a', '3.3', 1));
    await store.create(makeRunDoc({ run: { runId: 'r_cli' } }));
    const index = new ThreadIndex();
    expect(await index.load(store)).toBe(1);
    expect(index.ownerOf('C1', '3.3')?.runId).toBe('r_a');
  });
});

describe('IdentityCheck', () => {
  it('requires the expected team and app', () => {
    const check = new IdentityCheck({ teamId: 'T1', appId: 'A1' });
    expect(check.check('T1', 'A1')).toBeNull();
    expect(check.check('T2', 'A1')).toContain('another Slack workspace (T2)');
    expect(check.check(undefined, 'A1')).toContain('another Slack workspace (unknown)');
    expect(check.check('T1', 'A2')).toContain('another app (A2)');
    expect(check.check('T1', undefined)).toBe('this request does not say which app it is for');
  });

  it('pins the app id from the first payload of the right team when none is configured', () => {
    const check = new IdentityCheck({ teamId: 'T1', appId: null });
    expect(check.check('T2', 'A_EVIL')).not.toBeNull();
    expect(check.pinnedAppId).toBeNull();
    expect(check.check('T1', 'A1')).toBeNull();
    expect(check.check('T1', 'A2')).toContain('another app (A2)');
  });
});

describe('Bolt payload mappers', () => {
  it('maps a user message and skips subtypes and bot messages', () => {
    const body = { event_id: 'Ev1', team_id: 'T1', api_app_id: 'A1' };
    const event = { type: 'message', user: 'U1', text: 'hi', ts: '1.1', thread_ts: '1.0', channel: 'C1', channel_type: 'channel' };
    expect(toIncomingMessage(event, body, 2)).toEqual({
      eventId: 'Ev1',
      teamId: 'T1',
      appId: 'A1',
      channel: 'C1',
      channelType: 'channel',
      user: 'U1',
      text: 'hi',
      ts: '1.1',
      threadTs: '1.0',
      retryNum: 2,
    });
    expect(toIncomingMessage({ ...event, subtype: 'message_changed' }, body, undefined)).toBeNull();
    expect(toIncomingMessage({ ...event, bot_id: 'B1' }, body, undefined)).toBeNull();
    expect(toIncomingMessage(event, {}, undefined)).toBeNull();
  });

  it('maps a click on a message and on a view', () => {
    const body = {
      user: { id: 'U1', team_id: 'T1' },
      team: { id: 'T1' },
      api_app_id: 'A1',
      trigger_id: 'tr',
      channel: { id: 'C1' },
      container: { type: 'message', channel_id: 'C1', message_ts: '2.2' },
      message: { ts: '2.2', thread_ts: '2.0' },
    };
    const action = { action_id: 'gate_approve', value: '{}' };
    expect(toIncomingClick(body, action)).toEqual({
      actionId: 'gate_approve',
      value: '{}',
      userId: 'U1',
      teamId: 'T1',
      appId: 'A1',
      triggerId: 'tr',
      channel: 'C1',
      messageTs: '2.2',
      threadTs: '2.0',
    });
    const inView = toIncomingClick({ ...body, channel: undefined, message: undefined, container: { type: 'view', view_id: 'V1' } }, action);
    expect(inView).toMatchObject({ channel: undefined, messageTs: undefined });
    expect(toIncomingClick({ ...body, trigger_id: undefined }, action)).toBeNull();
  });

  it('maps a view submission', () => {
    const body = {
      user: { id: 'U1', team_id: 'T1' },
      team: { id: 'T1' },
      api_app_id: 'A1',
      view: { callback_id: 'gate_reject_modal', private_metadata: '{"x":1}', state: { values: { b: { a: { value: 'v' } } } } },
    };
    expect(toIncomingSubmission(body)).toEqual({
      callbackId: 'gate_reject_modal',
      privateMetadata: '{"x":1}',
      userId: 'U1',
      teamId: 'T1',
      appId: 'A1',
      values: { b: { a: { value: 'v' } } },
    });
    expect(toIncomingSubmission({ user: { id: 'U1' } })).toBeNull();
  });
});
