/**
 * The Socket Mode side of the local workspace: a `ws` server on the same HTTP server (path
 * `/socket`) speaking the protocol `@slack/socket-mode` 3 expects (ecosystem.md §1.9,
 * desplega-ai/slack-mock R5):
 *
 * - the app calls `apps.connections.open` with its `xapp-` token and gets a single-use
 *   `ws://…/socket?ticket=…` URL; an unknown or reused ticket is refused at the upgrade (401);
 * - on connect the server sends `{"type":"hello", num_connections, debug_info, connection_info}`;
 * - each delivery is an envelope `{envelope_id, type, payload, accepts_response_payload}` (plus
 *   `retry_attempt` / `retry_reason` for `events_api`, which Bolt surfaces as `context.retryNum`);
 * - the app acks with `{envelope_id, payload?}` on the same socket; acks are recorded with their
 *   latency, and a missing ack rejects the delivery after the ack timeout (3 s, like Slack);
 * - `disconnect` frames ask clients to reconnect (they call `apps.connections.open` again).
 *
 * Deliveries go to the newest open connection, which is where a restarted bot reconnects.
 */
import type { IncomingMessage } from 'node:http';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SlackApiError } from '../shared/errors.ts';
import type { CallJournal } from './call-journal.ts';
import { newEnvelopeId, newOpaqueId } from './slack-ids.ts';

/** The three envelope types Slack sends over Socket Mode. */
export type EnvelopeKind = 'events_api' | 'interactive' | 'slash_commands';

/** An acknowledgement received from the app. */
export interface SocketAck {
  envelopeId: string;
  kind: EnvelopeKind;
  retryAttempt: number;
  /** The ack's `payload` (e.g. `{response_action: 'errors', errors}` for a view submission). */
  payload: Record<string, unknown> | undefined;
  sentAt: number;
  ackedAt: number;
  latencyMs: number;
}

/** Everything known about one sent envelope. */
export interface EnvelopeRecord {
  envelopeId: string;
  kind: EnvelopeKind;
  payload: Record<string, unknown>;
  retryAttempt: number;
  retryReason: string;
  acceptsResponsePayload: boolean;
  connectionId: number;
  sentAt: number;
  status: 'pending' | 'acked' | 'timeout' | 'closed';
  ack?: SocketAck;
  /** An ack that arrived after the timeout (the delivery had already failed). */
  lateAck?: SocketAck;
}

/** Options for one delivery. */
export interface SocketDeliverOptions {
  ackTimeoutMs?: number;
  retryAttempt?: number;
  retryReason?: string;
  /** Defaults per kind: false for events and block actions, true for view submissions and commands. */
  acceptsResponsePayload?: boolean;
}

/** Options for {@link SocketModeServer}. */
export interface SocketModeServerOptions {
  appId: string;
  journal: CallJournal;
  now(): number;
  /** How long to wait for an ack (default 3000 ms, Slack's window). */
  ackTimeoutMs?: number;
}

interface Connection {
  id: number;
  ws: WebSocket;
  connectedAt: number;
}

interface Pending {
  record: EnvelopeRecord;
  resolve: (ack: SocketAck) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

function defaultAcceptsResponsePayload(kind: EnvelopeKind, payload: Record<string, unknown>): boolean {
  if (kind === 'slash_commands') return true;
  if (kind === 'interactive') return payload['type'] === 'view_submission' || payload['type'] === 'block_suggestion';
  return false;
}

/** The Socket Mode endpoint. */
export class SocketModeServer {
  /** Where upgrades are accepted. */
  static readonly path = '/socket';

  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private connections: Connection[] = [];
  private readonly records = new Map<string, EnvelopeRecord>();
  private readonly pending = new Map<string, Pending>();
  private readonly ackLog: SocketAck[] = [];
  private readonly emitter = new EventEmitter();
  private nextConnectionId = 0;
  private opened = 0;
  private readonly ackTimeoutMs: number;

  constructor(private readonly options: SocketModeServerOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 3000;
    this.emitter.setMaxListeners(0);
  }

  /** Issues a single-use ticket for `apps.connections.open`. */
  issueTicket(): string {
    const ticket = newOpaqueId();
    this.tickets.add(ticket);
    return ticket;
  }

