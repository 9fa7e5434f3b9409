/**
 * P1 (crash-resume), P2 (atomic store files) and P20 (state = fold of the trace), with real child
 * processes and real SIGKILLs at every named crash point (src/orchestrator/deps.ts).
 *
 * A reference run without crashes goes start → approve → approve → completed (three children).
 * Then, for each crash point (and each later occurrence, `name@N`), a tmp world drives the same
 * scenario through child processes; the child whose action reaches the point has BOT_CRASH_AT set
 * and must die by SIGKILL. A `recover` child (no crash) then resumes the run, and an `approve-all`
 * child approves the remaining gates. Every run must end exactly like the reference. Worlds for a
 * crash in the first or second approval start as copies of the reference world taken after its
 * `start` / first `approve` child exited (quiescent, lock released), which saves a child per step
 * (tsx child start-up costs about a second of CPU).
 *
 * The needs_attention rule for the NON-idempotent `ledger_append`: a crash after its `tool_start`
 * was written and before `tool_ok` leaves the step "started but not finished". Recovery must not
 * guess: the run goes to `needs_attention` (fail closed) and an operator decides with the ledger as
 * evidence — `skip` when the ledger already holds the step's key (the effect happened: crash point
 * after-tool-exec-before-checkpoint), `retry` when it does not (before-tool-exec). The test asserts
 * it is exactly that situation before resolving, so the key ends up in the ledger exactly once.
 * The idempotent `workspace_write` (and `ledger_peek`) re-run with the same key instead.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrashPointName } from '../../../src/orchestrator/deps.ts';
import { CRASH_POINT_NAMES } from '../../../src/orchestrator/deps.ts';
import type { Gate, RunDoc, RunStatus } from '../../../src/store/run-schema.ts';
import { ChildPool, type ChildResult, describeChild } from './child-process.ts';
import {
  APPROVERS,
  type CrashFixture,
  DONE_TEXT,
  LEDGER_STEP,
  PEEK_TEXT,
  REPORT_PATH,
  WRITE_STEP,
  countKeys,
  ledgerKeys,
  lockPid,
  copyFixture,
  makeCrashFixture,
  readAudit,
  readRun,
  readStore,
  storeTmpFiles,
} from './fixture.ts';

const RUN_ID = 'crashrun';
const PEEK_RUN_ID = 'peekrun';
const TASK = 'crash resume scenario';
const PEEK_TASK = 'peek at the ledger';
const LEDGER_KEY = `${RUN_ID}:${LEDGER_STEP}`;
const PEEK_KEY = `${PEEK_RUN_ID}:0.0`;

/** Which child the crash is in: start, first approve, second approve, or one process doing all. */
type Phase = 'start' | 'approve1' | 'approve2' | 'run-all';

/** One crash experiment. */
interface CrashCase {
  phase: Phase;
  /** BOT_CRASH_AT value. */
  spec: `${CrashPointName}` | `${CrashPointName}@${number}`;
  /** Status of the run in its file right after the kill. */
  crashed: RunStatus;
  /** The step the crash interrupted, with its persisted status, when that matters. */
  crashedStep?: { stepId: string; status: string };
  /** Whether the ledger holds the key right after the kill. */
  ledgerAtCrash: boolean;
  /** For the non-idempotent ledger step interrupted mid-execution: the operator's resolution. */
  attention: 'retry' | 'skip' | null;
  /** What it proves. */
  proves: string;
}

