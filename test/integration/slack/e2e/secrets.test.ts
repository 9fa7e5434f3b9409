/**
 * P16 end to end: the bot token, app token, signing secret and model key (canary values) never
 * appear in anything the bot sends or writes — Slack payloads as the workspace stored them, the
 * Web API journal, deliveries, log lines (in-process, Bolt's included, and a child process's
 * stderr), error messages, the run store, the audit log or the workspace — across a full approval,
 * refused clicks, 401s in HTTP mode and a refused start (P17's ConfigError).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppMentionEvent, buildEventCallback } from '../../../../src/local-workspace/events.ts';
import { signSlackRequest } from '../../../../src/local-workspace/http-delivery.ts';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { ActionIds } from '../../../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  CANARY,
  CANARY_VALUES,
  CHANNEL,
  MANIFEST_SCOPES,
  REPORT_TASK,
  REQUESTER,
  VIEWER,
  botReplies,
  eventually,
  makeWorld,
  mentionUntilCard,
  postKey,
  spawnChildBot,
  startServer,
  startTestBot,
  type TmpWorld,
} from '../support/rig.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function hits(where: string, text: string): string[] {
  return CANARY_VALUES.filter((canary) => text.includes(canary)).map((canary) => `${where}: ${canary.slice(0, 12)}…`);
}

describe('e2e P16: canary secrets never leak', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  const logs: string[] = [];
  const texts = new Map<string, string>();

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld();
  });

  afterAll(async () => {
    await server.close();
    await world.cleanup();
  });

  it('keeps every canary out of payloads, logs, errors and files', async () => {
    // Socket Mode, in-process: a full approval with refusals on the way.
    const socketBot = await startTestBot(world, server, 'socket', logs);
    const { card, thread } = await mentionUntilCard(server, world);
    await server.clickButton(VIEWER, CHANNEL, card.ts, ActionIds.approve);
    await server.clickButton(REQUESTER, CHANNEL, card.ts, ActionIds.approve);
    await server.clickButton(APPROVER1, CHANNEL, card.ts, ActionIds.approve);
    await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
    await socketBot.stop();

    // HTTP mode, in-process: requests refused with 401, then an accepted one.
    const httpBot = await startTestBot(world, server, 'http', logs);
    const url = `http://127.0.0.1:${String(httpBot.bot.port)}/slack/events`;
    const message = server.state.postMessage({ channel: CHANNEL, user: REQUESTER, text: `<@U_BOT> ${REPORT_TASK}` });
    const body = JSON.stringify(buildEventCallback(server.state, buildAppMentionEvent(server.state, message)));
    const now = Math.floor(Date.now() / 1000);
    for (const [ts, secret] of [
      [now, 'wrong-secret-0000'],
      [now - 400, CANARY.signingSecret],
      [now + 400, CANARY.signingSecret],
    ] as const) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(secret, ts, body) },
        body,
      });
      expect(response.status).toBe(401);
    }
    await server.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${REPORT_TASK}`);
    await httpBot.stop();

    // A refused start: its error and its log lines.
    const greedy = await startServer({ grantedScopes: [...MANIFEST_SCOPES, 'admin', 'users:read'] });
    try {
      const refused = await startTestBot(world, greedy, 'socket', logs).then(
        () => new Error('the bot started'),
        (error: unknown) => error as Error,
      );
      expect(refused.message).toBe('excess scopes: admin, users:read');
      texts.set('ConfigError', `${refused.message}\n${refused.stack ?? ''}\n${JSON.stringify(refused)}`);
      texts.set('refused-start journal', JSON.stringify(greedy.calls()));
    } finally {
      await greedy.close();
    }

    // The production entry point in a child process: its raw stderr.
    const child = await spawnChildBot(world, server);
    await mentionUntilCard(server, world);
    await child.kill();
    texts.set('child stderr', child.stderr());

    expect(logs.length).toBeGreaterThan(50);
    texts.set('logs', logs.join('\n'));
    texts.set('workspace state', JSON.stringify(server.state.snapshot()));
    texts.set('journal', JSON.stringify(server.calls()));
    texts.set('deliveries', JSON.stringify(server.deliveries()));
    for (const file of await filesUnder(world.dir)) {
      if (file === world.configPath) continue;
      texts.set(file.slice(world.dir.length), await readFile(file, 'utf8'));
    }
    expect([...texts.keys()].some((k) => k.includes('audit.jsonl'))).toBe(true);
    expect([...texts.keys()].some((k) => k.includes('/runs/'))).toBe(true);

    const leaks = [...texts].flatMap(([where, text]) => hits(where, text));
    expect(leaks).toEqual([]);
    // Nothing secret-shaped was even sent to Slack for the workspace's own scrubbing to catch.
    expect(texts.get('workspace state')).not.toContain('[REDACTED]');
    expect(server.unexpectedCalls).toEqual([]);
  });
});
