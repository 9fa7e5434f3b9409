/**
 * `SLACK_MODE=local`: the local Slack-compatible workspace on loopback plus the bot connected to it
 * over Socket Mode, in one process (DESIGN.md §8). The workspace grants exactly the manifest's
 * scopes, so the least-privilege check runs here as it would against Slack.
 *
 * The tokens are fixed and not secret: the server listens on 127.0.0.1 only and accepts nothing but
 * these values, and they never leave the machine.
 */
import type { HarnessConfig } from '../config/schema.ts';
import { startLocalSlack, type LocalSlack } from '../local-workspace/server.ts';
import { DEFAULT_MANIFEST_PATH, readManifest } from './scopes.ts';
import { startBot, type BotHandle, type StartBotOptions } from './start-bot.ts';

/** The local workspace's bot token (loopback only; not a secret). */
export const LOCAL_BOT_TOKEN = 'xoxb-local-workspace-bot';
/** The local workspace's app-level token (loopback only; not a secret). */
export const LOCAL_APP_TOKEN = 'xapp-local-workspace-app';

/** A local workspace with the bot connected to it. */
export interface LocalBot {
  readonly server: LocalSlack;
  readonly bot: BotHandle;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the bot, then the workspace. Idempotent; never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts the workspace on `config.slack.port` (127.0.0.1) and the bot against it.
 * @throws whatever {@link startBot} throws (the workspace is closed again first), or the listen
 *   error when the port is taken.
 */
export async function startLocalBot(config: HarnessConfig, options: Omit<StartBotOptions, 'localSlack' | 'handleSignals'> = {}): Promise<LocalBot> {
  const manifest = readManifest(options.manifestPath ?? DEFAULT_MANIFEST_PATH);
  const server = await startLocalSlack({
    port: config.slack.port,
    host: '127.0.0.1',
    botToken: LOCAL_BOT_TOKEN,
    appToken: LOCAL_APP_TOKEN,
    grantedScopes: manifest.botScopes,
  });
  let bot: BotHandle;
  try {
    bot = await startBot(
      { ...config, slack: { ...config.slack, mode: 'local' } },
      { ...options, localSlack: { apiUrl: server.apiUrl, botToken: LOCAL_BOT_TOKEN, appToken: LOCAL_APP_TOKEN, appId: server.state.appId } },
    );
  } catch (error) {
    await server.close();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    server,
    bot,
    url: server.url,
    stop() {
      stopping ??= bot.stop().then(() => server.close());
      return stopping;
    },
  };
}
