/**
 * Issue D acceptance, HTTP side: the official SDK `Client` over Streamable HTTP against the
 * harness's MCP endpoint on 127.0.0.1 — access levels, 401, 403, isError on bad arguments, the
 * per-token rate limit (P19), draft_agent under a running task, no approval tool, and the trace.
 */
import { request } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_TOOL_NAMES,
  FULL_TOKEN,
  READ_TOKEN,
  READ_TOOL_NAMES,
  type ServerFixture,
  connectClient,
  errorText,
  fetchWithHost,
  payload,
  startServerFixture,
} from './fixture.ts';

let fx: ServerFixture | undefined;
const clients: Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await fx?.close();
  fx = undefined;
});

async function connect(token: string | undefined): Promise<Client> {
  const client = await connectClient((fx as ServerFixture).server.url, token);
  clients.push(client);
  return client;
}

/** One raw request; resolves with status, headers and body. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(url), { method: options.method ?? 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const listBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

describe('harness MCP server over Streamable HTTP (official SDK client)', () => {
  it('binds to 127.0.0.1 at /mcp by default', async () => {
    fx = await startServerFixture();
    expect(fx.server.host).toBe('127.0.0.1');
    expect(new URL(fx.server.url).pathname).toBe('/mcp');
  });

  it('a read-only token lists exactly the six read tools', async () => {
    fx = await startServerFixture();
    const client = await connect(READ_TOKEN.token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(READ_TOOL_NAMES);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
  });

  it('a full token lists all nine tools, and the list is pinned: no tool can decide an approval', async () => {
    fx = await startServerFixture();
    const client = await connect(FULL_TOKEN.token);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(ALL_TOOL_NAMES);
    expect(names.filter((n) => /approv|reject|decide|grant/i.test(n) && n !== 'list_pending_approvals')).toEqual([]);
  });

  it('an approve-like call is impossible: unknown tool → isError, traced with the client name', async () => {
    fx = await startServerFixture();
    const client = await connect(FULL_TOKEN.token);
    const parent = await fx.startParent();
    for (const name of ['approve', 'approve_gate', 'decide_gate']) {
      const result = await client.callTool({ name, arguments: { run_id: parent.run.runId } });
      expect(errorText(result)).toMatch(new RegExp(`Tool ${name} not found`));
    }
    const after = await fx.harness.getRun(parent.run.runId);
    expect(after.run.gates).toEqual([]);
    expect(fx.audit.entries.filter((e) => e.action === 'mcp_call' && e.reason === 'approve_gate: unknown_tool')).toEqual([
      expect.objectContaining({ actor: 'mcp:ops-bot', source: 'mcp', runId: parent.run.runId }),
    ]);
  });

  it('a read-only token calling a lifecycle tool gets isError (not registered for it)', async () => {
    fx = await startServerFixture();
    const parent = await fx.startParent();
    const client = await connect(READ_TOKEN.token);
    const result = await client.callTool({ name: 'draft_agent', arguments: { run_id: parent.run.runId, role: 'writer', task: 'x' } });
    expect(errorText(result)).toMatch(/Tool draft_agent not found/);
    expect((await fx.harness.getRun(parent.run.runId)).run.children).toEqual([]);
  });

  it('no token → 401 (with WWW-Authenticate), and a wrong token → 401', async () => {
    fx = await startServerFixture();
    const error = await connectClient(fx.server.url, undefined).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    const wrong = await connectClient(fx.server.url, 'not-a-valid-token-at-all-000').then(
      () => null,
      (e: unknown) => e,
    );
    expect((wrong as StreamableHTTPError).code).toBe(401);
    const response = await raw(fx.server.url, { body: listBody });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(fx.logLines.join('')).not.toContain('not-a-valid-token');
  });

  it('a wrong Host header → 403 even with a valid token (DNS rebinding)', async () => {
    fx = await startServerFixture();
    const error = await connectClient(fx.server.url, FULL_TOKEN.token, fetchWithHost('evil.example.com')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
    // The same client with the real Host gets in.
    const ok = await connectClient(fx.server.url, FULL_TOKEN.token, fetchWithHost(new URL(fx.server.url).host));
    clients.push(ok);
    expect((await ok.listTools()).tools).toHaveLength(9);
  });

  it('a browser Origin that is not allowed → 403; an allowed one passes', async () => {
    fx = await startServerFixture({ server: { allowedOrigins: ['http://127.0.0.1:6274'] } });
    const auth = { authorization: `Bearer ${READ_TOKEN.token}` };
    expect((await raw(fx.server.url, { headers: { ...auth, origin: 'http://evil.example.com' }, body: listBody })).status).toBe(403);
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect((await raw(fx.server.url, { headers: { ...auth, origin: 'http://127.0.0.1:6274' }, body: init })).status).toBe(200);
  });

  it('GET → 405, other paths → 404, oversized bodies → 413', async () => {
    fx = await startServerFixture({ server: { maxBodyBytes: 1000 } });
    const auth = { authorization: `Bearer ${READ_TOKEN.token}` };
    expect((await raw(fx.server.url, { method: 'GET', headers: auth })).status).toBe(405);
    expect((await raw(fx.server.url.replace('/mcp', '/other'), { headers: auth, body: listBody })).status).toBe(404);
    expect((await raw(fx.server.url, { headers: auth, body: JSON.stringify({ pad: 'x'.repeat(2000) }) })).status).toBe(413);
  });

  it('bad arguments → isError results, never a thrown protocol error', async () => {
    fx = await startServerFixture();
    const client = await connect(FULL_TOKEN.token);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['get_run', {}, /Input validation error/],
      ['get_run', { run_id: '../etc/passwd' }, /Input validation error/],
      ['get_run', { run_id: 'r_x', extra: 1 }, /Input validation error/],
      ['list_runs', { limit: 0 }, /Input validation error/],
      ['list_runs', { status: 'sleeping' }, /Input validation error/],
      ['await_agent', { agent_id: 'r_x', timeout_seconds: 'soon' }, /Input validation error/],
      ['draft_agent', { run_id: 'r_x', role: 'writer', task: '' }, /Input validation error/],
      ['get_run', { run_id: 'r_missing' }, /^run_not_found: run r_missing not found/],
    ];
    for (const [name, args, pattern] of cases) {
      expect(errorText(await client.callTool({ name, arguments: args })), `${name} ${JSON.stringify(args)}`).toMatch(pattern);
    }
    const outcomes = fx.audit.entries.filter((e) => e.action === 'mcp_call').map((e) => e.reason);
    expect(outcomes).toContain('get_run: invalid_arguments');
    expect(outcomes).toContain('get_run: run_not_found');
  });

  it('rate limit per token (P19): over the burst → 429 with Retry-After; other tokens unaffected; refills with time', async () => {
    fx = await startServerFixture({ server: { rateLimit: { burst: 5, requestsPerMinute: 60 } } });
    const client = await connect(READ_TOKEN.token); // initialize + initialized: 2 requests
    await client.listTools(); // 3
    await client.callTool({ name: 'list_runs', arguments: {} }); // 4
    await client.callTool({ name: 'list_runs', arguments: {} }); // 5
    const limited = await client.callTool({ name: 'list_runs', arguments: {} }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(limited).toBeInstanceOf(StreamableHTTPError);
    expect((limited as StreamableHTTPError).code).toBe(429);
    const response = await raw(fx.server.url, { headers: { authorization: `Bearer ${READ_TOKEN.token}` }, body: listBody });
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another client's bucket is its own.
    const other = await connect(FULL_TOKEN.token);
    expect((await other.listTools()).tools).toHaveLength(9);
    // One request per second refills: after two seconds on the harness clock, two more pass.
    fx.clock.advance(2000);
    expect(payload(await client.callTool({ name: 'list_runs', arguments: {} }))['total']).toBe(0);
  });

  it('read tools answer about runs; list_pending_approvals says approvals are for people', async () => {
    fx = await startServerFixture();
    const parent = await fx.startParent('prepare the launch notes');
    const client = await connect(READ_TOKEN.token);
    const runs = payload(await client.callTool({ name: 'list_runs', arguments: { status: 'running' } }));
    expect(runs['runs']).toEqual([expect.objectContaining({ run_id: parent.run.runId, role: 'lead', status: 'running' })]);
    const run = payload(await client.callTool({ name: 'get_run', arguments: { run_id: parent.run.runId } }));
    expect(run).toMatchObject({ run_id: parent.run.runId, status: 'running', root_id: parent.run.runId, parent_id: null, task: 'prepare the launch notes' });
    const pending = payload(await client.callTool({ name: 'list_pending_approvals', arguments: {} }));
    expect(pending['approvals']).toEqual([]);
    expect(String(pending['how_to_decide'])).toMatch(/No MCP tool can decide them/);
    const tasks = payload(await client.callTool({ name: 'list_tasks', arguments: { run_id: parent.run.runId } }));
    expect(tasks['tasks']).toEqual([expect.objectContaining({ task_id: parent.run.runId, named: true })]);
  });

  it('draft_agent from a full client creates a running sub-agent of the named run, traced with the client name; await_agent returns its result', async () => {
    fx = await startServerFixture({ writer: 'draft of the launch notes' });
    const parent = await fx.startParent();
    const client = await connect(FULL_TOKEN.token);
    const drafted = payload(await client.callTool({ name: 'draft_agent', arguments: { run_id: parent.run.runId, role: 'writer', task: 'write the launch notes' } }));
    const childId = String(drafted['agent_id']);
    expect(drafted).toMatchObject({ parent_id: parent.run.runId, role: 'writer', depth: 1, lineage: ['lead', 'writer'] });

    const child = await fx.untilRun(childId, (doc) => doc.run.status === 'completed');
    expect(child.run).toMatchObject({ parentRunId: parent.run.runId, rootRunId: parent.run.runId, depth: 1, origin: { kind: 'agent', parentRunId: parent.run.runId } });
    expect(child.run.result).toBe('draft of the launch notes');

    const parentDoc = await fx.harness.getRun(parent.run.runId);
    expect(parentDoc.run.children).toEqual([childId]);
    expect(parentDoc.trace.find((e) => e.event === 'subagent_drafted')?.detail).toMatchObject({ childRunId: childId, role: 'writer', by: 'mcp:ops-bot' });

    const awaited = payload(await client.callTool({ name: 'await_agent', arguments: { agent_id: childId, timeout_seconds: 30 } }));
    expect(awaited).toMatchObject({ agent_id: childId, status: 'completed', timed_out: false, result: 'draft of the launch notes' });
    const agents = payload(await client.callTool({ name: 'list_agents', arguments: { run_id: parent.run.runId } }));
    expect(agents['agents']).toEqual([expect.objectContaining({ agent_id: childId, parent_id: parent.run.runId, status: 'completed' })]);

    // Audit: every call, with the token's name and never the token.
    const calls = fx.audit.entries.filter((e) => e.action === 'mcp_call');
    expect(calls.map((e) => e.reason)).toEqual(['draft_agent: ok', 'await_agent: ok', 'list_agents: ok']);
    expect(calls.every((e) => e.actor === 'mcp:ops-bot' && e.source === 'mcp')).toBe(true);
    const everything = JSON.stringify(fx.audit.entries) + fx.logLines.join('') + JSON.stringify(parentDoc) + JSON.stringify(child);
    expect(everything).not.toContain(FULL_TOKEN.token);
    expect(fx.logLines.some((l) => l.includes('"mcpClient":"ops-bot"') && l.includes('"tool":"draft_agent"'))).toBe(true);
  });

  it('draft_agent under a finished run or with an unknown role is an isError result that creates nothing', async () => {
    fx = await startServerFixture();
    const parent = await fx.startParent();
    const client = await connect(FULL_TOKEN.token);
    expect(errorText(await client.callTool({ name: 'draft_agent', arguments: { run_id: parent.run.runId, role: 'poet', task: 'a poem' } }))).toMatch(/^usage: unknown role "poet"/);
    await fx.harness.cancel(parent.run.runId, { userId: 'U_REQUESTER', source: 'slack' });
    expect(errorText(await client.callTool({ name: 'draft_agent', arguments: { run_id: parent.run.runId, role: 'writer', task: 'late' } }))).toMatch(/^invalid_state: .*cancelled/);
    expect((await fx.harness.getRun(parent.run.runId)).run.children).toEqual([]);
  });

  it('kill_agent stops a sub-agent, recorded as the client on the run and its parent', async () => {
    fx = await startServerFixture();
    const parent = await fx.startParent();
    const client = await connect(FULL_TOKEN.token);
    // A lead sub-agent parks in `hang`, so it is still running when killed.
    const drafted = payload(await client.callTool({ name: 'draft_agent', arguments: { run_id: parent.run.runId, role: 'lead', task: 'sub-coordinate' } }));
    const childId = String(drafted['agent_id']);
    await fx.untilRun(childId, (doc) => doc.trace.some((e) => e.event === 'tool_start'));
    const killed = payload(await client.callTool({ name: 'kill_agent', arguments: { agent_id: childId, reason: 'not needed' } }));
    expect(killed).toMatchObject({ agent_id: childId, status: 'cancelled', killed: [childId] });
    const child = await fx.harness.getRun(childId);
    expect(child.trace.find((e) => e.event === 'run_cancelled')?.detail).toMatchObject({ by: 'mcp:ops-bot', reason: 'not needed' });
    const parentDoc = await fx.harness.getRun(parent.run.runId);
    expect(parentDoc.trace.find((e) => e.event === 'subagent_killed')?.detail).toMatchObject({ childRunId: childId, by: 'mcp:ops-bot', source: 'mcp' });
    // A root run is not a sub-agent: kill_agent refuses it.
    expect(errorText(await client.callTool({ name: 'kill_agent', arguments: { agent_id: parent.run.runId } }))).toMatch(/^usage: .*not a sub-agent/);
  });

  it('await_agent with timeout 0 on a running run returns its status with timed_out true', async () => {
    fx = await startServerFixture();
    const parent = await fx.startParent();
    const client = await connect(FULL_TOKEN.token);
    const awaited = payload(await client.callTool({ name: 'await_agent', arguments: { agent_id: parent.run.runId, timeout_seconds: 0 } }));
    expect(awaited).toMatchObject({ agent_id: parent.run.runId, status: 'running', timed_out: true });
  });
});
