/**
 * Issue C through Slack (real Bolt in Socket Mode against the local workspace, the repo's roles and
 * scenarios, the scripted model): a PM mention drafts a researcher and a writer and awaits both;
 * the thread shows one live post per sub-agent; the writer's gate card, with its lineage, is
 * approved in the thread; the PM's answer lands. The Kill button on a sub-agent's post stops it
 * (its steps stop growing) and the post says who killed it. With a global cap of 2, a third task
 * is queued with its position in its status message, then runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../../../src/local-workspace/workspace-state.ts';
import { subagentPostKey } from '../../../../src/slack/egress/slack-publisher.ts';
import {
  APPROVER1,
  CHANNEL,
  REPORT_TASK,
  REQUESTER,
  VIEWER,
  botReplies,
  buttonsOf,
  cards,
  eventually,
  makeWorld,
  postKey,
  readRun,
  runIds,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

const PM_TASK = 'pm: prepare a report on durable execution with your team';

let server: LocalSlack | undefined;
let world: TmpWorld | undefined;
let bot: TestBot | undefined;

afterEach(async () => {
  await bot?.stop();
  await server?.close();
  await world?.cleanup();
  bot = undefined;
  server = undefined;
  world = undefined;
});

async function boot(extraYaml = ''): Promise<{ server: LocalSlack; world: TmpWorld; bot: TestBot }> {
  server = await startServer();
  world = await makeWorld(extraYaml);
  bot = await startTestBot(world, server, 'socket', [], { subagentPostDelayMs: 0 });
  return { server, world, bot };
}

function text(message: StoredMessage | undefined): string {
  return `${message?.text ?? ''} ${JSON.stringify(message?.blocks ?? [])}`;
}

/** Mentions the bot with the PM task; resolves with the thread, the PM's run and its two children once both are drafted. */
async function startPm(s: LocalSlack, w: TmpWorld, user = REQUESTER): Promise<{ thread: string; pmId: string; researcherId: string; writerId: string }> {
  const before = new Set(await runIds(w.dataDir));
  const posted = await s.postUserMessage(user, CHANNEL, `<@U_BOT> ${PM_TASK}`);
  const thread = posted.message.ts;
  const pmId = await eventually(async () => {
    for (const id of await runIds(w.dataDir)) {
      if (before.has(id)) continue;
      const doc = await readRun(w.dataDir, id);
      if (doc.run.parentRunId === null && doc.run.origin.kind === 'slack' && doc.run.origin.threadTs === thread) return id;
    }
    return undefined;
  }, 'the PM run');
  const children = await eventually(async () => {
    const doc = await readRun(w.dataDir, pmId);
    return doc.run.children.length === 2 ? doc.run.children : undefined;
  }, 'two drafted sub-agents', 30_000);
  return { thread, pmId, researcherId: children[0]!, writerId: children[1]! };
}

function postOf(s: LocalSlack, thread: string, runId: string): StoredMessage | undefined {
  return botReplies(s, CHANNEL, thread).find((m) => postKey(m) === subagentPostKey(runId));
}

