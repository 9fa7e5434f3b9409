/**
 * The external MCP server over an in-memory transport pair: the tool list per access level is
 * pinned (no approval tool can appear unnoticed), a hung store gives a `tool_timeout` isError
 * result, a full server without write access answers `invalid_state`, and every call — including
 * invalid and unknown ones — is traced with the client name.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createExternalMcpServer } from '../../../../src/mcp/server/create-server.ts';
import { AwaitMemory, type ExternalToolDeps, type RunReadPort } from '../../../../src/mcp/server/handlers.ts';
import { FULL_TOOLS, READ_TOOLS } from '../../../../src/mcp/server/tool-specs.ts';
import { type McpCallRecord, TracedTransport } from '../../../../src/mcp/server/traced-transport.ts';
import { FakeClock } from '../../../../src/shared/clock.ts';

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

const emptyStore: RunReadPort = { get: async () => undefined, list: async () => [] };

function deps(store: RunReadPort = emptyStore): ExternalToolDeps {
  return { store, clock: new FakeClock(), contextChars: 8000, maxAwaitSeconds: 600, awaitMemory: new AwaitMemory() };
}

async function connect(level: 'read' | 'full', d: ExternalToolDeps, toolTimeoutMs = 5000): Promise<{ client: Client; calls: McpCallRecord[] }> {
  const server = createExternalMcpServer({ deps: d, caller: { name: 'unit' }, level, toolTimeoutMs });
  const calls: McpCallRecord[] = [];
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(new TracedTransport(serverSide, 'unit', (r) => calls.push(r)));
  const client = new Client({ name: 'unit', version: '1' });
  await client.connect(clientSide);
  clients.push(client);
  return { client, calls };
}

const text = (result: unknown): string => (result as { content: { text: string }[] }).content[0]?.text ?? '';

describe('createExternalMcpServer', () => {
  it('pins the tool lists: six read tools, three more for full, none that decides a gate', async () => {
    expect([...READ_TOOLS]).toEqual(['list_agents', 'list_tasks', 'get_task_context', 'list_runs', 'get_run', 'list_pending_approvals']);
    expect([...FULL_TOOLS]).toEqual(['draft_agent', 'await_agent', 'kill_agent']);
    const read = await connect('read', deps());
    expect((await read.client.listTools()).tools.map((t) => t.name)).toEqual([...READ_TOOLS]);
    const full = await connect('full', deps());
    expect((await full.client.listTools()).tools.map((t) => t.name)).toEqual([...READ_TOOLS, ...FULL_TOOLS]);
  });

  it('a hung store → tool_timeout isError after the configured limit', async () => {
    const hung: RunReadPort = { get: () => new Promise(() => undefined), list: () => new Promise(() => undefined) };
    const { client, calls } = await connect('read', deps(hung), 50);
    const result = await client.callTool({ name: 'list_runs', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('tool_timeout: list_runs did not finish within 50 ms');
    expect(calls).toEqual([expect.objectContaining({ client: 'unit', tool: 'list_runs', outcome: 'tool_timeout', runId: null })]);
  });

  it('a full server without write access answers invalid_state for lifecycle tools', async () => {
    const { client } = await connect('full', deps());
    const result = await client.callTool({ name: 'draft_agent', arguments: { run_id: 'r_1', role: 'writer', task: 'x' } });
    expect(text(result)).toMatch(/^invalid_state: this MCP server cannot change runs/);
  });

  it('traces every call with the client name and the named run, including invalid and unknown ones', async () => {
    const { client, calls } = await connect('read', deps());
    await client.callTool({ name: 'get_run', arguments: { run_id: 'r_abc' } });
    await client.callTool({ name: 'get_run', arguments: { run_id: 7 } });
    await client.callTool({ name: 'approve', arguments: { run_id: 'r_abc' } });
    await client.callTool({ name: 'list_runs', arguments: {} });
    expect(calls.map((c) => [c.tool, c.runId, c.outcome])).toEqual([
      ['get_run', 'r_abc', 'run_not_found'],
      ['get_run', null, 'invalid_arguments'],
      ['approve', 'r_abc', 'unknown_tool'],
      ['list_runs', null, 'ok'],
    ]);
    expect(calls.every((c) => c.client === 'unit')).toBe(true);
  });
});
