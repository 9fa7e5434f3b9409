/**
 * Child-process entry of the crash tests (RELIABILITY.md P1, P2, P20). Run it with
 * `node --import tsx child.ts <action> [args…]`, or with `--await-go` to have it load every module
 * first and then wait for one JSON line on stdin, `{"argv": [...], "env": {...}, "cwd": "..."}`,
 * that says what to do (the tests pre-spawn children this way so module loading overlaps work).
 *
 * Environment (argv mode: from the process; `--await-go`: from the instruction only):
 * - HARNESS_CONFIG: the tmp config.yaml (required);
 * - LEDGER_FILE / PEEK_LEDGER_FILE: where `ledger_append` / `ledger_peek` append their keys;
 * - BOT_CRASH_AT: `name` or `name@N`, read by `loadConfig`: the process SIGKILLs itself there.
 *
 * Actions (users are Slack-style ids; the requester of every run is U_REQUESTER):
 *   start <task> [runId]          create a run and drive it until it pauses or ends
 *   approve <runId> <userId>      approve the pending gate and drive on
 *   approve-all <runId>           approve gates as they come until the run stops waiting
 *   reject <runId> <userId> [why] reject the pending gate and drive on
 *   recover                       harness.recover(), then wait until no run is queued or running
 *   retry <runId> <userId>        resolve needs_attention with "retry" and drive on
 *   skip <runId> <userId>         resolve needs_attention with "skip" and drive on
 *   run-all <task> <runId> [max]  start, then approve gates as they come (at most `max`), one process
 *   soak <K>                      prints {"ready":true}; settles what earlier runs left (approves
 *                                 pending gates, resolves needs_attention by the ledger rule), then
 *                                 runs K `crash` scenarios back to back, approving every gate
 *   recover-soak <K>              (`--await-go` only) `recover`, prints {"event":"recovered",…},
 *                                 then waits for a second stdin line: `soak` continues as `soak K`
 *                                 (the kill loop SIGKILLs it there), anything else closes and exits
 * Output: one JSON line `{"ok":true,"action":…,"runs":[{runId,status,…}]}` and exit 0; on error
 * `{"ok":false,"error":{code,message}}` and exit 1. `soak` also prints one line per finished run.
 * The runtime is closed (drives stopped, lock released) before the process exits.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRuntime, type Runtime } from '../../../src/app/create-runtime.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import type { Actor } from '../../../src/orchestrator/harness.ts';
import { asBotError } from '../../../src/shared/errors.ts';
import type { RunDoc, RunStatus } from '../../../src/store/run-schema.ts';
import { createLedgerTool } from '../../../src/tools/testing/ledger-tool.ts';

const REQUESTER = 'U_REQUESTER';
const APPROVERS = ['U_APPROVER1', 'U_APPROVER2'] as const;
const IDLE_TIMEOUT_MS = 15_000;

interface Instruction {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Lines of stdin, one at a time; null once stdin has ended. */
class StdinLines {
  private readonly rl = createInterface({ input: process.stdin });
  private readonly queued: string[] = [];
  private readonly waiting: ((line: string | null) => void)[] = [];
  private ended = false;

  constructor() {
    this.rl.on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.queued.push(line);
    });
    this.rl.once('close', () => {
      this.ended = true;
      for (const waiter of this.waiting.splice(0)) waiter(null);
    });
  }

  next(): Promise<string | null> {
    const line = this.queued.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops reading, so stdin no longer keeps the process alive. */
  close(): void {
    this.rl.close();
    process.stdin.destroy();
  }
}

async function instruction(): Promise<{ go: Instruction; lines: StdinLines | null } | null> {
  const args = process.argv.slice(2);
  if (args[0] !== '--await-go') return { go: { argv: args, env: process.env }, lines: null };
  const lines = new StdinLines();
  const line = await lines.next();
  if (line === null) {
    lines.close();
    return null;
  }
  const go = JSON.parse(line) as Instruction;
  if (go.cwd !== undefined) process.chdir(go.cwd);
  if (go.argv[0] !== 'recover-soak') lines.close();
  return { go, lines };
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new Error(`missing ${what}`);
  return value;
}

