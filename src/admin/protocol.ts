/**
 * The admin socket's wire format (docs/architecture/admin-socket.md): newline-delimited JSON, one
 * request line and one response line per connection.
 *
 * ```
 * → {"v":1,"op":"approve","args":{"runId":"r_…","gateId":"g_…"},"actor":{"userId":"U_APPROVER1"}}
 * ← {"ok":true,"result":{"doc":{…RunDoc…},"gate":{…Gate…}}}
 * ← {"ok":false,"error":{"code":"approval_conflict","message":"already approved by U_APPROVER1","retryable":false}}
 * ```
 *
 * Requests are validated strictly (unknown keys, ops or versions are refused). There is no
 * `source` field: the server records every actor as `cli` (an operator on the host). Authority
 * to decide still comes from the gate as persisted (approver list, four-eyes), checked by the
 * Harness exactly as for a Slack click.
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  ApprovalAuthError,
  ApprovalConflictError,
  BotError,
  ErrorCode,
  InvalidStateError,
  NotFoundError,
  StoreLockedError,
  UsageError,
} from '../shared/errors.ts';
import { Gate, RunDoc } from '../store/run-schema.ts';

/** Name of the socket inside the data directory. */
export const ADMIN_SOCKET_FILE = 'admin.sock';

/** The protocol version a request carries in `v`. */
export const ADMIN_PROTOCOL_VERSION = 1;

/** Largest request line (without its newline) the server reads. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Largest response line the client reads (a run document with its whole trace). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** `<dataDir>/admin.sock`, absolute. */
export function adminSocketPath(dataDir: string): string {
  return join(resolve(dataDir), ADMIN_SOCKET_FILE);
}

/** The write operations the socket accepts: exactly the CLI's write commands. */
export const ADMIN_OPS = ['start', 'approve', 'reject', 'resume', 'cancel', 'retry-step', 'skip-step'] as const;
export type AdminOp = (typeof ADMIN_OPS)[number];

/** Free text (task, reason): its size is bounded by the request line; the Harness applies its own limits. */
const Text = z.string();
/** Run ids are checked by the Harness (`assertRunId`, `invalid_run_id`); here only their size. */
const RunIdArg = z.string().min(1).max(200);
const GateIdArg = z.string().min(1).max(200);

const Actor = z.strictObject({ userId: z.string().trim().min(1, 'actor.userId is empty').max(200) });

const ArgsByOp = {
  start: z.strictObject({ task: Text, role: z.string().min(1).max(200).optional() }),
  approve: z.strictObject({
    runId: RunIdArg,
    gateId: GateIdArg.optional(),
    /** Any JSON value; the Harness validates it against the tool's schema and policy. */
    editedArgs: z.unknown().optional(),
    reason: Text.optional(),
  }),
  reject: z.strictObject({ runId: RunIdArg, gateId: GateIdArg.optional(), reason: Text }),
  resume: z.strictObject({ runId: RunIdArg }),
  cancel: z.strictObject({ runId: RunIdArg, reason: Text.optional() }),
  'retry-step': z.strictObject({ runId: RunIdArg }),
  'skip-step': z.strictObject({ runId: RunIdArg }),
} as const satisfies Record<AdminOp, z.ZodType>;

type ArgsOf<Op extends AdminOp> = z.infer<(typeof ArgsByOp)[Op]>;

/** One validated request. */
export type AdminRequest = {
  [Op in AdminOp]: { v: typeof ADMIN_PROTOCOL_VERSION; op: Op; args: ArgsOf<Op>; actor: z.infer<typeof Actor> };
}[AdminOp];

/** The outer shape only: no other keys. Each field is checked below with its own message. */
const Envelope = z.strictObject({
  v: z.unknown().optional(),
  op: z.unknown().optional(),
  args: z.unknown().optional(),
  actor: z.unknown().optional(),
});

