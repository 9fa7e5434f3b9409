/**
 * Payload builders (the fields Bolt reads), view validation and Slack-style argument reading.
 */
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, jsonArg, withBlockIds } from '../../../src/local-workspace/api-args.ts';
import {
  buildAppMentionEvent,
  buildBlockActionsPayload,
  buildEventCallback,
  buildMessageEvent,
  buildViewSubmissionPayload,
  richTextOf,
} from '../../../src/local-workspace/events.ts';
import { InteractionRegistry } from '../../../src/local-workspace/interaction-registry.ts';
import { validateView } from '../../../src/local-workspace/view-schema.ts';
import { WorkspaceState } from '../../../src/local-workspace/workspace-state.ts';
import { FakeClock } from '../../../src/shared/clock.ts';

function context(): { state: WorkspaceState; registry: InteractionRegistry; baseUrl: string } {
  const clock = new FakeClock();
  return { state: new WorkspaceState({ clock }), registry: new InteractionRegistry(clock), baseUrl: 'http://127.0.0.1:9' };
}

describe('event payloads', () => {
  it('wraps events in event_callback with a fresh event_id, team, app and bot authorization', () => {
    const { state } = context();
    const message = state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: 'hi <@U_BOT>', clientMsgId: 'cm-1' });
    const mention = buildEventCallback(state, buildAppMentionEvent(state, message));
    const plain = buildEventCallback(state, buildMessageEvent(state, message, state.resolveChannel('C_GENERAL')));

    expect(mention).toMatchObject({
      type: 'event_callback',
      team_id: 'T_LOCAL',
      api_app_id: 'A_LOCAL',
      event_time: Math.floor(state.clock.now() / 1000),
      authorizations: [{ user_id: 'U_BOT', is_bot: true, team_id: 'T_LOCAL' }],
      event: { type: 'app_mention', user: 'U_REQUESTER', text: 'hi <@U_BOT>', ts: message.ts, event_ts: message.ts, channel: 'C_GENERAL' },
    });
    expect(plain['event']).toMatchObject({ type: 'message', channel_type: 'channel', client_msg_id: 'cm-1' });
    expect(String(mention['event_id'])).toMatch(/^Ev[0-9A-F]+$/);
    expect(mention['event_id']).not.toBe(plain['event_id']);
  });

  it('renders typed text as a rich_text block with user mentions as elements', () => {
    expect(richTextOf('ping <@U_BOT|harness> now')).toMatchObject({
      type: 'rich_text',
      elements: [
        {
          type: 'rich_text_section',
          elements: [
            { type: 'text', text: 'ping ' },
            { type: 'user', user_id: 'U_BOT' },
            { type: 'text', text: ' now' },
          ],
        },
      ],
    });
  });

  it('builds block_actions with container, full message, response_url and a trigger bound to the user', () => {
    const ctx = context();
    const channel = ctx.state.resolveChannel('C_OPS');
    const message = ctx.state.postMessage({
      channel: 'C_OPS',
      user: 'U_BOT',
      botId: 'B_BOT',
      text: 'card',
      blocks: [{ type: 'actions', block_id: 'g', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' } }] }],
    });
    const user = ctx.state.requireUser('U_APPROVER1');

    const payload = buildBlockActionsPayload(ctx, user, { kind: 'message', message, channel }, { action_id: 'approve', block_id: 'g', value: 'gate-1' });

    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U_APPROVER1', username: 'avery', name: 'avery', team_id: 'T_LOCAL' },
      team: { id: 'T_LOCAL', domain: 'local-workspace' },
      api_app_id: 'A_LOCAL',
      container: { type: 'message', message_ts: message.ts, channel_id: 'C_OPS', is_ephemeral: false },
      channel: { id: 'C_OPS', name: 'ops' },
      message: { ts: message.ts, text: 'card', bot_id: 'B_BOT', blocks: message.blocks },
      actions: [{ action_id: 'approve', block_id: 'g', value: 'gate-1', type: 'button' }],
    });
    expect(String(payload['response_url'])).toMatch(/^http:\/\/127\.0\.0\.1:9\/response\//);
    expect(ctx.registry.useTrigger(String(payload['trigger_id']))).toEqual({ ok: true, user: 'U_APPROVER1' });
  });

  it('builds view_submission with the view, its callback_id, private_metadata and state values', () => {
    const ctx = context();
    const view = ctx.state.openModal('U_PM', {
      type: 'modal',
      title: { type: 'plain_text', text: 'Reject' },
      callback_id: 'reject',
      private_metadata: 'gate-1',
      blocks: [],
    });
    const withState = ctx.state.setViewState(view.id, { reason: { text: { type: 'plain_text_input', value: 'no' } } });

    const payload = buildViewSubmissionPayload(ctx, ctx.state.requireUser('U_PM'), withState);

    expect(payload).toMatchObject({
      type: 'view_submission',
      user: { id: 'U_PM' },
      view: { id: view.id, callback_id: 'reject', private_metadata: 'gate-1', state: { values: { reason: { text: { value: 'no' } } } } },
    });
  });
});

describe('validateView', () => {
  it('accepts a modal and a home view and refuses the wrong type, a long title, or inputs without submit', () => {
    const input = { type: 'input', block_id: 'r', label: { type: 'plain_text', text: 'Why' }, element: { type: 'plain_text_input', action_id: 't' } };
    const title = { type: 'plain_text', text: 'Reject' };

    expect(validateView({ type: 'modal', title, submit: title, blocks: [input] }, 'modal').ok).toBe(true);
    expect(validateView({ type: 'home', blocks: [] }, 'home').ok).toBe(true);
    expect(validateView({ type: 'home', blocks: [] }, 'modal')).toMatchObject({ ok: false, errors: ['must be "modal" [json-pointer:/view/type]'] });
    expect(validateView({ type: 'modal', title: { type: 'plain_text', text: 'x'.repeat(25) }, blocks: [] }, 'modal')).toMatchObject({
      ok: false,
      error: 'invalid_arguments',
    });
    expect(validateView({ type: 'modal', title, blocks: [input] }, 'modal')).toMatchObject({ ok: false, errors: [expect.stringContaining('requires submit')] });
  });
});

describe('api args', () => {
  it('reads JSON arguments from form strings or JSON bodies and refuses malformed JSON', () => {
    expect(jsonArg({ blocks: '[{"type":"divider"}]' }, 'blocks', 'invalid_blocks_format')).toEqual([{ type: 'divider' }]);
    expect(jsonArg({ blocks: [{ type: 'divider' }] }, 'blocks', 'invalid_blocks_format')).toEqual([{ type: 'divider' }]);
    expect(() => jsonArg({ blocks: '[{' }, 'blocks', 'invalid_blocks_format')).toThrow(expect.objectContaining({ slackError: 'invalid_blocks_format' }) as Error);
  });

  it('round-trips cursors and refuses forged ones', () => {
    expect(decodeCursor({ cursor: encodeCursor(40) })).toBe(40);
    expect(decodeCursor({})).toBe(0);
    expect(() => decodeCursor({ cursor: 'bm9wZQ==' })).toThrow(expect.objectContaining({ slackError: 'invalid_cursor' }) as Error);
  });

  it('fills in missing block ids and keeps given ones', () => {
    const [given, filled] = withBlockIds([{ type: 'divider', block_id: 'keep' }, { type: 'divider' }]) as { block_id: string }[];

    expect(given?.block_id).toBe('keep');
    expect(filled?.block_id).toMatch(/^[A-Za-z0-9_-]{4}$/);
  });
});
