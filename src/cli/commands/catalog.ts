/**
 * Commands that describe the configured harness rather than one run: `roles`, `policy` and
 * `workflow`, plus the MCP tool descriptors `mcp-tools` renders. They read the live configuration,
 * registry and transition table, never a copy of them.
 */
import type { RoleCatalog } from '../../agents/role-types.ts';
import { describePolicy } from '../../policy/engine.ts';
import { workflowGraph, workflowMermaid } from '../../orchestrator/transitions.ts';
import { UsageError } from '../../shared/errors.ts';
import type { ToolRegistry } from '../../tools/registry.ts';
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
    .map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: structuredClone(tool.jsonSchema),
      annotations: {
        readOnlyHint: tool.risk === 'read',
        destructiveHint: tool.risk !== 'read',
        idempotentHint: tool.idempotent,
        openWorldHint: tool.category === 'network' || tool.category === 'external_message',
      },
      _meta: { source: tool.source, category: tool.category, risk: tool.risk },
    }));
}
