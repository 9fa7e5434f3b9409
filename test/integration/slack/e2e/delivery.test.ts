/**
 * P9 and P6 end to end. P9: Slack redelivers an event (Socket Mode `retry_attempt`, HTTP
 * `X-Slack-Retry-Num` 1–3) — one run, whether the first copy was still in flight, handled, or
 * handled by a bot process that has since restarted (the dedupe is the run id derived from the
 * `event_id`, not memory). P6: in HTTP mode a forged, stale, future, re-serialised or header-less
 * request is answered 401 and nothing runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppMentionEvent, buildEventCallback } from '../../../../src/local-workspace/events.ts';
import { signSlackRequest } from '../../../../src/local-workspace/http-delivery.ts';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import {
  CANARY,
  CHANNEL,
  REPORT_TASK,
  REQUESTER,
  cards,
  eventsHandled,
  eventually,
  makeWorld,
  readRun,
  runIds,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

describe('e2e P9: a redelivered app_mention starts one run', () => {
  let server: LocalSlack;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('Socket Mode: retry_attempt 1–3, concurrent and after a bot restart', async () => {
    const world = await makeWorld();
    let bot: TestBot = await startTestBot(world, server, 'socket');
    try {
      const posted = await server.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${REPORT_TASK}`);
      const mention = posted.deliveries.find((d) => (d.payload['event'] as { type: string }).type === 'app_mention')!;
      // One retry while the first copy is still being handled, then two after it.
      const retries = [await server.redeliver(mention.id)];
      await eventually(() => cards(server, CHANNEL, posted.message.ts)[0], 'the approval card');
      retries.push(await server.redeliver(retries[0]!.id));
      retries.push(await server.redeliver(retries[1]!.id));
      expect(retries.map((r) => [r.via, r.attempt, r.status])).toEqual([
        ['socket', 1, 'acked'],
        ['socket', 2, 'acked'],
        ['socket', 3, 'acked'],
      ]);

      // A new process has an empty in-memory dedupe set: the durable run id still says "seen".
      await bot.stop();
      bot = await startTestBot(world, server, 'socket');
      await server.redeliver(retries[2]!.id);
      await eventsHandled(bot, 1);
      await bot.bot.ingress.settled();

      const ids = await runIds(world.dataDir);
      expect(ids).toEqual([`ev_${String(mention.payload['event_id'])}`]);
      expect((await readRun(world.dataDir, ids[0]!)).trace.filter((e) => e.event === 'run_created')).toHaveLength(1);
      expect(cards(server, CHANNEL, posted.message.ts)).toHaveLength(1);
      expect(server.state.replies(CHANNEL, posted.message.ts).filter((m) => m.botId === undefined)).toEqual([]);
      expect(server.unexpectedCalls).toEqual([]);
    } finally {
      await bot.stop();
      await world.cleanup();
    }
  });

  it('HTTP mode: X-Slack-Retry-Num 1, 2 and 3', async () => {
    const world = await makeWorld();
    const bot = await startTestBot(world, server, 'http');
    try {
      const posted = await server.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${REPORT_TASK}`);
      expect(posted.deliveries.every((d) => d.via === 'http' && d.httpStatus === 200)).toBe(true);
      const mention = posted.deliveries.find((d) => (d.payload['event'] as { type: string }).type === 'app_mention')!;
      let last = mention;
      for (let i = 1; i <= 3; i += 1) {
        last = await server.redeliver(last.id);
        expect([last.attempt, last.httpStatus]).toEqual([i, 200]);
      }
      await eventually(() => cards(server, CHANNEL, posted.message.ts)[0], 'the approval card');
      await eventsHandled(bot, 5);
      await bot.bot.ingress.settled();
      expect(await runIds(world.dataDir)).toEqual([`ev_${String(mention.payload['event_id'])}`]);
      expect(cards(server, CHANNEL, posted.message.ts)).toHaveLength(1);
      expect(server.unexpectedCalls).toEqual([]);
    } finally {
      await bot.stop();
      await world.cleanup();
    }
  });
});

describe('e2e P6: HTTP mode refuses unauthenticated requests with 401', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  let bot: TestBot;
  let url: string;

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld();
    bot = await startTestBot(world, server, 'http');
    url = `http://127.0.0.1:${String(bot.bot.port)}/slack/events`;
  });

  afterAll(async () => {
    await bot.stop();
    await server.close();
    await world.cleanup();
  });

  function mentionBody(): string {
    const message = server.state.postMessage({ channel: CHANNEL, user: REQUESTER, text: `<@U_BOT> ${REPORT_TASK}` });
    return JSON.stringify(buildEventCallback(server.state, buildAppMentionEvent(server.state, message)));
  }

  function post(body: string, headers: Record<string, string>): Promise<Response> {
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  }

  it('answers 401 to forged, stale, future, re-serialised and header-less requests, and runs nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const signed = (body: string, ts: number, secret: string = CANARY.signingSecret): Record<string, string> => ({
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(secret, ts, body),
    });
    const body = mentionBody();
    const reserialised = JSON.stringify(JSON.parse(body), null, 1);
    const attempts: [string, Promise<Response>][] = [
      ['forged signature', post(body, signed(body, now, 'not-the-signing-secret'))],
      ['stale (-301 s)', post(body, signed(body, now - 301))],
      ['future (+301 s)', post(body, signed(body, now + 301))],
      ['re-serialised body', post(reserialised, signed(body, now))],
      ['no signature', post(body, { 'x-slack-request-timestamp': String(now) })],
      ['no timestamp', post(body, { 'x-slack-signature': signSlackRequest(CANARY.signingSecret, now, body) })],
      ['no headers', post(body, {})],
    ];
    const statuses = await Promise.all(attempts.map(async ([name, response]) => [name, (await response).status]));
    expect(statuses).toEqual(attempts.map(([name]) => [name, 401]));

    // The control: the same body, correctly signed now, is accepted (so the 401s are about auth).
    const accepted = await post(body, signed(body, now));
    expect(accepted.status).toBe(200);
    await eventsHandled(bot, 1);
    await bot.bot.ingress.settled();
    // Only the control reached the listeners.
    expect(bot.bot.ingress.handled.events).toBe(1);
    expect(await runIds(world.dataDir)).toHaveLength(1);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
