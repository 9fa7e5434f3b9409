/**
 * External MCP servers over their real transports: the example notes server as a child process
 * (stdio) and an SDK server over Streamable HTTP on 127.0.0.1. Covers a hang (timeout, connection
 * reset, next call spawns a fresh process) and a server that cannot be reached at startup (not
 * fatal, named in the report).
 */
import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExternalMcpServerConfig } from '../../../../src/mcp/external/config.ts';
import { inspectExternalMcp } from '../../../../src/mcp/external/inspect.ts';
import { ExternalMcpTools } from '../../../../src/mcp/external/manager.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { ToolRegistry } from '../../../../src/tools/registry.ts';
import type { ToolContext } from '../../../../src/tools/types.ts';
import { REPO_ROOT } from '../../slack/support/rig.ts';

const SERVER_SCRIPT = join(REPO_ROOT, 'examples', 'notes-mcp-server', 'server.mjs');
const ctx: ToolContext = { runId: 'r', stepId: 's', idempotencyKey: 'r:s', role: 'x', signal: new AbortController().signal };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-ext-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function notesServer(dir: string, extra: Record<string, unknown> = {}): ExternalMcpServerConfig {
  return ExternalMcpServerConfig.parse({ name: 'notes', stdio: { command: process.execPath, args: [SERVER_SCRIPT, '--dir', dir] }, ...extra });
}

async function start(servers: ExternalMcpServerConfig[]): Promise<{ registry: ToolRegistry; external: ExternalMcpTools }> {
  const registry = new ToolRegistry();
  const external = new ExternalMcpTools(servers, { logger: silentLogger, configDir: REPO_ROOT });
  cleanups.push(() => external.close());
  await external.start(registry);
  return { registry, external };
}

describe('external MCP over stdio (the example notes server)', () => {
  it('a hung call times out with a clear error; the next call starts a fresh server process', async () => {
    const dir = await tmp();
    const { registry } = await start([notesServer(dir, { timeoutMs: 500 })]);
    const add = registry.get('notes__add_note')!;
    await expect(add.handler({ title: 'first', body: 'a' }, ctx)).resolves.toMatchObject({ data: { added: 'n1' } });
    await writeFile(join(dir, 'fault'), 'hang add_note');
    await expect(add.handler({ title: 'second', body: 'b' }, ctx)).rejects.toMatchObject({
      code: 'tool_timeout',
      retryable: false,
      message: expect.stringContaining('MCP server "notes" did not answer add_note within 500 ms'),
    });
    await expect(add.handler({ title: 'third', body: 'c' }, ctx)).resolves.toMatchObject({ data: { added: 'n2' } }); // the hung call never saved
    const pids = new Set(
      (await readFile(join(dir, 'calls.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
    );
    expect(pids.size).toBe(2);
  });

  it('a server that cannot start is not fatal: its tools are missing and the report names it', async () => {
    const dir = await tmp();
    const broken = ExternalMcpServerConfig.parse({ name: 'broken', stdio: { command: join(dir, 'no-such-binary') }, connectTimeoutMs: 3000 });
    const { registry, external } = await start([broken, notesServer(dir)]);
    expect(registry.list().map((t) => t.name)).toEqual(['notes__list_notes', 'notes__read_note', 'notes__add_note', 'notes__delete_note']);
    const [report] = external.reports();
    expect(report).toMatchObject({ server: 'broken', state: 'backoff', failures: 1 });
    expect(report?.lastError).toMatch(/ENOENT|exited|closed/);
  });

  it('inspectExternalMcp lists every server and names problems (harness mcp-tools / doctor)', async () => {
    const dir = await tmp();
    const registry = new ToolRegistry();
    const broken = ExternalMcpServerConfig.parse({ name: 'broken', stdio: { command: join(dir, 'nope') }, connectTimeoutMs: 3000 });
    const inspection = await inspectExternalMcp({ configPath: join(REPO_ROOT, 'config.yaml'), mcp: { servers: [notesServer(dir), broken] } as never }, registry, undefined, silentLogger);
    expect(inspection.servers.map((s) => [s.server, s.state, s.tools.length])).toEqual([
      ['notes', 'connected', 4],
      ['broken', 'backoff', 0],
    ]);
    expect(inspection.problems).toEqual([expect.stringContaining('MCP server "broken" (stdio) is unreachable')]);
  });
});

describe('external MCP over Streamable HTTP', () => {
  it('lists and calls tools of an HTTP server; its annotations set the category', async () => {
    const calls: string[] = [];
    const http: Server = createServer((req, res) => {
      // Stateless: a fresh server and transport per request, as the SDK's examples do.
      const mcp = new McpServer({ name: 'tickets', version: '1.0.0' });
      mcp.registerTool('get_ticket', { inputSchema: { id: z.string() }, annotations: { readOnlyHint: true } }, async ({ id }) => ({ content: [{ type: 'text', text: `ticket ${id}` }] }));
      mcp.registerTool('close_ticket', { inputSchema: { id: z.string() }, annotations: { destructiveHint: true } }, async ({ id }) => {
        calls.push(id);
        return { content: [{ type: 'text', text: `closed ${id}` }] };
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      void mcp.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const { registry } = await start([ExternalMcpServerConfig.parse({ name: 'tickets', http: { url, headers: { 'X-Trace': randomUUID() } } })]);
    expect(registry.list().map((t) => [t.name, t.category, t.risk])).toEqual([
      ['tickets__get_ticket', 'read_only', 'read'],
      ['tickets__close_ticket', 'unknown', 'irreversible'],
    ]);
    await expect(registry.get('tickets__close_ticket')!.handler({ id: 'T-1' }, ctx)).resolves.toMatchObject({ content: 'closed T-1' });
    expect(calls).toEqual(['T-1']);
  });
});
