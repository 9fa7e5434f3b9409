/**
 * Argument parsing for one command: node:util `parseArgs` in strict mode, with every parse
 * problem turned into a {@link UsageError} (exit 2) that names the input, and helpers for the
 * values commands share (run references, non-negative integers, JSON).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../shared/errors.ts';
import { assertRunId } from '../shared/ids.ts';

/** Option declarations as `parseArgs` takes them. */
export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values by name. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

export interface ParsedCommandArgs {
  values: OptionValues;
  positionals: string[];
}

/**
 * Parses `argv` (the words after the command name) strictly: unknown options, options missing
 * their value, values given to boolean flags and too many or too few positionals are refused.
 * @throws UsageError naming the offending input.
 */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: OptionSpecs,
  positionals: { min: number; max: number; names: string },
): ParsedCommandArgs {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      allowPositionals: true,
    }) as { values: Record<string, unknown>; positionals: string[] };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
    throw new UsageError(`${command}: ${message.replace(/\. To specify a positional argument.*$/, '')}`);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' || typeof value === 'boolean') values[key] = value;
  }
  if (values['help'] === true) return { values, positionals: parsed.positionals };
  const count = parsed.positionals.length;
  if (count < positionals.min) {
    throw new UsageError(`${command}: missing ${positionals.names}`);
  }
  if (count > positionals.max) {
    const extra = parsed.positionals.slice(positionals.max).map((p) => JSON.stringify(p)).join(' ');
    throw new UsageError(`${command}: unexpected argument ${extra}${positionals.max === 1 ? ' (quote a task that has spaces)' : ''}`);
  }
  return { values, positionals: parsed.positionals };
}

/** A string option's value, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean flag's value. */
export function flagOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/**
 * A required string option.
 * @throws UsageError when it is missing or blank.
 */
export function requiredOption(command: string, values: OptionValues, name: string, what: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value.trim().length === 0) throw new UsageError(`${command}: --${name} ${what} is required`);
  return value.trim();
}

/**
 * Parses a non-negative integer option (`--tail 0` is valid and means "none").
 * @throws UsageError for anything but digits.
 */
export function nonNegativeIntOption(command: string, values: OptionValues, name: string): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw.trim())) throw new UsageError(`${command}: --${name} expects a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

/**
 * Parses a JSON option value.
 * @throws UsageError naming the option when it is not valid JSON.
 */
export function jsonOption(command: string, values: OptionValues, name: string): unknown {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'parse error';
    throw new UsageError(`${command}: --${name} is not valid JSON (${reason})`);
  }
}

/** Which run a command addresses: an explicit id, or the newest run. */
export type RunRef = { kind: 'id'; runId: string } | { kind: 'latest' };

/** Options of commands that take a run. */
export const RUN_OPTIONS = { latest: { type: 'boolean' } } as const satisfies OptionSpecs;

/**
 * The run reference from `<run>` or `--latest`. The id is validated here, before any I/O.
 * @throws UsageError when both or neither are given; NotFoundError `invalid_run_id` (exit 2) for a
 * malformed id such as `../x`, `a/b` or the empty string.
 */
export function runRef(command: string, positional: string | undefined, values: OptionValues): RunRef {
  const latest = flagOption(values, 'latest');
  if (positional !== undefined && latest) throw new UsageError(`${command}: give a run id or --latest, not both`);
  if (positional !== undefined) return { kind: 'id', runId: assertRunId(positional) };
  if (latest) return { kind: 'latest' };
  throw new UsageError(`${command}: missing <run> (a run id, or --latest)`);
}

/** Like {@link runRef}, but the run is optional (`harness pending [<run>]`). */
export function optionalRunRef(command: string, positional: string | undefined, values: OptionValues): RunRef | undefined {
  if (positional === undefined && !flagOption(values, 'latest')) return undefined;
  return runRef(command, positional, values);
}
