/**
 * The ingress rules over fakes (the harness over the memory store and a scripted model, the fake
 * Slack port, a recording publisher): run ids from event ids, one handler per mention, follow-ups,
 * P18 input bounds, click authorisation (P7) and its ordering with the "processing…" card, trigger
 * dedupe, modal validation, Request again and Kill.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreIoRetryable, inputMessage } from './ingress-fixtures.ts';
import { ActionIds, CallbackIds, ModalInputs, encodeAgentAction, encodeGateAction } from '../../../../src/slack/blocks/action-ids.ts';
import { EMPTY_TASK_HINT } from '../../../../src/slack/ingress/slack-ingress.ts';
import { APPROVER, APPROVER2, REQUESTER } from '../../../support/harness-fixture.ts';
import { type IngressRig, makeIngressRig } from './ingress-fixtures.ts';

describe('SlackIngress: messages', () => {
  let rig: IngressRig;

  beforeEach(() => {
    rig = makeIngressRig();
  });

  afterEach(async () => {
    await rig.close();
  });

  it('creates a run whose id derives from the event id, with a Slack origin, and drives it in the background', async () => {
    await rig.ingress.handleMention(inputMessage({ eventId: 'Ev1', text: '<@U_BOT> write the report please', ts: '100.000001' }));
    const doc = await rig.harness.getRun('ev_Ev1');
    expect(doc.run).toMatchObject({
      task: 'write the report please',
      requestedBy: { userId: REQUESTER, source: 'slack' },
      origin: { kind: 'slack', teamId: 'T_LOCAL', channel: 'C1', threadTs: '100.000001', eventId: 'Ev1' },
    });
    await rig.ingress.settled();
    expect((await rig.harness.getRun('ev_Ev1')).run.status).toBe('waiting_approval');
    expect(rig.threads.ownerOf('C1', '100.000001')?.runId).toBe('ev_Ev1');
  });

  it('starts one run for a redelivered event, also when the memory dedupe is empty (a restart)', async () => {
    const message = inputMessage({ eventId: 'Ev2', text: '<@U_BOT> go' });
    await rig.ingress.handleMention(message);
    await rig.ingress.handleMention({ ...message, retryNum: 1 });
    const fresh = rig.newIngress();
    await fresh.handleMention({ ...message, retryNum: 2 });
    await rig.ingress.settled();
    await fresh.settled();
    expect((await rig.harness.listRuns()).map((e) => e.runId)).toEqual(['ev_Ev2']);
    expect(rig.slack.botMessages()).toEqual([]);
  });

  it('processes a retry whose first attempt failed before the run was persisted (P9: never dropped)', async () => {
    const message = inputMessage({ eventId: 'Ev3', text: '<@U_BOT> go' });
    rig.store.failNextWrite(new StoreIoRetryable('disk full'));
    await rig.ingress.handleMention(message);
    expect(await rig.harness.listRuns()).toEqual([]);
    expect(rig.slack.botMessages().map((m) => m.text)).toEqual([expect.stringContaining('I could not start this task (store_io)')]);

    await rig.ingress.handleMention({ ...message, retryNum: 1 });
    expect((await rig.harness.listRuns()).map((e) => e.runId)).toEqual(['ev_Ev3']);
  });

  it('leaves channel messages to app_mention: top-level, mentioning the bot, or in threads no run owns', async () => {
    await rig.ingress.handleMessage(inputMessage({ eventId: 'Ev4', channelType: 'channel', text: 'do something' }));
    await rig.ingress.handleMessage(inputMessage({ eventId: 'Ev5', channelType: 'channel', text: 'hi', threadTs: '1.000001' }));
    await rig.ingress.handleMention(inputMessage({ eventId: 'Ev6', text: '<@U_BOT> go', ts: '2.000001' }));
    await rig.ingress.handleMessage(inputMessage({ eventId: 'Ev7', channelType: 'channel', text: '<@U_BOT> go again', ts: '2.000002', threadTs: '2.000001' }));
    await rig.ingress.settled();
    expect((await rig.harness.listRuns()).map((e) => e.runId)).toEqual(['ev_Ev6']);
    expect(rig.ingress.handled.events).toBe(4);
  });

  it('starts a task from a DM without a mention', async () => {
    await rig.ingress.handleMessage(inputMessage({ eventId: 'Ev8', channel: 'D1', channelType: 'im', text: 'write it', ts: '5.000001' }));
    expect((await rig.harness.getRun('ev_Ev8')).run.origin).toMatchObject({ channel: 'D1', threadTs: '5.000001' });
  });

  it('queues replies while the thread’s run is active, says so once, and starts one merged follow-up when it ends', async () => {
    await rig.ingress.handleMention(inputMessage({ eventId: 'Ev9', text: '<@U_BOT> first', ts: '7.000001' }));
    await rig.ingress.settled();
    await rig.ingress.handleMessage(inputMessage({ eventId: 'Ev10', channelType: 'channel', text: 'and?', ts: '7.000002', threadTs: '7.000001' }));
    await rig.ingress.handleMessage(inputMessage({ eventId: 'Ev11', channelType: 'channel', text: 'second', ts: '7.000003', threadTs: '7.000001' }));
    expect(rig.slack.replies('C1', '7.000001').map((m) => m.text)).toEqual([expect.stringContaining('Got it. I will take your message up when the current task')]);
    expect(await rig.harness.listRuns()).toHaveLength(1);
    expect(rig.ingress.queue.waiting).toBe(2);

    await rig.harness.cancel('ev_Ev9', { userId: REQUESTER, source: 'slack' });
    await rig.ingress.settled();
    expect(rig.ingress.queue.waiting).toBe(0);
    const followUp = await rig.harness.getRun('ev_Ev10');
    expect(followUp.run.origin).toMatchObject({ threadTs: '7.000001', eventId: 'Ev10' });
    expect(followUp.run.task).toMatch(/^and\?\nsecond\n\n---\nEarlier in this thread \(run ev_Ev9, role \w+, status cancelled\):\nOriginal request: first\n/);
    expect(rig.threads.ownerOf('C1', '7.000001')?.runId).toBe('ev_Ev10');
    expect((await rig.harness.listRuns()).map((e) => e.runId).sort()).toEqual(['ev_Ev10', 'ev_Ev9']);
  });

  it('refuses an oversized message in the thread before any run or model call (P18), and hints on an empty mention', async () => {
    const max = rig.harness.deps.budgets.maxInputChars;
    await rig.ingress.handleMention(inputMessage({ eventId: 'Ev12', text: `<@U_BOT> ${'y'.repeat(max + 1)}`, ts: '9.000001' }));
    await rig.ingress.handleMention(inputMessage({ eventId: 'Ev13', text: '<@U_BOT>   ', ts: '9.000002' }));
    expect(await rig.harness.listRuns()).toEqual([]);
    expect(rig.model.requests).toHaveLength(0);
    expect(rig.slack.replies('C1', '9.000001').map((m) => m.text)).toEqual([expect.stringContaining(`the limit is ${max.toLocaleString('en-US')}`)]);
    expect(rig.slack.replies('C1', '9.000002').map((m) => m.text)).toEqual([EMPTY_TASK_HINT]);
  });

  it('ignores events from another workspace', async () => {
    await rig.ingress.handleMention(inputMessage({ eventId: 'Ev14', teamId: 'T_OTHER', text: '<@U_BOT> go' }));
    expect(await rig.harness.listRuns()).toEqual([]);
  });

  it('publishes the App Home when the Home tab opens (not the Messages tab)', async () => {
    await rig.ingress.handleHomeOpened(APPROVER, 'home');
    await rig.ingress.handleHomeOpened(APPROVER, 'messages');
    expect(rig.publisher.calls).toEqual([['publishAppHome', APPROVER]]);
  });
});

describe('SlackIngress: clicks', () => {
  let rig: IngressRig;
  let gate: { runId: string; gateId: string; nonce: string };

  beforeEach(async () => {
    rig = makeIngressRig();
    gate = await rig.pendingGate();
  });

  afterEach(async () => {
    await rig.close();
  });

  it('approves: decision committed, "processing…" requested once, run driven on', async () => {
    await rig.ingress.handleClick(rig.click(APPROVER, ActionIds.approve, encodeGateAction(gate)));
    await rig.ingress.settled();
    const doc = await rig.harness.getRun(gate.runId);
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER, decisionSource: 'slack' });
    expect(doc.run.status).toBe('completed');
    expect(rig.publisher.calls).toEqual([['showProcessing', gate.runId, gate.gateId, APPROVER]]);
    expect(rig.slack.ephemerals()).toEqual([]);
  });

  it('refuses a non-approver and the requester with an ephemeral and a recorded refusal, and never shows "processing…"', async () => {
    await rig.ingress.handleClick(rig.click('U_VIEWER', ActionIds.approve, encodeGateAction(gate)));
    await rig.ingress.handleClick(rig.click(REQUESTER, ActionIds.approve, encodeGateAction(gate)));
    const doc = await rig.harness.getRun(gate.runId);
    expect(doc.run.gates[0]?.status).toBe('pending');
    expect(doc.trace.filter((e) => e.event === 'approval_refused').map((e) => e.detail['userId'])).toEqual(['U_VIEWER', REQUESTER]);
    expect(rig.slack.ephemerals().map((e) => [e.user, e.channel, e.threadTs])).toEqual([
      ['U_VIEWER', 'C1', '50.000001'],
      [REQUESTER, 'C1', '50.000001'],
    ]);
    expect(rig.publisher.calls).toEqual([]);
    expect(rig.audit.entries.map((e) => e.action)).toEqual(['refused', 'refused']);
  });

  it('refuses another team or app before touching the gate, and records it', async () => {
    await rig.ingress.handleClick({ ...rig.click(APPROVER, ActionIds.approve, encodeGateAction(gate)), teamId: 'T_OTHER' });
    await rig.ingress.handleClick({ ...rig.click(APPROVER, ActionIds.approve, encodeGateAction(gate)), appId: 'A_OTHER' });
    await rig.ingress.handleClick({ ...rig.click(APPROVER, ActionIds.approve, encodeGateAction(gate)), appId: undefined });
    const doc = await rig.harness.getRun(gate.runId);
    expect(doc.run.gates[0]?.status).toBe('pending');
    expect(doc.trace.filter((e) => e.event === 'approval_refused').map((e) => e.detail['reason'])).toEqual([
      expect.stringContaining('another Slack workspace (T_OTHER)'),
      expect.stringContaining('another app (A_OTHER)'),
      'this request does not say which app it is for',
    ]);
    expect(rig.slack.ephemerals()).toHaveLength(3);
  });

  it('refuses an undecodable or extended button value without looking anything up', async () => {
    await rig.ingress.handleClick(rig.click(APPROVER, ActionIds.approve, 'not json'));
    await rig.ingress.handleClick(rig.click(APPROVER, ActionIds.approve, JSON.stringify({ ...gate, approvers: [APPROVER] })));
    expect(rig.slack.ephemerals().map((e) => e.text)).toEqual([
      expect.stringContaining('does not name an approval request'),
      expect.stringContaining('does not name an approval request'),
    ]);
    expect((await rig.harness.getRun(gate.runId)).trace.some((e) => e.event === 'approval_refused')).toBe(false);
  });

  it('handles a trigger id once (a replayed payload is skipped)', async () => {
    const click = rig.click('U_VIEWER', ActionIds.approve, encodeGateAction(gate));
    await rig.ingress.handleClick(click);
    await rig.ingress.handleClick(click);
    expect(rig.slack.ephemerals()).toHaveLength(1);
    expect(rig.ingress.handled.clicks).toBe(2);
  });

  it('tells the loser of a race who decided first', async () => {
    await rig.ingress.handleClick(rig.click(APPROVER, ActionIds.approve, encodeGateAction(gate)));
    await rig.ingress.handleClick(rig.click(APPROVER2, ActionIds.approve, encodeGateAction(gate)));
    expect(rig.slack.ephemerals().map((e) => [e.user, e.text])).toEqual([[APPROVER2, expect.stringContaining(`already approved by ${APPROVER}`)]]);
  });

  it('opens the reject and edit modals only for someone who may decide', async () => {
    await rig.ingress.handleClick(rig.click('U_VIEWER', ActionIds.reject, encodeGateAction(gate)));
    expect(rig.slack.callsOf('openView')).toEqual([]);
    await rig.ingress.handleClick(rig.click(APPROVER, ActionIds.reject, encodeGateAction(gate)));
    await rig.ingress.handleClick(rig.click(APPROVER, ActionIds.edit, encodeGateAction(gate)));
    await rig.ingress.handleClick(rig.click('U_VIEWER', ActionIds.viewArgs, encodeGateAction(gate)));
    const opened = rig.slack.callsOf('openView').map((c) => (c.input as { view: { callback_id: string } }).view.callback_id);
    expect(opened).toEqual([CallbackIds.rejectModal, CallbackIds.editModal, CallbackIds.argsModal]);
    expect((await rig.harness.getRun(gate.runId)).trace.filter((e) => e.event === 'approval_refused')).toHaveLength(1);
  });

  it('sends a refusal for a click outside any message (App Home) as a DM', async () => {
    await rig.ingress.handleClick({ ...rig.click('U_VIEWER', ActionIds.approve, encodeGateAction(gate)), channel: undefined, threadTs: undefined });
    expect(rig.slack.botMessages('U_VIEWER').map((m) => m.text)).toEqual([expect.stringContaining('you are not an approver')]);
  });

  it('lets only the requester or an approver ask again, and only once the gate has expired', async () => {
    await rig.ingress.handleClick(rig.click('U_VIEWER', ActionIds.requestAgain, encodeGateAction(gate)));
    expect(rig.slack.ephemerals().at(-1)?.text).toContain('only the requester or an approver');
    await rig.ingress.handleClick(rig.click(REQUESTER, ActionIds.requestAgain, encodeGateAction(gate)));
    await rig.ingress.settled();
    expect(rig.slack.ephemerals().at(-1)?.text).toContain('is waiting for approval of gate');

    rig.clock.advance(rig.harness.deps.policy.config.gateTtlMs + 1);
    await rig.ingress.handleClick(rig.click(REQUESTER, ActionIds.requestAgain, encodeGateAction(gate)));
    await rig.ingress.settled();
    const doc = await rig.harness.getRun(gate.runId);
    expect(doc.run.gates.map((g) => g.status)).toEqual(['expired', 'pending']);
  });

  it('kills a run for its requester or an approver, and refuses anyone else', async () => {
    await rig.ingress.handleClick(rig.click('U_VIEWER', ActionIds.agentKill, encodeAgentAction(gate.runId)));
    expect((await rig.harness.getRun(gate.runId)).run.status).toBe('waiting_approval');
    expect(rig.slack.ephemerals().at(-1)?.text).toContain('only the requester of the task or an approver');
    await rig.ingress.handleClick(rig.click(APPROVER2, ActionIds.agentKill, encodeAgentAction(gate.runId)));
    expect((await rig.harness.getRun(gate.runId)).run.status).toBe('cancelled');
  });
});

describe('SlackIngress: modal submissions', () => {
  let rig: IngressRig;
  let gate: { runId: string; gateId: string; nonce: string };

  beforeEach(async () => {
    rig = makeIngressRig();
    gate = await rig.pendingGate();
  });

  afterEach(async () => {
    await rig.close();
  });

  const reject = ModalInputs.rejectReason;
  const edit = ModalInputs.editArgs;

  it('keeps the reject modal open on a blank reason, and rejects with a reason', async () => {
    const blank = await rig.ingress.handleSubmission(rig.submission(APPROVER, CallbackIds.rejectModal, encodeGateAction(gate), { [reject.blockId]: { [reject.actionId]: { value: '  ' } } }));
    expect(blank).toEqual({ response_action: 'errors', errors: { [reject.blockId]: expect.stringContaining('A reason is required') } });
    const done = await rig.ingress.handleSubmission(rig.submission(APPROVER, CallbackIds.rejectModal, encodeGateAction(gate), { [reject.blockId]: { [reject.actionId]: { value: 'no' } } }));
    expect(done).toBeUndefined();
    await rig.ingress.settled();
    expect((await rig.harness.getRun(gate.runId)).run.gates[0]).toMatchObject({ status: 'rejected', decisionReason: 'no' });
  });

  it('shows refusals in the form: not an approver, another team', async () => {
    const values = { [reject.blockId]: { [reject.actionId]: { value: 'no' } } };
    const viewer = await rig.ingress.handleSubmission(rig.submission('U_VIEWER', CallbackIds.rejectModal, encodeGateAction(gate), values));
    expect(viewer?.errors[reject.blockId]).toContain('not an approver');
    const other = await rig.ingress.handleSubmission({ ...rig.submission(APPROVER, CallbackIds.rejectModal, encodeGateAction(gate), values), teamId: 'T_OTHER' });
    expect(other?.errors[reject.blockId]).toContain('another workspace or app');
    expect((await rig.harness.getRun(gate.runId)).run.gates[0]?.status).toBe('pending');
  });

  it('refuses invalid JSON and schema-invalid arguments inline, approves valid edits without a "processing…" card', async () => {
    const submit = (value: string) => rig.ingress.handleSubmission(rig.submission(APPROVER, CallbackIds.editModal, encodeGateAction(gate), { [edit.blockId]: { [edit.actionId]: { value } } }));
    expect((await submit('{'))?.errors[edit.blockId]).toMatch(/^Not valid JSON/);
    expect((await submit('{"path": 3}'))?.errors[edit.blockId]).toContain('edited arguments for workspace_write are invalid');
    expect(await submit(JSON.stringify({ path: 'reports/edited.md', content: 'edited' }))).toBeUndefined();
    await rig.ingress.settled();
    const doc = await rig.harness.getRun(gate.runId);
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', editedArgs: { path: 'reports/edited.md', content: 'edited' } });
    expect(rig.publisher.calls).toEqual([]);
  });

  it('refuses a form whose metadata names no gate', async () => {
    const answer = await rig.ingress.handleSubmission(rig.submission(APPROVER, CallbackIds.rejectModal, '{"runId":"x"}', {}));
    expect(answer?.errors[reject.blockId]).toContain('no longer names an approval request');
  });
});
