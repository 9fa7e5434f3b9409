/** Unit tests of the HTTP endpoint's gatekeepers and the MCP client token parser (issue D). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, mcpClientTokens, secretValues } from '../../../../src/config/load-config.ts';
import { RateLimiter, TokenTable, acceptedHostNames, hostAllowed, originAllowed } from '../../../../src/mcp/server/access.ts';
import { outcomeOf } from '../../../../src/mcp/server/traced-transport.ts';

describe('hostAllowed / acceptedHostNames (DNS rebinding)', () => {
  const loopback = acceptedHostNames('127.0.0.1', []);

  it('accepts the loopback names on any port, case-insensitively', () => {
    for (const host of ['127.0.0.1:3100', 'localhost:3100', 'LOCALHOST', '[::1]:3100', '127.0.0.1']) expect(hostAllowed(host, loopback), host).toBe(true);
  });

  it('refuses other names, a missing Host and garbage', () => {
    for (const host of ['evil.example.com', 'evil.example.com:3100', '127.0.0.1.nip.io', '', undefined, 'a b']) expect(hostAllowed(host, loopback), String(host)).toBe(false);
  });

  it('a non-loopback bind accepts only the configured names', () => {
    const names = acceptedHostNames('0.0.0.0', ['harness.internal', '::1']);
    expect(names).toEqual(['harness.internal', '[::1]']);
    expect(hostAllowed('harness.internal:443', names)).toBe(true);
    expect(hostAllowed('127.0.0.1:3100', names)).toBe(false);
    expect(acceptedHostNames('0.0.0.0', [])).toEqual([]);
  });
});

describe('originAllowed', () => {
  it('passes requests without Origin (non-browser clients) and exact allowed origins only', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed('http://evil.example.com', [])).toBe(false);
    expect(originAllowed('http://127.0.0.1:6274', ['http://127.0.0.1:6274'])).toBe(true);
    expect(originAllowed('http://127.0.0.1:6275', ['http://127.0.0.1:6274'])).toBe(false);
  });
});

describe('TokenTable', () => {
  const table = new TokenTable([
    { name: 'dash', level: 'read', token: 'aaaaaaaaaaaaaaaa1' },
    { name: 'ops', level: 'full', token: 'bbbbbbbbbbbbbbbb2' },
  ]);

  it('maps a Bearer token to its client', () => {
    expect(table.authenticate('Bearer aaaaaaaaaaaaaaaa1')?.name).toBe('dash');
    expect(table.authenticate('bearer bbbbbbbbbbbbbbbb2')?.level).toBe('full');
  });

  it('refuses missing, malformed, prefixed and unknown credentials', () => {
    for (const header of [undefined, '', 'aaaaaaaaaaaaaaaa1', 'Basic aaaaaaaaaaaaaaaa1', 'Bearer aaaaaaaaaaaaaaaa', 'Bearer aaaaaaaaaaaaaaaa1x', 'Bearer a b']) {
      expect(table.authenticate(header), String(header)).toBeNull();
    }
  });
});

describe('RateLimiter (P19)', () => {
  it('allows a burst, then refuses with the wait until the next request, per client', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, requestsPerMinute: 60 }, () => now);
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(limiter.take('b').ok).toBe(true);
    now = 999;
    expect(limiter.take('a').ok).toBe(false);
    now = 1000;
    expect(limiter.take('a').ok).toBe(true);
    now = 1_000_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a').ok)).toEqual([true, true, true, false]);
  });
});

describe('mcpClientTokens (HARNESS_MCP_TOKENS, MCP_HTTP_TOKEN)', () => {
  it('parses name:level:token entries and adds MCP_HTTP_TOKEN as read-only "default"', () => {
    const tokens = mcpClientTokens({ mcpTokens: 'dash:read:tok-aaaaaaaaaaaaaaaa, ops:full:tok:with:colons-bbbb', mcpHttpToken: 'single-token-cccccccc' });
    expect(tokens).toEqual([
      { name: 'dash', level: 'read', token: 'tok-aaaaaaaaaaaaaaaa' },
      { name: 'ops', level: 'full', token: 'tok:with:colons-bbbb' },
      { name: 'default', level: 'read', token: 'single-token-cccccccc' },
    ]);
    expect(mcpClientTokens({})).toEqual([]);
  });

  it('names the bad entry and never its token', () => {
    const cases: [string, RegExp][] = [
      ['dash:read', /entry 1: expected name:level:token/],
      ['dash:admin:SECRETSECRETSECRET', /entry 1 \(dash\): the level must be read or full/],
      ['dash:read:SHORTSECRET', /at least 16 characters/],
      ['dash:read:SECRETSECRETSECRET1,dash:full:SECRETSECRETSECRET2', /entry 2: the name dash is used twice/],
      ['a:read:SECRETSECRETSECRET1,b:full:SECRETSECRETSECRET1', /entry 2 \(b\): the same token is given twice/],
      ['bad name:read:SECRETSECRETSECRET1', /entry 1: the name must be/],
    ];
    for (const [value, pattern] of cases) {
      expect(() => mcpClientTokens({ mcpTokens: value }), value).toThrow(pattern);
      expect(() => mcpClientTokens({ mcpTokens: value }), value).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.not.stringContaining('SECRET') }));
    }
  });

  it('each token is a secret value for the redactor', () => {
    const values = secretValues({ secrets: { mcpTokens: 'dash:read:tok-aaaaaaaaaaaaaaaa,ops:full:tok-bbbbbbbbbbbbbbbb' } });
    expect(values).toEqual(expect.arrayContaining(['tok-aaaaaaaaaaaaaaaa', 'tok-bbbbbbbbbbbbbbbb']));
  });
});

describe('outcomeOf (trace outcome of a tools/call result)', () => {
  const error = (text: string) => ({ isError: true, content: [{ type: 'text', text }] });
  it('classifies results', () => {
    expect(outcomeOf({ content: [] })).toBe('ok');
    expect(outcomeOf(error('MCP error -32602: Input validation error: Invalid arguments for tool get_run'))).toBe('invalid_arguments');
    expect(outcomeOf(error('MCP error -32602: Tool approve_gate not found'))).toBe('unknown_tool');
    expect(outcomeOf(error('budget_exceeded: cannot draft'))).toBe('budget_exceeded');
    expect(outcomeOf(error('something odd'))).toBe('tool_error');
  });
});

describe('loadConfig with mcp.server', () => {
  it('checks the tokens and the bind only when the endpoint is enabled, naming keys, never values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-config-'));
    try {
      writeFileSync(join(dir, 'config.yaml'), 'mcp:\n  server:\n    enabled: false\n');
      expect(loadConfig({ cwd: dir, env: { HARNESS_MCP_TOKENS: 'x:read:SHORTSECRET' } }).mcp.server.enabled).toBe(false);
      writeFileSync(join(dir, 'config.yaml'), 'mcp:\n  server:\n    enabled: true\n');
      expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/mcp.server.enabled: no client token is set/);
      expect(() => loadConfig({ cwd: dir, env: { HARNESS_MCP_TOKENS: 'x:read:SHORTSECRET' } })).toThrow(expect.objectContaining({ message: expect.stringMatching(/^(?![\s\S]*SHORTSECRET)[\s\S]*at least 16/) }));
      const config = loadConfig({ cwd: dir, env: { HARNESS_MCP_TOKENS: 'ops:full:LONGSECRETLONGSECRET' } });
      expect(config.mcp.server).toMatchObject({ enabled: true, host: '127.0.0.1', port: 3100 });
      writeFileSync(join(dir, 'config.yaml'), 'mcp:\n  server:\n    enabled: true\n    host: 0.0.0.0\n');
      expect(() => loadConfig({ cwd: dir, env: { HARNESS_MCP_TOKENS: 'ops:full:LONGSECRETLONGSECRET' } })).toThrow(/mcp.server.allowedHosts: required/);
      writeFileSync(join(dir, 'config.yaml'), 'mcp:\n  server:\n    enabled: true\n    approveTool: true\n');
      expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/mcp.server.approveTool: unknown key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
