/**
 * One external MCP server, as a connection that heals itself. The SDK `Client` is created on
 * first use; a crash (the transport closes) or a hang (a call outlives `timeoutMs`) drops it, and
 * the next use connects again. Failed connects back off exponentially (1 s, 2 s, 4 s … capped at
 * 60 s): while backing off, a call fails at once with a clear error instead of spawning a process
 * per call. Every failure the model may see is a non-retryable `ToolError` naming the server: a
 * call cut off mid-way may have had its effect, so the runner must not repeat it blindly.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode as McpErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { type Clock, systemClock } from '../../shared/clock.ts';
import { ErrorCode, ToolError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ExternalMcpServerConfig } from './config.ts';

/** Builds the transport of one connection attempt (the I/O seam; tests pass in-memory ones). */
export type TransportFactory = (server: ExternalMcpServerConfig) => Transport;

/** Backoff of failed connects: `BASE * 2^(failures-1)`, at most `MAX`. */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;

/** What `harness doctor` and `mcp-tools` show of a connection. */
export interface ConnectionStatus {
  server: string;
  transport: 'stdio' | 'http';
  state: 'connected' | 'idle' | 'backoff';
  /** Failed connects in a row. */
  failures: number;
  lastError: string | null;
  /** When the next connect may be tried (epoch ms), while backing off. */
  retryAt: number | null;
}

export interface ExternalServerConnectionOptions {
  transport: TransportFactory;
  logger: Logger;
  clock?: Clock;
  /** Called with the server's tools after every successful connect (the list may have changed). */
  onTools?: (tools: readonly Tool[]) => void;
  /** Client version sent in `initialize`. */
  version?: string;
}

/** One external server. Never shared state across servers; safe to call concurrently. */
export class ExternalServerConnection {
  readonly server: ExternalMcpServerConfig;
  readonly #options: ExternalServerConnectionOptions;
  readonly #clock: Clock;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #failures = 0;
  #retryAt = 0;
  #lastError: string | null = null;
  #closed = false;

