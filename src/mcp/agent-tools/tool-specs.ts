/**
 * The six agent tools as data: names, zod input schemas, descriptions, and how the harness
 * classifies each for policy. The in-process MCP server registers these schemas, and the adapter
 * that turns the server's tools back into `ToolDefinition`s takes its policy metadata from here, so
 * the server and the policy view of a tool cannot drift.
 */
import { z } from 'zod';

/** Defaults when the caller does not pass config `agents.contextChars` / `agents.maxAwaitSeconds`. */
export const DEFAULT_CONTEXT_CHARS = 8000;
export const DEFAULT_MAX_AWAIT_SECONDS = 600;

/** Every role gets these (they only read the run's own tree). */
export const READ_ONLY_AGENT_TOOLS = ['list_agents', 'list_tasks', 'get_task_context'] as const;
/** Only role categories in `mcp.fullAccessCategories` get these. */
export const LIFECYCLE_AGENT_TOOLS = ['draft_agent', 'await_agent', 'kill_agent'] as const;

export type AgentToolName = (typeof READ_ONLY_AGENT_TOOLS)[number] | (typeof LIFECYCLE_AGENT_TOOLS)[number];

/** All six names, read-only first. */
export const AGENT_TOOL_NAMES: readonly AgentToolName[] = [...READ_ONLY_AGENT_TOOLS, ...LIFECYCLE_AGENT_TOOLS];

/** Run ids as the tools accept them (the same id the trace, Slack and the CLI use). */
const AgentId = z.string().min(1).max(80).describe('the agent id returned by draft_agent (a run id)');

/** Input schemas (strict: unknown keys are refused by the registry and by the MCP server). */
export const agentToolInputs = {
  list_agents: z.strictObject({}),
  list_tasks: z.strictObject({}),
  get_task_context: z.strictObject({
    max_chars: z.int().min(200).max(100_000).optional().describe('upper bound on the answer size; the configured budget also applies'),
  }),
  draft_agent: z.strictObject({
    role: z.string().min(1).max(32).describe('the role of the new sub-agent, e.g. researcher, writer, reviewer'),
    task: z.string().min(1).max(20_000).describe('what the sub-agent should do; it sees only this text and its tools'),
  }),
  await_agent: z.strictObject({
    agent_id: AgentId,
    timeout_seconds: z.int().min(0).max(3600).default(60).describe('how long to wait; 0 returns the status at once'),
  }),
  kill_agent: z.strictObject({
    agent_id: AgentId,
    reason: z.string().min(1).max(500).optional().describe('shown in the trace and in the thread'),
  }),
} satisfies Record<AgentToolName, z.ZodType>;

/** How the harness classifies one agent tool. */
export interface AgentToolMeta {
  name: AgentToolName;
  title: string;
  description: string;
  /** Policy category: `read_only` for the three readers, `agent_lifecycle` for the rest. */
  category: 'read_only' | 'agent_lifecycle';
  /** Running it twice has the effect of running it once (reads and await); draft and kill do not. */
  idempotent: boolean;
  /** MCP annotations. */
  readOnly: boolean;
  destructive: boolean;
}

/** Metadata by name. */
export const AGENT_TOOL_META: Readonly<Record<AgentToolName, AgentToolMeta>> = {
  list_agents: {
    name: 'list_agents',
    title: 'List my sub-agents',
    description:
      'Lists the sub-agents below this run (children and their children) with role, status, task, tokens used, a pending approval if any, and a result preview once finished.',
    category: 'read_only',
    idempotent: true,
    readOnly: true,
    destructive: false,
  },
  list_tasks: {
    name: 'list_tasks',
    title: 'List the tasks of this thread',
    description:
      'Lists every run of this task tree (the root request and all sub-agents) with role, status and task, marking which one is you.',
    category: 'read_only',
    idempotent: true,
    readOnly: true,
    destructive: false,
  },
  get_task_context: {
    name: 'get_task_context',
    title: 'Get the task context',
    description:
      "Returns the original request of this task tree, your own task, and the results of your finished sub-agents, within a size budget.",
    category: 'read_only',
    idempotent: true,
    readOnly: true,
    destructive: false,
  },
  draft_agent: {
    name: 'draft_agent',
    title: 'Draft a sub-agent',
    description:
      'Starts a sub-agent with the given role on the given task and returns its agent_id at once; it works in the background. Use await_agent to get its result. Limits on depth, number of unfinished sub-agents and tokens apply.',
    category: 'agent_lifecycle',
    idempotent: false,
    readOnly: false,
    destructive: false,
  },
  await_agent: {
    name: 'await_agent',
    title: 'Wait for a sub-agent',
    description:
      'Waits until your sub-agent finishes (returns its result or error), starts waiting for a human approval (returns the pending approval; awaiting again waits for the decision), or the timeout passes (returns the current status with timed_out true).',
    category: 'agent_lifecycle',
    idempotent: true,
    readOnly: true,
    destructive: false,
  },
  kill_agent: {
    name: 'kill_agent',
    title: 'Kill a sub-agent',
    description: 'Stops one of your sub-agents and every sub-agent below it. Their unfinished work is abandoned.',
    category: 'agent_lifecycle',
    idempotent: false,
    readOnly: false,
    destructive: true,
  },
};

/** The MCP annotations of an agent tool, as its server advertises them and listings show them. */
export function agentToolAnnotations(name: AgentToolName): { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean } {
  const meta = AGENT_TOOL_META[name];
  return { readOnlyHint: meta.readOnly, destructiveHint: meta.destructive, idempotentHint: meta.idempotent, openWorldHint: false };
}

/** True when `name` is one of the six agent tools. */
export function isAgentToolName(name: string): name is AgentToolName {
  return (AGENT_TOOL_NAMES as readonly string[]).includes(name);
}
