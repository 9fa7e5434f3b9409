/**
 * How the CLI talks to its caller: one JSON document on stdout with `--json`, short aligned text
 * otherwise; errors as one `error: <message>` line on stderr (and, with `--json`, as
 * `{"error":{code,message}}` on stdout), and exit codes 0 (success), 1 (refused or failed) and
 * 2 (usage). Nothing here reads the environment or the disk.
 */
import { type BotError, ErrorCode, asBotError } from '../shared/errors.ts';

/** Where a command writes, and what it reads its settings from. Tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Where relative paths (`config.yaml`, `--out`, `--fixtures`) resolve. */
  cwd: string;
  /** Environment for `loadConfig`; `undefined` lets `src/config/` read `process.env` itself. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** What a command hands back: the JSON document, its human rendering, and the exit code. */
export interface CommandOutput {
  data: unknown;
  text: string;
  /** 0 unless the command itself decides it failed (doctor, evals). */
  exitCode?: 0 | 1;
}

/** Exit codes (docs/cli.md). */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;

/** 2 for usage errors and malformed run ids, 1 for everything else. */
export function exitCodeFor(error: unknown): 1 | 2 {
  const code = asBotError(error).code;
  return code === ErrorCode.Usage || code === ErrorCode.InvalidRunId ? ExitCode.Usage : ExitCode.Failed;
}

/** A message on one line: multi-line messages (config problems) are joined with spaces. */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ');
}

/** Prints a command's result: exactly one JSON document, or its text. */
export function writeOutput(io: CliIo, output: CommandOutput, json: boolean): void {
  if (json) {
    io.stdout(`${JSON.stringify(output.data, null, 2)}\n`);
    return;
  }
  if (output.text.length > 0) io.stdout(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
}

/** Prints an error (never its stack, cause or details, which could carry more than the message). */
export function writeError(io: CliIo, error: unknown, json: boolean): void {
  const bot: BotError = asBotError(error);
  const message = oneLine(bot.message);
  io.stderr(`error: ${message}\n`);
  if (json) io.stdout(`${JSON.stringify({ error: { code: bot.code, message } })}\n`);
}

/** Rows as left-aligned columns separated by two spaces (the last column is not padded). */
export function alignRows(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) => indent + row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ').trimEnd())
    .join('\n');
}

/** `text` clipped to `max` characters, with a note of how much was left out unless `note` is false. */
export function clip(text: string, max: number, note = true): string {
  if (text.length <= max) return text;
  return note ? `${text.slice(0, max)}… (${text.length - max} more characters; use --json for all)` : `${text.slice(0, max)}…`;
}

/** Milliseconds since the epoch as ISO time, or `-`. */
export function isoTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? '-' : new Date(ms).toISOString();
}
