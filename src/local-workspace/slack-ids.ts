/**
 * Identifier and timestamp formats the local workspace hands out, shaped like Slack's own so that
 * code which parses them (permalinks, dedupe keys, `thread_ts` comparisons) works unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';

/** The fixed identities of the local workspace. */
export const LocalIds = {
  teamId: 'T_LOCAL',
  teamDomain: 'local-workspace',
  teamName: 'Local Workspace',
  appId: 'A_LOCAL',
  botUserId: 'U_BOT',
  botId: 'B_BOT',
  botName: 'harness',
} as const;

/**
 * Issues Slack message timestamps (`"<seconds>.<6 digits>"`), strictly increasing even when the
 * clock stands still or steps back, because a `ts` is a message's primary key in a channel.
 */
export class TsClock {
  private lastMicros = 0;

  constructor(private readonly clock: Clock) {}

  /** The next timestamp; always greater than every timestamp issued before by this instance. */
  next(): string {
    const micros = Math.max(this.clock.now() * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    const seconds = Math.floor(micros / 1_000_000);
    const fraction = String(micros % 1_000_000).padStart(6, '0');
    return `${seconds}.${fraction}`;
  }
}

/** True when `value` looks like a Slack message timestamp. */
export function isSlackTs(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,12}\.\d{6}$/.test(value);
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('hex').toUpperCase();
}

/** An Events API `event_id` (`Ev…`). */
export function newEventId(): string {
  return `Ev${randomToken(6)}`;
}

/** A Socket Mode envelope id (Slack uses UUIDs). */
export function newEnvelopeId(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A view id (`V…`). */
export function newViewId(): string {
  return `V${randomToken(5)}`;
}

/** A `trigger_id` in Slack's `<digits>.<digits>.<hex>` shape. */
export function newTriggerId(nowMs: number): string {
  return `${Math.floor(nowMs / 1000)}.${Math.floor(Math.random() * 1e9)}.${randomBytes(16).toString('hex')}`;
}

/** An opaque single-use ticket / response-url id (URL-safe). */
export function newOpaqueId(): string {
  return randomBytes(12).toString('base64url');
}

/** A client message id (UUID-shaped), as Slack clients attach to user messages. */
export function newClientMsgId(): string {
  return newEnvelopeId();
}
