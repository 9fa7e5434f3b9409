/**
 * Request signing checked against Bolt's own verifier (the oracle the bot's HTTP receiver uses),
 * and Slack's rules for trigger ids and response urls on a fake clock.
 */
import { verifySlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { signSlackRequest } from '../../../src/local-workspace/http-delivery.ts';
import { InteractionLimits, InteractionRegistry } from '../../../src/local-workspace/interaction-registry.ts';
import { FakeClock } from '../../../src/shared/clock.ts';

describe('signSlackRequest', () => {
  const secret = 'unit-signing-secret';
  const body = '{"type":"event_callback","event_id":"Ev1"}';
  const now = Math.floor(Date.now() / 1000);

  it('produces a v0= signature that Bolt verifies', () => {
    const signature = signSlackRequest(secret, now, body);

    expect(signature).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(() =>
      verifySlackRequest({ signingSecret: secret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': now } }),
    ).not.toThrow();
  });

  it('is refused by Bolt when signed with another secret or over another body', () => {
    const wrongSecret = signSlackRequest('another-secret', now, body);
    const otherBody = signSlackRequest(secret, now, `${body} `);

    expect(() =>
      verifySlackRequest({ signingSecret: secret, body, headers: { 'x-slack-signature': wrongSecret, 'x-slack-request-timestamp': now } }),
    ).toThrow(/signature mismatch/);
    expect(() =>
      verifySlackRequest({ signingSecret: secret, body, headers: { 'x-slack-signature': otherBody, 'x-slack-request-timestamp': now } }),
    ).toThrow(/signature mismatch/);
  });
});

describe('InteractionRegistry', () => {
  it('accepts a trigger id once, within 3 seconds, for the user it was issued to', () => {
    const clock = new FakeClock();
    const registry = new InteractionRegistry(clock);
    const fresh = registry.issueTrigger('U_APPROVER1');
    const stale = registry.issueTrigger('U_APPROVER2');

    expect(registry.useTrigger(fresh)).toEqual({ ok: true, user: 'U_APPROVER1' });
    expect(registry.useTrigger(fresh)).toEqual({ ok: false, error: 'exchanged_trigger_id' });
    clock.advance(InteractionLimits.triggerTtlMs + 1);
    expect(registry.useTrigger(stale)).toEqual({ ok: false, error: 'expired_trigger_id' });
    expect(registry.useTrigger('1.2.nope')).toEqual({ ok: false, error: 'invalid_trigger_id' });
  });

  it('allows five posts to a response url within 30 minutes', () => {
    const clock = new FakeClock();
    const registry = new InteractionRegistry(clock);
    const target = { channel: 'C_OPS', user: 'U_PM', messageTs: '1.000001', isEphemeral: false };
    const id = registry.issueResponseUrl(target);
    const expiring = registry.issueResponseUrl(target);

    const uses = Array.from({ length: 6 }, () => registry.useResponseUrl(id).ok);
    clock.advance(InteractionLimits.responseUrlTtlMs + 1);

    expect(uses).toEqual([true, true, true, true, true, false]);
    expect(registry.useResponseUrl(id)).toEqual({ ok: false, error: 'expired_url' });
    expect(registry.useResponseUrl(expiring)).toEqual({ ok: false, error: 'expired_url' });
  });
});
