/**
 * The harness's in-process MCP server for ONE agent run (issue C). Every run gets a fresh
 * `McpServer` and its own `InMemoryTransport` pair with an SDK `Client`: the reference harness
 * shared one server between concurrent agents, and a shared MCP `Protocol` overwrites its
 * transport, so answers could reach the wrong agent. Here nothing is shared, and the caller's
 * identity is the `runId` the server was built for — a model cannot act as another run by naming
 * it in arguments: `await_agent` / `kill_agent` only reach the run's own children (tree check).
 *
 * Read-only tools (`list_agents`, `list_tasks`, `get_task_context`) are registered for every run;
 * the lifecycle tools (`draft_agent`, `await_agent`, `kill_agent`) only with `fullAccess`. A tool
 * that is not registered does not exist for that client: `listTools()` does not show it and a
 * call is an `isError` result. Failures are `isError` results with `code: message` text, which the
 * adapter turns into model-visible tool errors.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { SubagentManager, AwaitResult } from '../../agents/subagents/subagent-manager.ts';
import { agentSummary, loadSubtree, loadTaskContext, taskSummary } from '../../agents/subagents/tree.ts';
import type { Harness } from '../../orchestrator/harness.ts';
import { asBotError } from '../../shared/errors.ts';
import type { RunDoc } from '../../store/run-schema.ts';
import {
  AGENT_TOOL_META,
  agentToolAnnotations,
  type AgentToolName,
  DEFAULT_CONTEXT_CHARS,
  DEFAULT_MAX_AWAIT_SECONDS,
  LIFECYCLE_AGENT_TOOLS,
  READ_ONLY_AGENT_TOOLS,
  agentToolInputs,
} from './tool-specs.ts';

/** Options of {@link createAgentToolServer}. */
export interface AgentToolServerOptions {
  /** The run this server belongs to; every call acts as this run. */
  runId: string;
  /** The run's role name (server instructions and logs only; access comes from `fullAccess`). */
  role: string;
  manager: SubagentManager;
  harness: Harness;
  /** Register draft_agent / await_agent / kill_agent too (role category in `mcp.fullAccessCategories`). */
  fullAccess: boolean;
  /** Config `agents.contextChars`. */
  contextChars?: number;
  /** Config `agents.maxAwaitSeconds`: longer `timeout_seconds` are clamped to it. */
  maxAwaitSeconds?: number;
}

/** A connected server/client pair for one run. */
export interface AgentToolSession {
  runId: string;
  fullAccess: boolean;
  server: McpServer;
  client: Client;
  /** Closes the client and the server (idempotent). */
  close(): Promise<void>;
}

type ToolHandler = (args: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/**
 * Builds a fresh server for `runId`, connects it to a fresh client over a linked in-memory
 * transport pair, and returns both. Never shares anything with another run's session.
 */
export async function createAgentToolServer(options: AgentToolServerOptions): Promise<AgentToolSession> {
  const server = new McpServer(
    { name: 'harness', version: '1.0.0' },
    {
      capabilities: { tools: {} },
      instructions: options.fullAccess
        ? `Agent tools for run ${options.runId} (${options.role}): inspect your task tree, draft sub-agents, await and kill them.`
        : `Agent tools for run ${options.runId} (${options.role}): inspect your task tree (read-only).`,
    },
  );
  const handlers = buildHandlers(options);
  const names: AgentToolName[] = [...READ_ONLY_AGENT_TOOLS, ...(options.fullAccess ? LIFECYCLE_AGENT_TOOLS : [])];
  for (const name of names) register(server, name, handlers[name]);

  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: `harness-run-${options.runId}`, version: '1.0.0' });
  await client.connect(clientTransport);
  let closed = false;
  return {
    runId: options.runId,
    fullAccess: options.fullAccess,
    server,
    client,
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      await server.close();
    },
  };
}

