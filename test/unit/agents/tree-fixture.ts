/**
 * A harness for multi-agent tests: roles pm / lead (conversational), researcher / writer / ticker
 * (workers), one scripted model per role, and the sub-agent services wired the way
 * `createRuntime` wires them (`attachSubagents`): every run is offered, and reaches, its OWN MCP
 * server's tools through the runner's per-run tool view.
 * Also: a "wait until" helper driven by commits, and tools that hang or tick on the fake clock.
 */
import { z } from 'zod';
import type { RoleDefinition } from '../../../src/agents/role-types.ts';
import { attachSubagents } from '../../../src/agents/subagents/attach.ts';
import { DEFAULT_MONITOR_SETTINGS, type MonitorSettings } from '../../../src/agents/subagents/monitor.ts';
import type { RunMonitor } from '../../../src/agents/subagents/run-monitor.ts';
import type { SubagentManager, SubagentLimits } from '../../../src/agents/subagents/subagent-manager.ts';
import { RoleRoutedModel } from '../../../src/agents/subagents/testing/role-routed-model.ts';
import type { AgentToolProvider } from '../../../src/mcp/agent-tools/run-tool-provider.ts';
import type { ModelMessage } from '../../../src/model/port.ts';
import type { ScriptedStepSource } from '../../../src/model/scripted-model.ts';
import type { Harness } from '../../../src/orchestrator/harness.ts';
import type { FakeClock } from '../../../src/shared/clock.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import type { RunStore } from '../../../src/store/port.ts';
import type { ToolDefinition } from '../../../src/tools/types.ts';
import { type Fixture, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

export const AGENT_READ_TOOLS = ['list_agents', 'list_tasks', 'get_task_context'];
export const AGENT_ALL_TOOLS = [...AGENT_READ_TOOLS, 'draft_agent', 'await_agent', 'kill_agent'];

const role = (name: string, category: RoleDefinition['category'], tools: string[]): RoleDefinition => ({
  name,
  category,
  description: `${name} role`,
  instructions: `You are the ${name}.`,
  tools,
});

/** The roles every tree test uses (agent tools are granted by category, never listed). */
export const treeRoles: RoleDefinition[] = [
  role('pm', 'conversational', []),
  role('lead', 'conversational', ['hang', 'ledger_note']),
  role('researcher', 'worker', ['workspace_search', 'workspace_read', 'hang', 'ledger_note']),
  role('writer', 'worker', ['workspace_read', 'workspace_write']),
  role('ticker', 'worker', ['tick']),
  role('critic', 'reviewer', ['workspace_read']),
];

export const DEFAULT_LIMITS: SubagentLimits = { maxDepth: 2, maxChildrenPerRun: 5, maxTreeTokens: 1_000_000 };

export interface TreeOptions {
  scripts: Partial<Record<string, ScriptedStepSource[]>>;
  limits?: Partial<SubagentLimits>;
  monitor?: Partial<MonitorSettings>;
  tools?: ToolDefinition[];
  store?: RunStore;
  clock?: FakeClock;
  budgets?: Parameters<typeof makeHarness>[0]['budgets'];
  contextChars?: number;
  policy?: Parameters<typeof makeHarness>[0]['policy'];
}

export interface TreeFixture extends Fixture {
  manager: SubagentManager;
  provider: AgentToolProvider;
  monitor: RunMonitor;
  close(): Promise<void>;
}

/** Builds the tree harness. Call `close()` in afterEach. */
export function makeTree(options: TreeOptions): TreeFixture {
  const model = new RoleRoutedModel(treeRoles.map((r) => [r, ScriptedModel.fromSteps(options.scripts[r.name] ?? [])] as const));
  const fixture = makeHarness({
    model,
    roles: treeRoles,
    tools: options.tools ?? [],
    budgets: { maxActiveRunsPerUser: 20, ...options.budgets },
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  });
  const { harness } = fixture;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const services = attachSubagents(harness, {
    agents: {
      ...limits,
      maxAwaitSeconds: 600,
      contextChars: options.contextChars ?? 8000,
      monitor: { ...DEFAULT_MONITOR_SETTINGS, ...options.monitor },
    },
    mcp: { fullAccessCategories: ['conversational'] },
  });
  return {
    ...fixture,
    manager: services.manager,
    provider: services.provider,
    monitor: services.monitor,
    async close() {
      await harness.stop();
      await services.close();
      fixture.cleanup();
    },
  };
}

/**
 * Resolves with the first truthy value of `check`, re-evaluated after every commit (no polling
 * loop). The test's own timeout bounds it.
 */
export function until<T>(harness: Harness, check: () => Promise<T | undefined | null | false>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let running = false;
    let again = false;
    const evaluate = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const value = await check();
          if (value) {
            done = true;
            unsubscribe();
            resolve(value);
            return;
          }
        } while (again && !done);
      } catch (error) {
        done = true;
        unsubscribe();
        reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        running = false;
      }
    };
    const unsubscribe = harness.onCommit(() => {
      if (!done) void evaluate();
    });
    void evaluate();
  });
}

