/**
 * P8 end to end: ten decisions race on one gate — approve clicks and reject-modal submissions from
 * two approvers, all in flight at once through the real Bolt app. Exactly one wins (compare-and-set
 * under the run's mutex); the other nine are refused with "already …" and recorded; the tool runs
 * once; the card is updated to the decided state once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { ActionIds, ModalInputs } from '../../../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  APPROVER2,
  CHANNEL,
  botReplies,
  eventually,
  makeWorld,
  mentionUntilCard,
  postKey,
  readRun,
  reports,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

describe('e2e P8: concurrent decisions on one gate', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  let bot: TestBot;

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld();
    bot = await startTestBot(world, server);
  });

  afterAll(async () => {
    await bot.stop();
    await server.close();
    await world.cleanup();
  });

  it('decides once, executes once and updates the card to the decided state once', async () => {
    const { runId, card, thread } = await mentionUntilCard(server, world);
    // Four reject modals, opened before the race (opening one decides nothing).
    const modals: { user: string; viewId: string }[] = [];
    for (const user of [APPROVER1, APPROVER2, APPROVER1, APPROVER2]) {
      const opened = server.calls('views.open').length;
      await server.clickButton(user, CHANNEL, card.ts, ActionIds.reject);
      const call = await eventually(() => server.calls('views.open')[opened], 'the reject modal');
      const viewId = (call.response as { view: { id: string } }).view.id;
      modals.push({ user, viewId });
    }

    const field = ModalInputs.rejectReason;
    await Promise.all([
      ...[APPROVER1, APPROVER2, APPROVER1, APPROVER2, APPROVER1, APPROVER2].map((user) => server.clickButton(user, CHANNEL, card.ts, ActionIds.approve)),
      ...modals.map(({ user, viewId }) => server.submitView(user, viewId, { [field.blockId]: { [field.actionId]: `not now (${user})` } })),
    ]);

    await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result' || postKey(m) === 'failure'), 'the outcome', 30_000);
    await bot.bot.publisher.idle();
    const doc = await readRun(world.dataDir, runId);
    const decisions = doc.trace.filter((e) => e.event === 'approval_granted' || e.event === 'approval_rejected');
    expect(decisions).toHaveLength(1);
    const refusals = doc.trace.filter((e) => e.event === 'approval_refused');
    expect(refusals).toHaveLength(9);
    const gate = doc.run.gates[0]!;
    expect(refusals.every((e) => String(e.detail['reason']).startsWith(`already ${gate.status} by ${String(gate.decidedBy)}`))).toBe(true);

    const executions = doc.trace.filter((e) => e.event === 'tool_start' && e.detail['tool'] === 'workspace_write');
    if (decisions[0]?.event === 'approval_granted') {
      expect(executions).toHaveLength(1);
      expect(await reports(world)).toHaveLength(1);
    } else {
      expect(executions).toHaveLength(0);
      expect(await reports(world)).toHaveLength(0);
    }
    const decidedHeader = gate.status === 'approved' ? 'Approved' : 'Rejected';
    const decidedUpdates = server
      .calls('chat.update')
      .filter((c) => c.body['ts'] === card.ts && String(c.body['text']).startsWith(decidedHeader));
    expect(decidedUpdates).toHaveLength(1);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
