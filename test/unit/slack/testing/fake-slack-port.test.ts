/**
 * The FakeSlackPort behaves like Slack where Slack has an answer and fails loudly where a correct
 * caller never goes, so tests built on it cannot pass by accident.
 */
import { describe, expect, it } from 'vitest';
import { SlackApiError } from '../../../../src/shared/errors.ts';
import { FakeSlackMisuseError, FakeSlackPort, slackApiError } from '../../../../src/slack/testing/fake-slack-port.ts';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('FakeSlackPort', () => {
  it('keeps messages with increasing ts, threads, metadata and every update', async () => {
    const port = new FakeSlackPort();
    const root = port.addUserMessage('C1', 'hi bot');
    const first = await port.postMessage({ channel: 'C1', threadTs: root, text: 'one', blocks: [section('a')], metadata: { event_type: 'e', event_payload: { key: 'k' } } });
    const second = await port.postMessage({ channel: 'C1', threadTs: root, text: 'two' });

    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(port.replies('C1', root).map((m) => m.text)).toEqual(['one', 'two']);

    await port.updateMessage({ channel: 'C1', ts: first.ts, text: 'one, edited' });
    const edited = port.message('C1', first.ts);
    expect(edited?.text).toBe('one, edited');
    expect(edited?.blocks).toBeUndefined();
    expect(edited?.history).toEqual([{ text: 'one', blocks: [section('a')] }]);
    expect(port.callsOf('updateMessage')).toHaveLength(1);
  });

  it('fails loudly on misuse and records it', async () => {
    const port = new FakeSlackPort();

    await expect(port.updateMessage({ channel: 'C1', ts: '1.000009', text: 'x' })).rejects.toThrow(FakeSlackMisuseError);
    await expect(port.postMessage({ channel: 'C1', text: '  ' })).rejects.toThrow(/empty text/);
    await expect(port.updateView({ viewId: 'V404', view: { type: 'modal', blocks: [] } })).rejects.toThrow(/unknown view/);
    await expect(port.addReaction({ channel: 'C1', ts: 'nope', name: 'eyes' })).rejects.toThrow(/not a message ts/);
    const root = port.addUserMessage('C1');
    await expect(port.updateMessage({ channel: 'C1', ts: root, text: 'x' })).rejects.toThrow(/never posted by the bot/);

    expect(port.unexpected).toHaveLength(5);
  });

  it('refuses blocks over Slack\'s limits the way Slack does (not as misuse)', async () => {
    const port = new FakeSlackPort();
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));

    await expect(port.postMessage({ channel: 'C1', text: 'x', blocks: tooMany })).rejects.toMatchObject({
      details: { slackError: 'invalid_blocks' },
    });
    expect(port.unexpected).toEqual([]);
    expect(port.messages()).toEqual([]);
  });

  it('fails the next matching calls as programmed, and holds a call until released', async () => {
    const port = new FakeSlackPort();
    port.failNext('postMessage', slackApiError('ratelimited', { retryable: true }), { times: 2, when: (input) => (input as { text: string }).text === 'b' });

    await port.postMessage({ channel: 'C1', text: 'a' });
    await expect(port.postMessage({ channel: 'C1', text: 'b' })).rejects.toBeInstanceOf(SlackApiError);
    await expect(port.postMessage({ channel: 'C1', text: 'b' })).rejects.toMatchObject({ retryable: true, details: { slackError: 'ratelimited' } });
    await port.postMessage({ channel: 'C1', text: 'b' });
    expect(port.pendingFailures()).toBe(0);
    expect(port.messages().map((m) => m.text)).toEqual(['a', 'b']);

    const held = port.hold('postMessage');
    const pending = port.postMessage({ channel: 'C1', text: 'later' });
    await held.reached;
    expect(port.messages()).toHaveLength(2);
    held.release();
    await pending;
    expect(port.messages()).toHaveLength(3);
  });

  it('ignores repeated reactions, finds posts by metadata key and run, and stores views', async () => {
    const port = new FakeSlackPort();
    const root = port.addUserMessage('C1');
    await port.addReaction({ channel: 'C1', ts: root, name: 'eyes' });
    await port.addReaction({ channel: 'C1', ts: root, name: 'eyes' });
    await port.removeReaction({ channel: 'C1', ts: root, name: 'x' });
    expect(port.reactions('C1', root)).toEqual(['eyes']);

    const metadata = (runId: string) => ({ event_type: 'harness_post', event_payload: { runId, key: 'status' } });
    await port.postMessage({ channel: 'C1', threadTs: root, text: 'other', metadata: metadata('r_2') });
    const mine = await port.postMessage({ channel: 'C1', threadTs: root, text: 'mine', metadata: metadata('r_1') });
    expect(await port.findPostedMessage({ channel: 'C1', threadTs: root, eventType: 'harness_post', key: 'status', runId: 'r_1' })).toEqual({ ts: mine.ts });
    expect(await port.findPostedMessage({ channel: 'C1', threadTs: root, eventType: 'harness_post', key: 'result' })).toBeNull();

    const { viewId } = await port.openView({ triggerId: 't1', view: { type: 'modal', blocks: [] } });
    await port.updateView({ viewId, view: { type: 'modal', blocks: [section('b')] } });
    expect(port.view(viewId)).toEqual({ type: 'modal', blocks: [section('b')] });
    await port.publishHome({ userId: 'U1', view: { type: 'home', blocks: [] } });
    expect(port.home('U1')).toEqual({ type: 'home', blocks: [] });
    expect(await port.getPermalink({ channel: 'C1', ts: mine.ts })).toContain('/archives/C1/p');
    expect(await port.getPermalink({ channel: 'C1', ts: '9.9' })).toBeNull();
  });
});
