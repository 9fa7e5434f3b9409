/**
 * Builds the harness's MCP server for ONE external client (issue D item 1): the tools its access
 * level allows, each with a strict zod input schema (the SDK answers bad arguments with an
 * `isError` result), a time limit, and errors returned as `isError` results carrying
 * `code: message`. The HTTP endpoint builds one per request (stateless), `harness mcp stdio` one
 * per process; nothing is shared between clients but the harness behind them.
 *
 * Access is by registration: a read-only client's server has no lifecycle tools, so `tools/list`
 * does not show them and calling one is an `isError` "not found" result. No level has a tool that
 * decides an approval gate.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditSink } from '../../orchestrator/deps.ts';
import { ErrorCode, ToolError, asBotError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { type CallerIdentity, type ExternalToolDeps, type ToolHandler, buildExternalHandlers, clientActor } from './handlers.ts';
import { EXTERNAL_TOOL_META, type ExternalToolName, type McpAccessLevel, externalToolInputs, toolsFor } from './tool-specs.ts';
import type { McpCallRecord } from './traced-transport.ts';

/** The server's name in `initialize`. */
export const MCP_SERVER_NAME = 'slack-harness';
export const MCP_SERVER_VERSION = '0.1.0';

/** Extra time `await_agent` gets beyond its own wait before the guard cuts it off. */
const AWAIT_GRACE_MS = 10_000;

/** Options of {@link createExternalMcpServer}. */
export interface ExternalServerOptions {
  deps: ExternalToolDeps;
  caller: CallerIdentity;
  level: McpAccessLevel;
  /** Upper bound of one call (config `mcp.server.toolTimeoutMs`); await_agent gets its own wait plus a grace. */
  toolTimeoutMs: number;
}

/**
 * A new `McpServer` with the tools of `level` registered for `caller`. Never throws: a `full`
 * server without a lifecycle port still lists the tools and their calls answer `invalid_state`
 * (read-only stdio refuses `--access full` before it gets here).
 */
export function createExternalMcpServer(options: ExternalServerOptions): McpServer {
  const { deps, caller, level } = options;
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: MCP_SERVER_VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        level === 'full'
          ? `slack-harness (client ${caller.name}, full access): read runs, draft sub-agents under a run, await and kill them. Approvals are decided by people in Slack, never through MCP.`
          : `slack-harness (client ${caller.name}, read-only): read runs, task trees and pending approvals. Approvals are decided by people in Slack, never through MCP.`,
    },
  );
  const handlers = buildExternalHandlers(deps, caller);
  for (const name of toolsFor(level)) register(server, name, handlers[name], limitFor(name, options));
  return server;
}

function limitFor(name: ExternalToolName, options: ExternalServerOptions): (args: Record<string, unknown>) => number {
  if (name !== 'await_agent') return () => options.toolTimeoutMs;
  return (args) => Math.min(typeof args['timeout_seconds'] === 'number' ? args['timeout_seconds'] : 60, options.deps.maxAwaitSeconds) * 1000 + AWAIT_GRACE_MS;
}

function register(server: McpServer, name: ExternalToolName, handler: ToolHandler, limit: (args: Record<string, unknown>) => number): void {
  const meta = EXTERNAL_TOOL_META[name];
  server.registerTool(
    name,
    {
      title: meta.title,
      description: meta.description,
      inputSchema: externalToolInputs[name],
      annotations: { readOnlyHint: meta.readOnly, destructiveHint: meta.destructive, idempotentHint: meta.idempotent, openWorldHint: false },
    },
    async (args: unknown, extra: { signal: AbortSignal }): Promise<CallToolResult> => {
      const input = args as Record<string, unknown>;
      try {
        const value = await withTimeout(name, limit(input), extra.signal, (signal) => handler(input, signal));
        return { content: [{ type: 'text', text: JSON.stringify(value) }] };
      } catch (error) {
        // The client cancelled the request: it reads no answer.
        if (extra.signal.aborted) throw error;
        const botError = asBotError(error);
        return { content: [{ type: 'text', text: `${botError.code}: ${botError.message}` }], isError: true };
      }
    },
  );
}

/**
 * Runs `fn` with a signal that aborts when the client cancels or after `ms` (real time: a guard
 * against a hung store or harness, independent of the harness clock).
 * @throws ToolError `tool_timeout` naming the tool and the limit.
 */
async function withTimeout<T>(tool: string, ms: number, outer: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  // A request cancelled before this point never fires 'abort' again.
  if (outer.aborted) throw outer.reason;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new ToolError(`${tool} did not finish within ${ms} ms`, { code: ErrorCode.ToolTimeout });
      controller.abort(error);
      reject(error);
    }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onAbort);
  }
}

/** Options of {@link callRecorder}. */
export interface CallRecorderOptions {
  logger: Logger;
  /** The audit chain (`<dataDir>/audit.jsonl`); absent in read-only use. */
  audit?: AuditSink;
  now: () => number;
}

/** Reports one traced call; {@link CallRecorder.flush} waits for the audit appends started so far. */
export interface CallRecorder {
  (record: McpCallRecord): void;
  flush(): Promise<void>;
}

/**
 * Where traced calls go: one log line each, and one audit entry each (`action: mcp_call`, actor
 * `mcp:<token name>`, source `mcp`, the run the call named or `-`, reason `<tool>: <outcome>`).
 * Never includes the token, the arguments or the result. Audit failures are logged, not thrown.
 */
export function callRecorder(options: CallRecorderOptions): CallRecorder {
  const pending = new Set<Promise<unknown>>();
  const record = (call: McpCallRecord): void => {
    options.logger.info({ mcpClient: call.client, tool: call.tool, runId: call.runId ?? undefined, outcome: call.outcome, ms: call.ms }, 'mcp tool call');
    if (options.audit === undefined) return;
    const append = options.audit
      .append({
        ts: options.now(),
        runId: call.runId ?? '-',
        action: 'mcp_call',
        actor: clientActor({ name: call.client }),
        source: 'mcp',
        reason: `${call.tool}: ${call.outcome}`,
      })
      .catch((error: unknown) => options.logger.error({ mcpClient: call.client, err: asBotError(error).toJSON() }, 'audit append of an MCP call failed'));
    pending.add(append);
    void append.finally(() => pending.delete(append));
  };
  return Object.assign(record, {
    async flush(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  });
}
