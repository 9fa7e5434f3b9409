/**
 * `harness mcp stdio [--access read|full] [--client NAME]`: serves the harness's MCP tools over
 * stdin/stdout for a desktop client that spawns it (docs/architecture/mcp-server.md). stdout
 * carries only MCP messages; logs go to stderr.
 *
 * - `read` (default): opens the run store without the lock, so it works while the bot runs.
 * - `full`: takes the data-dir lock like any write (it drafts, awaits and kills sub-agents in this
 *   process), so it is refused while the bot runs — use the bot's HTTP endpoint then.
 */
import { serveMcpStdio } from '../../mcp/server/stdio.ts';
import { MCP_TOKEN_NAME, secretValues } from '../../config/load-config.ts';
import { systemClock } from '../../shared/clock.ts';
import { UsageError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { createRedactor } from '../../shared/redact.ts';
import { stringOption } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { loadCliConfig, openRunReader, openWritable } from '../context.ts';

export const mcpCommand: CommandSpec = {
  name: 'mcp',
  usage: 'harness mcp stdio [--access read|full] [--client NAME]',
  summary: 'serve the harness MCP tools over stdin/stdout for a desktop MCP client (full access takes the data-dir lock)',
  options: { access: { type: 'string' }, client: { type: 'string' } },
  positionals: { min: 1, max: 1, names: '<transport> (stdio)' },
  writes: false,
  async run({ ctx, values, positionals }) {
    if (positionals[0] !== 'stdio') {
      throw new UsageError(`mcp: unknown transport ${JSON.stringify(positionals[0])}; "harness mcp stdio" serves over stdin/stdout (the HTTP endpoint runs with the bot: mcp.server in config.yaml)`);
    }
    const access = stringOption(values, 'access') ?? 'read';
    if (access !== 'read' && access !== 'full') throw new UsageError(`mcp: --access must be read or full, not ${JSON.stringify(access)}`);
    const client = stringOption(values, 'client') ?? 'stdio';
    if (!MCP_TOKEN_NAME.test(client)) throw new UsageError('mcp: --client must be 1-40 letters, digits, "_", "." or "-"');

    const config = loadCliConfig(ctx);
    // stderr at the configured level: each tool call's log line is its trace in read-only use.
    const logger = createLogger({ level: config.logLevel, redactor: createRedactor(secretValues(config)) });
    const common = {
      contextChars: config.agents.contextChars,
      maxAwaitSeconds: config.agents.maxAwaitSeconds,
    };
    if (access === 'read') {
      const store = await openRunReader(config);
      try {
        await serveMcpStdio({ deps: { store, clock: systemClock, ...common }, client, level: 'read', toolTimeoutMs: config.mcp.server.toolTimeoutMs, logger });
      } finally {
        await store.close();
      }
      return { data: { transport: 'stdio', access, client }, text: '' };
    }

    const runtime = await openWritable(ctx, config);
    const { manager } = runtime.subagents;
    try {
      await serveMcpStdio({
        deps: { store: runtime.store, clock: runtime.harness.deps.clock, lifecycle: { harness: runtime.harness, manager }, ...common },
        client,
        level: 'full',
        toolTimeoutMs: config.mcp.server.toolTimeoutMs,
        logger,
        ...(runtime.audit === undefined ? {} : { audit: runtime.audit }),
      });
    } finally {
      // Runs drafted here stay persisted; the bot resumes unfinished ones at its next start.
      await runtime.close();
    }
    return { data: { transport: 'stdio', access, client }, text: '' };
  },
};
