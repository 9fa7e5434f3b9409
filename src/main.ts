/**
 * `npm start`: config → store (lock) → recovery → a transport.
 *
 * - Slack tokens set (`SLACK_APP_TOKEN`, or `SLACK_MODE=http` with a signing secret): the Slack bot
 *   (`src/bot/start-bot.ts`) in Socket Mode or HTTP mode.
 * - `SLACK_MODE=local`: the local Slack-compatible workspace on 127.0.0.1:`PORT` with the bot
 *   connected to it; one line on stdout gives its URL.
 * - Nothing configured: the interactive terminal demo on the embedded defaults. (Issue E makes the
 *   local workspace with its browser UI the default.)
 *
 * Exits non-zero with the key path named when the configuration is invalid, and with
 * `excess scopes: …` when Slack granted more than `manifest.yml` lists.
 */
import { createInterface } from 'node:readline/promises';
import { createRuntime } from './app/create-runtime.ts';
import { startLocalBot } from './bot/local-bot.ts';
import { startBot } from './bot/start-bot.ts';
import { loadConfig } from './config/load-config.ts';
import type { HarnessConfig } from './config/schema.ts';
import { runTerminalDemo } from './demo/terminal-demo.ts';
import { asBotError } from './shared/errors.ts';

/** Never resolves: the process lives until a signal handler exits it. */
const forever = (): Promise<number> => new Promise<number>(() => undefined);

async function runLocalWorkspace(config: HarnessConfig): Promise<number> {
  const local = await startLocalBot(config);
  process.stdout.write(`Local Slack workspace: ${local.url} (bot connected over Socket Mode; Ctrl-C stops it)\n`);
  const onSignal = (): void => {
    void local.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return forever();
}

async function runTerminal(config: HarnessConfig): Promise<number> {
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

async function main(): Promise<number> {
  const config = loadConfig({});
  if (config.slack.mode === 'socket' || config.slack.mode === 'http') {
    await startBot(config, { handleSignals: true });
    return forever();
  }
  if (config.slack.explicit === true) return runLocalWorkspace(config);
  return runTerminal(config);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`slack-harness: ${asBotError(error).message}\n`);
    process.exit(1);
  },
);
