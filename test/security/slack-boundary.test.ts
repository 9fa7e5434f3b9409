/**
 * Security end to end at the Slack boundary (real Bolt app, local workspace, canary tokens). What
 * `test/integration/slack/e2e/` already proves (the 401 table of P6, P7's refusal table, P8's
 * ten-way race, P9's redeliveries) is not repeated; this file adds the cases those leave out:
 *
 * - P6: a `v1=` signature scheme and the `ssl_check=1&payload=<block_actions>` smuggling form are
 *   refused, nothing is decided, and the data directory is byte-identical afterwards.
 * - P8: after the winning click, the bot restarts and Slack redelivers that click, and a second
 *   approver replays its value: still one decision, one execution, one file.
 * - P16: the canary sweep over everything of both, including the restarted bot's logs.
 */
import { createHmac } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../src/local-workspace/server.ts';
import { ActionIds } from '../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  APPROVER2,
  CANARY,
  CHANNEL,
  botReplies,
  buttonValue,
  eventually,
  forgeClick,
  makeWorld,
  mentionUntilCard,
  postKey,
  readRun,
  reports,
  startServer,
  startTestBot,
  type TmpWorld,
} from '../integration/slack/support/rig.ts';
import { canaryLeaks } from './support/security-rig.ts';

async function snapshotDir(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path, await readFile(path, 'base64'));
  }
  return out;
}

describe('security e2e: the Slack boundary', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  const logs: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld();
  });

  afterAll(async () => {
    await server.close();
    await world.cleanup();
  });

  it('P6: a v1= signature and an unsigned ssl_check=1&payload=<block_actions> decide nothing; the store is byte-identical', async () => {
    const bot = await startTestBot(world, server, 'http', logs);
    try {
      const { runId, card } = await mentionUntilCard(server, world);
      await bot.bot.publisher.idle();
      const url = `http://127.0.0.1:${String(bot.bot.port)}/slack/events`;
      await bot.bot.ingress.settled();
      const handledBefore = bot.bot.ingress.handled.events;
      const before = await snapshotDir(world.dataDir);

      const click = {
        type: 'block_actions',
        user: { id: APPROVER1, team_id: server.state.team.id },
        api_app_id: server.state.appId,
        team: { id: server.state.team.id },
        container: { type: 'message', message_ts: card.ts, channel_id: CHANNEL },
        channel: { id: CHANNEL },
        actions: [{ action_id: ActionIds.approve, block_id: 'x', value: buttonValue(card, ActionIds.approve), type: 'button', action_ts: '1' }],
      };
      const form = `payload=${encodeURIComponent(JSON.stringify(click))}`;
      const now = Math.floor(Date.now() / 1000);
      const v1 = `v1=${createHmac('sha256', CANARY.signingSecret).update(`v0:${String(now)}:${form}`).digest('hex')}`;
      const post = (body: string, headers: Record<string, string>): Promise<Response> =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

      const wrongScheme = await post(form, { 'x-slack-request-timestamp': String(now), 'x-slack-signature': v1 });
      expect(wrongScheme.status).toBe(401);
      const smuggled = await post(`ssl_check=1&${form}`, {});
      // Bolt answers an ssl_check without a signature (200, empty) or refuses it; either way the payload is dropped.
      expect([200, 401]).toContain(smuggled.status);
      expect((await smuggled.text()).trim()).toBe('');

      await bot.bot.ingress.settled();
      expect(bot.bot.ingress.handled.events).toBe(handledBefore);
      const doc = await readRun(world.dataDir, runId);
      expect(doc.run.gates[0]?.status).toBe('pending');
      expect(doc.trace.some((e) => e.event.startsWith('approval_'))).toBe(true);
      expect(doc.trace.filter((e) => e.event === 'approval_granted' || e.event === 'approval_refused')).toEqual([]);
      expect(await snapshotDir(world.dataDir)).toEqual(before);
      expect(await reports(world)).toEqual([]);
    } finally {
      await bot.stop();
    }
  });

  it('P8: after a restart, Slack redelivering the winning click and a replayed value from another approver execute nothing again', async () => {
    let bot = await startTestBot(world, server, 'socket', logs);
    try {
      const { runId, card, thread } = await mentionUntilCard(server, world);
      const value = buttonValue(card, ActionIds.approve);
      const winning = await server.clickButton(APPROVER1, CHANNEL, card.ts, ActionIds.approve);
      await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
      const filesAfterWin = await reports(world);
      expect(filesAfterWin).toHaveLength(1);

      await bot.stop();
      bot = await startTestBot(world, server, 'socket', logs);
      const seen2 = server.state.ephemeralsFor(APPROVER2, CHANNEL).length;
      await server.redeliver(winning.id);
      await forgeClick(server, { user: APPROVER2, channel: CHANNEL, messageTs: card.ts, actionId: ActionIds.approve, value });
      await eventually(() => server.state.ephemeralsFor(APPROVER2, CHANNEL)[seen2], 'the refusal of the replay');
      await bot.bot.ingress.settled();
      await bot.bot.publisher.idle();

      const doc = await readRun(world.dataDir, runId);
      expect(doc.trace.filter((e) => e.event === 'approval_granted')).toHaveLength(1);
      expect(doc.trace.filter((e) => e.event === 'tool_start' && e.detail['tool'] === 'workspace_write')).toHaveLength(1);
      expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1 });
      expect(server.state.ephemeralsFor(APPROVER2, CHANNEL)[seen2]?.text).toContain(`already approved by ${APPROVER1}`);
      expect(await reports(world)).toEqual(filesAfterWin);
      // The restarted bot may re-render the card from the store; every rendering names the one decision.
      const decided = server.calls('chat.update').filter((c) => c.body['ts'] === card.ts && String(c.body['text']).startsWith('Approved'));
      expect(new Set(decided.map((c) => JSON.stringify(c.body['text'])))).toHaveProperty('size', 1);
      expect(server.calls('chat.update').filter((c) => c.body['ts'] === card.ts && String(c.body['text']).startsWith('Rejected'))).toEqual([]);
    } finally {
      await bot.stop();
    }
  });

  it('P16: no canary secret in the logs of all three bots, any Slack payload, delivery, trace or store file', async () => {
    const { leaks, places } = await canaryLeaks(world, server, logs);
    expect(places.some((p) => p.includes('/runs/'))).toBe(true);
    expect(logs.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
    expect(server.unexpectedCalls).toEqual([]);
  });
});
