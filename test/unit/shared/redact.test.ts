import { describe, expect, it } from 'vitest';
import { createRedactor, patternRedactor, REDACTED, redactDeep } from '../../../src/shared/redact.ts';

const SECRET = 'CANARY-secret-value-91';

describe('createRedactor', () => {
  const redact = createRedactor([SECRET, 'short', undefined, '']);

  it('replaces exact secret values wherever they occur', () => {
    expect(redact(`a ${SECRET} b${SECRET}c`)).toBe(`a ${REDACTED} b${REDACTED}c`);
  });

  it('ignores secrets shorter than 8 characters', () => {
    expect(redact('a short word')).toBe('a short word');
  });

  it.each([
    ['xoxb-123-456-abcDEF', 'bot token'],
    ['xoxp-1-2-3', 'user token'],
    ['xoxa-2-abc', 'app token (legacy)'],
    ['xoxr-refresh-1', 'refresh token'],
    ['xoxs-1-2', 'session token'],
    ['xapp-1-A012-345-abcdef', 'app-level token'],
    ['sk-abcdefgh12345', 'OpenAI-style key'],
    ['sk-proj-Abc_123-xyz', 'project key'],
  ])('redacts %s (%s) by pattern', (token) => {
    expect(redact(`token=${token}; next`)).toBe(`token=${REDACTED}; next`);
    expect(patternRedactor(`"${token}"`)).toBe(`"${REDACTED}"`);
  });

  it('keeps the Bearer scheme word and redacts the credential', () => {
    expect(redact('Authorization: Bearer abc.DEF-123_xyz=')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redact('authorization: bearer 0123456789abcdef')).toBe(`authorization: bearer ${REDACTED}`);
  });

  it('does not redact ordinary words that contain the prefixes', () => {
    const text = 'task-runner12345 desk-lamp-model xoxo-hugs sk-short';
    expect(redact(text)).toBe(text);
  });

  it('is idempotent', () => {
    const once = redact(`xoxb-1-2 ${SECRET} Bearer abcdefgh1234`);
    expect(redact(once)).toBe(once);
  });

  it('catches the JSON-escaped form of a secret with quotes or backslashes', () => {
    const tricky = 'pa"ss\\word-123';
    const r = createRedactor([tricky]);
    expect(r(JSON.stringify({ v: tricky }))).toBe(`{"v":"${REDACTED}"}`);
    expect(r(`raw ${tricky}`)).toBe(`raw ${REDACTED}`);
  });

  it('never treats a substring of the marker as a secret (that would break idempotency)', () => {
    const r = createRedactor(['REDACTED']);
    expect(r('a REDACTED b')).toBe('a REDACTED b');
    expect(r(r(`a ${REDACTED} b`))).toBe(`a ${REDACTED} b`);
  });
});

describe('redactDeep', () => {
  const redact = createRedactor([SECRET]);

  it('redacts nested strings and keys without mutating the input', () => {
    const input = { a: [{ b: `x ${SECRET}` }], [SECRET]: 1, n: 3, t: true, z: null };
    const frozen = structuredClone(input);
    const out = redactDeep(input, redact);
    expect(out).toEqual({ a: [{ b: `x ${REDACTED}` }], [REDACTED]: 1, n: 3, t: true, z: null });
    expect(input).toEqual(frozen);
  });

  it('copies errors with the same prototype and redacts message, stack, cause and fields', () => {
    class MyError extends Error {
      code = `E_${SECRET}`;
    }
    const error = new MyError(`failed with ${SECRET}`, { cause: new Error(`inner xoxb-9-9`) });
    const out = redactDeep(error, redact);
    expect(out).toBeInstanceOf(MyError);
    expect(out).not.toBe(error);
    expect(out.message).toBe(`failed with ${REDACTED}`);
    expect(out.stack).not.toContain(SECRET);
    expect(out.code).toBe(`E_${REDACTED}`);
    expect((out.cause as Error).message).toBe(`inner ${REDACTED}`);
    expect(error.message).toContain(SECRET);
  });

  it('preserves cycles and uses the JSON form of dates', () => {
    const node: Record<string, unknown> = { name: SECRET, when: new Date(0) };
    node['self'] = node;
    const out = redactDeep(node, redact);
    expect(out['name']).toBe(REDACTED);
    expect(out['self']).toBe(out);
    expect(out['when']).toBe('1970-01-01T00:00:00.000Z');
  });

  it('keeps a __proto__ key as data', () => {
    const input = JSON.parse(`{"__proto__": {"polluted": "${SECRET}"}}`) as Record<string, unknown>;
    const out = redactDeep(input, redact);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"polluted":"${REDACTED}"}}`);
  });
});
