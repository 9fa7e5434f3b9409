/**
 * The CLI's side of the admin socket: connect, write one request line, read one response line.
 *
 * What matters to the caller is whether the request may have reached the bot:
 * - **not delivered** (no socket file, nobody listening, permission denied, no connection in time):
 *   nothing was applied, so the caller may fall back to taking the data-dir lock itself;
 * - **delivered and answered**: the bot's result or its typed error;
 * - **delivered, no answer** (timeout, connection dropped, malformed answer): the bot may have
 *   applied it, so this throws and the caller must not retry on its own.
 */
import { connect } from 'node:net';
import { StoreLockedError, UsageError, asBotError, errnoOf } from '../shared/errors.ts';
import { type AdminRequest, type AdminResponse, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, decodeAdminResponse, encodeAdminRequest } from './protocol.ts';

/** How a call ended when it did not throw. */
export type AdminDelivery = { delivered: false; reason: string } | { delivered: true; response: AdminResponse };

export interface AdminCallOptions {
  /** How long to wait for the answer once connected (the bot drives the run until it pauses). */
  timeoutMs: number;
  /** How long to wait for the connection itself; default 2 s. */
  connectTimeoutMs?: number;
}


function unreachableReason(path: string, error: unknown): string {
  switch (errnoOf(error)) {
    case 'ENOENT':
      return `no admin socket at ${path}`;
    case 'ECONNREFUSED':
      return `nothing listens on ${path}`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path} (run the CLI as the bot's user)`;
    default:
      return `cannot connect to ${path}: ${asBotError(error).message}`;
  }
}

/**
 * Sends `request` to the admin socket at `path`.
 * @throws UsageError when the request line is larger than the socket accepts (nothing is sent).
 * @throws StoreLockedError when the request was sent but no valid answer came back; the message
 * says the request may have been applied.
 */
export function callAdminSocket(path: string, request: AdminRequest, options: AdminCallOptions): Promise<AdminDelivery> {
  const line = encodeAdminRequest(request);
  const bytes = Buffer.byteLength(line) - 1;
  if (bytes > MAX_REQUEST_BYTES) {
    return Promise.reject(
      new UsageError(`the request is ${bytes} bytes; the bot's admin socket takes at most ${MAX_REQUEST_BYTES} (shorten the task or --edit-args, or stop the bot)`),
    );
  }
  return new Promise<AdminDelivery>((resolve, reject) => {
    const socket = connect({ path });
    let connected = false;
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    let answerTimer: NodeJS.Timeout | undefined;
    const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    const connectTimer = setTimeout(() => {
      if (!connected) settle({ value: { delivered: false, reason: `no connection to ${path} within ${connectTimeoutMs} ms` } });
    }, connectTimeoutMs);

    const settle = (outcome: { value: AdminDelivery } | { error: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      socket.destroy();
      if ('value' in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
    const noAnswer = (why: string): void =>
      settle({
        error: new StoreLockedError(
          `the bot did not answer on its admin socket ${path} (${why}); the ${request.op} may have been applied: check with "harness inspect" or "harness runs" before trying again`,
          { details: { path } },
        ),
      });

    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      const limit = options.timeoutMs >= 1000 ? `${Math.round(options.timeoutMs / 1000)} s` : `${options.timeoutMs} ms`;
      answerTimer = setTimeout(() => noAnswer(`no answer within ${limit}`), options.timeoutMs);
      socket.write(line);
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      const newline = chunk.indexOf(0x0a);
      const take = newline === -1 ? chunk.length : newline;
      size += take;
      if (size > MAX_RESPONSE_BYTES) {
        noAnswer(`the answer exceeds ${MAX_RESPONSE_BYTES} bytes`);
        return;
      }
      chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline));
      if (newline === -1) return;
      try {
        settle({ value: { delivered: true, response: decodeAdminResponse(Buffer.concat(chunks).toString('utf8')) } });
      } catch (error) {
        noAnswer(asBotError(error).message);
      }
    });
    socket.on('error', (error) => {
      if (!connected) settle({ value: { delivered: false, reason: unreachableReason(path, error) } });
      else noAnswer(asBotError(error).message);
    });
    socket.on('close', () => {
      if (connected) noAnswer('the connection closed before an answer');
      else settle({ value: { delivered: false, reason: `the connection to ${path} closed` } });
    });
  });
}
