/**
 * P3 end to end: a tool's side effect starts only after the `tool_start` transition is durable.
 * The durable lowdb store runs over a recording `Fs`, and the ledger tool's handler writes into the
 * same call log, so the log shows the real interleaving: temp write with flush → rename onto the
 * run file → fsync of the runs folder, and only then the handler. At that moment the run file on
 * disk already says `tool_start` for the step; `tool_ok` is committed after the handler returns.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RecordingFs } from '../../../src/store/fs-port.ts';
import { LowdbRunStore, RUNS_DIR } from '../../../src/store/lowdb-run-store.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import type { ToolDefinition } from '../../../src/tools/types.ts';
import { APPROVER, type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

let fixture: Fixture | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  fixture?.cleanup();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('P3: durable ordering before a side effect', () => {
  it('runs the tool handler only after tool_start is renamed into place and the folder fsynced', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'p3-'));
    const log: string[] = [];
    const fs = new RecordingFs(undefined, {
      before: (call) => {
        log.push(call.to === undefined ? `${call.op} ${basename(call.path)}` : `${call.op} ${basename(call.path)} -> ${basename(call.to)}`);
      },
    });
    const store = await LowdbRunStore.open({ dataDir, fs, lock: true });
    let runFileAtHandler: RunDoc | undefined;
    let runId = '';
    const effect: ToolDefinition = {
      name: 'notify_team',
      description: 'Sends a note to the team (the side effect under test).',
      inputSchema: z.strictObject({ note: z.string() }),
      category: 'external_message',
      risk: 'external',
      idempotent: false,
      source: 'builtin',
      handler: async () => {
        log.push('HANDLER');
        runFileAtHandler = JSON.parse(readFileSync(join(dataDir!, RUNS_DIR, `${runId}.json`), 'utf8')) as RunDoc;
        return { content: 'sent' };
      },
    };
    fixture = makeHarness({
      store,
      tools: [effect],
      model: ScriptedModel.fromSteps([{ calls: [{ name: 'notify_team', args: { note: 'report is ready' } }] }, { content: 'Team notified.' }]),
    });
    const { harness } = fixture;
    const paused = await harness.startRun({ task: 'tell the team the report is ready', requestedBy: { userId: REQUESTER, source: 'cli' } });
    runId = paused.run.runId;
    expect(paused.run.status).toBe('waiting_approval');

    log.length = 0;
    const { doc } = await harness.approve({ runId, actor: { userId: APPROVER, source: 'cli' } });
    expect(doc.run.status).toBe('completed');

    const handlerAt = log.indexOf('HANDLER');
    expect(handlerAt).toBeGreaterThan(0);
    const before = log.slice(0, handlerAt);
    const renameAt = before.findLastIndex((line) => line.startsWith('rename ') && line.endsWith(`-> ${runId}.json`));
    expect(renameAt).toBeGreaterThanOrEqual(0);
    const flushAt = before.slice(0, renameAt).findLastIndex((line) => line.startsWith('writeFileFlush '));
    expect(flushAt).toBeGreaterThanOrEqual(0);
    expect(before.slice(renameAt + 1)).toContain(`fsyncDir ${RUNS_DIR}`);
    // Nothing but the durable commit sequence sits between the rename and the handler.
    expect(before.slice(renameAt + 1).every((line) => line.startsWith('fsyncDir ') || line.startsWith('appendFileFlush '))).toBe(true);

    const step = runFileAtHandler!.run.steps.at(-1)!;
    expect(step.tool).toBe('notify_team');
    expect(runFileAtHandler!.trace.filter((e) => e.event === 'tool_start' && e.stepId === step.stepId)).toHaveLength(1);
    expect(runFileAtHandler!.trace.some((e) => e.event === 'tool_ok' && e.stepId === step.stepId)).toBe(false);
    // The result is committed after the handler.
    expect(log.slice(handlerAt).some((line) => line.startsWith('rename ') && line.endsWith(`-> ${runId}.json`))).toBe(true);
    await store.close();
  });
});
