/**
 * What the orchestrator runs on. Every field is a seam: tests pass fakes (memory store, scripted
 * model, fake clock), `main.ts` and the CLI pass the real ones.
 */
import type { RoleCatalog } from '../agents/role-types.ts';
import type { HarnessConfig } from '../config/schema.ts';
import type { ModelPort } from '../model/port.ts';
import type { CompiledPolicy } from '../policy/types.ts';
import type { Clock } from '../shared/clock.ts';
import type { BudgetExceededError } from '../shared/errors.ts';
import type { RunStore } from '../store/port.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { RunToolProvider } from './tool-view.ts';

/** The logging surface the core needs (pino's logger satisfies it). */
export interface CoreLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Named crash points (RELIABILITY.md rig): production passes `noCrashPoints`. */
export interface CrashPoints {
  hit(name: CrashPointName): void;
}

/** Every place a crash test may kill the process, in the order a run passes them. */
export const CRASH_POINT_NAMES = [
  'after-run-created',
  'after-model-response',
  'after-model-persisted',
  'after-gate-persisted',
  'after-approval-recorded',
  'before-tool-exec',
  'after-tool-exec-before-checkpoint',
  'after-tool-checkpoint',
] as const;
export type CrashPointName = (typeof CRASH_POINT_NAMES)[number];

/** Where decisions are appended for the tamper-evident audit chain. */
export interface AuditSink {
  append(entry: {
    ts: number;
    runId: string;
    gateId?: string;
    action: string;
    actor: string;
    source: string;
    argsHash?: string;
    reason?: string;
  }): Promise<unknown>;
  /**
   * The audit lines written so far (gate and action are enough). Recovery uses it to write the
   * line of a decision whose commit landed just before a crash cut off its audit append.
   */
  records?(): Promise<readonly { gateId?: string | undefined; action: string }[]>;
}

export interface HarnessDeps {
  store: RunStore;
  model: ModelPort;
  registry: ToolRegistry;
  policy: CompiledPolicy;
  roles: RoleCatalog;
  clock: Clock;
  /** `maxConcurrentRuns` may be omitted (then {@link DEFAULT_MAX_CONCURRENT_RUNS}). */
  budgets: Omit<HarnessConfig['budgets'], 'maxConcurrentRuns' | 'followUpContextTokens'> & {
    maxConcurrentRuns?: number;
    followUpContextTokens?: number;
  };
  /** Retries of retryable model errors (config `model.maxRetries`). */
  modelRetries: number;
  crash: CrashPoints;
  /** Scrubs secrets from anything about to be persisted. */
  redact: (value: unknown) => unknown;
  logger: CoreLogger;
  audit?: AuditSink;
  /**
   * Tools that exist for one run only (each run's own agent-tool MCP server, issue C). Installed
   * after construction with `Harness.useRunTools`, because the provider needs the harness.
   */
  runTools?: RunToolProvider;
  /** Per-user daily token budget; the Harness installs its own (see `user-quota.ts`). */
  quota?: { checkTokens(userId: string, now: number): Promise<BudgetExceededError | null> };
}

/** The global cap on running tasks when the deps do not set one (config default too). */
export const DEFAULT_MAX_CONCURRENT_RUNS = 8;

/** The follow-up context budget in tokens when the deps do not set one (config default too). */
export const DEFAULT_FOLLOW_UP_CONTEXT_TOKENS = 1500;

export const noCrashPoints: CrashPoints = { hit: () => undefined };

/** A logger that drops everything (tests, and CLI commands that print JSON). */
export const silentCoreLogger: CoreLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
