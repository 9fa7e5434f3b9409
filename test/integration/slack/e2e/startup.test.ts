/**
 * Startup of the bot process: P17 (Slack granted a scope the manifest does not list → refuse to
 * start with `excess scopes: …`, nothing posted, the data directory released), a bot token Slack
 * refuses, a second bot on a data directory another bot owns, and `SLACK_MODE=local npm start`
 * (the local workspace plus the bot in one process, stopped cleanly by SIGTERM).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../../../src/bot/start-bot.ts';
import { loadConfig } from '../../../../src/config/load-config.ts';
import { ConfigError, ErrorCode, StoreLockedError } from '../../../../src/shared/errors.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { CANARY, MANIFEST_SCOPES, REPO_ROOT, botEnv, makeWorld, runIds, startServer, startTestBot, type TmpWorld } from '../support/rig.ts';

const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('e2e P17 and startup refusals', () => {
  let world: TmpWorld;

  beforeAll(async () => {
    world = await makeWorld();
  });

  afterAll(async () => {
    await world.cleanup();
  });

  it('refuses to start when Slack granted `admin` beyond the manifest, and leaves nothing behind', async () => {
    const server = await startServer({ grantedScopes: [...MANIFEST_SCOPES, 'admin'] });
    try {
      const logs: string[] = [];
      const started = startTestBot(world, server, 'socket', logs);
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow('excess scopes: admin');
      await expect(started).rejects.toMatchObject({ code: ErrorCode.ExcessScopes, details: { excess: ['admin'] } });
      // Only auth.test reached Slack: no socket, no post, no reaction.
      expect(server.calls().map((c) => c.method)).toEqual(['auth.test']);
      expect(server.socket.connectionCount).toBe(0);
      expect(await runIds(world.dataDir)).toEqual([]);
    } finally {
      await server.close();
    }
    // The data directory lock was released: a bot with the right scopes starts on it.
    const good = await startServer();
    try {
      const bot = await startTestBot(world, good);
      expect(bot.bot.installation.grantedScopes).toEqual([...MANIFEST_SCOPES].sort());
      await bot.stop();
    } finally {
      await good.close();
    }
  });

  it('names SLACK_BOT_TOKEN, never its value, when Slack refuses the token', async () => {
    const server = await startServer();
    try {
      const env = { ...botEnv(world, server, 'socket'), SLACK_BOT_TOKEN: 'xoxb-CANARY-unknown-token-0000' };
      const config = loadConfig({ env, cwd: world.dir });
      const started = startBot(config, { logger: silentLogger, retryConfig: { retries: 0 } });
      await expect(started).rejects.toThrow('Slack refused SLACK_BOT_TOKEN (invalid_auth)');
      await expect(started).rejects.toSatisfy((error: Error) => !error.message.includes('CANARY'));
    } finally {
      await server.close();
    }
  });

  it('refuses a second bot on a data directory another bot owns', async () => {
    const server = await startServer();
    const bot = await startTestBot(world, server);
    try {
      const config = loadConfig({ env: botEnv(world, server, 'socket'), cwd: world.dir });
      await expect(startBot(config, { logger: silentLogger, retryConfig: { retries: 0 } })).rejects.toThrow(StoreLockedError);
      expect(server.socket.connectionCount).toBe(1);
    } finally {
      await bot.stop();
      await server.close();
    }
  });

  it('`SLACK_MODE=local npm start` serves the local workspace with the bot connected, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, join(REPO_ROOT, 'src', 'main.ts')], {
      cwd: world.dir,
      env: { PATH: process.env['PATH'] ?? '', HARNESS_CONFIG: world.configPath, SLACK_MODE: 'local', PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL line:\n${stdout}\n${stderr}`)), 30_000);
        child.stdout.on('data', () => {
          const match = /^Local Slack workspace: (http:\/\/127\.0\.0\.1:\d+)/m.exec(stdout);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      expect(stdout.trim().split('\n')).toHaveLength(1);
      const health = (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ ok: true, team_id: 'T_LOCAL', socket_connections: 1 });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toContain(CANARY.botToken);
  });
});
