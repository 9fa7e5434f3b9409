/**
 * The composition root: configuration in, a wired {@link Harness} out. `main.ts` (the bot) and the
 * operator CLI both build the harness here, so the two can never disagree about policy, tools,
 * roles or the store. Nothing with a side effect starts before the config has validated.
 */
import { join } from 'node:path';
import { loadRoles } from '../agents/role-loader.ts';
import type { RoleCatalog } from '../agents/role-types.ts';
import { type SubagentServices, attachSubagents } from '../agents/subagents/attach.ts';
import { secretValues } from '../config/load-config.ts';
import type { HarnessConfig } from '../config/schema.ts';
import type { ExternalMcpTools } from '../mcp/external/manager.ts';
import { knownToolNames, startExternalMcp } from '../mcp/external/runtime.ts';
import { createModel } from '../model/create-model.ts';
import type { ModelPort } from '../model/port.ts';
import { crashPointsFor } from '../orchestrator/crash-points.ts';
import { Harness } from '../orchestrator/harness.ts';
import { compilePolicy } from '../policy/engine.ts';
import type { CompiledPolicy } from '../policy/types.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import { type Logger, createLogger } from '../shared/logger.ts';
import { createRedactor, redactDeep } from '../shared/redact.ts';
import { LowdbRunStore } from '../store/lowdb-run-store.ts';
import { registerBuiltins } from '../tools/builtins/index.ts';
import { ToolRegistry } from '../tools/registry.ts';
import type { ToolDefinition } from '../tools/types.ts';
import { AuditLog } from '../trace/audit-log.ts';

export interface RuntimeOptions {
  /**
   * Take the data-directory lock (the bot, or the CLI applying a write with no bot running).
   * Without it the store is read-only.
   */
  lock: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Replaces the configured model (tests, benchmarks). */
  model?: ModelPort;
  /** Tools registered beside the built-ins (crash tests register the ledger tool here). */
  extraTools?: readonly ToolDefinition[];
}

export interface Runtime {
  config: HarnessConfig;
  harness: Harness;
  store: LowdbRunStore;
  registry: ToolRegistry;
  roles: RoleCatalog;
  policy: CompiledPolicy;
  model: ModelPort;
  /** Absent in read-only use. */
  audit: AuditLog | undefined;
  /** Connections to the external MCP servers of `mcp.servers` (issue D). */
  externalMcp: ExternalMcpTools;
  /** Sub-agent lifecycle, per-run agent-tool MCP servers and the monitor (issue C). */
  subagents: SubagentServices;
  logger: Logger;
  /** Stops driving runs, flushes the store and releases the lock. */
  close(): Promise<void>;
}

/** What the config declares: policy, tools and roles. Pure of I/O but the role files. */
export interface Catalogs {
  policy: CompiledPolicy;
  registry: ToolRegistry;
  roles: RoleCatalog;
}

/**
 * Compiles the policy, registers the tools and loads the roles, in that order, so the bot, the CLI
 * (read and write) and the blueprint all see the same catalog.
 */
export function buildCatalogs(config: HarnessConfig, extraTools: readonly ToolDefinition[] = []): Catalogs {
  const policy = compilePolicy(config.policy);
  const registry = new ToolRegistry();
  registerBuiltins(registry, { workspaceRoot: config.workspaceRoot });
  for (const tool of extraTools) registry.register(tool);
  const roles = loadRoles(config.rolesDir, config.roles.default, knownToolNames(registry));
  return { policy, registry, roles };
}

/** Builds everything the harness needs from a validated config. */
export async function createRuntime(config: HarnessConfig, options: RuntimeOptions): Promise<Runtime> {
  const redactor = createRedactor(secretValues(config));
  const logger = options.logger ?? createLogger({ level: config.logLevel, redactor });
  const { policy, registry, roles } = buildCatalogs(config, options.extraTools);
  const model =
    options.model ??
    createModel({
      provider: config.model.provider,
      name: config.model.name,
      ...(config.model.baseUrl === undefined ? {} : { baseUrl: config.model.baseUrl }),
      ...(config.secrets.openaiApiKey === undefined ? {} : { apiKey: config.secrets.openaiApiKey }),
      timeoutMs: config.model.timeoutMs,
      scenariosPath: config.scenariosPath,
    });
  const clock = options.clock ?? systemClock;
  const store = await LowdbRunStore.open({ dataDir: config.dataDir, lock: options.lock, clock });
  // Read-only use (lock: false) creates nothing on disk, so it gets no audit log: it cannot decide.
  const audit = options.lock ? await AuditLog.open(join(config.dataDir, 'audit.jsonl'), { redactor }) : undefined;
  // Issue D: external MCP servers (mcp.servers) add `server__tool` tools to the registry; an
  // unreachable server is logged and retried, never fatal (docs/architecture/mcp-external.md).
  const externalMcp = await startExternalMcp(config, registry, logger);
  const harness = new Harness({
    store,
    model,
    registry,
    policy,
    roles,
    clock,
    budgets: config.budgets,
    modelRetries: config.model.maxRetries,
    crash: crashPointsFor(config.crashAt),
    redact: (value) => redactDeep(value, redactor),
    logger,
    ...(audit === undefined ? {} : { audit }),
  });
  const subagents = attachSubagents(harness, config);
  // Only the process that owns the data directory sweeps for stalled runs.
  if (options.lock) subagents.monitor.start(Math.max(1000, Math.min(30_000, Math.floor(config.agents.monitor.stallMs / 4))));
  return {
    config,
    harness,
    store,
    registry,
    roles,
    policy,
    model,
    audit,
    externalMcp,
    subagents,
    logger,
    async close() {
      await harness.stop();
      await subagents.close();
      await externalMcp.close();
      await store.close();
    },
  };
}
