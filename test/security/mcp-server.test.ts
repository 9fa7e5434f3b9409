/**
 * P19 end to end, and MCP responses in the P16 canary sweep: the harness's MCP endpoint as the bot
 * serves it (`startBot` with `mcp.server.enabled`, canary Slack and model secrets in its
 * environment, three client tokens in the world's `.env`), next to a Slack task gated in its
 * thread.
 *
 * - loopback only; no/unknown token → 401; wrong Host → 403; browser Origin → 403; a token over its
 *   bucket → 429 while the others still pass;
 * - a read-only token cannot call draft_agent, await_agent or kill_agent;
 * - no tool can decide a gate: the full tool list is pinned, approve-like calls are "not found",
 *   and the gate is byte-for-byte as it was;
 * - every MCP response body (errors included) holds no canary secret and no client token, while it
 *   does carry the run's task and workspace content (a plain canary-like marker), and a
 *   token-shaped look-alike in the task and the workspace reaches clients only redacted.
 */
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpClientToken } from '../../src/config/load-config.ts';
import type { LocalSlack } from '../../src/local-workspace/server.ts';
import { REDACTED } from '../../src/shared/redact.ts';
import { ALL_TOOL_NAMES, FULL_TOKEN, READ_TOKEN, READ_TOOL_NAMES, connectClient, errorText, fetchWithHost, payload } from '../integration/mcp/server/fixture.ts';
import { CANARY_VALUES, auditEntries, eventually, makeWorld, readRun, startServer, startTestBot, type TestBot, type TmpWorld } from '../integration/slack/support/rig.ts';
import { canaryLeaks, mentionAndWait } from './support/security-rig.ts';

/** A third client whose bucket the rate-limit case empties. */
const FLOOD_TOKEN: McpClientToken = { name: 'flood', level: 'read', token: 'flood-token-0123456789abcdef' };
const TOKENS = [READ_TOKEN, FULL_TOKEN, FLOOD_TOKEN];
const BURST = 30;
const MCP_YAML = [
  'mcp:',
  '  server:',
  '    enabled: true',
  '    host: 127.0.0.1',
  '    port: 0',
  '    allowedOrigins: ["http://127.0.0.1:6274"]',
  '    rateLimit:',
  `      burst: ${String(BURST)}`,
  // One request a minute refills: nothing refills during the test.
  '      requestsPerMinute: 1',
].join('\n');

/** Looks like a canary, is not a secret: it must reach clients, proving the sweep reads real content. */
const MARKER = 'CANARY-lookalike-ticket-4411';
/** Shaped like a Slack bot token: the redactor's patterns catch it before the store. */
const TOKEN_LOOKALIKE = 'xoxb-CANARY-lookalike-0000-ffff';
const TASK = `<@U_BOT> write a short report on durable execution for ticket ${MARKER} token ${TOKEN_LOOKALIKE}`;

/** Every HTTP answer the MCP endpoint gave in this file: `status body`. */
const responses: string[] = [];

/** Wraps a fetch so every response body is recorded; `headers` are added to each request. */
function recording(base: FetchLike = fetch, headers: Record<string, string> = {}): FetchLike {
  return async (url, init) => {
    const merged = new Headers(init?.headers);
    for (const [key, value] of Object.entries(headers)) merged.set(key, value);
    const response = await base(url, { ...init, headers: merged });
    responses.push(`${String(response.status)} ${await response.clone().text()}`);
    return response;
  };
}

