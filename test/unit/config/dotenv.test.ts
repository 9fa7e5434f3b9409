import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../../src/config/dotenv.ts';
import { ConfigError } from '../../../src/shared/errors.ts';

describe('parseDotenv', () => {
  it('parses plain, exported, quoted and empty values and skips comments', () => {
    const text = [
      '\uFEFF# leading comment',
      '',
      'PLAIN=hello world   # trailing comment',
      'HASH=a#b',
      'export EXPORTED=yes',
      'DOUBLE="line1\\nline2 \\"q\\" \\\\ # not a comment"  # comment',
      "SINGLE='literal \\n $HOME # kept'",
      'EMPTY=',
      '  SPACED  =  padded  ',
      'REPEAT=1',
      'REPEAT=2',
    ].join('\r\n');
    expect(parseDotenv(text)).toEqual({
      PLAIN: 'hello world',
      HASH: 'a#b',
      EXPORTED: 'yes',
      DOUBLE: 'line1\nline2 "q" \\ # not a comment',
      SINGLE: 'literal \\n $HOME # kept',
      EMPTY: '',
      SPACED: 'padded',
      REPEAT: '2',
    });
  });

  it('keeps __proto__ as a plain key', () => {
    const parsed = parseDotenv('__proto__=x\n');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
  });

  it.each([
    ['no equals sign', 'JUSTAKEY'],
    ['a bad name', '1ABC=x'],
    ['an unterminated double quote', 'A="open'],
    ['an unterminated single quote', "A='open"],
    ['text after a closing quote', 'A="x" y'],
  ])('rejects %s, naming the line but not its content', (_label, line) => {
    const text = `OK=1\n${line}\n`;
    expect(() => parseDotenv(text, '.env')).toThrow(ConfigError);
    expect(() => parseDotenv(text, '.env')).toThrow(/^\.env line 2: /);
    expect(() => parseDotenv(text, '.env')).toThrow(expect.objectContaining({ message: expect.not.stringContaining(line) }));
  });
});
