import { describe, expect, it } from 'vitest';
import { classifyExternalTool } from '../../../../src/mcp/external/classify.ts';
import { ExternalMcpServerConfig, ExternalMcpServers } from '../../../../src/mcp/external/config.ts';
import { MAX_TOOL_NAME, namespaceTools, namespacedToolName, serverOfToolName } from '../../../../src/mcp/external/naming.ts';

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

describe('namespacedToolName', () => {
  it('prefixes the server name with a double underscore', () => {
    expect(namespacedToolName('notes', 'list_notes')).toBe('notes__list_notes');
  });

  it('replaces every character outside [A-Za-z0-9_-] with an underscore', () => {
    expect(namespacedToolName('gh', 'issues.create/v2 ü')).toBe('gh__issues_create_v2__');
    expect(namespacedToolName('gh', '')).toBe('gh___');
  });

  it('cuts long names to 64 characters with a hash of the original, deterministically', () => {
    const long = `a${'b'.repeat(200)}`;
    const name = namespacedToolName('server-one', long);
    expect(name).toHaveLength(MAX_TOOL_NAME);
    expect(name).toMatch(TOOL_NAME);
    expect(name.startsWith('server-one__abbb')).toBe(true);
    expect(namespacedToolName('server-one', long)).toBe(name);
    expect(namespacedToolName('server-one', `${long}c`)).not.toBe(name);
  });

  it('gives distinct names to tools that sanitise to the same name', () => {
    const names = namespaceTools('x', ['a.b', 'a_b', 'a b']);
    expect(new Set(names.values()).size).toBe(3);
    expect(names.get('a.b')).toBe('x__a_b');
    for (const name of names.values()) expect(name).toMatch(TOOL_NAME);
  });
});

describe('serverOfToolName', () => {
  it('finds the server of a namespaced name, optionally among configured ones', () => {
    expect(serverOfToolName('notes__add_note')).toBe('notes');
    expect(serverOfToolName('notes__add_note', ['notes'])).toBe('notes');
    expect(serverOfToolName('notes__add_note', ['other'])).toBeUndefined();
  });

  it('refuses names that are not of the server__tool form', () => {
    for (const name of ['workspace_write', '__x', 'notes__', 'Notes__x', 'a--b__x', `n__${'x'.repeat(70)}`, 'notes__a.b']) {
      expect(serverOfToolName(name)).toBeUndefined();
    }
  });
});

describe('classifyExternalTool', () => {
  it('readOnlyHint → read_only / read, runs without a gate under the default policy', () => {
    expect(classifyExternalTool({ readOnlyHint: true })).toEqual({ category: 'read_only', risk: 'read', idempotent: true, categorySource: 'annotations' });
  });

  it('destructiveHint → unknown / irreversible', () => {
    expect(classifyExternalTool({ destructiveHint: true })).toMatchObject({ category: 'unknown', risk: 'irreversible', idempotent: false });
  });

  it('no hint (or an explicit false) → unknown / write, never read', () => {
    expect(classifyExternalTool(undefined)).toMatchObject({ category: 'unknown', risk: 'write' });
    expect(classifyExternalTool({ readOnlyHint: false, destructiveHint: false })).toMatchObject({ category: 'unknown', risk: 'write' });
  });

  it('readOnlyHint wins over a contradictory destructiveHint', () => {
    expect(classifyExternalTool({ readOnlyHint: true, destructiveHint: true })).toMatchObject({ category: 'read_only', risk: 'read' });
  });

  it('a configured category replaces the derived one; only read_only lowers the risk to read', () => {
    expect(classifyExternalTool({ destructiveHint: true }, 'filesystem_write')).toMatchObject({ category: 'filesystem_write', risk: 'irreversible', categorySource: 'config' });
    expect(classifyExternalTool(undefined, 'read_only')).toMatchObject({ category: 'read_only', risk: 'read', idempotent: true, categorySource: 'config' });
    expect(classifyExternalTool({ readOnlyHint: true }, 'network')).toMatchObject({ category: 'network', risk: 'write' });
  });

  it('trusts idempotentHint only for tools that are not read-only when it is given', () => {
    expect(classifyExternalTool({ idempotentHint: true }).idempotent).toBe(true);
    expect(classifyExternalTool({}).idempotent).toBe(false);
  });
});

describe('mcp.servers config', () => {
  it('fills defaults for a stdio server', () => {
    expect(ExternalMcpServerConfig.parse({ name: 'notes', stdio: { command: 'node' } })).toEqual({
      name: 'notes',
      stdio: { command: 'node', args: [], env: {} },
      tools: { deny: [], categories: {} },
      timeoutMs: 30_000,
      connectTimeoutMs: 10_000,
    });
  });

  it('needs exactly one of stdio and http', () => {
    expect(ExternalMcpServerConfig.safeParse({ name: 'x' }).success).toBe(false);
    expect(ExternalMcpServerConfig.safeParse({ name: 'x', stdio: { command: 'a' }, http: { url: 'http://127.0.0.1/mcp' } }).success).toBe(false);
    expect(ExternalMcpServerConfig.safeParse({ name: 'x', http: { url: 'http://127.0.0.1/mcp' } }).success).toBe(true);
  });

  it('refuses names that would break the server__tool form, unknown keys, bad categories and duplicates', () => {
    for (const name of ['Notes', 'a_b', 'a--b', '9a', 'x'.repeat(25)]) expect(ExternalMcpServerConfig.safeParse({ name, stdio: { command: 'a' } }).success).toBe(false);
    expect(ExternalMcpServerConfig.safeParse({ name: 'a', stdio: { command: 'a' }, extra: 1 }).success).toBe(false);
    expect(ExternalMcpServerConfig.safeParse({ name: 'a', stdio: { command: 'a' }, tools: { categories: { t: 'dangerous' } } }).success).toBe(false);
    expect(ExternalMcpServerConfig.safeParse({ name: 'a', http: { url: 'ftp://x/mcp' } }).success).toBe(false);
    const dup = ExternalMcpServers.safeParse([
      { name: 'a', stdio: { command: 'a' } },
      { name: 'a', stdio: { command: 'b' } },
    ]);
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]?.path).toEqual([1, 'name']);
  });
});
