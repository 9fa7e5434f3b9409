/**
 * The CLI as a function: `runCli(argv, io)` parses, dispatches to one command, prints its result
 * (text or one JSON document) or its error, and returns the exit code. `main.ts` wires it to the
 * process; tests call it in-process with their own {@link CliIo}.
 */
import { UsageError } from '../shared/errors.ts';
import { flagOption, parseCommandArgs, stringOption } from './args.ts';
import type { CommandSpec } from './command.ts';
import { COMMANDS, findCommand } from './commands/index.ts';
import { DEFAULT_CLI_USER } from './context.ts';
import { type CliIo, ExitCode, alignRows, exitCodeFor, writeError, writeOutput } from './output.ts';

/** The overview printed by `harness help`. */
export function helpText(): string {
  const rows = COMMANDS.map((c) => [`  ${c.usage}`, c.summary]);
  return [
    'harness: operate slack-harness runs from a terminal (docs/cli.md)',
    '',
    'usage: harness <command> [options]    every command takes --json and --config <file>',
    '',
    alignRows(rows),
    '',
    `<run> is a run id; --latest picks the newest run. Runs started here are requested by "${DEFAULT_CLI_USER}" unless --user is given.`,
    'Exit codes: 0 success, 1 refused or failed, 2 usage (unknown command or option, missing argument, malformed run id).',
    'Run "harness <command> --help" for one command.',
    '',
  ].join('\n');
}

/** The help of one command. */
export function commandHelp(spec: CommandSpec): string {
  const options = Object.entries(spec.options).map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [
    `usage: ${spec.usage} [--json] [--config <file>]`,
    '',
    spec.summary,
    options.length > 0 ? `options: ${options.join(' ')}` : '',
    spec.writes ? 'Changes runs: handed to the running bot over its admin socket, or applied here under the data-dir lock when no bot runs.' : 'Read-only: needs no lock and creates nothing in the data directory.',
    '',
  ]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
}

/**
 * Moves global options written before the command (`harness --json --config f runs`) after it,
 * where every command accepts them.
 */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i];
    if (word === '--json') {
      leading.push(word);
      i += 1;
    } else if (word === '--config' && i + 1 < argv.length) {
      leading.push(word, argv[i + 1] as string);
      i += 2;
    } else if (word?.startsWith('--config=')) {
      leading.push(word);
      i += 1;
    } else {
      break;
    }
  }
  return { name: argv[i], rest: [...argv.slice(i + 1), ...leading] };
}

/** Runs one CLI invocation and returns its exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined) {
      io.stderr(helpText());
      return ExitCode.Usage;
    }
    if (name === 'help' || name === '--help' || name === '-h') {
      const topic = rest.find((word) => !word.startsWith('-'));
      const spec = topic === undefined ? undefined : findCommand(topic);
      if (topic !== undefined && spec === undefined) throw new UsageError(`unknown command ${JSON.stringify(topic)}; run "harness help" for the list`);
      io.stdout(spec === undefined ? helpText() : commandHelp(spec));
      return ExitCode.Ok;
    }
    const spec = findCommand(name);
    if (spec === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}; run "harness help" for the list`);
    const { values, positionals } = parseCommandArgs(spec.name, rest, spec.options, spec.positionals);
    json = flagOption(values, 'json');
    if (flagOption(values, 'help')) {
      io.stdout(commandHelp(spec));
      return ExitCode.Ok;
    }
    const configPath = stringOption(values, 'config');
    const ctx = { io, json, command: spec.name, ...(configPath === undefined ? {} : { configPath }) };
    const output = await spec.run({ ctx, values, positionals });
    writeOutput(io, output, json);
    return output.exitCode ?? ExitCode.Ok;
  } catch (error) {
    writeError(io, error, json);
    return exitCodeFor(error);
  }
}
