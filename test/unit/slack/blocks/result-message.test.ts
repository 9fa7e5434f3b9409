import { describe, expect, it } from 'vitest';
import { BlockLimits, countBlockTextChars, validateMessageBlocks } from '../../../../src/slack/blocks/block-kit-schema.ts';
import { MAX_RESULT_MESSAGES, renderFailure, renderResult } from '../../../../src/slack/blocks/result-message.ts';
import type { SlackMessage } from '../../../../src/slack/blocks/types.ts';
import type { ProducedFile } from '../../../../src/store/run-schema.ts';
import { HOSTILE, RUN_DOC_TIME, expectNoForeignMarkup, makeDoc } from './builders.ts';

function expectWithinLimits(message: SlackMessage): void {
  expect(validateMessageBlocks(message.blocks)).toEqual({ ok: true });
  expect(countBlockTextChars(message.blocks)).toBeLessThanOrEqual(BlockLimits.messageTotalText);
}

function sectionTexts(messages: SlackMessage[]): string[] {
  return messages.flatMap((m) => m.blocks.flatMap((b) => (b.type === 'section' && b.text !== undefined ? [b.text.text] : [])));
}

function file(i: number): ProducedFile {
  return { path: `out/${'deep/'.repeat(50)}file-${i}.md`, bytes: 1234 * i, sha256: 'ab'.repeat(32) };
}

describe('renderResult', () => {
  it('posts a short answer in one escaped message with the produced files', () => {
    const doc = makeDoc({ status: 'completed', result: `Done. ${HOSTILE}`, files: [file(1)], updatedAt: RUN_DOC_TIME + 5000 });
    const messages = renderResult(doc);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    if (message === undefined) throw new Error('no message');
    expectWithinLimits(message);
    expectNoForeignMarkup(messages, []);
    expect(JSON.stringify(message.blocks)).toContain('*Files produced (1)*');
    expect(JSON.stringify(message.blocks)).toContain('1.2 kB');
    expect(message.text.startsWith('writer finished: Done.')).toBe(true);
  });

  it('splits a long answer across messages without losing text', () => {
    const paragraphs = Array.from({ length: 20 }, (_, i) => `Paragraph ${i}: ${'word & <tag> '.repeat(40)}`);
    const answer = paragraphs.join('\n\n');
    const messages = renderResult(makeDoc({ status: 'completed', result: answer, files: Array.from({ length: 40 }, (_, i) => file(i)) }));
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expectWithinLimits(message);
    expectNoForeignMarkup(messages, []);
    const shown = sectionTexts(messages).slice(1).filter((t) => !t.startsWith('*Files produced'));
    const normalise = (s: string) => s.replace(/\s+/g, '');
    expect(normalise(shown.join(''))).toBe(normalise(answer.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')));
    expect(JSON.stringify(messages.at(-1)?.blocks)).toContain('…and');
    expect(JSON.stringify(messages[1]?.blocks)).toContain('continued (part 2 of');
  });

  it('cuts a 1 MB answer of characters that escaping expands to a few messages and says where the rest is', () => {
    const messages = renderResult(makeDoc({ status: 'completed', result: '<&>'.repeat(350_000), files: [file(1)] }));
    for (const message of messages) expectWithinLimits(message);
    expect(messages.length).toBeLessThanOrEqual(MAX_RESULT_MESSAGES + 1);
    const last = JSON.stringify(messages.at(-1)?.blocks);
    expect(last).toContain('The answer is 1,050,000 characters');
    expect(last).toContain('harness inspect r_test0001');
    expect(last).toContain('*Files produced (1)*');
    expectNoForeignMarkup(messages, []);
  });

  it('says when there is no written answer', () => {
    const messages = renderResult(makeDoc({ status: 'completed', result: null }));
    expect(messages).toHaveLength(1);
    expect(JSON.stringify(messages[0]?.blocks)).toContain('without a written answer');
  });
});

describe('renderFailure', () => {
  it('shows the escaped error and what to do next for the code', () => {
    const message = renderFailure(makeDoc({ status: 'failed', error: { code: 'budget_exceeded', message: `maxTurns 20 reached ${HOSTILE}` } }));
    expectWithinLimits(message);
    expectNoForeignMarkup(message, []);
    const body = JSON.stringify(message.blocks);
    expect(body).toContain(':x: *writer* failed');
    expect(body).toContain('`budget_exceeded`');
    expect(body).toContain('hit one of its budgets');
    expect(message.text).toContain('writer failed: maxTurns 20 reached');
  });

  it('covers cancellations and unknown errors', () => {
    const cancelled = renderFailure(makeDoc({ status: 'cancelled', error: { code: 'cancelled', message: 'cancelled by U0X: stop' } }));
    expect(JSON.stringify(cancelled.blocks)).toContain('was cancelled');
    expect(JSON.stringify(cancelled.blocks)).toContain('Someone cancelled the run');
    const unknown = renderFailure(makeDoc({ status: 'failed', error: null }));
    expect(JSON.stringify(unknown.blocks)).toContain('harness trace-summary r_test0001');
    expectWithinLimits(unknown);
  });
});
