/**
 * P14 through renderApprovalCard: hostile model/tool text never reaches Slack unescaped, every
 * card passes the Block Kit validator, and huge arguments become an excerpt plus the hash.
 */
import { describe, expect, it } from 'vitest';
import { computeArgsHash, hashPrefix } from '../../../../src/approvals/args-hash.ts';
import { ActionIds, decodeGateAction } from '../../../../src/slack/blocks/action-ids.ts';
import { renderApprovalCard, renderDecidedCard, renderProcessingCard } from '../../../../src/slack/blocks/approval-card.ts';
import { BlockLimits, countBlockTextChars, validateMessageBlocks, type KnownBlock } from '../../../../src/slack/blocks/block-kit-schema.ts';
import type { SlackMessage } from '../../../../src/slack/blocks/types.ts';
import { APPROVER, HOSTILE, OTHER_APPROVER, REQUESTER, RUN_DOC_TIME, expectNoForeignMarkup, makeGate, waitingRun } from './builders.ts';

const NOW = RUN_DOC_TIME + 60_000;
const USERS = [REQUESTER, APPROVER, OTHER_APPROVER, 'U0DECIDER'];
const BASE = 'https://harness.example/ui';

function hostileGate() {
  return makeGate({
    reason: `policy says: ${HOSTILE}`,
    args: { path: `notes/${HOSTILE}.md`, content: HOSTILE, nested: { list: [HOSTILE, '&amp;'] } },
    lineage: ['pm', `writer ${HOSTILE}`],
  });
}

function actions(message: SlackMessage) {
  return message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
}

function allText(message: SlackMessage): string {
  return JSON.stringify(message.blocks);
}

function expectWithinLimits(message: SlackMessage): void {
  expect(validateMessageBlocks(message.blocks)).toEqual({ ok: true });
  expect(message.blocks.length).toBeLessThanOrEqual(BlockLimits.messageBlocks);
  expect(countBlockTextChars(message.blocks)).toBeLessThanOrEqual(BlockLimits.messageTotalText);
}

describe('renderApprovalCard', () => {
  it('escapes every model and tool string: no foreign < or > anywhere in the output', () => {
    const gate = hostileGate();
    const run = waitingRun(gate, { task: HOSTILE, role: `writer ${HOSTILE}` });
    const card = renderApprovalCard({ run, gate, now: NOW, permalinkBase: BASE });
    expectNoForeignMarkup(card, USERS, BASE);
    expectWithinLimits(card);
    expect(allText(card)).toContain('&lt;!channel&gt;');
    expect(allText(card)).toContain('&amp;amp;');
    expect(card.text).not.toMatch(/[<>]/);
  });

  it('escapes a hostile tool name and requester too', () => {
    const gate = makeGate({ tool: `tool ${HOSTILE}`, requestedBy: { userId: '<!channel>', source: 'cli' } });
    const card = renderApprovalCard({ run: waitingRun(gate), gate, now: NOW });
    expectNoForeignMarkup(card, USERS);
    expectWithinLimits(card);
  });

  it('shows the facts an approver needs', () => {
    const gate = makeGate();
    const card = renderApprovalCard({ run: waitingRun(gate), gate, now: NOW });
    const text = allText(card);
    expect(card.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'pm → writer wants workspace_write', emoji: false } });
    expect(text).toContain('filesystem_write');
    expect(text).toContain(`<@${REQUESTER}> (slack)`);
    expect(text).toContain('pm → writer');
    expect(text).toContain('r_test0001');
    expect(text).toContain('<!date^');
    expect(text).toContain('in 29m 00s');
    expect(text).toContain(`args hash \`${hashPrefix(gate.argsHash)}\``);
    expect(text).toContain('notes/report.md');
    expect(card.text).toBe('Approval needed (pm → writer): workspace_write (write risk) for run r_test0001');
  });

  it('offers Approve (with confirm), Reject and Edit, each carrying only the gate action', () => {
    const gate = makeGate();
    const card = renderApprovalCard({ run: waitingRun(gate), gate, now: NOW });
    const buttons = actions(card);
    expect(buttons.map((b) => b.action_id)).toEqual([ActionIds.approve, ActionIds.reject, ActionIds.edit]);
    expect(buttons[0]?.style).toBe('primary');
    expect(buttons[0]?.confirm?.confirm.text).toBe('Approve');
    expect(buttons[1]?.style).toBe('danger');
    for (const button of buttons) {
      expect(decodeGateAction(button.value)).toEqual({ runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce });
    }
  });

  it('links the run id under a permalink base', () => {
    const gate = makeGate();
    const card = renderApprovalCard({ run: waitingRun(gate), gate, now: NOW, permalinkBase: BASE });
    expect(allText(card)).toContain(`<${BASE}/runs/r_test0001|r_test0001>`);
  });

  it('turns a 10,000-character argument into a truncated excerpt, the hash and View all', () => {
    const gate = makeGate({ args: { path: 'big.txt', content: 'x'.repeat(10_000) } });
    const card = renderApprovalCard({ run: waitingRun(gate), gate, now: NOW });
    expectWithinLimits(card);
    const text = allText(card);
    expect(text).toContain('Excerpt only');
    expect(text).toContain(hashPrefix(gate.argsHash));
    expect(text).not.toContain('x'.repeat(5000));
    expect(actions(card).map((b) => b.action_id)).toContain(ActionIds.viewArgs);
  });

  it('stays within every limit for a 1 MB argument of characters that escaping expands', () => {
    const gate = makeGate({ args: { content: '<&>'.repeat(350_000), more: '`'.repeat(1000) } });
    const card = renderApprovalCard({ run: waitingRun(gate, { task: '&'.repeat(1_000_000) }), gate, now: NOW });
    expectWithinLimits(card);
    expectNoForeignMarkup(card, USERS);
    for (const block of card.blocks) {
      if (block.type === 'section' && block.text !== undefined) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    }
  });

  it('stays within limits when every field is at its worst at once', () => {
    const long = '&<>'.repeat(20_000);
    const gate = makeGate({
      tool: long,
      reason: long,
      lineage: Array.from({ length: 50 }, () => long.slice(0, 500)),
      approvers: Array.from({ length: 40 }, (_, i) => `U0APPR${i}`),
      requestedBy: { userId: long, source: 'agent' },
      policyVersion: long,
      args: { content: long },
    });
    const card = renderApprovalCard({ run: waitingRun(gate, { task: long }), gate, now: NOW, permalinkBase: BASE });
    expectWithinLimits(card);
    const decided = renderDecidedCard(
      waitingRun(gate),
      { ...gate, status: 'approved', decidedBy: long, decidedAt: NOW, decisionReason: long, decisionSource: long, editedArgs: { content: long }, approvedHash: 'f'.repeat(64) },
    );
    expectWithinLimits(decided);
  });

  it('matches the reviewed snapshot', async () => {
    const gate = makeGate({ reason: 'writes outside drafts/ need a human (rule category:filesystem_write)' });
    const card = renderApprovalCard({ run: waitingRun(gate, { task: 'Write the Q3 summary into notes/report.md' }), gate, now: NOW });
    await expect(`${JSON.stringify(card, null, 2)}\n`).toMatchFileSnapshot('../../../fixtures/slack/approval-card.json');
  });
});

