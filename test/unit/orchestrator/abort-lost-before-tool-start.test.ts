/**
 * Regression: a run aborted between `tool_start` and the tool's handler still ran the tool.
 * `withTimeout` subscribed to the run's abort signal after it had already fired, and a listener
 * added to an aborted signal never runs, so the handler started anyway (found while building
 * sub-agent kill). The tool must not run once the run is aborted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLedgerTool } from '../../../src/tools/testing/ledger-tool.ts';
import { type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

let fixture: Fixture | undefined;
afterEach(() => fixture?.cleanup());

describe('abort lost before tool start', () => {
  it('does not run a tool whose run was aborted after tool_start was recorded', async () => {
    const lookup = createLedgerTool({ name: 'lookup', category: 'read_only', risk: 'read', idempotent: false });
    let runId = '';
    const crash = {
      hit(point: string) {
        // The abort lands exactly in the window between the tool_start write and the handler.
        if (point === 'before-tool-exec') fixture?.harness.runner.abort(runId, new Error('shutting down'));
      },
    };
    fixture = makeHarness({
      model: ScriptedModel.fromSteps([{ calls: [{ name: 'lookup', args: { note: 'x' } }] }, { content: 'done' }]),
      tools: [lookup.definition],
      crash,
    });
    const created = await fixture.harness.createRun({ task: 'look it up', requestedBy: { userId: REQUESTER, source: 'cli' } });
    runId = created.run.runId;

    const doc = await fixture.harness.runner.drive(runId);

    expect(lookup.entries).toEqual([]);
    expect(doc.run.steps[0]?.status).toBe('started');
    expect(doc.run.status).toBe('running');
  });
});
