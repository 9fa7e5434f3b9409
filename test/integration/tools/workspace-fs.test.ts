/**
 * P13: file tools stay inside the workspace. Every hostile path is refused before anything is
 * created, and a recursive snapshot of the tmp parent (which holds the workspace AND the
 * "outside" folder a planted symlink points to) is identical before and after.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compilePolicy, decide } from '../../../src/policy/engine.ts';
import { sha256Hex } from '../../../src/shared/canonical-json.ts';
import { ToolError } from '../../../src/shared/errors.ts';
import { WorkspaceFs } from '../../../src/tools/workspace-fs.ts';

let parent: string;
let root: string;
let outside: string;
let fs: WorkspaceFs;

/** Every entry under `dir` (symlinks not followed) with its type and size or link target. */
async function snapshot(dir: string, prefix = ''): Promise<string[]> {
  const lines: string[] = [];
  const entries = (await readdir(dir)).sort();
  for (const name of entries) {
    const path = join(dir, name);
    const rel = `${prefix}${name}`;
    const info = await lstat(path);
    if (info.isSymbolicLink()) lines.push(`${rel} -> ${await readlink(path)}`);
    else if (info.isDirectory()) lines.push(`${rel}/`, ...(await snapshot(path, `${rel}/`)));
    else lines.push(`${rel} ${info.size} ${sha256Hex(await readFile(path)).slice(0, 12)}`);
  }
  return lines;
}

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'harness-p13-'));
  root = join(parent, 'workspace');
  outside = join(parent, 'outside');
  await mkdir(join(root, 'notes'), { recursive: true });
  await mkdir(join(root, 'reports'));
  await mkdir(outside);
  await writeFile(join(root, 'notes', 'a.md'), 'inside\n');
  await writeFile(join(outside, 'secret.txt'), 'outside secret\n');
  await writeFile(join(outside, 'target.md'), 'outside target\n');
  await symlink(outside, join(root, 'link'));
  await symlink(join(outside, 'target.md'), join(root, 'reports', 'evil.md'));
  await symlink(join(root, 'notes'), join(root, 'alias'));
  fs = new WorkspaceFs(root);
});

afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

const hostile: { path: string; reason: RegExp }[] = [
  { path: '../../etc/passwd', reason: /"\.\." segment/ },
  { path: '/etc/x', reason: /absolute/ },
  { path: 'a/../../x', reason: /"\.\." segment/ },
  { path: 'a\0b', reason: /NUL/ },
  { path: '..\\x', reason: /backslash/ },
  { path: 'x'.repeat(4096), reason: /longer than 1024/ },
  { path: `reports/${'y'.repeat(300)}`, reason: /segment longer than 255/ },
  { path: 'reports//x.md', reason: /empty segment/ },
  { path: '.', reason: /workspace root/ },
  { path: 'link/x', reason: /symbolic link at "link"/ },
  { path: 'link/new/deeper/x.md', reason: /symbolic link at "link"/ },
  { path: 'link', reason: /symbolic link at "link"/ },
  { path: 'reports/evil.md', reason: /symbolic link at "reports\/evil\.md"/ },
  { path: 'alias/x.md', reason: /symbolic link at "alias"/ },
  { path: 'notes/a.md/x', reason: /"notes\/a\.md" exists and is not a directory/ },
  { path: 'notes', reason: /not a regular file/ },
];

