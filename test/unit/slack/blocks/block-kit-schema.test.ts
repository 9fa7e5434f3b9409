/**
 * The Block Kit schema's limits table (ecosystem.md §2.3): each limit accepts its maximum and
 * refuses one past it, with Slack's error code and a json-pointer path to the offending field.
 */
import { describe, expect, it } from 'vitest';
import {
  BlockLimits,
  countBlockTextChars,
  validateMessageBlocks,
  validateViewBlocks,
} from '../../../../src/slack/blocks/block-kit-schema.ts';

const plain = (text: string): Record<string, unknown> => ({ type: 'plain_text', text });
const mrkdwn = (text: string): Record<string, unknown> => ({ type: 'mrkdwn', text });
const button = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'button',
  action_id: 'approve',
  text: plain('Approve'),
  ...overrides,
});
const actions = (elements: unknown[]): Record<string, unknown> => ({ type: 'actions', elements });
const x = (n: number): string => 'x'.repeat(n);

interface LimitCase {
  name: string;
  ok: unknown[];
  bad: unknown[];
  pointer: string;
}

const limits: LimitCase[] = [
  {
    name: 'header text ≤ 150',
    ok: [{ type: 'header', text: plain(x(150)) }],
    bad: [{ type: 'header', text: plain(x(151)) }],
    pointer: '/blocks/0/text/text',
  },
  {
    name: 'section text ≤ 3000',
    ok: [{ type: 'section', text: mrkdwn(x(3000)) }],
    bad: [{ type: 'section', text: mrkdwn(x(3001)) }],
    pointer: '/blocks/0/text/text',
  },
  {
    name: 'section fields ≤ 10',
    ok: [{ type: 'section', fields: Array.from({ length: 10 }, () => mrkdwn('f')) }],
    bad: [{ type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('f')) }],
    pointer: '/blocks/0/fields',
  },
  {
    name: 'section field text ≤ 2000',
    ok: [{ type: 'section', fields: [mrkdwn(x(2000))] }],
    bad: [{ type: 'section', fields: [mrkdwn(x(2001))] }],
    pointer: '/blocks/0/fields/0/text',
  },
  {
    name: 'context elements ≤ 10',
    ok: [{ type: 'context', elements: Array.from({ length: 10 }, () => mrkdwn('c')) }],
    bad: [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('c')) }],
    pointer: '/blocks/0/elements',
  },
  {
    name: 'actions elements ≤ 25',
    ok: [actions(Array.from({ length: 25 }, (_, i) => button({ action_id: `a${i}` })))],
    bad: [actions(Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))],
    pointer: '/blocks/0/elements',
  },
  {
    name: 'button text ≤ 75',
    ok: [actions([button({ text: plain(x(75)) })])],
    bad: [actions([button({ text: plain(x(76)) })])],
    pointer: '/blocks/0/elements/0/text/text',
  },
  {
    name: 'button action_id ≤ 255',
    ok: [actions([button({ action_id: x(255) })])],
    bad: [actions([button({ action_id: x(256) })])],
    pointer: '/blocks/0/elements/0/action_id',
  },
  {
    name: 'button value ≤ 2000',
    ok: [actions([button({ value: x(2000) })])],
    bad: [actions([button({ value: x(2001) })])],
    pointer: '/blocks/0/elements/0/value',
  },
  {
    name: 'button url ≤ 3000',
    ok: [actions([button({ url: `https://e.x/${x(2988)}` })])],
    bad: [actions([button({ url: `https://e.x/${x(2989)}` })])],
    pointer: '/blocks/0/elements/0/url',
  },
  {
    name: 'button style is primary or danger',
    ok: [actions([button({ style: 'danger' })])],
    bad: [actions([button({ style: 'loud' })])],
    pointer: '/blocks/0/elements/0/style',
  },
  {
    name: 'block_id ≤ 255',
    ok: [{ type: 'divider', block_id: x(255) }],
    bad: [{ type: 'divider', block_id: x(256) }],
    pointer: '/blocks/0/block_id',
  },
  {
    name: 'markdown block ≤ 12000',
    ok: [{ type: 'markdown', text: x(12_000) }],
    bad: [{ type: 'markdown', text: x(12_001) }],
    pointer: '/blocks/0/text',
  },
  {
    name: 'confirm dialog title ≤ 100',
    ok: [actions([button({ confirm: { title: plain(x(100)), text: mrkdwn('sure?'), confirm: plain('Yes'), deny: plain('No') } })])],
    bad: [actions([button({ confirm: { title: plain(x(101)), text: mrkdwn('sure?'), confirm: plain('Yes'), deny: plain('No') } })])],
    pointer: '/blocks/0/elements/0/confirm/title/text',
  },
  {
    name: 'section accessory is a valid button',
    ok: [{ type: 'section', text: mrkdwn('t'), accessory: button() }],
    bad: [{ type: 'section', text: mrkdwn('t'), accessory: button({ text: plain('') }) }],
    pointer: '/blocks/0/accessory/text/text',
  },
];

