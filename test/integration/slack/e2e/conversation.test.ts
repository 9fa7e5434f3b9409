/**
 * How messages become runs, end to end: one handler per mention (a mention in a thread also
 * arrives as a `message` event and must not start a second run), top-level channel chatter is
 * ignored, DMs start tasks, replies in a finished task's thread start a follow-up run in the same
 * thread (same role, previous result as context), replies while the task is still active are
 * answered instead, and oversized or empty input is refused in the thread before any model call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import type { PostedUserMessage } from '../../../../src/local-workspace/user-actions.ts';
import { EMPTY_TASK_HINT } from '../../../../src/slack/ingress/slack-ingress.ts';
import {
  CHANNEL,
  REPORT_TASK,
  REQUESTER,
  botReplies,
  eventually,
  makeWorld,
  mentionUntilCard,
  postKey,
  readRun,
  runIds,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

describe('e2e: messages, threads and DMs', () => {
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

  /** Posts as a person and resolves once the bot has handled every resulting event. */
  async function post(user: string, channel: string, text: string, threadTs?: string): Promise<PostedUserMessage> {
    const base = bot.bot.ingress.handled.events;
    const posted = await server.postUserMessage(user, channel, text, threadTs);
    await eventually(() => (bot.bot.ingress.handled.events >= base + posted.deliveries.length ? true : undefined), 'the bot to handle the message');
    return posted;
  }

  async function newRuns(before: readonly string[]): Promise<string[]> {
    return (await runIds(world.dataDir)).filter((id) => !before.includes(id));
  }

  async function resultIn(channel: string, thread: string, count = 1): Promise<void> {
    await eventually(() => (botReplies(server, channel, thread).filter((m) => postKey(m)?.startsWith('result') === true).length >= count ? true : undefined), 'a result', 20_000);
  }

  it('ignores a top-level channel message without a mention', async () => {
    const before = await runIds(world.dataDir);
    const posted = await post(REQUESTER, CHANNEL, 'summarise the incident notes');
    expect(posted.deliveries).toHaveLength(1);
    expect(await newRuns(before)).toEqual([]);
    expect(server.state.replies(CHANNEL, posted.message.ts)).toEqual([]);
  });

  it('starts one run for a mention, and a follow-up run for a reply in its finished thread', async () => {
    const before = await runIds(world.dataDir);
    const root = await post(REQUESTER, CHANNEL, '<@U_BOT> summarise the incident notes');
    expect(root.deliveries.map((d) => (d.payload['event'] as { type: string }).type)).toEqual(['app_mention', 'message']);
    await resultIn(CHANNEL, root.message.ts);
    const [first] = await newRuns(before);
    expect(await newRuns(before)).toHaveLength(1);
    const firstDoc = await readRun(world.dataDir, first!);
    expect(firstDoc.run).toMatchObject({ status: 'completed', task: 'summarise the incident notes', origin: { kind: 'slack', channel: CHANNEL, threadTs: root.message.ts } });

    // A reply without a mention, in the thread the run owns. (What the scripted model then does
    // with the combined task is the scenarios' business; the run's existence and shape are ours.)
    await post(REQUESTER, CHANNEL, 'now recap the approval gates notes', root.message.ts);
    const [second] = await newRuns([...before, first!]);
    expect(second).toBeDefined();
    const followUp = await readRun(world.dataDir, second!);
    expect(followUp.run.origin).toMatchObject({ kind: 'slack', channel: CHANNEL, threadTs: root.message.ts });
    expect(followUp.run.role).toBe(firstDoc.run.role);
    expect(followUp.run.requestedBy).toEqual({ userId: REQUESTER, source: 'slack' });
    expect(followUp.run.task).toMatch(/^now recap the approval gates notes\n\n---\nEarlier in this thread \(run /);
    expect(followUp.run.task).toContain(`Original request: summarise the incident notes\nResult: ${firstDoc.run.result ?? ''}`);
    expect(followUp.run.task.length).toBeLessThanOrEqual(bot.config.budgets.maxInputChars);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('handles a mention in a finished task’s thread once, though it arrives as app_mention and message', async () => {
    const before = await runIds(world.dataDir);
    const root = await post(REQUESTER, CHANNEL, '<@U_BOT> summarise the durable execution notes');
    await resultIn(CHANNEL, root.message.ts);
    const [first] = await newRuns(before);
    const mentioned = await post(REQUESTER, CHANNEL, '<@U_BOT> and a digest of the approval gates notes', root.message.ts);
    expect(mentioned.deliveries.map((d) => (d.payload['event'] as { type: string }).type)).toEqual(['app_mention', 'message']);
    const created = await newRuns([...before, first!]);
    expect(created).toHaveLength(1);
    const doc = await readRun(world.dataDir, created[0]!);
    expect(doc.run.task).toMatch(/^and a digest of the approval gates notes\n/);
    expect(doc.run.origin).toMatchObject({ threadTs: root.message.ts });
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('queues a reply while the thread’s task is still waiting, says so, and starts no run yet', async () => {
    const { thread } = await mentionUntilCard(server, world);
    const before = await runIds(world.dataDir);
    await post(REQUESTER, CHANNEL, 'any news?', thread);
    const reply = await eventually(() => botReplies(server, CHANNEL, thread).find((m) => m.text.startsWith(':inbox_tray: Got it.')), 'the reply');
    expect(reply.text).toContain('waiting approval');
    expect(await newRuns(before)).toEqual([]);
    expect(bot.bot.ingress.queue.waiting).toBe(1);
  });

  it('starts a task from a DM and replies in the DM thread', async () => {
    const before = await runIds(world.dataDir);
    const posted = await post(REQUESTER, REQUESTER, 'summarise the durable execution notes');
    const dm = posted.message.channel;
    expect(dm.startsWith('D')).toBe(true);
    await resultIn(dm, posted.message.ts);
    const [runId] = await newRuns(before);
    expect((await readRun(world.dataDir, runId!)).run.origin).toMatchObject({ kind: 'slack', channel: dm, threadTs: posted.message.ts });
  });

  it('refuses an oversized task (P18) and an empty mention in the thread, before any model call', async () => {
    const before = await runIds(world.dataDir);
    const max = bot.config.budgets.maxInputChars;
    const huge = await post(REQUESTER, CHANNEL, `<@U_BOT> ${REPORT_TASK} ${'x'.repeat(max)}`);
    const empty = await post(REQUESTER, CHANNEL, '<@U_BOT>');
    const refusal = await eventually(() => botReplies(server, CHANNEL, huge.message.ts)[0], 'the refusal');
    expect(refusal.text).toContain(`the limit is ${max.toLocaleString('en-US')}`);
    const hint = await eventually(() => botReplies(server, CHANNEL, empty.message.ts)[0], 'the hint');
    expect(hint.text).toBe(EMPTY_TASK_HINT);
    expect(await newRuns(before)).toEqual([]);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