describe('WorkspaceFs writes (P13)', () => {
  it('refuses every hostile path and leaves no trace anywhere', async () => {
    const before = await snapshot(parent);
    for (const { path, reason } of hostile) {
      await expect(fs.write(path, 'pwned', { idempotencyKey: 'run:step' }), path.slice(0, 40)).rejects.toThrow(ToolError);
      await expect(fs.write(path, 'pwned', { idempotencyKey: 'run:step' }), path.slice(0, 40)).rejects.toThrow(reason);
      expect(await fs.checkWrite(path), path.slice(0, 40)).toMatch(reason);
    }
    expect(await snapshot(parent)).toEqual(before);
    expect(existsSync('/etc/x')).toBe(false);
    expect(await readFile(join(outside, 'target.md'), 'utf8')).toBe('outside target\n');
  });

  it('reasons stay short even for a 4096-character name', async () => {
    const reason = await fs.checkWrite('x'.repeat(4096));
    expect(reason?.length).toBeLessThan(250);
  });

  it('refuses errors as not retryable', async () => {
    await expect(fs.write('link/x', 'x', { idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'tool_failed', retryable: false });
  });

  it('writes inside the root, creating parent folders, atomically', async () => {
    const content = '# Report\n\nDurable execution résumé.\n';
    const before = await snapshot(outside);
    const result = await fs.write('reports/2026/incident.md', content, { idempotencyKey: 'run1:s3' });
    expect(result).toEqual({
      path: 'reports/2026/incident.md',
      bytes: Buffer.byteLength(content),
      sha256: sha256Hex(content),
      unchanged: false,
    });
    expect(await readFile(join(root, 'reports/2026/incident.md'), 'utf8')).toBe(content);
    expect(await readdir(join(root, 'reports/2026'))).toEqual(['incident.md']);
    expect(await snapshot(outside)).toEqual(before);
  });

  it('normalises "./" segments the same way policy does', async () => {
    const result = await fs.write('./reports/./n.md', 'n', { idempotencyKey: 'k' });
    expect(result.path).toBe('reports/n.md');
    const policy = compilePolicy({ approvers: { default: ['U1'] } });
    const decision = decide(policy, {
      tool: 'workspace_write',
      registered: true,
      category: 'filesystem_write',
      risk: 'write',
      role: 'writer',
      roleTools: '*',
      writePaths: ['./reports/./n.md'],
      urls: [],
    });
    expect(decision.decision).toBe('approve');
  });

  it('is idempotent: rewriting the same content touches nothing', async () => {
    const first = await fs.write('reports/r.md', 'same', { idempotencyKey: 'run1:s1' });
    const statBefore = await stat(join(root, 'reports/r.md'));
    const second = await fs.write('reports/r.md', 'same', { idempotencyKey: 'run1:s1' });
    const statAfter = await stat(join(root, 'reports/r.md'));
    expect(second).toEqual({ ...first, unchanged: true });
    expect(statAfter.ino).toBe(statBefore.ino);
    expect(statAfter.mtimeMs).toBe(statBefore.mtimeMs);
  });

  it('replaces a file with new content', async () => {
    await fs.write('reports/r.md', 'one', { idempotencyKey: 'k1' });
    const result = await fs.write('reports/r.md', 'two', { idempotencyKey: 'k2' });
    expect(result).toMatchObject({ unchanged: false, sha256: sha256Hex('two') });
    expect(await readFile(join(root, 'reports/r.md'), 'utf8')).toBe('two');
    expect(await readdir(join(root, 'reports'))).toEqual(['evil.md', 'r.md']);
  });

  it('works when the root itself is reached through a symlink', async () => {
    await symlink(root, join(parent, 'root-link'));
    const viaLink = new WorkspaceFs(join(parent, 'root-link'));
    await viaLink.write('reports/via.md', 'v', { idempotencyKey: 'k' });
    expect(await readFile(join(root, 'reports/via.md'), 'utf8')).toBe('v');
    await expect(viaLink.write('link/x', 'x', { idempotencyKey: 'k' })).rejects.toThrow(/symbolic link/);
  });

  it('fails clearly when the root does not exist', async () => {
    const missing = new WorkspaceFs(join(parent, 'nope'));
    await expect(missing.write('reports/a.md', 'x', { idempotencyKey: 'k' })).rejects.toThrow(/workspace root does not exist/);
    expect(existsSync(join(parent, 'nope'))).toBe(false);
  });
});

describe('WorkspaceFs reads (P13)', () => {
  it.each([
    { path: 'link/secret.txt', reason: /resolves outside the workspace root/ },
    { path: 'reports/evil.md', reason: /resolves outside the workspace root/ },
    { path: '../outside/secret.txt', reason: /"\.\." segment/ },
    { path: '/etc/passwd', reason: /absolute/ },
    { path: 'notes/missing.md', reason: /does not exist/ },
  ])('refuses to read $path', async ({ path, reason }) => {
    await expect(fs.read(path, 1000)).rejects.toThrow(reason);
  });

  it('reads through a symlink that stays inside the root', async () => {
    expect(await fs.read('alias/a.md', 1000)).toEqual({ path: 'alias/a.md', content: 'inside\n', bytes: 7, truncated: false });
  });

  it('refuses to list through a symlink out of the root', async () => {
    await expect(fs.list('link')).rejects.toThrow(/resolves outside/);
  });

  it('search never sees files behind a symlink', async () => {
    expect(await fs.search('outside secret target', { maxResults: 10 })).toEqual([]);
    expect((await fs.search('inside', { maxResults: 10 })).map((m) => m.path)).toEqual(['notes/a.md']);
  });
});
