/**
 * Identifiers. Run ids become file names, so they are validated before anything touches the disk:
 * a malformed id (`../x`, `a/b`, empty) is refused with a clear message and creates nothing.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, NotFoundError } from './errors.ts';

/** The shape of a run id (also sent to MCP clients as the JSON Schema `pattern`). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;

/** True when `value` is a syntactically valid run id. */
export function isValidRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}

/**
 * Returns `value` if it is a valid run id.
 * @throws NotFoundError with code `invalid_run_id` naming the bad input.
 */
export function assertRunId(value: string): string {
  if (!isValidRunId(value)) {
    throw new NotFoundError(
      ErrorCode.InvalidRunId,
      `invalid run id ${JSON.stringify(value)}: expected 1-80 characters of letters, digits, '_' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

/** A new, sortable run id: `r_` + time (base36) + random suffix. */
export function newRunId(now: number): string {
  return `r_${now.toString(36)}${randomBytes(5).toString('hex')}`;
}

/** A run id derived from an external delivery id (e.g. Slack `event_id`), so redeliveries dedupe. */
export function runIdFromExternal(prefix: string, externalId: string): string {
  const safe = externalId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
  return assertRunId(`${prefix}_${safe}`);
}

/** A new gate id. */
export function newGateId(): string {
  return `g_${randomBytes(8).toString('hex')}`;
}

/** A random nonce carried by buttons next to the gate id; never authority on its own. */
export function newNonce(): string {
  return randomBytes(9).toString('base64url');
}
