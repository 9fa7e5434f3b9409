/**
 * A harness with sub-agents wired the way `createRuntime` wires them, plus the external MCP HTTP
 * server on 127.0.0.1 and helpers to connect the official SDK client to it.
 *
 * Roles: `lead` (conversational; calls `hang`, so its run stays `running` like a Slack task that is
 * still working) and `writer` (worker; answers at once).
 */
import { type IncomingHttpHeaders, request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import type { RoleDefinition } from '../../../../src/agents/role-types.ts';
import { type SubagentServices, attachSubagents } from '../../../../src/agents/subagents/attach.ts';
import { RoleRoutedModel } from '../../../../src/agents/subagents/testing/role-routed-model.ts';
import type { McpClientToken } from '../../../../src/config/load-config.ts';
import { AgentsConfig, McpServerConfig } from '../../../../src/config/schema.ts';
import { type McpHttpServerHandle, startMcpHttpServer } from '../../../../src/mcp/server/http-server.ts';
import type { AuditSink } from '../../../../src/orchestrator/deps.ts';
import { createLogger } from '../../../../src/shared/logger.ts';
import type { RunDoc } from '../../../../src/store/run-schema.ts';
import type { ToolDefinition } from '../../../../src/tools/types.ts';
import { type Fixture, ScriptedModel, makeHarness } from '../../../support/harness-fixture.ts';

export const READ_TOKEN: McpClientToken = { name: 'dashboard', level: 'read', token: 'read-token-0123456789abcdef' };
export const FULL_TOKEN: McpClientToken = { name: 'ops-bot', level: 'full', token: 'full-token-0123456789abcdef' };

export const READ_TOOL_NAMES = ['list_agents', 'list_tasks', 'get_task_context', 'list_runs', 'get_run', 'list_pending_approvals'];
export const ALL_TOOL_NAMES = [...READ_TOOL_NAMES, 'draft_agent', 'await_agent', 'kill_agent'];

const role = (name: string, category: RoleDefinition['category'], tools: string[]): RoleDefinition => ({
  name,
  category,
  description: `${name} role`,
  instructions: `You are the ${name}.`,
  tools,
});
const roles = [role('lead', 'conversational', ['hang']), role('writer', 'worker', [])];

/** Every audit entry appended, in order. */
export class RecordingAudit implements AuditSink {
  readonly entries: Parameters<AuditSink['append']>[0][] = [];
  async append(entry: Parameters<AuditSink['append']>[0]): Promise<unknown> {
    this.entries.push(entry);
    return entry;
  }
}

/** A tool that waits until its run is cancelled. */
function hangTool(): ToolDefinition {
  return {
    name: 'hang',
    description: 'Waits until aborted.',
    inputSchema: z.strictObject({}),
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    timeoutMs: 100_000_000,
    handler: (_args, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted')), { once: true });
      }),
  };
}

export interface ServerFixture extends Fixture {
  services: SubagentServices;
  server: McpHttpServerHandle;
  audit: RecordingAudit;
  /** Every log line the server wrote (JSON). */
  logLines: string[];
  /** A root `lead` run that is running (parked in `hang`), as a Slack task would be. */
  startParent(task?: string): Promise<RunDoc>;
  /** Resolves with the run once `predicate` holds (re-checked after every commit). */
  untilRun(runId: string, predicate: (doc: RunDoc) => boolean): Promise<RunDoc>;
  close(): Promise<void>;
}

/** Builds the harness and starts the endpoint on 127.0.0.1 (a free port). */
export async function startServerFixture(options: { server?: Partial<McpServerConfig>; writer?: string } = {}): Promise<ServerFixture> {
  const model = new RoleRoutedModel([
    [roles[0] as RoleDefinition, ScriptedModel.fromSteps([{ calls: [{ name: 'hang', args: {} }] }])],
    [roles[1] as RoleDefinition, ScriptedModel.fromSteps([{ content: options.writer ?? 'the writer finished' }])],
  ]);
  const audit = new RecordingAudit();
  const fixture = makeHarness({ model, roles, tools: [hangTool()], audit, budgets: { maxActiveRunsPerUser: 20 } });
  const { harness } = fixture;
  const agents = AgentsConfig.parse({});
  const services = attachSubagents(harness, { agents, mcp: { fullAccessCategories: ['conversational'] } });
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const server = await startMcpHttpServer({
    config: McpServerConfig.parse({ enabled: true, port: 0, ...options.server }),
    tokens: [READ_TOKEN, FULL_TOKEN],
    deps: {
      store: harness.deps.store,
      clock: fixture.clock,
      lifecycle: { harness, manager: services.manager },
      contextChars: agents.contextChars,
      maxAwaitSeconds: agents.maxAwaitSeconds,
    },
    logger,
    audit,
  });

  const untilRun = (runId: string, predicate: (doc: RunDoc) => boolean): Promise<RunDoc> =>
    new Promise<RunDoc>((resolve, reject) => {
      let done = false;
      const check = (): void => {
        harness.deps.store.get(runId).then(
          (doc) => {
            if (!done && doc && predicate(doc)) {
              done = true;
              unsubscribe();
              resolve(doc);
            }
          },
          (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
        );
      };
      const unsubscribe = harness.onCommit(check);
      check();
    });

  return {
    ...fixture,
    services,
    server,
    audit,
    logLines,
    untilRun,
    async startParent(task = 'coordinate the quarterly report') {
      const created = await harness.createRun({ task, role: 'lead', requestedBy: { userId: 'U_REQUESTER', source: 'slack' } });
      void harness.runner.drive(created.run.runId).catch(() => undefined);
      return untilRun(created.run.runId, (doc) => doc.trace.some((e) => e.event === 'tool_start'));
    },
    async close() {
      await server.close();
      await harness.stop();
      await services.close();
      fixture.cleanup();
    },
  };
}

/** The SDK client connected to `url` with `token` (none when undefined) and optional fetch. */
export async function connectClient(url: string, token: string | undefined, fetch?: FetchLike): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    ...(token === undefined ? {} : { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
    ...(fetch === undefined ? {} : { fetch }),
  });
  const client = new Client({ name: 'acceptance-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/**
 * A fetch over node:http that sends the given Host header (the platform fetch always derives Host
 * from the URL, so a DNS-rebinding request cannot be simulated with it).
 */
export function fetchWithHost(host: string): FetchLike {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, key) => {
        headers[key] = value;
      });
      headers['host'] = host;
      const req = request(new URL(url), { method: init?.method ?? 'GET', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: toHeaders(res.headers) })));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (typeof init?.body === 'string') req.write(init.body);
      req.end();
    });
}

function toHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value === 'string') out.set(key, value);
    else if (Array.isArray(value)) for (const v of value) out.append(key, v);
  }
  return out;
}

/** The JSON payload of a successful tool result. */
export function payload(result: unknown): Record<string, unknown> {
  const r = result as { content?: { type: string; text?: string }[]; isError?: boolean };
  if (r.isError === true) throw new Error(`tool failed: ${r.content?.[0]?.text ?? ''}`);
  return JSON.parse(r.content?.[0]?.text ?? 'null') as Record<string, unknown>;
}

/** The text of an `isError` result (throws if the call succeeded). */
export function errorText(result: unknown): string {
  const r = result as { content?: { type: string; text?: string }[]; isError?: boolean };
  if (r.isError !== true) throw new Error(`expected an isError result, got ${JSON.stringify(r)}`);
  return r.content?.[0]?.text ?? '';
}