async function refusal(attempt: Promise<unknown>): Promise<StreamableHTTPError> {
  const error = await attempt.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamableHTTPError);
  return error as StreamableHTTPError;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('security e2e: the MCP server next to a Slack-driven bot (P19, P16)', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  let bot: TestBot;
  const logs: string[] = [];
  const clients: Client[] = [];
  let task: Awaited<ReturnType<typeof mentionAndWait>>;
  let url: string;

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld(MCP_YAML);
    await writeFile(join(world.dir, '.env'), `HARNESS_MCP_TOKENS=${TOKENS.map((t) => `${t.name}:${t.level}:${t.token}`).join(',')}\n`);
    await appendFile(join(world.workspaceRoot, 'notes', 'durable-execution.md'), `\nTicket ${MARKER} tracks durable execution; a pasted token ${TOKEN_LOOKALIKE} was found here.\n`);
    bot = await startTestBot(world, server, 'socket', logs);
    url = bot.bot.mcpUrl ?? '';
    task = await mentionAndWait(server, world, TASK);
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close().catch(() => undefined);
    await bot.stop();
    await server.close();
    await world.cleanup();
  });

  async function connect(token: McpClientToken, fetch: FetchLike = recording()): Promise<Client> {
    const client = await connectClient(url, token.token, fetch);
    clients.push(client);
    return client;
  }

  it('the task is gated in Slack and the endpoint listens on loopback only', async () => {
    expect(task.card).toBeDefined();
    expect(task.doc.run.status).toBe('waiting_approval');
    const { hostname, port } = new URL(url);
    expect(hostname).toBe('127.0.0.1');
    // Another address of this machine reaches nothing.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && !a.internal && a.family === 'IPv4');
    if (external !== undefined) {
      const error = await fetch(`http://${external.address}:${port}/mcp`, { method: 'POST', body: '{}' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(String((error as TypeError | null)?.cause)).toMatch(/ECONNREFUSED/);
    }
  });

  it('P19: no token and an unknown token → 401; a wrong Host → 403 even with a valid token; a browser Origin → 403', async () => {
    expect((await refusal(connectClient(url, undefined, recording()))).code).toBe(401);
    expect((await refusal(connectClient(url, 'not-a-client-token-0000000000', recording()))).code).toBe(401);
    expect((await refusal(connectClient(url, FULL_TOKEN.token, recording(fetchWithHost('evil.example.com'))))).code).toBe(403);
    expect((await refusal(connectClient(url, FULL_TOKEN.token, recording(fetch, { origin: 'http://evil.example.com' })))).code).toBe(403);
    // The allowed Origin passes.
    const allowed = await connect(READ_TOKEN, recording(fetch, { origin: 'http://127.0.0.1:6274' }));
    expect((await allowed.listTools()).tools.map((t) => t.name)).toEqual(READ_TOOL_NAMES);
    const refusedLogs = logs.filter((l) => l.includes('mcp request refused'));
    expect(refusedLogs.length).toBeGreaterThanOrEqual(4);
    expect(refusedLogs.join('\n')).not.toContain('not-a-client-token');
  });

  it('P19: a token over its burst gets 429 with Retry-After; the other tokens still pass', async () => {
    const limited = recording();
    const client = await connect(FLOOD_TOKEN, limited); // initialize + initialized: 2 requests
    for (let i = 2; i < BURST; i += 1) await client.callTool({ name: 'list_runs', arguments: { limit: 1 } });
    expect((await refusal(client.callTool({ name: 'list_runs', arguments: { limit: 1 } }))).code).toBe(429);
    const raw = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${FLOOD_TOKEN.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    responses.push(`${String(raw.status)} ${await raw.clone().text()}`);
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => l.includes('mcp client rate limited') && l.includes('"mcpClient":"flood"'))).toBe(true);
    const other = await connect(READ_TOKEN);
    expect(payload(await other.callTool({ name: 'list_runs', arguments: {} }))['runs']).toEqual(expect.arrayContaining([expect.objectContaining({ run_id: task.runId })]));
  });

  it('P19: a read-only token cannot call draft_agent, await_agent or kill_agent; the run is unchanged', async () => {
    const before = await readRun(world.dataDir, task.runId);
    const client = await connect(READ_TOKEN);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(READ_TOOL_NAMES);
    const calls: [string, Record<string, unknown>][] = [
      ['draft_agent', { run_id: task.runId, role: 'researcher', task: 'Summarise the workspace notes on durable execution' }],
      ['await_agent', { agent_id: task.runId, timeout_seconds: 0 }],
      ['kill_agent', { agent_id: task.runId }],
    ];
    for (const [name, args] of calls) expect(errorText(await client.callTool({ name, arguments: args }))).toMatch(new RegExp(`Tool ${name} not found`));
    const after = await readRun(world.dataDir, task.runId);
    expect(after.run).toEqual(before.run);
  });

  it('P19: no MCP tool can decide a gate — the full list is pinned and approve-like calls change nothing', async () => {
    const before = await readRun(world.dataDir, task.runId);
    expect(before.run.gates.map((g) => g.status)).toEqual(['pending']);
    const client = await connect(FULL_TOKEN);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(ALL_TOOL_NAMES);
    expect(names.filter((n) => /approv|reject|decide|grant|deny/i.test(n))).toEqual(['list_pending_approvals']);
    const gateId = before.run.gates[0]?.gateId;
    for (const name of ['approve', 'approve_gate', 'decide_gate', 'reject_gate']) {
      const result = await client.callTool({ name, arguments: { run_id: task.runId, gate_id: gateId, decision: 'approve' } });
      expect(errorText(result)).toMatch(new RegExp(`Tool ${name} not found`));
    }
    const after = await readRun(world.dataDir, task.runId);
    expect(after.run.gates).toEqual(before.run.gates);
    expect(after.trace.filter((e) => e.event === 'approval_granted' || e.event === 'approval_refused')).toEqual([]);
  });

  it('P16: every MCP response body carries the run’s content but no canary secret and no client token; the whole sweep is clean', async () => {
    const client = await connect(FULL_TOKEN);
    const runId = task.runId;
    await client.listTools();
    const answers = {
      list_runs: payload(await client.callTool({ name: 'list_runs', arguments: {} })),
      get_run: payload(await client.callTool({ name: 'get_run', arguments: { run_id: runId } })),
      get_task_context: payload(await client.callTool({ name: 'get_task_context', arguments: { run_id: runId } })),
      list_pending_approvals: payload(await client.callTool({ name: 'list_pending_approvals', arguments: { run_id: runId } })),
      all_pending: payload(await client.callTool({ name: 'list_pending_approvals', arguments: {} })),
      list_tasks: payload(await client.callTool({ name: 'list_tasks', arguments: { run_id: runId } })),
      list_agents: payload(await client.callTool({ name: 'list_agents', arguments: { run_id: runId } })),
    };
    expect(errorText(await client.callTool({ name: 'get_run', arguments: { run_id: 'r_missing' } }))).toMatch(/^run_not_found/);

    // The answers are about this run and carry its task and workspace content...
    expect(answers.get_run).toMatchObject({ run_id: runId, status: 'waiting_approval' });
    expect(String(answers.get_run['task'])).toContain(MARKER);
    expect(JSON.stringify(answers.get_task_context)).toContain(MARKER);
    expect(JSON.stringify(answers.list_pending_approvals)).toContain('workspace_write');
    expect(JSON.stringify(answers.all_pending)).toContain(runId);
    // ...with the token-shaped look-alike redacted as everywhere else.
    expect(String(answers.get_run['task'])).toContain(REDACTED);

    const bodies = responses.join('\n');
    expect(responses.length).toBeGreaterThan(40);
    expect(bodies).toContain(MARKER);
    expect(bodies).not.toContain(TOKEN_LOOKALIKE);
    for (const secret of CANARY_VALUES) expect(bodies).not.toContain(secret);
    for (const { token } of TOKENS) expect(bodies).not.toContain(token);

    // The calls are audited under the client's name (appended after the answer: wait for the last one).
    await eventually(
      async () => ((await auditEntries(world.dataDir)).some((e) => e['actor'] === `mcp:${FULL_TOKEN.name}` && e['reason'] === 'get_run: run_not_found') ? true : undefined),
      'the audit entry of the last call',
    );

    // The P16 sweep over everything the bot wrote or sent, MCP responses included.
    const { leaks, places } = await canaryLeaks(world, server, logs, new Map([['mcp responses', bodies]]));
    expect(places).toContain('mcp responses');
    expect(leaks).toEqual([]);
    // No client token in the logs, the audit log, the store or the workspace (only in `.env`, where the operator put them).
    const written = [logs.join('\n')];
    for (const file of await filesUnder(world.dir)) if (file !== join(world.dir, '.env')) written.push(await readFile(file, 'utf8'));
    for (const { token } of TOKENS) expect(written.join('\n')).not.toContain(token);
  });
});
