/**
 * `npm run demo`: the interactive terminal demo (`terminal-demo.ts`) on the embedded defaults —
 * type a task, watch the run, decide its gates in the terminal. No Slack and no browser; the same
 * harness the bot and the CLI drive. It takes the data directory's lock, so stop `npm start` first.
 */
import { createInterface } from 'node:readline/promises';
import { createRuntime } from '../app/create-runtime.ts';
import { loadConfig } from '../config/load-config.ts';
import { asBotError } from '../shared/errors.ts';
import { runTerminalDemo } from './terminal-demo.ts';

async function main(): Promise<number> {
  const runtime = await createRuntime(loadConfig({}), { lock: true });
  const recovered = await runtime.harness.recover();
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (recovered.length > 0) print(`Resumed ${recovered.length} run(s) left unfinished by the last process.`);
  const stop = async (): Promise<void> => {
    rl.close();
    await runtime.close();
  };
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  try {
    await runTerminalDemo(runtime, rl, print);
  } finally {
    await stop();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`slack-harness demo: ${asBotError(error).message}\n`);
    process.exit(1);
  },
);