/** The first few problems, paths and zod's messages only (which name types, never values), clipped. */
function issues(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/**
 * Validates a decoded request.
 * @throws UsageError naming what is wrong (never echoing values).
 */
export function parseAdminRequest(value: unknown): AdminRequest {
  const envelope = Envelope.safeParse(value);
  if (!envelope.success) throw new UsageError(`invalid admin request: ${issues(envelope.error)}`);
  const { v, op, args, actor } = envelope.data;
  if (v !== ADMIN_PROTOCOL_VERSION) {
    const shown = typeof v === 'number' ? ` ${v}` : '';
    throw new UsageError(`unsupported admin protocol version${shown}; this bot speaks v${ADMIN_PROTOCOL_VERSION}`);
  }
  if (typeof op !== 'string' || !(ADMIN_OPS as readonly string[]).includes(op)) {
    throw new UsageError(`unknown admin op; expected one of ${ADMIN_OPS.join(', ')}`);
  }
  const parsedActor = Actor.safeParse(actor);
  if (!parsedActor.success) throw new UsageError(`invalid admin request actor: ${issues(parsedActor.error)}`);
  const parsedArgs = ArgsByOp[op as AdminOp].safeParse(args);
  if (!parsedArgs.success) throw new UsageError(`invalid arguments for ${op}: ${issues(parsedArgs.error)}`);
  return { v: ADMIN_PROTOCOL_VERSION, op, args: parsedArgs.data, actor: parsedActor.data } as AdminRequest;
}

/**
 * Decodes one request line.
 * @throws UsageError for bad JSON or an invalid request.
 */
export function decodeAdminRequest(line: string): AdminRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UsageError('invalid admin request: not JSON');
  }
  return parseAdminRequest(value);
}

/** One request as the line the client writes (with its newline). */
export function encodeAdminRequest(request: AdminRequest): string {
  return `${JSON.stringify(request)}\n`;
}

/** What a write returns: the run as persisted after the operation, and the decided gate for decisions. */
export interface AdminResult {
  doc: RunDoc;
  gate?: Gate;
}

/** A failure as it travels: `BotError.toJSON()`. */
export const WireError = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof WireError>;

const AdminResponse = z.union([
  z.strictObject({ ok: z.literal(true), result: z.strictObject({ doc: RunDoc, gate: Gate.optional() }) }),
  z.strictObject({ ok: z.literal(false), error: WireError }),
]);
export type AdminResponse = { ok: true; result: AdminResult } | { ok: false; error: WireError };

/** The response line for a result (with its newline). */
export function encodeResult(result: AdminResult): string {
  const body: AdminResponse = { ok: true, result: result.gate === undefined ? { doc: result.doc } : { doc: result.doc, gate: result.gate } };
  return `${JSON.stringify(body)}\n`;
}

/** The response line for an error (with its newline): `BotError.toJSON()`, never a stack or cause. */
export function encodeError(error: BotError): string {
  return `${JSON.stringify({ ok: false, error: error.toJSON() } satisfies AdminResponse)}\n`;
}

/**
 * Decodes one response line.
 * @throws BotError `unknown` when the answer is not JSON or not a valid response.
 */
export function decodeAdminResponse(line: string): AdminResponse {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new BotError(ErrorCode.Unknown, 'the bot answered on its admin socket with something that is not JSON');
  }
  const parsed = AdminResponse.safeParse(value);
  if (!parsed.success) throw new BotError(ErrorCode.Unknown, `the bot's admin answer is malformed: ${issues(parsed.error)}`);
  return parsed.data;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * The error the bot reported, rebuilt as the same typed {@link BotError} the local path throws,
 * so the CLI prints the same message and exits with the same code (2 for usage, 1 otherwise).
 */
export function errorFromWire(wire: WireError): BotError {
  const code = (KNOWN_CODES.has(wire.code) ? wire.code : ErrorCode.Unknown) as ErrorCode;
  const options = { retryable: wire.retryable ?? false, ...(wire.details === undefined ? {} : { details: wire.details }) };
  switch (code) {
    case ErrorCode.Usage:
      return new UsageError(wire.message, options);
    case ErrorCode.ApprovalConflict:
      return new ApprovalConflictError(wire.message, options);
    case ErrorCode.ApprovalUnauthorized:
      return new ApprovalAuthError(wire.message, options);
    case ErrorCode.InvalidState:
      return new InvalidStateError(wire.message, options);
    case ErrorCode.StoreLocked:
      return new StoreLockedError(wire.message, options);
    case ErrorCode.RunNotFound:
    case ErrorCode.GateNotFound:
    case ErrorCode.InvalidRunId:
      return new NotFoundError(code, wire.message, options);
    default:
      return new BotError(code, wire.message, options);
  }
}
