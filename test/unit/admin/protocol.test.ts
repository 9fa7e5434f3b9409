/** The admin socket's wire format: strict request validation and typed error mapping. */
import { describe, expect, it } from 'vitest';
import {
  ADMIN_OPS,
  decodeAdminRequest,
  decodeAdminResponse,
  encodeError,
  errorFromWire,
  parseAdminRequest,
} from '../../../src/admin/protocol.ts';
import { exitCodeFor } from '../../../src/cli/output.ts';
import type { BotError} from '../../../src/shared/errors.ts';
import { ApprovalAuthError, ApprovalConflictError, ErrorCode, NotFoundError, UsageError } from '../../../src/shared/errors.ts';

const actor = { userId: 'U_APPROVER1' };

describe('parseAdminRequest', () => {
  it('accepts one request per op', () => {
    const requests = [
      { v: 1, op: 'start', args: { task: 'write a report', role: 'writer' }, actor },
      { v: 1, op: 'approve', args: { runId: 'r_1', gateId: 'g_1', editedArgs: { path: 'reports/a.md' }, reason: 'fine' }, actor },
      { v: 1, op: 'reject', args: { runId: 'r_1', reason: 'cite the notes' }, actor },
      { v: 1, op: 'resume', args: { runId: 'r_1' }, actor },
      { v: 1, op: 'cancel', args: { runId: 'r_1', reason: 'stop' }, actor },
      { v: 1, op: 'retry-step', args: { runId: 'r_1' }, actor },
      { v: 1, op: 'skip-step', args: { runId: 'r_1' }, actor },
    ];
    expect(requests.map((r) => r.op)).toEqual([...ADMIN_OPS]);
    for (const request of requests) expect(parseAdminRequest(request)).toEqual(request);
  });

  it('keeps a null edit (a valid JSON value) apart from no edit', () => {
    const parsed = parseAdminRequest({ v: 1, op: 'approve', args: { runId: 'r_1', editedArgs: null }, actor });
    expect(parsed.op === 'approve' && 'editedArgs' in parsed.args).toBe(true);
  });

  it.each([
    ['an unknown op', { v: 1, op: 'delete-everything', args: {}, actor }, /unknown admin op/],
    ['another version', { v: 2, op: 'resume', args: { runId: 'r_1' }, actor }, /unsupported admin protocol version 2/],
    ['no version', { op: 'resume', args: { runId: 'r_1' }, actor }, /unsupported admin protocol version;/],
    ['an extra top-level key', { v: 1, op: 'resume', args: { runId: 'r_1' }, actor, source: 'slack' }, /invalid admin request/],
    ['a claimed actor source', { v: 1, op: 'resume', args: { runId: 'r_1' }, actor: { userId: 'U1', source: 'slack' } }, /actor/],
    ['an empty actor', { v: 1, op: 'resume', args: { runId: 'r_1' }, actor: { userId: '  ' } }, /actor.userId is empty/],
    ['no actor', { v: 1, op: 'resume', args: { runId: 'r_1' } }, /actor/],
    ['an extra argument', { v: 1, op: 'resume', args: { runId: 'r_1', force: true }, actor }, /invalid arguments for resume/],
    ['a reject without reason', { v: 1, op: 'reject', args: { runId: 'r_1' }, actor }, /invalid arguments for reject: reason/],
    ['a start without task', { v: 1, op: 'start', args: {}, actor }, /invalid arguments for start: task/],
    ['a non-object', ['resume'], /invalid admin request/],
  ])('refuses %s with a usage error', (_name, value, message) => {
    let thrown: unknown;
    try {
      parseAdminRequest(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toMatch(message);
  });

  it('refuses a line that is not JSON', () => {
    expect(() => decodeAdminRequest('{"v":1,')).toThrow(new UsageError('invalid admin request: not JSON'));
  });

  it('never echoes a value in its refusal', () => {
    const secret = 'xoxb-CANARY-not-a-version';
    expect(() => parseAdminRequest({ v: secret, op: 'resume', args: { runId: 'r_1' }, actor })).toThrow(/^unsupported admin protocol version;/);
    expect(() => parseAdminRequest({ v: 1, op: secret, args: {}, actor })).not.toThrow(new RegExp(secret));
  });
});

describe('errors on the wire', () => {
  it('round-trips a BotError to the same class, code, message and exit code', () => {
    const cases: [BotError, new (...args: never[]) => BotError, number][] = [
      [new ApprovalConflictError('already approved by U_APPROVER1', { details: { gateId: 'g_1' } }), ApprovalConflictError, 1],
      [new ApprovalAuthError('you are not an approver for filesystem_write actions'), ApprovalAuthError, 1],
      [new UsageError('a rejection needs a reason'), UsageError, 2],
      [new NotFoundError(ErrorCode.InvalidRunId, 'invalid run id "../x"'), NotFoundError, 2],
      [new NotFoundError(ErrorCode.RunNotFound, 'run r_x not found'), NotFoundError, 1],
    ];
    for (const [error, type, exit] of cases) {
      const response = decodeAdminResponse(encodeError(error).trimEnd());
      if (response.ok) throw new Error('expected an error response');
      const rebuilt = errorFromWire(response.error);
      expect(rebuilt).toBeInstanceOf(type);
      expect({ code: rebuilt.code, message: rebuilt.message, details: rebuilt.details }).toEqual({ code: error.code, message: error.message, details: error.details });
      expect(exitCodeFor(rebuilt)).toBe(exit);
    }
  });

  it('maps an unknown code to `unknown` (exit 1)', () => {
    const rebuilt = errorFromWire({ code: 'from_the_future', message: 'something new' });
    expect(rebuilt.code).toBe(ErrorCode.Unknown);
    expect(exitCodeFor(rebuilt)).toBe(1);
  });

  it('refuses a malformed response', () => {
    expect(() => decodeAdminResponse('not json')).toThrow(/not JSON/);
    expect(() => decodeAdminResponse('{"ok":true,"result":{"doc":{}}}')).toThrow(/malformed/);
    expect(() => decodeAdminResponse('{"ok":false}')).toThrow(/malformed/);
  });
});
