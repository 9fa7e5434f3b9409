/** The shape of one CLI command: its options, its positionals and what it does. */
import type { OptionSpecs, OptionValues } from './args.ts';
import type { CliContext } from './context.ts';
import type { CommandOutput } from './output.ts';

/** What a command's `run` receives. */
export interface CommandInput {
  ctx: CliContext;
  values: OptionValues;
  positionals: string[];
}

export interface CommandSpec {
  name: string;
  /** One usage line, e.g. `harness approve <run> --as <user> [--gate G] [--edit-args JSON]`. */
  usage: string;
  summary: string;
  /** Command-specific options (`--json`, `--config` and `--help` are added for every command). */
  options: OptionSpecs;
  positionals: { min: number; max: number; names: string };
  /** True when the command changes runs (takes the data-dir lock). */
  writes: boolean;
  run(input: CommandInput): Promise<CommandOutput>;
}
