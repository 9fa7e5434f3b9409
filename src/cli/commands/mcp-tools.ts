/**
 * `harness mcp-tools [--category C]`: every tool a run can be offered, as an MCP tool descriptor,
 * with its source (`builtin`, `mcp:<server>`, `harness-mcp`), category, risk and what each role
 * gets; plus the state of every external MCP server (`mcp.servers`), connected once for the
 * listing. The six agent tools (source `harness-mcp`) are served to each run by its own in-process
 * MCP server (docs/architecture/mcp.md), not by the global registry; they are listed as a run of
 * each role sees them: `unavailable` for the lifecycle tools where the role's category is not in
 * `mcp.fullAccessCategories`, else the policy decision. The rows come from `toolCatalog`, the same
 * code `harness blueprint` uses. Exit 1 when a configured server cannot be reached.
 */
import { inspectExternalMcp } from '../../mcp/external/inspect.ts';
import type { ServerReport } from '../../mcp/external/manager.ts';
import { ACTION_CATEGORIES } from '../../policy/engine.ts';
import { UsageError } from '../../shared/errors.ts';
import { stringOption } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { cliLogger, withReadContext } from '../context.ts';
import { alignRows } from '../output.ts';
import { type McpToolDescriptor, type RoleToolDecision, catalogDescriptor, toolCatalog } from './catalog.ts';

/** One row of `harness mcp-tools --json`. */
export interface McpToolView extends McpToolDescriptor {
  /**
   * What policy decides for a call by each role (no paths or URLs considered), or `unavailable`
   * when a run of that role is not given the tool (see `RoleToolDecision`).
   */
  decisionByRole: Record<string, RoleToolDecision>;
}

export const mcpToolsCommand: CommandSpec = {
  name: 'mcp-tools',
  usage: 'harness mcp-tools [--category C]',
  summary: 'every tool (built-in, external MCP, agent tools) with source, category, risk and policy decision per role; MCP server status',
  options: { category: { type: 'string' } },
  positionals: { min: 0, max: 0, names: '' },
  writes: false,
  run({ ctx, values }) {
    const category = stringOption(values, 'category');
    if (category !== undefined && !(ACTION_CATEGORIES as readonly string[]).includes(category)) {
      throw new UsageError(`mcp-tools: unknown --category ${JSON.stringify(category)}; expected one of ${ACTION_CATEGORIES.join(', ')}`);
    }
    return withReadContext(ctx, async (read) => {
      const inspection = await inspectExternalMcp(read.config, read.registry, read.roles, cliLogger(read.config));
      const catalog = toolCatalog({ registry: read.registry, policy: read.policy, roles: read.roles, fullAccessCategories: read.config.mcp.fullAccessCategories }, category);
      const tools: McpToolView[] = catalog.map((entry) => ({ ...catalogDescriptor(entry), decisionByRole: entry.decisionByRole }));
      const rows = [['TOOL', 'SOURCE', 'CATEGORY', 'RISK', 'DECISION (roles that may call it)']];
      for (const t of tools) rows.push([t.name, t._meta.source, t._meta.category, t._meta.risk, decisionSummary(t.decisionByRole)]);
      const text = [
        tools.length === 0 ? 'no tools' : alignRows(rows),
        '',
        renderServers(inspection.servers),
        ...inspection.problems.map((p) => `problem: ${p}`),
        ...inspection.warnings.map((w) => `warning: ${w}`),
      ].join('\n');
      const ok = inspection.problems.length === 0;
      return { data: { tools, servers: inspection.servers, problems: inspection.problems, warnings: inspection.warnings }, text, exitCode: ok ? 0 : 1 };
    });
  },
};

/** `role=decision` for every role that may call it; `deny (all roles)` otherwise. */
function decisionSummary(byRole: Record<string, RoleToolDecision>): string {
  const open = Object.entries(byRole).filter(([, d]) => d !== 'deny' && d !== 'unavailable');
  return open.length === 0 ? 'deny (all roles)' : open.map(([role, d]) => `${role}=${d}`).join(', ');
}

function renderServers(servers: readonly ServerReport[]): string {
  if (servers.length === 0) return 'external MCP servers: none configured (mcp.servers)';
  const rows = [['MCP SERVER', 'TRANSPORT', 'STATE', 'TOOLS', 'NOT OFFERED']];
  for (const s of servers) {
    rows.push([s.server, s.transport, s.state === 'connected' ? 'ok' : `unreachable: ${s.lastError ?? ''}`, String(s.tools.length), s.skipped.map((k) => `${k.original} (${k.reason})`).join('; ') || '-']);
  }
  return alignRows(rows);
}