const STEPWISE: CrashCase[] = [
  { phase: 'start', spec: 'after-run-created', crashed: 'queued', ledgerAtCrash: false, attention: null, proves: 'a queued run is picked up by recovery' },
  { phase: 'start', spec: 'after-model-response', crashed: 'running', ledgerAtCrash: false, attention: null, proves: 'an unpersisted model answer is asked again, never half-applied' },
  { phase: 'start', spec: 'after-model-persisted', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'proposed' }, ledgerAtCrash: false, attention: null, proves: 'a persisted proposal is judged by policy after restart' },
  { phase: 'start', spec: 'after-gate-persisted', crashed: 'waiting_approval', crashedStep: { stepId: LEDGER_STEP, status: 'awaiting_approval' }, ledgerAtCrash: false, attention: null, proves: 'a persisted gate survives and can still be approved' },
  { phase: 'approve1', spec: 'after-approval-recorded', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'approved' }, ledgerAtCrash: false, attention: null, proves: 'a recorded approval is not lost and not asked again' },
  { phase: 'approve1', spec: 'before-tool-exec', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'started' }, ledgerAtCrash: false, attention: 'retry', proves: 'a started, non-idempotent step fails closed; no effect happened, so retry' },
  { phase: 'approve1', spec: 'after-tool-exec-before-checkpoint', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'started' }, ledgerAtCrash: true, attention: 'skip', proves: 'a started, non-idempotent step fails closed; the effect happened, so skip' },
  { phase: 'approve1', spec: 'after-tool-checkpoint', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: 'a completed step never runs again' },
  { phase: 'approve1', spec: 'after-model-response', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: 'the second model turn is asked again, the first step is not re-run' },
  { phase: 'approve1', spec: 'after-model-persisted', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'proposed' }, ledgerAtCrash: true, attention: null, proves: 'the second proposal is judged after restart' },
  { phase: 'approve1', spec: 'after-gate-persisted', crashed: 'waiting_approval', crashedStep: { stepId: WRITE_STEP, status: 'awaiting_approval' }, ledgerAtCrash: true, attention: null, proves: 'the second gate survives' },
  { phase: 'approve2', spec: 'after-approval-recorded', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'approved' }, ledgerAtCrash: true, attention: null, proves: 'the second approval is not lost' },
  { phase: 'approve2', spec: 'before-tool-exec', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'started' }, ledgerAtCrash: true, attention: null, proves: 'an idempotent started step re-runs with the same key' },
  { phase: 'approve2', spec: 'after-tool-exec-before-checkpoint', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'started' }, ledgerAtCrash: true, attention: null, proves: 'an idempotent step that already wrote re-runs harmlessly (same file)' },
  { phase: 'approve2', spec: 'after-tool-checkpoint', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: 'the last step is not re-run; the final answer is asked' },
  { phase: 'approve2', spec: 'after-model-response', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: 'the final answer is asked again' },
  { phase: 'approve2', spec: 'after-model-persisted', crashed: 'completed', ledgerAtCrash: true, attention: null, proves: 'the answer and the completion are one write' },
];

/** Later occurrences of repeating points, reached by one process that starts and approves everything. */
const REPEATED: CrashCase[] = [
  { phase: 'run-all', spec: 'after-model-response@2', crashed: 'running', crashedStep: { stepId: LEDGER_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: '@2: second model answer' },
  { phase: 'run-all', spec: 'after-model-response@3', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: '@3: final model answer' },
  { phase: 'run-all', spec: 'after-model-persisted@2', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'proposed' }, ledgerAtCrash: true, attention: null, proves: '@2: second proposal' },
  { phase: 'run-all', spec: 'after-model-persisted@3', crashed: 'completed', ledgerAtCrash: true, attention: null, proves: '@3: completion' },
  { phase: 'run-all', spec: 'after-gate-persisted@2', crashed: 'waiting_approval', crashedStep: { stepId: WRITE_STEP, status: 'awaiting_approval' }, ledgerAtCrash: true, attention: null, proves: '@2: second gate' },
  { phase: 'run-all', spec: 'after-approval-recorded@2', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'approved' }, ledgerAtCrash: true, attention: null, proves: '@2: second approval' },
  { phase: 'run-all', spec: 'before-tool-exec@2', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'started' }, ledgerAtCrash: true, attention: null, proves: '@2: idempotent write, before it ran' },
  { phase: 'run-all', spec: 'after-tool-exec-before-checkpoint@2', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'started' }, ledgerAtCrash: true, attention: null, proves: '@2: idempotent write, after it ran' },
  { phase: 'run-all', spec: 'after-tool-checkpoint@2', crashed: 'running', crashedStep: { stepId: WRITE_STEP, status: 'succeeded' }, ledgerAtCrash: true, attention: null, proves: '@2: after the write checkpoint' },
];

/** The idempotent, gate-free tool: crash around it, recovery re-runs it with the same key. */
const PEEK: { spec: CrashCase['spec']; peekCount: number; attempts: number }[] = [
  { spec: 'before-tool-exec', peekCount: 1, attempts: 2 },
  { spec: 'after-tool-exec-before-checkpoint', peekCount: 2, attempts: 2 },
  { spec: 'after-tool-checkpoint', peekCount: 1, attempts: 1 },
];

interface Reference {
  status: RunStatus;
  result: string | null;
  files: RunDoc['run']['files'];
  report: string;
  ledger: string[];
  modelCalls: number;
  gates: { stepId: string; tool: string; status: string }[];
  steps: { stepId: string; tool: string; status: string }[];
}

const modelCalls = (doc: RunDoc): number => doc.trace.filter((e) => e.event === 'model_called').length;

