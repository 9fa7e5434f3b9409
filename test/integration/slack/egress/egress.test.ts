/**
 * Egress end to end over loopback: the SlackPublisher with the real `@slack/web-api` 8 WebClient
 * (through `createWebClientPort`) against the local Slack-compatible server. Covers P15 (a 429
 * storm on chat.postMessage lands exactly one card; refused blocks fall back to plain text; a
 * card posted before a crash is adopted through `conversations.replies` metadata), the decided
 * card update, App Home, and P16 (canary tokens appear nowhere in what reached Slack).
 */
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSlack, type LocalSlack } from '../../../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../../../src/local-workspace/workspace-state.ts';
import { systemClock } from '../../../../src/shared/clock.ts';
import { publishAppHome } from '../../../../src/slack/egress/app-home.ts';
import { HARNESS_POST_EVENT, SlackPublisher } from '../../../../src/slack/egress/slack-publisher.ts';
import type { SlackPort } from '../../../../src/slack/port.ts';
import { createWebClientPort, slackWebClientOptions } from '../../../../src/slack/web-client-port.ts';
import type { RunDoc } from '../../../../src/store/run-schema.ts';
import { APPROVER, type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../../support/harness-fixture.ts';

const BOT_TOKEN = 'xoxb-egress-CANARY-bot-token-4711';
const APP_TOKEN = 'xapp-1-egress-CANARY-app-token-4711';
const SCOPES = ['app_mentions:read', 'channels:history', 'chat:write', 'reactions:write', 'im:history', 'users:read'];
const CHANNEL = 'C_GENERAL';

interface LogLine {
  level: string;
  fields: object;
  msg: string | undefined;
}

function recordingLogger(lines: LogLine[]) {
  const push = (level: string) => (fields: object, msg?: string) => {
    lines.push({ level, fields, msg });
  };
  return { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

function reportModel() {
  return ScriptedModel.fromSteps([
    { calls: [{ name: 'workspace_write', args: { path: 'reports/durable.md', content: '# Report\n' } }] },
    { content: 'Report written to reports/durable.md.' },
  ]);
}

describe('egress against the local Slack server', () => {
  let server: LocalSlack;
  let fixture: Fixture;
  let port: SlackPort;
  let publisher: SlackPublisher;
  let root: StoredMessage;
  const lines: LogLine[] = [];

  const makePublisher = (): SlackPublisher =>
    new SlackPublisher({ harness: fixture.harness, port, clock: systemClock, logger: recordingLogger(lines), statusIntervalMs: 50 });

  const createRun = (): Promise<RunDoc> =>
    fixture.harness.createRun({
      task: 'write a report on durable execution',
      requestedBy: { userId: REQUESTER, source: 'slack' },
      origin: { kind: 'slack', teamId: 'T_LOCAL', channel: CHANNEL, threadTs: root.ts },
    });

  const postsWithKey = (key: string): StoredMessage[] =>
    server.state.thread(CHANNEL, root.ts).filter((m) => m.botId !== undefined && m.metadata?.event_payload['key'] === key);

  beforeEach(async () => {
    lines.length = 0;
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, grantedScopes: SCOPES });
    const client = new WebClient(
      BOT_TOKEN,
      slackWebClientOptions({
        apiUrl: server.apiUrl,
        logger: recordingLogger(lines),
        retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10 },
        timeoutMs: 10_000,
      }),
    );
    port = createWebClientPort(client, { botId: 'B_BOT' });
    fixture = makeHarness({ model: reportModel() });
    root = server.state.postMessage({ channel: CHANNEL, user: REQUESTER, text: '<@U_BOT> write a report on durable execution' });
    publisher = makePublisher();
    publisher.start();
  });

  afterEach(async () => {
    await publisher.stop();
    expect(server.unexpectedCalls).toEqual([]);
    await server.close();
    fixture.cleanup();
  });

  it('lands exactly one card through a 429 storm on chat.postMessage (Retry-After honoured)', async () => {
    const created = await createRun();
    await publisher.idle();
    expect(postsWithKey('status')).toHaveLength(1);

    server.injectFault({ method: 'chat.postMessage', status: 429, retryAfterSec: 1, times: 2 });
    const paused = await fixture.harness.runner.drive(created.run.runId);
    await publisher.idle();

    expect(paused.run.status).toBe('waiting_approval');
    const gateId = paused.run.gates[0]?.gateId ?? '';
    expect(server.faults.pending()).toEqual([]);
    const cards = postsWithKey(`gate:${gateId}`);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.metadata).toEqual({ event_type: HARNESS_POST_EVENT, event_payload: { runId: created.run.runId, key: `gate:${gateId}`, gateId } });
    const attempts = server.calls('chat.postMessage').slice(1);
    expect(attempts.map((c) => c.status)).toEqual([429, 429, 200]);
    // A lower bound only: the client waited out each Retry-After instead of hammering the server.
    expect((attempts[1]?.ts ?? 0) - (attempts[0]?.ts ?? 0)).toBeGreaterThanOrEqual(900);
    const doc = await fixture.harness.getRun(created.run.runId);
    expect(doc.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: cards[0]?.ts });
    expect(server.state.getMessage(CHANNEL, root.ts)?.reactions.map((r) => r.name)).toEqual(['eyes']);
  });

  it('falls back to a plain-text card when Slack answers invalid_blocks, and records it', async () => {
    const created = await createRun();
    await publisher.idle();
    server.injectFault({ method: 'chat.postMessage', error: 'invalid_blocks' });

    const paused = await fixture.harness.runner.drive(created.run.runId);
    await publisher.idle();

    const gateId = paused.run.gates[0]?.gateId ?? '';
    const cards = postsWithKey(`gate:${gateId}`);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.blocks).toBeUndefined();
    expect(cards[0]?.text).toContain('could not be shown');
    const doc = await fixture.harness.getRun(created.run.runId);
    expect(doc.run.status).toBe('waiting_approval');
    expect(doc.trace.filter((e) => e.event === 'slack_posted').map((e) => e.detail['kind'])).toContain('card_fallback');
    expect(doc.run.gates[0]?.card?.ts).toBe(cards[0]?.ts);
  });

  it('updates the card on approval, posts the result, and leaks no token anywhere', async () => {
    const paused = await fixture.harness.startRun({
      task: 'write a report on durable execution',
      requestedBy: { userId: REQUESTER, source: 'slack' },
      origin: { kind: 'slack', teamId: 'T_LOCAL', channel: CHANNEL, threadTs: root.ts },
    });
    await publisher.idle();
    const gateId = paused.run.gates[0]?.gateId ?? '';

    await publishAppHome({ harness: fixture.harness, port, userId: APPROVER, now: systemClock.now() });
    expect(JSON.stringify(server.state.homeOf(APPROVER)?.definition)).toContain('Waiting for your approval (1)');

    await fixture.harness.approve({ runId: paused.run.runId, actor: { userId: APPROVER, source: 'slack' } });
    await publisher.stop();

    const card = postsWithKey(`gate:${gateId}`)[0];
    expect(JSON.stringify(card?.blocks)).toContain('Approved by');
    expect((card?.blocks ?? []).some((b) => (b as { type: string }).type === 'actions')).toBe(false);
    expect(postsWithKey('result')).toHaveLength(1);
    expect(JSON.stringify(postsWithKey('status')[0]?.blocks)).toContain('Finished');
    expect(server.state.getMessage(CHANNEL, root.ts)?.reactions.map((r) => r.name)).toEqual(['white_check_mark']);

    const everything = JSON.stringify({
      messages: server.state.snapshot().messages,
      views: server.state.snapshot().views,
      journal: server.calls(),
      logs: lines,
      run: await fixture.harness.getRun(paused.run.runId),
    });
    expect(everything).not.toContain(BOT_TOKEN);
    expect(everything).not.toContain(APP_TOKEN);
    expect(everything).not.toContain('CANARY');
  });

  it('adopts a card posted before a crash (found by metadata via conversations.replies) instead of re-posting', async () => {
    await publisher.stop();
    const paused = await fixture.harness.startRun({
      task: 'write a report on durable execution',
      requestedBy: { userId: REQUESTER, source: 'slack' },
      origin: { kind: 'slack', teamId: 'T_LOCAL', channel: CHANNEL, threadTs: root.ts },
    });
    const gateId = paused.run.gates[0]?.gateId ?? '';
    const landed = await port.postMessage({
      channel: CHANNEL,
      threadTs: root.ts,
      text: 'Approval needed',
      metadata: { event_type: HARNESS_POST_EVENT, event_payload: { runId: paused.run.runId, key: `gate:${gateId}`, gateId } },
    });

    publisher = makePublisher();
    publisher.start();
    await publisher.reconcile();
    await publisher.idle();

    expect(postsWithKey(`gate:${gateId}`).map((m) => m.ts)).toEqual([landed.ts]);
    expect(server.calls('conversations.replies').length).toBeGreaterThan(0);
    const doc = await fixture.harness.getRun(paused.run.runId);
    expect(doc.run.gates[0]?.card).toEqual({ channel: CHANNEL, ts: landed.ts });
    // The adopted card was refreshed to the full rendering.
    expect(JSON.stringify(postsWithKey(`gate:${gateId}`)[0]?.blocks)).toContain('Approval needed: workspace_write');
    expect(postsWithKey('status')).toHaveLength(1);
  });
});
