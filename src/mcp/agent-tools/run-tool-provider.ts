/**
 * Per-run agent tools. The global `ToolRegistry` holds the tools every run shares; the agent tools
 * are different for each run (each run has its own MCP server, and only some role categories get
 * the lifecycle tools), so the {@link AgentToolProvider} gives them per run and the runner merges
 * them into the run's `RunToolView` (`src/orchestrator/tool-view.ts`) at every step:
 *   offered to the model:   view.specsFor(role.tools)      (global specs for the role + the run's)
 *   lookup and validation:  view.get(name), view.validateArgs(name, json, maxBytes)
 *   policy's roleTools:     view.roleTools(role.tools)     (the provider already applied access)
 */
import type { RoleCatalog, RoleCategory } from '../../agents/role-types.ts';
import type { SubagentManager } from '../../agents/subagents/subagent-manager.ts';
import { isTerminal } from '../../agents/subagents/tree.ts';
import type { Harness } from '../../orchestrator/harness.ts';
import type { RunToolProvider } from '../../orchestrator/tool-view.ts';
import { asBotError } from '../../shared/errors.ts';
import type { RunState } from '../../store/run-schema.ts';
import type { ToolDefinition } from '../../tools/types.ts';
import { type AgentToolSession, createAgentToolServer } from './agent-tool-server.ts';
import { agentToolDefinitions } from './tool-adapter.ts';

export { RunToolView } from '../../orchestrator/tool-view.ts';
export type { RunToolProvider } from '../../orchestrator/tool-view.ts';

/** Options of {@link AgentToolProvider}. */
export interface AgentToolProviderOptions {
  harness: Harness;
  manager: SubagentManager;
  /** Config `mcp.fullAccessCategories`. */
  fullAccessCategories: readonly RoleCategory[];
  /** Config `agents.contextChars` and `agents.maxAwaitSeconds`. */
  contextChars?: number;
  maxAwaitSeconds?: number;
  /** Defaults to the harness's role catalog. */
  roles?: RoleCatalog;
}

interface Entry {
  session: Promise<AgentToolSession>;
  tools: Promise<ToolDefinition[]>;
}

/**
 * Gives each run its own agent-tool MCP session (created on first use, fresh per run, never
 * shared) and the adapted tools of that session. A session is closed when its run ends or pauses
 * for a human (seen on the harness's commits) or on {@link close}; a run that goes on gets a new one.
 */
export class AgentToolProvider implements RunToolProvider {
  private readonly options: AgentToolProviderOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribe: () => void;

  constructor(options: AgentToolProviderOptions) {
    this.options = options;
    this.unsubscribe = options.harness.onCommit(({ doc }) => {
      // Nothing is in flight while a run waits for a human: its session is rebuilt on resume, so a
      // thousand runs parked on approvals hold no MCP servers.
      const { status } = doc.run;
      if (isTerminal(status) || status === 'waiting_approval' || status === 'needs_attention') void this.release(doc.run.runId);
    });
  }

  /** True when runs of `category` get the lifecycle tools. */
  hasFullAccess(category: RoleCategory): boolean {
    return this.options.fullAccessCategories.includes(category);
  }

  /** await_agent waits on another run: its time is not the caller's active work (`maxWallMs`). */
  isWaitingTool(name: string): boolean {
    return name === 'await_agent';
  }

  /** Runs that have an open session now (released when they end). */
  get openSessions(): number {
    return this.entries.size;
  }

  /** @inheritdoc Unknown roles get no tools (the runner fails such a run anyway). */
  async toolsFor(run: RunState): Promise<readonly ToolDefinition[]> {
    const entry = this.entryFor(run);
    return entry ? entry.tools : [];
  }

  /** The run's session (created if needed), e.g. for a test or an operator listing its tools. */
  async session(run: RunState): Promise<AgentToolSession | undefined> {
    return this.entryFor(run)?.session;
  }

  /** Closes every session and stops listening to commits. */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.allSettled([...this.entries.keys()].map((runId) => this.release(runId)));
  }

  private entryFor(run: RunState): Entry | undefined {
    const existing = this.entries.get(run.runId);
    if (existing) return existing;
    const roles = this.options.roles ?? this.options.harness.deps.roles;
    const role = roles.get(run.role);
    if (!role) return undefined;
    const { harness, manager, contextChars, maxAwaitSeconds } = this.options;
    const session = createAgentToolServer({
      runId: run.runId,
      role: role.name,
      manager,
      harness,
      fullAccess: this.hasFullAccess(role.category),
      ...(contextChars === undefined ? {} : { contextChars }),
      ...(maxAwaitSeconds === undefined ? {} : { maxAwaitSeconds }),
    });
    const tools = session.then((s) => agentToolDefinitions(s.client, maxAwaitSeconds === undefined ? {} : { maxAwaitSeconds }));
    const entry: Entry = { session, tools };
    this.entries.set(run.runId, entry);
    // A failed start must not stick: the next call tries again.
    tools.catch(() => {
      if (this.entries.get(run.runId) === entry) this.entries.delete(run.runId);
    });
    return entry;
  }

  private async release(runId: string): Promise<void> {
    const entry = this.entries.get(runId);
    if (!entry) return;
    this.entries.delete(runId);
    try {
      await (await entry.session).close();
    } catch (error) {
      this.options.harness.deps.logger.warn({ runId, err: asBotError(error).toJSON() }, 'closing an agent tool session failed');
    }
  }
}
