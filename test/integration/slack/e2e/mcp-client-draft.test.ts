/**
 * Issue D acceptance through Slack: "a draft_agent from an external full-access client creates a
 * sub-agent whose status appears in the task's thread".
 *
 * The real bot (`startBot` in-process, Socket Mode against the local workspace) with
 * `mcp.server.enabled` on 127.0.0.1 port 0 and its client tokens in the world's `.env`
 * (`HARNESS_MCP_TOKENS`, read by `loadConfig` as in production). A mention starts the report task,
 * which stops at its approval gate; the official SDK `Client` over Streamable HTTP drafts a
 * researcher under that run with a full token. The sub-agent is an ordinary child run of the task
 * and its `subagent:<id>` post lands in the task's thread; a read-only token cannot draft; and
 * stopping the bot closes the endpoint.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../../../src/local-workspace/workspace-state.ts';
import { subagentPostKey } from '../../../../src/slack/egress/slack-publisher.ts';
import { FULL_TOKEN, READ_TOKEN, READ_TOOL_NAMES, connectClient, errorText, payload } from '../../mcp/server/fixture.ts';
import {
  CHANNEL,
  REQUESTER,
  auditEntries,
  botReplies,
  cards,
  eventually,
  makeWorld,
  mentionUntilCard,
  postKey,
  readRun,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

/** The endpoint on loopback, a free port. */
const MCP_YAML = ['mcp:', '  server:', '    enabled: true', '    host: 127.0.0.1', '    port: 0'].join('\n');
/** A task the default scenarios answer by reading the workspace, without a gate. */
const RESEARCH_TASK = 'Summarise the workspace notes on durable execution';

function text(message: StoredMessage | undefined): string {
  return `${message?.text ?? ''} ${JSON.stringify(message?.blocks ?? [])}`;
}

describe('e2e: an external MCP client drafts a sub-agent under a Slack task', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  let bot: TestBot | undefined;
  const clients: Client[] = [];
  let task: { thread: string; runId: string; card: StoredMessage };

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld(MCP_YAML);
    await writeFile(
      join(world.dir, '.env'),
      `HARNESS_MCP_TOKENS=${READ_TOKEN.name}:${READ_TOKEN.level}:${READ_TOKEN.token},${FULL_TOKEN.name}:${FULL_TOKEN.level}:${FULL_TOKEN.token}\n`,
    );
    bot = await startTestBot(world, server, 'socket', [], { subagentPostDelayMs: 0 });
    task = await mentionUntilCard(server, world);
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close().catch(() => undefined);
    await bot?.stop();
    await server.close();
    await world.cleanup();
  });

  async function connect(token: string): Promise<Client> {
    const url = bot?.bot.mcpUrl;
    if (url === null || url === undefined) throw new Error('the bot started no MCP endpoint');
    const client = await connectClient(url, token);
    clients.push(client);
    return client;
  }

  it('startBot serves the endpoint on 127.0.0.1 (BotHandle.mcpUrl) when mcp.server.enabled', () => {
    const url = new URL(bot?.bot.mcpUrl ?? 'http://missing');
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/mcp');
    expect(Number(url.port)).toBeGreaterThan(0);
  });

  it('a full-access client drafts a researcher under the gated Slack task; it is a child run and its status post appears in the task’s thread', async () => {
    const { thread, runId } = task;
    const client = await connect(FULL_TOKEN.token);
    const drafted = payload(await client.callTool({ name: 'draft_agent', arguments: { run_id: runId, role: 'researcher', task: RESEARCH_TASK } }));
    expect(drafted).toMatchObject({ parent_id: runId, role: 'researcher', depth: 1 });
    const childId = String(drafted['agent_id']);

    // An ordinary child of the Slack task, requested by the task's requester.
    const child = await readRun(world.dataDir, childId);
    expect(child.run).toMatchObject({
      parentRunId: runId,
      rootRunId: runId,
      depth: 1,
      role: 'researcher',
      task: RESEARCH_TASK,
      origin: { kind: 'agent', parentRunId: runId },
      requestedBy: { userId: REQUESTER, source: 'agent' },
    });
    const parent = await readRun(world.dataDir, runId);
    expect(parent.run.children).toEqual([childId]);
    expect(parent.trace.find((e) => e.event === 'subagent_drafted')?.detail).toMatchObject({ childRunId: childId, role: 'researcher', by: `mcp:${FULL_TOKEN.name}` });

    // Its own post, in the task's thread, and kept up to date until it finishes.
    const post = await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === subagentPostKey(childId)), 'the sub-agent post in the thread', 30_000);
    expect(post.text).toMatch(/^Sub-agent researcher: /);
    expect(text(post)).toContain(RESEARCH_TASK);
    const awaited = payload(await client.callTool({ name: 'await_agent', arguments: { agent_id: childId, timeout_seconds: 60 } }));
    expect(awaited).toMatchObject({ agent_id: childId, status: 'completed', timed_out: false });
    expect(String(awaited['result'])).toMatch(/^Summary of notes\/durable-execution\.md/);
    await eventually(() => {
      const latest = botReplies(server, CHANNEL, thread).find((m) => postKey(m) === subagentPostKey(childId));
      return latest?.text === 'Sub-agent researcher: completed' ? true : undefined;
    }, 'the sub-agent post showing completion', 30_000);
    // One post for the sub-agent, not a second status or result of its own; the task's gate is untouched.
    expect(botReplies(server, CHANNEL, thread).filter((m) => postKey(m) === subagentPostKey(childId))).toHaveLength(1);
    expect(botReplies(server, CHANNEL, thread).filter((m) => postKey(m) === 'status')).toHaveLength(1);
    expect(cards(server, CHANNEL, thread)).toHaveLength(1);
    const after = await readRun(world.dataDir, runId);
    expect(after.run.status).toBe('waiting_approval');
    expect(after.run.gates.map((g) => g.status)).toEqual(['pending']);

    // Traced with the client's name in the bot's audit log, never its token.
    const audit = await auditEntries(world.dataDir);
    expect(audit.filter((e) => e['action'] === 'mcp_call').map((e) => [e['actor'], e['reason']])).toEqual(
      expect.arrayContaining([
        [`mcp:${FULL_TOKEN.name}`, 'draft_agent: ok'],
        [`mcp:${FULL_TOKEN.name}`, 'await_agent: ok'],
      ]),
    );
    expect(JSON.stringify(audit)).not.toContain(FULL_TOKEN.token);
  });

  it('a read-only client cannot draft: the tool is not offered and the call is an isError that creates nothing', async () => {
    const { runId } = task;
    const before = (await readRun(world.dataDir, runId)).run.children;
    const client = await connect(READ_TOKEN.token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(READ_TOOL_NAMES);
    const result = await client.callTool({ name: 'draft_agent', arguments: { run_id: runId, role: 'researcher', task: RESEARCH_TASK } });
    expect(errorText(result)).toMatch(/Tool draft_agent not found/);
    expect((await readRun(world.dataDir, runId)).run.children).toEqual(before);
  });

  it('stopping the bot closes the endpoint', async () => {
    const url = bot?.bot.mcpUrl ?? '';
    await bot?.stop();
    bot = undefined;
    const refused = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${FULL_TOKEN.token}` }, body: '{}' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(TypeError);
    expect(String((refused as TypeError).cause)).toMatch(/ECONNREFUSED/);
  });
});