  /**
   * Takes over an HTTP upgrade aimed at {@link SocketModeServer.path}. An unknown or reused ticket
   * is answered 401 and the socket closed.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ticket = url.searchParams.get('ticket');
    if (ticket === null || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    this.nextConnectionId += 1;
    this.opened += 1;
    const connection: Connection = { id: this.nextConnectionId, ws, connectedAt: this.options.now() };
    this.connections.push(connection);
    ws.on('message', (data, isBinary) => this.onFrame(connection, isBinary ? undefined : data.toString()));
    ws.on('close', () => {
      this.connections = this.connections.filter((c) => c !== connection);
      this.emitter.emit('disconnection', connection.id);
    });
    // A client-side reset is an ordinary disconnect here; without a listener `ws` would throw.
    ws.on('error', () => undefined);
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.connections.length,
        debug_info: { host: 'local-workspace', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.options.appId },
      }),
    );
    this.emitter.emit('connection', connection.id);
  }

  private onFrame(connection: Connection, text: string | undefined): void {
    let frame: unknown;
    try {
      frame = text === undefined ? undefined : JSON.parse(text);
    } catch {
      frame = undefined;
    }
    const envelopeId = (frame as { envelope_id?: unknown } | undefined)?.envelope_id;
    if (typeof envelopeId !== 'string') {
      this.options.journal.recordUnexpected('malformed_frame', `connection ${connection.id} sent a frame that is not an ack`);
      return;
    }
    const rawPayload = (frame as { payload?: unknown }).payload;
    const payload = rawPayload !== null && typeof rawPayload === 'object' ? (rawPayload as Record<string, unknown>) : undefined;
    const record = this.records.get(envelopeId);
    if (record === undefined) {
      this.options.journal.recordUnexpected('unknown_envelope', `ack for envelope ${envelopeId}, which was never sent`);
      return;
    }
    const ackedAt = this.options.now();
    const ack: SocketAck = {
      envelopeId,
      kind: record.kind,
      retryAttempt: record.retryAttempt,
      payload,
      sentAt: record.sentAt,
      ackedAt,
      latencyMs: ackedAt - record.sentAt,
    };
    if (record.status === 'acked') {
      this.options.journal.recordUnexpected('duplicate_ack', `envelope ${envelopeId} was acked twice`);
      return;
    }
    if (record.status !== 'pending') {
      record.lateAck = ack;
      return;
    }
    record.status = 'acked';
    record.ack = ack;
    this.ackLog.push(ack);
    const waiting = this.pending.get(envelopeId);
    if (waiting !== undefined) {
      clearTimeout(waiting.timer);
      this.pending.delete(envelopeId);
      waiting.resolve(ack);
    }
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.length;
  }

  /** Connections opened since start (a reconnect increments it). */
  get connectionsOpened(): number {
    return this.opened;
  }

