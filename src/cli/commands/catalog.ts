/**
 * Commands that describe the configured harness rather than one run: `roles`, `policy` and
 * `workflow`, plus the tool catalog `mcp-tools` and `harness blueprint` render (MCP tool
 * descriptors and what each role gets for each tool). They read the live configuration, registry
 * and transition table, never a copy of them.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { RoleCatalog, RoleCategory, RoleDefinition } from '../../agents/role-types.ts';
import { McpConfig } from '../../config/schema.ts';
import { adaptAgentTool } from '../../mcp/agent-tools/tool-adapter.ts';
import { AGENT_TOOL_META, AGENT_TOOL_NAMES, type AgentToolName, LIFECYCLE_AGENT_TOOLS, agentToolAnnotations, agentToolInputs } from '../../mcp/agent-tools/tool-specs.ts';
import { decide, describePolicy } from '../../policy/engine.ts';
import type { CompiledPolicy } from '../../policy/types.ts';
import { RunToolView } from '../../orchestrator/tool-view.ts';
import { workflowGraph, workflowMermaid } from '../../orchestrator/transitions.ts';
import { UsageError } from '../../shared/errors.ts';
import type { Decision } from '../../shared/vocabulary.ts';
import { ToolRegistry } from '../../tools/registry.ts';
import type { RegisteredTool } from '../../tools/types.ts';
import { stringOption } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { withReadContext } from '../context.ts';
import { alignRows } from '../output.ts';

const NONE = { min: 0, max: 0, names: '' };

/**
 * `--format` checked against the allowed values.
 * @throws UsageError for any other value.
 */
export function formatOption<F extends string>(command: string, raw: string | undefined, allowed: readonly F[], fallback: F): F {
  if (raw === undefined) return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as F;
  throw new UsageError(`${command}: unknown --format ${JSON.stringify(raw)}; expected ${allowed.join(' or ')}`);
}

/** A role as `harness roles` and the blueprint show it. */
export interface RoleView {
  name: string;
  category: string;
  description: string;
  tools: readonly string[] | '*';
  model: string | null;
  budgets: Record<string, number>;
  default: boolean;
  file: string | null;
}

/** Every role, the default first marked. */
export function roleViews(roles: RoleCatalog): RoleView[] {
  return roles.list().map((role) => ({
    name: role.name,
    category: role.category,
    description: role.description,
    tools: role.tools === '*' ? '*' : [...role.tools],
    model: role.model ?? null,
    budgets: { ...(role.budgets ?? {}) } as Record<string, number>,
    default: role.name === roles.defaultRole,
    file: role.file ?? null,
  }));
}

/** `harness roles`. */
export const rolesCommand: CommandSpec = {
  name: 'roles',
  usage: 'harness roles',
  summary: 'the roles loaded from roles.dir: category, tools, budgets',
  options: {},
  positionals: NONE,
  writes: false,
  run: ({ ctx }) =>
    withReadContext(ctx, async (read) => {
      const roles = roleViews(read.roles);
      const rows = [['ROLE', 'CATEGORY', 'TOOLS', 'DESCRIPTION']];
      for (const r of roles) rows.push([`${r.name}${r.default ? ' *' : ''}`, r.category, r.tools === '*' ? '*' : r.tools.join(','), r.description]);
      return { data: { default_role: read.roles.defaultRole, roles }, text: `${alignRows(rows)}\n(* default role)` };
    }),
};

