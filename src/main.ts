/**
 * `npm start`: config → store (lock) → recovery → a transport.
 *
 * - Slack tokens set (`SLACK_APP_TOKEN`, or `SLACK_MODE=http` with a signing secret): the Slack bot
 *   (`src/bot/start-bot.ts`) in Socket Mode or HTTP mode.
 * - No Slack token (or `SLACK_MODE=local`): the local workspace (`src/bot/local-bot.ts`): the
 *   Slack-compatible server and its browser UI on 127.0.0.1:`PORT` (default 3000) with the same
 *   bot connected over Socket Mode. Exactly one line goes to stdout, with the URL; the logs go to
 *   `<dataDir>/local-workspace.log` so the terminal stays readable.
 *
 * The terminal demo of earlier versions is `npm run demo` (`src/demo/main.ts`).
 *
 * Exits non-zero with the key path named when the configuration is invalid, and with
 * `excess scopes: …` when Slack granted more than `manifest.yml` lists.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startLocalBot } from './bot/local-bot.ts';
import { startBot } from './bot/start-bot.ts';
import { loadConfig, secretValues } from './config/load-config.ts';
import type { HarnessConfig } from './config/schema.ts';
import { asBotError } from './shared/errors.ts';
import { createLogger } from './shared/logger.ts';
import { createRedactor } from './shared/redact.ts';

/** Never resolves: the process lives until a signal handler exits it. */
const forever = (): Promise<number> => new Promise<number>(() => undefined);

/** The log file of the local workspace, inside the data directory. */
const LOCAL_LOG_FILE = 'local-workspace.log';

async function runLocalWorkspace(config: HarnessConfig): Promise<number> {
  mkdirSync(config.dataDir, { recursive: true });
  const logPath = join(config.dataDir, LOCAL_LOG_FILE);
  const logger = createLogger({
    level: config.logLevel,
    redactor: createRedactor(secretValues(config)),
    destination: createWriteStream(logPath, { flags: 'a', mode: 0o600 }),
  });
  const local = await startLocalBot(config, { logger });
  const fromCwd = relative(process.cwd(), logPath);
  const shownLog = fromCwd === '' || fromCwd.startsWith('..') ? logPath : fromCwd;
  process.stdout.write(`Local Slack workspace: ${local.url} (open it in a browser; the bot is connected over Socket Mode; logs in ${shownLog}; Ctrl-C stops it)\n`);
  const onSignal = (): void => {
    void local.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return forever();
}

async function main(): Promise<number> {
  const config = loadConfig({});
  if (config.slack.mode === 'socket' || config.slack.mode === 'http') {
    await startBot(config, { handleSignals: true });
    return forever();
  }
  return runLocalWorkspace(config);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`slack-harness: ${asBotError(error).message}\n`);
    process.exit(1);
  },
);