function summary(doc: RunDoc): Record<string, unknown> {
  const run = doc.run;
  return {
    runId: run.runId,
    status: run.status,
    result: run.result,
    attention: run.attention,
    gates: run.gates.map((g) => ({ gateId: g.gateId, stepId: g.stepId, status: g.status })),
  };
}

/** The ledger file's keys (the operator's evidence for retry versus skip). */
function ledgerHas(file: string, key: string): boolean {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  return text.split('\n').some((line) => line.trim().length > 0 && (JSON.parse(line) as { key: string }).key === key);
}

function approverFor(doc: RunDoc): string {
  const pending = doc.run.gates.findIndex((g) => g.status === 'pending');
  return APPROVERS[Math.max(0, pending) % APPROVERS.length] ?? APPROVERS[0];
}

/** Approves gates as they come until the run is no longer waiting for approval. */
async function approveUntilDone(rt: Runtime, doc: RunDoc, max = Number.POSITIVE_INFINITY): Promise<RunDoc> {
  let current = doc;
  for (let approved = 0; current.run.status === 'waiting_approval' && approved < max; approved += 1) {
    const actor: Actor = { userId: approverFor(current), source: 'cli' };
    current = (await rt.harness.approve({ runId: current.run.runId, actor })).doc;
  }
  return current;
}

