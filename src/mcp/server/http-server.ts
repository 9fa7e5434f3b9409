/**
 * The harness's MCP endpoint for external clients over Streamable HTTP (issue D item 1):
 * `POST /mcp` on loopback by default, stateless (a fresh `McpServer` and transport per request,
 * JSON responses), behind four gates checked in this order, each before any MCP processing:
 *
 * 1. Host header not in the accepted names            → 403 (DNS rebinding)
 * 2. Origin header present and not in allowedOrigins  → 403
 * 3. no, malformed or unknown `Authorization: Bearer` → 401 with `WWW-Authenticate: Bearer`
 * 4. not a POST                                       → 405 (no sessions, no server-initiated stream)
 * 5. the token's bucket is empty                      → 429 with `Retry-After` (seconds)
 *
 * Then the token's level decides which tools the request's server has. Bodies over
 * `maxBodyBytes` get 413.
 * Every tool call is traced with the token's name (never the token).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpClientToken } from '../../config/load-config.ts';
import type { McpServerConfig } from '../../config/schema.ts';
import type { AuditSink } from '../../orchestrator/deps.ts';
import { ConfigError, asBotError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { RateLimiter, TokenTable, acceptedHostNames, hostAllowed, originAllowed } from './access.ts';
import { callRecorder, createExternalMcpServer } from './create-server.ts';
import { AwaitMemory, type ExternalToolDeps } from './handlers.ts';
import { MCP_HTTP_PATH } from './tool-specs.ts';
import { TracedTransport } from './traced-transport.ts';

export { MCP_HTTP_PATH };

/** Options of {@link startMcpHttpServer}. */
export interface McpHttpServerOptions {
  /** Config `mcp.server` (enabled is the caller's business). */
  config: McpServerConfig;
  /** From `mcpClientTokens(config.secrets)`. */
  tokens: readonly McpClientToken[];
  deps: Omit<ExternalToolDeps, 'awaitMemory'>;
  logger: Logger;
  audit?: AuditSink;
}

/** A listening endpoint. */
export interface McpHttpServerHandle {
  /** `http://<host>:<port>/mcp`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops accepting, cuts open requests (a waiting await_agent included) and resolves when closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts listening; resolves once bound.
 * @throws ConfigError with no tokens, or a non-loopback bind without `allowedHosts`; the listen
 * error (e.g. EADDRINUSE) otherwise.
 */
export async function startMcpHttpServer(options: McpHttpServerOptions): Promise<McpHttpServerHandle> {
  const { config, logger } = options;
  const table = new TokenTable(options.tokens);
  if (table.size === 0) throw new ConfigError('mcp.server: no client token is set (HARNESS_MCP_TOKENS or MCP_HTTP_TOKEN)');
  const hosts = acceptedHostNames(config.host, config.allowedHosts);
  if (hosts.length === 0) throw new ConfigError('mcp.server.allowedHosts: required when mcp.server.host is not a loopback address');
  const clock = options.deps.clock;
  const limiter = new RateLimiter(config.rateLimit, () => clock.now());
  const deps: ExternalToolDeps = { ...options.deps, awaitMemory: new AwaitMemory() };
  const record = callRecorder({ logger, ...(options.audit === undefined ? {} : { audit: options.audit }), now: () => clock.now() });

  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void => {
    logger.warn({ status, path: req.url?.slice(0, 100), remote: req.socket.remoteAddress, reason: message }, 'mcp request refused');
    sendJsonRpcError(res, status, message, headers);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== MCP_HTTP_PATH) return refuse(req, res, 404, `not found; the MCP endpoint is ${MCP_HTTP_PATH}`);
    if (!hostAllowed(req.headers.host, hosts)) return refuse(req, res, 403, 'forbidden: Host header not allowed');
    if (!originAllowed(req.headers.origin, config.allowedOrigins)) return refuse(req, res, 403, 'forbidden: Origin not allowed');
    const client = table.authenticate(req.headers.authorization);
    if (client === null) {
      return refuse(req, res, 401, 'unauthorized: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer realm="slack-harness"' });
    }
    // Before the rate limit: the SDK client's optional GET (a server stream) must not use up a request.
    if (req.method !== 'POST') {
      sendJsonRpcError(res, 405, 'method not allowed: this endpoint is stateless and takes POST only', { Allow: 'POST' });
      return;
    }
    const rate = limiter.take(client.name);
    if (!rate.ok) {
      const seconds = Math.max(1, Math.ceil(rate.retryAfterMs / 1000));
      logger.warn({ mcpClient: client.name, retryAfterSeconds: seconds }, 'mcp client rate limited');
      sendJsonRpcError(res, 429, `rate limit exceeded for client ${client.name}; retry after ${seconds} s`, { 'Retry-After': String(seconds) });
      return;
    }
    const body = await readBody(req, config.maxBodyBytes);
    if (body.kind === 'too_large') return refuse(req, res, 413, `request body over ${config.maxBodyBytes} bytes`, { Connection: 'close' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      sendJsonRpcError(res, 400, 'parse error: the body is not JSON', {}, -32700);
      return;
    }

    const server = createExternalMcpServer({ deps, caller: { name: client.name }, level: client.level, toolTimeoutMs: config.toolTimeoutMs });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void server.close().catch(() => undefined);
    });
    await server.connect(new TracedTransport(transport, client.name, record, () => clock.now()));
    await transport.handleRequest(req, res, parsed);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: asBotError(error).toJSON() }, 'mcp request failed');
      if (!res.headersSent) sendJsonRpcError(res, 500, 'internal error', {}, -32603);
      else res.end();
    });
  });
  // Receiving a request is bounded; answering one is bounded by the tool timeouts.
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}${MCP_HTTP_PATH}`;
  logger.info({ url, clients: options.tokens.map((t) => `${t.name}:${t.level}`) }, 'mcp server listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }).then(() => record.flush());
      return closing;
    },
  };
}

function sendJsonRpcError(res: ServerResponse, status: number, message: string, headers: Record<string, string>, code = -32000): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

type Body = { kind: 'ok'; text: string } | { kind: 'too_large' };

async function readBody(req: IncomingMessage, max: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) return { kind: 'too_large' };
  // Drained to the end even when too large, so the 413 reaches a client still sending.
  return new Promise<Body>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? { kind: 'too_large' } : { kind: 'ok', text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', reject);
  });
}
