/**
 * `runCli` in-process: dispatch, help, usage errors and their exit codes, and read commands over
 * a tmp copy of the repo's config that must create nothing for bad ids or a missing data dir.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { COMMAND_NAMES } from '../../../src/cli/command-names.ts';
import { COMMANDS } from '../../../src/cli/commands/index.ts';
import { tailEvents } from '../../../src/cli/commands/run-views.ts';
import type { CliIo } from '../../../src/cli/output.ts';
import { runCli } from '../../../src/cli/run-cli.ts';
import { workflowGraph, workflowMermaid } from '../../../src/orchestrator/transitions.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

describe('runCli', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'harness-cli-unit-'));
    for (const entry of ['config.yaml', 'roles', 'scenarios', 'workspace']) await cp(join(REPO, entry), join(dir, entry), { recursive: true });
    // A unit test starts no processes: the copy runs without the example MCP server (the
    // integration tests in test/integration/cli cover the configured servers).
    const config = parseDocument(await readFile(join(dir, 'config.yaml'), 'utf8'));
    config.setIn(['mcp', 'servers'], []);
    await writeFile(join(dir, 'config.yaml'), config.toString());
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...argv: string[]): Promise<Captured> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { cwd: dir, env: {}, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
    const code = await runCli(argv, io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('has one command per name in COMMAND_NAMES, in the same order', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual([...COMMAND_NAMES]);
  });

  it('prints help with exit 0 for help/--help, and exit 2 on stderr with no command', async () => {
    const help = await cli('help');
    expect(help.code).toBe(0);
    for (const name of COMMAND_NAMES) expect(help.stdout).toContain(`harness ${name}`);
    expect((await cli('--help')).code).toBe(0);
    const approveHelp = await cli('approve', '--help');
    expect(approveHelp).toMatchObject({ code: 0, stderr: '' });
    expect(approveHelp.stdout).toContain('usage: harness approve');
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('usage: harness <command>');
  });

  it('exits 2 for unknown commands and options, with a JSON error document in --json mode', async () => {
    expect(await cli('frobnicate')).toEqual({ code: 2, stdout: '', stderr: 'error: unknown command "frobnicate"; run "harness help" for the list\n' });
    const json = await cli('runs', '--bogus', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'usage', message: "runs: Unknown option '--bogus'" } });
    expect((await cli('workflow', '--format', 'svg')).code).toBe(2);
    expect((await cli('history', 'r_1', '--event', 'no_such_event')).code).toBe(2);
    expect((await cli('runs', '--status', 'sleeping')).code).toBe(2);
    expect((await cli('mcp-tools', '--category', 'magic')).code).toBe(2);
  });

  it('accepts global options before the command', async () => {
    const result = await cli('--json', 'workflow');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(JSON.stringify(workflowGraph())));
  });

  it('workflow prints the transition table as JSON and as Mermaid', async () => {
    expect(JSON.parse((await cli('workflow', '--format', 'json')).stdout)).toEqual(JSON.parse(JSON.stringify(workflowGraph())));
    expect((await cli('workflow', '--format', 'mermaid')).stdout).toBe(workflowMermaid());
    expect(JSON.parse((await cli('workflow', '--format', 'mermaid', '--json')).stdout)).toEqual({ format: 'mermaid', diagram: workflowMermaid() });
  });

  it('read commands on a missing data dir: runs is empty, ids are not found or malformed, and nothing is created', async () => {
    const before = (await readdir(dir)).sort();
    expect(JSON.parse((await cli('runs', '--json')).stdout)).toMatchObject({ count: 0, runs: [] });
    expect(await cli('pending')).toMatchObject({ code: 0, stdout: 'no pending approvals\n' });
    expect(await cli('inspect', 'r_missing')).toEqual({ code: 1, stdout: '', stderr: 'error: run r_missing not found\n' });
    expect(await cli('summary', '--latest')).toMatchObject({ code: 1, stderr: 'error: there are no runs yet (--latest needs one)\n' });
    for (const id of ['../x', 'a/b', '']) {
      const result = await cli('inspect', id);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`invalid run id ${JSON.stringify(id)}`);
    }
    expect((await cli('cancel', '../x')).code).toBe(2);
    expect((await cli('approve', 'r_missing', '--as', 'U_APPROVER1')).code).toBe(1);
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('write commands validate their arguments before any I/O (exit 2)', async () => {
    expect((await cli('reject', 'r_1', '--as', 'U1')).stderr).toContain('--reason');
    expect((await cli('approve', 'r_1')).stderr).toContain('--as <user> is required');
    expect((await cli('approve', 'r_1', '--as', 'U1', '--edit-args', '{x')).code).toBe(2);
    expect((await cli('start')).stderr).toBe('error: start: missing "<task>"\n');
    expect(await cli('start', '  ')).toMatchObject({ code: 2, stderr: 'error: start: the task is empty\n' });
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('cancel, resume and retry-step go through the harness checks (exit 1 when refused)', async () => {
    const started = JSON.parse((await cli('start', '--json', '--user', 'U_REQUESTER', 'write a short report on durable execution')).stdout) as {
      run: { run_id: string; status: string; requested_by: string };
    };
    expect(started.run).toMatchObject({ status: 'waiting_approval', requested_by: 'U_REQUESTER' });
    const runId = started.run.run_id;
    expect((await cli('resume', runId)).stderr).toContain('is waiting for approval');
    expect((await cli('retry-step', runId, '--as', 'U_APPROVER1')).stderr).toContain('not needs_attention');
    const cancelled = JSON.parse((await cli('cancel', runId, '--reason', 'changed my mind', '--json')).stdout) as { run: { status: string } };
    expect(cancelled.run.status).toBe('cancelled');
    expect(await cli('cancel', runId)).toMatchObject({ code: 1, stderr: `error: run ${runId} is cancelled; it cannot be cancelled\n` });
    expect((await cli('approve', '--latest', '--as', 'U_APPROVER1')).code).toBe(1);
    expect(JSON.parse((await cli('runs', '--status', 'cancelled', '--json')).stdout)).toMatchObject({ count: 1 });
    await rm(join(dir, 'data'), { recursive: true, force: true });
  });

  it('roles, policy and mcp-tools describe the configured harness', async () => {
    const roles = JSON.parse((await cli('roles', '--json')).stdout) as { default_role: string; roles: { name: string }[] };
    expect(roles.roles.map((r) => r.name)).toContain(roles.default_role);
    const policy = JSON.parse((await cli('policy', '--json')).stdout) as { defaultDecision: string; approvers: { default: string[] } };
    expect(policy).toMatchObject({ defaultDecision: 'deny', approvers: { default: ['U_APPROVER1', 'U_APPROVER2'] } });
    const tools = JSON.parse((await cli('mcp-tools', '--category', 'read_only', '--json')).stdout) as { tools: { _meta: { category: string } }[] };
    expect(tools.tools.length).toBeGreaterThan(0);
    expect(tools.tools.every((t) => t._meta.category === 'read_only')).toBe(true);
  });
});

describe('tailEvents (history --tail)', () => {
  const events = [1, 2, 3, 4, 5];

  it('returns everything without --tail', () => {
    expect(tailEvents(events, undefined)).toEqual(events);
  });

  it('returns nothing for --tail 0 (the seed returned everything)', () => {
    expect(tailEvents(events, 0)).toEqual([]);
  });

  it('returns the last N, or all when N exceeds the count', () => {
    expect(tailEvents(events, 2)).toEqual([4, 5]);
    expect(tailEvents(events, 50)).toEqual(events);
  });
});
