/**
 * Per-run tools. The global `ToolRegistry` holds the tools every run shares; the agent tools are
 * different for each run (each run has its own MCP server, and only some role categories get the
 * lifecycle tools), so they come from a {@link RunToolProvider} and are merged into a per-run
 * {@link RunToolView} that has the registry's lookup API.
 *
 * How the runner merges them (docs/architecture/mcp.md):
 *   const view = new RunToolView(deps.registry, await provider.toolsFor(run));
 *   offered to the model:   view.specsFor(role.tools)      (global specs for the role + the run's)
 *   lookup and validation:  view.get(name), view.validateArgs(name, json, maxBytes)
 *   policy's roleTools:     view.roleTools(role.tools)     (the provider already applied access)
 */
import type { RoleCatalog, RoleCategory } from '../../agents/role-types.ts';
import type { SubagentManager } from '../../agents/subagents/subagent-manager.ts';
import { isTerminal } from '../../agents/subagents/tree.ts';
import type { ModelToolSpec } from '../../model/port.ts';
import type { Harness } from '../../orchestrator/harness.ts';
import { InvariantError, asBotError } from '../../shared/errors.ts';
import type { RunState } from '../../store/run-schema.ts';
import { type ArgsValidation, ToolRegistry } from '../../tools/registry.ts';
import type { RegisteredTool, ToolDefinition } from '../../tools/types.ts';
import { type AgentToolSession, createAgentToolServer } from './agent-tool-server.ts';
import { agentToolDefinitions } from './tool-adapter.ts';

/** Tools that exist for one run only, on top of the global registry. */
export interface RunToolProvider {
  /** The run's own tools (the same list on every call while the run lives). */
  toolsFor(run: RunState): Promise<readonly ToolDefinition[]>;
}

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
 * shared) and the adapted tools of that session. A session is closed when its run ends (seen on
 * the harness's commits) or on {@link close}; a finished run that is resumed gets a new one.
 */
export class AgentToolProvider implements RunToolProvider {
  private readonly options: AgentToolProviderOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribe: () => void;

  constructor(options: AgentToolProviderOptions) {
    this.options = options;
    this.unsubscribe = options.harness.onCommit(({ doc }) => {
      if (isTerminal(doc.run.status)) void this.release(doc.run.runId);
    });
  }

  /** True when runs of `category` get the lifecycle tools. */
  hasFullAccess(category: RoleCategory): boolean {
    return this.options.fullAccessCategories.includes(category);
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

/**
 * The registry as one run sees it: the global tools plus the run's own. Same lookup and
 * validation semantics as {@link ToolRegistry} (the run's tools are registered in a private
 * registry, so their schemas get the same strictness checks).
 * @throws InvariantError (constructor) when a run tool has the name of a global tool.
 */
export class RunToolView {
  private readonly base: ToolRegistry;
  private readonly own = new ToolRegistry();

  constructor(base: ToolRegistry, runTools: readonly ToolDefinition[]) {
    this.base = base;
    for (const tool of runTools) {
      if (base.has(tool.name)) throw new InvariantError(`run tool ${tool.name} has the name of a registered tool`);
      this.own.register(tool);
    }
  }

  /** The tool (global first), or undefined. */
  get(name: string): RegisteredTool | undefined {
    return this.base.get(name) ?? this.own.get(name);
  }

  /** True when the run can see a tool of this name. */
  has(name: string): boolean {
    return this.base.has(name) || this.own.has(name);
  }

  /** The global specs the role's list names, then every run tool's spec. */
  specsFor(roleTools: readonly string[] | '*'): ModelToolSpec[] {
    return [...this.base.specsFor(roleTools), ...this.own.specsFor('*')];
  }

  /** {@link ToolRegistry.validateArgs} against whichever registry holds the tool. */
  validateArgs(name: string, argumentsJson: string | null, maxBytes: number): ArgsValidation {
    return this.base.has(name) ? this.base.validateArgs(name, argumentsJson, maxBytes) : this.own.validateArgs(name, argumentsJson, maxBytes);
  }

  /**
   * The allow-list policy should judge with: a role's list plus the run's own tool names (the
   * provider granted those by category; policy still judges their category and may gate or deny).
   */
  roleTools(roleTools: readonly string[] | '*'): readonly string[] | '*' {
    return roleTools === '*' ? '*' : [...roleTools, ...this.own.list().map((t) => t.name)];
  }
}
