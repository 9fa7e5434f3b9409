/**
 * The Bolt app's construction seams: the request guard in front of the HTTP receiver (P6: Bolt
 * lets future timestamps through), the Bolt logger adapter (scrubbed, level-mapped), and the
 * per-mode secret checks of `createBoltApp`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LogLevel } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/shared/errors.ts';
import { createLogger, silentLogger } from '../../../../src/shared/logger.ts';
import { createRedactor } from '../../../../src/shared/redact.ts';
import { BoltLoggerAdapter } from '../../../../src/slack/app/bolt-logger.ts';
import { createBoltApp } from '../../../../src/slack/app/create-bolt-app.ts';
import { MAX_CLOCK_SKEW_SEC, checkRequestHeaders, guardRequests } from '../../../../src/slack/app/request-guard.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const nowSec = Math.floor(NOW / 1000);

describe('request guard', () => {
  it('passes a request with both headers within ±300 s', () => {
    expect(checkRequestHeaders({ 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': String(nowSec - MAX_CLOCK_SKEW_SEC) }, NOW)).toBeNull();
    expect(checkRequestHeaders({ 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': String(nowSec + MAX_CLOCK_SKEW_SEC) }, NOW)).toBeNull();
  });

  it('refuses missing headers, malformed, stale and future timestamps', () => {
    expect(checkRequestHeaders({ 'x-slack-request-timestamp': String(nowSec) }, NOW)).toBe('missing x-slack-signature');
    expect(checkRequestHeaders({ 'x-slack-signature': 'v0=ab' }, NOW)).toBe('missing or malformed x-slack-request-timestamp');
    expect(checkRequestHeaders({ 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': '12.5' }, NOW)).toContain('malformed');
    expect(checkRequestHeaders({ 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': String(nowSec - 301) }, NOW)).toContain('301 s away');
    expect(checkRequestHeaders({ 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': String(nowSec + 301) }, NOW)).toContain('301 s away');
  });

  it('answers 401 itself on the events path and hands everything else to Bolt', () => {
    const passed: string[] = [];
    const refused: string[] = [];
    const listener = guardRequests((req) => passed.push(req.url ?? ''), ['/slack/events'], () => NOW, (reason) => refused.push(reason));
    const statuses: number[] = [];
    const res = { writeHead: (status: number) => statuses.push(status), end: () => undefined } as unknown as ServerResponse;
    const req = (url: string, method: string, headers: Record<string, string>) => ({ url, method, headers, resume: () => undefined }) as unknown as IncomingMessage;

    listener(req('/slack/events', 'POST', { 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': String(nowSec + 400) }), res);
    listener(req('/slack/events', 'POST', { 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': String(nowSec) }), res);
    listener(req('/health', 'GET', {}), res);
    expect(statuses).toEqual([401]);
    expect(refused).toEqual([expect.stringContaining('400 s away')]);
    expect(passed).toEqual(['/slack/events', '/health']);
  });
});

describe('BoltLoggerAdapter', () => {
  it('forwards scrubbed text at the mapped level and honours setLevel', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', redactor: createRedactor(['super-secret-value']), destination: { write: (line: string) => void lines.push(line) } });
    const adapter = new BoltLoggerAdapter(logger);
    expect(adapter.getLevel()).toBe(LogLevel.DEBUG);
    adapter.debug('token', 'xoxb-123-abc', { secret: 'super-secret-value' });
    adapter.error(new Error('boom super-secret-value'));
    adapter.setLevel(LogLevel.WARN);
    adapter.info('dropped');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((p) => [p['level'], p['component']])).toEqual([
      ['debug', 'bolt'],
      ['error', 'bolt'],
    ]);
    expect(lines.join('\n')).not.toMatch(/xoxb-123|super-secret-value/);
    expect(String(parsed[1]?.['msg'])).toContain('Error: boom');
  });

  it('starts at the pino level (silent and error map to error)', () => {
    expect(new BoltLoggerAdapter(silentLogger).getLevel()).toBe(LogLevel.ERROR);
  });
});

describe('createBoltApp', () => {
  const base = { botToken: 'xoxb-test', apiUrl: 'http://127.0.0.1:9/api/', botId: 'B1', botUserId: 'U1', logger: silentLogger };

  it('needs the app-level token for socket and local mode and the signing secret for http mode', () => {
    expect(() => createBoltApp({ ...base, mode: 'socket' })).toThrow(ConfigError);
    expect(() => createBoltApp({ ...base, mode: 'local' })).toThrow('SLACK_APP_TOKEN is required in local mode');
    expect(() => createBoltApp({ ...base, mode: 'http' })).toThrow('SLACK_SIGNING_SECRET is required in http mode');
  });

  it('points the WebClient at the configured Slack-compatible server with bounded retries', async () => {
    const bolt = createBoltApp({ ...base, mode: 'socket', appToken: 'xapp-test' });
    expect(bolt.app.client.slackApiUrl).toBe('http://127.0.0.1:9/api/');
    await bolt.stop();
    expect(bolt.mode).toBe('socket');
  });
});
