import { describe, expect, it } from 'vitest';
import { validateView } from '../../../../src/local-workspace/view-schema.ts';
import { ActionIds, decodeGateAction } from '../../../../src/slack/blocks/action-ids.ts';
import { canDecide, renderAppHome } from '../../../../src/slack/blocks/app-home.ts';
import { BlockLimits, validateViewBlocks } from '../../../../src/slack/blocks/block-kit-schema.ts';
import type { HomeView } from '../../../../src/slack/blocks/types.ts';
import { APPROVER, HOSTILE, OTHER_APPROVER, REQUESTER, RUN_DOC_TIME, expectNoForeignMarkup, makeDoc, makeGate, waitingRun } from './builders.ts';

const NOW = RUN_DOC_TIME + 60_000;

function expectValid(view: HomeView): void {
  expect(validateViewBlocks(view.blocks)).toEqual({ ok: true });
  expect(validateView(view, 'home').ok).toBe(true);
  expect(view.blocks.length).toBeLessThanOrEqual(BlockLimits.viewBlocks);
}

function buttons(view: HomeView) {
  return view.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
}

describe('canDecide', () => {
  it('follows the approver list, four-eyes, status and expiry', () => {
    const gate = makeGate();
    expect(canDecide(gate, APPROVER, NOW)).toBe(true);
    expect(canDecide(gate, 'U0STRANGER', NOW)).toBe(false);
    expect(canDecide(makeGate({ approvers: [REQUESTER] }), REQUESTER, NOW)).toBe(false);
    expect(canDecide(makeGate({ approvers: [REQUESTER], fourEyes: false }), REQUESTER, NOW)).toBe(true);
    expect(canDecide(makeGate({ status: 'approved' }), APPROVER, NOW)).toBe(false);
    expect(canDecide(gate, APPROVER, gate.expiresAt)).toBe(false);
  });
});

describe('renderAppHome', () => {
  it('shows only the approvals the viewer may decide, with the card buttons', () => {
    const mine = makeGate({ reason: HOSTILE, args: { content: HOSTILE } });
    const notMine = makeGate({ gateId: 'g_other', approvers: [OTHER_APPROVER] });
    const view = renderAppHome({
      viewerId: APPROVER,
      pending: [
        { run: waitingRun(mine, { task: HOSTILE }), gate: mine },
        { run: waitingRun(notMine), gate: notMine },
      ],
      active: [makeDoc({ task: HOSTILE })],
      recent: [makeDoc({ status: 'completed', result: HOSTILE, updatedAt: RUN_DOC_TIME + 5000 })],
      now: NOW,
    });
    expectValid(view);
    expectNoForeignMarkup(view, [REQUESTER, APPROVER, OTHER_APPROVER]);
    expect(view.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Waiting for your approval (1)' } });
    expect(buttons(view).map((b) => b.action_id)).toEqual([ActionIds.approve, ActionIds.reject, ActionIds.edit, ActionIds.viewArgs]);
    for (const button of buttons(view)) expect(decodeGateAction(button.value)?.gateId).toBe(mine.gateId);
    expect(JSON.stringify(view.blocks)).not.toContain('g_other');
  });

  it('says when nothing is waiting', () => {
    const view = renderAppHome({ viewerId: APPROVER, pending: [], active: [], recent: [], now: NOW });
    expectValid(view);
    const body = JSON.stringify(view.blocks);
    expect(body).toContain('Nothing is waiting for your decision.');
    expect(body).toContain('No runs in progress.');
    expect(body).toContain('Nothing finished yet.');
  });

  it('cuts long lists with "and N more" and stays within 100 blocks', () => {
    const long = `${HOSTILE} `.repeat(50);
    const pending = Array.from({ length: 40 }, (_, i) => {
      const gate = makeGate({ gateId: `g_${i}`, args: { content: 'y'.repeat(10_000) }, reason: long });
      return { run: waitingRun(gate, { task: long }), gate };
    });
    const active = Array.from({ length: 80 }, (_, i) => makeDoc({ runId: `r_active${i}`, task: long, role: long }));
    const recent = Array.from({ length: 80 }, (_, i) => makeDoc({ runId: `r_done${i}`, status: 'completed', result: long, task: long }));
    const view = renderAppHome({ viewerId: APPROVER, pending, active, recent, now: NOW });
    expectValid(view);
    expectNoForeignMarkup(view, [REQUESTER, APPROVER, OTHER_APPROVER]);
    const body = JSON.stringify(view.blocks);
    expect(body).toContain('…and 30 more.');
    expect(body).toContain('…and 60 more');
    expect(body).toContain('…and 70 more');
  });
});
