/**
 * The adapter from an agent-tool MCP client to ToolDefinitions and the per-run registry view: classification for policy, validation against the listed schema, isError →
 * ToolError, abort propagation, and the merge rules the runner will follow.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RunToolView } from '../../../src/mcp/agent-tools/run-tool-provider.ts';
import { AGENT_TOOL_SOURCE, agentToolDefinitions, awaitToolTimeoutMs } from '../../../src/mcp/agent-tools/tool-adapter.ts';
import { ToolError } from '../../../src/shared/errors.ts';
import { ToolRegistry } from '../../../src/tools/registry.ts';
import type { ToolContext, ToolDefinition } from '../../../src/tools/types.ts';
import { REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, hangTool, makeTree, untilEntered, untilSleeping } from '../agents/tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

let fx: TreeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const ctx = (runId: string, signal = new AbortController().signal): ToolContext => ({
  runId,
  stepId: '0.0',
  idempotencyKey: `${runId}:0.0`,
  role: 'pm',
  signal,
});

async function pmTools(): Promise<{ runId: string; tools: ToolDefinition[] }> {
  fx = makeTree({ scripts: { researcher: [{ content: 'the answer' }] } });
  const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
  const session = await fx.provider.session(pm.run);
  return { runId: pm.run.runId, tools: await agentToolDefinitions(session!.client, { maxAwaitSeconds: 120 }) };
}

describe('agentToolDefinitions', () => {
  it('classifies the tools for policy: read_only vs agent_lifecycle, risk read, idempotency, await timeout', async () => {
    const { tools } = await pmTools();
    const summary = Object.fromEntries(tools.map((t) => [t.name, [t.category, t.risk, t.idempotent, t.source]]));
    expect(summary).toEqual({
      list_agents: ['read_only', 'read', true, AGENT_TOOL_SOURCE],
      list_tasks: ['read_only', 'read', true, AGENT_TOOL_SOURCE],
      get_task_context: ['read_only', 'read', true, AGENT_TOOL_SOURCE],
      draft_agent: ['agent_lifecycle', 'read', false, AGENT_TOOL_SOURCE],
      await_agent: ['agent_lifecycle', 'read', true, AGENT_TOOL_SOURCE],
      kill_agent: ['agent_lifecycle', 'read', false, AGENT_TOOL_SOURCE],
    });
    expect(tools.find((t) => t.name === 'await_agent')?.timeoutMs).toBe(awaitToolTimeoutMs(120));
    expect(awaitToolTimeoutMs(120)).toBeGreaterThan(120_000);
  });

  it('registers in a ToolRegistry (strict schemas) and validates like any tool, defaults applied', async () => {
    const { tools } = await pmTools();
    const registry = new ToolRegistry();
    for (const tool of tools) registry.register(tool);
    expect(registry.validateArgs('await_agent', '{"agent_id":"r_1"}', 10_000)).toEqual({ ok: true, args: { agent_id: 'r_1', timeout_seconds: 60 } });
    expect(registry.validateArgs('draft_agent', '{"role":"writer","task":"x","sudo":true}', 10_000)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unexpected key "sudo"/),
    });
    expect(registry.validateArgs('await_agent', '{"agent_id":"r_1","timeout_seconds":99999}', 10_000).ok).toBe(false);
    expect(registry.specsFor(['list_agents'])[0]).toMatchObject({ name: 'list_agents', parameters: { type: 'object', additionalProperties: false } });
  });

  it('calls the server and returns its JSON; an isError answer becomes a model-visible ToolError', async () => {
    const { runId, tools } = await pmTools();
    const draft = tools.find((t) => t.name === 'draft_agent')!;
    const ok = await draft.handler({ role: 'researcher', task: 'answer' }, ctx(runId));
    expect(ok.data).toMatchObject({ role: 'researcher', status: 'running' });
    expect(JSON.parse(ok.content)).toEqual(ok.data);

    const failing = draft.handler({ role: 'poet', task: 'x' }, ctx(runId));
    await expect(failing).rejects.toThrow(ToolError);
    await expect(draft.handler({ role: 'poet', task: 'x' }, ctx(runId))).rejects.toThrow(/^usage: unknown role "poet"/);
    await expect(draft.handler({ role: 'poet', task: 'x' }, ctx(runId))).rejects.toMatchObject({ retryable: false });
  });

  it('passes the run\'s abort signal to the MCP request: cancelling stops a pending await', async () => {
    const hang = hangTool();
    fx = makeTree({ scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition] });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const tools = await agentToolDefinitions((await fx.provider.session(pm.run))!.client);
    const draft = tools.find((t) => t.name === 'draft_agent')!;
    const awaitTool = tools.find((t) => t.name === 'await_agent')!;
    const child = (await draft.handler({ role: 'researcher', task: 'r' }, ctx(pm.run.runId))).data as { agent_id: string };
    await untilEntered(hang, child.agent_id);

    const idle = fx.clock.pendingSleeps;
    const controller = new AbortController();
    const waiting = awaitTool.handler({ agent_id: child.agent_id, timeout_seconds: 600 }, ctx(pm.run.runId, controller.signal));
    await untilSleeping(fx.clock, idle + 1); // the server-side wait is parked on the clock
    controller.abort(new Error('run cancelled'));
    await expect(waiting).rejects.toThrow(/cancel/i);
    // The MCP cancellation reached the server: its wait was dropped, not left behind.
    for (let i = 0; i < 100 && fx.clock.pendingSleeps > idle; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(fx.clock.pendingSleeps).toBe(idle);
    expect((await fx.harness.getRun(child.agent_id)).run.status).toBe('running');
  });
});

describe('RunToolView (how the runner merges per-run tools)', () => {
  const tool = (name: string): ToolDefinition => ({
    name,
    description: name,
    inputSchema: z.strictObject({ n: z.int().default(1) }),
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'test',
    handler: async () => ({ content: name }),
  });

  it('offers the role\'s global tools plus all of the run\'s, looks up and validates both, and widens roleTools', () => {
    const base = new ToolRegistry();
    base.register(tool('workspace_read'));
    base.register(tool('workspace_write'));
    const view = new RunToolView(base, [tool('list_agents'), tool('draft_agent')]);

    expect(view.specsFor(['workspace_read']).map((s) => s.name)).toEqual(['workspace_read', 'list_agents', 'draft_agent']);
    expect(view.specsFor('*').map((s) => s.name)).toEqual(['workspace_read', 'workspace_write', 'list_agents', 'draft_agent']);
    expect(view.get('draft_agent')?.name).toBe('draft_agent');
    expect(view.get('workspace_write')?.name).toBe('workspace_write');
    expect(view.get('kill_agent')).toBeUndefined();
    expect(view.has('list_agents')).toBe(true);
    expect(view.validateArgs('draft_agent', '{}', 1000)).toEqual({ ok: true, args: { n: 1 } });
    expect(view.validateArgs('kill_agent', '{}', 1000)).toMatchObject({ ok: false, error: expect.stringMatching(/unknown tool/) });
    expect(view.roleTools(['workspace_read'])).toEqual(['workspace_read', 'list_agents', 'draft_agent']);
    expect(view.roleTools('*')).toBe('*');
  });

  it('refuses a run tool that shadows a global tool', () => {
    const base = new ToolRegistry();
    base.register(tool('list_agents'));
    expect(() => new RunToolView(base, [tool('list_agents')])).toThrow(/has the name of a registered tool/);
  });
});

describe('the runner\'s per-run view over the provider', () => {
  it('each run sees its OWN server\'s tools; a read-only run has no lifecycle tools at all', async () => {
    fx = makeTree({ scripts: { researcher: [{ content: 'the answer' }] } });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const writer = await fx.harness.createRun({ task: 'write', role: 'writer', requestedBy });
    const pmView = await fx.harness.toolsOf(pm.run.runId);
    const writerView = await fx.harness.toolsOf(writer.run.runId);
    expect(pmView.ownNames()).toEqual(['list_agents', 'list_tasks', 'get_task_context', 'draft_agent', 'await_agent', 'kill_agent']);
    expect(writerView.ownNames()).toEqual(['list_agents', 'list_tasks', 'get_task_context']);
    expect(writerView.get('draft_agent')).toBeUndefined();
    expect(pmView.isWaitingTool('await_agent')).toBe(true);
    expect(pmView.isWaitingTool('list_agents')).toBe(false);

    const listTasks = (view: typeof pmView) => view.get('list_tasks')!;
    expect((await listTasks(pmView).handler({}, ctx(pm.run.runId))).data).toMatchObject({ root_id: pm.run.runId });
    // The writer's server answers as the writer, whatever run id a caller puts in the context.
    expect((await listTasks(writerView).handler({}, ctx(pm.run.runId))).data).toMatchObject({ root_id: writer.run.runId });
  });
});
