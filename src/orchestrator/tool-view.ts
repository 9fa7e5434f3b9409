/**
 * The tools as ONE run sees them. The global {@link ToolRegistry} holds the tools every run shares;
 * some tools exist for one run only (each run's own agent-tool MCP server, issue C). A
 * {@link RunToolProvider} supplies those, and a {@link RunToolView} merges them with the registry
 * behind the registry's own lookup API, so the runner offers, validates, judges and executes a run's
 * own tools on exactly the path of every other tool (zod validation, policy, gates, `tool_start` /
 * `tool_ok`).
 *
 * What a run is offered is its role's allow-list of global tools plus all of its own tools; policy
 * judges with the same list, so a global tool outside the role is denied, and another run's tools
 * do not exist for it.
 */
import type { ModelToolSpec } from '../model/port.ts';
import { InvariantError } from '../shared/errors.ts';
import type { RunState } from '../store/run-schema.ts';
import { type ArgsValidation, ToolRegistry } from '../tools/registry.ts';
import type { RegisteredTool, ToolDefinition } from '../tools/types.ts';

/** Tools that exist for one run only, on top of the global registry. */
export interface RunToolProvider {
  /** The run's own tools (the same list on every call while the run lives). */
  toolsFor(run: RunState): Promise<readonly ToolDefinition[]>;
  /**
   * True for a run tool whose whole duration is spent waiting on OTHER runs (await_agent): that
   * time is recorded but never counted against the caller's `maxWallMs`.
   */
  isWaitingTool?(name: string): boolean;
}

/**
 * The registry as one run sees it: the global tools plus the run's own. Same lookup and validation
 * semantics as {@link ToolRegistry} (the run's tools sit in a private registry, so their schemas get
 * the same strictness checks).
 * @throws InvariantError (constructor) when a run tool has the name of a global tool.
 */
export class RunToolView {
  private readonly base: ToolRegistry;
  private readonly own = new ToolRegistry();
  private readonly waiting: (name: string) => boolean;

  constructor(base: ToolRegistry, runTools: readonly ToolDefinition[], isWaitingTool?: (name: string) => boolean) {
    this.base = base;
    this.waiting = isWaitingTool ?? (() => false);
    for (const tool of runTools) {
      if (base.has(tool.name)) throw new InvariantError(`run tool ${tool.name} has the name of a registered tool`);
      this.own.register(tool);
    }
  }

  /** The tool (global first), or undefined. Policy decides whether the run may use a global one. */
  get(name: string): RegisteredTool | undefined {
    return this.base.get(name) ?? this.own.get(name);
  }

  /** True when the run can see a tool of this name. */
  has(name: string): boolean {
    return this.base.has(name) || this.own.has(name);
  }

  /** The global specs the role's list names, then every run tool's spec: what the model is offered. */
  specsFor(roleTools: readonly string[] | '*'): ModelToolSpec[] {
    return [...this.base.specsFor(roleTools), ...this.own.specsFor('*')];
  }

  /** {@link ToolRegistry.validateArgs} against whichever registry holds the tool. */
  validateArgs(name: string, argumentsJson: string | null, maxBytes: number): ArgsValidation {
    return this.base.has(name) ? this.base.validateArgs(name, argumentsJson, maxBytes) : this.own.validateArgs(name, argumentsJson, maxBytes);
  }

  /**
   * The allow-list policy judges with: the role's list plus the run's own tool names (the provider
   * granted those by role category; policy still judges their category and may gate or deny them).
   */
  roleTools(roleTools: readonly string[] | '*'): readonly string[] | '*' {
    return roleTools === '*' ? '*' : [...roleTools, ...this.own.list().map((t) => t.name)];
  }

  /** Names of the run's own tools. */
  ownNames(): string[] {
    return this.own.list().map((t) => t.name);
  }

  /** True when time inside `name` is waiting on other runs (not counted against `maxWallMs`). */
  isWaitingTool(name: string): boolean {
    return this.own.has(name) && this.waiting(name);
  }
}

/** The view of `run`: the registry plus what `provider` (if any) gives the run. */
export async function toolViewFor(registry: ToolRegistry, provider: RunToolProvider | undefined, run: RunState): Promise<RunToolView> {
  if (!provider) return new RunToolView(registry, []);
  const own = await provider.toolsFor(run);
  return new RunToolView(registry, own, provider.isWaitingTool?.bind(provider));
}
