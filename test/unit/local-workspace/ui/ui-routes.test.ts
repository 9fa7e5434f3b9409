/**
 * What each person's page may see (src/local-workspace/ui/ui-routes.ts): their channels' messages,
 * only their own ephemerals, modals and App Home, and only their own refused app calls — as Slack
 * shows them, so switching users in the page never leaks another person's ephemeral.
 */
import { describe, expect, it } from 'vitest';
import { changeVisibleTo, snapshotFor } from '../../../../src/local-workspace/ui/ui-routes.ts';
import { WorkspaceState, type WorkspaceChange } from '../../../../src/local-workspace/workspace-state.ts';

function recorded(state: WorkspaceState, act: () => void): WorkspaceChange[] {
  const seen: WorkspaceChange[] = [];
  const off = state.onChange((c) => seen.push(c));
  act();
  off();
  return seen;
}

describe('UI visibility', () => {
  it('shows channel changes to members and personal changes only to their person', () => {
    const state = new WorkspaceState();
    const member = (channel: string, user: string) => state.isMember(channel, user);
    const changes = recorded(state, () => {
      const m = state.postMessage({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: 'hi' });
      state.addReaction('C_GENERAL', m.ts, 'eyes', 'U_BOT');
      state.postEphemeral({ channel: 'C_GENERAL', user: 'U_APPROVER1', text: 'only avery' });
      state.openModal('U_APPROVER1', { type: 'modal', title: { type: 'plain_text', text: 'Reject' }, blocks: [] });
      state.publishHome('U_APPROVER1', { type: 'home', blocks: [] });
      const dm = state.ensureIm('U_APPROVER1');
      state.postMessage({ channel: dm.id, user: 'U_BOT', botId: 'B_BOT', text: 'dm to avery' });
      state.reportAppError({ method: 'views.publish', error: 'invalid_arguments', messages: [], user: 'U_APPROVER1' });
      state.reportAppError({ method: 'chat.postMessage', error: 'invalid_blocks', messages: [], channel: 'C_OPS' });
    });
    const typesFor = (user: string) => changes.filter((c) => changeVisibleTo(c, user, member)).map((c) => c.type);
    expect(typesFor('U_APPROVER1')).toEqual([
      'message_posted',
      'reactions_changed',
      'ephemeral_posted',
      'view_opened',
      'home_published',
      'message_posted',
      'app_error',
      'app_error',
    ]);
    expect(typesFor('U_REQUESTER')).toEqual(['message_posted', 'reactions_changed', 'app_error']);
  });

  it("filters a snapshot to the person's channels, ephemerals, views and app errors", () => {
    const state = new WorkspaceState();
    state.postEphemeral({ channel: 'C_OPS', user: 'U_PM', text: 'for pat' });
    state.openModal('U_PM', { type: 'modal', title: { type: 'plain_text', text: 'Edit' }, blocks: [] });
    const dm = state.ensureIm('U_PM');
    state.postMessage({ channel: dm.id, user: 'U_BOT', botId: 'B_BOT', text: 'hello pat' });
    state.reportAppError({ method: 'chat.postEphemeral', error: 'invalid_blocks', messages: [], user: 'U_PM', channel: 'C_OPS' });

    const pat = snapshotFor(state.snapshot(), 'U_PM');
    expect(pat.ephemerals.map((e) => e.text)).toEqual(['for pat']);
    expect(pat.views).toHaveLength(1);
    expect(pat.channels.map((c) => c.id)).toEqual(['C_GENERAL', 'C_OPS', dm.id]);
    expect(pat.messages.map((m) => m.text)).toEqual(['hello pat']);
    expect(pat.appErrors).toHaveLength(1);

    const vic = snapshotFor(state.snapshot(), 'U_VIEWER');
    expect(vic.ephemerals).toEqual([]);
    expect(vic.views).toEqual([]);
    expect(vic.channels.map((c) => c.id)).toEqual(['C_GENERAL', 'C_OPS']);
    expect(vic.messages).toEqual([]);
    expect(vic.appErrors).toEqual([]);
    expect(vic.users).toHaveLength(6);
  });
});