describe('validateMessageBlocks limits', () => {
  it.each(limits)('$name', ({ ok, bad, pointer }) => {
    expect(validateMessageBlocks(ok)).toEqual({ ok: true });
    const result = validateMessageBlocks(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBe('invalid_blocks');
    expect(result.errors.some((e) => e.endsWith(`[json-pointer:${pointer}]`))).toBe(true);
  });

  it('allows 50 blocks in a message and refuses 51', () => {
    const blocks = (n: number): unknown[] => Array.from({ length: n }, () => ({ type: 'divider' }));
    expect(validateMessageBlocks(blocks(BlockLimits.messageBlocks))).toEqual({ ok: true });
    expect(validateMessageBlocks(blocks(51))).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['must be less than 51 items [json-pointer:/blocks]'],
    });
  });

  it('refuses a total visible text above 13,000 characters with msg_blocks_too_long', () => {
    const fits = [{ type: 'markdown', text: x(10_000) }, { type: 'section', text: mrkdwn(x(3000)) }];
    const over = [...fits, { type: 'context', elements: [mrkdwn('!')] }];

    expect(countBlockTextChars(fits)).toBe(13_000);
    expect(validateMessageBlocks(fits)).toEqual({ ok: true });
    expect(validateMessageBlocks(over)).toMatchObject({ ok: false, error: 'msg_blocks_too_long' });
  });

  it('refuses unknown block types, unknown properties, empty text and non-arrays', () => {
    expect(validateMessageBlocks([{ type: 'video' }])).toMatchObject({ ok: false, errors: ['unsupported type [json-pointer:/blocks/0/type]'] });
    expect(validateMessageBlocks([{ type: 'divider', colour: 'red' }])).toMatchObject({
      ok: false,
      errors: ['unsupported properties: colour [json-pointer:/blocks/0]'],
    });
    expect(validateMessageBlocks([{ type: 'section', text: mrkdwn('') }])).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(validateMessageBlocks([{ type: 'section' }])).toMatchObject({ ok: false, errors: ['section requires text or fields [json-pointer:/blocks/0]'] });
    expect(validateMessageBlocks('not blocks')).toMatchObject({ ok: false, error: 'invalid_blocks' });
  });

  it('refuses duplicate block ids and duplicate action ids within a block', () => {
    expect(validateMessageBlocks([{ type: 'divider', block_id: 'a' }, { type: 'divider', block_id: 'a' }])).toMatchObject({
      ok: false,
      errors: ['duplicate block_id [json-pointer:/blocks/1/block_id]'],
    });
    expect(validateMessageBlocks([actions([button(), button()])])).toMatchObject({
      ok: false,
      errors: ['duplicate action_id [json-pointer:/blocks/0/elements/1/action_id]'],
    });
  });

  it('accepts basic rich text, and refuses input blocks in messages', () => {
    const richText = {
      type: 'rich_text',
      elements: [
        {
          type: 'rich_text_section',
          elements: [
            { type: 'text', text: 'hi ', style: { bold: true } },
            { type: 'user', user_id: 'U_BOT' },
            { type: 'link', url: 'https://example.com', text: 'docs' },
          ],
        },
        { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'one' }] }] },
      ],
    };
    const input = { type: 'input', label: plain('Reason'), element: { type: 'plain_text_input', action_id: 'text' } };

    expect(validateMessageBlocks([richText])).toEqual({ ok: true });
    expect(validateMessageBlocks([input])).toMatchObject({ ok: false, errors: ['unsupported type [json-pointer:/blocks/0/type]'] });
  });
});

describe('validateViewBlocks limits', () => {
  it('allows 100 blocks in a view and refuses 101', () => {
    const blocks = (n: number): unknown[] => Array.from({ length: n }, () => ({ type: 'divider' }));
    expect(validateViewBlocks(blocks(BlockLimits.viewBlocks))).toEqual({ ok: true });
    expect(validateViewBlocks(blocks(101))).toMatchObject({ ok: false, errors: ['must be less than 101 items [json-pointer:/blocks]'] });
  });

  it('accepts input blocks with a plain_text_input and checks the label limit', () => {
    const input = (label: string): Record<string, unknown> => ({
      type: 'input',
      block_id: 'reason',
      label: plain(label),
      element: { type: 'plain_text_input', action_id: 'text', multiline: true, max_length: 500 },
      optional: true,
    });
    expect(validateViewBlocks([input(x(2000))])).toEqual({ ok: true });
    expect(validateViewBlocks([input(x(2001))])).toMatchObject({
      ok: false,
      errors: ['must be less than 2001 characters [json-pointer:/blocks/0/label/text]'],
    });
  });

  it('does not apply the message-only total text limit', () => {
    const blocks = Array.from({ length: 5 }, () => ({ type: 'section', text: mrkdwn(x(3000)) }));
    expect(validateViewBlocks(blocks)).toEqual({ ok: true });
    expect(validateMessageBlocks(blocks)).toMatchObject({ ok: false, error: 'msg_blocks_too_long' });
  });
});
