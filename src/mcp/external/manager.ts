/**
 * Every configured external MCP server, and the tools they contribute to the registry.
 *
 * Startup decision (docs/architecture/mcp-external.md): the bot starts even when a server cannot
 * be reached. The failure is logged as an error naming the server and the reason, that server's
 * tools are not offered (a role that lists them simply does not get them; policy denies a call to
 * an unregistered name), and the server is retried in the background with the connection's
 * backoff until it answers, at which point its tools are registered. `harness doctor` reports
 * such a server as a problem (exit 1).
 */
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { isAbsolute, resolve } from 'node:path';
import { type Clock, systemClock } from '../../shared/clock.ts';
import { asBotError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ToolRegistry } from '../../tools/registry.ts';
import { type ExternalTool, type SkippedTool, adaptExternalTools } from './adapter.ts';
import type { ExternalMcpServerConfig } from './config.ts';
import { type ConnectionStatus, ExternalServerConnection, type TransportFactory } from './connection.ts';

/** Options of {@link ExternalMcpTools}. */
export interface ExternalMcpToolsOptions {
  logger: Logger;
  /** Relative `stdio.command` (with a slash) and `stdio.cwd` resolve against this (the config file's folder). */
  configDir: string;
  clock?: Clock;
  /** Replaces the stdio / Streamable HTTP transports (tests). */
  transport?: TransportFactory;
  /** Keep retrying unreachable servers in the background (the bot); off for one-shot CLI use. */
  retryInBackground?: boolean;
}

/** A server as operators see it: connection state and what it offers. */
export interface ServerReport extends ConnectionStatus {
  tools: Omit<ExternalTool, 'definition'>[];
  skipped: SkippedTool[];
}

/** The transports of real servers: a child process over stdio, or Streamable HTTP. */
export function defaultTransportFactory(configDir: string, logger: Logger): TransportFactory {
  return (server) => {
    if (server.stdio !== undefined) {
      const { command, args, env, cwd } = server.stdio;
      const transport = new StdioClientTransport({
        command: command.includes('/') && !isAbsolute(command) ? resolve(configDir, command) : command,
        args,
        env,
        cwd: resolve(configDir, cwd ?? '.'),
        stderr: 'pipe',
      });
      // The server's stderr is its log: keep it out of ours unless debugging, never unbounded.
      transport.stderr?.on('data', (chunk: Buffer | string) => {
        logger.debug({ mcpServer: server.name }, `MCP server stderr: ${String(chunk).slice(0, 500).trimEnd()}`);
      });
      return transport;
    }
    if (server.http !== undefined) {
      return new StreamableHTTPClientTransport(new URL(server.http.url), { requestInit: { headers: { ...server.http.headers } } });
    }
    throw new Error(`MCP server "${server.name}" has neither stdio nor http`);
  };
}

/** Connections to every configured server and the tools adapted from them. */
export class ExternalMcpTools {
  readonly #options: ExternalMcpToolsOptions;
  readonly #clock: Clock;
  readonly #connections: ExternalServerConnection[];
  readonly #tools = new Map<string, ExternalTool>();
  readonly #skipped = new Map<string, SkippedTool[]>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #registry: ToolRegistry | undefined;
  #closed = false;

  constructor(servers: readonly ExternalMcpServerConfig[], options: ExternalMcpToolsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const transport = options.transport ?? defaultTransportFactory(options.configDir, options.logger);
    this.#connections = servers.map(
      (server) =>
        new ExternalServerConnection(server, {
          transport,
          logger: options.logger,
          clock: this.#clock,
          onTools: (tools) => this.#discovered(server.name, tools),
        }),
    );
  }

  /** The configured server names. */
  get serverNames(): string[] {
    return this.#connections.map((c) => c.name);
  }

  /**
   * Connects every server (in parallel, each bounded by its `connectTimeoutMs`) and registers the
   * tools of those that answer into `registry`; tools found later (a late server, a reconnect that
   * lists new tools) are registered then. Never throws for an unreachable server: it is logged as
   * an error naming the server and, with `retryInBackground`, retried.
   */
  async start(registry?: ToolRegistry): Promise<void> {
    this.#registry = registry;
    if (registry) for (const tool of this.#tools.values()) this.#register(tool);
    await Promise.all(
      this.#connections.map(async (connection) => {
        try {
          await connection.connect();
        } catch (error) {
          this.#options.logger.error(
            { mcpServer: connection.name, err: asBotError(error).toJSON() },
            `MCP server "${connection.name}" is unreachable at startup; its tools are unavailable until it answers`,
          );
          if (this.#options.retryInBackground === true) this.#retryLater(connection);
        }
      }),
    );
  }

  /** Every adapted tool (of servers reached so far), in discovery order. */
  tools(): ExternalTool[] {
    return [...this.#tools.values()];
  }

  /** One report per configured server. */
  reports(): ServerReport[] {
    return this.#connections.map((connection) => ({
      ...connection.status(),
      tools: this.tools()
        .filter((t) => t.server === connection.name)
        .map(({ definition: _definition, ...rest }) => rest),
      skipped: [...(this.#skipped.get(connection.name) ?? [])],
    }));
  }

  /** Stops retrying and closes every connection (stdio servers are stopped). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled(this.#connections.map((c) => c.close()));
  }

  #discovered(server: string, listed: readonly Tool[]): void {
    const connection = this.#connections.find((c) => c.name === server);
    if (!connection) return;
    const { tools, skipped } = adaptExternalTools(connection, listed);
    this.#skipped.set(server, skipped);
    for (const tool of tools) {
      // The first listing wins: a registered tool's schema and class are what policy was shown.
      if (this.#tools.has(tool.name)) continue;
      this.#tools.set(tool.name, tool);
      this.#register(tool);
    }
    for (const skip of skipped) this.#options.logger.warn({ mcpServer: server, tool: skip.original }, `MCP tool not offered: ${skip.reason}`);
  }

  #register(tool: ExternalTool): void {
    const registry = this.#registry;
    if (!registry || registry.has(tool.name)) return;
    try {
      registry.register(tool.definition);
    } catch (error) {
      this.#options.logger.error({ mcpServer: tool.server, tool: tool.name, err: asBotError(error).toJSON() }, 'MCP tool could not be registered');
    }
  }

  #retryLater(connection: ExternalServerConnection): void {
    if (this.#closed) return;
    const { retryAt } = connection.status();
    const delay = Math.max(0, (retryAt ?? this.#clock.now()) - this.#clock.now());
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closed) return;
      connection.connect().catch(() => this.#retryLater(connection));
    }, delay);
    timer.unref();
    this.#timers.add(timer);
  }
}