describe('renderDecidedCard', () => {
  const gate = makeGate();
  const run = waitingRun(gate);

  function statusLine(message: SlackMessage): string {
    const last = message.blocks.filter((b): b is Extract<KnownBlock, { type: 'context' }> => b.type === 'context').at(-1);
    const element = last?.elements[0];
    return element !== undefined && 'text' in element ? element.text : '';
  }

  it('says who approved and when, without buttons', () => {
    const card = renderDecidedCard(run, { ...gate, status: 'approved', decidedBy: 'U0DECIDER', decidedAt: NOW, decisionSource: 'slack', approvedHash: gate.argsHash });
    expect(statusLine(card)).toMatch(/^:white_check_mark: Approved by <@U0DECIDER> at <!date\^/);
    expect(actions(card)).toEqual([]);
    expect(card.blocks[0]).toMatchObject({ text: { text: 'Approved: workspace_write' } });
    expectWithinLimits(card);
  });

  it('shows an escaped rejection reason', () => {
    const card = renderDecidedCard(run, { ...gate, status: 'rejected', decidedBy: 'U0DECIDER', decidedAt: NOW, decisionReason: HOSTILE, decisionSource: 'slack' });
    expect(statusLine(card)).toContain('Rejected by <@U0DECIDER>');
    expect(statusLine(card)).toContain('&lt;!channel&gt;');
    expectNoForeignMarkup(card, USERS);
    expect(actions(card)).toEqual([]);
  });

  it('shows an edit with the new hash and both argument versions', () => {
    const edited = { path: 'drafts/report.md', content: 'edited' };
    const approvedHash = computeArgsHash(gate.tool, edited, gate.policyVersion);
    const card = renderDecidedCard(run, { ...gate, status: 'approved', decidedBy: 'U0DECIDER', decidedAt: NOW, editedArgs: edited, approvedHash, decisionSource: 'slack' });
    expect(statusLine(card)).toContain(`Edited by <@U0DECIDER> then approved`);
    expect(statusLine(card)).toContain(`new hash \`${hashPrefix(approvedHash)}\``);
    expect(allText(card)).toContain('Arguments as proposed');
    expect(allText(card)).toContain('drafts/report.md');
  });

  it('offers Request again on an expired gate, and nothing else', () => {
    const card = renderDecidedCard(run, { ...gate, status: 'expired' });
    expect(statusLine(card)).toMatch(/^:hourglass: Expired at <!date\^/);
    expect(actions(card).map((b) => b.action_id)).toEqual([ActionIds.requestAgain]);
    expect(decodeGateAction(actions(card)[0]?.value)).toEqual({ runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce });
  });

  it('says cancelled with the escaped run error', () => {
    const card = renderDecidedCard({ ...run, status: 'cancelled', error: { code: 'cancelled', message: `cancelled by U0X: ${HOSTILE}` } }, { ...gate, status: 'cancelled' });
    expect(statusLine(card)).toMatch(/^:no_entry_sign: Cancelled — cancelled by U0X: /);
    expectNoForeignMarkup(card, USERS);
    expect(actions(card)).toEqual([]);
  });

  it('keeps a truncated excerpt and points at the CLI instead of a button', () => {
    const big = makeGate({ args: { content: 'x'.repeat(10_000) } });
    const card = renderDecidedCard(run, { ...big, status: 'rejected', decidedBy: 'U0DECIDER', decidedAt: NOW, decisionReason: 'no' });
    expect(allText(card)).toContain('harness pending r_test0001');
    expect(actions(card)).toEqual([]);
  });
});

describe('renderProcessingCard', () => {
  it('shows who clicked and no buttons', () => {
    const gate = makeGate({ args: { content: 'x'.repeat(10_000) } });
    const card = renderProcessingCard(waitingRun(gate), gate, 'U0DECIDER');
    expect(allText(card)).toContain('Processing approval by <@U0DECIDER>…');
    expect(actions(card)).toEqual([]);
    expectWithinLimits(card);
  });

  it('does not build a mention from an invalid user id', () => {
    const gate = makeGate();
    const card = renderProcessingCard(waitingRun(gate), gate, '<!channel>');
    expectNoForeignMarkup(card, USERS);
  });
});
