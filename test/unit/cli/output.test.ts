import { describe, expect, it } from 'vitest';
import { type CliIo, alignRows, clip, exitCodeFor, oneLine, writeError, writeOutput } from '../../../src/cli/output.ts';
import {
  ApprovalConflictError,
  ConfigError,
  ErrorCode,
  InvalidStateError,
  NotFoundError,
  StoreLockedError,
  UsageError,
} from '../../../src/shared/errors.ts';

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cwd: '/nowhere', stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

describe('exitCodeFor', () => {
  it('maps usage errors and malformed run ids to 2', () => {
    expect(exitCodeFor(new UsageError('bad flag'))).toBe(2);
    expect(exitCodeFor(new NotFoundError(ErrorCode.InvalidRunId, 'invalid run id "../x"'))).toBe(2);
  });

  it('maps refusals and failures to 1', () => {
    expect(exitCodeFor(new NotFoundError(ErrorCode.RunNotFound, 'run r_1 not found'))).toBe(1);
    expect(exitCodeFor(new ApprovalConflictError('already approved by U1'))).toBe(1);
    expect(exitCodeFor(new InvalidStateError('run is completed'))).toBe(1);
    expect(exitCodeFor(new StoreLockedError('locked'))).toBe(1);
    expect(exitCodeFor(new ConfigError('invalid configuration'))).toBe(1);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });
});

describe('writing results and errors', () => {
  it('prints exactly one JSON document with --json, and the text otherwise', () => {
    const io = captureIo();
    writeOutput(io, { data: { a: 1 }, text: 'a is 1' }, true);
    expect(JSON.parse(io.out.join(''))).toEqual({ a: 1 });
    const text = captureIo();
    writeOutput(text, { data: { a: 1 }, text: 'a is 1' }, false);
    expect(text.out.join('')).toBe('a is 1\n');
  });

  it('writes errors as one stderr line, plus {"error":{code,message}} on stdout in JSON mode', () => {
    const io = captureIo();
    writeError(io, new ConfigError('invalid configuration (c.yaml):\n  - a: unknown key\n  - b: expected string'), true);
    expect(io.err).toEqual(['error: invalid configuration (c.yaml): - a: unknown key - b: expected string\n']);
    expect(JSON.parse(io.out.join(''))).toEqual({
      error: { code: 'config_invalid', message: 'invalid configuration (c.yaml): - a: unknown key - b: expected string' },
    });
  });

  it('prints nothing on stdout for an error in text mode', () => {
    const io = captureIo();
    writeError(io, new UsageError('x'), false);
    expect(io.out).toEqual([]);
    expect(io.err).toEqual(['error: x\n']);
  });
});

describe('text helpers', () => {
  it('oneLine joins trimmed non-empty lines', () => {
    expect(oneLine(' a \n\n  b\n')).toBe('a b');
  });

  it('alignRows pads every column but the last', () => {
    expect(alignRows([['a', 'long', 'x'], ['bbb', 'y', 'z']])).toBe('a    long  x\nbbb  y     z');
  });

  it('clip keeps short text and says how much it dropped', () => {
    expect(clip('abc', 5)).toBe('abc');
    expect(clip('abcdef', 3)).toBe('abc… (3 more characters; use --json for all)');
    expect(clip('abcdef', 3, false)).toBe('abc…');
  });
});
