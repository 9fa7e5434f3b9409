/**
 * The built-in workspace tools over a tmp copy of the sample workspace, driven the way the runner
 * drives them: validateArgs → preflight → targets → policy → handler. Covers the seed's report
 * flow (search → read → draft → write the report).
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compilePolicy, decide } from '../../../src/policy/engine.ts';
import { sha256Hex } from '../../../src/shared/canonical-json.ts';
import { ToolError } from '../../../src/shared/errors.ts';
import { BUILTIN_TOOL_NAMES, registerBuiltins } from '../../../src/tools/builtins/index.ts';
import { ToolRegistry } from '../../../src/tools/registry.ts';
import type { ToolContext, ToolResult } from '../../../src/tools/types.ts';

const SAMPLE = resolve(import.meta.dirname, '../../../workspace');

let dir: string;
let root: string;
let registry: ToolRegistry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harness-builtins-'));
  root = join(dir, 'workspace');
  await cp(SAMPLE, root, { recursive: true, filter: (src) => !src.includes(`${SAMPLE}/reports`) });
  registry = new ToolRegistry();
  registerBuiltins(registry, { workspaceRoot: root, readMaxBytes: 600 });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ctx(stepId = 's1'): ToolContext {
  return { runId: 'run1', stepId, idempotencyKey: `run1:${stepId}`, role: 'writer', signal: new AbortController().signal };
}

/** What the runner does with one raw model call, minus persistence. */
async function run(name: string, argsJson: string): Promise<ToolResult> {
  const validation = registry.validateArgs(name, argsJson, 64 * 1024);
  if (!validation.ok) throw new Error(validation.error);
  const tool = registry.get(name);
  if (!tool) throw new Error(`no tool ${name}`);
  const refusal = (await tool.preflight?.(validation.args, { role: 'writer' })) ?? null;
  if (refusal !== null) throw new ToolError(refusal);
  return tool.handler(validation.args, ctx());
}

describe('registerBuiltins', () => {
  it('registers the five built-ins with their categories and risks', () => {
    expect(registry.list().map((t) => [t.name, t.category, t.risk, t.idempotent])).toEqual([
      ['workspace_list', 'read_only', 'read', true],
      ['workspace_search', 'read_only', 'read', true],
      ['workspace_read', 'read_only', 'read', true],
      ['workspace_write', 'filesystem_write', 'write', true],
      ['http_fetch', 'network', 'external', true],
    ]);
    expect(registry.list().map((t) => t.name)).toEqual([...BUILTIN_TOOL_NAMES]);
    for (const tool of registry.list()) expect(tool.jsonSchema['additionalProperties']).toBe(false);
  });

  it('refuses to register twice', () => {
    expect(() => registerBuiltins(registry, { workspaceRoot: root })).toThrow(/already registered/);
  });
});

describe('workspace_list', () => {
  it('lists the root with no arguments, hidden entries left out', async () => {
    const result = await run('workspace_list', '');
    const body = JSON.parse(result.content) as { path: string; entries: { path: string; type: string }[] };
    expect(body.path).toBe('.');
    expect(body.entries.map((e) => [e.path, e.type])).toEqual([
      ['notes', 'directory'],
      ['runbooks', 'directory'],
    ]);
  });

  it('lists a folder given with a trailing slash, with file sizes', async () => {
    const body = JSON.parse((await run('workspace_list', '{"path":"notes/"}')).content) as {
      entries: { path: string; type: string; bytes: number }[];
    };
    expect(body.entries.map((e) => e.path)).toContain('notes/durable-execution.md');
    expect(body.entries.every((e) => e.type === 'file' && e.bytes > 0)).toBe(true);
  });

  it('reports a symlink without following it', async () => {
    await symlink(dir, join(root, 'escape'));
    const body = JSON.parse((await run('workspace_list', '{}')).content) as { entries: { path: string; type: string }[] };
    expect(body.entries).toContainEqual({ path: 'escape', type: 'symlink', bytes: 0 });
  });

  it.each(['../', '/etc', '//', 'notes/../..', 'missing'])('refuses %j', async (path) => {
    await expect(run('workspace_list', JSON.stringify({ path }))).rejects.toThrow(ToolError);
  });
});

describe('workspace_read', () => {
  it('returns {path, content} for a small file', async () => {
    await writeFile(join(root, 'notes/short.md'), 'Short note: the incident is resolved. ✓\n');
    const body = JSON.parse((await run('workspace_read', '{"path":"./notes/short.md"}')).content) as Record<string, unknown>;
    expect(body).toEqual({ path: 'notes/short.md', content: 'Short note: the incident is resolved. ✓\n' });
  });

  it('truncates a long file with a note', async () => {
    const body = JSON.parse((await run('workspace_read', '{"path":"notes/durable-execution.md"}')).content) as Record<string, unknown>;
    expect(body['truncated']).toBe(true);
    expect(body['note']).toMatch(/first 600 of \d+ bytes/);
    expect(Buffer.byteLength(String(body['content']))).toBeLessThanOrEqual(600);
  });

  it('refuses a binary file and a folder', async () => {
    await writeFile(join(root, 'notes/blob.bin'), Buffer.from([0x50, 0x4b, 0x00, 0x01]));
    await expect(run('workspace_read', '{"path":"notes/blob.bin"}')).rejects.toThrow(/not a text file/);
    await expect(run('workspace_read', '{"path":"notes"}')).rejects.toThrow(/not a regular file/);
  });
});

