/**
 * Regression: `WorkspaceFs.write` created missing parent folders with `mkdir(…, {recursive: true})`
 * after its preflight. A folder swapped for a symlink to somewhere outside the root in that window
 * had the new folders created through it, outside the workspace (P13). Parents are now created one
 * segment at a time, each parent re-checked first, and the write is refused.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolError } from '../../../src/shared/errors.ts';
import { WorkspaceFs } from '../../../src/tools/workspace-fs.ts';

describe('workspace write: a parent folder swapped for a symlink after the preflight', () => {
  let dir: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-swap-'));
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    await mkdir(join(root, 'reports', 'team'), { recursive: true });
    await mkdir(outside);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the write and creates nothing outside the root', async () => {
    const fs = new WorkspaceFs(root);
    const preflight = fs.resolveInside.bind(fs);
    let calls = 0;
    // The first check passes on the real folder; then an attacker swaps it for a symlink.
    fs.resolveInside = async (rel, mode) => {
      const resolved = await preflight(rel, mode);
      calls += 1;
      if (calls === 1) {
        await rm(join(root, 'reports', 'team'), { recursive: true });
        await symlink(outside, join(root, 'reports', 'team'));
      }
      return resolved;
    };

    const write = fs.write('reports/team/q3/summary.md', '# Q3\n', { idempotencyKey: 'swap' });
    await expect(write).rejects.toBeInstanceOf(ToolError);
    await expect(write).rejects.toThrow(/symbolic link/);
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(join(outside, 'q3'))).toBe(false);
  });
});
