/**
 * Encoding of untrusted text (model output, tool output, user input, stored arguments) for Slack
 * (RELIABILITY.md P14). Every renderer routes such text through these helpers; nothing else in
 * `blocks/` concatenates raw text into a Slack string.
 *
 * Slack parses `&`, `<` and `>` in every text it renders (mrkdwn, plain_text and the top-level
 * `text` fallback): `<!channel>`, `<@U…>` and `<https://x|label>` are control sequences. Escaping
 * these three characters, and only these, is Slack's documented rule, so escaped text renders
 * literally. The only `<` in our output is built here, by {@link userMention}, {@link slackDate}
 * and {@link slackLink}, from validated inputs.
 */

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const ENTITY = /^&(?:amp|lt|gt);/;
/** Bidi controls and zero-width characters that can make shown text differ from what runs. */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const FENCE_OPEN = '```\n';
const FENCE_CLOSE = '\n```';
/**
 * Put between two backticks inside a code block so a literal ``` in the content cannot close the
 * fence. A zero-width space keeps the visible text identical to the arguments (approvers must
 * see exactly what runs); substituting a look-alike such as ʼ would change the shown characters.
 * Copy-pasting a neutralised run of backticks carries the invisible character along; the args
 * hash, not the card text, is what binds an approval.
 */
const BACKTICK_BREAK = '\u200B';

/** Escapes Slack's three control characters so the text renders literally. Pure; never throws. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Makes bidi overrides and zero-width characters visible as `\uXXXX` (inside a JSON string this
 * is the same value), so `"report\u202Etxt.exe"` cannot pass for something else on a card.
 */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/**
 * The largest index ≤ `end` at which `text` may be cut: never between the halves of a surrogate
 * pair and never inside an `&amp;` / `&lt;` / `&gt;` entity (a cut entity would show as `&am`).
 * @internal
 */
export function safeCut(text: string, end: number): number {
  let cut = Math.max(0, Math.min(end, text.length));
  if (cut > 0 && cut < text.length) {
    const before = text.charCodeAt(cut - 1);
    if (before >= 0xd800 && before <= 0xdbff) cut -= 1;
  }
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp >= 0 && cut - amp < 5) {
    const match = ENTITY.exec(text.slice(amp, amp + 5));
    if (match !== null && amp + match[0].length > cut) cut = amp;
  }
  return cut;
}

/**
 * `text` if it has at most `max` UTF-16 units, else a prefix plus `marker` of at most `max` units.
 * Never cuts a surrogate pair or an entity. With `max` smaller than the marker, returns a cut marker.
 */
export function truncate(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  return cutWithMarker(text, max, marker);
}

function cutWithMarker(text: string, max: number, marker: string): string {
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  return text.slice(0, safeCut(text, max - marker.length)).trimEnd() + marker;
}

/**
 * Escapes then truncates, so the *escaped* text fits `max` (escaping can grow text fivefold).
 * Huge inputs are cut before escaping, so a 1 MB string costs no more than a `max`-sized one.
 */
export function escapeAndTruncate(text: string, max: number, marker = '…'): string {
  if (text.length > max) return cutWithMarker(escapeMrkdwn(text.slice(0, safeCut(text, max))), max, marker);
  return truncate(escapeMrkdwn(text), max, marker);
}

/** Untrusted text on one line (newlines become spaces), escaped and truncated. */
export function inlineText(text: string, max: number): string {
  return escapeAndTruncate(text.replace(/\s+/g, ' ').trim(), max);
}

/**
 * Untrusted text as inline code: one line, escaped, truncated. A backtick would end the code
 * span, so it is shown as `ˋ` (U+02CB); use this for names and ids, never for arguments.
 */
