import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/shared/canonical-json.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import { EXPORT_ARTIFACTS, exportRunArtifacts } from '../../../src/trace/export.ts';
import { completedRun } from './trace-builder.ts';

let dir: string;
let workspace: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harness-export-'));
  workspace = join(dir, 'workspace');
  out = join(dir, 'out');
  await mkdir(join(workspace, 'reports'), { recursive: true });
  await writeFile(join(workspace, 'reports', 'r.md'), '# Report');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function withFiles(doc: RunDoc, paths: string[]): RunDoc {
  const copy = structuredClone(doc);
  copy.run.files = paths.map((path) => ({ path, bytes: 1, sha256: 'x'.repeat(64) }));
  return copy;
}

describe('exportRunArtifacts', () => {
  it('writes the six artifacts and copies produced files', async () => {
    const doc = completedRun();
    const result = await exportRunArtifacts(doc, out, { workspaceRoot: workspace });
    expect(result.written).toEqual([...EXPORT_ARTIFACTS.map((name) => join(out, name)), join(out, 'files', 'reports', 'r.md')]);
    expect(result.skipped).toEqual([]);
    expect(result.changed).toEqual([]);
    expect((await readdir(out)).sort()).toEqual([...EXPORT_ARTIFACTS, 'files'].sort());

    const read = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(out, name), 'utf8')) as Record<string, unknown>;
    expect(await read('state.json')).toEqual(doc.run);
    expect(await read('trace.json')).toEqual(doc.trace);
    expect(await read('summary.json')).toMatchObject({ run_id: doc.run.runId, status: 'completed' });
    expect(await read('trace_summary.json')).toMatchObject({ run_id: doc.run.runId, counts: { trace_events: doc.trace.length } });
    expect(await read('memory.json')).toMatchObject({ run_id: doc.run.runId, layers: { retrieval_memory: { query: doc.run.task, top_k: 5 } } });
    expect(await read('handoffs.json')).toMatchObject({ run_id: doc.run.runId, handoff_count: 1 });
    expect(await readFile(join(out, 'files', 'reports', 'r.md'), 'utf8')).toBe('# Report');
  });

  it('refuses produced paths that escape the workspace and copies nothing for them', async () => {
    await writeFile(join(dir, 'secret.txt'), 'outside');
    await symlink(join(dir, 'secret.txt'), join(workspace, 'reports', 'link.md'));
    const doc = withFiles(completedRun(), ['../secret.txt', join(dir, 'secret.txt'), 'reports/../../secret.txt', 'reports/link.md', 'reports/r.md']);
    const result = await exportRunArtifacts(doc, out, { workspaceRoot: workspace });
    expect(result.skipped).toEqual([
      { path: '../secret.txt', reason: 'escapes the workspace' },
      { path: join(dir, 'secret.txt'), reason: 'escapes the workspace' },
      { path: 'reports/../../secret.txt', reason: 'escapes the workspace' },
      { path: 'reports/link.md', reason: 'escapes the workspace' },
    ]);
    expect(result.written.filter((p) => p.includes(`${join(out, 'files')}`))).toEqual([join(out, 'files', 'reports', 'r.md')]);
    expect(await readdir(join(out, 'files', 'reports'))).toEqual(['r.md']);
    expect(await readdir(dir)).not.toContain('files');
  });

  it('reports missing files and files changed since they were produced', async () => {
    const doc = withFiles(completedRun(), ['reports/gone.md', 'reports']);
    doc.run.files.push({ path: 'reports/r.md', bytes: 8, sha256: sha256Hex('something else') });
    const result = await exportRunArtifacts(doc, out, { workspaceRoot: workspace });
    expect(result.skipped).toEqual([
      { path: 'reports/gone.md', reason: 'missing' },
      { path: 'reports', reason: 'not a file' },
    ]);
    expect(result.changed).toEqual(['reports/r.md']);
  });
});
