/**
 * Turns the tools an agent-tool MCP client lists into `ToolDefinition`s the runner can offer,
 * validate, judge with policy and run — so an MCP call goes through exactly the path of any other
 * tool: zod validation, `policy_checked`, gates when policy says so, `tool_start` / `tool_ok`.
 *
 * Classification (what policy sees):
 * - category `read_only` for list_agents / list_tasks / get_task_context, `agent_lifecycle` for
 *   draft_agent / await_agent / kill_agent (config `policy.categories.agent_lifecycle`, allow by
 *   default, can be set to approve or deny, per role too);
 * - risk `read` for all six. Drafting is not itself a risky effect: the sub-agent is a run like any
 *   other, and each of ITS risky actions (writes, network, messages) is judged and gated
 *   individually, with the gate showing the lineage. Marking draft as `write` would put a second,
 *   uninformative approval in front of every delegation. Kill only stops work the tree owns.
 * - `idempotent`: true for the reads and await (running twice changes nothing), false for draft
 *   (twice = two agents) and kill (so a crash mid-call needs an operator's retry or skip).
 *
 * The input schema is rebuilt from the listed JSON Schema (`z.fromJSONSchema`), so the runner
 * validates exactly what the server advertises; the server validates again with its own zod.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { InvariantError, ToolError } from '../../shared/errors.ts';
import type { ToolDefinition, ToolResult } from '../../tools/types.ts';
import { AGENT_TOOL_META, DEFAULT_MAX_AWAIT_SECONDS, isAgentToolName } from './tool-specs.ts';

/** `source` of every adapted tool (see `ToolDefinition.source`). */
export const AGENT_TOOL_SOURCE = 'harness-mcp';

/** Slack for the MCP request and the runner's tool timeout beyond the longest await. */
const AWAIT_SLACK_MS = 30_000;

/** Options of {@link agentToolDefinitions}. */
export interface AgentToolAdapterOptions {
  /** Config `agents.maxAwaitSeconds`; await_agent's tool timeout is set just above it. */
  maxAwaitSeconds?: number;
}

/** The tool timeout await_agent needs (the runner's default tool timeout would cut waits short). */
export function awaitToolTimeoutMs(maxAwaitSeconds: number = DEFAULT_MAX_AWAIT_SECONDS): number {
  return maxAwaitSeconds * 1000 + AWAIT_SLACK_MS;
}

/**
 * Lists the client's tools (following pagination) and adapts each one.
 * @throws InvariantError when the server lists a tool that is not one of the six agent tools.
 */
export async function agentToolDefinitions(client: Client, options: AgentToolAdapterOptions = {}): Promise<ToolDefinition[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools.map((tool) => adaptAgentTool(client, tool, options));
}

/**
 * One listed tool as a `ToolDefinition` whose handler calls `client.callTool`. An `isError` result
 * becomes a non-retryable `ToolError` carrying the server's text (the model sees it as
 * `ERROR: ...`); the runner's abort signal is passed to the request, so cancelling the run
 * cancels the call (await_agent stops waiting).
 */
export function adaptAgentTool(client: Client, tool: Tool, options: AgentToolAdapterOptions = {}): ToolDefinition {
  const { name } = tool;
  if (!isAgentToolName(name)) throw new InvariantError(`the agent tool server listed an unknown tool ${JSON.stringify(name.slice(0, 64))}`);
  const meta = AGENT_TOOL_META[name];
  const { $schema: _schema, ...jsonSchema } = tool.inputSchema as Record<string, unknown>;
  let inputSchema: z.ZodType;
  try {
    inputSchema = z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new InvariantError(`agent tool ${name}: its listed input schema cannot be read`, { cause: error });
  }
  const awaitTimeout = awaitToolTimeoutMs(options.maxAwaitSeconds);
  return {
    name,
    description: tool.description ?? meta.description,
    inputSchema,
    category: meta.category,
    risk: 'read',
    idempotent: meta.idempotent,
    source: AGENT_TOOL_SOURCE,
    ...(name === 'await_agent' ? { timeoutMs: awaitTimeout } : {}),
    handler: async (args, ctx): Promise<ToolResult> => {
      // The runner's own timeout and signal bound every call; the MCP request timeout must not be
      // the tighter one (its 60 s default would cut an await short).
      const result = await client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, {
        signal: ctx.signal,
        timeout: awaitTimeout,
      });
      const text = textOf(result);
      if (result.isError === true) throw new ToolError(text.length > 0 ? text : `${name} failed`, { retryable: false });
      const data = parseJson(text);
      return data === undefined ? { content: text } : { content: text, data };
    },
  };
}

function textOf(result: Record<string, unknown>): string {
  const content = result['content'];
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => (isTextPart(part) ? part.text : ''))
    .filter((text) => text.length > 0)
    .join('\n');
}

function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