describe('e2e: a PM and its sub-agents in the thread', () => {
  it('drafts a researcher and a writer with live posts; the writer’s card (pm → writer) is approved; the PM answers', async () => {
    const { server: s, world: w } = await boot();
    const { thread, pmId, researcherId, writerId } = await startPm(s, w);
    const pm = await readRun(w.dataDir, pmId);
    expect(pm.run.role).toBe('pm');
    expect(pm.run.task).toBe('prepare a report on durable execution with your team');

    // One post per sub-agent in the PM's thread.
    await eventually(() => (postOf(s, thread, researcherId) && postOf(s, thread, writerId) ? true : undefined), 'two sub-agent posts');
    expect(text(postOf(s, thread, researcherId))).toContain('Sub-agent researcher');
    expect(text(postOf(s, thread, writerId))).toContain('*Lineage:* pm → writer');

    // The writer's gate card, in the same thread, says whose it is.
    const card = await eventually(() => cards(s, CHANNEL, thread)[0], 'the writer’s card', 30_000);
    expect(card.blocks?.[0]).toMatchObject({ type: 'header', text: { text: 'pm → writer wants workspace_write' } });
    expect(buttonsOf(card)).toEqual(expect.arrayContaining(['gate_approve', 'gate_reject', 'gate_edit']));
    await eventually(() => (text(postOf(s, thread, writerId)).includes('Waiting for approval of') ? true : undefined), 'the writer post waiting');
    // The PM's status summarises the tree.
    const status = await eventually(() => {
      const found = botReplies(s, CHANNEL, thread).find((m) => postKey(m) === 'status');
      return found !== undefined && text(found).includes('Sub-agents (2)') ? found : undefined;
    }, 'the tree in the status');
    expect(text(status)).toContain('*pm*');

    await s.clickButton(APPROVER1, CHANNEL, card.ts, 'gate_approve');
    const result = await eventually(() => botReplies(s, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the PM’s answer', 40_000);
    expect(result.text).toContain('Done. The researcher (completed)');
    expect(result.text).toContain('The writer (completed)');
    await eventually(() => (text(postOf(s, thread, writerId)).includes('completed') ? true : undefined), 'the writer post done');
    // No result post, status message or reaction of a sub-agent's own.
    expect(botReplies(s, CHANNEL, thread).filter((m) => postKey(m) === 'result' || postKey(m) === 'status')).toHaveLength(2);

    const done = await readRun(w.dataDir, pmId);
    const events = done.trace.map((e) => e.event);
    expect(events.filter((e) => e === 'subagent_drafted')).toHaveLength(2);
    expect(events.filter((e) => e === 'subagent_finished')).toHaveLength(2);
    expect(events).toContain('role_handoff');
    const writer = await readRun(w.dataDir, writerId);
    expect(writer.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1, lineage: ['pm', 'writer'] });
    expect(s.unexpectedCalls).toEqual([]);
  });

  it('kills a sub-agent from its post’s Kill button: refused for a bystander, done for the requester, "killed by" shown', async () => {
    const { server: s, world: w } = await boot();
    const { thread, pmId, writerId } = await startPm(s, w);
    await eventually(async () => ((await readRun(w.dataDir, writerId)).run.status === 'waiting_approval' ? true : undefined), 'the writer waiting', 30_000);
    const post = await eventually(() => {
      const found = postOf(s, thread, writerId);
      return found !== undefined && buttonsOf(found).includes('agent_kill') ? found : undefined;
    }, 'the writer post with Kill');

    await s.clickButton(VIEWER, CHANNEL, post.ts, 'agent_kill');
    const refusal = await eventually(() => s.state.ephemeralsFor(VIEWER, CHANNEL).at(-1)?.text, 'the refusal');
    expect(refusal).toContain('only the requester of the task or an approver can stop it');
    expect((await readRun(w.dataDir, writerId)).run.status).toBe('waiting_approval');

    await s.clickButton(REQUESTER, CHANNEL, post.ts, 'agent_kill');
    const killed = await eventually(async () => {
      const doc = await readRun(w.dataDir, writerId);
      return doc.run.status === 'cancelled' ? doc : undefined;
    }, 'the writer cancelled');
    const steps = killed.run.steps.length;
    await eventually(() => (text(postOf(s, thread, writerId)).includes(`Killed by ${REQUESTER}`) ? true : undefined), 'the "killed by" post');
    expect(buttonsOf(postOf(s, thread, writerId)!)).not.toContain('agent_kill');
    // The card of the killed writer shows no buttons any more.
    await eventually(() => (cards(s, CHANNEL, thread).every((c) => buttonsOf(c).length === 0) ? true : undefined), 'the card without buttons');
    // The PM learns of it and answers; the writer never takes another step.
    await eventually(() => botReplies(s, CHANNEL, thread).find((m) => postKey(m) === 'result' || postKey(m) === 'failure'), 'the PM’s outcome', 40_000);
    expect((await readRun(w.dataDir, writerId)).run.steps.length).toBe(steps);
    const pm = await readRun(w.dataDir, pmId);
    expect(pm.trace.find((e) => e.event === 'subagent_killed')?.detail).toMatchObject({ childRunId: writerId, by: REQUESTER, source: 'slack' });
    expect(s.unexpectedCalls).toEqual([]);
  });

  it('with a global cap of 2, queues a third task with its position in the status message, then runs it', async () => {
    const { server: s, world: w } = await boot('budgets:\n  maxConcurrentRuns: 2');
    // Two PMs, each awaiting its writer's approval, hold both slots (they are running, in await_agent).
    const first = await startPm(s, w, REQUESTER);
    const second = await startPm(s, w, 'U_PM');
    for (const tree of [first, second]) {
      await eventually(async () => ((await readRun(w.dataDir, tree.writerId)).run.status === 'waiting_approval' ? true : undefined), 'a writer waiting', 30_000);
      await eventually(async () => ((await readRun(w.dataDir, tree.pmId)).run.status === 'running' ? true : undefined), 'a PM holding its slot');
    }
    const posted = await s.postUserMessage(APPROVER1, CHANNEL, `<@U_BOT> ${REPORT_TASK}`);
    const thread = posted.message.ts;
    const queued = await eventually(() => {
      const status = botReplies(s, CHANNEL, thread).find((m) => postKey(m) === 'status');
      return status !== undefined && text(status).includes('position 1 of 1') ? status : undefined;
    }, 'the queue position');
    expect(queued.text).toBe('writer: queued — position 1 of 1');

    // Approving the first writer lets the first tree finish; the third task then starts and reaches its own card.
    const firstCard = await eventually(() => cards(s, CHANNEL, first.thread)[0], 'the first card');
    await s.clickButton(APPROVER1, CHANNEL, firstCard.ts, 'gate_approve');
    await eventually(() => cards(s, CHANNEL, thread)[0], 'the third task’s card', 40_000);
    await eventually(() => {
      const status = botReplies(s, CHANNEL, thread).find((m) => postKey(m) === 'status');
      return status !== undefined && !text(status).includes('position') ? true : undefined;
    }, 'the status without a position');
    expect(s.unexpectedCalls).toEqual([]);
  });
});