/** Waits until the store lists no queued or running run (every recovered drive has settled). */
async function waitIdle(rt: Runtime): Promise<void> {
  const deadline = Date.now() + IDLE_TIMEOUT_MS;
  for (;;) {
    const busy = await rt.store.list({ status: ['queued', 'running'] as RunStatus[] });
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`runs still busy after ${IDLE_TIMEOUT_MS} ms: ${busy.map((e) => e.runId).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The operator's rule for a run in needs_attention on the non-idempotent ledger step: the ledger is
 * the ground truth of whether the side effect happened, so skip when it holds the key, retry when
 * it does not. Either way the key ends up in the ledger exactly once.
 */
async function resolveByLedger(rt: Runtime, doc: RunDoc, ledgerFile: string): Promise<{ doc: RunDoc; action: 'retry' | 'skip' }> {
  const attention = doc.run.attention;
  if (attention === null) throw new Error(`run ${doc.run.runId} has no attention record`);
  const action = ledgerHas(ledgerFile, `${doc.run.runId}:${attention.stepId}`) ? 'skip' : 'retry';
  const next = await rt.harness.resolveAttention(doc.run.runId, action, { userId: APPROVERS[0], source: 'admin' });
  return { doc: next, action };
}

async function recover(rt: Runtime): Promise<Record<string, unknown>[]> {
  const ids = await rt.harness.recover();
  await waitIdle(rt);
  const runs: Record<string, unknown>[] = [];
  for (const runId of ids) runs.push(summary(await rt.harness.getRun(runId)));
  return runs;
}

async function soak(rt: Runtime, count: number, ledgerFile: string): Promise<Record<string, unknown>[]> {
  const finished: Record<string, unknown>[] = [];
  // What a previous (killed) process left: humans click, operators resolve.
  for (;;) {
    const waiting = await rt.store.list({ status: ['waiting_approval', 'needs_attention'] as RunStatus[] });
    if (waiting.length === 0) break;
    for (const entry of waiting) {
      let doc = await rt.harness.getRun(entry.runId);
      if (doc.run.status === 'needs_attention') {
        const resolved = await resolveByLedger(rt, doc, ledgerFile);
        print({ event: 'resolved', runId: doc.run.runId, action: resolved.action });
        doc = resolved.doc;
      }
      doc = await approveUntilDone(rt, doc);
      print({ event: 'settled', runId: doc.run.runId, status: doc.run.status });
    }
  }
  for (let i = 0; i < count; i += 1) {
    const started = await rt.harness.startRun({ task: `crash soak ${i}`, requestedBy: { userId: REQUESTER, source: 'cli' } });
    const doc = await approveUntilDone(rt, started);
    print({ event: 'finished', runId: doc.run.runId, status: doc.run.status });
    finished.push(summary(doc));
  }
  return finished;
}

async function perform(rt: Runtime, argv: readonly string[], ledgerFile: string, lines: StdinLines | null): Promise<Record<string, unknown>[]> {
  const [action, a1, a2, a3] = argv;
  const { harness } = rt;
  const actor = (userId: string | undefined): Actor => ({ userId: required(userId, 'userId'), source: 'cli' });
  switch (action) {
    case 'start': {
      const doc = await harness.startRun({
        task: required(a1, 'task'),
        requestedBy: { userId: REQUESTER, source: 'cli' },
        ...(a2 === undefined ? {} : { runId: a2 }),
      });
      return [summary(doc)];
    }
    case 'approve':
      return [summary((await harness.approve({ runId: required(a1, 'runId'), actor: actor(a2) })).doc)];
    case 'reject':
      return [summary((await harness.reject({ runId: required(a1, 'runId'), actor: actor(a2), reason: a3 ?? 'rejected by the crash test' })).doc)];
    case 'retry':
      return [summary(await harness.resolveAttention(required(a1, 'runId'), 'retry', actor(a2)))];
    case 'skip':
      return [summary(await harness.resolveAttention(required(a1, 'runId'), 'skip', actor(a2)))];
    case 'approve-all':
      return [summary(await approveUntilDone(rt, await harness.getRun(required(a1, 'runId'))))];
    case 'recover':
      return recover(rt);
    case 'recover-soak': {
      if (lines === null) throw new Error('recover-soak needs --await-go');
      const runs = await recover(rt);
      print({ event: 'recovered', pid: process.pid, runs });
      const next = await lines.next();
      lines.close();
      if (next !== 'soak') return runs;
      print({ ready: true, pid: process.pid });
      return soak(rt, Number(required(a1, 'K')), ledgerFile);
    }
    case 'run-all': {
      const started = await harness.startRun({
        task: required(a1, 'task'),
        requestedBy: { userId: REQUESTER, source: 'cli' },
        runId: required(a2, 'runId'),
      });
      return [summary(await approveUntilDone(rt, started, a3 === undefined ? Number.POSITIVE_INFINITY : Number(a3)))];
    }
    case 'soak': {
      print({ ready: true, pid: process.pid });
      return soak(rt, Number(required(a1, 'K')), ledgerFile);
    }
    default:
      throw new Error(`unknown action ${String(action)}`);
  }
}

async function main(): Promise<void> {
  const received = await instruction();
  if (received === null) return;
  const { go, lines } = received;
  const ledgerFile = required(go.env['LEDGER_FILE'], 'LEDGER_FILE');
  const peekFile = required(go.env['PEEK_LEDGER_FILE'], 'PEEK_LEDGER_FILE');
  const config = loadConfig({
    env: {
      HARNESS_CONFIG: required(go.env['HARNESS_CONFIG'], 'HARNESS_CONFIG'),
      ...(go.env['BOT_CRASH_AT'] === undefined ? {} : { BOT_CRASH_AT: go.env['BOT_CRASH_AT'] }),
    },
    cwd: process.cwd(),
  });
  const ledger = createLedgerTool({ file: ledgerFile, name: 'ledger_append', category: 'external_message', risk: 'external', idempotent: false });
  const peek = createLedgerTool({ file: peekFile, name: 'ledger_peek', category: 'read_only', risk: 'read', idempotent: true });
  const rt = await createRuntime(config, { lock: true, extraTools: [ledger.definition, peek.definition] });
  let runs: Record<string, unknown>[];
  try {
    runs = await perform(rt, go.argv, ledgerFile, lines);
  } finally {
    await rt.close();
  }
  print({ ok: true, action: go.argv[0], runs });
}

main().catch((error: unknown) => {
  const botError = asBotError(error);
  print({ ok: false, error: { code: botError.code, message: botError.message } });
  process.exitCode = 1;
});
