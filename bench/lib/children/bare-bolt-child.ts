/**
 * A bench child process: the comparison baseline, a bare Bolt 5 app with one action listener that
 * only acks. HTTP mode: `new App({ signingSecret, … })` (Bolt's own HTTPReceiver, signature checks
 * on) listening on 127.0.0.1:0. Socket Mode: a SocketModeReceiver connected to the local workspace
 * the parent runs (`SLACK_API_URL`). No harness code is loaded.
 *
 * Protocol: one `{"ready":true,"port":…}` line on stdout when ready; SIGTERM stops it.
 */
import { App, LogLevel, SocketModeReceiver, type Logger } from '@slack/bolt';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bare-bolt-child: ${name} is required`);
  return value;
}

/** Bolt's logger interface, discarding everything (the default one writes to the console). */
const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

const mode = env('SLACK_MODE');
const clientOptions = { slackApiUrl: env('SLACK_API_URL') };
const identity = { token: env('SLACK_BOT_TOKEN'), botId: env('BARE_BOT_ID'), botUserId: env('BARE_BOT_USER_ID') };
let app: App;
if (mode === 'http') {
  app = new App({ ...identity, signingSecret: env('SLACK_SIGNING_SECRET'), logger: silent, logLevel: LogLevel.ERROR, clientOptions });
} else {
  const receiver = new SocketModeReceiver({ appToken: env('SLACK_APP_TOKEN'), logger: silent, logLevel: LogLevel.ERROR, installerOptions: { clientOptions } });
  app = new App({ ...identity, receiver, logger: silent, logLevel: LogLevel.ERROR, clientOptions });
}
app.action(/.*/, async ({ ack }) => {
  await ack();
});

let port: number | null = null;
if (mode === 'http') {
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  port = (server.address() as AddressInfo).port;
} else {
  await app.start();
}
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
// The parent is gone (its end of the stdin pipe closed): do not outlive it.
process.stdin.on('end', () => process.exit(1)).resume();
process.once('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
