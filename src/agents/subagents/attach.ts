/**
 * Wires sub-agents into a harness (issue C): the {@link SubagentManager} (draft / await / kill),
 * the per-run agent-tool MCP servers ({@link AgentToolProvider}, installed as the harness's run-tool
 * provider so the runner offers and routes each run's own tools), and the {@link RunMonitor}.
 * `createRuntime` calls it, so the bot and the CLI get the same wiring; tests call it too.
 */
import type { AgentsConfig, McpConfig } from '../../config/schema.ts';
import { AgentToolProvider } from '../../mcp/agent-tools/run-tool-provider.ts';
import type { Harness } from '../../orchestrator/harness.ts';
import { RunMonitor } from './run-monitor.ts';
import { SubagentManager } from './subagent-manager.ts';

/** What {@link attachSubagents} installed. */
export interface SubagentServices {
  manager: SubagentManager;
  provider: AgentToolProvider;
  monitor: RunMonitor;
  /** Stops the monitor, closes every MCP session and stops listening (call after `harness.stop()`). */
  close(): Promise<void>;
}

/** Creates the sub-agent services over `harness` and installs its per-run tools. */
export function attachSubagents(
  harness: Harness,
  config: { agents: AgentsConfig; mcp: Pick<McpConfig, 'fullAccessCategories'> },
): SubagentServices {
  const { agents } = config;
  const manager = new SubagentManager({
    harness,
    limits: { maxDepth: agents.maxDepth, maxChildrenPerRun: agents.maxChildrenPerRun, maxTreeTokens: agents.maxTreeTokens },
  });
  const provider = new AgentToolProvider({
    harness,
    manager,
    fullAccessCategories: config.mcp.fullAccessCategories,
    contextChars: agents.contextChars,
    maxAwaitSeconds: agents.maxAwaitSeconds,
  });
  harness.useRunTools(provider);
  const monitor = new RunMonitor({ harness, settings: agents.monitor });
  return {
    manager,
    provider,
    monitor,
    async close() {
      monitor.close();
      await monitor.drain();
      await manager.drain();
      manager.close();
      await provider.close();
    },
  };
}
