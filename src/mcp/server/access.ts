/**
 * The HTTP endpoint's gatekeepers, pure of I/O: which Host and Origin headers are accepted (DNS
 * rebinding protection), which bearer token a request carries, and the per-token rate limit.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { McpClientToken } from '../../config/load-config.ts';

/** Host names always accepted when the server is bound to loopback. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * True when the Host header names an accepted host (compared without its port, case-insensitive).
 * A missing or unparseable header is refused.
 */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  if (hostHeader === undefined || hostHeader.length === 0) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  return allowed.some((name) => name.toLowerCase() === hostname);
}

/**
 * True when the request carries no Origin (a non-browser client) or one of `allowed` exactly.
 * Browsers always send Origin on cross-origin POSTs, so a rebinding page is refused here.
 */
export function originAllowed(originHeader: string | undefined, allowed: readonly string[]): boolean {
  if (originHeader === undefined) return true;
  return allowed.includes(originHeader);
}

/** The host names a server bound to `host` accepts: the loopback names (when loopback) plus `extra`. */
export function acceptedHostNames(host: string, extra: readonly string[]): string[] {
  const loopback = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
  const names = [...(loopback ? LOOPBACK_HOST_NAMES : []), ...extra.map((h) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h))];
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Matches `Authorization: Bearer <token>` against the configured tokens in constant time per token. */
export class TokenTable {
  private readonly entries: { digest: Buffer; token: McpClientToken }[];

  constructor(tokens: readonly McpClientToken[]) {
    this.entries = tokens.map((token) => ({ digest: digest(token.token), token }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The client whose token the header carries, or null (missing, malformed or unknown). */
  authenticate(authorization: string | undefined): McpClientToken | null {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    if (match === null) return null;
    const presented = digest(match[1] as string);
    let found: McpClientToken | null = null;
    // Compare against every entry, so the time taken does not say which one matched.
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, presented)) found = entry.token;
    return found;
  }
}

/** The outcome of {@link RateLimiter.take}. */
export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * A token bucket per client name: `burst` requests at once, refilled at `perMinute` per minute.
 * Time comes from `now` (the harness clock), so tests drive it without sleeping.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly limits: { requestsPerMinute: number; burst: number },
    private readonly now: () => number,
  ) {
    this.perMs = limits.requestsPerMinute / 60_000;
  }

  /** Takes one request from `client`'s bucket, or says how long until one is free. */
  take(client: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.limits.burst, at: now };
    const tokens = Math.min(this.limits.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
    if (tokens >= 1) {
      this.buckets.set(client, { tokens: tokens - 1, at: now });
      return { ok: true };
    }
    this.buckets.set(client, { tokens, at: now });
    return { ok: false, retryAfterMs: Math.ceil((1 - tokens) / this.perMs) };
  }
}