export function inlineCode(text: string, max: number): string {
  const body = inlineText(text.replace(/`/g, '\u02CB'), Math.max(1, max - 2));
  return `\`${body === '' ? ' ' : body}\``;
}

/** The result of {@link fitCodeBlock}. */
export interface FittedCodeBlock {
  /** A complete ``` fenced block of at most `max` characters. */
  text: string;
  /** True when some of the content was left out (a `…` ends the block). */
  truncated: boolean;
}

/**
 * Fences `text` in a ``` code block of at most `max` characters (`max` ≥ 10): invisible
 * characters revealed, `&<>` escaped, and runs of backticks broken with a zero-width space so the
 * content cannot close the fence (see {@link BACKTICK_BREAK} for why that and not a look-alike).
 */
export function fitCodeBlock(text: string, max: number): FittedCodeBlock {
  const budget = Math.max(2, max - FENCE_OPEN.length - FENCE_CLOSE.length);
  const cutRaw = text.length > budget;
  const raw = cutRaw ? text.slice(0, safeCut(text, budget)) : text;
  let body = escapeMrkdwn(revealInvisible(raw)).replace(/`(?=`)/g, `\`${BACKTICK_BREAK}`);
  const truncated = cutRaw || body.length > budget;
  if (truncated) body = cutWithMarker(body, budget, '…');
  if (body.trim() === '') body = ' ';
  return { text: `${FENCE_OPEN}${body}${FENCE_CLOSE}`, truncated };
}

/** The result of {@link fitCodeBlocks}. */
export interface FittedCodeBlocks {
  /** Complete ``` fenced blocks, each of at most `maxPerBlock` characters. */
  blocks: string[];
  /** True when the text did not fit in `maxBlocks` blocks (the last one ends with `…`). */
  truncated: boolean;
}

/**
 * Untrusted text across up to `maxBlocks` fenced blocks of at most `maxPerBlock` characters each,
 * encoded like {@link fitCodeBlock} once over the whole text (so escaping never overflows a block
 * mid-way). Blocks break at line ends, else mid-line; no character is dropped except the newline
 * at a line break, so block boundaries read as line breaks.
 */
export function fitCodeBlocks(text: string, maxPerBlock: number, maxBlocks: number): FittedCodeBlocks {
  const budget = Math.max(8, maxPerBlock - FENCE_OPEN.length - FENCE_CLOSE.length);
  const capacity = budget * Math.max(1, maxBlocks);
  const cutRaw = text.length > capacity;
  const raw = cutRaw ? text.slice(0, safeCut(text, capacity)) : text;
  let rest = escapeMrkdwn(revealInvisible(raw)).replace(/`(?=`)/g, `\`${BACKTICK_BREAK}`);
  const bodies: string[] = [];
  while (rest.length > 0 && bodies.length < maxBlocks) {
    if (rest.length <= budget) {
      bodies.push(rest);
      rest = '';
      break;
    }
    const newline = rest.lastIndexOf('\n', budget);
    const cut = newline >= budget / 2 ? newline : safeCut(rest, budget) || budget;
    bodies.push(rest.slice(0, cut));
    rest = rest.slice(newline === cut ? cut + 1 : cut);
  }
  const truncated = cutRaw || rest.length > 0;
  if (truncated && bodies.length > 0) {
    const last = bodies.length - 1;
    const body = bodies[last] ?? '';
    bodies[last] = body.length < budget ? `${body}…` : cutWithMarker(body, budget, '…');
  }
  if (bodies.length === 0) bodies.push(' ');
  return { blocks: bodies.map((body) => `${FENCE_OPEN}${body.trim() === '' ? ' ' : body}${FENCE_CLOSE}`), truncated };
}

/** {@link fitCodeBlock}'s text: untrusted text in a ``` block of at most `max` characters. */
export function codeBlock(text: string, max: number): string {
  return fitCodeBlock(text, max).text;
}

/** A Block Kit plain_text object. */
export interface PlainTextObject {
  type: 'plain_text';
  text: string;
  emoji: false;
}

/**
 * A `plain_text` object holding untrusted text, escaped (Slack decodes the three entities in
 * plain_text too) and truncated to `max`; an empty text becomes `-` because Slack rejects empty
 * text objects. `emoji: false` keeps `:shortcodes:` from the model literal.
 */
export function plainText(text: string, max: number): PlainTextObject {
  const fitted = escapeAndTruncate(text, max);
  return { type: 'plain_text', text: fitted.trim() === '' ? '-' : fitted, emoji: false };
}

/**
 * Splits text into chunks of at most `maxChars` (default 2900, under the 3000-char section limit),
 * preferring paragraph breaks, then line breaks, then spaces, in the second half of each window;
 * otherwise a hard cut that respects surrogate pairs and entities. The separator at a break is
 * dropped. Pass text that is already escaped: the chunks are measured as given. `''` gives `[]`.
 */
export function splitForSlack(text: string, maxChars = 2900): string[] {
  const max = Math.max(8, maxChars);
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = -1;
    let skip = 0;
    for (const separator of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(separator, max - separator.length);
      if (at >= max / 2) {
        cut = at;
        skip = separator.length;
        break;
      }
    }
    if (cut < 0) {
      cut = safeCut(rest, max);
      if (cut === 0) cut = max;
    }
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut + skip);
  }
  if (rest.length > 0) chunks.push(rest);
  return chunks;
}

/** True for a syntactically valid Slack user id (`U…` or enterprise `W…`). */
export function isSlackUserId(value: string): boolean {
  return SLACK_USER_ID.test(value);
}

/**
 * `<@U…>` for a validated Slack user id; anything else (a CLI user name, a run id, model text)
 * is shown escaped as plain text. The only place a mention is built.
 */
export function userMention(userId: string): string {
  return isSlackUserId(userId) ? `<@${userId}>` : inlineText(userId, 80) || 'unknown';
}

/** The UTC ISO time of `ms`, or `unknown` for a non-finite value. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : 'unknown';
}

/**
 * A Slack date token that renders in the reader's time zone, with the ISO time as the fallback
 * Slack shows when it cannot format. Built only from a number.
 */
export function slackDate(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${isoTime(ms)}>`;
}

/**
 * `<url|label>` when `base` is an http(s) URL free of Slack's control characters, else the escaped
 * label alone. `path` segments are URI-encoded; the label is escaped.
 */
export function slackLink(base: string | undefined, path: readonly string[], label: string): string {
  const shown = inlineText(label, 200);
  if (base === undefined || /[\s<>|]/.test(base)) return shown;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return shown;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return shown;
  const href = `${base.replace(/\/+$/, '')}/${path.map((part) => encodeURIComponent(part)).join('/')}`;
  return `<${href}|${shown}>`;
}
