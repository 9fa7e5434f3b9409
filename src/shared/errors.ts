/**
 * The error model: every error the harness raises is a {@link BotError} with a stable string
 * `code`, a `retryable` flag decided where it is thrown, and the run it concerns. Subclasses say
 * who is at fault (operator, model, user, environment, our own bug). Retry loops read `retryable`,
 * never the message text.
 */

/** Stable error codes. Operators and tests match on these, so never rename one. */
export const ErrorCode = {
  ConfigInvalid: 'config_invalid',
  ExcessScopes: 'excess_scopes',
  ModelBehavior: 'model_behavior',
  InvalidToolCall: 'invalid_tool_call',
  ModelUnavailable: 'model_unavailable',
  PolicyDenied: 'policy_denied',
  ApprovalUnauthorized: 'approval_unauthorized',
  ApprovalConflict: 'approval_conflict',
  GateNotFound: 'gate_not_found',
  GateExpired: 'gate_expired',
  ArgsHashMismatch: 'args_hash_mismatch',
  RunNotFound: 'run_not_found',
  InvalidRunId: 'invalid_run_id',
  InvalidState: 'invalid_state',
  BudgetExceeded: 'budget_exceeded',
  ToolFailed: 'tool_failed',
  ToolTimeout: 'tool_timeout',
  SlackApi: 'slack_api',
  StoreCorrupt: 'store_corrupt',
  StoreLocked: 'store_locked',
  StoreIo: 'store_io',
  Usage: 'usage',
  Invariant: 'invariant',
  Unknown: 'unknown',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options shared by every {@link BotError}. */
export interface BotErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
  runId?: string;
  /** Structured, secret-free facts for logs and traces. */
  details?: Record<string, unknown>;
}

/** Base class of every error the harness raises on purpose. */
export class BotError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly runId: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.runId = options.runId;
    this.details = options.details ?? {};
  }

  /** A secret-free, JSON-safe view for traces, CLI `--json` output and Slack messages. */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return Object.keys(this.details).length > 0
      ? { code: this.code, message: this.message, retryable: this.retryable, details: this.details }
      : { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** The operator's configuration is wrong. Names keys, never their values. */
export class ConfigError extends BotError {
  constructor(message: string, options: BotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.ConfigInvalid, message, options);
  }
}

/** The model behaved in a way the run cannot continue from (e.g. N malformed calls in a row). */
export class ModelBehaviorError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.ModelBehavior, message, options);
  }
}

/** One malformed tool call; becomes a model-visible error result, never thrown out of a run. */
export class InvalidToolCallError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.InvalidToolCall, message, options);
  }
}

/** The model provider could not be reached or answered with an error. */
export class ModelUnavailableError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.ModelUnavailable, message, options);
  }
}

/** Policy refused an action. */
export class PolicyDeniedError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.PolicyDenied, message, options);
  }
}

/** A user may not decide this gate (not an approver, four-eyes, wrong team or app). */
export class ApprovalAuthError extends BotError {
  constructor(message: string, options: BotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.ApprovalUnauthorized, message, options);
  }
}

/** The gate was already decided (or is no longer pending); carries who decided it. */
export class ApprovalConflictError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.ApprovalConflict, message, options);
  }
}

/** A run, gate or other addressed thing does not exist, or its id is malformed. */
export class NotFoundError extends BotError {
  constructor(code: ErrorCode, message: string, options: BotErrorOptions = {}) {
    super(code, message, options);
  }
}

/** An operation is not allowed in the run's current state (e.g. approving a completed run). */
export class InvalidStateError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.InvalidState, message, options);
  }
}

/** A run exceeded one of its budgets (turns, tool calls, wall time, tokens). */
export class BudgetExceededError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.BudgetExceeded, message, options);
  }
}

/** A tool failed; its message is shown to the model. */
export class ToolError extends BotError {
  constructor(message: string, options: BotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.ToolFailed, message, options);
  }
}

/** A Slack Web API call failed with an error we cannot retry past. */
export class SlackApiError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.SlackApi, message, options);
  }
}

/** A store file is unreadable, invalid or of an unknown schema version; it was quarantined. */
export class StoreCorruptError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.StoreCorrupt, message, options);
  }
}

/** Another live process owns the data directory. */
export class StoreLockedError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.StoreLocked, message, options);
  }
}

/** Bad command-line usage (exit code 2). */
export class UsageError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.Usage, message, options);
  }
}

/** Our own bug: an invariant did not hold. Never retryable. */
export class InvariantError extends BotError {
  constructor(message: string, options: BotErrorOptions = {}) {
    super(ErrorCode.Invariant, message, { ...options, retryable: false });
  }
}

/** Normalises any thrown value into a {@link BotError} without losing the original as `cause`. */
/** The `code` of a Node.js system error (`ENOENT`, `EEXIST`, …), or undefined for anything else. */
export function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

export function asBotError(error: unknown): BotError {
  if (error instanceof BotError) return error;
  if (error instanceof Error) return new BotError(ErrorCode.Unknown, error.message, { cause: error });
  return new BotError(ErrorCode.Unknown, String(error), { cause: error });
}
