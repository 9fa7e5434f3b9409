import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_FIXTURES, fixturesPath } from '../../../src/cli/commands/evals.ts';
import { loadEvalFixtures, runEvalCase } from '../../../src/cli/evals.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { UsageError } from '../../../src/shared/errors.ts';
import { silentLogger } from '../../../src/shared/logger.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('eval fixtures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'harness-evals-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fixture(text: string): Promise<string> {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(path, text);
    return path;
  }

  it('the bundled basic.yaml has at least three valid cases', () => {
    const cases = loadEvalFixtures(BUNDLED_FIXTURES);
    expect(cases.length).toBeGreaterThanOrEqual(3);
    expect(cases.map((c) => c.name)).toEqual(expect.arrayContaining(['report-approved', 'report-rejected', 'help-without-gate']));
  });

  it('accepts a top-level list as the seed wrote them, with defaults filled in', async () => {
    const cases = loadEvalFixtures(await fixture('- name: a\n  task: help\n  expected_status: completed\n'));
    expect(cases).toEqual([{ name: 'a', task: 'help', expected_status: 'completed', required_events: [], forbidden_events: [], expect_files: [], expect_no_files: [] }]);
  });

  it.each([
    ['an unknown key', 'cases:\n  - name: a\n    task: t\n    expected_status: completed\n    auto_approve: true\n'],
    ['an unknown status', 'cases:\n  - name: a\n    task: t\n    expected_status: done\n'],
    ['an unknown event', 'cases:\n  - name: a\n    task: t\n    expected_status: completed\n    required_events: [nope]\n'],
    ['reject_as without a reason', 'cases:\n  - name: a\n    task: t\n    expected_status: completed\n    reject_as: U1\n'],
    ['a path escaping the workspace', 'cases:\n  - name: a\n    task: t\n    expected_status: completed\n    expect_files: [../outside.md]\n'],
    ['an absolute path', 'cases:\n  - name: a\n    task: t\n    expected_status: completed\n    expect_no_files: [/etc/passwd]\n'],
    ['no cases', 'cases: []\n'],
    ['broken YAML', 'cases: [\n'],
  ])('refuses %s as a usage error', async (_what, text) => {
    const path = await fixture(text);
    expect(() => loadEvalFixtures(path)).toThrow(UsageError);
  });

  it('refuses a missing file as a usage error', () => {
    expect(() => loadEvalFixtures(join(dir, 'missing.yaml'))).toThrow(/cannot read fixtures/);
  });

  it('resolves --fixtures against the cwd and defaults to the bundled file', () => {
    expect(fixturesPath('/work/x', 'evals/mine.yaml')).toBe('/work/x/evals/mine.yaml');
    expect(fixturesPath(dir, undefined)).toBe(BUNDLED_FIXTURES);
  });
});

describe('runEvalCase', () => {
  it('runs in a tmp copy of the workspace and checks status, gate, events and files without touching the real workspace', async () => {
    const config = loadConfig({ cwd: REPO, env: {} });
    const realReport = join(config.workspaceRoot, 'reports', 'durable-execution.md');
    const existedBefore = existsSync(realReport);
    const result = await runEvalCase(
      config,
      {
        name: 'approve',
        task: 'write a short report on durable execution',
        role: 'writer',
        approve_as: 'U_APPROVER1',
        expected_status: 'completed',
        expected_gate_tool: 'workspace_write',
        required_events: ['approval_granted'],
        forbidden_events: ['approval_rejected'],
        min_trace_events: 5,
        expect_files: ['reports/durable-execution.md'],
        expect_no_files: ['reports/other.md'],
      },
      { logger: silentLogger },
    );
    expect(result.error).toBeNull();
    expect(result.checks.map((c) => [c.name, c.passed])).toEqual([
      ['status', true],
      ['gate_tool', true],
      ['event:approval_granted', true],
      ['no_event:approval_rejected', true],
      ['min_trace_events', true],
      ['file:reports/durable-execution.md', true],
      ['no_file:reports/other.md', true],
    ]);
    expect(result.passed).toBe(true);
    expect(result.trace_summary?.run_id).toBe(result.run_id);
    expect(existsSync(realReport)).toBe(existedBefore);
  });

  it('reports a failing expectation and an error as failed checks, never throws', async () => {
    const config = loadConfig({ cwd: REPO, env: {} });
    const wrong = await runEvalCase(config, { name: 'w', task: 'help', expected_status: 'failed', required_events: [], forbidden_events: [], expect_files: [], expect_no_files: [] }, { logger: silentLogger });
    expect(wrong.passed).toBe(false);
    expect(wrong.checks).toEqual([{ name: 'status', passed: false, expected: 'failed', actual: 'completed' }]);
    const broken = await runEvalCase(config, { name: 'b', task: 'help', role: 'nobody', expected_status: 'completed', required_events: [], forbidden_events: [], expect_files: [], expect_no_files: [] }, { logger: silentLogger });
    expect(broken.passed).toBe(false);
    expect(broken.error?.code).toBe('usage');
  });
});
