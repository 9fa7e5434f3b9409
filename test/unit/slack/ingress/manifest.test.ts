/**
 * P17, least privilege: `manifest.yml` lists exactly the bot scopes this code needs (pinned here,
 * so adding one is a deliberate, reviewed change), every Web API method the Slack port and the
 * startup code call has its scope in the manifest, every subscribed event has its scope, and the
 * startup check refuses granted scopes beyond the manifest.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_SCOPES, METHOD_SCOPES, assertNoExcessScopes, compareScopes, readManifest } from '../../../../src/bot/scopes.ts';
import { ConfigError, ErrorCode } from '../../../../src/shared/errors.ts';

const SRC = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../../src/${path}`, import.meta.url)), 'utf8');

/** Web API method names a source file calls (quoted `family.method` literals). */
function methodsIn(source: string): string[] {
  return [...new Set([...source.matchAll(/'((?:chat|reactions|views|conversations|assistant\.threads|auth|apps\.connections|users)\.[A-Za-z]+)'/g)].map((m) => m[1]!))].sort();
}

describe('manifest.yml', () => {
  const manifest = readManifest();

  it('pins the exact bot scopes', () => {
    expect(manifest.botScopes).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'im:history', 'reactions:write']);
  });

  it('subscribes to the events the listeners handle, with Socket Mode and interactivity on', () => {
    expect(manifest.botEvents).toEqual(['app_mention', 'message.channels', 'message.im', 'app_home_opened']);
    expect(manifest.socketMode).toBe(true);
    expect(manifest.interactivity).toBe(true);
  });

  it('grants a scope for every Web API method the bot calls, and no scope nothing needs', () => {
    const used = [...methodsIn(SRC('slack/web-client-port.ts')), 'auth.test', 'apps.connections.open'];
    const needed = new Set<string>();
    for (const method of used) {
      expect(METHOD_SCOPES, `no scope entry for ${method}`).toHaveProperty([method]);
      const scopes = METHOD_SCOPES[method] ?? [];
      if (scopes.length > 0) expect(scopes.some((s) => manifest.botScopes.includes(s)), `${method} needs one of ${scopes.join(', ')}`).toBe(true);
      for (const scope of scopes) if (manifest.botScopes.includes(scope)) needed.add(scope);
    }
    for (const event of manifest.botEvents) {
      expect(EVENT_SCOPES, `no scope entry for event ${event}`).toHaveProperty([event]);
      for (const scope of EVENT_SCOPES[event] ?? []) {
        expect(manifest.botScopes).toContain(scope);
        needed.add(scope);
      }
    }
    expect([...needed].sort()).toEqual([...manifest.botScopes].sort());
  });

  it('keeps the local workspace’s default subscriptions in step with the manifest', async () => {
    const { DEFAULT_EVENT_SUBSCRIPTIONS } = await import('../../../../src/local-workspace/user-actions.ts');
    expect([...DEFAULT_EVENT_SUBSCRIPTIONS].sort()).toEqual([...manifest.botEvents].sort());
  });
});

describe('scope check at startup', () => {
  it('reports excess and missing scopes, ignoring order and duplicates', () => {
    expect(compareScopes(['chat:write', 'admin', 'chat:write', ' '], ['chat:write', 'im:history'])).toEqual({ excess: ['admin'], missing: ['im:history'] });
  });

  it('throws ConfigError("excess scopes: admin") with code excess_scopes', () => {
    expect(() => assertNoExcessScopes(['chat:write', 'admin'], ['chat:write'])).toThrow(ConfigError);
    expect(() => assertNoExcessScopes(['chat:write', 'admin'], ['chat:write'])).toThrow('excess scopes: admin');
    expect(() => assertNoExcessScopes(['users:read', 'admin'], [])).toThrow(expect.objectContaining({ code: ErrorCode.ExcessScopes, details: { excess: ['admin', 'users:read'] } }));
  });

  it('accepts a grant that is a subset of the manifest (missing scopes are only warned about)', () => {
    expect(assertNoExcessScopes(['chat:write'], ['chat:write', 'im:history'])).toEqual({ excess: [], missing: ['im:history'] });
  });

  it('refuses a missing manifest and one without bot scopes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    try {
      expect(() => readManifest(join(dir, 'missing.yml'))).toThrow('cannot read the app manifest');
      writeFileSync(join(dir, 'manifest.yml'), 'oauth_config:\n  scopes: {}\n');
      expect(() => readManifest(join(dir, 'manifest.yml'))).toThrow('oauth_config.scopes.bot must be a list of strings');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