/** `harness policy`. */
export const policyCommand: CommandSpec = {
  name: 'policy',
  usage: 'harness policy',
  summary: 'the effective policy: category decisions, overrides, roots, hosts, approvers',
  options: {},
  positionals: NONE,
  writes: false,
  run: ({ ctx }) =>
    withReadContext(ctx, async (read) => {
      const p = describePolicy(read.policy);
      const rows: string[][] = [
        ['version', p.version],
        ['default', p.defaultDecision],
        ...Object.entries(p.categories).map(([category, decision]) => [`  ${category}`, decision]),
        ['tool overrides', Object.keys(p.tools).join(', ') || '(none)'],
        ['role overrides', Object.keys(p.roles).join(', ') || '(none)'],
        ['write roots', p.filesystem.roots.join(', ') || '(none)'],
        ['allowed hosts', p.network.allowHosts.join(', ') || '(none)'],
        ['approvers', p.approvers.default.join(', ') || '(none)'],
        ['four-eyes', String(p.fourEyes)],
        ['gate ttl', `${p.gateTtlMs}ms (reminder ${p.reminderBeforeMs}ms before)`],
        ['reject ends run', String(p.rejectEndsRun)],
        ['risk floor', p.riskFloor],
      ];
      return { data: p, text: alignRows(rows) };
    }),
};

/** `harness workflow [--format json|mermaid]`: the transition table the runtime enforces. */
export const workflowCommand: CommandSpec = {
  name: 'workflow',
  usage: 'harness workflow [--format json|mermaid]',
  summary: 'the run state machine (the very table the runtime enforces)',
  options: { format: { type: 'string' } },
  positionals: NONE,
  writes: false,
  async run({ values }) {
    const format = formatOption('workflow', stringOption(values, 'format'), ['text', 'json', 'mermaid'] as const, 'text');
    const graph = workflowGraph();
    if (format === 'mermaid') {
      const diagram = workflowMermaid();
      return { data: { format: 'mermaid', diagram }, text: diagram };
    }
    if (format === 'json') return { data: graph, text: JSON.stringify(graph, null, 2) };
    const rows = [['FROM', 'TO', 'EVENT', 'WHEN'], ...graph.transitions.map((t) => [t.from, t.to, t.event, t.condition])];
    return { data: graph, text: `entry ${graph.entry_state}; terminal ${graph.terminal_states.join(', ')}\n${alignRows(rows)}` };
  },
};

/** An MCP `tools/list` entry for a registered tool. */
export interface McpToolDescriptor {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  _meta: { source: string; category: string; risk: string };
}

/** Every registered tool as an MCP-style descriptor (optionally one category only). */
export function mcpToolDescriptors(registry: ToolRegistry, category?: string): McpToolDescriptor[] {
  return registry
    .list()
    .filter((tool) => category === undefined || tool.category === category)
    .map((tool) => descriptorOf(tool, riskAnnotations(tool)));
}

function descriptorOf(tool: RegisteredTool, annotations: McpToolDescriptor['annotations']): McpToolDescriptor {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: structuredClone(tool.jsonSchema),
    annotations,
    _meta: { source: tool.source, category: tool.category, risk: tool.risk },
  };
}

/** Hints derived from a registered tool's risk and category (the registry has no annotations). */
function riskAnnotations(tool: RegisteredTool): McpToolDescriptor['annotations'] {
  return {
    readOnlyHint: tool.risk === 'read',
    destructiveHint: tool.risk !== 'read',
    idempotentHint: tool.idempotent,
    openWorldHint: tool.category === 'network' || tool.category === 'external_message',
  };
}

/**
 * What a role gets for one tool: the policy decision for a call by that role (no paths or URLs
 * considered), or `unavailable` when the tool does not exist for that role's runs at all. That is
 * the case of the agent lifecycle tools (draft_agent, await_agent, kill_agent) for a role whose
 * category is not in `mcp.fullAccessCategories`: the run's own MCP server never registers them, so
 * the model is not offered them and policy is never asked. It is deliberately not shown as `deny`,
 * which would name a policy verdict that a policy override could change; only
 * `mcp.fullAccessCategories` can.
 */
export type RoleToolDecision = Decision | 'unavailable';

/** One row of the tool catalog: the tool as the runner sees it, its MCP hints, and each role's decision. */
export interface CatalogTool {
  tool: RegisteredTool;
  annotations: McpToolDescriptor['annotations'];
  decisionByRole: Record<string, RoleToolDecision>;
}

