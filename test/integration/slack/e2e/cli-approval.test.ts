/**
 * DESIGN.md §5 through Slack: while the bot runs, `harness approve` goes through the bot's admin
 * socket, so the bot applies the decision with its own Harness and the card in the thread is
 * updated exactly as a click would update it; the run then finishes and its result lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/cli/run-cli.ts';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { APPROVER1, CHANNEL, REQUESTER, botEnv, botReplies, buttonsOf, eventually, makeWorld, mentionUntilCard, postKey, readRun, reports, startServer, startTestBot } from '../support/rig.ts';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: readonly string[], env: Record<string, string>, cwd: string): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), cwd, env });
  return { code, stdout, stderr };
}

describe('e2e: CLI approval while the bot runs', () => {
  let server: LocalSlack;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('decides through the admin socket, updates the card and finishes the run', async () => {
    const world = await makeWorld();
    const bot = await startTestBot(world, server);
    try {
      const { thread, card, runId } = await mentionUntilCard(server, world);
      const doc = await readRun(world.dataDir, runId);
      const gate = doc.run.gates[0]!;

      const env = botEnv(world, server, 'socket');
      const refused = await cli(['approve', runId, '--gate', gate.gateId, '--as', REQUESTER, '--json'], env, world.dir);
      expect(refused.code).not.toBe(0);
      expect(buttonsOf(server.state.getMessage(CHANNEL, card.ts)!).length).toBeGreaterThan(0);

      const approved = await cli(['approve', runId, '--gate', gate.gateId, '--as', APPROVER1, '--json'], env, world.dir);
      expect(approved.stderr).toBe('');
      expect(approved.code).toBe(0);

      await eventually(() => (buttonsOf(server.state.getMessage(CHANNEL, card.ts)!).length === 0 ? true : undefined), 'the card updated by the bot');
      expect(JSON.stringify(server.state.getMessage(CHANNEL, card.ts)!.blocks)).toContain(APPROVER1);
      const result = await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
      expect(result.text).toContain('Report written to reports/');
      const finished = await readRun(world.dataDir, runId);
      expect(finished.run.status).toBe('completed');
      expect(finished.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1, decisionSource: 'cli' });
      expect(await reports(world)).toHaveLength(1);
      expect(server.unexpectedCalls).toEqual([]);
    } finally {
      await bot.stop();
      await world.cleanup();
    }
  });
});
