/**
 * A small `.env` parser (no dependency). Supported, one assignment per line:
 *
 * ```
 * # a comment line
 * KEY=value            # unquoted: trimmed, an inline comment needs whitespace before `#`
 * export KEY=value     # `export ` prefix is ignored
 * KEY="a \"quoted\"\nvalue"   # double quotes: \n \r \t \" \\ escapes
 * KEY='literal $value'  # single quotes: taken literally
 * KEY=                 # empty value
 * ```
 *
 * Multi-line values and variable expansion are not supported. Errors name the line number only,
 * never the line's content (it may hold a secret).
 */
import { ConfigError } from '../shared/errors.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function lineError(file: string, line: number, problem: string): ConfigError {
  return new ConfigError(`${file} line ${line}: ${problem}`);
}

function parseDoubleQuoted(raw: string, file: string, line: number): { value: string; rest: string } {
  let value = '';
  for (let i = 1; i < raw.length; i += 1) {
    const ch = raw[i] as string;
    if (ch === '"') return { value, rest: raw.slice(i + 1) };
    if (ch === '\\') {
      const next = raw[i + 1];
      if (next === undefined) break;
      value += ESCAPES[next] ?? `\\${next}`;
      i += 1;
    } else {
      value += ch;
    }
  }
  throw lineError(file, line, 'unterminated double-quoted value');
}

/**
 * Parses `.env` text into a key → value map (a later assignment of the same key wins).
 * @param file the name used in error messages.
 * @throws ConfigError naming the file and line number of the first malformed line.
 */
export function parseDotenv(text: string, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const lineNo = index + 1;
    let line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    const eq = line.indexOf('=');
    if (eq <= 0) throw lineError(file, lineNo, 'expected KEY=VALUE');
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) throw lineError(file, lineNo, 'invalid variable name (letters, digits and _ only)');
    const raw = line.slice(eq + 1).trimStart();
    let value: string;
    let rest = '';
    if (raw.startsWith('"')) {
      ({ value, rest } = parseDoubleQuoted(raw, file, lineNo));
    } else if (raw.startsWith("'")) {
      const close = raw.indexOf("'", 1);
      if (close < 0) throw lineError(file, lineNo, 'unterminated single-quoted value');
      value = raw.slice(1, close);
      rest = raw.slice(close + 1);
    } else {
      const comment = raw.search(/\s#/);
      value = (comment < 0 ? raw : raw.slice(0, comment)).trim();
    }
    rest = rest.trim();
    if (rest !== '' && !rest.startsWith('#')) throw lineError(file, lineNo, 'unexpected text after the closing quote');
    // defineProperty, not assignment: a `__proto__` key must stay data.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  });
  return out;
}
