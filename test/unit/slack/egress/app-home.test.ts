/**
 * App Home from the store: the pending gates a viewer may decide (approver list and four-eyes
 * from the gate), the viewer's own active runs, and the viewer's recent results; and the
 * publisher's refresh of approvers' Home tabs when a gate appears or is decided.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildAppHome, publishAppHome } from '../../../../src/slack/egress/app-home.ts';
import { APPROVER, APPROVER2, REQUESTER, ScriptedModel } from '../../../support/harness-fixture.ts';
import { cleanupEgress, makeEgress } from './egress-fixture.ts';

afterEach(async () => {
  await cleanupEgress();
});

function headers(view: Record<string, unknown> | undefined): string[] {
  const blocks = (view?.['blocks'] ?? []) as { type: string; text?: { text?: string } }[];
  return blocks.filter((b) => b.type === 'header').map((b) => b.text?.text ?? '');
}

describe('App Home', () => {
  it('shows a pending gate to its approvers only, and the requester their active run', async () => {
    const f = makeEgress({ start: false });
    const paused = await f.startSlackRun();
    const gate = paused.run.gates[0];
    const now = f.clock.now();

    const approverView = await buildAppHome({ harness: f.harness, userId: APPROVER, now });
    expect(headers(approverView)).toEqual(['Waiting for your approval (1)', 'Your active runs (0)', 'Recent results']);
    expect(JSON.stringify(approverView)).toContain(gate?.gateId ?? 'missing');

    const requesterView = await buildAppHome({ harness: f.harness, userId: REQUESTER, now });
    expect(headers(requesterView)).toEqual(['Waiting for your approval (0)', 'Your active runs (1)', 'Recent results']);
    expect(JSON.stringify(requesterView)).toContain(paused.run.runId);

    const viewerView = await buildAppHome({ harness: f.harness, userId: 'U_VIEWER', now });
    expect(headers(viewerView)[0]).toBe('Waiting for your approval (0)');
    expect(JSON.stringify(viewerView)).not.toContain(paused.run.runId);

    const afterExpiry = await buildAppHome({ harness: f.harness, userId: APPROVER, now: (gate?.expiresAt ?? 0) + 1 });
    expect(headers(afterExpiry)[0]).toBe('Waiting for your approval (0)');
  });

  it('lists only the viewer\'s own finished runs as recent results (escaped)', async () => {
    const f = makeEgress({ start: false, model: ScriptedModel.fromSteps([{ content: 'All done: <!channel>' }]) });
    const done = await f.startSlackRun('quick question');
    expect(done.run.status).toBe('completed');

    const view = await buildAppHome({ harness: f.harness, userId: REQUESTER, now: f.clock.now() });
    const text = JSON.stringify(view);
    expect(text).toContain('All done');
    expect(text).not.toContain('<!channel>');
    const other = await buildAppHome({ harness: f.harness, userId: APPROVER2, now: f.clock.now() });
    expect(JSON.stringify(other)).not.toContain('All done');
    expect(JSON.stringify(other)).toContain('Nothing finished yet.');
  });

  it('publishes the view with views.publish for the user', async () => {
    const f = makeEgress({ start: false });
    await f.startSlackRun();

    await publishAppHome({ harness: f.harness, port: f.port, userId: APPROVER, now: f.clock.now() });

    expect(headers(f.port.home(APPROVER))[0]).toBe('Waiting for your approval (1)');
    expect(f.port.callsOf('publishHome')).toHaveLength(1);
  });

  it('publishes on request through the publisher (the ingress calls it on app_home_opened)', async () => {
    const f = makeEgress();
    await f.startSlackRun();
    await f.settle();

    await Promise.all([f.publisher.publishAppHome(APPROVER), f.publisher.publishAppHome(APPROVER)]);

    expect(headers(f.port.home(APPROVER))[0]).toBe('Waiting for your approval (1)');
    expect(f.port.callsOf('publishHome')).toHaveLength(1);
  });

  it('refreshes the approvers\' Home tabs when a gate appears and when it is decided', async () => {
    const f = makeEgress({ appHome: true });
    const paused = await f.startSlackRun();
    await f.settle();
    expect(headers(f.port.home(APPROVER))[0]).toBe('Waiting for your approval (1)');
    expect(headers(f.port.home(APPROVER2))[0]).toBe('Waiting for your approval (1)');

    const publishes = f.port.callsOf('publishHome').length;
    await f.harness.approve({ runId: paused.run.runId, actor: { userId: APPROVER, source: 'slack' } });
    // Within the coalescing window nothing is published yet; once it passes, one publish per user.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(f.port.callsOf('publishHome').length).toBe(publishes);
    f.clock.advance(1000);
    await f.settle();
    expect(headers(f.port.home(APPROVER2))[0]).toBe('Waiting for your approval (0)');
    expect(JSON.stringify(f.port.home(REQUESTER))).toContain('Report written');
    const users = f.port.callsOf('publishHome').slice(publishes);
    expect(users.length).toBe(new Set(users.map((c) => (c.input as { userId: string }).userId)).size);
  });
});
