/**
 * Secret scrubbing (RELIABILITY.md P16). Every string that may reach a log line, a trace, the run
 * store, the audit log or Slack can be passed through a {@link Redactor}: it replaces the exact
 * values of the configured secrets and anything shaped like a Slack token, an OpenAI-style key or
 * a bearer credential with {@link REDACTED}. It is a backstop, not a licence to log secrets: code
 * still keeps tokens out of what it logs and persists.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Exact secret values shorter than this are not matched (they would blank ordinary words). */
export const MIN_SECRET_LENGTH = 8;

/** Replaces secrets in one string. Pure and idempotent: `r(r(x)) === r(x)`. */
export type Redactor = (text: string) => string;

// A lookbehind instead of \b: `task-runner12` must not look like an `sk-` key, but `"sk-…` must.
const TOKEN_PATTERNS: readonly RegExp[] = [
  /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]+/g,
  /(?<![A-Za-z0-9])xapp-[A-Za-z0-9-]+/g,
  /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{8,}/g,
];
// The scheme word is kept so a reader still sees what kind of credential was there.
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Builds a redactor for the given secret values (empty, missing and short values are ignored).
 * Besides each raw value it also matches its JSON-escaped form, so a secret containing quotes or
 * backslashes is still caught inside an already serialised log line.
 */
export function createRedactor(secrets: readonly (string | undefined | null)[]): Redactor {
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue;
    // A "secret" inside the marker itself would make redaction non-idempotent.
    if (REDACTED.includes(secret)) continue;
    variants.add(secret);
    variants.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const exact =
    variants.size === 0
      ? null
      : new RegExp(
          [...variants]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|'),
          'g',
        );
  return (text: string): string => {
    let out = exact === null ? text : text.replace(exact, REDACTED);
    for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
    return out.replace(BEARER, `$1 ${REDACTED}`);
  };
}

/** A redactor that only applies the token patterns (no configured secrets). */
export const patternRedactor: Redactor = createRedactor([]);

function redactError(error: Error, redactor: Redactor, seen: WeakMap<object, unknown>): Error {
  // Same prototype, so `instanceof` and `constructor.name` (pino's `type`) survive the copy.
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error & Record<string, unknown>;
  seen.set(error, copy);
  Object.defineProperty(copy, 'message', { value: redactor(error.message), enumerable: false, writable: true, configurable: true });
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, writable: true, configurable: true });
  if (typeof error.stack === 'string') {
    Object.defineProperty(copy, 'stack', { value: redactor(error.stack), enumerable: false, writable: true, configurable: true });
  }
  if (error.cause !== undefined) {
    Object.defineProperty(copy, 'cause', {
      value: walk(error.cause, redactor, seen),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  for (const [key, value] of Object.entries(error)) copy[redactor(key)] = walk(value, redactor, seen);
  return copy;
}

function walk(value: unknown, redactor: Redactor, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redactor(value);
  if (value === null || typeof value !== 'object') return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (value instanceof Error) return redactError(value, redactor, seen);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(walk(item, redactor, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    // Dates, buffers, maps, class instances: not data we build logs or traces from. Their
    // JSON form is what would leak, so scrub that when they have one.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk((toJSON as () => unknown).call(value), redactor, seen);
    return value;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    // defineProperty, not assignment: a `__proto__` key must stay data.
    Object.defineProperty(out, redactor(key), { value: walk(item, redactor, seen), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Returns a deep copy of `value` with every string (keys included) passed through `redactor`.
 * Plain objects and arrays are copied, errors are copied with the same prototype (message, stack,
 * cause and own fields redacted), values with `toJSON` are replaced by their redacted JSON form,
 * and cycles are preserved. Never mutates its input.
 */
export function redactDeep<T>(value: T, redactor: Redactor): T {
  return walk(value, redactor, new WeakMap()) as T;
}
