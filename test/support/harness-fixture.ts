/**
 * Builds a Harness over fakes for unit tests: the in-memory store, a scripted model, a fake clock,
 * the real policy engine and the real built-in tools over a tmp workspace, plus ledger tools that
 * count side effects. Each call gets its own tmp workspace; `cleanup()` removes it.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticRoleCatalog, type RoleDefinition } from '../../src/agents/role-types.ts';
import type { ModelPort } from '../../src/model/port.ts';
import { ScriptedModel } from '../../src/model/scripted-model.ts';
import { Harness } from '../../src/orchestrator/harness.ts';
import { type CrashPoints, noCrashPoints, silentCoreLogger, type AuditSink } from '../../src/orchestrator/deps.ts';
import { compilePolicy } from '../../src/policy/engine.ts';
import type { PolicyConfigInput } from '../../src/policy/types.ts';
import { FakeClock } from '../../src/shared/clock.ts';
import { MemoryRunStore } from '../../src/store/memory-run-store.ts';
import type { RunStore } from '../../src/store/port.ts';
import { registerBuiltins } from '../../src/tools/builtins/index.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { createLedgerTool, type LedgerTool } from '../../src/tools/testing/ledger-tool.ts';
import type { ToolDefinition } from '../../src/tools/types.ts';

export const REQUESTER = 'U_REQUESTER';
export const APPROVER = 'U_APPROVER1';
export const APPROVER2 = 'U_APPROVER2';

/** The policy the fixture uses unless a test passes its own. */
export const testPolicy: PolicyConfigInput = {
  approvers: { default: [APPROVER, APPROVER2], categories: {} },
  network: { allowHosts: ['127.0.0.1', 'example.com'] },
  filesystem: { roots: ['reports'] },
};

export const writerRole: RoleDefinition = {
  name: 'writer',
  category: 'worker',
  description: 'writes reports',
  instructions: 'You write reports.',
  tools: '*',
};

export interface FixtureOptions {
  model?: ModelPort;
  policy?: PolicyConfigInput;
  tools?: ToolDefinition[];
  roles?: RoleDefinition[];
  budgets?: Partial<Harness['deps']['budgets']>;
  modelRetries?: number;
  crash?: CrashPoints;
  store?: RunStore;
  audit?: AuditSink;
  clock?: FakeClock;
}

export interface Fixture {
  harness: Harness;
  store: RunStore;
  clock: FakeClock;
  registry: ToolRegistry;
  workspaceRoot: string;
  ledger: LedgerTool;
  cleanup(): void;
}

/** A harness over fakes; pass `model` (usually `ScriptedModel.fromSteps([...])`). */
export function makeHarness(options: FixtureOptions & { model: ModelPort }): Fixture {
  const workspaceRoot = mkdtempSync(join(tmpdir(), 'harness-ws-'));
  mkdirSync(join(workspaceRoot, 'notes'));
  writeFileSync(
    join(workspaceRoot, 'notes', 'durable-execution.md'),
    '# Durable execution\nDurable execution persists every step before its effect. A crash resumes from the last checkpoint.\n',
  );
  const registry = new ToolRegistry();
  registerBuiltins(registry, { workspaceRoot });
  const ledger = createLedgerTool();
  registry.register(ledger.definition);
  for (const tool of options.tools ?? []) registry.register(tool);
  const clock = options.clock ?? new FakeClock();
  const store = options.store ?? new MemoryRunStore();
  const harness = new Harness({
    store,
    model: options.model,
    registry,
    policy: compilePolicy(options.policy ?? testPolicy),
    roles: staticRoleCatalog(options.roles ?? [writerRole], (options.roles ?? [writerRole])[0]?.name ?? 'writer'),
    clock,
    budgets: {
      maxTurns: 20,
      maxToolCalls: 40,
      maxWallMs: 600_000,
      maxTokens: 1_000_000,
      maxConsecutiveInvalid: 3,
      toolTimeoutMs: 5_000,
      maxInputChars: 20_000,
      maxArgumentsBytes: 64 * 1024,
      maxActiveRunsPerUser: 5,
      maxActiveRunsPerChannel: 20,
      dailyTokensPerUser: 10_000_000,
      ...options.budgets,
    },
    modelRetries: options.modelRetries ?? 2,
    crash: options.crash ?? noCrashPoints,
    redact: (value) => value,
    logger: silentCoreLogger,
    ...(options.audit === undefined ? {} : { audit: options.audit }),
  });
  return {
    harness,
    store,
    clock,
    registry,
    workspaceRoot,
    ledger,
    cleanup: () => rmSync(workspaceRoot, { recursive: true, force: true }),
  };
}

export { ScriptedModel };
