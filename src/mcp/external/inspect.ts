/**
 * One-shot look at the configured external MCP servers for operators (`harness mcp-tools`,
 * `harness blueprint`, `harness doctor`): connect each once (no background retry), register what
 * they list into a registry, close them again, and name every problem.
 */
import type { RoleCatalog } from '../../agents/role-types.ts';
import type { HarnessConfig } from '../../config/schema.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ToolRegistry } from '../../tools/registry.ts';
import type { TransportFactory } from './connection.ts';
import type { ServerReport } from './manager.ts';
import { serverOfToolName } from './naming.ts';
import { startExternalMcp } from './runtime.ts';

/** What {@link inspectExternalMcp} found. */
export interface ExternalMcpInspection {
  servers: ServerReport[];
  /** Unreachable servers, unusable tools, role entries a reachable server does not offer. */
  problems: string[];
  /** Role entries naming a server that is not configured (role files are shared across deployments). */
  warnings: string[];
}

/**
 * Connects every configured server once, registers their tools into `registry`, closes them.
 * Never throws for an unreachable server (it becomes a problem line naming the server).
 */
export async function inspectExternalMcp(
  config: Pick<HarnessConfig, 'mcp' | 'configPath'>,
  registry: ToolRegistry,
  roles: RoleCatalog | undefined,
  logger: Logger,
  options: { transport?: TransportFactory } = {},
): Promise<ExternalMcpInspection> {
  const external = await startExternalMcp(config, registry, logger, { ...options, retryInBackground: false });
  try {
    const servers = external.reports();
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const server of servers) {
      if (server.state !== 'connected') problems.push(`MCP server "${server.server}" (${server.transport}) is unreachable: ${server.lastError ?? 'unknown error'}`);
      for (const skip of server.skipped) {
        if (!skip.filtered) problems.push(`MCP server "${server.server}": tool ${skip.original} is not offered: ${skip.reason}`);
      }
    }
    const configured = servers.map((s) => s.server);
    const reachable = new Set(servers.filter((s) => s.state === 'connected').map((s) => s.server));
    for (const role of roles?.list() ?? []) {
      if (role.tools === '*') continue;
      for (const name of role.tools) {
        if (registry.has(name)) continue;
        const server = serverOfToolName(name);
        if (server === undefined) continue;
        if (!configured.includes(server)) warnings.push(`role ${role.name} lists ${name}, but no MCP server "${server}" is configured (mcp.servers)`);
        else if (reachable.has(server)) problems.push(`role ${role.name} lists ${name}, but MCP server "${server}" does not offer it`);
      }
    }
    return { servers, problems, warnings };
  } finally {
    await external.close();
  }
}
