/**
 * The bot's admin socket (DESIGN.md §5): `<dataDir>/admin.sock`, a Unix domain socket with mode
 * 0600, through which the operator CLI hands its writes to the running bot. The bot applies them
 * with its own {@link Harness}, so every check is the one a Slack click gets, and the bot's commit
 * listeners (Slack cards and status) see the change. No network listener exists.
 *
 * - Only the process holding the data-dir lock serves the socket; anything else is refused.
 * - A stale socket (left by a bot that died) is removed; a non-socket file in the way, or a socket
 *   someone is still listening on, stops startup.
 * - One request line per connection (≤ {@link MAX_REQUEST_BYTES}), one response line, then the
 *   connection is closed. Bad JSON, an invalid request, an oversized line or an idle connection
 *   get an error response and are closed.
 *
 * Linux only (Unix domain sockets with file permissions; see docs/architecture/admin-socket.md).
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { hostname } from 'node:os';
import type { CoreLogger } from '../orchestrator/deps.ts';
import { BotError, ErrorCode, StoreLockedError, UsageError, asBotError, errnoOf } from '../shared/errors.ts';
import { readDataDirLock } from '../store/data-dir-lock.ts';
import { type AdminTarget, applyAdminRequest, requestRunId } from './apply-request.ts';
import { MAX_REQUEST_BYTES, adminSocketPath, decodeAdminRequest, encodeError, encodeResult } from './protocol.ts';

/** How long a connection may stay open without sending its whole request line. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** Connections served at once; more are refused by the kernel backlog / closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 16;
/** `sun_path` holds 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface AdminServerOptions {
  /** The bot's Harness (a {@link Harness} satisfies {@link AdminTarget}). */
  harness: AdminTarget;
  dataDir: string;
  logger: CoreLogger;
  idleTimeoutMs?: number;
  maxConnections?: number;
}

/** A listening admin socket. */
export interface AdminServer {
  /** Absolute path of the socket. */
  readonly path: string;
  /** Stops listening, closes open connections and removes the socket file (if still ours). Idempotent. */
  close(): Promise<void>;
}

function adminError(message: string, cause?: unknown): BotError {
  return new BotError(ErrorCode.StoreIo, message, cause === undefined ? {} : { cause });
}


/** Whether something accepts connections on `path` (a live server), or the socket is stale. */
function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.once('error', () => resolve('stale'));
  });
}

/** Refuses unless this process holds the data-dir lock: the socket belongs to the single writer. */
async function assertLockHolder(dataDir: string): Promise<void> {
  const holder = await readDataDirLock(dataDir);
  if (holder === null || holder.pid !== process.pid || holder.hostname !== hostname()) {
    const who = holder === null ? 'nobody holds it' : `it is held by pid ${holder.pid} on ${holder.hostname}`;
    throw new StoreLockedError(`the admin socket is served only by the process holding the data-dir lock of ${dataDir}; ${who}`, {
      details: { pid: holder?.pid ?? null },
    });
  }
}

/** Makes room for the socket: nothing there, or a stale socket (removed). */
async function clearStaleSocket(path: string, logger: CoreLogger): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw adminError(`cannot inspect ${path}: ${asBotError(error).message}`, error);
  }
  if (!stats.isSocket()) {
    throw adminError(`${path} exists and is not a socket; the admin socket needs that name. Move the file away and start again`);
  }
  // We hold the data-dir lock, so whoever created this socket is gone, unless a process that
  // is not a harness listens on it; never take a live socket away from anyone.
  if ((await probe(path)) === 'live') {
    throw adminError(`another process is listening on ${path}; stop it before starting the bot`);
  }
  try {
    await unlink(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw adminError(`cannot remove the stale socket ${path}: ${asBotError(error).message}`, error);
  }
  logger.info({ path }, 'removed a stale admin socket');
}

