/** `harness blueprint [--format json|markdown|mermaid]`. */
import { readFileSync } from 'node:fs';
import { stringOption } from '../args.ts';
import { blueprintMarkdown, blueprintMermaid, buildBlueprint } from '../blueprint.ts';
import type { CommandSpec } from '../command.ts';
import { COMMAND_NAMES } from '../command-names.ts';
import { inspectExternalMcp } from '../../mcp/external/inspect.ts';
import { cliLogger, withReadContext } from '../context.ts';
import { formatOption } from './catalog.ts';

/** The package version from package.json (read once; `unknown` if it cannot be read). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const blueprintCommand: CommandSpec = {
  name: 'blueprint',
  usage: 'harness blueprint [--format json|markdown|mermaid]',
  summary: 'the architecture as built from the live registry, policy, roles, store and workflow',
  options: { format: { type: 'string' } },
  positionals: { min: 0, max: 0, names: '' },
  writes: false,
  run({ ctx, values }) {
    const format = formatOption('blueprint', stringOption(values, 'format'), ['json', 'markdown', 'mermaid'] as const, ctx.json ? 'json' : 'markdown');
    return withReadContext(ctx, async (read) => {
      // External MCP servers are connected once so their tools (in read.registry) are described too.
      const externalMcp = await inspectExternalMcp(read.config, read.registry, read.roles, cliLogger(read.config));
      const blueprint = buildBlueprint({
        version: packageVersion(),
        nodeVersion: process.version,
        config: read.config,
        registry: read.registry,
        policy: read.policy,
        roles: read.roles,
        runs: await read.runs.list(),
        dataDirExists: read.dataDirExists,
        commands: COMMAND_NAMES,
        externalMcp: externalMcp.servers,
      });
      if (format === 'json') return { data: blueprint, text: JSON.stringify(blueprint, null, 2) };
      const document = format === 'markdown' ? blueprintMarkdown(blueprint) : blueprintMermaid(blueprint);
      return { data: { format, document }, text: document };
    });
  },
};