describe('crash-resume at every named crash point (P1, P2, P20)', () => {
  let pool: ChildPool;
  let reference: Reference;
  let peekReference: RunDoc;
  /** Copies of the reference world after `start` and after the first `approve`. */
  let afterStart: CrashFixture;
  let afterApprove1: CrashFixture;

  function run(fx: CrashFixture, argv: string[], crashAt?: string): Promise<ChildResult> {
    return pool.run({ argv, env: fx.env(crashAt), cwd: fx.dir });
  }

  /** After a clean child: files validate and replay (P2, P20), no temp file, the lock released. */
  async function expectCleanStore(fx: CrashFixture, context: string): Promise<void> {
    const store = await readStore(fx.runsDir);
    expect(store.problems, context).toEqual([]);
    expect(await storeTmpFiles(fx), `${context}: stray *.tmp after a clean exit`).toEqual([]);
    expect(await lockPid(fx.dataDir), `${context}: lock not released`).toBeNull();
  }

  /** Runs a child that must succeed and returns its run summary. */
  async function runOk(fx: CrashFixture, argv: string[]): Promise<ChildResult> {
    const result = await run(fx, argv);
    expect(result.code, describeChild(result)).toBe(0);
    expect(result.final?.ok, describeChild(result)).toBe(true);
    expect(result.stderr, describeChild(result)).toBe('');
    await expectCleanStore(fx, argv.join(' '));
    return result;
  }

  /** Approves the remaining gates (one child) until the run stops waiting. */
  async function finish(fx: CrashFixture, runId: string): Promise<RunDoc> {
    const doc = await readRun(fx.runsDir, runId);
    if (doc.run.status !== 'waiting_approval') return doc;
    await runOk(fx, ['approve-all', runId]);
    return readRun(fx.runsDir, runId);
  }

  beforeAll(async () => {
    pool = new ChildPool(2);
    const fx = await makeCrashFixture('crash-ref-');
    try {
      const started = await runOk(fx, ['start', TASK, RUN_ID]);
      expect(started.final?.runs?.[0]?.status).toBe('waiting_approval');
      afterStart = await copyFixture(fx, 'crash-tpl-');
      const approved = await runOk(fx, ['approve', RUN_ID, APPROVERS[0]]);
      expect(approved.final?.runs?.[0]?.status).toBe('waiting_approval');
      afterApprove1 = await copyFixture(fx, 'crash-tpl-');
      await runOk(fx, ['approve', RUN_ID, APPROVERS[1]]);
      const doc = await readRun(fx.runsDir, RUN_ID);
      reference = {
        status: doc.run.status,
        result: doc.run.result,
        files: doc.run.files,
        report: await readFile(join(fx.workspaceRoot, REPORT_PATH), 'utf8'),
        ledger: await ledgerKeys(fx.ledgerFile),
        modelCalls: modelCalls(doc),
        gates: doc.run.gates.map((g) => ({ stepId: g.stepId, tool: g.tool, status: g.status })),
        steps: doc.run.steps.map((s) => ({ stepId: s.stepId, tool: s.tool, status: s.status })),
      };
      await runOk(fx, ['start', PEEK_TASK, PEEK_RUN_ID]);
      peekReference = await readRun(fx.runsDir, PEEK_RUN_ID);
    } finally {
      await fx.cleanup();
    }
  });

  afterAll(async () => {
    await pool.close();
    await afterStart?.cleanup();
    await afterApprove1?.cleanup();
  });

  it('has a reference run: start → approve → approve → completed, one ledger key, one report', () => {
    expect(reference.status).toBe('completed');
    expect(reference.result).toBe(DONE_TEXT);
    expect(reference.files.map((f) => f.path)).toEqual([REPORT_PATH]);
    expect(reference.report).toContain(TASK);
    expect(reference.ledger).toEqual([LEDGER_KEY]);
    expect(reference.modelCalls).toBe(3);
    expect(reference.gates).toEqual([
      { stepId: LEDGER_STEP, tool: 'ledger_append', status: 'approved' },
      { stepId: WRITE_STEP, tool: 'workspace_write', status: 'approved' },
    ]);
    expect(reference.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(peekReference.run.status).toBe('completed');
    expect(peekReference.run.result).toBe(PEEK_TEXT);
    expect(peekReference.run.gates).toEqual([]);
  });

  it('covers every crash point, and every repeat of the repeating ones', () => {
    const covered = new Set([...STEPWISE, ...REPEATED].map((c) => c.spec.split('@')[0]));
    expect([...covered].sort()).toEqual([...CRASH_POINT_NAMES].sort());
  });

  for (const c of [...STEPWISE, ...REPEATED]) {
    it(`${c.phase} crashing at ${c.spec}: ${c.proves}`, async () => {
      const fx =
        c.phase === 'approve1' ? await copyFixture(afterStart) : c.phase === 'approve2' ? await copyFixture(afterApprove1) : await makeCrashFixture();
      try {
        // 1. The child whose action reaches the crash point (earlier steps are in the copied world).
        const argv = {
          start: ['start', TASK, RUN_ID],
          approve1: ['approve', RUN_ID, APPROVERS[0]],
          approve2: ['approve', RUN_ID, APPROVERS[1]],
          'run-all': ['run-all', TASK, RUN_ID],
        }[c.phase];
        const crashedChild = await run(fx, argv, c.spec);
        expect(crashedChild.signal, describeChild(crashedChild)).toBe('SIGKILL');
        expect(crashedChild.final, 'the crashed child printed a result').toBeUndefined();

        // 2. The files exactly as the crash left them: valid, replayable, the stale lock in place.
        const atCrash = await readStore(fx.runsDir);
        expect(atCrash.problems, 'store right after the kill').toEqual([]);
        expect(await lockPid(fx.dataDir), 'the dead child still "holds" the lock').toBe(crashedChild.pid);
        const crashed = await readRun(fx.runsDir, RUN_ID);
        expect(crashed.run.status, 'status persisted at the crash point').toBe(c.crashed);
        if (c.crashedStep) {
          const step = crashed.run.steps.find((s) => s.stepId === c.crashedStep?.stepId);
          expect(step?.status, `step ${c.crashedStep.stepId} at the crash point`).toBe(c.crashedStep.status);
        }
        expect((await ledgerKeys(fx.ledgerFile)).includes(LEDGER_KEY), 'ledger at the crash point').toBe(c.ledgerAtCrash);
        const gatesAtCrash: Gate[] = crashed.run.gates;

        // 3. Restart: recover takes over the stale lock, removes temp files, resumes the run.
        const recovered = await runOk(fx, ['recover']);
        const resumable = c.crashed === 'queued' || c.crashed === 'running';
        expect(recovered.final?.runs?.map((r) => r.runId), 'runs recovery drove').toEqual(resumable ? [RUN_ID] : []);
        let doc = await readRun(fx.runsDir, RUN_ID);
        expect(doc.trace.slice(0, crashed.trace.length), 'history before the crash is kept as written').toEqual(crashed.trace);
        for (const gate of gatesAtCrash) {
          const after = doc.run.gates.find((g) => g.gateId === gate.gateId);
          expect(after, `gate ${gate.gateId} persisted before the crash is lost`).toBeDefined();
          expect(after?.argsHash).toBe(gate.argsHash);
          expect(after?.nonce).toBe(gate.nonce);
          expect(['pending', 'approved']).toContain(after?.status);
        }

        // 4. The non-idempotent step interrupted mid-execution: fail closed, then the operator's rule.
        if (c.attention === null) {
          expect(doc.run.status, 'no needs_attention without an interrupted non-idempotent step').not.toBe('needs_attention');
        } else {
          expect(doc.run.status).toBe('needs_attention');
          expect(doc.run.attention?.stepId).toBe(LEDGER_STEP);
          const hasKey = (await ledgerKeys(fx.ledgerFile)).includes(LEDGER_KEY);
          // skip exactly when the effect is in the ledger, retry exactly when it is not
          expect(hasKey ? 'skip' : 'retry').toBe(c.attention);
          await runOk(fx, [c.attention, RUN_ID, APPROVERS[0]]);
          doc = await readRun(fx.runsDir, RUN_ID);
          const resolved = doc.trace.filter((e) => e.event === 'attention_resolved');
          expect(resolved.map((e) => e.detail['action'])).toEqual([c.attention]);
        }

        // 5. Finish the scenario and compare with the reference.
        doc = await finish(fx, RUN_ID);
        expect(doc.run.status).toBe(reference.status);
        expect(doc.run.result).toBe(reference.result);
        expect(doc.run.files).toEqual(reference.files);
        expect(await readFile(join(fx.workspaceRoot, REPORT_PATH), 'utf8')).toBe(reference.report);
        const keys = await ledgerKeys(fx.ledgerFile);
        expect(Math.max(0, ...countKeys(keys).values()), 'a non-idempotent key appears at most once').toBeLessThanOrEqual(1);
        expect(keys).toEqual(reference.ledger);
        expect(modelCalls(doc), 'persisted model turns').toBe(reference.modelCalls);
        expect(doc.run.gates.map((g) => ({ stepId: g.stepId, tool: g.tool, status: g.status }))).toEqual(reference.gates);
        for (const gate of gatesAtCrash) expect(doc.run.gates.some((g) => g.gateId === gate.gateId)).toBe(true);
        const expectedSteps = reference.steps.map((s) =>
          c.attention === 'skip' && s.stepId === LEDGER_STEP ? { ...s, status: 'skipped' } : s,
        );
        expect(doc.run.steps.map((s) => ({ stepId: s.stepId, tool: s.tool, status: s.status }))).toEqual(expectedSteps);
        // Every decision reached the audit chain exactly once (the crash point comes after the append).
        const audit = await readAudit(fx.dataDir);
        expect(audit.verify).toMatchObject({ ok: true, tornLines: [] });
        expect(audit.records.filter((r) => r.action === 'approved').map((r) => r.gateId)).toEqual(doc.run.gates.map((g) => g.gateId));
        await expectCleanStore(fx, 'final');
      } finally {
        await fx.cleanup();
      }
    });
  }

  it('approve1 rejecting, crashing at after-approval-recorded: the rejection is kept and the tool never runs', async () => {
    const fx = await copyFixture(afterStart);
    try {
      const gateId = (await readRun(fx.runsDir, RUN_ID)).run.gates[0]?.gateId;
      const crashedChild = await run(fx, ['reject', RUN_ID, APPROVERS[0], 'not this time'], 'after-approval-recorded');
      expect(crashedChild.signal, describeChild(crashedChild)).toBe('SIGKILL');
      const crashed = await readRun(fx.runsDir, RUN_ID);
      expect(crashed.run.status).toBe('running');
      expect(crashed.run.gates.map((g) => [g.gateId, g.status])).toEqual([[gateId, 'rejected']]);

      const recovered = await runOk(fx, ['recover']);
      expect(recovered.final?.runs?.map((r) => [r.runId, r.status])).toEqual([[RUN_ID, 'waiting_approval']]);
      const doc = await finish(fx, RUN_ID);
      expect(doc.run.status).toBe('completed');
      expect(doc.run.gates.map((g) => [g.stepId, g.status])).toEqual([
        [LEDGER_STEP, 'rejected'],
        [WRITE_STEP, 'approved'],
      ]);
      expect(doc.run.steps.map((s) => s.status)).toEqual(['rejected', 'succeeded']);
      expect(doc.trace.filter((e) => e.event === 'approval_rejected')).toHaveLength(1);
      expect(await ledgerKeys(fx.ledgerFile), 'a rejected non-idempotent step never runs').toEqual([]);
      const audit = await readAudit(fx.dataDir);
      expect(audit.verify).toMatchObject({ ok: true, tornLines: [] });
      expect(audit.records.map((r) => [r.action, r.gateId])).toEqual(doc.run.gates.map((g) => [g.status, g.gateId]));
      await expectCleanStore(fx, 'final');
    } finally {
      await fx.cleanup();
    }
  });

  for (const c of PEEK) {
    it(`idempotent allowed tool crashing at ${c.spec}: re-runs with the same key`, async () => {
      const fx = await makeCrashFixture();
      try {
        const crashedChild = await run(fx, ['start', PEEK_TASK, PEEK_RUN_ID], c.spec);
        expect(crashedChild.signal, describeChild(crashedChild)).toBe('SIGKILL');
        expect((await readStore(fx.runsDir)).problems).toEqual([]);
        const crashed = await readRun(fx.runsDir, PEEK_RUN_ID);
        expect(crashed.run.status).toBe('running');

        const recovered = await runOk(fx, ['recover']);
        expect(recovered.final?.runs?.map((r) => [r.runId, r.status])).toEqual([[PEEK_RUN_ID, 'completed']]);
        const doc = await readRun(fx.runsDir, PEEK_RUN_ID);
        expect(doc.run.result).toBe(peekReference.run.result);
        expect(doc.run.steps.map((s) => s.status)).toEqual(['succeeded']);
        expect(doc.run.steps[0]?.attempts).toBe(c.attempts);
        expect(await ledgerKeys(fx.peekFile), 'every execution used the same idempotency key').toEqual(Array(c.peekCount).fill(PEEK_KEY));
        expect(modelCalls(doc)).toBe(modelCalls(peekReference));
      } finally {
        await fx.cleanup();
      }
    });
  }
});