  /** Resolves once at least one connection is open. @throws SlackApiError after `timeoutMs`. */
  waitForConnection(timeoutMs = 5000): Promise<void> {
    if (this.connections.length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onConnection = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.emitter.off('connection', onConnection);
        reject(new SlackApiError(`no Socket Mode connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.emitter.once('connection', onConnection);
    });
  }

  /**
   * Sends an envelope to the newest connection and resolves with its ack.
   * @throws SlackApiError when no client is connected, or when no ack arrives within the timeout
   *   (the record then says `timeout`; {@link redeliver} sends it again).
   */
  deliver(kind: EnvelopeKind, payload: Record<string, unknown>, options: SocketDeliverOptions = {}): Promise<SocketAck> {
    return this.send(kind, payload, options).ack;
  }

  /**
   * Like {@link deliver}, but also returns the envelope id at once (before the ack), so a caller
   * can record or redeliver it. `envelopeId` is `undefined` when no client is connected.
   */
  send(
    kind: EnvelopeKind,
    payload: Record<string, unknown>,
    options: SocketDeliverOptions = {},
  ): { envelopeId: string | undefined; ack: Promise<SocketAck> } {
    const connection = this.connections.at(-1);
    if (connection === undefined) {
      return { envelopeId: undefined, ack: Promise.reject(new SlackApiError('no Socket Mode client is connected', { retryable: true })) };
    }
    const envelopeId = newEnvelopeId();
    const record: EnvelopeRecord = {
      envelopeId,
      kind,
      payload,
      retryAttempt: options.retryAttempt ?? 0,
      retryReason: options.retryReason ?? '',
      acceptsResponsePayload: options.acceptsResponsePayload ?? defaultAcceptsResponsePayload(kind, payload),
      connectionId: connection.id,
      sentAt: this.options.now(),
      status: 'pending',
    };
    this.records.set(envelopeId, record);
    const frame: Record<string, unknown> = {
      envelope_id: envelopeId,
      type: kind,
      payload,
      accepts_response_payload: record.acceptsResponsePayload,
    };
    // Only the Events API retries, so only its envelopes carry retry fields (Bolt: context.retryNum).
    if (kind === 'events_api') {
      frame['retry_attempt'] = record.retryAttempt;
      frame['retry_reason'] = record.retryReason;
    }
    const timeoutMs = options.ackTimeoutMs ?? this.ackTimeoutMs;
    const ack = new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        record.status = 'timeout';
        reject(new SlackApiError(`envelope ${envelopeId} (${kind}) was not acked within ${timeoutMs} ms`, { retryable: true, details: { envelopeId } }));
      }, timeoutMs);
      this.pending.set(envelopeId, { record, resolve, reject, timer });
      connection.ws.send(JSON.stringify(frame), (error) => {
        if (error === undefined || error === null) return;
        clearTimeout(timer);
        this.pending.delete(envelopeId);
        record.status = 'closed';
        reject(new SlackApiError(`could not send envelope ${envelopeId}: ${error.message}`, { retryable: true }));
      });
    });
    return { envelopeId, ack };
  }

  /**
   * Sends an earlier envelope's payload again, as Slack retries: a new envelope id, the same
   * payload (same `event_id`), `retry_attempt` one higher and a `retry_reason` (default `timeout`).
   * @throws SlackApiError for an unknown envelope id, or as {@link deliver}.
   */
  redeliver(envelopeId: string, options: { retryReason?: string; ackTimeoutMs?: number } = {}): Promise<SocketAck> {
    return this.resend(envelopeId, options).ack;
  }

  /** Like {@link redeliver}, also returning the new envelope id at once. */
  resend(
    envelopeId: string,
    options: { retryReason?: string; ackTimeoutMs?: number } = {},
  ): { envelopeId: string | undefined; ack: Promise<SocketAck> } {
    const record = this.records.get(envelopeId);
    if (record === undefined) return { envelopeId: undefined, ack: Promise.reject(new SlackApiError(`unknown envelope ${envelopeId}`)) };
    return this.send(record.kind, record.payload, {
      retryAttempt: record.retryAttempt + 1,
      retryReason: options.retryReason ?? 'timeout',
      acceptsResponsePayload: record.acceptsResponsePayload,
      ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
    });
  }

  /** Every envelope sent so far, oldest first. */
  envelopes(): EnvelopeRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  /** One envelope's record, or `undefined`. */
  envelope(envelopeId: string): EnvelopeRecord | undefined {
    const record = this.records.get(envelopeId);
    return record === undefined ? undefined : { ...record };
  }

  /** Acks received in time, oldest first. */
  acks(): SocketAck[] {
    return [...this.ackLog];
  }

  /** Asks every client to reconnect (`{"type":"disconnect", reason}`), as Slack does when recycling. */
  requestReconnect(reason = 'refresh_requested'): void {
    for (const { ws } of this.connections) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'local-workspace' } }));
  }

  /** Drops every connection without a close handshake (a network failure, from the client's view). */
  dropConnections(): void {
    for (const { ws } of this.connections) ws.terminate();
  }

  /** Closes every connection and fails pending deliveries. */
  async close(): Promise<void> {
    for (const [envelopeId, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.record.status = 'closed';
      waiting.reject(new SlackApiError(`the local workspace closed before envelope ${envelopeId} was acked`));
    }
    this.pending.clear();
    for (const { ws } of this.connections) ws.terminate();
    this.connections = [];
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
