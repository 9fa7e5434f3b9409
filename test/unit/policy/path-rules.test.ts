/** The lexical path rules shared by the policy engine and the workspace file layer. */
import { describe, expect, it } from 'vitest';
import { checkRelativePath, isInsideRoots, quotePath } from '../../../src/policy/path-rules.ts';

describe('checkRelativePath', () => {
  it.each([
    ['reports/a.md', 'reports/a.md'],
    ['./reports/./a.md', 'reports/a.md'],
    ['a', 'a'],
    ['notes/..hidden', 'notes/..hidden'],
    ['notes/a..b.md', 'notes/a..b.md'],
  ])('accepts %j as %j', (path, normalized) => {
    expect(checkRelativePath(path)).toMatchObject({ ok: true, normalized });
  });

  it.each([
    ['', /empty/],
    ['/etc/x', /absolute/],
    ['../x', /"\.\."/],
    ['a/..', /"\.\."/],
    ['a\\b', /backslash/],
    ['a\0b', /NUL/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['.', /workspace root/],
    ['./.', /workspace root/],
    ['x'.repeat(1025), /longer than 1024/],
    ['x'.repeat(256), /segment longer than 255/],
  ])('refuses %j', (path, reason) => {
    const result = checkRelativePath(path);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('refuses non-strings', () => {
    expect(checkRelativePath(42)).toEqual({ ok: false, reason: 'path must be a string' });
  });

  it('accepts the root itself only when asked', () => {
    expect(checkRelativePath('.', { allowRoot: true })).toEqual({ ok: true, segments: [], normalized: '.' });
  });

  it('quotes and clips untrusted paths', () => {
    expect(quotePath('a"b')).toBe('"a\\"b"');
    expect(quotePath('x'.repeat(500)).length).toBeLessThan(130);
  });
});

describe('isInsideRoots', () => {
  it.each([
    [['reports', 'a.md'], [['reports']], true],
    [['reports'], [['reports']], false],
    [['reports-old', 'a.md'], [['reports']], false],
    [['notes', 'a.md'], [[]], true],
    [['notes', 'a.md'], [], false],
    [['a', 'b', 'c'], [['x'], ['a', 'b']], true],
  ])('%j in %j → %s', (segments, roots, inside) => {
    expect(isInsideRoots(segments, roots)).toBe(inside);
  });
});