/** The doc of `runId` once `predicate` holds. */
export function untilRun(harness: Harness, runId: string, predicate: (doc: RunDoc) => boolean): Promise<RunDoc> {
  return until(harness, async () => {
    const doc = await harness.deps.store.get(runId);
    return doc && predicate(doc) ? doc : undefined;
  });
}

/**
 * Resolves once the fake clock has at least `count` sleepers (code under test parked on a timer
 * that no commit announces). Yields to the event loop between looks; bounded.
 */
export async function untilSleeping(clock: FakeClock, count: number): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (clock.pendingSleeps >= count) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`the fake clock never had ${count} sleepers (it has ${clock.pendingSleeps})`);
}

/**
 * Resolves once `hang` was entered by `runId`. Kill tests wait for it: the runner commits
 * `tool_start` a few ticks before the handler runs, and a cancel landing in between is a
 * different case (nothing in flight) from the one under test.
 */
export async function untilEntered(hang: { entered: string[] }, runId: string): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (hang.entered.includes(runId)) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`run ${runId} never entered the hang tool`);
}

/** JSON results of successful tool calls in a conversation, oldest first. */
export function toolResults(messages: readonly ModelMessage[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const message of messages) {
    if (message.role !== 'tool' || message.content.startsWith('ERROR: ')) continue;
    try {
      const parsed = JSON.parse(message.content) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) out.push(parsed as Record<string, unknown>);
    } catch {
      // not JSON: not an agent tool result
    }
  }
  return out;
}

/** The latest tool message of a conversation. */
export function lastTool(messages: readonly ModelMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'tool');
  return last?.role === 'tool' ? last.content : '';
}

/** The agent id from the newest draft_agent result. */
export function lastDraftedId(messages: readonly ModelMessage[]): string {
  const drafted = toolResults(messages).filter((r) => typeof r['agent_id'] === 'string' && r['next'] !== undefined);
  return String(drafted.at(-1)?.['agent_id'] ?? 'none');
}

/** A tool that never returns; records that it was entered and the abort it saw. */
export function hangTool(): { definition: ToolDefinition; entered: string[]; aborted: string[] } {
  const entered: string[] = [];
  const aborted: string[] = [];
  const definition: ToolDefinition = {
    name: 'hang',
    description: 'Waits until it is aborted.',
    inputSchema: z.strictObject({}),
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    timeoutMs: 100_000_000,
    handler: (_args, ctx) =>
      new Promise((_resolve, reject) => {
        entered.push(ctx.runId);
        ctx.signal.addEventListener(
          'abort',
          () => {
            aborted.push(ctx.runId);
            reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
          },
          { once: true },
        );
      }),
  };
  return { definition, entered, aborted };
}

/**
 * A slow ledger: each call sleeps 1 s on the fake clock, then appends its idempotency key. The
 * test advances the clock to let calls complete, and `parked(n)` resolves once the n-th call is
 * asleep, so no real time is involved.
 */
export function tickTool(clock: FakeClock): {
  definition: ToolDefinition;
  ledger: string[];
  aborted: string[];
  parked(n: number): Promise<void>;
} {
  const ledger: string[] = [];
  const aborted: string[] = [];
  let parkedCount = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  const definition: ToolDefinition = {
    name: 'tick',
    description: 'Appends one tick to the ledger after a second.',
    inputSchema: z.strictObject({}),
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    timeoutMs: 100_000_000,
    handler: async (_args, ctx) => {
      const sleeping = clock.sleep(1000, ctx.signal);
      parkedCount += 1;
      const due = waiters.filter((w) => w.n <= parkedCount);
      waiters = waiters.filter((w) => w.n > parkedCount);
      for (const w of due) w.resolve();
      try {
        await sleeping;
      } catch (error) {
        aborted.push(ctx.idempotencyKey);
        throw error;
      }
      ledger.push(ctx.idempotencyKey);
      return { content: JSON.stringify({ ticks: ledger.length }) };
    },
  };
  return {
    definition,
    ledger,
    aborted,
    parked: (n) => (parkedCount >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
  };
}
