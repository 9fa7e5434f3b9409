/**
 * `npm start`: config → store (lock) → recovery → the interactive terminal demo on the embedded
 * defaults. (The Slack app and the local browser workspace take over this entry point in issues B
 * and E.) Exits non-zero with the key path named when the configuration is invalid.
 */
import { createInterface } from 'node:readline/promises';
import { createRuntime } from './app/create-runtime.ts';
import { loadConfig } from './config/load-config.ts';
import { runTerminalDemo } from './demo/terminal-demo.ts';
import { asBotError } from './shared/errors.ts';

async function main(): Promise<number> {
  const config = loadConfig({});
  const runtime = await createRuntime(config, { lock: true });
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
    process.stderr.write(`slack-harness: ${asBotError(error).message}\n`);
    process.exit(1);
  },
);