  constructor(server: ExternalMcpServerConfig, options: ExternalServerConnectionOptions) {
    this.server = server;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get name(): string {
    return this.server.name;
  }

  /** A snapshot for operators. */
  status(): ConnectionStatus {
    const backingOff = this.#client === undefined && this.#failures > 0 && this.#clock.now() < this.#retryAt;
    return {
      server: this.name,
      transport: this.server.stdio === undefined ? 'http' : 'stdio',
      state: this.#client !== undefined ? 'connected' : backingOff ? 'backoff' : 'idle',
      failures: this.#failures,
      lastError: this.#lastError,
      retryAt: backingOff ? this.#retryAt : null,
    };
  }

  /**
   * The connected client, connecting first if needed.
   * @throws ToolError (not retryable) while backing off after failed connects, or when this
   * connect fails or times out (`connectTimeoutMs`); the message names the server.
   */
  async connect(): Promise<Client> {
    if (this.#closed) throw this.#error('the connection was closed (the bot is shutting down)');
    if (this.#client) return this.#client;
    if (this.#connecting) return this.#connecting;
    const now = this.#clock.now();
    if (this.#failures > 0 && now < this.#retryAt) {
      const seconds = Math.ceil((this.#retryAt - now) / 1000);
      throw this.#error(`is unavailable (${this.#lastError ?? 'connect failed'}); next connect attempt in ${seconds}s`);
    }
    const attempt = this.#open();
    this.#connecting = attempt;
    try {
      return await attempt;
    } finally {
      if (this.#connecting === attempt) this.#connecting = undefined;
    }
  }

  /**
   * Every tool the server lists (all pages), connecting first if needed.
   * @throws ToolError as {@link connect}, or when listing fails.
   */
  async listTools(): Promise<Tool[]> {
    const client = await this.connect();
    return this.#list(client);
  }

  /**
   * Calls one tool by the server's own name. `isError` results are returned, not thrown.
   * @throws ToolError (not retryable): server unavailable; the call outlived `timeoutMs` (the
   * connection is reset, so a hung server process is stopped and the next call starts afresh);
   * the server exited or closed the connection mid-call; the run's signal aborted the call.
   */
  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const client = await this.connect();
    try {
      return (await client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout: this.server.timeoutMs })) as CallToolResult;
    } catch (error) {
      if (signal.aborted) throw new ToolError(`call to ${this.name}/${tool} was cancelled`, { code: ErrorCode.ToolTimeout, cause: error });
      if (error instanceof McpError && error.code === McpErrorCode.RequestTimeout) {
        this.#drop(client, `did not answer ${tool} within ${this.server.timeoutMs} ms`);
        throw this.#error(`did not answer ${tool} within ${this.server.timeoutMs} ms; the connection was reset and is re-established on the next call`, ErrorCode.ToolTimeout, error);
      }
      if (error instanceof McpError && error.code === McpErrorCode.ConnectionClosed) {
        this.#drop(client, 'closed the connection');
        throw this.#error(`exited or closed the connection during ${tool}; it is restarted on the next call (the call may or may not have taken effect)`, ErrorCode.ToolFailed, error);
      }
      // A protocol error answer (unknown tool, invalid params): the server is fine.
      const message = error instanceof Error ? error.message : String(error);
      throw this.#error(`refused ${tool}: ${message.slice(0, 300)}`, ErrorCode.ToolFailed, error);
    }
  }

  /** Closes the client (stops a stdio server) and refuses further use. */
  async close(): Promise<void> {
    this.#closed = true;
    const connecting = this.#connecting;
    if (connecting) await connecting.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.close().catch(() => undefined);
  }

  async #open(): Promise<Client> {
    const { server } = this;
    const client = new Client({ name: 'slack-harness', version: this.#options.version ?? '0.0.0' }, { capabilities: {} });
    try {
      const transport = this.#options.transport(server);
      await client.connect(transport, { timeout: server.connectTimeoutMs });
      const tools = await this.#list(client);
      if (this.#closed) throw new Error('closed while connecting');
      this.#client = client;
      this.#failures = 0;
      this.#lastError = null;
      // Crash detection: the SDK calls onclose when the child exits or the stream ends.
      client.onclose = () => {
        if (this.#client === client) this.#drop(client, 'closed the connection');
      };
      this.#options.logger.info({ mcpServer: server.name, tools: tools.length }, `MCP server "${server.name}" connected`);
      this.#options.onTools?.(tools);
      return client;
    } catch (error) {
      this.#failures += 1;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.#failures - 1));
      this.#retryAt = this.#clock.now() + delay;
      this.#lastError = describeConnectError(error);
      await client.close().catch(() => undefined);
      this.#options.logger.warn({ mcpServer: server.name, failures: this.#failures, retryInMs: delay }, `MCP server "${server.name}" connect failed: ${this.#lastError}`);
      throw this.#error(`is unavailable: ${this.#lastError}`, ErrorCode.ToolFailed, error);
    }
  }

  async #list(client: Client): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const result = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: this.server.connectTimeoutMs });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /** Forgets `client` (if still current) and closes it in the background. */
  #drop(client: Client, why: string): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#lastError = why;
    this.#options.logger.warn({ mcpServer: this.name }, `MCP server "${this.name}" ${why}; reconnecting on next use`);
    void client.close().catch(() => undefined);
  }

  #error(what: string, code: ErrorCode = ErrorCode.ToolFailed, cause?: unknown): ToolError {
    return new ToolError(`MCP server "${this.name}" ${what}`, { code, retryable: false, details: { mcpServer: this.name }, ...(cause === undefined ? {} : { cause }) });
  }
}

function describeConnectError(error: unknown): string {
  if (error instanceof McpError && error.code === McpErrorCode.RequestTimeout) return 'no answer to initialize within the connect timeout';
  if (error instanceof McpError && error.code === McpErrorCode.ConnectionClosed) return 'the server exited or closed the connection during startup';
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return `${code}${error instanceof Error ? `: ${error.message.slice(0, 160)}` : ''}`;
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}
