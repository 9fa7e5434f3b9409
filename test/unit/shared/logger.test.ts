import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../../src/shared/logger.ts';
import { createRedactor, REDACTED } from '../../../src/shared/redact.ts';

const CANARY = 'CANARY-4d1e-secret-value';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const text = (): string => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function makeLogger(): { log: ReturnType<typeof createLogger>; out: ReturnType<typeof capture> } {
  const out = capture();
  const log = createLogger({ level: 'debug', redactor: createRedactor([CANARY]), destination: out.stream });
  return { log, out };
}

describe('createLogger', () => {
  it('scrubs secrets from message strings and interpolation arguments', () => {
    const { log, out } = makeLogger();
    log.info(`starting with ${CANARY} and xoxb-111-222-abc`);
    log.info({ n: 1 }, 'calling %s with %s', CANARY, 'xapp-1-A-2');
    const [first, second] = out.lines();
    expect(first?.['msg']).toBe(`starting with ${REDACTED} and ${REDACTED}`);
    expect(second?.['msg']).toBe(`calling ${REDACTED} with ${REDACTED}`);
    expect(out.text()).not.toContain('CANARY');
    expect(out.text()).not.toMatch(/xox|xapp-1/);
  });

  it('scrubs error messages and stacks, logged alone or under err', () => {
    const { log, out } = makeLogger();
    log.error(new Error(`boom ${CANARY}`));
    log.error({ err: new Error('bad key sk-abcdefgh12345678') }, 'request failed');
    const [alone, nested] = out.lines();
    expect((alone?.['err'] as { message: string }).message).toBe(`boom ${REDACTED}`);
    expect((nested?.['err'] as { message: string; stack: string }).message).toBe(`bad key ${REDACTED}`);
    expect((nested?.['err'] as { type: string }).type).toBe('Error');
    expect(out.text()).not.toContain('CANARY');
    expect(out.text()).not.toContain('sk-abcdefgh');
  });

  it('scrubs nested fields at any depth and censors token-like keys', () => {
    const { log, out } = makeLogger();
    log.warn(
      {
        deep: { deeper: { deepest: [`value ${CANARY}`] } },
        token: 'plain-but-named-token',
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
        client: { apiKey: 'named-api-key', token: 'child-token' },
      },
      'nested',
    );
    const [line] = out.lines();
    expect(line?.['deep']).toEqual({ deeper: { deepest: [`value ${REDACTED}`] } });
    expect(line?.['token']).toBe(REDACTED);
    expect(line?.['headers']).toEqual({ authorization: REDACTED });
    expect(line?.['client']).toEqual({ apiKey: REDACTED, token: REDACTED });
    expect(out.text()).not.toMatch(/CANARY|plain-but-named|dXNlcjpwYXNz|named-api-key|child-token/);
  });

  it('scrubs child bindings and keeps scrubbing in children', () => {
    const { log, out } = makeLogger();
    const child = log.child({ component: 'slack', channel: CANARY });
    child.info(`child says ${CANARY}`);
    const [line] = out.lines();
    expect(line?.['component']).toBe('slack');
    expect(line?.['channel']).toBe(REDACTED);
    expect(line?.['msg']).toBe(`child says ${REDACTED}`);
  });

  it('respects the level and writes JSON with a string level and ISO time', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', destination: out.stream });
    log.info('dropped');
    log.warn('kept');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.['level']).toBe('warn');
    expect(String(lines[0]?.['time'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('applies the token patterns even without configured secrets', () => {
    const out = capture();
    createLogger({ level: 'info', destination: out.stream }).info('Bearer abcdefgh12345678');
    expect(out.lines()[0]?.['msg']).toBe(`Bearer ${REDACTED}`);
  });
});

describe('silentLogger', () => {
  it('is silent', () => {
    expect(silentLogger.level).toBe('silent');
    expect(silentLogger.isLevelEnabled('fatal')).toBe(false);
  });
});
