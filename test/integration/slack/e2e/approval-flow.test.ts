/**
 * Issue B end to end: a real Bolt app (Socket Mode) against the real local workspace. A mention
 * becomes a run; the thread gets 👀, a status message and an approval card; an approver's click
 * updates the card, resumes the run and the result lands in the thread. Then the same with the bot
 * process SIGKILLed and restarted between the card and the click.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { ActionIds } from '../../../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  CHANNEL,
  REPORT_TASK,
  REQUESTER,
  botReplies,
  buttonsOf,
  cards,
  eventually,
  makeWorld,
  postKey,
  readRun,
  reports,
  runIds,
  spawnChildBot,
  startServer,
  startTestBot,
  type TmpWorld,
} from '../support/rig.ts';

describe('e2e: mention → card → approve → result', () => {
  let server: LocalSlack;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('runs a gated task to its result through the approver’s click', async () => {
    const world = await makeWorld();
    const bot = await startTestBot(world, server);
    try {
      const posted = await server.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${REPORT_TASK}`);
      const thread = posted.message.ts;

      const [card] = await eventually(() => {
        const found = cards(server, CHANNEL, thread);
        return found.length > 0 ? found : undefined;
      }, 'the approval card');
      expect(buttonsOf(card!)).toEqual(expect.arrayContaining([ActionIds.approve, ActionIds.reject, ActionIds.edit]));
      expect(server.state.getMessage(CHANNEL, thread)?.reactions.map((r) => r.name)).toContain('eyes');
      expect(botReplies(server, CHANNEL, thread).some((m) => postKey(m) === 'status')).toBe(true);
      const [runId] = await runIds(world.dataDir);
      expect((await readRun(world.dataDir, runId!)).run.status).toBe('waiting_approval');
      expect(await reports(world)).toEqual([]);

      await server.clickButton(APPROVER1, CHANNEL, card!.ts, ActionIds.approve);

      const result = await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
      expect(result.text).toContain('Report written to reports/');
      await eventually(() => (buttonsOf(server.state.getMessage(CHANNEL, card!.ts)!).length === 0 ? true : undefined), 'the decided card');
      const decided = server.state.getMessage(CHANNEL, card!.ts)!;
      expect(JSON.stringify(decided.blocks)).toContain(APPROVER1);
      const doc = await readRun(world.dataDir, runId!);
      expect(doc.run.status).toBe('completed');
      expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1, decisionSource: 'slack' });
      expect(doc.run.origin).toMatchObject({ kind: 'slack', channel: CHANNEL, threadTs: thread });
      expect(await reports(world)).toHaveLength(1);
      expect(cards(server, CHANNEL, thread)).toHaveLength(1);
      expect(server.unexpectedCalls).toEqual([]);
    } finally {
      await bot.stop();
      await world.cleanup();
    }
  });

  it('resumes after the bot process is SIGKILLed between the card and the click', async () => {
    const world: TmpWorld = await makeWorld();
    let first = await spawnChildBot(world, server);
    try {
      const posted = await server.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${REPORT_TASK}`);
      const thread = posted.message.ts;
      const [card] = await eventually(() => {
        const found = cards(server, CHANNEL, thread);
        return found.length > 0 ? found : undefined;
      }, 'the approval card', 30_000);
      await first.kill();

      first = await spawnChildBot(world, server);
      await server.clickButton(APPROVER1, CHANNEL, card!.ts, ActionIds.approve);

      const result = await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result', 30_000);
      expect(result.text).toContain('Report written to reports/');
      const [runId] = await runIds(world.dataDir);
      const doc = await readRun(world.dataDir, runId!);
      expect(doc.run.status).toBe('completed');
      expect(doc.run.gates).toHaveLength(1);
      expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1 });
      // The restarted bot adopted the card and status message instead of posting new ones.
      expect(cards(server, CHANNEL, thread)).toHaveLength(1);
      expect(botReplies(server, CHANNEL, thread).filter((m) => postKey(m) === 'status')).toHaveLength(1);
      expect(await reports(world)).toHaveLength(1);
      expect(server.unexpectedCalls).toEqual([]);
    } finally {
      await first.kill();
      await world.cleanup();
    }
  });
});
