/**
 * The two hooks the composition root (`src/app/create-runtime.ts`) needs: which tool names a role
 * file may list, and starting the configured servers with their tools registered.
 */
import { dirname } from 'node:path';
import type { KnownTools } from '../../agents/role-loader.ts';
import type { HarnessConfig } from '../../config/schema.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ToolRegistry } from '../../tools/registry.ts';
import type { TransportFactory } from './connection.ts';
import { ExternalMcpTools } from './manager.ts';
import { serverOfToolName } from './naming.ts';

/**
 * Registered names, plus any name of the `server__tool` form. Role files are shared between
 * deployments with different `mcp.servers`, and a server's tools are known only once it answers,
 * so such a name cannot be checked at load time: until registered it is not offered to the model
 * and policy denies it (`unregistered`). `harness mcp-tools` and `harness doctor` report role
 * entries that no configured server provides.
 */
export function knownToolNames(registry: ToolRegistry): KnownTools {
  return { has: (name) => registry.has(name) || serverOfToolName(name) !== undefined };
}

/**
 * Connects every `mcp.servers` entry and registers the tools of those that answer; unreachable
 * ones are logged and retried in the background (see {@link ExternalMcpTools}). Never throws for
 * an unreachable server.
 */
export async function startExternalMcp(
  config: Pick<HarnessConfig, 'mcp' | 'configPath'>,
  registry: ToolRegistry,
  logger: Logger,
  options: { transport?: TransportFactory; retryInBackground?: boolean } = {},
): Promise<ExternalMcpTools> {
  const external = new ExternalMcpTools(config.mcp.servers, {
    logger,
    configDir: dirname(config.configPath),
    retryInBackground: options.retryInBackground ?? true,
    ...(options.transport === undefined ? {} : { transport: options.transport }),
  });
  await external.start(registry);
  return external;
}
