/**
 * A bridge for a runner that only knows the global registry: six global `ToolDefinition`s, one
 * per agent tool name, whose handler finds the CALLING run's own adapted tool (through the
 * {@link RunToolProvider}, keyed by `ToolContext.runId`) and runs it. Every run still talks to its
 * own fresh MCP server, and a run whose category lacks the lifecycle tools gets a model-visible
 * error, because its server does not have them.
 *
 * Prefer the per-run view ({@link RunToolView}) once the runner merges it: with this bridge the
 * model is offered whatever its role file lists, not what its server has.
 */
import type { Harness } from '../../orchestrator/harness.ts';
import { ErrorCode, ToolError } from '../../shared/errors.ts';
import type { ToolDefinition } from '../../tools/types.ts';
import type { RunToolProvider } from './run-tool-provider.ts';
import { AGENT_TOOL_SOURCE, awaitToolTimeoutMs } from './tool-adapter.ts';
import { AGENT_TOOL_META, AGENT_TOOL_NAMES, agentToolInputs } from './tool-specs.ts';

/** Options of {@link routedAgentTools}. */
export interface RoutedAgentToolsOptions {
  harness: Harness;
  provider: RunToolProvider;
  /** Config `agents.maxAwaitSeconds`. */
  maxAwaitSeconds?: number;
}

/** The six routing definitions, to register once in the global registry. */
export function routedAgentTools(options: RoutedAgentToolsOptions): ToolDefinition[] {
  return AGENT_TOOL_NAMES.map((name): ToolDefinition => {
    const meta = AGENT_TOOL_META[name];
    return {
      name,
      description: meta.description,
      inputSchema: agentToolInputs[name],
      category: meta.category,
      risk: 'read',
      idempotent: meta.idempotent,
      source: AGENT_TOOL_SOURCE,
      ...(name === 'await_agent' ? { timeoutMs: awaitToolTimeoutMs(options.maxAwaitSeconds) } : {}),
      handler: async (args, ctx) => {
        const { run } = await options.harness.getRun(ctx.runId);
        const own = (await options.provider.toolsFor(run)).find((tool) => tool.name === name);
        if (!own) {
          throw new ToolError(`${name} is not available to role ${run.role}; its agent tools are read-only`, { code: ErrorCode.PolicyDenied });
        }
        return own.handler(args, ctx);
      },
    };
  });
}
