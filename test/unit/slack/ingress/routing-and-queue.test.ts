/**
 * The router inside the ingress (role prefix, `as role`, channel roles, a follow-up keeping its
 * thread's role, the help reply for unknown roles) and the per-thread queue (messages to a busy
 * thread wait and are never dropped; rapid messages merge within the debounce window; different
 * people are not merged).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedModel } from '../../../../src/model/scripted-model.ts';
import { REQUESTER } from '../../../support/harness-fixture.ts';
import { ROUTING_ROLES, inputMessage, makeIngressRig, type IngressRig } from './ingress-fixtures.ts';

/** Every run answers at once (the queue tests need runs that end). */
function answeringModel(): ScriptedModel {
  return ScriptedModel.fromScenarios({ fallback: 'done', scenarios: [{ name: 'done', match: '.', steps: [{ say: 'done' }] }] });
}

/** A model whose runs pause on a gate first (write → approval), then answer. */
function gatedModel(): ScriptedModel {
  return ScriptedModel.fromScenarios({
    fallback: 'write',
    scenarios: [{ name: 'write', match: '.', steps: [{ calls: [{ name: 'workspace_write', args: { path: 'reports/r.md', content: 'x' } }] }, { say: 'written' }] }],
  });
}

describe('SlackIngress: routing', () => {
  let rig: IngressRig;

  afterEach(async () => {
    await rig.close();
  });

  it('starts a run in the role the message names, without the selector in the task', async () => {
    rig = makeIngressRig({ roles: ROUTING_ROLES, model: answeringModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvR1', text: '<@U_BOT> researcher: find the notes', ts: '1.000001' }));
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvR2', text: '<@U_BOT> as reviewer check the draft', ts: '1.000002' }));
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvR3', text: '<@U_BOT> Note: summarise it', ts: '1.000003' }));
    expect((await rig.harness.getRun('ev_EvR1')).run).toMatchObject({ role: 'researcher', task: 'find the notes' });
    expect((await rig.harness.getRun('ev_EvR2')).run).toMatchObject({ role: 'reviewer', task: 'check the draft' });
    expect((await rig.harness.getRun('ev_EvR3')).run).toMatchObject({ role: 'writer', task: 'Note: summarise it' });
  });

  it('uses the channel’s role for new tasks there', async () => {
    rig = makeIngressRig({ roles: ROUTING_ROLES, channels: { C_RESEARCH: 'researcher' }, model: answeringModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvC1', channel: 'C_RESEARCH', text: '<@U_BOT> what changed?', ts: '2.000001' }));
    expect((await rig.harness.getRun('ev_EvC1')).run.role).toBe('researcher');
  });

  it('answers an unknown or misspelt role with the list of roles, and starts nothing', async () => {
    rig = makeIngressRig({ roles: ROUTING_ROLES, model: answeringModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvU1', text: '<@U_BOT> reseacher: find X', ts: '3.000001' }));
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvU3', text: '<@U_BOT> as poet: a sonnet', ts: '3.000003' }));
    expect(await rig.harness.listRuns()).toEqual([]);
    const [reply] = rig.slack.replies('C1', '3.000001').map((m) => m.text);
    expect(reply).toContain('I don\'t know a role called "reseacher" (did you mean *researcher*?); nothing was started.');
    for (const role of ROUTING_ROLES) expect(reply).toContain(`• *${role.name}* — ${role.description}`);
    expect(rig.slack.replies('C1', '3.000003').map((m) => m.text)).toEqual([expect.stringContaining('I don\'t know a role called "poet"; nothing was started.')]);
  });

  it('keeps the thread’s role for a follow-up, and lets an explicit role in a follow-up win', async () => {
    rig = makeIngressRig({ roles: ROUTING_ROLES, model: answeringModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvT1', text: '<@U_BOT> researcher: find X', ts: '4.000001' }));
    await rig.ingress.settled();
    await rig.ingress.handleMessage(inputMessage({ eventId: 'EvT2', channelType: 'channel', text: 'and Y', ts: '4.000002', threadTs: '4.000001' }));
    await rig.ingress.settled();
    expect((await rig.harness.getRun('ev_EvT2')).run.role).toBe('researcher');
    await rig.ingress.handleMessage(inputMessage({ eventId: 'EvT3', channelType: 'channel', text: 'reviewer: check both', ts: '4.000003', threadTs: '4.000001' }));
    await rig.ingress.settled();
    const review = (await rig.harness.getRun('ev_EvT3')).run;
    expect(review.role).toBe('reviewer');
    expect(review.task).toMatch(/^check both\n\n---\nEarlier in this thread \(run ev_EvT2, /);
  });
});

describe('SlackIngress: the per-thread queue', () => {
  let rig: IngressRig;

  afterEach(async () => {
    await rig.close();
  });

  it('handles all 20 messages of a burst to a busy thread: none dropped, merged into one follow-up', async () => {
    rig = makeIngressRig({ model: gatedModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvB0', text: '<@U_BOT> write it', ts: '5.000001' }));
    await rig.ingress.settled();
    expect((await rig.harness.getRun('ev_EvB0')).run.status).toBe('waiting_approval');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rig.ingress.handleMessage(inputMessage({ eventId: `EvB${String(i + 1)}`, channelType: 'channel', text: `line ${String(i + 1)}`, ts: `5.${String(100 + i).padStart(6, '0')}`, threadTs: '5.000001' })),
      ),
    );
    expect(rig.ingress.queue.waiting).toBe(20);
    expect(rig.slack.replies('C1', '5.000001').filter((m) => m.text.startsWith(':inbox_tray:'))).toHaveLength(1);

    await rig.harness.cancel('ev_EvB0', { userId: REQUESTER, source: 'slack' });
    await rig.ingress.settled();
    expect(rig.ingress.queue.waiting).toBe(0);
    expect(rig.ingress.handled.followUps).toBe(20);
    const runs = (await rig.harness.listRuns()).map((e) => e.runId).filter((id) => id !== 'ev_EvB0');
    expect(runs).toEqual(['ev_EvB1']);
    const task = (await rig.harness.getRun('ev_EvB1')).run.task;
    const lines = task.split('\n\n---\n')[0]!.split('\n');
    expect(lines).toEqual(Array.from({ length: 20 }, (_, i) => `line ${String(i + 1)}`));
  });

  it('merges messages within the debounce window, and not across it', async () => {
    rig = makeIngressRig({ model: answeringModel(), debounceMs: 1000 });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvD0', text: '<@U_BOT> start', ts: '6.000001' }));
    await rig.ingress.settled();
    const follow = (eventId: string, text: string, ts: string): Promise<void> =>
      rig.ingress.handleMessage(inputMessage({ eventId, channelType: 'channel', text, ts, threadTs: '6.000001' }));
    await follow('EvD1', 'one', '6.000002');
    rig.clock.advance(600);
    await follow('EvD2', 'two', '6.000003');
    rig.clock.advance(600);
    // 1200 ms after the first, but only 600 after the second: still inside the window.
    await rig.ingress.settled();
    expect(rig.ingress.queue.waiting).toBe(2);
    rig.clock.advance(500);
    await rig.ingress.settled();
    expect(rig.ingress.queue.waiting).toBe(0);
    expect((await rig.harness.getRun('ev_EvD1')).run.task).toMatch(/^one\ntwo\n\n---\n/);

    await follow('EvD3', 'three', '6.000004');
    rig.clock.advance(1000);
    await rig.ingress.settled();
    expect((await rig.harness.getRun('ev_EvD3')).run.task).toMatch(/^three\n\n---\nEarlier in this thread \(run ev_EvD1, /);
  });

  it('bounds the window: a steady stream is flushed after four windows', async () => {
    rig = makeIngressRig({ model: answeringModel(), debounceMs: 1000 });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvS0', text: '<@U_BOT> start', ts: '7.000001' }));
    await rig.ingress.settled();
    for (let i = 1; i <= 5; i += 1) {
      await rig.ingress.handleMessage(inputMessage({ eventId: `EvS${String(i)}`, channelType: 'channel', text: `m${String(i)}`, ts: `7.00000${String(i + 1)}`, threadTs: '7.000001' }));
      rig.clock.advance(900);
      await rig.ingress.settled();
    }
    expect((await rig.harness.getRun('ev_EvS1')).run.task).toMatch(/^m1\nm2\nm3\nm4\nm5\n/);
  });

  it('does not merge different people’s messages: each person’s run is their own', async () => {
    rig = makeIngressRig({ model: gatedModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvP0', text: '<@U_BOT> write it', ts: '8.000001' }));
    await rig.ingress.settled();
    await rig.ingress.handleMessage(inputMessage({ eventId: 'EvP1', channelType: 'channel', text: 'from riley', ts: '8.000002', threadTs: '8.000001' }));
    await rig.ingress.handleMessage(inputMessage({ eventId: 'EvP2', channelType: 'channel', user: 'U_PM', text: 'from pat', ts: '8.000003', threadTs: '8.000001' }));
    await rig.harness.cancel('ev_EvP0', { userId: REQUESTER, source: 'slack' });
    await rig.ingress.settled();
    const first = (await rig.harness.getRun('ev_EvP1')).run;
    expect(first).toMatchObject({ requestedBy: { userId: REQUESTER } });
    expect(first.task).toMatch(/^from riley\n\n---/);
    // Pat's message waits for Riley's follow-up (paused on its gate), then goes as Pat's own run.
    expect(rig.ingress.queue.waiting).toBe(1);
    await rig.harness.cancel('ev_EvP1', { userId: REQUESTER, source: 'slack' });
    await rig.ingress.settled();
    expect((await rig.harness.getRun('ev_EvP2')).run).toMatchObject({ requestedBy: { userId: 'U_PM' }, task: expect.stringMatching(/^from pat\n\n---/) as unknown });
  });

  it('skips a redelivered queued message (dedupe by event id)', async () => {
    rig = makeIngressRig({ model: gatedModel() });
    await rig.ingress.handleMention(inputMessage({ eventId: 'EvX0', text: '<@U_BOT> write it', ts: '9.000001' }));
    await rig.ingress.settled();
    const reply = inputMessage({ eventId: 'EvX1', channelType: 'channel', text: 'again', ts: '9.000002', threadTs: '9.000001' });
    await rig.ingress.handleMessage(reply);
    await rig.ingress.handleMessage({ ...reply, retryNum: 1 });
    expect(rig.ingress.queue.waiting).toBe(1);
  });
});
