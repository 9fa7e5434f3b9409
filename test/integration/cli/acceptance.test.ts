/**
 * Issue A's CLI acceptance, against the real CLI in child processes on the repo's default
 * config.yaml, roles/, scenarios/ and workspace/ (copied into a tmp dir). One sandbox is shared
 * by the cases that build on each other; the "creates nothing" cases get a fresh one.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowGraph } from '../../../src/orchestrator/transitions.ts';
import { type CliSandbox, createSandbox, snapshotTree } from './cli-fixture.ts';

const TASK = 'write a short report on durable execution';
const REPORT = join('workspace', 'reports', 'durable-execution.md');

interface GateJson {
  gate_id: string;
  tool: string;
  args: { path?: string };
  args_hash: string;
  args_hash_prefix: string;
  approvers: string[];
  expires_at: string;
}
interface RunJson {
  run_id: string;
  status: string;
  result: string | null;
  pending_gates: GateJson[];
  next_commands: string[];
}

describe('harness CLI: approval flow on the default config', () => {
  let box: CliSandbox;
  let reportRun: string;

  beforeAll(async () => {
    box = await createSandbox();
  });
  afterAll(async () => {
    await box.cleanup();
  });

  it('start pauses at a workspace_write gate; pending shows tool, args, hash and approvers; approve completes it and writes only workspace/reports/', async () => {
    const before = await snapshotTree(box.dir);

    const started = await box.json<{ run: RunJson }>(['start', TASK]);
    expect(started.code).toBe(0);
    const run = started.body.run;
    reportRun = run.run_id;
    expect(run.status).toBe('waiting_approval');
    expect(run.pending_gates).toHaveLength(1);
    const gate = run.pending_gates[0] as GateJson;
    expect(gate.tool).toBe('workspace_write');
    expect(gate.args.path).toBe('reports/durable-execution.md');
    expect(gate.args_hash_prefix).toBe(gate.args_hash.slice(0, 12));
    expect(gate.approvers).toEqual(['U_APPROVER1', 'U_APPROVER2']);
    expect(run.next_commands).toContain(`harness approve ${reportRun} --as U_APPROVER1 --gate ${gate.gate_id}`);

    const pending = await box.run(['pending']);
    expect(pending.code).toBe(0);
    for (const fact of [reportRun, 'workspace_write', gate.args_hash_prefix, 'U_APPROVER1, U_APPROVER2', 'reports/durable-execution.md', gate.expires_at]) {
      expect(pending.stdout).toContain(fact);
    }
    expect(existsSync(join(box.dir, REPORT))).toBe(false);

    const approved = await box.run(['approve', reportRun, '--as', 'U_APPROVER1']);
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/status\s+completed/);
    expect(await readFile(join(box.dir, REPORT), 'utf8')).toContain('Durable Execution');

    const after = await snapshotTree(box.dir);
    const changedOutsideData = [...after.keys()].filter((path) => !path.startsWith('data/') && path !== 'data/' && after.get(path) !== before.get(path));
    expect(changedOutsideData.sort()).toEqual(['workspace/reports/', 'workspace/reports/durable-execution.md']);
  });

  it('a second approve exits 1 with "already approved by"', async () => {
    const again = await box.run(['approve', reportRun, '--as', 'U_APPROVER2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: already approved by U_APPROVER1\n');

    const asJson = await box.json<{ error: { code: string; message: string } }>(['approve', reportRun, '--as', 'U_APPROVER2']);
    expect(asJson.code).toBe(1);
    expect(asJson.body.error).toEqual({ code: 'approval_conflict', message: 'already approved by U_APPROVER1' });
  });

  it('approving a completed run that never had a gate exits 1', async () => {
    const help = await box.json<{ run: RunJson }>(['start', 'help']);
    expect(help.body.run.status).toBe('completed');
    expect(help.body.run.pending_gates).toEqual([]);
    const approve = await box.run(['approve', help.body.run.run_id, '--as', 'U_APPROVER1']);
    expect(approve.code).toBe(1);
    expect(approve.stderr).toMatch(/^error: run \S+ has no approval gate\n$/);
  });

  it('reject needs --reason (exit 2), and with one the model sees the reason', async () => {
    const started = await box.json<{ run: RunJson }>(['start', TASK]);
    const runId = started.body.run.run_id;
    expect(started.body.run.status).toBe('waiting_approval');

    const noReason = await box.run(['reject', runId, '--as', 'U_APPROVER2']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');

    const reason = 'cite the incident notes first';
    const rejected = await box.json<{ decision: { status: string; decided_by: string; decision_reason: string }; run: RunJson }>([
      'reject',
      runId,
      '--as',
      'U_APPROVER2',
      '--reason',
      reason,
    ]);
    expect(rejected.code).toBe(0);
    expect(rejected.body.decision).toMatchObject({ status: 'rejected', decided_by: 'U_APPROVER2', decision_reason: reason });
    expect(rejected.body.run.status).toBe('completed');
    expect(rejected.body.run.result).toContain(reason);

    const history = await box.json<{ events: { event: string; detail: { reason?: string } }[] }>(['history', runId, '--event', 'approval_rejected']);
    expect(history.body.events.map((e) => e.detail.reason)).toEqual([reason]);
  });

  it('--latest addresses the newest run, and history --tail 0 returns no events', async () => {
    const runs = await box.json<{ runs: { runId: string; createdAt: number }[] }>(['runs']);
    const newest = [...runs.body.runs].sort((a, b) => b.createdAt - a.createdAt)[0];
    const summary = await box.json<{ run_id: string }>(['summary', '--latest']);
    expect(summary.body.run_id).toBe(newest?.runId);
    const tail = await box.json<{ returned: number; events: unknown[]; total: number }>(['history', '--latest', '--tail', '0']);
    expect(tail.body).toMatchObject({ returned: 0, events: [] });
    expect(tail.body.total).toBeGreaterThan(0);
  });

  it('every read command prints exactly one JSON document with --json', async () => {
    const commands = [
      ['runs'],
      ['inspect', reportRun],
      ['summary', reportRun],
      ['trace-summary', reportRun],
      ['memory', reportRun],
      ['handoffs', reportRun],
      ['history', reportRun, '--tail', '2'],
      ['pending'],
      ['roles'],
      ['policy'],
      ['workflow'],
      ['blueprint'],
      ['mcp-tools'],
      ['doctor'],
    ];
    const results = await Promise.all(commands.map((args) => box.json(args)));
    results.forEach((result, i) => {
      expect({ command: commands[i], code: result.code, stderr: result.stderr }).toEqual({ command: commands[i], code: 0, stderr: '' });
    });
    const [, inspect, , traceSummary] = results;
    expect(inspect?.body).toMatchObject({ runId: reportRun, status: 'completed' });
    expect(traceSummary?.body).toMatchObject({ run_id: reportRun, approval: { approved: 1 } });
  });

  it('workflow --format json is exactly workflowGraph()', async () => {
    const text = await box.run(['workflow', '--format', 'json']);
    expect(JSON.parse(text.stdout)).toEqual(JSON.parse(JSON.stringify(workflowGraph())));
  });

  it('export writes the seed-named artifacts and the produced file', async () => {
    const out = join(box.dir, 'exports', 'acceptance');
    const exported = await box.json<{ written: string[]; skipped: unknown[] }>(['export', reportRun, '--out', out]);
    expect(exported.code).toBe(0);
    for (const name of ['state.json', 'trace.json', 'summary.json', 'memory.json', 'trace_summary.json', 'handoffs.json']) {
      expect(existsSync(join(out, name))).toBe(true);
    }
    expect(await readFile(join(out, 'files', 'reports', 'durable-execution.md'), 'utf8')).toContain('Durable Execution');
    expect(exported.body.skipped).toEqual([]);
  });

  it('a write is refused with exit 1 while another live process holds the data-dir lock', async () => {
    const lock = join(box.dataDir, 'harness.lock');
    await writeFile(lock, `${JSON.stringify({ pid: process.pid, startedAt: Date.now(), hostname: hostname() })}\n`);
    const refused = await box.run(['start', 'help']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: the bot (pid ${process.pid}) owns ${box.dataDir};`);
    const read = await box.run(['runs']);
    expect(read.code).toBe(0);
    await rm(lock);
  });

  it('evals pass on evals/basic.yaml and exit 1 on a fixture with a wrong expectation', async () => {
    const passing = await box.json<{ case_count: number; passed: number; failed: number; results: { name: string; passed: boolean }[] }>(['evals']);
    expect(passing.code).toBe(0);
    expect(passing.body.case_count).toBeGreaterThanOrEqual(3);
    expect(passing.body.failed).toBe(0);
    expect(passing.body.passed).toBe(passing.body.case_count);

    const wrong = join(box.dir, 'wrong.yaml');
    await writeFile(
      wrong,
      ['cases:', '  - name: help-claims-a-gate', '    task: help', '    expected_status: waiting_approval', '    required_events: [approval_required]', ''].join('\n'),
    );
    const failing = await box.json<{ failed: number; results: { checks: { name: string; passed: boolean }[] }[] }>(['evals', '--fixtures', wrong]);
    expect(failing.code).toBe(1);
    expect(failing.body.failed).toBe(1);
    expect(failing.body.results[0]?.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['status', 'event:approval_required']);
  });
});

describe('harness CLI: bad and unknown run ids create nothing', () => {
  let box: CliSandbox;

  beforeAll(async () => {
    box = await createSandbox();
  });
  afterAll(async () => {
    await box.cleanup();
  });

  it('with no data dir: runs is empty, unknown ids exit 1, malformed ids exit 2, and nothing is created', async () => {
    const before = await snapshotTree(box.dir);

    const runs = await box.json<{ count: number; runs: unknown[] }>(['runs']);
    expect(runs.code).toBe(0);
    expect(runs.body).toMatchObject({ count: 0, runs: [] });

    const unknownRead = await box.run(['inspect', 'r_unknown']);
    expect(unknownRead).toMatchObject({ code: 1, stderr: 'error: run r_unknown not found\n' });
    const unknownWrite = await box.run(['approve', 'r_unknown', '--as', 'U_APPROVER1']);
    expect(unknownWrite).toMatchObject({ code: 1, stderr: 'error: run r_unknown not found\n' });

    const malformed: [string[], string][] = [
      [['inspect', '../x'], '"../x"'],
      [['inspect', 'a/b'], '"a/b"'],
      [['inspect', ''], '""'],
      [['approve', '../x', '--as', 'U_APPROVER1'], '"../x"'],
      [['history', 'a/b', '--tail', '1'], '"a/b"'],
    ];
    const results = await Promise.all(malformed.map(([args]) => box.run(args)));
    results.forEach((result, i) => {
      const [args, named] = malformed[i] as [string[], string];
      expect({ args, code: result.code, named: result.stderr.includes(`invalid run id ${named}`) }).toEqual({ args, code: 2, named: true });
    });

    expect(existsSync(box.dataDir)).toBe(false);
    expect(await snapshotTree(box.dir)).toEqual(before);
  });

  it('unknown commands and options exit 2', async () => {
    const [command, option] = await Promise.all([box.run(['frobnicate']), box.run(['runs', '--bogus'])]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("'--bogus'");
  });
});
