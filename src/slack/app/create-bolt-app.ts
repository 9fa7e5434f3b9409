/**
 * Builds the Bolt 5 `App` for one of the three transports (DESIGN.md §8, ecosystem.md §1.2, §1.9):
 *
 * - `socket`: Socket Mode with the app-level token (no public URL; the default for real workspaces);
 * - `http`:   the HTTPReceiver on `port`, verifying every request's signature, with a guard in
 *             front that also refuses future timestamps and missing headers (401; `request-guard.ts`);
 * - `local`:  Socket Mode against the loopback local workspace (`src/local-workspace/`).
 *
 * Fixed choices, each with its reason:
 * - `processBeforeResponse` is never set: the HTTP answer goes out when `ack()` runs, so the 3 s
 *   window never depends on the model (ecosystem.md §1.3).
 * - `clientOptions.slackApiUrl` routes every Web API call, `apps.connections.open` included, to a
 *   Slack-compatible server when one is configured (§1.9).
 * - The WebClient options are the Slack port's (`slackWebClientOptions`): `retryConfig` is bounded
 *   (the default retries for about 30 minutes, which would hold a user-facing reply hostage, §2.2)
 *   and 429s are waited out (Retry-After).
 * - `botId` / `botUserId` come from the caller's own `auth.test`, so Bolt does not issue a second,
 *   unawaited one from its constructor.
 * - Logging goes through our pino logger (`BoltLoggerAdapter`), or a caller-supplied Bolt logger.
 */
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RetryOptions } from '@slack/web-api';
import { ConfigError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { slackWebClientOptions } from '../web-client-port.ts';
import { BoltLoggerAdapter } from './bolt-logger.ts';
import { guardRequests } from './request-guard.ts';

/** Where Slack posts events and interactions in HTTP mode (the manifest's Request URLs). */
export const HTTP_ENDPOINTS: readonly string[] = ['/slack/events'];

/** The transport of a Bolt app. */
export type BoltMode = 'socket' | 'http' | 'local';

/** Input of {@link createBoltApp}. Secrets are passed in, never read here. */
export interface BoltAppSettings {
  mode: BoltMode;
  /** `xoxb-…` */
  botToken: string;
  /** `xapp-…`; required for `socket` and `local`. */
  appToken?: string;
  /** Required for `http`. */
  signingSecret?: string;
  /** A Slack-compatible Web API base (e.g. the local workspace's `…/api/`); null for Slack itself. */
  apiUrl: string | null;
  /** From the caller's `auth.test`. */
  botId: string;
  botUserId: string;
  /** Our logger; Bolt's lines go to a `component: bolt` child. */
  logger: Logger;
  /** Replaces the adapter (tests keep Bolt's lines in memory). */
  boltLogger?: BoltLogger;
  /** Defaults to the Slack port's bounded policy (`SLACK_RETRY_CONFIG`). */
  retryConfig?: RetryOptions;
  /** Web API request timeout (ms); defaults to `SLACK_REQUEST_TIMEOUT_MS`. */
  timeoutMs?: number;
  /**
   * Socket Mode: the client's ping timeout, which also paces reconnect attempts (attempt × timeout;
   * 5 s by default). Tests shorten it.
   */
  clientPingTimeoutMs?: number;
}

/** A Bolt app with its transport's start and stop. */
export interface BoltApp {
  readonly app: App;
  readonly mode: BoltMode;
  /**
   * Connects (Socket Mode: resolves on Slack's `hello`) or listens (HTTP: on `port`, `host`).
   * @returns the HTTP port in `http` mode (useful with port 0), else null.
   */
  start(listen?: { port: number; host?: string }): Promise<{ port: number | null }>;
  /** Disconnects or closes the HTTP server. Idempotent. */
  stop(): Promise<void>;
}

function requireSecret(value: string | undefined, what: string, mode: BoltMode): string {
  if (value === undefined || value === '') throw new ConfigError(`${what} is required in ${mode} mode`);
  return value;
}

/**
 * Builds (does not start) the Bolt app.
 * @throws ConfigError when the mode's secret is missing (`appToken` for socket/local,
 *   `signingSecret` for http); never names a value.
 */
export function createBoltApp(settings: BoltAppSettings): BoltApp {
  const boltLogger = settings.boltLogger ?? new BoltLoggerAdapter(settings.logger);
  const logLevel = boltLogger.getLevel?.() ?? LogLevel.INFO;
  // The same WebClient options as the Slack port's (429s waited out, bounded retries, timeout,
  // no absolute-URL method names); Bolt replaces the logger with its own (ours, adapted).
  const clientOptions = slackWebClientOptions({
    ...(settings.apiUrl === null ? {} : { apiUrl: settings.apiUrl }),
    ...(settings.retryConfig === undefined ? {} : { retryConfig: settings.retryConfig }),
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
  });
  const identity = { botId: settings.botId, botUserId: settings.botUserId };
  let app: App;
  if (settings.mode === 'http') {
    const signingSecret = requireSecret(settings.signingSecret, 'SLACK_SIGNING_SECRET', 'http');
    const receiver = new HTTPReceiver({
      signingSecret,
      endpoints: [...HTTP_ENDPOINTS],
      logger: boltLogger,
      logLevel,
      processBeforeResponse: false,
    });
    // Bolt lets future timestamps through; the guard refuses them (and missing headers) first.
    receiver.requestListener = guardRequests(receiver.requestListener, HTTP_ENDPOINTS, Date.now, (reason, path) =>
      settings.logger.warn({ path }, `request refused with 401: ${reason}`),
    );
    app = new App({ token: settings.botToken, receiver, ...identity, logger: boltLogger, logLevel, clientOptions });
  } else {
    const appToken = requireSecret(settings.appToken, 'SLACK_APP_TOKEN', settings.mode);
    // An explicit receiver so the ping timeout (and with it the reconnect pace) can be set; it gets
    // the same clientOptions, so apps.connections.open goes to the same server as the Web API.
    const receiver = new SocketModeReceiver({
      appToken,
      logger: boltLogger,
      logLevel,
      installerOptions: { clientOptions },
      ...(settings.clientPingTimeoutMs === undefined ? {} : { clientPingTimeout: settings.clientPingTimeoutMs }),
    });
    app = new App({ token: settings.botToken, receiver, ...identity, logger: boltLogger, logLevel, clientOptions });
  }

  let started = false;
  return {
    app,
    mode: settings.mode,
    async start(listen) {
      if (settings.mode === 'http') {
        const port = listen?.port ?? 3000;
        const server = (await app.start(listen?.host === undefined ? { port } : { port, host: listen.host })) as Server;
        started = true;
        return { port: (server.address() as AddressInfo).port };
      }
      await app.start();
      started = true;
      return { port: null };
    },
    async stop() {
      if (!started) return;
      started = false;
      await app.stop();
    },
  };
}
