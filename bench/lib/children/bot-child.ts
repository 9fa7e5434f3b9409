/**
 * A bench child process: the real bot (`startBot`, as `npm start` builds it) in Socket Mode or
 * HTTP mode against the local workspace the parent runs. Configuration comes from the environment
 * exactly as in production (`HARNESS_CONFIG`, `SLACK_MODE`, `SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN` or
 * `SLACK_SIGNING_SECRET`, `SLACK_API_URL`); only the listen address is pinned to 127.0.0.1:0.
 *
 * Protocol with the parent (bench/lib/slack-bench.ts): one JSON line on stdout when ready,
 * `{"ready":true,"port":…}`; then, for every `stats` line on stdin, a `{"stats":…}` line with the
 * event-loop delay since the last `reset` line and the RSS. SIGTERM stops the bot gracefully.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startBot } from '../../../src/bot/start-bot.ts';
import { loadConfig } from '../../../src/config/load-config.ts';

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const config = loadConfig({ env: process.env, cwd: process.cwd() });
const bot = await startBot(config, { handleSignals: true, listen: { host: '127.0.0.1', port: 0 } });
process.stdout.write(`${JSON.stringify({ ready: true, port: bot.port })}\n`);

const ns = (value: number): number => value / 1e6;
const commands = createInterface({ input: process.stdin });
// The parent is gone (its end of the pipe closed): do not outlive it.
commands.on('close', () => process.exit(1));
commands.on('line', (line) => {
  if (line === 'reset') loopDelay.reset();
  if (line === 'stats') {
    const stats = {
      loopDelayP50Ms: ns(loopDelay.percentile(50)),
      loopDelayP99Ms: ns(loopDelay.percentile(99)),
      loopDelayMaxMs: ns(loopDelay.max),
      rssBytes: process.memoryUsage().rss,
    };
    process.stdout.write(`${JSON.stringify({ stats })}\n`);
  }
});