describe('workspace_search', () => {
  it('scores files by the number of query words found, best first', async () => {
    const body = JSON.parse((await run('workspace_search', '{"query":"durable execution incident report"}')).content) as {
      query: string;
      matches: { path: string; score: number; excerpt: string }[];
    };
    expect(body.query).toBe('durable execution incident report');
    expect(body.matches.length).toBeGreaterThanOrEqual(3);
    expect(body.matches[0]?.score).toBe(4);
    const scores = body.matches.map((m) => m.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(body.matches.map((m) => m.path)).toContain('notes/durable-execution.md');
    for (const match of body.matches) expect(match.excerpt.length).toBeLessThanOrEqual(245);
  });

  it('honours maxResults and returns nothing for stop words only', async () => {
    const top = JSON.parse((await run('workspace_search', '{"query":"the incident","maxResults":1}')).content) as { matches: unknown[] };
    expect(top.matches).toHaveLength(1);
    const none = JSON.parse((await run('workspace_search', '{"query":"the and of"}')).content) as { matches: unknown[] };
    expect(none.matches).toEqual([]);
  });

  it('does not follow a symlink out of the workspace', async () => {
    await mkdir(join(dir, 'outside'));
    await writeFile(join(dir, 'outside', 'secret.md'), 'zebracorn secret');
    await symlink(join(dir, 'outside'), join(root, 'linked'));
    const body = JSON.parse((await run('workspace_search', '{"query":"zebracorn"}')).content) as { matches: unknown[] };
    expect(body.matches).toEqual([]);
  });

  it('rejects maxResults out of range as a malformed call', () => {
    expect(registry.validateArgs('workspace_search', '{"query":"x","maxResults":50}', 1024)).toMatchObject({ ok: false });
  });
});

describe('workspace_write', () => {
  it('declares its target for policy and checks the filesystem in its preflight', async () => {
    const tool = registry.get('workspace_write');
    expect(tool?.targets?.({ path: 'reports/a.md', content: 'x' })).toEqual({ writePaths: ['reports/a.md'] });
    expect(await tool?.preflight?.({ path: 'reports/a.md', content: 'x' }, { role: 'writer' })).toBeNull();
    await symlink(dir, join(root, 'reports'));
    expect(await tool?.preflight?.({ path: 'reports/a.md', content: 'x' }, { role: 'writer' })).toMatch(/symbolic link at "reports"/);
  });

  it('refuses content over 200 000 characters as a malformed call', () => {
    const json = JSON.stringify({ path: 'reports/a.md', content: 'x'.repeat(200_001) });
    expect(registry.validateArgs('workspace_write', json, 1024 * 1024)).toMatchObject({ ok: false, error: expect.stringMatching(/content/) });
  });

  it('the seed report flow: search → read → draft → write', async () => {
    const policy = compilePolicy({ approvers: { default: ['U_ONCALL'] } });

    const search = JSON.parse((await run('workspace_search', '{"query":"durable execution","maxResults":3}')).content) as {
      matches: { path: string }[];
    };
    const top = search.matches[0]?.path;
    expect(top).toBe('notes/durable-execution.md');

    const read = JSON.parse((await run('workspace_read', JSON.stringify({ path: top }))).content) as { content: string };
    const facts = read.content
      .split('.')
      .map((s) => s.replace(/\s+/g, ' ').trim())
      .filter((s) => /durable|idempotency/i.test(s))
      .slice(0, 3)
      .map((s) => `- [${top}] ${s}.`);
    const draft = `# Report: durable execution\n\n## Key Findings\n${facts.join('\n')}\n\n## Harness Notes\n- Written by workspace_write after approval.\n`;

    const args = JSON.stringify({ path: 'reports/durable-execution.md', content: draft });
    const validation = registry.validateArgs('workspace_write', args, 64 * 1024);
    expect(validation.ok).toBe(true);
    if (!validation.ok) return;
    const tool = registry.get('workspace_write');
    const targets = tool?.targets?.(validation.args) ?? {};
    const decision = decide(policy, {
      tool: 'workspace_write',
      registered: true,
      category: 'filesystem_write',
      risk: 'write',
      role: 'writer',
      roleTools: ['workspace_list', 'workspace_search', 'workspace_read', 'workspace_write'],
      writePaths: targets.writePaths ?? [],
      urls: targets.urls ?? [],
    });
    expect(decision).toMatchObject({ decision: 'approve', approvers: ['U_ONCALL'] });

    const result = await run('workspace_write', args);
    expect(result.files).toEqual([{ path: 'reports/durable-execution.md', bytes: Buffer.byteLength(draft), sha256: sha256Hex(draft) }]);
    expect(await readFile(join(root, 'reports/durable-execution.md'), 'utf8')).toBe(draft);
    expect(facts.length).toBeGreaterThan(0);
    // Same path, same content: the same result and no leftover temp files.
    const again = JSON.parse((await run('workspace_write', args)).content) as { unchanged: boolean; sha256: string };
    expect(again).toMatchObject({ unchanged: true, sha256: sha256Hex(draft) });
    expect(await readdir(join(root, 'reports'))).toEqual(['durable-execution.md']);
  });

  it('does not write once the run is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const tool = registry.get('workspace_write');
    await expect(
      tool?.handler({ path: 'reports/a.md', content: 'x' }, { ...ctx(), signal: controller.signal }) ?? Promise.resolve(),
    ).rejects.toThrow(/cancelled/);
    await expect(readdir(join(root, 'reports'))).rejects.toThrow(/ENOENT/);
  });
});
