/**
 * The Slack publisher over the FakeSlackPort and a harness on fakes: one card per gate whatever
 * the commit delivery does, cards recorded durably (`slack_posted` → `gate.card`), decided and
 * processing cards, coalesced status updates, reconciliation after a crash between post and
 * record (P15), refused blocks, and nothing posted for runs that did not come from Slack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../../src/orchestrator/apply-event.ts';
import { renderApprovalCard, userMention } from '../../../../src/slack/blocks/index.ts';
import { HARNESS_POST_EVENT, SlackPublisher } from '../../../../src/slack/egress/slack-publisher.ts';
import { slackApiError } from '../../../../src/slack/testing/fake-slack-port.ts';
import type { RunDoc } from '../../../../src/store/run-schema.ts';
import { APPROVER, APPROVER2, REQUESTER, ScriptedModel } from '../../../support/harness-fixture.ts';
import {
  CHANNEL,
  blocksText,
  cleanupEgress,
  hasButtons,
  keyOf,
  makeEgress,
  postCallsFor,
  postsWithKey,
  type EgressFixture,
} from './egress-fixture.ts';

const slackActor = (userId: string) => ({ userId, source: 'slack' as const });

afterEach(async () => {
  await cleanupEgress();
});

async function pausedAtGate(f: EgressFixture): Promise<{ doc: RunDoc; runId: string; gateId: string }> {
  const doc = await f.startSlackRun();
  await f.settle();
  expect(doc.run.status).toBe('waiting_approval');
  const gateId = doc.run.gates[0]?.gateId ?? '';
  return { doc, runId: doc.run.runId, gateId };
}

function slackPosted(doc: RunDoc): Record<string, unknown>[] {
  return doc.trace.filter((e) => e.event === 'slack_posted').map((e) => e.detail);
}

describe('SlackPublisher: cards', () => {
  it('posts one card per gate in the run thread and records it with its gate id (gate.card)', async () => {
    const f = makeEgress();
    const { runId, gateId } = await pausedAtGate(f);

    const cards = postsWithKey(f.port, `gate:${gateId}`);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ channel: CHANNEL, threadTs: f.threadTs });
    expect(cards[0]?.metadata).toEqual({ event_type: HARNESS_POST_EVENT, event_payload: { runId, key: `gate:${gateId}`, gateId } });
    expect(hasButtons(cards[0])).toBe(true);
    const doc = await f.harness.getRun(runId);
    expect(doc.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: cards[0]?.ts });
    expect(doc.run.posts.map((p) => p.key).sort()).toEqual([`gate:${gateId}`, 'status']);
    expect(slackPosted(doc).filter((d) => d['gateId'] === gateId)).toEqual([
      { kind: 'card', key: `gate:${gateId}`, channel: CHANNEL, ts: cards[0]?.ts, gateId },
    ]);
    expect(f.port.reactions(CHANNEL, f.threadTs)).toEqual(['eyes']);
    expect(replayTrace(doc.trace)).toEqual(doc.run);
    expect(f.port.unexpected).toEqual([]);
  });

  it('does not post again when the same commits are delivered twice, even to a fresh publisher', async () => {
    const f = makeEgress();
    const { runId, gateId } = await pausedAtGate(f);
    const doc = await f.harness.getRun(runId);
    const posts = f.port.callsOf('postMessage').length;

    f.publisher.handleCommit({ doc, events: doc.trace });
    f.publisher.handleCommit({ doc, events: doc.trace });
    await f.settle();
    expect(f.port.callsOf('postMessage')).toHaveLength(posts);

    // A publisher that has never seen this run learns the posts from the run document.
    await f.publisher.stop();
    const fresh = f.restartPublisher();
    fresh.handleCommit({ doc, events: doc.trace });
    fresh.handleCommit({ doc, events: doc.trace.slice(-2) });
    await f.settle();
    expect(f.port.callsOf('postMessage')).toHaveLength(posts);
    expect(postsWithKey(f.port, `gate:${gateId}`)).toHaveLength(1);
    expect(postsWithKey(f.port, 'status')).toHaveLength(1);
    expect(f.port.unexpected).toEqual([]);
  });

  it('posts the card once and then updates it when the decision lands while the post is still in flight', async () => {
    const f = makeEgress();
    const held = f.port.hold('postMessage', (input) => keyOf(input).startsWith('gate:'));
    const paused = await f.startSlackRun();
    await held.reached;
    const gateId = paused.run.gates[0]?.gateId ?? '';

    const { doc } = await f.harness.approve({ runId: paused.run.runId, actor: slackActor(APPROVER) });
    expect(doc.run.status).toBe('completed');
    held.release();
    await f.settle();

    const cards = postsWithKey(f.port, `gate:${gateId}`);
    expect(cards).toHaveLength(1);
    expect(postCallsFor(f.port, `gate:${gateId}`)).toBe(1);
    const card = f.port.message(CHANNEL, cards[0]?.ts ?? '');
    expect(hasButtons(card)).toBe(false);
    expect(blocksText(card)).toContain(`Approved by ${userMention(APPROVER)}`);
    expect(card?.history).toHaveLength(1);
    const final = await f.harness.getRun(paused.run.runId);
    expect(final.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: cards[0]?.ts });
    expect(replayTrace(final.trace)).toEqual(final.run);
  });

  it('updates the card on rejection: buttons removed, "Rejected by" with the reason', async () => {
    const model = ScriptedModel.fromSteps([
      { calls: [{ name: 'workspace_write', args: { path: 'reports/x.md', content: 'x' } }] },
      { content: 'Understood.' },
    ]);
    const f = makeEgress({ model });
    const { runId, gateId } = await pausedAtGate(f);

    await f.harness.reject({ runId, actor: slackActor(APPROVER2), reason: 'use the <!here> ops folder' });
    await f.settle();

    const card = postsWithKey(f.port, `gate:${gateId}`)[0];
    expect(hasButtons(card)).toBe(false);
    expect(blocksText(card)).toContain(`Rejected by ${userMention(APPROVER2)}`);
    expect(blocksText(card)).toContain('&lt;!here&gt;');
    expect(blocksText(card)).not.toContain('<!here>');
  });

  it('shows "processing" on the card right after a click, then the decided card', async () => {
    const f = makeEgress();
    const { runId, gateId } = await pausedAtGate(f);
    const cardTs = postsWithKey(f.port, `gate:${gateId}`)[0]?.ts ?? '';

    await f.publisher.showProcessing(runId, gateId, APPROVER);
    const processing = f.port.message(CHANNEL, cardTs);
    expect(hasButtons(processing)).toBe(false);
    expect(blocksText(processing)).toContain(`Processing approval by ${userMention(APPROVER)}`);

    await f.harness.approve({ runId, actor: slackActor(APPROVER) });
    await f.settle();
    expect(blocksText(f.port.message(CHANNEL, cardTs))).toContain(`Approved by ${userMention(APPROVER)}`);

    // Too late: the gate is decided, so a processing update would hide the decision.
    await f.publisher.showProcessing(runId, gateId, APPROVER2);
    expect(blocksText(f.port.message(CHANNEL, cardTs))).toContain(`Approved by ${userMention(APPROVER)}`);
  });

  it('gives the buttons back when a click shown as "processing" is then refused', async () => {
    const f = makeEgress();
    const { runId, gateId } = await pausedAtGate(f);
    const cardTs = postsWithKey(f.port, `gate:${gateId}`)[0]?.ts ?? '';

    await f.publisher.showProcessing(runId, gateId, 'U_VIEWER');
    expect(hasButtons(f.port.message(CHANNEL, cardTs))).toBe(false);
    await expect(f.harness.approve({ runId, actor: slackActor('U_VIEWER') })).rejects.toThrow(/not an approver/);
    await f.settle();

    const card = f.port.message(CHANNEL, cardTs);
    expect(hasButtons(card)).toBe(true);
    expect(blocksText(card)).not.toContain('Processing approval');
  });

  it('reminds the approvers in the thread once, then marks the card expired with "Request again"', async () => {
    const f = makeEgress({ policy: { approvers: { default: ['UAPPROVER1', 'UAPPROVER2', 'ops <!channel>'], categories: {} }, filesystem: { roots: ['reports'] } } });
    const { runId, gateId } = await pausedAtGate(f);
    const gate = (await f.harness.getRun(runId)).run.gates[0];
    const cardTs = postsWithKey(f.port, `gate:${gateId}`)[0]?.ts ?? '';

    f.clock.advance((gate?.expiresAt ?? 0) - f.clock.now() - 30 * 60 * 1000);
    await f.harness.sweepGates();
    await f.harness.sweepGates();
    await f.settle();
    const reminders = postsWithKey(f.port, `reminder:${gateId}`);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatchObject({ channel: CHANNEL, threadTs: f.threadTs });
    expect(reminders[0]?.text).toContain('<@UAPPROVER1> <@UAPPROVER2> ops &lt;!channel&gt;');
    expect(reminders[0]?.text).not.toContain('<!channel>');
    expect(reminders[0]?.text).toContain('workspace_write');
    const reminded = await f.harness.getRun(runId);
    expect(reminded.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: cardTs });

    f.clock.advance(31 * 60 * 1000);
    await f.harness.sweepGates();
    await f.settle();
    const card = f.port.message(CHANNEL, cardTs);
    expect(blocksText(card)).toContain('Expired at');
    expect(blocksText(card)).toContain('Request again');
    expect(blocksText(card)).not.toContain('"Approve"');
  });

  it('marks the card cancelled, posts the cancellation and reacts when the run is cancelled', async () => {
    const f = makeEgress();
    const { runId, gateId } = await pausedAtGate(f);

    await f.harness.cancel(runId, slackActor(REQUESTER), 'not needed');
    await f.settle();

    const card = postsWithKey(f.port, `gate:${gateId}`)[0];
    expect(hasButtons(card)).toBe(false);
    expect(blocksText(card)).toContain('Cancelled');
    const failure = postsWithKey(f.port, 'failure');
    expect(failure).toHaveLength(1);
    expect(failure[0]?.text).toContain('was cancelled');
    expect(f.port.reactions(CHANNEL, f.threadTs)).toEqual(['no_entry_sign']);
  });
});

describe('SlackPublisher: results and failures', () => {
  it('posts the result in the thread (escaped), reacts with a check mark and finishes the status', async () => {
    const f = makeEgress();
    const { runId } = await pausedAtGate(f);
    await f.harness.approve({ runId, actor: slackActor(APPROVER) });
    f.clock.advance(2000);
    await f.settle();

    const results = postsWithKey(f.port, 'result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ channel: CHANNEL, threadTs: f.threadTs });
    expect(blocksText(results[0])).toContain('Report written to reports/durable.md.');
    expect(blocksText(results[0])).toContain('&lt;!channel&gt;');
    expect(blocksText(results[0])).not.toContain('<!channel>');
    expect(f.port.reactions(CHANNEL, f.threadTs)).toEqual(['white_check_mark']);
    const status = postsWithKey(f.port, 'status')[0];
    expect(blocksText(f.port.message(CHANNEL, status?.ts ?? ''))).toContain('Finished');
    const doc = await f.harness.getRun(runId);
    expect(doc.run.posts.map((p) => p.key).sort()).toEqual([`gate:${doc.run.gates[0]?.gateId}`, 'result', 'status']);
  });

  it('splits a long answer over keyed messages (result, result:2, …) and posts each once', async () => {
    const paragraph = 'Durable execution persists each step before its effect. '.repeat(35);
    const answer = Array.from({ length: 12 }, (_, i) => `${i + 1}. ${paragraph}`).join('\n\n');
    const f = makeEgress({ model: ScriptedModel.fromSteps([{ content: answer }]) });
    const doc = await f.startSlackRun('summarise durable execution at length');
    await f.settle();

    expect(doc.run.status).toBe('completed');
    const keys = f.port
      .botMessages()
      .map((m) => keyOf(m))
      .filter((k) => k.startsWith('result'));
    expect(keys.length).toBeGreaterThan(1);
    expect(keys).toEqual(['result', ...keys.slice(1).map((_, i) => `result:${i + 2}`)]);
    const after = await f.harness.getRun(doc.run.runId);
    expect(after.run.posts.filter((p) => p.kind === 'result')).toHaveLength(keys.length);
  });

  it('posts the answer of a follow-up under a new key (result#2) rather than dropping it', async () => {
    const f = makeEgress({ model: ScriptedModel.fromSteps([{ content: 'first answer' }]) });
    const doc = await f.startSlackRun('answer me');
    await f.settle();
    await f.harness.committer.commit(doc.run.runId, [
      { event: 'user_message', detail: { text: 'and again', userId: REQUESTER } },
      { event: 'run_resumed', detail: { by: REQUESTER, source: 'slack' } },
      { event: 'run_completed', detail: { result: 'second answer' } },
    ]);
    await f.settle();

    expect(blocksText(postsWithKey(f.port, 'result')[0])).toContain('first answer');
    expect(blocksText(postsWithKey(f.port, 'result#2')[0])).toContain('second answer');
  });

  it('posts a clear failure message and reacts with x when the run fails', async () => {
    const f = makeEgress({ model: ScriptedModel.fromSteps([]) });
    const doc = await f.startSlackRun('do something');
    await f.settle();

    expect(doc.run.status).toBe('failed');
    const failure = postsWithKey(f.port, 'failure');
    expect(failure).toHaveLength(1);
    expect(failure[0]?.text).toContain('failed');
    expect(blocksText(failure[0])).toContain('What next');
    expect(f.port.reactions(CHANNEL, f.threadTs)).toEqual(['x']);
  });
});

describe('SlackPublisher: the status message', () => {
  async function runningRun(f: EgressFixture): Promise<{ runId: string; statusTs: string }> {
    const created = await f.createSlackRun();
    await f.settle();
    const status = postsWithKey(f.port, 'status');
    expect(status).toHaveLength(1);
    await f.harness.committer.commit(created.run.runId, [{ event: 'run_started', detail: {} }]);
    return { runId: created.run.runId, statusTs: status[0]?.ts ?? '' };
  }

  function modelCalled(turn: number) {
    return {
      event: 'model_called' as const,
      detail: { turn, text: null, toolCalls: [], usage: { inputTokens: 1, outputTokens: 2 }, durationMs: 1, model: 'scripted' },
    };
  }

  it('coalesces 20 commits within a second into at most 2 updates, the last showing the final state', async () => {
    const f = makeEgress();
    const { runId, statusTs } = await runningRun(f);

    for (let turn = 0; turn < 20; turn += 1) {
      f.clock.advance(40);
      await f.harness.committer.commit(runId, [modelCalled(turn)]);
      await f.settle();
    }
    f.clock.advance(1000);
    await f.settle();

    const updates = f.port.callsOf('updateMessage').filter((c) => (c.input as { ts: string }).ts === statusTs);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(2);
    const shown = f.port.message(CHANNEL, statusTs);
    expect(blocksText(shown)).toContain('tokens 60 (in 20 / out 40)');
    expect(blocksText(shown)).toContain('turns 20/');
  });

  it('always ends with a trailing update carrying the latest state', async () => {
    const f = makeEgress();
    const { runId, statusTs } = await runningRun(f);
    f.clock.advance(1000);
    await f.settle();
    const before = f.port.callsOf('updateMessage').length;

    await f.harness.committer.commit(runId, [modelCalled(0)]);
    await f.settle();
    f.clock.advance(100);
    await f.harness.committer.commit(runId, [modelCalled(1)]);
    await f.settle();
    const afterBurst = f.port.callsOf('updateMessage').length;
    expect(afterBurst - before).toBeLessThanOrEqual(1);

    f.clock.advance(1000);
    await f.settle();
    expect(blocksText(f.port.message(CHANNEL, statusTs))).toContain('turns 2/');
  });

  it('flushes a pending coalesced update on stop()', async () => {
    const f = makeEgress();
    const { runId, statusTs } = await runningRun(f);
    await f.settle();
    await f.harness.committer.commit(runId, [modelCalled(0)]);
    await f.settle();
    expect(blocksText(f.port.message(CHANNEL, statusTs))).not.toContain('turns 1/');

    await f.publisher.stop();

    expect(blocksText(f.port.message(CHANNEL, statusTs))).toContain('turns 1/');
  });

  it('logs a refused status update and keeps going', async () => {
    const f = makeEgress();
    const { runId, statusTs } = await runningRun(f);
    f.port.failNext('updateMessage', slackApiError('invalid_blocks'), { when: (input) => (input as { ts: string }).ts === statusTs });
    f.clock.advance(1000);
    await f.settle();
    expect(f.logger.at('warn').some((l) => l.msg?.includes('status update failed'))).toBe(true);

    await f.harness.committer.commit(runId, [modelCalled(0)]);
    f.clock.advance(1000);
    await f.settle();
    expect(blocksText(f.port.message(CHANNEL, statusTs))).toContain('turns 1/');
    expect((await f.harness.getRun(runId)).run.status).toBe('running');
  });
});

describe('SlackPublisher: failures never break the run', () => {
  it('posts a plain-text card when Slack refuses its blocks, traces it, and the gate still works', async () => {
    const f = makeEgress();
    f.port.failNext('postMessage', slackApiError('invalid_blocks'), { when: (input) => keyOf(input).startsWith('gate:') });
    const { runId, gateId } = await pausedAtGate(f);

    const cards = postsWithKey(f.port, `gate:${gateId}`);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.blocks).toBeUndefined();
    expect(cards[0]?.text).toContain('could not be shown');
    expect(cards[0]?.text).toContain(`harness approve ${runId}`);
    const doc = await f.harness.getRun(runId);
    expect(doc.run.status).toBe('waiting_approval');
    expect(doc.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: cards[0]?.ts });
    expect(slackPosted(doc)).toContainEqual({ kind: 'card_fallback', key: `gate:${gateId}`, channel: CHANNEL, ts: cards[0]?.ts, gateId });
    expect(f.logger.at('warn').some((l) => l.msg?.includes('blocks refused'))).toBe(true);

    const { doc: done } = await f.harness.approve({ runId, actor: slackActor(APPROVER) });
    await f.settle();
    expect(done.run.status).toBe('completed');
    expect(blocksText(f.port.message(CHANNEL, cards[0]?.ts ?? ''))).toContain('Approved by');
  });

  it('logs Slack errors without throwing into the harness', async () => {
    const f = makeEgress();
    f.port.failNext('postMessage', slackApiError('channel_not_found'), { times: 10 });
    f.port.failNext('addReaction', slackApiError('channel_not_found'));

    const { doc } = await pausedAtGate(f);

    expect(doc.run.status).toBe('waiting_approval');
    expect(f.port.botMessages()).toEqual([]);
    expect(f.logger.at('error').length).toBeGreaterThan(0);
    expect(JSON.stringify(f.logger.lines)).toContain('channel_not_found');
  });

  it('posts nothing for runs that did not come from Slack', async () => {
    const f = makeEgress();
    const doc = await f.harness.startRun({ task: 'write a report', requestedBy: { userId: REQUESTER, source: 'cli' } });
    await f.harness.approve({ runId: doc.run.runId, actor: { userId: APPROVER, source: 'cli' } });
    await f.settle();

    expect(f.port.calls).toEqual([]);
    expect((await f.harness.getRun(doc.run.runId)).run.posts).toEqual([]);
  });
});

describe('SlackPublisher.reconcile (P15: crash between post and record)', () => {
  it('adopts a card found by its metadata instead of posting it again', async () => {
    const f = makeEgress({ start: false });
    const paused = await f.startSlackRun();
    const runId = paused.run.runId;
    const gate = paused.run.gates[0];
    if (gate === undefined) throw new Error('no gate');
    // The card landed in Slack, then the bot died before recording it.
    const card = renderApprovalCard({ run: paused.run, gate, now: f.clock.now() });
    const landed = await f.port.postMessage({
      channel: CHANNEL,
      threadTs: f.threadTs,
      text: card.text,
      blocks: card.blocks,
      metadata: { event_type: HARNESS_POST_EVENT, event_payload: { runId, key: `gate:${gate.gateId}`, gateId: gate.gateId } },
    });

    f.publisher.start();
    await f.publisher.reconcile();
    await f.settle();

    expect(postCallsFor(f.port, `gate:${gate.gateId}`)).toBe(1);
    expect(postsWithKey(f.port, `gate:${gate.gateId}`)).toHaveLength(1);
    const doc = await f.harness.getRun(runId);
    expect(doc.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: landed.ts });
    expect(f.port.callsOf('findPostedMessage').map((c) => c.input)).toContainEqual({
      channel: CHANNEL,
      threadTs: f.threadTs,
      eventType: HARNESS_POST_EVENT,
      key: `gate:${gate.gateId}`,
      runId,
    });
    // The status message was not found, so it was posted once.
    expect(postsWithKey(f.port, 'status')).toHaveLength(1);

    await f.publisher.reconcile();
    await f.settle();
    expect(f.port.callsOf('postMessage')).toHaveLength(2);
    expect(f.port.unexpected).toEqual([]);
  });

  it('posts the card when nothing is found, exactly once', async () => {
    const f = makeEgress({ start: false });
    const paused = await f.startSlackRun();
    const gateId = paused.run.gates[0]?.gateId ?? '';

    f.publisher.start();
    await f.publisher.reconcile();
    await f.settle();
    await f.publisher.reconcile();
    await f.settle();

    expect(postsWithKey(f.port, `gate:${gateId}`)).toHaveLength(1);
    expect(postsWithKey(f.port, 'status')).toHaveLength(1);
    const doc = await f.harness.getRun(paused.run.runId);
    expect(doc.run.gates[0]?.card?.ts).toBe(postsWithKey(f.port, `gate:${gateId}`)[0]?.ts);
  });

  it('updates a recorded card whose decision was committed but never shown', async () => {
    const f = makeEgress();
    const { runId, gateId } = await pausedAtGate(f);
    const cardTs = postsWithKey(f.port, `gate:${gateId}`)[0]?.ts ?? '';
    // The bot dies right after the decision is durable: no listener sees it.
    await f.publisher.stop();
    await f.harness.decideGate({ runId, actor: slackActor(APPROVER), decision: 'approve' });
    expect(hasButtons(f.port.message(CHANNEL, cardTs))).toBe(true);

    const restarted = f.restartPublisher();
    restarted.start();
    await restarted.reconcile();
    await f.settle();

    expect(hasButtons(f.port.message(CHANNEL, cardTs))).toBe(false);
    expect(blocksText(f.port.message(CHANNEL, cardTs))).toContain(`Approved by ${userMention(APPROVER)}`);
    expect(postsWithKey(f.port, `gate:${gateId}`)).toHaveLength(1);
  });

  it('ignores a post of another run in the same thread with the same key', async () => {
    const f = makeEgress({ start: false });
    const created = await f.createSlackRun();
    await f.port.postMessage({
      channel: CHANNEL,
      threadTs: f.threadTs,
      text: 'status of another run',
      metadata: { event_type: HARNESS_POST_EVENT, event_payload: { runId: 'r_other', key: 'status' } },
    });

    f.publisher.start();
    await f.publisher.reconcile();
    await f.settle();

    const mine = f.port.botMessages().filter((m) => keyOf(m) === 'status' && m.metadata?.event_payload['runId'] === created.run.runId);
    expect(mine).toHaveLength(1);
    expect((await f.harness.getRun(created.run.runId)).run.posts.find((p) => p.key === 'status')?.ts).toBe(mine[0]?.ts);
  });
});

describe('SlackPublisher: permalinks', () => {
  it('keeps the card permalink for the audit log without blocking on it', async () => {
    const f = makeEgress();
    const { gateId } = await pausedAtGate(f);
    const card = postsWithKey(f.port, `gate:${gateId}`)[0];
    expect(f.publisher.permalinkFor(gateId)).toBe(`https://fake.slack.test/archives/${CHANNEL}/p${card?.ts.replace('.', '')}`);
    expect(f.publisher.permalinkFor('g_unknown')).toBeUndefined();
    expect(new SlackPublisher({ harness: f.harness, port: f.port, clock: f.clock, logger: f.logger }).permalinkFor(gateId)).toBeUndefined();
  });
});
