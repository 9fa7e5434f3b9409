/**
 * Issue C acceptance: messages sent to a busy thread are all handled, none dropped. Twenty replies
 * arrive in a burst while the thread's run waits for approval (real Bolt, Socket Mode, the local
 * workspace, a 300 ms merge window); after the approval the run finishes and the queued messages
 * become follow-up runs in the same thread that carry every one of the twenty lines exactly once
 * (with the 20 messages from one person inside one window, a single merged run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import {
  APPROVER1,
  CHANNEL,
  REQUESTER,
  botReplies,
  eventually,
  makeWorld,
  mentionUntilCard,
  readRun,
  runIds,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

describe('e2e: a burst of messages to a busy thread', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  let bot: TestBot;

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld('routing:\n  debounceMs: 300');
    bot = await startTestBot(world, server);
  });

  afterAll(async () => {
    await bot.stop();
    await server.close();
    await world.cleanup();
  });

  it('handles all 20 messages, none dropped, merged into follow-ups after the busy run', async () => {
    const { thread, runId, card } = await mentionUntilCard(server, world);
    const lines = Array.from({ length: 20 }, (_, i) => `burst line ${String(i + 1).padStart(2, '0')}`);
    await Promise.all(lines.map((line) => server.postUserMessage(REQUESTER, CHANNEL, line, thread)));
    await eventually(() => (bot.bot.ingress.handled.events >= 1 + 20 ? true : undefined), 'twenty handled events');
    await eventually(() => (bot.bot.ingress.queue.waiting === 20 ? true : undefined), 'twenty waiting messages');
    // One notice once the merge window closed on a busy thread, not one per message.
    await eventually(() => botReplies(server, CHANNEL, thread).find((m) => m.text.startsWith(':inbox_tray:')), 'the queue notice');
    expect(botReplies(server, CHANNEL, thread).filter((m) => m.text.startsWith(':inbox_tray:'))).toHaveLength(1);
    expect((await runIds(world.dataDir)).filter((id) => id !== runId)).toEqual([]);

    await server.clickButton(APPROVER1, CHANNEL, card.ts, 'gate_approve');
    await eventually(() => (bot.bot.ingress.handled.followUps === 20 ? true : undefined), 'all twenty taken from the queue', 30_000);
    // The follow-up runs exist in the thread (what the scripted model then does with the merged
    // text, which quotes the previous report task, is the scenarios' business: it may ask for approval).
    const followUps = await eventually(async () => {
      const ids = (await runIds(world.dataDir)).filter((id) => id !== runId);
      const docs = await Promise.all(ids.map((id) => readRun(world.dataDir, id)));
      const lines = docs.flatMap((d) => (d.run.task.split('\n\n---\n')[0] ?? '').split('\n'));
      return lines.length >= 20 ? docs : undefined;
    }, 'follow-up runs carrying the messages', 30_000);
    const seen = followUps.flatMap((d) => (d.run.task.split('\n\n---\n')[0] ?? '').split('\n'));
    expect([...seen].sort()).toEqual(lines);
    for (const doc of followUps) {
      expect(doc.run.origin).toMatchObject({ kind: 'slack', channel: CHANNEL, threadTs: thread });
      expect(doc.run.task).toContain(`Earlier in this thread (run `);
    }
    expect(bot.bot.ingress.queue.waiting).toBe(0);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
