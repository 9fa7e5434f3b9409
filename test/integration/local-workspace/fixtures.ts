/**
 * Shared setup for the local-workspace integration tests: canary tokens, the scopes the bot's
 * manifest grants, and Socket Mode Bolt apps wired to a running local workspace.
 */
import { App, SocketModeReceiver } from '@slack/bolt';
import { QuietLogger } from '../../../src/local-workspace/quiet-logger.ts';
import type { LocalSlack } from '../../../src/local-workspace/server.ts';

export const BOT_TOKEN = 'xoxb-local-CANARY-bot-token';
export const APP_TOKEN = 'xapp-1-local-CANARY-app-token';
export const SIGNING_SECRET = 'local-CANARY-signing-secret';
export const SCOPES = ['app_mentions:read', 'channels:history', 'chat:write', 'reactions:write', 'im:history', 'users:read'] as const;

/**
 * A Socket Mode Bolt app pointed at `server` exactly as production code would be (only
 * `slackApiUrl` changes), with a quiet logger and no Web API retries.
 */
export function socketApp(server: LocalSlack): { app: App; logger: QuietLogger } {
  const logger = new QuietLogger();
  const app = new App({
    token: BOT_TOKEN,
    appToken: APP_TOKEN,
    socketMode: true,
    logger,
    clientOptions: { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } },
  });
  return { app, logger };
}

/**
 * Like {@link socketApp} but with an explicit receiver whose reconnect delay is short
 * (`clientPingTimeout` × attempts; the 5 s default would slow reconnect tests).
 */
export function fastReconnectSocketApp(server: LocalSlack): { app: App; logger: QuietLogger } {
  const logger = new QuietLogger();
  const clientOptions = { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } };
  const receiver = new SocketModeReceiver({ appToken: APP_TOKEN, logger, clientPingTimeout: 1000, installerOptions: { clientOptions } });
  const app = new App({ token: BOT_TOKEN, receiver, logger, clientOptions });
  return { app, logger };
}
