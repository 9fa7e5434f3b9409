/**
 * Builds valid {@link RunDoc}s for tests.
 *
 * `makeRunDoc()` returns a minimal valid v1 document: status `running`, empty transcript, steps,
 * gates, files, children and posts, zero usage, and a trace holding one `run_created` event whose
 * detail matches the run (the shape `src/orchestrator/event-schemas.ts` expects). It is a *store*
 * fixture: its `run` is not the exact fold of its trace (a fold of one `run_created` would be
 * `queued` with the task in the transcript), so do not use it for replay tests.
 *
 * Overrides:
 * - `run`: shallow-merged into the run state. Setting `runId` also moves `rootRunId` (unless you set
 *   it) and the trace's `runId`s.
 * - `trace`: replaces the trace.
 * - `schemaVersion`: replaces the version (the result is then validated against `RunDoc`, so only
 *   the current version passes; build invalid documents by editing the returned object).
 *
 * The result is checked with `RunDoc.parse`, so a bad override fails where it is written.
 */
import { RUN_SCHEMA_VERSION, RunDoc, type RunState, type TraceEvent } from '../../src/store/run-schema.ts';

/** The fixed time every default timestamp uses (matches FakeClock's default start). */
export const RUN_DOC_TIME = Date.UTC(2026, 10, 21, 12, 0, 0);

/** Overrides for {@link makeRunDoc}. */
export interface RunDocOverrides {
  run?: Partial<RunState>;
  trace?: TraceEvent[];
  schemaVersion?: number;
}

/** A valid minimal run document; see the module comment for the defaults and overrides. */
export function makeRunDoc(overrides: RunDocOverrides = {}): RunDoc {
  const runId = overrides.run?.runId ?? 'r_test0001';
  const at = overrides.run?.createdAt ?? RUN_DOC_TIME;
  const run: RunState = {
    runId,
    parentRunId: null,
    rootRunId: runId,
    depth: 0,
    role: 'writer',
    lineage: ['writer'],
    task: 'write a short report',
    requestedBy: { userId: 'U_REQUESTER', source: 'cli' },
    origin: { kind: 'cli' },
    status: 'running',
    createdAt: at,
    updatedAt: at,
    policyVersion: 'policy-test',
    model: 'scripted',
    budgets: { maxTurns: 20, maxToolCalls: 40, maxWallMs: 600_000, maxTokens: 1_000_000 },
    usage: { turns: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, activeMs: 0 },
    consecutiveInvalid: 0,
    transcript: [],
    steps: [],
    gates: [],
    result: null,
    error: null,
    attention: null,
    files: [],
    children: [],
    posts: [],
    ...overrides.run,
  };
  const created: TraceEvent = {
    seq: 0,
    ts: run.createdAt,
    runId: run.runId,
    event: 'run_created',
    detail: {
      runId: run.runId,
      parentRunId: run.parentRunId,
      rootRunId: run.rootRunId,
      depth: run.depth,
      role: run.role,
      lineage: run.lineage,
      task: run.task,
      requestedBy: run.requestedBy,
      origin: run.origin,
      policyVersion: run.policyVersion,
      model: run.model,
      budgets: run.budgets,
    },
  };
  return RunDoc.parse({
    schemaVersion: overrides.schemaVersion ?? RUN_SCHEMA_VERSION,
    run,
    trace: overrides.trace ?? [created],
  });
}
