import { describe, expect, it } from 'vitest';
import {
  flagOption,
  jsonOption,
  nonNegativeIntOption,
  optionalRunRef,
  parseCommandArgs,
  requiredOption,
  runRef,
  stringOption,
} from '../../../src/cli/args.ts';
import { ErrorCode, NotFoundError, UsageError } from '../../../src/shared/errors.ts';

const ONE = { min: 0, max: 1, names: '<run>' };

describe('parseCommandArgs', () => {
  it('parses command options, the common --json/--config flags and positionals', () => {
    const parsed = parseCommandArgs('approve', ['r_1', '--as', 'U1', '--json', '--config', 'c.yaml'], { as: { type: 'string' } }, ONE);
    expect(parsed.positionals).toEqual(['r_1']);
    expect(stringOption(parsed.values, 'as')).toBe('U1');
    expect(flagOption(parsed.values, 'json')).toBe(true);
    expect(stringOption(parsed.values, 'config')).toBe('c.yaml');
  });

  it('refuses unknown options as usage errors naming the option', () => {
    expect(() => parseCommandArgs('runs', ['--bogus'], {}, ONE)).toThrow(UsageError);
    expect(() => parseCommandArgs('runs', ['--bogus'], {}, ONE)).toThrow(/runs: Unknown option '--bogus'$/);
  });

  it('refuses a string option without its value and a value given to a flag', () => {
    expect(() => parseCommandArgs('approve', ['r_1', '--as'], { as: { type: 'string' } }, ONE)).toThrow(UsageError);
    expect(() => parseCommandArgs('runs', ['--json=yes'], {}, ONE)).toThrow(UsageError);
  });

  it('refuses too many and too few positionals', () => {
    expect(() => parseCommandArgs('start', ['write', 'a', 'report'], {}, { min: 1, max: 1, names: '"<task>"' })).toThrow(
      /start: unexpected argument "a" "report" \(quote a task that has spaces\)/,
    );
    expect(() => parseCommandArgs('start', [], {}, { min: 1, max: 1, names: '"<task>"' })).toThrow(/start: missing "<task>"/);
  });

  it('lets --help through without checking positionals', () => {
    expect(parseCommandArgs('start', ['--help'], {}, { min: 1, max: 1, names: '"<task>"' }).values['help']).toBe(true);
  });
});

describe('option helpers', () => {
  it('requiredOption refuses missing and blank values', () => {
    expect(requiredOption('reject', { reason: ' why ' }, 'reason', '"<why>"')).toBe('why');
    expect(() => requiredOption('reject', {}, 'reason', '"<why>"')).toThrow(/reject: --reason "<why>" is required/);
    expect(() => requiredOption('reject', { reason: '   ' }, 'reason', '"<why>"')).toThrow(UsageError);
  });

  it('nonNegativeIntOption accepts 0 and refuses negatives, fractions and words', () => {
    expect(nonNegativeIntOption('history', {}, 'tail')).toBeUndefined();
    expect(nonNegativeIntOption('history', { tail: '0' }, 'tail')).toBe(0);
    expect(nonNegativeIntOption('history', { tail: '25' }, 'tail')).toBe(25);
    for (const bad of ['-1', '1.5', 'ten', '']) expect(() => nonNegativeIntOption('history', { tail: bad }, 'tail')).toThrow(UsageError);
  });

  it('jsonOption parses JSON and names the option when it is not JSON', () => {
    expect(jsonOption('approve', { 'edit-args': '{"path":"reports/x.md"}' }, 'edit-args')).toEqual({ path: 'reports/x.md' });
    expect(jsonOption('approve', {}, 'edit-args')).toBeUndefined();
    expect(() => jsonOption('approve', { 'edit-args': '{bad' }, 'edit-args')).toThrow(/approve: --edit-args is not valid JSON/);
  });
});

describe('runRef', () => {
  it('takes a valid id or --latest', () => {
    expect(runRef('inspect', 'r_abc-1', {})).toEqual({ kind: 'id', runId: 'r_abc-1' });
    expect(runRef('inspect', undefined, { latest: true })).toEqual({ kind: 'latest' });
  });

  it.each(['../x', 'a/b', '', '.hidden', 'x'.repeat(81)])('refuses the malformed id %j with invalid_run_id (exit 2)', (id) => {
    expect(() => runRef('inspect', id, {})).toThrow(NotFoundError);
    expect(() => runRef('inspect', id, {})).toThrow(expect.objectContaining({ code: ErrorCode.InvalidRunId, message: expect.stringContaining(JSON.stringify(id)) }));
  });

  it('refuses both an id and --latest, and neither', () => {
    expect(() => runRef('inspect', 'r_1', { latest: true })).toThrow(/not both/);
    expect(() => runRef('inspect', undefined, {})).toThrow(/missing <run>/);
  });

  it('optionalRunRef is undefined when neither is given', () => {
    expect(optionalRunRef('pending', undefined, {})).toBeUndefined();
    expect(optionalRunRef('pending', 'r_1', {})).toEqual({ kind: 'id', runId: 'r_1' });
  });
});
