/**
 * The process logger: pino, JSON lines on stderr (fd 2). Never stdout: the stdio MCP server and
 * `harness … --json` own stdout, and one stray log line there corrupts their protocol.
 *
 * Secrets are scrubbed three times (ecosystem.md §8): pino `redact` paths censor token-like
 * fields; the `logMethod` hook runs the redactor over every argument (message strings,
 * interpolation values, error messages and stacks, nested fields), because pino's `redact` never
 * looks inside strings; and the `streamWrite` hook runs it once more over the finished line.
 */
import { pino, type DestinationStream, type Level, type LevelWithSilent } from 'pino';
import { patternRedactor, redactDeep, REDACTED, type Redactor } from './redact.ts';

/** The logger every module receives (pino's own type; children keep the scrubbing hooks). */
export type Logger = pino.Logger;
export type { Level, LevelWithSilent };

/** Field paths censored wherever they appear at the top level or one level down. */
export const REDACT_PATHS: readonly string[] = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'apiKey',
  'secret',
  'secrets',
  'password',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-slack-signature"]',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.apiKey',
  '*.secret',
  '*.secrets',
  '*.password',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-slack-signature"]',
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Scrubs secret values; defaults to the token patterns only. */
  redactor?: Redactor;
  /** Where lines go; defaults to a synchronous stream on fd 2 (stderr). Tests pass a Writable. */
  destination?: DestinationStream;
  /** Bound on every line (e.g. `{ app: 'slack-harness' }`). */
  base?: Record<string, unknown>;
}

/**
 * Creates the logger. Guarantees: output goes to `destination` or stderr, never stdout; the
 * configured secrets and token-shaped strings never appear in a line, whether passed as a
 * message, an interpolation argument, an error or a nested field.
 */
export function createLogger(options: LoggerOptions): Logger {
  const redactor = options.redactor ?? patternRedactor;
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level: options.level,
      base: options.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      hooks: {
        logMethod(args, method) {
          const scrubbed = (args as unknown[]).map((arg) => redactDeep(arg, redactor));
          // Passing the same arity back keeps pino's (obj, msg, ...interpolation) handling intact.
          (method as (...a: unknown[]) => void).apply(this, scrubbed);
        },
        streamWrite: (line) => redactor(line),
      },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactDeep(bindings, redactor),
      },
    },
    destination,
  );
}

/** A logger that writes nothing (tests, and CLI commands that print JSON). */
export const silentLogger: Logger = pino({ level: 'silent' });
