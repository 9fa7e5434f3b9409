/**
 * Bolt's `Logger` (from `@slack/logger`) over our pino logger, so everything Bolt, the WebClient and
 * the Socket Mode client log goes through the same scrubbing hooks as the rest of the bot
 * (`src/shared/logger.ts`): configured secrets and token-shaped strings never reach a line (P16).
 *
 * Bolt's debug lines carry whole payloads (user text, button values); they stay at `debug`, which the
 * default `info` level drops. Socket Mode logs `WebSocket error` lines at teardown; they are warnings,
 * not failures.
 */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../shared/logger.ts';

const BOLT_TO_PINO: Record<LogLevel, 'debug' | 'info' | 'warn' | 'error'> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

function pinoToBolt(level: string): LogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      // fatal, error and silent: Bolt has nothing quieter than error.
      return LogLevel.ERROR;
  }
}

function describe(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return `${part.name}: ${part.message}`;
  try {
    return JSON.stringify(part) ?? String(part);
  } catch {
    return String(part);
  }
}

/**
 * A Bolt logger writing to `logger` (a child bound to `{ component: 'bolt' }`). Every message part
 * is turned into text before it reaches pino, whose `logMethod` hook then scrubs it. `setLevel` only
 * narrows what this adapter forwards; the pino level still applies on top.
 */
export class BoltLoggerAdapter implements BoltLogger {
  private readonly target: Logger;
  private level: LogLevel;
  private name = 'bolt';

  constructor(logger: Logger) {
    this.target = logger.child({ component: 'bolt' });
    this.level = pinoToBolt(logger.level);
  }

  private forward(level: LogLevel, parts: unknown[]): void {
    if (RANK[level] < RANK[this.level]) return;
    const method = BOLT_TO_PINO[level];
    const error = parts.find((part): part is Error => part instanceof Error);
    const message = parts.map(describe).join(' ');
    if (error === undefined) this.target[method]({ source: this.name }, message);
    else this.target[method]({ source: this.name, errName: error.name }, message);
  }

  debug(...msg: unknown[]): void {
    this.forward(LogLevel.DEBUG, msg);
  }

  info(...msg: unknown[]): void {
    this.forward(LogLevel.INFO, msg);
  }

  warn(...msg: unknown[]): void {
    this.forward(LogLevel.WARN, msg);
  }

  error(...msg: unknown[]): void {
    this.forward(LogLevel.ERROR, msg);
  }

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  getLevel(): LogLevel {
    return this.level;
  }

  setName(name: string): void {
    this.name = name;
  }
}

const RANK: Record<LogLevel, number> = {
  [LogLevel.DEBUG]: 0,
  [LogLevel.INFO]: 1,
  [LogLevel.WARN]: 2,
  [LogLevel.ERROR]: 3,
};
