/** `harness evals [--fixtures F] [--keep]`: exit 1 when any case fails. */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagOption, stringOption } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { cliLogger, loadCliConfig } from '../context.ts';
import { runEvalSuite } from '../evals.ts';
import { alignRows, clip } from '../output.ts';

/** The fixtures shipped with the harness (`evals/basic.yaml` at the package root). */
export const BUNDLED_FIXTURES = fileURLToPath(new URL('../../../evals/basic.yaml', import.meta.url));

/** `--fixtures` against the cwd; by default `./evals/basic.yaml` when present, else the bundled file. */
export function fixturesPath(cwd: string, option: string | undefined): string {
  if (option !== undefined) return isAbsolute(option) ? option : resolve(cwd, option);
  const local = resolve(cwd, 'evals', 'basic.yaml');
  return existsSync(local) ? local : BUNDLED_FIXTURES;
}

export const evalsCommand: CommandSpec = {
  name: 'evals',
  usage: 'harness evals [--fixtures F] [--keep]',
  summary: 'run eval fixtures in temporary data dirs over workspace copies (exit 1 if any case fails)',
  options: { fixtures: { type: 'string' }, keep: { type: 'boolean' } },
  positionals: { min: 0, max: 0, names: '' },
  writes: false,
  async run({ ctx, values }) {
    const path = fixturesPath(ctx.io.cwd, stringOption(values, 'fixtures'));
    const config = loadCliConfig(ctx);
    const suite = await runEvalSuite(config, path, { logger: cliLogger(config), keep: flagOption(values, 'keep') });
    const rows = [['CASE', 'RESULT', 'STATUS', 'FAILED CHECKS']];
    for (const r of suite.results) {
      const failed = r.checks.filter((c) => !c.passed).map((c) => `${c.name} (expected ${clip(JSON.stringify(c.expected), 60, false)}, got ${clip(JSON.stringify(c.actual), 60, false)})`);
      rows.push([r.name, r.passed ? 'pass' : 'FAIL', r.status ?? '-', failed.join('; ') || '-']);
    }
    const text = `${suite.fixtures_path}\n${alignRows(rows)}\n${suite.passed}/${suite.case_count} passed`;
    return { data: suite, text, exitCode: suite.failed === 0 ? 0 : 1 };
  },
};
