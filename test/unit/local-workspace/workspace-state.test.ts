/**
 * The workspace model: seeded identities, monotonic timestamps, threads, edits, reactions,
 * ephemerals, views, statuses, and the change feed a UI will stream.
 */
import { describe, expect, it } from 'vitest';
import { TsClock, isSlackTs } from '../../../src/local-workspace/slack-ids.ts';
import { WorkspaceError, WorkspaceState, type WorkspaceChange } from '../../../src/local-workspace/workspace-state.ts';
import { FakeClock } from '../../../src/shared/clock.ts';

const modal = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Reject' }, blocks: [] };

describe('TsClock', () => {
  it('issues strictly increasing Slack timestamps even when the clock stands still or steps back', () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 21, 12, 0, 0));
    const ts = new TsClock(clock);
    const first = ts.next();
    const second = ts.next();
    clock.advance(-5000);
    const third = ts.next();

    expect(first).toBe('1795262400.000000');
    expect(second).toBe('1795262400.000001');
    expect(Number(third)).toBeGreaterThan(Number(second));
    expect([first, second, third].every(isSlackTs)).toBe(true);
  });
});

describe('WorkspaceState', () => {
  it('seeds the team, bot, people and channels of issue B', () => {
    const state = new WorkspaceState();

    expect(state.bot).toEqual({ userId: 'U_BOT', botId: 'B_BOT', name: 'harness' });
    expect(state.listUsers().map((u) => [u.id, u.realName, u.role])).toEqual([
      ['U_BOT', 'Harness', 'bot'],
      ['U_REQUESTER', 'Riley', 'requester'],
      ['U_APPROVER1', 'Avery', 'approver'],
      ['U_APPROVER2', 'Sam', 'approver'],
      ['U_PM', 'Pat', 'pm'],
      ['U_VIEWER', 'Vic', 'viewer'],
    ]);
    expect(state.listChannels().map((c) => [c.id, c.name])).toEqual([
      ['C_GENERAL', 'general'],
      ['C_OPS', 'ops'],
    ]);
    expect(state.resolveChannel('#ops').id).toBe('C_OPS');
    expect(state.resolveChannel('U_PM')).toMatchObject({ id: 'D_PM', kind: 'im', imUser: 'U_PM' });
    expect(() => state.resolveChannel('C_NOPE')).toThrow(WorkspaceError);
  });

  it('threads replies under the root, normalising a reply ts to its root', () => {
    const state = new WorkspaceState();
    const root = state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: 'root' });
    const reply = state.postMessage({ channel: 'C_GENERAL', user: 'U_BOT', botId: 'B_BOT', text: 'r1', threadTs: root.ts });
    const nested = state.postMessage({ channel: 'C_GENERAL', user: 'U_PM', text: 'r2', threadTs: reply.ts });

    expect(nested.threadTs).toBe(root.ts);
    expect(state.history('C_GENERAL').map((m) => m.text)).toEqual(['root']);
    expect(state.thread('C_GENERAL', reply.ts).map((m) => m.text)).toEqual(['root', 'r1', 'r2']);
    expect(() => state.postMessage({ channel: 'C_GENERAL', user: 'U_PM', text: 'x', threadTs: '1.000000' })).toThrow(
      expect.objectContaining({ slackError: 'thread_not_found' }) as Error,
    );
  });

  it('edits, reacts and deletes, refusing duplicate reactions', () => {
    const state = new WorkspaceState();
    const message = state.postMessage({ channel: 'C_OPS', user: 'U_BOT', botId: 'B_BOT', text: 'v1', blocks: [{ type: 'divider' }] });

    const edited = state.updateMessage('C_OPS', message.ts, { text: 'v2', blocks: null }, 'U_BOT');
    state.addReaction('C_OPS', message.ts, 'eyes', 'U_PM');
    state.addReaction('C_OPS', message.ts, 'eyes', 'U_VIEWER');

    expect(edited).toMatchObject({ text: 'v2', edited: { user: 'U_BOT' } });
    expect(edited.blocks).toBeUndefined();
    expect(() => state.addReaction('C_OPS', message.ts, 'eyes', 'U_PM')).toThrow(expect.objectContaining({ slackError: 'already_reacted' }) as Error);
    expect(state.removeReaction('C_OPS', message.ts, 'eyes', 'U_PM')).toEqual([{ name: 'eyes', users: ['U_VIEWER'] }]);
    state.deleteMessage('C_OPS', message.ts);
    expect(state.getMessage('C_OPS', message.ts)).toBeUndefined();
  });

  it('returns copies, so callers cannot change state behind the change feed', () => {
    const state = new WorkspaceState();
    const message = state.postMessage({ channel: 'C_OPS', user: 'U_PM', text: 'original' });
    message.text = 'mutated';
    state.listUsers()[0]!.realName = 'Mallory';

    expect(state.getMessage('C_OPS', message.ts)?.text).toBe('original');
    expect(state.getUser('U_BOT')?.realName).toBe('Harness');
  });

  it('keeps ephemerals per user', () => {
    const state = new WorkspaceState();
    const e = state.postEphemeral({ channel: 'C_OPS', user: 'U_VIEWER', text: 'not for you' });

    expect(state.ephemeralsFor('U_VIEWER').map((x) => x.text)).toEqual(['not for you']);
    expect(state.ephemeralsFor('U_PM')).toEqual([]);
    state.replaceEphemeral('C_OPS', e.ts, 'U_VIEWER', { text: 'replaced' });
    expect(state.getEphemeral('C_OPS', e.ts, 'U_VIEWER')?.text).toBe('replaced');
    state.deleteEphemeral('C_OPS', e.ts, 'U_VIEWER');
    expect(state.ephemeralsFor('U_VIEWER')).toEqual([]);
  });

  it('opens, updates (with hash check) and closes modals, and publishes one home per user', () => {
    const state = new WorkspaceState();
    const view = state.openModal('U_APPROVER1', modal);

    expect(() => state.updateView(view.id, modal, 'stale-hash')).toThrow(expect.objectContaining({ slackError: 'hash_conflict' }) as Error);
    const updated = state.updateView(view.id, { ...modal, callback_id: 'v2' }, view.hash);
    expect(updated.hash).not.toBe(view.hash);
    expect(state.openModalsFor('U_APPROVER1').map((v) => v.id)).toEqual([view.id]);
    state.closeView(view.id);
    expect(state.openModalsFor('U_APPROVER1')).toEqual([]);

    const home1 = state.publishHome('U_PM', { type: 'home', blocks: [] });
    const home2 = state.publishHome('U_PM', { type: 'home', blocks: [{ type: 'divider' }] });
    expect(home2.id).toBe(home1.id);
    expect(state.homeOf('U_PM')?.definition.blocks).toHaveLength(1);
  });

  it('clears a thread status when the bot replies in that thread', () => {
    const state = new WorkspaceState();
    const root = state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: 'go' });
    state.setThreadStatus('C_GENERAL', root.ts, 'Thinking…', ['Reading', 'Planning']);
    state.postMessage({ channel: 'C_GENERAL', user: 'U_PM', text: 'human reply', threadTs: root.ts });
    expect(state.threadStatus('C_GENERAL', root.ts)).toMatchObject({ status: 'Thinking…', loadingMessages: ['Reading', 'Planning'] });

    state.postMessage({ channel: 'C_GENERAL', user: 'U_BOT', botId: 'B_BOT', text: 'done', threadTs: root.ts });

    expect(state.threadStatus('C_GENERAL', root.ts)?.status).toBe('');
  });

  it('emits one numbered change per mutation and replays them for a reconnecting UI', () => {
    const state = new WorkspaceState();
    const seen: WorkspaceChange[] = [];
    const unsubscribe = state.onChange((c) => seen.push(c));
    const message = state.postMessage({ channel: 'C_OPS', user: 'U_PM', text: 'hi' });
    state.addReaction('C_OPS', message.ts, 'wave', 'U_VIEWER');
    unsubscribe();
    state.postMessage({ channel: 'C_OPS', user: 'U_PM', text: 'unseen' });

    expect(seen.map((c) => [c.seq, c.type])).toEqual([
      [1, 'message_posted'],
      [2, 'reactions_changed'],
    ]);
    expect(state.lastSeq).toBe(3);
    expect(state.changesSince(1)?.map((c) => c.type)).toEqual(['reactions_changed', 'message_posted']);
    expect(state.snapshot()).toMatchObject({ seq: 3, messages: [{ text: 'hi' }, { text: 'unseen' }] });
  });

  it('tells a UI to reload when the change buffer no longer covers its position', () => {
    const state = new WorkspaceState();
    for (let i = 0; i < 1005; i += 1) state.postMessage({ channel: 'C_OPS', user: 'U_PM', text: `m${i}` });

    expect(state.changesSince(0)).toBeUndefined();
    expect(state.changesSince(1004)).toHaveLength(1);
  });
});
