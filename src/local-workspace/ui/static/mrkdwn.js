// Slack mrkdwn → a small node tree (no DOM, no HTML strings), for the local workspace UI.
//
// Pure functions, so the same parser is unit-tested in Node (test/unit/local-workspace/ui) and
// run in the browser. The tree only ever carries text; the renderer (blocks.js) turns it into DOM
// nodes with textContent, so nothing a model or a user wrote can become markup.
//
// Covered (docs.slack.dev "Formatting text for app surfaces"): *bold*, _italic_, ~strike~,
// `code`, ```preformatted```, > quotes, <url|label> links, <@U…> and <#C…|name> mentions,
// <!here>/<!channel>/<!everyone>, <!date^…|fallback>, :emoji: shortcodes, and the three HTML
// entities Slack requires apps to escape (&amp; &lt; &gt;).

/**
 * @typedef {{ t: 'text', v: string }
 *   | { t: 'b' | 'i' | 's' | 'quote', c: MrkdwnNode[] }
 *   | { t: 'code' | 'pre', v: string }
 *   | { t: 'br' }
 *   | { t: 'link', url: string, label: string }
 *   | { t: 'user' | 'channel', id: string, label: string | null }
 *   | { t: 'special', name: string, label: string | null }
 *   | { t: 'date', epoch: number, format: string, link: string | null, fallback: string }
 *   | { t: 'emoji', name: string, v: string | null }} MrkdwnNode
 */

/** Shortcodes the bot uses (and a few common ones); anything else stays as its `:name:` text. */
export const EMOJI = Object.freeze({
  white_check_mark: '\u2705',
  heavy_check_mark: '\u2714\uFE0F',
  ballot_box_with_check: '\u2611\uFE0F',
  x: '\u274C',
  no_entry: '\u26D4',
  no_entry_sign: '\u{1F6AB}',
  warning: '\u26A0\uFE0F',
  hourglass: '\u231B',
  hourglass_flowing_sand: '\u23F3',
  alarm_clock: '\u23F0',
  scissors: '\u2702\uFE0F',
  pencil2: '\u270F\uFE0F',
  eyes: '\u{1F440}',
  raised_hand: '\u270B',
  thought_balloon: '\u{1F4AD}',
  speech_balloon: '\u{1F4AC}',
  red_circle: '\u{1F534}',
  large_yellow_circle: '\u{1F7E1}',
  large_orange_circle: '\u{1F7E0}',
  large_green_circle: '\u{1F7E2}',
  large_blue_circle: '\u{1F535}',
  grey_question: '\u2754',
  question: '\u2753',
  gear: '\u2699\uFE0F',
  fast_forward: '\u23E9',
  arrows_counterclockwise: '\u{1F504}',
  robot_face: '\u{1F916}',
  memo: '\u{1F4DD}',
  page_facing_up: '\u{1F4C4}',
  mag: '\u{1F50D}',
  lock: '\u{1F512}',
  skull: '\u{1F480}',
  octagonal_sign: '\u{1F6D1}',
  rocket: '\u{1F680}',
  tada: '\u{1F389}',
  thumbsup: '\u{1F44D}',
  '+1': '\u{1F44D}',
  thinking_face: '\u{1F914}',
  busts_in_silhouette: '\u{1F465}',
  bust_in_silhouette: '\u{1F464}',
  stopwatch: '\u23F1\uFE0F',
  link: '\u{1F517}',
  information_source: '\u2139\uFE0F',
});

/** The emoji for a short name (`tada`), or null; only the table's own names count. */
export function emojiFor(name) {
  return Object.prototype.hasOwnProperty.call(EMOJI, name) ? EMOJI[name] : null;
}


/** Decodes the entities Slack requires apps to escape; everything else is left as typed. */
export function decodeEntities(text) {
  return text.replace(/&(amp|lt|gt);/g, (_, name) => (name === 'amp' ? '&' : name === 'lt' ? '<' : '>'));
}

