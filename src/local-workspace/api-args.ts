/**
 * Reading Web API arguments the way Slack does: `@slack/web-api` sends form-encoded bodies where
 * arrays and objects arrive as JSON strings and booleans as `"true"`, while other clients send
 * JSON bodies with real types. Every reader accepts both.
 */
import { randomBytes } from 'node:crypto';
import { WorkspaceError } from './workspace-state.ts';

/** A parsed request body. */
export type ApiArgs = Record<string, unknown>;

/** A string argument. @throws WorkspaceError `errorCode` when absent or empty. */
export function requireString(args: ApiArgs, key: string, errorCode = 'invalid_arguments'): string {
  const value = args[key];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') throw new WorkspaceError(errorCode, `missing ${key}`);
  return value;
}

/** An optional string argument (`''` counts as absent). */
export function optionalString(args: ApiArgs, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A boolean argument (`true`, `"true"`, `"1"`, `1`). */
export function booleanArg(args: ApiArgs, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** A positive integer argument within bounds, or the default. @throws WorkspaceError `invalid_limit`. */
export function intArg(args: ApiArgs, key: string, fallback: number, max: number): number {
  const value = args[key];
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new WorkspaceError('invalid_limit', `${key} must be a positive integer`);
  return Math.min(n, max);
}

/**
 * A JSON argument (already an object in a JSON body, a string in a form body), or `undefined`.
 * @throws WorkspaceError `errorCode` when the string is not JSON.
 */
export function jsonArg(args: ApiArgs, key: string, errorCode: string): unknown {
  const value = args[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new WorkspaceError(errorCode, `${key} is not valid JSON`);
  }
}

/** Slack's opaque pagination cursor, here an encoded offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64');
}

/** Decodes {@link encodeCursor}; absent means 0. @throws WorkspaceError `invalid_cursor`. */
export function decodeCursor(args: ApiArgs): number {
  const cursor = optionalString(args, 'cursor');
  if (cursor === undefined) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (match?.[1] === undefined) throw new WorkspaceError('invalid_cursor');
  return Number(match[1]);
}

/**
 * Gives every block without a `block_id` a generated one, as Slack does when it stores a message
 * or view (so payloads and `conversations.history` always carry block ids). Returns new objects.
 */
export function withBlockIds(blocks: unknown[]): unknown[] {
  return blocks.map((block) => {
    if (block === null || typeof block !== 'object' || Array.isArray(block)) return block;
    const record = block as Record<string, unknown>;
    return typeof record['block_id'] === 'string' ? { ...record } : { ...record, block_id: randomBytes(3).toString('base64url') };
  });
}
