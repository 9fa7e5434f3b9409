/**
 * The monitor's pure detectors: stall, the same error twice, identical tool-call loops; the
 * orchestration exemption (await_agent / list_agents never loop, a pending await is no stall);
 * and that a coordinator is escalated, never stopped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MONITOR_SETTINGS,
  checkRun,
  detectRepeatedError,
  detectStall,
  detectToolLoop,
} from '../../../src/agents/subagents/monitor.ts';
import type { RunDoc, Step, TraceEvent } from '../../../src/store/run-schema.ts';
import { RUN_DOC_TIME, makeRunDoc } from '../../support/run-doc-factory.ts';
import { REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, makeTree } from './tree-fixture.ts';

const settings = DEFAULT_MONITOR_SETTINGS;

function step(index: number, tool: string, args: unknown, status: Step['status'] = 'succeeded', content = 'ok'): Step {
  const argumentsJson = JSON.stringify(args);
  return {
    stepId: `${index}.0`,
    turn: index,
    index: 0,
    toolCallId: `call_${index}`,
    tool,
    argumentsJson,
    args: args as never,
    originalArgs: null,
    argsHash: `hash:${tool}:${argumentsJson}`,
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    status,
    decision: null,
    gateId: null,
    attempts: 1,
    startedAt: RUN_DOC_TIME,
    finishedAt: status === 'started' ? null : RUN_DOC_TIME,
    durationMs: status === 'started' ? null : 1,
    output: status === 'started' ? null : { isError: status !== 'succeeded', content },
  };
}

function docWith(steps: Step[], lastEventAt = RUN_DOC_TIME, status: RunDoc['run']['status'] = 'running'): RunDoc {
  const doc = makeRunDoc({ run: { steps, status } });
  const last: TraceEvent = { seq: 1, ts: lastEventAt, runId: doc.run.runId, event: 'run_started', detail: {} };
  return { ...doc, trace: [...doc.trace, last] };
}

const calls = (n: number, tool: string, args: (i: number) => unknown, from = 0) =>
  Array.from({ length: n }, (_, i) => step(from + i, tool, args(i)));

describe('detectToolLoop', () => {
  it('warns at 3 identical calls and stops at 5 within the window', () => {
    expect(detectToolLoop(docWith(calls(2, 'workspace_search', () => ({ query: 'x' }))), settings)).toBeNull();
    expect(detectToolLoop(docWith(calls(3, 'workspace_search', () => ({ query: 'x' }))), settings)).toMatchObject({
      kind: 'tool_loop',
      severity: 'warn',
      tool: 'workspace_search',
      count: 3,
    });
    expect(detectToolLoop(docWith(calls(5, 'workspace_search', () => ({ query: 'x' }))), settings)).toMatchObject({ severity: 'stop', count: 5 });
  });

  it('does not count calls with different arguments, nor calls older than the window', () => {
    expect(detectToolLoop(docWith(calls(8, 'draft_agent', (i) => ({ role: 'writer', task: `part ${i}` }))), settings)).toBeNull();
    const old = calls(4, 'workspace_search', () => ({ query: 'x' }));
    const recent = calls(10, 'workspace_read', (i) => ({ path: `f${i}.md` }), 4);
    expect(detectToolLoop(docWith([...old, ...recent]), settings)).toBeNull();
  });

  it('never counts await_agent, list_agents, list_tasks or get_task_context', () => {
    const polling = [
      ...calls(6, 'await_agent', () => ({ agent_id: 'r_child', timeout_seconds: 60 })),
      ...calls(6, 'list_agents', () => ({}), 6),
      ...calls(6, 'list_tasks', () => ({}), 12),
      ...calls(6, 'get_task_context', () => ({}), 18),
    ];
    expect(detectToolLoop(docWith(polling), settings)).toBeNull();
    expect(checkRun(docWith(polling), RUN_DOC_TIME, settings, 'conversational')).toEqual({ action: 'none', findings: [] });
  });

  it('sees a loop through interleaved orchestration calls', () => {
    const steps = Array.from({ length: 5 }, (_, i) => [
      step(2 * i, 'workspace_search', { query: 'x' }),
      step(2 * i + 1, 'await_agent', { agent_id: 'r_child' }),
    ]).flat();
    expect(detectToolLoop(docWith(steps), settings)).toMatchObject({ severity: 'stop', count: 5 });
  });
});

describe('detectRepeatedError', () => {
  it('finds the same error twice in a row, and not after a success or a different error', () => {
    const failing = (i: number, content = 'workspace_read failed: ENOENT notes/x.md') => step(i, 'workspace_read', { path: 'notes/x.md' }, 'failed', content);
    expect(detectRepeatedError(docWith([failing(0), failing(1)]))).toMatchObject({ kind: 'repeated_error', severity: 'stop', tool: 'workspace_read' });
    expect(detectRepeatedError(docWith([failing(0), step(1, 'workspace_read', { path: 'a.md' }), failing(2)]))).toBeNull();
    expect(detectRepeatedError(docWith([failing(0), failing(1, 'workspace_read failed: EACCES')]))).toBeNull();
    expect(detectRepeatedError(docWith([failing(0)]))).toBeNull();
  });

  it('counts repeated policy denials, ignores human rejections and orchestration errors in between', () => {
    const denied = (i: number) => step(i, 'http_fetch', { url: 'https://evil.example' }, 'denied', 'policy denied http_fetch: host not allowed');
    const awaitError = step(1, 'await_agent', { agent_id: 'r_x' }, 'failed', 'not a sub-agent');
    expect(detectRepeatedError(docWith([denied(0), awaitError, denied(2)]))).toMatchObject({ tool: 'http_fetch' });
    const rejected = (i: number) => step(i, 'workspace_write', { path: 'reports/a.md' }, 'rejected', 'rejected by U_A: no');
    expect(detectRepeatedError(docWith([rejected(0), rejected(1)]))).toBeNull();
  });
});

describe('detectStall', () => {
  it('flags a running run idle for stallMs, but not a queued or waiting one, nor one inside await_agent', () => {
    const idle = docWith([step(0, 'workspace_read', { path: 'a' })], RUN_DOC_TIME);
    expect(detectStall(idle, RUN_DOC_TIME + settings.stallMs - 1, settings.stallMs)).toBeNull();
    expect(detectStall(idle, RUN_DOC_TIME + settings.stallMs, settings.stallMs)).toMatchObject({ kind: 'stall', severity: 'stop' });
    const later = RUN_DOC_TIME + 10 * settings.stallMs;
    expect(detectStall(docWith([], RUN_DOC_TIME, 'waiting_approval'), later, settings.stallMs)).toBeNull();
    expect(detectStall(docWith([], RUN_DOC_TIME, 'queued'), later, settings.stallMs)).toBeNull();
    const awaiting = docWith([step(0, 'await_agent', { agent_id: 'r_child' }, 'started')], RUN_DOC_TIME);
    expect(detectStall(awaiting, later, settings.stallMs)).toBeNull();
  });
});

describe('checkRun', () => {
  it('stops a worker but escalates a coordinator for the same finding; warns below the stop threshold', () => {
    const looping = docWith(calls(5, 'workspace_search', () => ({ query: 'x' })));
    expect(checkRun(looping, RUN_DOC_TIME, settings, 'worker').action).toBe('stop');
    expect(checkRun(looping, RUN_DOC_TIME, settings, 'reviewer').action).toBe('stop');
    expect(checkRun(looping, RUN_DOC_TIME, settings, 'conversational').action).toBe('escalate');
    const warned = checkRun(docWith(calls(3, 'workspace_search', () => ({ query: 'x' }))), RUN_DOC_TIME, settings, 'worker');
    expect(warned.action).toBe('warn');
    expect(warned.findings[0]?.message).toBe('workspace_search was called 3 times with the same arguments in the last 3 steps');
  });

  it('is pure: the same document and time give the same verdict, and the document is not changed', () => {
    const doc = docWith(calls(5, 'workspace_search', () => ({ query: 'x' })));
    const copy = structuredClone(doc);
    expect(checkRun(doc, RUN_DOC_TIME, settings, 'worker')).toEqual(checkRun(doc, RUN_DOC_TIME, settings, 'worker'));
    expect(doc).toEqual(copy);
  });
});

describe('on real runs', () => {
  let fx: TreeFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('flags a scripted worker that repeats one search, and not a PM that awaits the same agent many times', async () => {
    const searches = Array.from({ length: 5 }, () => ({ calls: [{ name: 'workspace_search', args: { query: 'durable' } }] }));
    const pmPolls = [
      { calls: [{ name: 'draft_agent', args: { role: 'researcher', task: 'look' } }] },
      ...Array.from({ length: 6 }, () => ({ calls: [{ name: 'list_agents', args: {} }] })),
      { content: 'done' },
    ];
    fx = makeTree({ scripts: { researcher: [...searches, { content: 'found it' }], pm: pmPolls } });
    const requestedBy = { userId: REQUESTER, source: 'cli' as const };
    const worker = await fx.harness.startRun({ task: 'search', role: 'researcher', requestedBy });
    const pm = await fx.harness.startRun({ task: 'coordinate', role: 'pm', requestedBy });
    await fx.manager.drain();

    expect(checkRun(worker, worker.run.updatedAt, settings, 'worker')).toMatchObject({
      action: 'stop',
      findings: [{ kind: 'tool_loop', tool: 'workspace_search', count: 5 }],
    });
    expect(pm.run.steps.filter((s) => s.tool === 'list_agents')).toHaveLength(6);
    expect(checkRun(pm, pm.run.updatedAt, settings, 'conversational')).toEqual({ action: 'none', findings: [] });
  });
});
