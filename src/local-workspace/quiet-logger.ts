/**
 * A `@slack/logger` `Logger` that prints nothing and keeps what it was given, for Bolt apps run
 * against the local workspace in tests (the console guard fails a test on any console output, and
 * Socket Mode logs `WebSocket error` lines on teardown — ecosystem.md §1.9). A test can still read
 * `lines` to see why a listener failed.
 */
import { LogLevel, type Logger } from '@slack/bolt';

/** One swallowed log call. */
export interface QuietLogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

const RANK: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Keeps at most this many lines (oldest dropped). */
const MAX_LINES = 500;

function stringify(parts: unknown[]): string {
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if (part instanceof Error) return `${part.name}: ${part.message}`;
      try {
        return JSON.stringify(part);
      } catch {
        return String(part);
      }
    })
    .join(' ');
}

/** A silent, recording Logger. Never writes to the console. Lines may contain whatever Bolt logs. */
export class QuietLogger implements Logger {
  readonly lines: QuietLogLine[] = [];
  private level: LogLevel;

  /** `level` is what is kept (default `info`: Socket Mode's debug lines carry whole payloads). */
  constructor(level: LogLevel = LogLevel.INFO) {
    this.level = level;
  }

  private push(level: QuietLogLine['level'], parts: unknown[]): void {
    if ((RANK[level] ?? 0) < (RANK[this.level] ?? 0)) return;
    this.lines.push({ level, message: stringify(parts) });
    if (this.lines.length > MAX_LINES) this.lines.shift();
  }

  debug(...msg: unknown[]): void {
    this.push('debug', msg);
  }

  info(...msg: unknown[]): void {
    this.push('info', msg);
  }

  warn(...msg: unknown[]): void {
    this.push('warn', msg);
  }

  error(...msg: unknown[]): void {
    this.push('error', msg);
  }

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  getLevel(): LogLevel {
    return this.level;
  }

  setName(_name: string): void {
    // Names only prefix printed lines, and nothing is printed.
  }

  /** Lines at `warn` or `error`. */
  problems(): QuietLogLine[] {
    return this.lines.filter((l) => l.level === 'warn' || l.level === 'error');
  }
}