function register(server: McpServer, name: AgentToolName, handler: ToolHandler): void {
  const meta = AGENT_TOOL_META[name];
  server.registerTool(
    name,
    {
      title: meta.title,
      description: meta.description,
      inputSchema: agentToolInputs[name],
      annotations: agentToolAnnotations(name),
    },
    async (args: unknown, extra: { signal: AbortSignal }): Promise<CallToolResult> => {
      try {
        const value = await handler(args as Record<string, unknown>, extra.signal);
        return { content: [{ type: 'text', text: JSON.stringify(value) }] };
      } catch (error) {
        // A cancelled request gets no answer anyway; let the SDK drop it.
        if (extra.signal.aborted) throw error;
        const botError = asBotError(error);
        return { content: [{ type: 'text', text: `${botError.code}: ${botError.message}` }], isError: true };
      }
    },
  );
}

function buildHandlers(options: AgentToolServerOptions): Record<AgentToolName, ToolHandler> {
  const { runId, manager, harness } = options;
  const store = harness.deps.store;
  const contextChars = options.contextChars ?? DEFAULT_CONTEXT_CHARS;
  const maxAwaitSeconds = options.maxAwaitSeconds ?? DEFAULT_MAX_AWAIT_SECONDS;
  const self = async (): Promise<RunDoc> => harness.getRun(runId);
  const by = `agent:${runId}`;

  return {
    async list_agents() {
      const me = await self();
      const tree = (await loadSubtree(store, runId)).slice(1);
      return { agent_id: runId, agents: tree.map(({ run }) => agentSummary(run, me.run, (gate) => ({ gate_id: gate.gateId, tool: gate.tool }))) };
    },

    async list_tasks() {
      const me = await self();
      const tree = await loadSubtree(store, me.run.rootRunId);
      return { root_id: me.run.rootRunId, tasks: tree.map(({ run }) => ({ ...taskSummary(run), ...(run.runId === runId ? { you: true } : {}) })) };
    },

    async get_task_context(args) {
      const me = await self();
      const requested = typeof args['max_chars'] === 'number' ? args['max_chars'] : contextChars;
      return loadTaskContext(store, me.run, Math.min(requested, contextChars), 'agent_id');
    },

    async draft_agent(args) {
      const drafted = await manager.draft({ parentRunId: runId, role: String(args['role']), task: String(args['task']), by });
      return {
        agent_id: drafted.childRunId,
        role: drafted.role,
        depth: drafted.depth,
        lineage: drafted.lineage,
        status: 'running',
        next: 'Call await_agent with this agent_id to get its result.',
      };
    },

    async await_agent(args, signal) {
      const seconds = Math.min(Number(args['timeout_seconds'] ?? 60), maxAwaitSeconds);
      const result = await manager.await({ parentRunId: runId, childRunId: String(args['agent_id']), timeoutMs: seconds * 1000, signal });
      return awaitPayload(result);
    },

    async kill_agent(args) {
      const reason = typeof args['reason'] === 'string' ? args['reason'] : undefined;
      const killed = await manager.kill({
        childRunId: String(args['agent_id']),
        parentRunId: runId,
        by: { userId: by, source: 'mcp' },
        ...(reason === undefined ? {} : { reason }),
      });
      return { agent_id: killed.childRunId, status: 'cancelled', killed: killed.killed };
    },
  };
}

/** The await result in the tools' snake_case vocabulary. */
function awaitPayload(result: AwaitResult): Record<string, unknown> {
  return {
    agent_id: result.childRunId,
    role: result.role,
    status: result.status,
    timed_out: result.timedOut,
    ...(result.result === undefined ? {} : { result: result.result }),
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.pendingGate === undefined
      ? {}
      : {
          pending_approval: {
            gate_id: result.pendingGate.gateId,
            tool: result.pendingGate.tool,
            category: result.pendingGate.category,
            risk: result.pendingGate.risk,
            reason: result.pendingGate.reason,
            lineage: result.pendingGate.lineage,
            approvers: result.pendingGate.approvers,
          },
          next: 'A human must decide this approval; await_agent again to wait for the outcome.',
        }),
    ...(result.attention === undefined ? {} : { attention: result.attention }),
  };
}