// Emphasis markers count only at word edges and never around whitespace, as in Slack.
const INLINE = [
  { kind: 'angle', re: /<([^<>\s][^<>\n]*)>/ },
  { kind: 'code', re: /`([^`\n]+)`/ },
  { kind: 'b', re: /(?<![\p{L}\p{N}*])\*(?!\s)([^*\n]*?[^\s*])\*(?![\p{L}\p{N}*])/u },
  { kind: 'i', re: /(?<![\p{L}\p{N}_])_(?!\s)([^_\n]*?[^\s_])_(?![\p{L}\p{N}_])/u },
  { kind: 's', re: /(?<![\p{L}\p{N}~])~(?!\s)([^~\n]*?[^\s~])~(?![\p{L}\p{N}~])/u },
  { kind: 'emoji', re: /:([a-z0-9_+'-]+):/ },
];

function pushText(out, text) {
  if (text === '') return;
  const last = out[out.length - 1];
  if (last !== undefined && last.t === 'text') last.v += decodeEntities(text);
  else out.push({ t: 'text', v: decodeEntities(text) });
}

function parseAngle(inner, raw) {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? null : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith('@')) return { t: 'user', id: target.slice(1), label };
  if (target.startsWith('#')) return { t: 'channel', id: target.slice(1), label };
  if (target.startsWith('!date^')) {
    const [, epoch, format, link] = target.split('^');
    const seconds = Number(epoch);
    if (Number.isFinite(seconds) && format !== undefined) {
      return { t: 'date', epoch: seconds, format, link: link ?? null, fallback: label ?? '' };
    }
    return { t: 'text', v: label ?? decodeEntities(raw) };
  }
  if (target.startsWith('!')) return { t: 'special', name: target.slice(1), label };
  const url = decodeEntities(target);
  if (/^(https?:\/\/|mailto:)/i.test(url)) return { t: 'link', url, label: label ?? url };
  return { t: 'text', v: decodeEntities(raw) };
}

/** Parses one line's inline formatting. */
export function parseInline(text) {
  const out = [];
  let rest = text;
  while (rest !== '') {
    let best = null;
    for (const rule of INLINE) {
      const match = rule.re.exec(rest);
      if (match !== null && (best === null || match.index < best.match.index)) best = { rule, match };
    }
    if (best === null) {
      pushText(out, rest);
      break;
    }
    const { rule, match } = best;
    pushText(out, rest.slice(0, match.index));
    const inner = match[1] ?? '';
    switch (rule.kind) {
      case 'angle':
        out.push(parseAngle(inner, match[0]));
        break;
      case 'code':
        out.push({ t: 'code', v: decodeEntities(inner) });
        break;
      case 'emoji': {
        const v = emojiFor(inner);
        if (v === null) pushText(out, match[0]);
        else out.push({ t: 'emoji', name: inner, v });
        break;
      }
      default:
        out.push({ t: rule.kind, c: parseInline(inner) });
    }
    rest = rest.slice(match.index + match[0].length);
  }
  return out;
}

function parseLines(text) {
  const out = [];
  const lines = text.split('\n');
  let quote = null;
  lines.forEach((line, index) => {
    const quoted = /^(&gt;|>) ?(.*)$/.exec(line);
    if (quoted !== null) {
      if (quote === null) {
        quote = [];
        out.push({ t: 'quote', c: quote });
      } else quote.push({ t: 'br' });
      quote.push(...parseInline(quoted[2] ?? ''));
      return;
    }
    quote = null;
    if (index > 0 && out.length > 0 && out[out.length - 1].t !== 'quote') out.push({ t: 'br' });
    out.push(...parseInline(line));
  });
  return out;
}

/**
 * Parses Slack mrkdwn into {@link MrkdwnNode}s. Never throws; any string is valid input and text
 * that is not formatting stays text (entities decoded).
 * @param {string} text
 * @returns {MrkdwnNode[]}
 */
export function parseMrkdwn(text) {
  const out = [];
  const fence = /```([\s\S]*?)```/g;
  let last = 0;
  for (const match of text.matchAll(fence)) {
    const before = text.slice(last, match.index).replace(/\n$/, '');
    if (before !== '') out.push(...parseLines(before));
    out.push({ t: 'pre', v: decodeEntities((match[1] ?? '').replace(/^\n/, '').replace(/\n$/, '')) });
    last = match.index + match[0].length;
  }
  const tail = last > 0 ? text.slice(last).replace(/^\n/, '') : text;
  if (tail !== '') out.push(...parseLines(tail));
  return out;
}

const pad = (n) => String(n).padStart(2, '0');
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Formats a `<!date^epoch^format|fallback>` token in the viewer's time zone. Unknown `{tokens}`
 * make the whole thing fall back to the app's fallback text, as Slack does.
 */
export function formatSlackDate(epochSeconds, format, fallback, now = Date.now()) {
  const d = new Date(epochSeconds * 1000);
  if (Number.isNaN(d.getTime())) return fallback;
  const month = MONTHS[d.getMonth()] ?? '';
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const dayDiff = Math.round((new Date(d).setHours(0, 0, 0, 0) - new Date(now).setHours(0, 0, 0, 0)) / 86_400_000);
  const pretty = (plain) => (dayDiff === 0 ? 'today' : dayDiff === -1 ? 'yesterday' : dayDiff === 1 ? 'tomorrow' : plain);
  const agoText = () => {
    const seconds = Math.round((now - d.getTime()) / 1000);
    const abs = Math.abs(seconds);
    const unit = abs < 60 ? ['second', abs] : abs < 3600 ? ['minute', Math.round(abs / 60)] : abs < 86_400 ? ['hour', Math.round(abs / 3600)] : ['day', Math.round(abs / 86_400)];
    const phrase = `${unit[1]} ${unit[0]}${unit[1] === 1 ? '' : 's'}`;
    return seconds >= 0 ? `${phrase} ago` : `in ${phrase}`;
  };
  const tokens = {
    date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    date: `${month} ${d.getDate()}, ${d.getFullYear()}`,
    date_short: `${month.slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`,
    date_long: `${d.toLocaleDateString('en-US', { weekday: 'long' })}, ${month} ${d.getDate()}, ${d.getFullYear()}`,
    date_pretty: pretty(`${month} ${d.getDate()}, ${d.getFullYear()}`),
    date_short_pretty: pretty(`${month.slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`),
    date_long_pretty: pretty(`${month} ${d.getDate()}, ${d.getFullYear()}`),
    time,
    time_secs: `${time}:${pad(d.getSeconds())}`,
    ago: agoText(),
  };
  let unknown = false;
  const text = format.replace(/\{([a-z_]+)\}/g, (_, name) => {
    if (Object.prototype.hasOwnProperty.call(tokens, name)) return tokens[name];
    unknown = true;
    return '';
  });
  return unknown ? fallback : decodeEntities(text);
}
