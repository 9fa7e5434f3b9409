import { describe, expect, it } from 'vitest';
import {
  codeBlock,
  escapeAndTruncate,
  escapeMrkdwn,
  fitCodeBlock,
  fitCodeBlocks,
  inlineCode,
  isSlackUserId,
  plainText,
  revealInvisible,
  slackDate,
  slackLink,
  splitForSlack,
  truncate,
  userMention,
} from '../../../../src/slack/blocks/mrkdwn.ts';
import { HOSTILE } from './builders.ts';

/** No lone surrogate (String#isWellFormed is ES2024, beyond this project's lib). */
function wellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

describe('escapeMrkdwn', () => {
  it('escapes exactly &, < and > so control sequences render literally', () => {
    expect(escapeMrkdwn('<!channel> <!here> <@U0ADMIN> <https://evil.example|Approve> &amp; a>b')).toBe(
      '&lt;!channel&gt; &lt;!here&gt; &lt;@U0ADMIN&gt; &lt;https://evil.example|Approve&gt; &amp;amp; a&gt;b',
    );
    expect(escapeMrkdwn('*bold* _x_ `c` :smile:')).toBe('*bold* _x_ `c` :smile:');
  });
});

describe('truncate', () => {
  it('returns short text unchanged and cuts long text to max with the marker', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello world', 8)).toBe('hello w…');
    expect(truncate('hello world', 8).length).toBeLessThanOrEqual(8);
    expect(truncate('abcdef', 4, '[…]')).toBe('a[…]');
  });

  it('never cuts a surrogate pair', () => {
    expect(wellFormed('\uD83D')).toBe(false);
    const text = `ab${'😀'.repeat(10)}`;
    for (let max = 3; max < 12; max += 1) {
      const out = truncate(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(wellFormed(out)).toBe(true);
    }
  });

  it('never cuts inside an entity it or escaping produced', () => {
    const escaped = escapeMrkdwn('a<<<<<<<<');
    for (let max = 2; max < escaped.length; max += 1) {
      const out = truncate(escaped, max);
      expect(out.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    }
  });
});

describe('escapeAndTruncate', () => {
  it('fits the escaped text, even for a megabyte of angle brackets', () => {
    const out = escapeAndTruncate('<'.repeat(1_000_000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).not.toContain('<');
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('code blocks', () => {
  it('fences escaped text and breaks backtick runs so the content cannot close the fence', () => {
    const out = codeBlock('x ``` <!channel> y', 200);
    expect(out.startsWith('```\n')).toBe(true);
    expect(out.endsWith('\n```')).toBe(true);
    const body = out.slice(4, -4);
    expect(body).not.toContain('```');
    expect(body).not.toContain('``');
    expect(body.replace(/\u200B/g, '')).toBe('x ``` &lt;!channel&gt; y');
  });

  it('reveals bidi overrides and zero-width characters', () => {
    expect(revealInvisible('report\u202Etxt.exe\u200B')).toBe('report\\u202Etxt.exe\\u200B');
    expect(codeBlock('a\u202Eb', 100)).toContain('a\\u202Eb');
  });

  it('truncates to max and says so', () => {
    const fitted = fitCodeBlock('&'.repeat(10_000), 500);
    expect(fitted.truncated).toBe(true);
    expect(fitted.text.length).toBeLessThanOrEqual(500);
    expect(fitted.text).toMatch(/…\n```$/);
    expect(fitCodeBlock('{}', 500)).toEqual({ text: '```\n{}\n```', truncated: false });
  });

  it('splits long text across blocks without losing characters except the newlines at breaks', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} <x> & \`\`\``);
    const fitted = fitCodeBlocks(lines.join('\n'), 1000, 50);
    expect(fitted.truncated).toBe(false);
    for (const block of fitted.blocks) expect(block.length).toBeLessThanOrEqual(1000);
    const joined = fitted.blocks.map((b) => b.slice(4, -4)).join('\n').replace(/\u200B/g, '');
    expect(joined).toBe(escapeMrkdwn(lines.join('\n')));
  });

  it('marks truncation when the block budget runs out', () => {
    const fitted = fitCodeBlocks('y'.repeat(100_000), 1000, 3);
    expect(fitted.blocks).toHaveLength(3);
    expect(fitted.truncated).toBe(true);
    expect(fitted.blocks[2]).toMatch(/…\n```$/);
  });
});

describe('plainText', () => {
  it('is escaped, truncated, emoji off, never empty', () => {
    expect(plainText('<!here> :smile:', 100)).toEqual({ type: 'plain_text', text: '&lt;!here&gt; :smile:', emoji: false });
    expect(plainText('x'.repeat(200), 150).text).toHaveLength(150);
    expect(plainText('', 10).text).toBe('-');
  });
});

describe('splitForSlack', () => {
  it('splits on paragraph, then line, then space boundaries within the limit', () => {
    const para = `${'a'.repeat(60)}\n\n${'b'.repeat(60)}`;
    expect(splitForSlack(para, 100)).toEqual(['a'.repeat(60), 'b'.repeat(60)]);
    const line = `${'a'.repeat(60)}\n${'b'.repeat(60)}`;
    expect(splitForSlack(line, 100)).toEqual(['a'.repeat(60), 'b'.repeat(60)]);
    const words = `${'a'.repeat(60)} ${'b'.repeat(60)}`;
    expect(splitForSlack(words, 100)).toEqual(['a'.repeat(60), 'b'.repeat(60)]);
  });

  it('hard-cuts text without boundaries, keeping every chunk within the limit', () => {
    const text = 'x'.repeat(10_000);
    const chunks = splitForSlack(text);
    expect(chunks.every((c) => c.length <= 2900)).toBe(true);
    expect(chunks.join('')).toBe(text);
    expect(splitForSlack('')).toEqual([]);
  });

  it('does not split an entity or a surrogate pair', () => {
    const text = escapeMrkdwn('<'.repeat(3000));
    const chunks = splitForSlack(text, 101);
    expect(chunks.join('')).toBe(text);
    for (const chunk of chunks) expect(chunk).toMatch(/^(&lt;)+$/);
    const emoji = '😀'.repeat(100);
    for (const chunk of splitForSlack(emoji, 51)) expect(wellFormed(chunk)).toBe(true);
  });
});

describe('mentions, dates and links', () => {
  it('builds a mention only for a valid Slack user id', () => {
    expect(isSlackUserId('U0ADMIN')).toBe(true);
    expect(isSlackUserId('W12345')).toBe(true);
    expect(userMention('U0REQ1')).toBe('<@U0REQ1>');
    expect(userMention('alice')).toBe('alice');
    expect(userMention('U0X> <!channel')).toBe('U0X&gt; &lt;!channel');
  });

  it('builds a date token from a number with an ISO fallback', () => {
    expect(slackDate(Date.UTC(2026, 10, 21, 12, 0, 0))).toBe('<!date^1795262400^{date_short_pretty} {time}|2026-11-21T12:00:00Z>');
    expect(slackDate(Number.NaN)).toBe('unknown');
  });

  it('links only under an http(s) base free of control characters', () => {
    expect(slackLink('https://harness.example/ui/', ['runs', 'r_1'], 'r_1')).toBe('<https://harness.example/ui/runs/r_1|r_1>');
    expect(slackLink('javascript:alert(1)', ['runs', 'r_1'], 'r_1')).toBe('r_1');
    expect(slackLink('https://x.example|Approve', ['runs'], 'r')).toBe('r');
    expect(slackLink(undefined, ['runs'], '<r>')).toBe('&lt;r&gt;');
  });

  it('shows inline code with backticks replaced and the content escaped', () => {
    expect(inlineCode('a`b<c>', 50)).toBe('`a\u02CBb&lt;c&gt;`');
  });

  it('escapes the hostile fixture completely', () => {
    expect(escapeMrkdwn(HOSTILE)).not.toMatch(/[<>]/);
  });
});