/** `server.listen(path)` with a umask that makes the socket 0600 from the moment it exists. */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(adminError(`cannot listen on ${path}: ${error.message}`, error));
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    // bind(2) happens synchronously inside listen() for a path, so the umask covers exactly it.
    // Worker threads cannot change the umask; the chmod after listening (before any connection
    // is served) still applies.
    let previous: number | undefined;
    try {
      previous = process.umask(0o177);
    } catch {
      previous = undefined;
    }
    try {
      server.listen(path);
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

/**
 * Starts the admin socket server for `harness` in `dataDir` (the bot calls this after taking the
 * data-dir lock).
 * @throws StoreLockedError when this process does not hold the data-dir lock.
 * @throws BotError `store_io` when the path is too long for a socket, a non-socket file or a live
 * socket is in the way, or listening fails.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { harness, dataDir, logger } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const path = adminSocketPath(dataDir);
  if (process.platform === 'win32') throw adminError('the admin socket needs Unix domain sockets (Linux); it is not available on Windows');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw adminError(`the admin socket path ${path} is ${Buffer.byteLength(path)} bytes; Unix sockets allow ${MAX_SOCKET_PATH_BYTES}. Use a shorter dataDir`);
  }
  await assertLockHolder(dataDir);
  await clearStaleSocket(path, logger);

  const sockets = new Set<Socket>();
  let ready = false;
  let closing = false;

  const server = createServer({ allowHalfOpen: false }, (socket) => {
    if (!ready || closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, { harness, logger, idleTimeoutMs });
  });
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  await listenPrivately(server, path);
  let ino: number;
  try {
    await chmod(path, 0o600);
    const stats = await lstat(path);
    if ((stats.mode & 0o777) !== 0o600) throw new Error(`mode is ${(stats.mode & 0o777).toString(8)}`);
    ino = stats.ino;
  } catch (error) {
    server.close();
    await unlink(path).catch(() => undefined);
    throw adminError(`cannot make ${path} owner-only: ${asBotError(error).message}`, error);
  }
  ready = true;
  logger.info({ path }, 'admin socket listening');

  let closed: Promise<void> | undefined;
  return {
    path,
    close() {
      closed ??= (async () => {
        closing = true;
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        // An operation in flight keeps running in the Harness (it is durable); only its answer is lost.
        for (const socket of sockets) socket.destroy();
        await done;
        try {
          if ((await lstat(path)).ino === ino) await unlink(path);
        } catch (error) {
          if (errnoOf(error) !== 'ENOENT') logger.warn({ path, err: asBotError(error).toJSON() }, 'could not remove the admin socket');
        }
        logger.info({ path }, 'admin socket closed');
      })();
      return closed;
    },
  };
}

interface ConnectionContext {
  harness: AdminTarget;
  logger: CoreLogger;
  idleTimeoutMs: number;
}

/** Reads one request line, applies it, writes one response line and closes. */
function serveConnection(socket: Socket, context: ConnectionContext): void {
  const { logger } = context;
  const chunks: Buffer[] = [];
  let size = 0;
  let answered = false;

  const fail = (error: BotError): void => {
    if (answered) return;
    answered = true;
    socket.setTimeout(0);
    logger.warn({ code: error.code, message: error.message }, 'admin request refused');
    finish(socket, encodeError(error));
  };

  socket.setTimeout(context.idleTimeoutMs);
  socket.on('timeout', () => fail(new UsageError(`no complete request line within ${context.idleTimeoutMs} ms`)));
  socket.on('error', (error) => logger.debug({ err: asBotError(error).toJSON() }, 'admin connection error'));
  socket.on('data', (chunk: Buffer) => {
    if (answered) return;
    const newline = chunk.indexOf(0x0a);
    const take = newline === -1 ? chunk.length : newline;
    if (size + take > MAX_REQUEST_BYTES) {
      fail(new UsageError(`admin request line exceeds ${MAX_REQUEST_BYTES} bytes`));
      return;
    }
    chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline));
    size += take;
    if (newline === -1) return;
    answered = true;
    socket.setTimeout(0);
    void handleLine(socket, Buffer.concat(chunks).toString('utf8'), context);
  });
  socket.on('end', () => {
    if (!answered) fail(new UsageError('the connection ended before a complete request line'));
  });
}

async function handleLine(socket: Socket, line: string, context: ConnectionContext): Promise<void> {
  const { logger } = context;
  const started = Date.now();
  let response: string;
  let log: Record<string, unknown>;
  try {
    const request = decodeAdminRequest(line);
    log = { op: request.op, runId: requestRunId(request), userId: request.actor.userId };
    try {
      const result = await applyAdminRequest(context.harness, request);
      response = encodeResult(result);
      log = { ...log, ok: true, runId: result.doc.run.runId, status: result.doc.run.status };
    } catch (error) {
      const bot = asBotError(error);
      response = encodeError(bot);
      log = { ...log, ok: false, code: bot.code };
    }
  } catch (error) {
    // Not even a valid request: nothing of it is logged but the reason.
    const bot = asBotError(error);
    response = encodeError(bot);
    log = { ok: false, code: bot.code, message: bot.message };
  }
  logger.info({ ...log, ms: Date.now() - started }, 'admin request');
  if (socket.destroyed || !socket.writable) {
    logger.warn({ ...log }, 'admin client went away before its answer');
    return;
  }
  finish(socket, response);
}

/**
 * Writes the response line and closes the connection once it is flushed. The request was the only
 * thing a client may send, so anything it still sends is dropped with the connection.
 */
function finish(socket: Socket, response: string): void {
  if (socket.destroyed) return;
  socket.end(response, () => socket.destroy());
}
