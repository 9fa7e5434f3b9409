/**
 * DESIGN.md §5: the operator CLI keeps working while the bot runs. A child process plays the bot
 * (runtime with the data-dir lock + admin socket, test/integration/admin/fixtures/bot.ts); the
 * real CLI (`node bin/harness.mjs`, cli-fixture.ts) hands its writes to it over
 * `<dataDir>/admin.sock`, and the bot applies them with its own Harness. Once the bot is killed
 * with SIGKILL, the CLI takes the stale lock and applies writes itself; a restarted bot replaces
 * the stale socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliSandbox, createSandbox } from '../cli/cli-fixture.ts';

const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const BOT_SCRIPT = fileURLToPath(new URL('./fixtures/bot.ts', import.meta.url));
const TASK = 'write a short report on durable execution';
const REPORT = join('workspace', 'reports', 'durable-execution.md');

interface Bot {
  pid: number;
  socketPath: string;
  child: ChildProcess;
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts the "bot" in the sandbox and resolves once it prints `ready <pid> <path>`. */
function startBot(box: CliSandbox): Promise<Bot> {
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, BOT_SCRIPT], { cwd: box.dir, env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bot did not get ready: ${stderr}`)), 30_000);
    void exited.then(() => reject(new Error(`the bot exited before ready: ${stderr}`)));
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^ready (\d+) (\S+)$/m.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve({
        pid: Number(match[1]),
        socketPath: match[2] as string,
        child,
        stderr: () => stderr,
        kill: async (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}

interface GateJson {
  gate_id: string;
  tool: string;
  status: string;
  decided_by: string | null;
  decision_reason: string | null;
}
interface RunJson {
  run_id: string;
  status: string;
  result: string | null;
  requested_by: string;
  pending_gates: GateJson[];
}

async function runFile(box: CliSandbox, runId: string): Promise<{ run: { status: string; gates: { status: string; decidedBy: string | null }[] }; trace: { event: string; detail: Record<string, unknown> }[] }> {
  return JSON.parse(await readFile(join(box.dataDir, 'runs', `${runId}.json`), 'utf8'));
}

async function lockPid(box: CliSandbox): Promise<number | null> {
  const path = join(box.dataDir, 'harness.lock');
  return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as { pid: number }).pid : null;
}

describe('harness CLI writes while the bot runs (admin socket)', () => {
  let box: CliSandbox;
  let bot: Bot;
  let reportRun: string;

  beforeAll(async () => {
    box = await createSandbox();
    bot = await startBot(box);
  });
  afterAll(async () => {
    await bot?.kill('SIGKILL');
    await box?.cleanup();
  });

  it('the bot owns the data directory and its socket is owner-only (0600)', async () => {
    expect(bot.socketPath).toBe(join(box.dataDir, 'admin.sock'));
    const info = await stat(bot.socketPath);
    expect(info.isSocket()).toBe(true);
    expect((info.mode & 0o777).toString(8)).toBe('600');
    expect(await lockPid(box)).toBe(bot.pid);
  });

  it('start → pending → approve: the bot applies each write and the run completes inside it', async () => {
    const started = await box.json<{ run: RunJson }>(['start', TASK]);
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
    reportRun = started.body.run.run_id;
    expect(started.body.run).toMatchObject({ status: 'waiting_approval', requested_by: 'cli-operator' });
    const gate = started.body.run.pending_gates[0] as GateJson;
    expect(gate.tool).toBe('workspace_write');

    const pending = await box.run(['pending']);
    expect(pending.code).toBe(0);
    expect(pending.stdout).toContain(gate.gate_id);

    const approved = await box.run(['approve', reportRun, '--as', 'U_APPROVER1']);
    expect({ code: approved.code, stderr: approved.stderr }).toEqual({ code: 0, stderr: '' });
    expect(approved.stdout).toContain(`gate ${gate.gate_id} (workspace_write) approved by U_APPROVER1`);
    expect(approved.stdout).toMatch(/status\s+completed/);

    // The bot wrote it: it still holds the lock (the CLI never took it), and the store says so.
    expect(await lockPid(box)).toBe(bot.pid);
    const doc = await runFile(box, reportRun);
    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: 'U_APPROVER1' });
    expect(doc.trace.find((e) => e.event === 'approval_granted')?.detail).toMatchObject({ by: 'U_APPROVER1', source: 'cli' });
    expect(await readFile(join(box.dir, REPORT), 'utf8')).toContain('Durable Execution');
    const audit = await readFile(join(box.dataDir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain(`"runId":"${reportRun}"`);
  });

  it('a second approve exits 1 with "already approved by"', async () => {
    const again = await box.run(['approve', reportRun, '--as', 'U_APPROVER2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: already approved by U_APPROVER1\n');
    const asJson = await box.json<{ error: { code: string; message: string } }>(['approve', reportRun, '--as', 'U_APPROVER2']);
    expect(asJson.code).toBe(1);
    expect(asJson.body.error).toEqual({ code: 'approval_conflict', message: 'already approved by U_APPROVER1' });
  });

  it('a non-approver is refused with exit 1 and the gate stays pending; reject with a reason continues the run', async () => {
    const started = await box.json<{ run: RunJson }>(['start', TASK]);
    const runId = started.body.run.run_id;
    expect(started.body.run.status).toBe('waiting_approval');

    const viewer = await box.run(['approve', runId, '--as', 'U_VIEWER']);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toBe('error: you are not an approver for filesystem_write actions\n');
    const afterRefusal = await runFile(box, runId);
    expect(afterRefusal.run.gates[0]?.status).toBe('pending');
    expect(afterRefusal.trace.filter((e) => e.event === 'approval_refused').map((e) => e.detail['userId'])).toEqual(['U_VIEWER']);

    const noReason = await box.run(['reject', runId, '--as', 'U_APPROVER2']);
    expect(noReason.code).toBe(2);

    const reason = 'cite the incident notes first';
    const rejected = await box.json<{ decision: GateJson; run: RunJson }>(['reject', runId, '--as', 'U_APPROVER2', '--reason', reason]);
    expect({ code: rejected.code, stderr: rejected.stderr }).toEqual({ code: 0, stderr: '' });
    expect(rejected.body.decision).toMatchObject({ status: 'rejected', decided_by: 'U_APPROVER2', decision_reason: reason });
    expect(rejected.body.run.status).toBe('completed');
    expect(rejected.body.run.result).toContain(reason);
    expect((await runFile(box, runId)).run.status).toBe('completed');
    expect(await lockPid(box)).toBe(bot.pid);
  });

  it('an approve racing a reject through the bot: exactly one decision, the loser exits 1', async () => {
    const started = await box.json<{ run: RunJson }>(['start', TASK]);
    const runId = started.body.run.run_id;
    const [approve, reject] = await Promise.all([
      box.run(['approve', runId, '--as', 'U_APPROVER1']),
      box.run(['reject', runId, '--as', 'U_APPROVER2', '--reason', 'not now']),
    ]);
    expect([approve.code, reject.code].sort()).toEqual([0, 1]);
    const loser = approve.code === 1 ? approve : reject;
    expect(loser.stderr).toMatch(/^error: already (approved by U_APPROVER1|rejected by U_APPROVER2)\n$/);
    const doc = await runFile(box, runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.trace.filter((e) => e.event === 'approval_granted' || e.event === 'approval_rejected')).toHaveLength(1);
  });

  it('usage errors keep exit 2 and unknown runs exit 1, through the bot as without it', async () => {
    const malformed = await box.run(['cancel', '../x']);
    expect(malformed.code).toBe(2);
    const unknown = await box.run(['cancel', 'r_doesnotexist']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: run r_doesnotexist not found\n');
    const badRole = await box.run(['start', '--role', 'nobody', 'help']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/^error: unknown role "nobody"/);
  });

  it('with the socket gone while the bot lives, a write is refused naming the pid', async () => {
    await rm(bot.socketPath);
    const refused = await box.run(['start', 'help']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: the bot (pid ${bot.pid}) owns ${box.dataDir};`);
    expect(refused.stderr).toContain(`no admin socket at ${bot.socketPath}`);
  });

  it('after SIGKILL the CLI takes the stale lock and applies the write itself; a new bot replaces the stale socket', async () => {
    // Restart so that a socket file is left behind by the kill.
    await bot.kill('SIGTERM');
    bot = await startBot(box);
    await bot.kill('SIGKILL');
    expect((await stat(bot.socketPath)).isSocket()).toBe(true);
    expect(await lockPid(box)).toBe(bot.pid);

    const local = await box.json<{ run: RunJson }>(['start', 'help']);
    expect({ code: local.code, stderr: local.stderr }).toEqual({ code: 0, stderr: '' });
    expect(local.body.run.status).toBe('completed');
    expect(await lockPid(box)).toBeNull(); // the CLI took the lock and released it

    bot = await startBot(box);
    expect((await stat(bot.socketPath)).mode & 0o777).toBe(0o600);
    const viaBot = await box.json<{ run: RunJson }>(['start', 'help']);
    expect(viaBot.code).toBe(0);
    expect(viaBot.body.run.status).toBe('completed');
    expect(await lockPid(box)).toBe(bot.pid);
    expect(bot.stderr()).toContain('removed a stale admin socket');
  });
});
