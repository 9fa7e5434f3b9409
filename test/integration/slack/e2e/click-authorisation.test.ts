/**
 * P7 end to end: every unauthorised or stale click on a gate card is refused with an ephemeral
 * message to the clicker, recorded (`approval_refused` in the trace, a `refused` audit entry), and
 * changes nothing else: the gate stays pending, the card keeps its buttons and is not updated, no
 * tool runs and no file is written. The button value only names the gate; forging it does not help.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { ActionIds, encodeGateAction } from '../../../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  APPROVER2,
  CHANNEL,
  REQUESTER,
  VIEWER,
  auditEntries,
  botReplies,
  buttonValue,
  buttonsOf,
  eventually,
  forgeClick,
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

describe('e2e P7: unauthorised clicks are refused and change nothing', () => {
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

  function ephemeralsOf(user: string): string[] {
    return server.state.ephemeralsFor(user, CHANNEL).map((e) => e.text);
  }

  it('refuses a non-approver, the requester (four-eyes), another team, another app, an unknown gate and a wrong nonce', async () => {
    const { runId, card } = await mentionUntilCard(server, world);
    const before = await readRun(world.dataDir, runId);
    const gate = before.run.gates[0]!;
    const value = buttonValue(card, ActionIds.approve);
    const cardUpdatesBefore = server.calls('chat.update').filter((c) => c.body['ts'] === card.ts).length;

    await server.clickButton(VIEWER, CHANNEL, card.ts, ActionIds.approve);
    await server.clickButton(REQUESTER, CHANNEL, card.ts, ActionIds.approve);
    await server.clickButton(VIEWER, CHANNEL, card.ts, ActionIds.reject);
    await forgeClick(server, { user: APPROVER1, channel: CHANNEL, messageTs: card.ts, actionId: ActionIds.approve, value, teamId: 'T_OTHER' });
    await forgeClick(server, { user: APPROVER1, channel: CHANNEL, messageTs: card.ts, actionId: ActionIds.approve, value, appId: 'A_OTHER' });
    const unknownGate = encodeGateAction({ runId, gateId: 'g_0000000000000000', nonce: gate.nonce });
    await server.clickButton(APPROVER1, CHANNEL, card.ts, ActionIds.approve, { value: unknownGate });
    const wrongNonce = encodeGateAction({ runId, gateId: gate.gateId, nonce: 'not-the-nonce' });
    await server.clickButton(APPROVER2, CHANNEL, card.ts, ActionIds.approve, { value: wrongNonce });

    await eventually(() => (ephemeralsOf(APPROVER1).length >= 3 && ephemeralsOf(APPROVER2).length >= 1 ? true : undefined), 'the refusals');
    expect(ephemeralsOf(VIEWER)).toEqual([
      expect.stringContaining('you are not an approver for filesystem_write actions'),
      expect.stringContaining('you are not an approver for filesystem_write actions'),
    ]);
    expect(ephemeralsOf(REQUESTER)).toEqual([expect.stringContaining('four-eyes rule')]);
    expect(ephemeralsOf(APPROVER1)).toEqual([
      expect.stringContaining('another Slack workspace (T_OTHER)'),
      expect.stringContaining('another app (A_OTHER)'),
      expect.stringContaining('gate g_0000000000000000 not found'),
    ]);
    expect(ephemeralsOf(APPROVER2)).toEqual([expect.stringContaining('does not match the current request')]);
    // No modal was opened for the non-approver's Reject click.
    expect(server.calls('views.open')).toEqual([]);

    const after = await readRun(world.dataDir, runId);
    expect(after.run.status).toBe('waiting_approval');
    expect(after.run.gates).toEqual(before.run.gates);
    const refused = after.trace.filter((e) => e.event === 'approval_refused');
    expect(refused.map((e) => e.detail['userId'])).toEqual([VIEWER, REQUESTER, VIEWER, APPROVER1, APPROVER1, APPROVER1, APPROVER2]);
    expect(after.trace.some((e) => e.event === 'tool_start' && e.detail['tool'] === 'workspace_write')).toBe(false);
    const audit = (await auditEntries(world.dataDir)).filter((e) => e['runId'] === runId);
    expect(audit.map((e) => [e['action'], e['actor']])).toEqual(refused.map((e) => ['refused', e.detail['userId']]));
    expect(await reports(world)).toEqual([]);
    const cardNow = server.state.getMessage(CHANNEL, card.ts)!;
    expect(buttonsOf(cardNow)).toEqual(buttonsOf(card));
    expect(server.calls('chat.update').filter((c) => c.body['ts'] === card.ts)).toHaveLength(cardUpdatesBefore);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('refuses a click on a gate that was already decided (a stale card), naming who decided it', async () => {
    const { runId, card, thread } = await mentionUntilCard(server, world);
    const value = buttonValue(card, ActionIds.approve);
    await server.clickButton(APPROVER1, CHANNEL, card.ts, ActionIds.approve);
    await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
    const files = await reports(world);
    const seen = server.state.ephemeralsFor(APPROVER2, CHANNEL).length;

    await forgeClick(server, { user: APPROVER2, channel: CHANNEL, messageTs: card.ts, actionId: ActionIds.approve, value });

    const refusal = await eventually(() => server.state.ephemeralsFor(APPROVER2, CHANNEL)[seen], 'the refusal');
    expect(refusal.text).toContain(`already approved by ${APPROVER1}`);
    const doc = await readRun(world.dataDir, runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1 });
    expect(doc.trace.filter((e) => e.event === 'tool_ok' && e.detail['tool'] === 'workspace_write')).toHaveLength(1);
    expect(doc.trace.at(-1)).toMatchObject({ event: 'approval_refused', detail: { userId: APPROVER2 } });
    expect(await reports(world)).toEqual(files);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
