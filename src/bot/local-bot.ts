/**
 * The local workspace (`npm start` with no Slack token, or `SLACK_MODE=local`): the Slack-compatible
 * server on loopback, its browser UI, and the bot connected to it over Socket Mode, in one process
 * (DESIGN.md §8, docs/architecture/local-workspace.md). The workspace grants exactly the manifest's
 * scopes, so the least-privilege check runs here as it would against Slack.
 *
 * The bot can be restarted on its own ({@link LocalBot.restartBot}) while the workspace and the
 * open browser pages stay up: it reconnects over Socket Mode and resumes its runs from the store,
 * exactly as after a restart against real Slack.
 *
 * The tokens are fixed and not secret: the server listens on 127.0.0.1 only and accepts nothing but
 * these values, and they never leave the machine.
 */
import type { HarnessConfig } from '../config/schema.ts';
import { startLocalSlack, type LocalSlack } from '../local-workspace/server.ts';
import { mountWorkspaceUi, type WorkspaceUi } from '../local-workspace/ui/ui-routes.ts';
import { DEFAULT_MANIFEST_PATH, readManifest } from './scopes.ts';
import { startBot, type BotHandle, type StartBotOptions } from './start-bot.ts';

/** The local workspace's bot token (loopback only; not a secret). */
export const LOCAL_BOT_TOKEN = 'xoxb-local-workspace-bot';
/** The local workspace's app-level token (loopback only; not a secret). */
export const LOCAL_APP_TOKEN = 'xapp-local-workspace-app';

/** Options of {@link startLocalBot}: the bot's options, plus whether to serve the browser UI. */
export interface LocalBotOptions extends Omit<StartBotOptions, 'localSlack' | 'handleSignals'> {
  /** Serve the browser UI under `/ui/` (default true). */
  ui?: boolean;
}

/** A local workspace with the bot connected to it. */
export interface LocalBot {
  readonly server: LocalSlack;
  /** The browser UI, unless disabled. */
  readonly ui: WorkspaceUi | null;
  /** The bot currently connected (a new handle after {@link restartBot}). */
  readonly bot: BotHandle;
  /** `http://127.0.0.1:<port>`; a browser opening it lands on the UI. */
  readonly url: string;
  /**
   * Stops the bot and starts a new one against the same workspace (the UI and its pages stay up).
   * Resolves with the new bot once it is connected. @throws whatever {@link startBot} throws.
   */
  restartBot(): Promise<BotHandle>;
  /** Stops the bot, then the workspace. Idempotent; never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts the workspace on `config.slack.port` (127.0.0.1), its UI, and the bot against it.
 * @throws whatever {@link startBot} throws (the workspace is closed again first), or the listen
 *   error when the port is taken.
 */
export async function startLocalBot(config: HarnessConfig, options: LocalBotOptions = {}): Promise<LocalBot> {
  const { ui: withUi = true, ...botOptions } = options;
  const manifest = readManifest(botOptions.manifestPath ?? DEFAULT_MANIFEST_PATH);
  const server = await startLocalSlack({
    port: config.slack.port,
    host: '127.0.0.1',
    botToken: LOCAL_BOT_TOKEN,
    appToken: LOCAL_APP_TOKEN,
    grantedScopes: manifest.botScopes,
  });
  const ui = withUi ? mountWorkspaceUi(server) : null;
  const botConfig: HarnessConfig = { ...config, slack: { ...config.slack, mode: 'local' } };
  const launch = (): Promise<BotHandle> =>
    startBot(botConfig, {
      ...botOptions,
      localSlack: { apiUrl: server.apiUrl, botToken: LOCAL_BOT_TOKEN, appToken: LOCAL_APP_TOKEN, appId: server.state.appId },
    });
  let bot: BotHandle;
  try {
    bot = await launch();
  } catch (error) {
    await server.close();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    server,
    ui,
    get bot() {
      return bot;
    },
    url: server.url,
    async restartBot() {
      await bot.stop();
      bot = await launch();
      return bot;
    },
    stop() {
      stopping ??= bot.stop().then(() => server.close());
      return stopping;
    },
  };
}
