/**
 * The per-run agent-tool MCP server, exercised only through an SDK Client (listTools / callTool):
 * which tools a role sees, that each run gets its own server, what the tools answer, and that
 * failures are isError results.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentToolSession, createAgentToolServer } from '../../../src/mcp/agent-tools/agent-tool-server.ts';
import { REQUESTER } from '../../support/harness-fixture.ts';
import { type TreeFixture, hangTool, makeTree, untilEntered, untilRun } from '../agents/tree-fixture.ts';

const requestedBy = { userId: REQUESTER, source: 'slack' as const };

let fx: TreeFixture | undefined;
const sessions: AgentToolSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
  await fx?.close();
  fx = undefined;
});

async function session(runId: string, role: string, fullAccess: boolean, contextChars?: number): Promise<AgentToolSession> {
  const s = await createAgentToolServer({
    runId,
    role,
    manager: fx!.manager,
    harness: fx!.harness,
    fullAccess,
    ...(contextChars === undefined ? {} : { contextChars }),
  });
  sessions.push(s);
  return s;
}

type CallResult = { isError?: boolean; content: { type: string; text?: string }[] };

async function call(s: AgentToolSession, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; text: string; json: unknown }> {
  const result = (await s.client.callTool({ name, arguments: args })) as CallResult;
  const text = result.content.map((c) => c.text ?? '').join('');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { isError: result.isError === true, text, json };
}

const names = async (s: AgentToolSession) => (await s.client.listTools()).tools.map((t) => t.name).sort();

describe('which tools a run sees (listed via the MCP client)', () => {
  it('read-only roles list exactly the three read-only tools; full roles list six', async () => {
    fx = makeTree({ scripts: {} });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const researcher = await fx.harness.createRun({ task: 'research', role: 'researcher', requestedBy });

    expect(await names(await session(researcher.run.runId, 'researcher', false))).toEqual(['get_task_context', 'list_agents', 'list_tasks']);
    expect(await names(await session(pm.run.runId, 'pm', true))).toEqual([
      'await_agent',
      'draft_agent',
      'get_task_context',
      'kill_agent',
      'list_agents',
      'list_tasks',
    ]);
  });

  it('the provider grants full access by role category (mcp.fullAccessCategories)', async () => {
    fx = makeTree({ scripts: {} });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const writer = await fx.harness.createRun({ task: 'write', role: 'writer', requestedBy });
    const pmSession = await fx.provider.session(pm.run);
    const writerSession = await fx.provider.session(writer.run);
    expect(await names(pmSession!)).toHaveLength(6);
    expect(await names(writerSession!)).toEqual(['get_task_context', 'list_agents', 'list_tasks']);
    expect((await fx.provider.toolsFor(writer.run)).map((t) => t.name).sort()).toEqual(['get_task_context', 'list_agents', 'list_tasks']);
  });

  it('lists schemas that describe the arguments, and marks kill as destructive and the readers as read-only', async () => {
    fx = makeTree({ scripts: {} });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const { tools } = await (await session(pm.run.runId, 'pm', true)).client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('draft_agent')?.inputSchema).toMatchObject({ required: ['role', 'task'], additionalProperties: false });
    expect(byName.get('await_agent')?.inputSchema.properties?.['timeout_seconds']).toMatchObject({ default: 60, maximum: 3600 });
    expect(byName.get('kill_agent')?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(byName.get('list_agents')?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
  });
});

describe('one fresh server per run', () => {
  it('never shares a server: each session answers as its own run, and closing one leaves the other working', async () => {
    fx = makeTree({ scripts: {} });
    const a = await fx.harness.createRun({ task: 'task a', role: 'pm', requestedBy });
    const b = await fx.harness.createRun({ task: 'task b', role: 'pm', requestedBy });
    const sa = await session(a.run.runId, 'pm', true);
    const sb = await session(b.run.runId, 'pm', true);
    expect(sa.server).not.toBe(sb.server);
    expect(sa.client).not.toBe(sb.client);

    const [ta, tb] = await Promise.all([call(sa, 'list_tasks'), call(sb, 'list_tasks')]);
    expect(ta.json).toMatchObject({ root_id: a.run.runId, tasks: [{ task_id: a.run.runId, you: true, task: 'task a' }] });
    expect(tb.json).toMatchObject({ root_id: b.run.runId, tasks: [{ task_id: b.run.runId, you: true, task: 'task b' }] });

    await sa.close();
    expect(sa.server.isConnected()).toBe(false);
    expect((await call(sb, 'list_tasks')).isError).toBe(false);
  });

  it('the provider closes a run\'s session when the run ends', async () => {
    fx = makeTree({ scripts: {} });
    const a = await fx.harness.createRun({ task: 'task a', role: 'pm', requestedBy });
    const s = await fx.provider.session(a.run);
    expect(s!.server.isConnected()).toBe(true);
    await fx.harness.cancel(a.run.runId, { userId: 'U_X', source: 'cli' });
    await untilRun(fx.harness, a.run.runId, () => !s!.server.isConnected());
    expect(s!.server.isConnected()).toBe(false);
    const fresh = await fx.provider.session((await fx.harness.getRun(a.run.runId)).run);
    expect(fresh).not.toBe(s);
  });
});

describe('the tools', () => {
  it('draft_agent returns the agent id at once; list_agents and list_tasks show the tree', async () => {
    const hang = hangTool();
    fx = makeTree({ scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition] });
    const pm = await fx.harness.createRun({ task: 'coordinate the research', role: 'pm', requestedBy });
    const s = await session(pm.run.runId, 'pm', true);

    const drafted = await call(s, 'draft_agent', { role: 'researcher', task: 'find facts about durable execution' });
    expect(drafted.isError).toBe(false);
    const agentId = (drafted.json as { agent_id: string }).agent_id;
    expect(drafted.json).toMatchObject({ role: 'researcher', depth: 1, lineage: ['pm', 'researcher'], status: 'running' });
    expect((await fx.harness.getRun(pm.run.runId)).run.children).toEqual([agentId]);

    await untilRun(fx.harness, agentId, (d) => d.run.status === 'running');
    const agents = await call(s, 'list_agents');
    expect(agents.json).toEqual({
      agent_id: pm.run.runId,
      agents: [expect.objectContaining({ agent_id: agentId, parent_id: pm.run.runId, role: 'researcher', status: 'running', depth: 1 })],
    });
    const child = await session(agentId, 'researcher', false);
    const tasks = await call(child, 'list_tasks');
    expect(tasks.json).toMatchObject({
      root_id: pm.run.runId,
      tasks: [
        { task_id: pm.run.runId, role: 'pm', depth: 0 },
        { task_id: agentId, role: 'researcher', depth: 1, you: true },
      ],
    });
  });

  it('get_task_context gives the root task, the own task and finished children\'s results within the budget', async () => {
    const long = 'x'.repeat(5000);
    fx = makeTree({ scripts: { researcher: [{ content: `finding ${long}` }], writer: [{ content: 'short result' }] }, contextChars: 1000 });
    const { harness, manager } = fx;
    const pm = await harness.createRun({ task: 'the original request', role: 'pm', requestedBy });
    const r = await manager.draft({ parentRunId: pm.run.runId, role: 'researcher', task: 'research', by: 'test' });
    const w = await manager.draft({ parentRunId: pm.run.runId, role: 'writer', task: 'write', by: 'test' });
    await manager.drain();

    const ctx = await call(await session(pm.run.runId, 'pm', true, 1000), 'get_task_context');
    const json = ctx.json as { root_task: string | null; own_task: string; results: { agent_id: string; result: string }[]; truncated: boolean; budget_chars: number };
    expect(json.root_task).toBeNull();
    expect(json.own_task).toBe('the original request');
    expect(json.results.map((x) => x.agent_id)).toEqual([r.childRunId, w.childRunId]);
    expect(json.results[1]!.result).toBe('short result');
    expect(json.truncated).toBe(true);
    const chars = json.own_task.length + json.results.reduce((n, x) => n + x.result.length, 0);
    expect(chars).toBeLessThanOrEqual(1000);
    expect(json.budget_chars).toBe(1000);

    const childCtx = await call(await session(r.childRunId, 'researcher', false), 'get_task_context', { max_chars: 300 });
    expect(childCtx.json).toMatchObject({ root_task: 'the original request', own_task: 'research', results: [], budget_chars: 300 });
  });

  it('await_agent waits for the result; kill_agent reports what it killed', async () => {
    const hang = hangTool();
    fx = makeTree({
      scripts: { researcher: [{ content: 'the answer' }], lead: [{ calls: [{ name: 'hang', args: {} }] }] },
      tools: [hang.definition],
    });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const s = await session(pm.run.runId, 'pm', true);
    const r = (await call(s, 'draft_agent', { role: 'researcher', task: 'answer' })).json as { agent_id: string };
    expect((await call(s, 'await_agent', { agent_id: r.agent_id, timeout_seconds: 60 })).json).toEqual({
      agent_id: r.agent_id,
      role: 'researcher',
      status: 'completed',
      timed_out: false,
      result: 'the answer',
    });
    const l = (await call(s, 'draft_agent', { role: 'lead', task: 'hang around' })).json as { agent_id: string };
    await untilEntered(hang, l.agent_id);
    expect((await call(s, 'kill_agent', { agent_id: l.agent_id })).json).toEqual({ agent_id: l.agent_id, status: 'cancelled', killed: [l.agent_id] });
    expect(hang.aborted).toEqual([l.agent_id]);
  });

  it('answers failures with isError: limits, unknown roles, foreign agents, bad arguments, tools a role lacks', async () => {
    const hang = hangTool();
    fx = makeTree({ scripts: { researcher: [{ calls: [{ name: 'hang', args: {} }] }] }, tools: [hang.definition], limits: { maxDepth: 1 } });
    const pm = await fx.harness.createRun({ task: 'coordinate', role: 'pm', requestedBy });
    const other = await fx.harness.createRun({ task: 'another tree', role: 'pm', requestedBy });
    const s = await session(pm.run.runId, 'pm', true);
    const so = await session(other.run.runId, 'pm', true);

    const unknown = await call(s, 'draft_agent', { role: 'poet', task: 'a poem' });
    expect(unknown).toMatchObject({ isError: true });
    expect(unknown.text).toMatch(/^usage: unknown role "poet"; known roles: pm, lead/);

    const child = (await call(s, 'draft_agent', { role: 'researcher', task: 'r' })).json as { agent_id: string };
    const foreign = await call(so, 'await_agent', { agent_id: child.agent_id, timeout_seconds: 0 });
    expect(foreign.isError).toBe(true);
    expect(foreign.text).toMatch(/is not a sub-agent of run/);
    expect((await call(so, 'kill_agent', { agent_id: child.agent_id })).isError).toBe(true);

    const cs = await session(child.agent_id, 'researcher', true);
    const deep = await call(cs, 'draft_agent', { role: 'researcher', task: 'deeper' });
    expect(deep.isError).toBe(true);
    expect(deep.text).toMatch(/^budget_exceeded: .*agents\.maxDepth is 1/);

    const bad = await call(s, 'await_agent', { agent_id: child.agent_id, timeout_seconds: 'soon', extra: 1 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/Input validation error/);

    const readOnly = await session(child.agent_id, 'researcher', false);
    const missing = await call(readOnly, 'draft_agent', { role: 'researcher', task: 'x' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/draft_agent not found/);
  });
});
