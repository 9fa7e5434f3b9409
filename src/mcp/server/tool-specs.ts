/**
 * The tools the harness offers EXTERNAL MCP clients (issue D item 1), as data: names, strict zod
 * input schemas, descriptions and access levels. A `read` token sees the six read tools, a `full`
 * token adds the three lifecycle tools. There is deliberately no tool that decides an approval
 * gate: approvals come from people (Slack, or `harness approve`), and the tool list is pinned by a
 * test so one cannot be added by accident.
 *
 * Unlike the in-process agent tools (`src/mcp/agent-tools/`), an external client is not a run, so
 * every tool names the run it is about (`run_id` / `agent_id`).
 */
import { z } from 'zod';
import { RunStatus } from '../../store/run-schema.ts';
import { RUN_ID_PATTERN } from '../../shared/ids.ts';

/** The HTTP endpoint's path. */
export const MCP_HTTP_PATH = '/mcp';

/** Access levels a client token maps to. */
export type McpAccessLevel = 'read' | 'full';

/** Every token gets these: they only read runs. */
export const READ_TOOLS = ['list_agents', 'list_tasks', 'get_task_context', 'list_runs', 'get_run', 'list_pending_approvals'] as const;
/** Only `full` tokens get these. */
export const FULL_TOOLS = ['draft_agent', 'await_agent', 'kill_agent'] as const;

export type ExternalToolName = (typeof READ_TOOLS)[number] | (typeof FULL_TOOLS)[number];

/** The tool names a client of `level` is offered, in listing order. */
export function toolsFor(level: McpAccessLevel): readonly ExternalToolName[] {
  return level === 'full' ? [...READ_TOOLS, ...FULL_TOOLS] : READ_TOOLS;
}

/** Run ids as everywhere else (`src/shared/ids.ts`): checked before any store access. */
const RunId = z
  .string()
  .regex(RUN_ID_PATTERN, 'expected a run id: 1-80 letters, digits, "_" or "-"')
  .describe('a run id, as shown by list_runs, the CLI and the Slack thread');

/** Strict input schemas: unknown keys, wrong types and out-of-range values are `isError` results. */
export const externalToolInputs = {
  list_agents: z.strictObject({ run_id: RunId }),
  list_tasks: z.strictObject({ run_id: RunId }),
  get_task_context: z.strictObject({
    run_id: RunId,
    max_chars: z.int().min(200).max(100_000).optional().describe('upper bound on the answer size; agents.contextChars also applies'),
  }),
  list_runs: z.strictObject({
    status: RunStatus.optional().describe('only runs in this status'),
    limit: z.int().min(1).max(200).default(50).describe('at most this many, newest first'),
  }),
  get_run: z.strictObject({ run_id: RunId }),
  list_pending_approvals: z.strictObject({
    run_id: RunId.optional().describe('only this run; all waiting runs when omitted'),
  }),
  draft_agent: z.strictObject({
    run_id: RunId.describe('the unfinished run the new sub-agent belongs to (e.g. a run started in Slack)'),
    role: z.string().min(1).max(32).describe('the sub-agent role, e.g. researcher, writer, reviewer'),
    task: z.string().min(1).max(20_000).describe('what the sub-agent should do; it sees only this text and its tools'),
  }),
  await_agent: z.strictObject({
    agent_id: RunId,
    timeout_seconds: z.int().min(0).max(3600).default(60).describe('how long to wait; 0 returns the status at once'),
  }),
  kill_agent: z.strictObject({
    agent_id: RunId,
    reason: z.string().min(1).max(500).optional().describe('shown in the trace and in the thread'),
  }),
} satisfies Record<ExternalToolName, z.ZodType>;

/** How one external tool is described to clients. */
export interface ExternalToolMeta {
  title: string;
  description: string;
  level: McpAccessLevel;
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
}

const read = (title: string, description: string): ExternalToolMeta => ({ title, description, level: 'read', readOnly: true, destructive: false, idempotent: true });

/** Metadata by name. */
export const EXTERNAL_TOOL_META: Readonly<Record<ExternalToolName, ExternalToolMeta>> = {
  list_agents: read('List sub-agents of a run', 'Lists the sub-agents below a run (children and their children) with role, status, task, tokens, a pending approval if any, and a result preview once finished.'),
  list_tasks: read('List the task tree of a run', "Lists every run of the run's tree (its root request and all sub-agents) with role, status and task, marking the named run."),
  get_task_context: read('Get the task context of a run', "Returns the tree's original request, the run's own task and its finished sub-agents' results, within a size budget."),
  list_runs: read('List runs', 'Lists runs newest first, optionally only those in one status.'),
  get_run: read('Get one run', 'Returns one run: status, role, lineage, parent and root, sub-agents, usage, pending approval, result or error, and its latest trace events.'),
  list_pending_approvals: read(
    'List pending approvals',
    'Lists approval gates waiting for a human decision: tool, category, risk, reason, argument preview, hash prefix and approvers. Approvals are decided by people in Slack (or with `harness approve`); no MCP tool can decide them.',
  ),
  draft_agent: {
    title: 'Draft a sub-agent under a run',
    description:
      'Starts a sub-agent with the given role on the given task below the named unfinished run (its status appears in that run\'s Slack thread) and returns its agent_id at once; it works in the background. Limits on depth, unfinished sub-agents and tokens apply; its risky actions still need human approval.',
    level: 'full',
    readOnly: false,
    destructive: false,
    idempotent: false,
  },
  await_agent: {
    title: 'Wait for a run',
    description:
      'Waits until the run ends (returns its result or error), starts waiting for a human (returns the pending approval; calling again waits for the decision), or the timeout passes (returns the current status with timed_out true).',
    level: 'full',
    readOnly: true,
    destructive: false,
    idempotent: true,
  },
  kill_agent: {
    title: 'Kill a sub-agent',
    description: 'Stops a sub-agent and every sub-agent below it. Their unfinished work is abandoned.',
    level: 'full',
    readOnly: false,
    destructive: true,
    idempotent: false,
  },
};