/** What {@link toolCatalog} reads (all live: the registry, policy and roles the runtime uses). */
export interface ToolCatalogInput {
  registry: ToolRegistry;
  policy: CompiledPolicy;
  roles: RoleCatalog;
  /** Config `mcp.fullAccessCategories`; the config schema's default when absent. */
  fullAccessCategories?: readonly RoleCategory[];
}

/**
 * Every tool a run can be offered, optionally one category only: the global registry's tools
 * (built-in and `mcp:<server>`), then the six agent tools each run gets from its own in-process
 * MCP server (source `AGENT_TOOL_SOURCE`, `harness-mcp`). Each role's decision comes from `decide` with the
 * allow-list the runner judges with: the role's list for a registry tool, and for an agent tool
 * the list of a run of that role ({@link RunToolView.roleTools}: the role's list plus the agent
 * tools its category is given).
 */
export function toolCatalog(input: ToolCatalogInput, category?: string): CatalogTool[] {
  const roles = input.roles.list();
  const fullAccess = input.fullAccessCategories ?? McpConfig.shape.fullAccessCategories.parse(undefined);
  const agentTools = agentToolRegistry();
  // The view a run of each role has: the global registry plus the agent tools its category gets.
  const views = new Map(
    roles.map((role) => {
      const granted = AGENT_TOOL_NAMES.filter((name) => fullAccess.includes(role.category) || !(LIFECYCLE_AGENT_TOOLS as readonly string[]).includes(name));
      return [role.name, new RunToolView(input.registry, granted.map((name) => agentTools.get(name) as RegisteredTool))] as const;
    }),
  );
  const judge = (tool: RegisteredTool, roleTools: (role: RoleDefinition) => readonly string[] | '*' | undefined): Record<string, RoleToolDecision> => {
    const byRole: Record<string, RoleToolDecision> = {};
    for (const role of roles) {
      const allowList = roleTools(role);
      byRole[role.name] =
        allowList === undefined
          ? 'unavailable'
          : decide(input.policy, {
              tool: tool.name,
              registered: true,
              category: tool.category,
              risk: tool.risk,
              role: role.name,
              roleTools: allowList,
              writePaths: [],
              urls: [],
            }).decision;
    }
    return byRole;
  };
  const inCategory = (tool: RegisteredTool): boolean => category === undefined || tool.category === category;
  const global = input.registry
    .list()
    .filter(inCategory)
    .map((tool) => ({ tool, annotations: riskAnnotations(tool), decisionByRole: judge(tool, (role) => role.tools) }));
  const own = agentTools
    .list()
    .filter(inCategory)
    .map((tool) => ({
      tool,
      annotations: agentToolAnnotations(tool.name as AgentToolName),
      decisionByRole: judge(tool, (role) => {
        const view = views.get(role.name);
        return view?.ownNames().includes(tool.name) === true ? view.roleTools(role.tools) : undefined;
      }),
    }));
  return [...global, ...own];
}

/** A catalog row as an MCP `tools/list` entry. */
export function catalogDescriptor(entry: CatalogTool): McpToolDescriptor {
  return descriptorOf(entry.tool, entry.annotations);
}

/**
 * The six agent tools exactly as the runner registers them for a run: each built by the runtime's
 * own adapter ({@link adaptAgentTool}) from its input schema in `tool-specs.ts`, so category, risk,
 * idempotency and source cannot differ from what policy judges at run time. The client is never
 * connected: these definitions are for listing only, and calling one fails ("Not connected").
 */
function agentToolRegistry(): ToolRegistry {
  const listingClient = new Client({ name: 'harness-tool-catalog', version: '1.0.0' });
  const registry = new ToolRegistry();
  for (const name of AGENT_TOOL_NAMES) {
    const inputSchema = z.toJSONSchema(agentToolInputs[name], { io: 'input' }) as Tool['inputSchema'];
    registry.register(adaptAgentTool(listingClient, { name, title: AGENT_TOOL_META[name].title, description: AGENT_TOOL_META[name].description, inputSchema }));
  }
  return registry;
}

