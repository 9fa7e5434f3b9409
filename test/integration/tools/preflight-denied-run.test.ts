/**
 * P13 at the harness level: a model-proposed write through a planted symlink is refused by the
 * write tool's preflight before anyone is asked to approve it. The trace records `policy_denied`
 * with rule `preflight`, no gate is opened, the target outside the workspace is untouched, and the
 * model is told why and may carry on.
 */
import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

let fixture: Fixture | undefined;
let outsideDir: string | undefined;
afterEach(async () => {
  fixture?.cleanup();
  if (outsideDir !== undefined) await rm(outsideDir, { recursive: true, force: true });
});

describe('P13: preflight denial of a write through a planted symlink', () => {
  it('denies with rule preflight, opens no gate and leaves the outside file as it was', async () => {
    outsideDir = await mkdtemp(join(tmpdir(), 'p13-outside-'));
    const target = join(outsideDir, 'authorized_keys');
    await writeFile(target, 'original\n');
    fixture = makeHarness({
      model: ScriptedModel.fromSteps([
        { calls: [{ name: 'workspace_write', args: { path: 'reports/evil.md', content: 'ssh-ed25519 AAAA attacker\n' } }] },
        { content: 'I could not write the report.' },
      ]),
    });
    const { harness, workspaceRoot } = fixture;
    await mkdir(join(workspaceRoot, 'reports'), { recursive: true });
    await symlink(target, join(workspaceRoot, 'reports', 'evil.md'));

    const doc = await harness.startRun({ task: 'write the report', requestedBy: { userId: REQUESTER, source: 'cli' } });

    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates).toEqual([]);
    const denied = doc.trace.filter((e) => e.event === 'policy_denied');
    expect(denied).toHaveLength(1);
    expect(denied[0]!.detail).toMatchObject({ rule: 'preflight' });
    expect(JSON.stringify(denied[0]!.detail)).toMatch(/symbolic link/);
    expect(doc.trace.some((e) => e.event === 'tool_start')).toBe(false);
    expect(doc.run.steps[0]).toMatchObject({ tool: 'workspace_write', status: 'denied' });
    expect(await readFile(target, 'utf8')).toBe('original\n');
    expect(replayTrace(doc.trace)).toEqual(doc.run);
  });
});
