/**
 * Sub-agent status posts (issue C item 7): one post per sub-agent in the root's thread, keyed
 * `subagent:<runId>`, updated in place, with a Kill button while it lives and "Killed by @x" after;
 * a sub-agent's gate card in the root's thread with its lineage; no reactions, status message or
 * result post of its own; short-lived sub-agents only summarised in the root's status message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedModel } from '../../../../src/model/scripted-model.ts';
import { subagentPostKey } from '../../../../src/slack/egress/slack-publisher.ts';
import type { RunDoc } from '../../../../src/store/run-schema.ts';
import { REQUESTER } from '../../../support/harness-fixture.ts';
import { CHANNEL, blocksText, cleanupEgress, hasButtons, keyOf, makeEgress, postsWithKey, type EgressFixture } from './egress-fixture.ts';

/** Every run asks to write (a gate), then says "written". */
function gatedModel(): ScriptedModel {
  return ScriptedModel.fromScenarios({
    fallback: 'write',
    scenarios: [{ name: 'write', match: '.', steps: [{ calls: [{ name: 'workspace_write', args: { path: 'reports/r.md', content: 'x' } }] }, { say: 'written' }] }],
  });
}

function answeringModel(): ScriptedModel {
  return ScriptedModel.fromScenarios({ fallback: 'done', scenarios: [{ name: 'done', match: '.', steps: [{ say: 'done' }] }] });
}

/** What `SubagentManager.draft` does: the child run, then `subagent_drafted` on the parent. */
async function draft(fx: EgressFixture, parent: RunDoc, task: string): Promise<RunDoc> {
  const child = await fx.harness.createRun({
    task,
    parentRunId: parent.run.runId,
    requestedBy: { userId: REQUESTER, source: 'agent' },
    origin: { kind: 'agent', parentRunId: parent.run.runId },
  });
  await fx.harness.committer.commit(parent.run.runId, [
    { event: 'subagent_drafted', detail: { childRunId: child.run.runId, role: child.run.role, task, by: `agent:${parent.run.runId}`, depth: child.run.depth } },
  ]);
  return child;
}

afterEach(async () => {
  await cleanupEgress();
});

describe('SlackPublisher: sub-agent posts', () => {
  it('posts one live post per sub-agent in the root thread, with its gate card (lineage) and a Kill button, then "Killed by"', async () => {
    const fx = makeEgress({ model: gatedModel(), subagentPostDelayMs: 0, statusIntervalMs: 0 });
    const root = await fx.createSlackRun('coordinate the team');
    const child = await draft(fx, root, 'write the report');
    await fx.settle();
    const key = subagentPostKey(child.run.runId);
    expect(postsWithKey(fx.port, key)).toHaveLength(1);
    expect(postsWithKey(fx.port, key)[0]?.threadTs).toBe(fx.threadTs);
    expect(hasButtons(postsWithKey(fx.port, key)[0])).toBe(true);

    await fx.harness.runner.drive(child.run.runId);
    await fx.settle();
    const post = postsWithKey(fx.port, key)[0];
    expect(blocksText(post)).toContain('Waiting for approval of');
    const [card] = fx.port.botMessages().filter((m) => keyOf(m).startsWith('gate:'));
    expect(card?.threadTs).toBe(fx.threadTs);
    expect(JSON.stringify(card?.blocks)).toContain('writer → writer wants workspace_write');
    // The root's status summarises the tree; the sub-agent has no status, reaction or result of its own.
    expect(blocksText(postsWithKey(fx.port, 'status')[0])).toContain('Sub-agents (1)');
    expect(fx.port.botMessages().map(keyOf).filter((k) => k === 'status')).toHaveLength(1);
    expect(fx.port.callsOf('addReaction')).toHaveLength(1);

    // (A real Slack id renders as a mention; the local workspace's `U_…` ids render as text.)
    await fx.harness.cancel(child.run.runId, { userId: 'UKILLER01', source: 'slack' }, 'not needed');
    await fx.settle();
    const killed = postsWithKey(fx.port, key);
    expect(killed).toHaveLength(1);
    expect(blocksText(killed[0])).toContain('Killed by <@UKILLER01>: not needed');
    expect(hasButtons(killed[0])).toBe(false);
    expect(fx.port.botMessages().filter((m) => keyOf(m) === 'result' || keyOf(m) === 'failure')).toEqual([]);
    // The post is recorded on the sub-agent's run, so a restart updates rather than reposts it.
    expect((await fx.harness.getRun(child.run.runId)).run.posts.map((p) => p.key)).toContain(key);
    expect(fx.port.unexpected).toEqual([]);
  });

  it('posts a sub-agent that ends within the delay once, in its final state; posts a live one when the delay passes', async () => {
    const fx = makeEgress({ model: answeringModel(), subagentPostDelayMs: 3000, statusIntervalMs: 0 });
    const root = await fx.createSlackRun('coordinate the team');
    const quick = await draft(fx, root, 'answer fast');
    await fx.harness.runner.drive(quick.run.runId);
    await fx.settle();
    expect(postsWithKey(fx.port, subagentPostKey(quick.run.runId))).toEqual([]);
    fx.clock.advance(3000);
    await fx.settle();
    const quickPosts = postsWithKey(fx.port, subagentPostKey(quick.run.runId));
    expect(quickPosts).toHaveLength(1);
    expect(blocksText(quickPosts[0])).toMatch(/completed|Finished/i);
    expect(hasButtons(quickPosts[0])).toBe(false);
    expect(blocksText(postsWithKey(fx.port, 'status')[0])).toMatch(/Sub-agents \(1\).*writer\* — completed/);

    const slow = await draft(fx, root, 'take your time');
    await fx.settle();
    expect(postsWithKey(fx.port, subagentPostKey(slow.run.runId))).toEqual([]);
    fx.clock.advance(2999);
    await fx.settle();
    expect(postsWithKey(fx.port, subagentPostKey(slow.run.runId))).toEqual([]);
    fx.clock.advance(1);
    await fx.settle();
    expect(postsWithKey(fx.port, subagentPostKey(slow.run.runId))).toHaveLength(1);
  });

  it('coalesces a sub-agent’s updates like the status message (at most one per interval, then the latest)', async () => {
    const fx = makeEgress({ model: gatedModel(), subagentPostDelayMs: 0, statusIntervalMs: 1000 });
    const root = await fx.createSlackRun('coordinate the team');
    const child = await draft(fx, root, 'write');
    await fx.settle();
    const before = fx.port.callsOf('updateMessage').length;
    await fx.harness.runner.drive(child.run.runId);
    await fx.settle();
    // Started, model called, policy checked, gate required, paused: one update at most so far.
    const key = subagentPostKey(child.run.runId);
    const postTs = postsWithKey(fx.port, key)[0]?.ts;
    const updatesOfPost = (): number => fx.port.callsOf('updateMessage').slice(before).filter((c) => (c.input as { ts?: string }).ts === postTs).length;
    expect(updatesOfPost()).toBe(0);
    fx.clock.advance(1000);
    await fx.settle();
    expect(updatesOfPost()).toBe(1);
    expect(blocksText(postsWithKey(fx.port, key)[0])).toContain('Waiting for approval of');
    expect(postsWithKey(fx.port, key)[0]?.channel).toBe(CHANNEL);
  });
});
