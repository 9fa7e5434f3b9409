import { describe, expect, it } from 'vitest';
import {
  ActionIds,
  CallbackIds,
  decodeAgentAction,
  decodeGateAction,
  encodeAgentAction,
  encodeGateAction,
} from '../../../../src/slack/blocks/action-ids.ts';
import { makeGate } from './builders.ts';

describe('gate action values', () => {
  it('carries only runId, gateId and nonce, and round-trips', () => {
    const gate = makeGate();
    const value = encodeGateAction(gate);
    expect(JSON.parse(value)).toEqual({ runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce });
    expect(value.length).toBeLessThanOrEqual(2000);
    expect(decodeGateAction(value)).toEqual({ runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce });
  });

  it('rejects forged, extended or malformed values', () => {
    const ok = { runId: 'r_1', gateId: 'g_1', nonce: 'n_1' };
    const forged = [
      JSON.stringify({ ...ok, approved: true }),
      JSON.stringify({ ...ok, userId: 'U0ADMIN' }),
      '{"runId":"r_1","gateId":"g_1","nonce":"n_1","__proto__":{"admin":true}}',
      JSON.stringify({ runId: 'r_1', gateId: 'g_1' }),
      JSON.stringify({ ...ok, runId: '../etc/passwd' }),
      JSON.stringify({ ...ok, gateId: 42 }),
      JSON.stringify({ ...ok, nonce: '' }),
      JSON.stringify([ok]),
      'null',
      'not json',
      '',
      JSON.stringify({ ...ok, nonce: 'x'.repeat(2000) }),
    ];
    for (const value of forged) expect(decodeGateAction(value)).toBeNull();
    expect(decodeGateAction(undefined)).toBeNull();
    expect(decodeGateAction(ok)).toBeNull();
  });

  it('refuses to encode ids outside the id alphabet', () => {
    expect(() => encodeGateAction({ runId: 'r 1', gateId: 'g', nonce: 'n' })).toThrow(/cannot encode gate action/);
  });

  it('drops extra gate properties when encoding', () => {
    const value = encodeGateAction(makeGate({ approvers: ['U0EVIL'] }));
    expect(value).not.toContain('U0EVIL');
  });
});

describe('agent action values', () => {
  it('carries only runId and rejects anything else', () => {
    const value = encodeAgentAction('r_child1');
    expect(JSON.parse(value)).toEqual({ runId: 'r_child1' });
    expect(decodeAgentAction(value)).toEqual({ runId: 'r_child1' });
    expect(decodeAgentAction(JSON.stringify({ runId: 'r_child1', cascade: false }))).toBeNull();
    expect(decodeAgentAction(JSON.stringify({ runId: 'r_1', gateId: 'g', nonce: 'n' }))).toBeNull();
  });
});

describe('ids', () => {
  it('pins the action and callback ids handlers dispatch on', () => {
    expect(ActionIds).toEqual({
      approve: 'gate_approve',
      reject: 'gate_reject',
      edit: 'gate_edit',
      viewArgs: 'gate_view_args',
      requestAgain: 'gate_request_again',
      agentKill: 'agent_kill',
    });
    expect(CallbackIds.rejectModal).toBe('gate_reject_modal');
    expect(CallbackIds.editModal).toBe('gate_edit_modal');
  });
});
