/**
 * Fault queue semantics (per-call consumption, wildcard, cancel, bad specs) and the call journal
 * (redaction, filtering, waiting, loud failures).
 */
import { describe, expect, it } from 'vitest';
import { CallJournal } from '../../../src/local-workspace/call-journal.ts';
import { FaultInjector } from '../../../src/local-workspace/fault-injection.ts';
import { createRedactor } from '../../../src/shared/redact.ts';

describe('FaultInjector', () => {
  it('consumes faults per call, first queued first served', () => {
    const faults = new FaultInjector();
    faults.inject({ method: 'chat.postMessage', status: 429, times: 2 });
    faults.inject({ method: 'chat.postMessage', error: 'channel_not_found' });

    expect(faults.take('chat.update')).toBeUndefined();
    expect(faults.take('chat.postMessage')?.status).toBe(429);
    expect(faults.take('chat.postMessage')?.status).toBe(429);
    expect(faults.take('chat.postMessage')?.error).toBe('channel_not_found');
    expect(faults.take('chat.postMessage')).toBeUndefined();
  });

  it('matches every method with *, and cancel drops what is left', () => {
    const faults = new FaultInjector();
    const handle = faults.inject({ method: '*', delayMs: 10, times: 3 });

    expect(faults.take('users.info')?.delayMs).toBe(10);
    expect(handle.remaining).toBe(2);
    handle.cancel();
    expect(faults.take('auth.test')).toBeUndefined();
    expect(faults.pending()).toEqual([]);
  });

  it('refuses specs that would do nothing or make no sense', () => {
    const faults = new FaultInjector();
    expect(() => faults.inject({ method: 'x' })).toThrow(/needs status, error or delayMs/);
    expect(() => faults.inject({ method: 'x', status: 500, times: 0 })).toThrow(/positive integer/);
    expect(() => faults.inject({ method: 'x', delayMs: -1 })).toThrow(/delayMs/);
  });
});

describe('CallJournal', () => {
  const secret = 'xoxb-journal-CANARY';
  const journal = (): CallJournal => new CallJournal(createRedactor([secret]), () => 1000);

  it('stores bodies and responses with secrets redacted', () => {
    const j = journal();
    j.record({ ts: 1, method: 'chat.postMessage', auth: 'bot', body: { token: secret, text: `leak ${secret}` }, status: 200, response: { ok: true } });

    expect(JSON.stringify(j.calls())).not.toContain(secret);
    expect(j.calls('chat.postMessage')[0]?.body['text']).toBe('leak [REDACTED]');
    expect(j.calls('chat.update')).toEqual([]);
  });

  it('waits for a matching call that is already there or arrives later, and times out otherwise', async () => {
    const j = journal();
    j.record({ ts: 1, method: 'auth.test', auth: 'bot', body: {}, status: 200, response: { ok: true } });

    await expect(j.waitForCall('auth.test')).resolves.toMatchObject({ seq: 1 });
    const later = j.waitForCall('chat.update', (e) => e.body['ts'] === '2.000000', 1000);
    j.record({ ts: 2, method: 'chat.update', auth: 'bot', body: { ts: '1.000000' }, status: 200, response: {} });
    j.record({ ts: 3, method: 'chat.update', auth: 'bot', body: { ts: '2.000000' }, status: 200, response: {} });
    await expect(later).resolves.toMatchObject({ seq: 3 });
    await expect(j.waitForCall('views.open', undefined, 20)).rejects.toThrow(/no views.open call matched within 20 ms/);
  });

  it('keeps loud failures, redacted', () => {
    const j = journal();
    j.recordUnexpected('unknown_method', `called files.upload with ${secret}`);

    expect(j.unexpected).toEqual([{ ts: 1000, kind: 'unknown_method', detail: 'called files.upload with [REDACTED]' }]);
  });
});
