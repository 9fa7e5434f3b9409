/**
 * The page's mrkdwn parser (src/local-workspace/ui/static/mrkdwn.js): the same module the browser
 * runs. It must turn Slack formatting into a tree of text-only nodes and keep everything else as
 * literal text, so nothing a model writes can become markup or a live mention.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a browser ES module without type declarations (no bundler, no build step)
import * as mrkdwn from '../../../../src/local-workspace/ui/static/mrkdwn.js';

type Node = { t: string; v?: string; c?: Node[]; [key: string]: unknown };
const { parseMrkdwn, decodeEntities, formatSlackDate } = mrkdwn as {
  parseMrkdwn(text: string): Node[];
  decodeEntities(text: string): string;
  formatSlackDate(epoch: number, format: string, fallback: string, now?: number): string;
};

describe('mrkdwn parser', () => {
  it('parses bold, italic, strike and inline code at word edges', () => {
    expect(parseMrkdwn('a *b* _i_ ~s~ `c`')).toEqual([
      { t: 'text', v: 'a ' },
      { t: 'b', c: [{ t: 'text', v: 'b' }] },
      { t: 'text', v: ' ' },
      { t: 'i', c: [{ t: 'text', v: 'i' }] },
      { t: 'text', v: ' ' },
      { t: 's', c: [{ t: 'text', v: 's' }] },
      { t: 'text', v: ' ' },
      { t: 'code', v: 'c' },
    ]);
  });

  it('leaves markers inside words and around spaces alone', () => {
    expect(parseMrkdwn('snake_case_name and 2*3*4 and * not bold *')).toEqual([{ t: 'text', v: 'snake_case_name and 2*3*4 and * not bold *' }]);
  });

  it('nests italic inside bold, and never formats inside code', () => {
    expect(parseMrkdwn('*very _much_ so*')).toEqual([{ t: 'b', c: [{ t: 'text', v: 'very ' }, { t: 'i', c: [{ t: 'text', v: 'much' }] }, { t: 'text', v: ' so' }] }]);
    expect(parseMrkdwn('`*not bold*`')).toEqual([{ t: 'code', v: '*not bold*' }]);
  });

  it('parses links, user and channel mentions, specials and dates', () => {
    expect(parseMrkdwn('<https://example.com/a?b=1&amp;c=2|docs> <@U123> <@U9|vic> <#C1|general> <!here> <!date^1700000000^{date_num}|Nov 14>')).toEqual([
      { t: 'link', url: 'https://example.com/a?b=1&c=2', label: 'docs' },
      { t: 'text', v: ' ' },
      { t: 'user', id: 'U123', label: null },
      { t: 'text', v: ' ' },
      { t: 'user', id: 'U9', label: 'vic' },
      { t: 'text', v: ' ' },
      { t: 'channel', id: 'C1', label: 'general' },
      { t: 'text', v: ' ' },
      { t: 'special', name: 'here', label: null },
      { t: 'text', v: ' ' },
      { t: 'date', epoch: 1700000000, format: '{date_num}', link: null, fallback: 'Nov 14' },
    ]);
  });

  it('keeps escaped control sequences literal: &lt;!channel&gt; is text, not a broadcast', () => {
    expect(parseMrkdwn('&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;')).toEqual([
      { t: 'text', v: '<!channel> <script>alert(1)</script> &amp;' },
    ]);
  });

  it('refuses links that are not http(s) or mailto: they stay text', () => {
    expect(parseMrkdwn('<javascript:alert(1)|click>')).toEqual([{ t: 'text', v: '<javascript:alert(1)|click>' }]);
  });

  it('turns known emoji shortcodes into characters and leaves unknown ones and times alone', () => {
    expect(parseMrkdwn(':white_check_mark: done at 12:30:45 :not_an_emoji:')).toEqual([
      { t: 'emoji', name: 'white_check_mark', v: '\u2705' },
      { t: 'text', v: ' done at 12:30:45 :not_an_emoji:' },
    ]);
  });

  it('splits fenced code blocks and quotes, with line breaks between lines', () => {
    expect(parseMrkdwn('*Args*\n```\n{"a": "&lt;b&gt;"}\n```\n&gt; quoted\n&gt; twice\nend')).toEqual([
      { t: 'b', c: [{ t: 'text', v: 'Args' }] },
      { t: 'pre', v: '{"a": "<b>"}' },
      // A quote is a block of its own: the next line needs no break.
      { t: 'quote', c: [{ t: 'text', v: 'quoted' }, { t: 'br' }, { t: 'text', v: 'twice' }] },
      { t: 'text', v: 'end' },
    ]);
  });

  it('decodes only the three entities Slack escapes', () => {
    expect(decodeEntities('&amp;lt; &lt; &gt; &quot; &#39;')).toBe('&lt; < > &quot; &#39;');
  });

  it('formats date tokens and falls back on unknown ones', () => {
    const epoch = new Date(2026, 0, 2, 3, 4, 5).getTime() / 1000;
    expect(formatSlackDate(epoch, '{date_num} {time_secs}', 'fb')).toBe('2026-01-02 03:04:05');
    expect(formatSlackDate(epoch, '{date_short} at {time}', 'fb')).toBe('Jan 2, 2026 at 03:04');
    expect(formatSlackDate(epoch, '{date_pretty}', 'fb', new Date(2026, 0, 2, 12).getTime())).toBe('today');
    expect(formatSlackDate(epoch, '{nonsense}', 'the fallback')).toBe('the fallback');
  });
});
