/**
 * Pure text helpers behind the scripted model's templates: keywords, slugs, URLs, and the facts,
 * report and summary it builds from tool results. Everything here is deterministic: the same
 * input always gives the same output, which is what makes a scripted run replayable.
 */

/** Words dropped from a task before it becomes a search query or a title. */
const STOP_WORDS = new Set(
  [
    'a', 'about', 'all', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'brief', 'briefly', 'by', 'can', 'could',
    'create', 'do', 'does', 'draft', 'for', 'from', 'get', 'give', 'have', 'hey', 'hi', 'how', 'i', 'in', 'into',
    'is', 'it', 'its', 'let', 'make', 'me', 'my', 'of', 'on', 'or', 'our', 'please', 'pls', 'produce', 'quick',
    'quickly', 'recap', 'report', 'reports', 'short', 'some', 'summarise', 'summarize', 'summary', 'tell', 'than',
    'thanks', 'that', 'the', 'their', 'them', 'then', 'there', 'these', 'this', 'those', 'to', 'up', 'us', 'we',
    'what', 'when', 'which', 'who', 'why', 'will', 'with', 'would', 'write', 'you', 'your',
  ],
);

const URL_PATTERN = /https?:\/\/[^\s<>|"'`]+/i;
const TRAILING_URL_PUNCTUATION = /[.,;:!?)\]}]+$/;

/** The first http(s) URL in `text` (Slack `<url|label>` wrapping and trailing punctuation removed), or ''. */
export function firstUrl(text: string): string {
  const match = URL_PATTERN.exec(text);
  return match ? match[0].replace(TRAILING_URL_PUNCTUATION, '') : '';
}

function words(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);
}

/**
 * The task's content words in order of first appearance: URLs, Slack mentions (`<@U1>`, `<#C1>`),
 * stop-words and one-letter words removed, duplicates dropped.
 */
export function extractKeywords(task: string): string[] {
  const cleaned = task.replace(/<[@#!][^>]*>/g, ' ').replace(new RegExp(URL_PATTERN.source, 'gi'), ' ');
  const seen = new Set<string>();
  for (const word of words(cleaned)) {
    if (STOP_WORDS.has(word)) continue;
    if (word.length < 2 && !/\p{N}/u.test(word)) continue;
    seen.add(word);
  }
  return [...seen];
}

/** Kebab-case ASCII slug of `keywords`, at most `maxLength` characters, cut on a word boundary; `report` when empty. */
export function slugify(keywords: readonly string[], maxLength = 48): string {
  const full = keywords
    .join('-')
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  let slug = full;
  if (slug.length > maxLength) {
    const cut = slug.slice(0, maxLength + 1);
    const boundary = cut.lastIndexOf('-');
    slug = boundary > 0 ? cut.slice(0, boundary) : slug.slice(0, maxLength);
  }
  slug = slug.replace(/-+$/g, '');
  return slug.length > 0 ? slug : 'report';
}

/** `keywords` title-cased and joined with spaces; `Untitled` when empty. */
export function titleCase(keywords: readonly string[]): string {
  if (keywords.length === 0) return 'Untitled';
  return keywords.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ');
}

const MAX_SENTENCE_CHARS = 280;

/** Splits text into sentences, dropping Markdown heading, list and quote markers. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*|\d+[.)]\s+)/, '').trim();
    if (line.length === 0) continue;
    for (const part of line.split(/(?<=[.!?])\s+/)) {
      const sentence = part.replace(/\s+/g, ' ').trim();
      if (sentence.length === 0) continue;
      sentences.push(sentence.length > MAX_SENTENCE_CHARS ? `${sentence.slice(0, MAX_SENTENCE_CHARS - 1)}…` : sentence);
    }
  }
  return sentences;
}

/** True when a word of `sentence` starts with one of `keywords` (so `outage` also finds `outages`). */
export function mentionsKeyword(sentence: string, keywords: readonly string[]): boolean {
  if (keywords.length === 0) return false;
  return words(sentence).some((word) => keywords.some((keyword) => word.startsWith(keyword)));
}

/** A document the scripted model read: where it came from and its text. */
export interface SourceDocument {
  source: string;
  content: string;
}

/** One sentence found in a source. */
export interface Fact {
  source: string;
  sentence: string;
}

/**
 * Sentences mentioning a keyword, in source order: at most `perSource` per source and `limit` in
 * all; a sentence already taken from the same source is not repeated.
 */
export function extractFacts(
  sources: readonly SourceDocument[],
  keywords: readonly string[],
  { perSource = 3, limit = 10 }: { perSource?: number; limit?: number } = {},
): Fact[] {
  const facts: Fact[] = [];
  const taken = new Set<string>();
  for (const { source, content } of sources) {
    let fromThisSource = 0;
    for (const sentence of splitSentences(content)) {
      if (facts.length >= limit) return facts;
      if (fromThisSource >= perSource) break;
      const key = `${source}\u0000${sentence}`;
      if (taken.has(key) || !mentionsKeyword(sentence, keywords)) continue;
      taken.add(key);
      facts.push({ source, sentence });
      fromThisSource += 1;
    }
  }
  return facts;
}

/** The line in every scripted report that says how it was made. */
export const REPORT_HARNESS_NOTE =
  'Drafted offline by the scripted model (no AI provider was called) and written to the workspace only after human approval.';

/** The Markdown report the `{{report}}` template renders. */
export function buildReport(sources: readonly SourceDocument[], keywords: readonly string[]): string {
  const facts = extractFacts(sources, keywords, { perSource: 3, limit: 10 });
  const findings = facts.length > 0 ? facts.map((fact) => `- [${fact.source}] ${fact.sentence}`) : ['No facts were found in the workspace.'];
  return [
    `# Report: ${titleCase(keywords)}`,
    '',
    '## Key Findings',
    '',
    ...findings,
    '',
    '## Harness Notes',
    '',
    `- ${REPORT_HARNESS_NOTE}`,
    '',
  ].join('\n');
}

/** The `{{summary}}` template: the first three sentences mentioning a keyword, joined. */
export function buildSummary(sources: readonly SourceDocument[], keywords: readonly string[]): string {
  const facts = extractFacts(sources, keywords, { perSource: 3, limit: 3 });
  if (facts.length === 0) return 'No matching facts were found in the workspace.';
  return facts.map((fact) => fact.sentence).join(' ');
}
