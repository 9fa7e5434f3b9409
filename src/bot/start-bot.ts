/**
 * The bot process (DESIGN.md §1 `main.ts`, §8, §10): config → runtime (store lock) → `auth.test`
 * and the least-privilege check (P17) → Bolt app → egress publisher and its reconciliation →
 * recovery of unfinished runs → gate sweeper → transport start → startup banner.
 *
 * Nothing with a side effect on Slack happens before the scopes check has passed, and a failure
 * at any step undoes the earlier ones (the data-directory lock is released), so a refused start
 * leaves the data directory exactly as it was.
 */
import type { App, Logger as BoltLogger } from '@slack/bolt';
import { WebClient, type RetryOptions } from '@slack/web-api';
import { startAdminServer } from '../admin/index.ts';
import { createRuntime, type Runtime } from '../app/create-runtime.ts';
import { mcpClientTokens } from '../config/load-config.ts';
import type { HarnessConfig } from '../config/schema.ts';
import { type McpHttpServerHandle, startMcpHttpServer } from '../mcp/server/http-server.ts';
import type { ModelPort } from '../model/port.ts';
import type { Clock } from '../shared/clock.ts';
import { ConfigError, SlackApiError, asBotError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { createBoltApp, type BoltMode } from '../slack/app/create-bolt-app.ts';
import { SlackPublisher } from '../slack/egress/slack-publisher.ts';
import { IdentityCheck } from '../slack/ingress/identity.ts';
import { registerIngressListeners } from '../slack/ingress/register-listeners.ts';
import { SlackIngress } from '../slack/ingress/slack-ingress.ts';
import { Router } from '../routing/router.ts';
import { ThreadIndex } from '../slack/ingress/thread-index.ts';
import { createWebClientPort, slackWebClientOptions, toSlackApiError } from '../slack/web-client-port.ts';
import type { ToolDefinition } from '../tools/types.ts';
import { DEFAULT_MANIFEST_PATH, assertNoExcessScopes, readManifest } from './scopes.ts';

/** How often pending gates are checked for reminders and expiry. */
export const DEFAULT_SWEEP_INTERVAL_MS = 30_000;

/** The local workspace a `local`-mode bot connects to (its fixed, non-secret tokens). */
export interface LocalSlackTarget {
  /** The server's `apiUrl` (`http://127.0.0.1:<port>/api/`). */
  apiUrl: string;
  botToken: string;
  appToken: string;
  /** The workspace's app id (`A_LOCAL`): no need to pin it from the first payload. */
  appId?: string;
}

/** Options of {@link startBot}; everything is optional in production. */
export interface StartBotOptions {
  /** Required when `config.slack.mode` is `local`. */
  localSlack?: LocalSlackTarget;
  /** Replaces the logger built from the config (tests capture its stream). */
  logger?: Logger;
  /** Replaces the Bolt logger adapter (tests keep Bolt's own lines apart). */
  boltLogger?: BoltLogger;
  model?: ModelPort;
  extraTools?: readonly ToolDefinition[];
  clock?: Clock;
  /** HTTP mode: where to listen; defaults to `config.slack.port` on every interface. */
  listen?: { port?: number; host?: string };
  manifestPath?: string;
  sweepIntervalMs?: number;
  /** WebClient retries (tests: `{ retries: 0 }`). */
  retryConfig?: RetryOptions;
  /** Socket Mode reconnect pace (tests shorten it). */
  clientPingTimeoutMs?: number;
  /** Publisher status coalescing interval (default 1000 ms). */
  statusIntervalMs?: number;
  /** How long a sub-agent lives before it gets its own thread post (publisher default 3000 ms; tests 0). */
  subagentPostDelayMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT, then exit the process (the `npm start` entry point). */
  handleSignals?: boolean;
}

/** What `auth.test` told us about the installation. */
export interface SlackInstallation {
  teamId: string;
  botUserId: string;
  botId: string;
  /** As granted (`x-oauth-scopes`), sorted. */
  grantedScopes: string[];
}

/** A running bot. */
export interface BotHandle {
  readonly mode: BoltMode;
  readonly runtime: Runtime;
  readonly app: App;
  readonly ingress: SlackIngress;
  readonly publisher: SlackPublisher;
  readonly installation: SlackInstallation;
  /** HTTP mode: the port listened on; null otherwise. */
  readonly port: number | null;
  /** Runs left unfinished by the previous process and resumed at startup. */
  readonly recovered: readonly string[];
  /** Absolute path of the admin socket the operator CLI writes through (docs/architecture/admin-socket.md). */
  readonly adminSocket: string;
  /** The MCP endpoint for external clients (`mcp.server.enabled`), or null (docs/architecture/mcp-server.md). */
  readonly mcpUrl: string | null;
  /**
   * Stops taking input (transport), stops driving runs (they stay persisted and resume at the next
   * start), flushes pending Slack posts, and releases the store. Idempotent; never rejects.
   */
  stop(): Promise<void>;
}

interface Credentials {
  botToken: string;
  appToken: string | undefined;
  signingSecret: string | undefined;
  apiUrl: string | null;
  appId: string | null;
}

function credentialsFor(config: HarnessConfig, options: StartBotOptions): Credentials {
  const { mode } = config.slack;
  if (mode === 'local') {
    const local = options.localSlack;
    if (local === undefined) throw new ConfigError('SLACK_MODE is local, but no local Slack workspace was started for the bot');
    return { botToken: local.botToken, appToken: local.appToken, signingSecret: undefined, apiUrl: local.apiUrl, appId: local.appId ?? config.slack.appId ?? null };
  }
  const botToken = config.secrets.slackBotToken;
  if (botToken === undefined) throw new ConfigError(`SLACK_BOT_TOKEN: required when SLACK_MODE is ${mode}`);
  return {
    botToken,
    appToken: config.secrets.slackAppToken,
    signingSecret: config.secrets.slackSigningSecret,
    apiUrl: config.slack.apiUrl,
    appId: config.slack.appId ?? null,
  };
}

/**
 * Calls `auth.test` with the bot token.
 * @throws ConfigError naming SLACK_BOT_TOKEN (never its value) when Slack refuses the token;
 *   SlackApiError when Slack cannot be reached.
 */
export async function readInstallation(client: WebClient): Promise<SlackInstallation> {
  let result;
  try {
    result = await client.auth.test();
  } catch (error) {
    const slackError = toSlackApiError('auth.test', error);
    const code = slackError.details['slackError'];
    if (code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive' || code === 'token_revoked' || code === 'not_allowed_token_type') {
      throw new ConfigError(`Slack refused SLACK_BOT_TOKEN (${String(code)})`, { cause: slackError });
    }
    throw slackError;
  }
  const { team_id: teamId, user_id: botUserId, bot_id: botId } = result;
  if (typeof teamId !== 'string' || typeof botUserId !== 'string' || typeof botId !== 'string') {
    throw new SlackApiError('auth.test answered without team_id, user_id or bot_id; is SLACK_BOT_TOKEN a bot token?', {
      details: { method: 'auth.test', slackError: 'invalid_response' },
    });
  }
  const scopes = result.response_metadata?.scopes ?? [];
  return { teamId, botUserId, botId, grantedScopes: [...scopes].sort() };
}

/**
 * Starts the bot and resolves once it is connected (Socket Mode) or listening (HTTP).
 * @throws ConfigError for missing secrets, a token Slack refuses, or granted scopes beyond the
 *   manifest (`excess scopes: …`, code `excess_scopes`); StoreLockedError when another process owns
 *   the data directory; SlackApiError when Slack cannot be reached. Whatever was started is stopped
 *   again before it throws.
 */
export async function startBot(config: HarnessConfig, options: StartBotOptions = {}): Promise<BotHandle> {
  const credentials = credentialsFor(config, options);
  const manifest = readManifest(options.manifestPath ?? DEFAULT_MANIFEST_PATH);
  const runtime = await createRuntime(config, {
    lock: true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.extraTools === undefined ? {} : { extraTools: options.extraTools }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const { harness, logger } = runtime;
  const clock = harness.deps.clock;
  const cleanups: (() => Promise<void>)[] = [() => runtime.close()];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.error({ err: asBotError(error).toJSON() }, 'shutdown step failed'));
    }
  };

  try {
    const preflight = new WebClient(
      credentials.botToken,
      slackWebClientOptions({
        ...(credentials.apiUrl === null ? {} : { apiUrl: credentials.apiUrl }),
        logger,
        ...(options.retryConfig === undefined ? {} : { retryConfig: options.retryConfig }),
      }),
    );
    const installation = await readInstallation(preflight);
    if (config.slack.teamId !== undefined && config.slack.teamId !== installation.teamId) {
      throw new ConfigError(`slack.teamId does not match the workspace SLACK_BOT_TOKEN belongs to (${installation.teamId})`);
    }
    const scopes = assertNoExcessScopes(installation.grantedScopes, manifest.botScopes);
    if (scopes.missing.length > 0) {
      logger.warn({ missing: scopes.missing }, `Slack did not grant scopes the manifest lists (${scopes.missing.join(', ')}); calls needing them will fail — reinstall the app`);
    }

    const bolt = createBoltApp({
      mode: config.slack.mode,
      botToken: credentials.botToken,
      ...(credentials.appToken === undefined ? {} : { appToken: credentials.appToken }),
      ...(credentials.signingSecret === undefined ? {} : { signingSecret: credentials.signingSecret }),
      apiUrl: credentials.apiUrl,
      botId: installation.botId,
      botUserId: installation.botUserId,
      logger,
      ...(options.boltLogger === undefined ? {} : { boltLogger: options.boltLogger }),
      ...(options.retryConfig === undefined ? {} : { retryConfig: options.retryConfig }),
      ...(options.clientPingTimeoutMs === undefined ? {} : { clientPingTimeoutMs: options.clientPingTimeoutMs }),
    });
    cleanups.push(() => bolt.stop());

    const port = createWebClientPort(bolt.app.client, { botId: installation.botId });
    const publisher = new SlackPublisher({
      harness,
      port,
      clock,
      logger,
      appHome: { refreshOnChange: true },
      ...(options.statusIntervalMs === undefined ? {} : { statusIntervalMs: options.statusIntervalMs }),
      ...(options.subagentPostDelayMs === undefined ? {} : { subagentPostDelayMs: options.subagentPostDelayMs }),
    });
    publisher.start();
    cleanups.push(() => publisher.stop());
    await publisher.reconcile();

    const threads = new ThreadIndex();
    await threads.load(runtime.store);

    const identity = new IdentityCheck({ teamId: config.slack.teamId ?? installation.teamId, appId: credentials.appId });
    // Issue C: routing rules are checked against the roles folder here (an unknown role fails startup).
    const router = new Router({ roles: runtime.roles.list(), defaultRole: runtime.roles.defaultRole, channels: config.routing.channels });
    const ingress = new SlackIngress({
      harness,
      slack: port,
      publisher,
      identity,
      threads,
      botUserId: installation.botUserId,
      logger,
      clock,
      router,
      debounceMs: config.routing.debounceMs,
    });
    registerIngressListeners(bolt.app, ingress, logger);
    // Registered after the transport's cleanup, so it runs before it: drives stop, then the
    // background work settles, then the publisher flushes what those last commits queued.
    cleanups.push(async () => {
      await harness.stop();
      await ingress.close();
      await ingress.settled();
    });

    const recovered = await harness.recover();

    // The operator CLI's writes arrive here while the bot holds the lock; closed before the
    // harness stops, so no CLI write lands on a stopping harness.
    const admin = await startAdminServer({ harness, dataDir: config.dataDir, logger });
    cleanups.push(() => admin.close());

    // External MCP clients (issue D): like the admin socket, closed before the harness stops.
    let mcp: McpHttpServerHandle | null = null;
    if (config.mcp.server.enabled) {
      mcp = await startMcpHttpServer({
        config: config.mcp.server,
        tokens: mcpClientTokens(config.secrets),
        deps: {
          store: runtime.store,
          clock,
          lifecycle: { harness, manager: runtime.subagents.manager },
          contextChars: config.agents.contextChars,
          maxAwaitSeconds: config.agents.maxAwaitSeconds,
        },
        logger,
        ...(runtime.audit === undefined ? {} : { audit: runtime.audit }),
      });
      const server = mcp;
      cleanups.push(() => server.close());
    }

    const sweepEvery = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    let sweeping = false;
    const sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      harness
        .sweepGates()
        .catch((error: unknown) => logger.error({ err: asBotError(error).toJSON() }, 'gate sweep failed'))
        .finally(() => {
          sweeping = false;
        });
    }, sweepEvery);
    sweeper.unref();
    cleanups.push(async () => clearInterval(sweeper));

    const listen = { port: options.listen?.port ?? config.slack.port, ...(options.listen?.host === undefined ? {} : { host: options.listen.host }) };
    const started = await bolt.start(listen);
    // Stop the transport first on shutdown: no new input while the rest winds down.
    cleanups.push(() => bolt.stop());

    logger.info(
      {
        banner: {
          mode: config.slack.mode,
          apiUrl: credentials.apiUrl === null ? 'https://slack.com/api/' : credentials.apiUrl,
          port: started.port,
          team: installation.teamId,
          botUser: installation.botUserId,
          model: config.model.provider === 'scripted' ? 'scripted (offline scenarios)' : `${config.model.provider} ${config.model.name}`,
          store: config.dataDir,
          roles: runtime.roles.list().map((role) => role.name),
          defaultRole: config.roles.default,
          policyVersion: runtime.policy.version,
          approvers: config.policy.approvers.default,
          mcp: mcp === null ? 'server disabled (mcp.server.enabled)' : `server ${mcp.url}`,
          grantedScopes: installation.grantedScopes,
          recovered: recovered.length,
          adminSocket: admin.path,
        },
      },
      `slack-harness started: ${config.slack.mode} mode, ${config.model.provider} model, policy ${runtime.policy.version.slice(0, 12)}`,
    );

    let stopping: Promise<void> | null = null;
    const handle: BotHandle = {
      mode: config.slack.mode,
      runtime,
      app: bolt.app,
      ingress,
      publisher,
      installation,
      port: started.port,
      recovered,
      adminSocket: admin.path,
      mcpUrl: mcp?.url ?? null,
      stop() {
        stopping ??= undo().then(() => logger.info({}, 'slack-harness stopped'));
        return stopping;
      },
    };
    if (options.handleSignals === true) {
      const onSignal = (signal: NodeJS.Signals): void => {
        logger.info({ signal }, 'shutting down');
        void handle.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    }
    return handle;
  } catch (error) {
    await undo();
    throw error;
  }
}
