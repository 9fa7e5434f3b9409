import { describe, expect, it } from 'vitest';
import { buildSummary, extractKeywords, firstUrl, slugify, splitSentences, titleCase } from '../../../src/model/scripted-text.ts';

describe('scripted text helpers', () => {
  it('drops stop-words, Slack mentions, URLs, one-letter words and duplicates from keywords', () => {
    expect(extractKeywords('<@U123ABC> please summarise the Q3 outage, the outage and https://x.example/a b')).toEqual(['q3', 'outage']);
    expect(extractKeywords('Write a short report on it')).toEqual([]);
  });

  it('slugs on a word boundary within the limit and defaults to "report"', () => {
    expect(slugify(['alpha', 'beta', 'gamma'], 12)).toBe('alpha-beta');
    expect(slugify(['supercalifragilistic'], 10)).toBe('supercalif');
    expect(slugify([])).toBe('report');
    expect(slugify(['日本'])).toBe('report');
  });

  it('title-cases keywords', () => {
    expect(titleCase(['durable', 'execution'])).toBe('Durable Execution');
    expect(titleCase([])).toBe('Untitled');
  });

  it('finds the first http(s) URL without trailing punctuation or Slack wrapping', () => {
    expect(firstUrl('see (https://a.example/x?y=1).')).toBe('https://a.example/x?y=1');
    expect(firstUrl('<http://b.example|label> and https://c.example')).toBe('http://b.example');
    expect(firstUrl('no url')).toBe('');
  });

  it('splits Markdown into sentences without list or heading markers', () => {
    expect(splitSentences('# Title\n- one. two!\n\n> quoted?  yes')).toEqual(['Title', 'one.', 'two!', 'quoted?', 'yes']);
  });

  it('summarises with the first three keyword sentences, matching word prefixes', () => {
    const sources = [{ source: 'a.md', content: 'Outages hurt. Cats purr. The outage ended. Outage review. Outage four.' }];
    expect(buildSummary(sources, ['outage'])).toBe('Outages hurt. The outage ended. Outage review.');
    expect(buildSummary(sources, ['dogs'])).toBe('No matching facts were found in the workspace.');
  });
});
