/**
 * Routes a payload to the bot the way Slack would for its configuration: over Socket Mode when a
 * socket client is connected, otherwise as a signed HTTP request to the configured Request URL.
 * Every delivery gets a record (the UI and tests read them), and any delivery can be sent again
 * as Slack's retry of it ({@link Dispatcher.redeliver}).
 */
import { SlackApiError } from '../shared/errors.ts';
import type { HttpDelivery, HttpDeliveryResult } from './http-delivery.ts';
import { newOpaqueId } from './slack-ids.ts';
import type { EnvelopeKind, SocketModeServer } from './socket-mode.ts';

/** One delivery attempt and its outcome. */
export interface DeliveryRecord {
  /** The Socket Mode envelope id, or a generated id for HTTP deliveries. */
  id: string;
  via: 'socket' | 'http';
  kind: EnvelopeKind;
  payload: Record<string, unknown>;
  /** 0 for the first delivery; n for Slack's n-th retry. */
  attempt: number;
  status: 'pending' | 'acked' | 'failed';
  sentAt: number;
  settledAt?: number;
  /** The ack's payload (socket) or the parsed JSON response body (HTTP), if any. */
  ackPayload?: Record<string, unknown>;
  httpStatus?: number;
  error?: string;
  /** The delivery this one retries. */
  retryOf?: string;
}

/** Options for {@link Dispatcher}. */
export interface DispatcherOptions {
  socket: SocketModeServer;
  /** HTTP delivery and the current Request URL (`undefined` when HTTP mode is not configured). */
  http?: HttpDelivery;
  requestUrl(): string | undefined;
  now(): number;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Chooses the transport, records every delivery, and supports redelivery. */
export class Dispatcher {
  private readonly log = new Map<string, DeliveryRecord>();

  constructor(private readonly options: DispatcherOptions) {}

  /**
   * Delivers and resolves with the settled record once the bot acknowledged it (socket ack or
   * HTTP 2xx). @throws SlackApiError when no transport is available, the ack times out, or the
   * HTTP answer is not 2xx; the record stays available with `status: 'failed'`.
   */
  deliver(kind: EnvelopeKind, payload: Record<string, unknown>): Promise<DeliveryRecord> {
    return this.send(kind, payload, 0, undefined, undefined);
  }

  /**
   * Sends an earlier delivery's payload again as Slack's retry: `retry_attempt`/`X-Slack-Retry-Num`
   * one higher, with `reason` (default `timeout` over sockets, `http_timeout` over HTTP). The
   * transport is chosen afresh (a bot that reconnected gets it on its new connection).
   * @throws SlackApiError for an unknown id, or as {@link deliver}.
   */
  redeliver(id: string, reason?: string): Promise<DeliveryRecord> {
    const original = this.log.get(id);
    if (original === undefined) return Promise.reject(new SlackApiError(`unknown delivery ${id}`));
    return this.send(original.kind, original.payload, original.attempt + 1, reason, id);
  }

  /** Every delivery so far, oldest first. */
  records(): DeliveryRecord[] {
    return [...this.log.values()].map((r) => ({ ...r }));
  }

  /** One delivery's record, or `undefined`. */
  record(id: string): DeliveryRecord | undefined {
    const found = this.log.get(id);
    return found === undefined ? undefined : { ...found };
  }

  private send(
    kind: EnvelopeKind,
    payload: Record<string, unknown>,
    attempt: number,
    reason: string | undefined,
    retryOf: string | undefined,
  ): Promise<DeliveryRecord> {
    const { socket, http } = this.options;
    const url = this.options.requestUrl();
    if (socket.connectionCount > 0) return this.viaSocket(kind, payload, attempt, reason, retryOf);
    if (http !== undefined && url !== undefined) return this.viaHttp(http, url, kind, payload, attempt, reason, retryOf);
    return Promise.reject(
      new SlackApiError('no bot to deliver to: no Socket Mode client is connected and no HTTP Request URL is configured', { retryable: true }),
    );
  }

  private async viaSocket(
    kind: EnvelopeKind,
    payload: Record<string, unknown>,
    attempt: number,
    reason: string | undefined,
    retryOf: string | undefined,
  ): Promise<DeliveryRecord> {
    const sent = this.options.socket.send(kind, payload, {
      retryAttempt: attempt,
      ...(attempt > 0 ? { retryReason: reason ?? 'timeout' } : {}),
    });
    const record: DeliveryRecord = {
      id: sent.envelopeId ?? `unsent-${newOpaqueId()}`,
      via: 'socket',
      kind,
      payload,
      attempt,
      status: 'pending',
      sentAt: this.options.now(),
      ...(retryOf !== undefined ? { retryOf } : {}),
    };
    this.log.set(record.id, record);
    try {
      const ack = await sent.ack;
      record.status = 'acked';
      record.settledAt = ack.ackedAt;
      if (ack.payload !== undefined && Object.keys(ack.payload).length > 0) record.ackPayload = ack.payload;
      return { ...record };
    } catch (error) {
      record.status = 'failed';
      record.settledAt = this.options.now();
      record.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  private async viaHttp(
    http: HttpDelivery,
    url: string,
    kind: EnvelopeKind,
    payload: Record<string, unknown>,
    attempt: number,
    reason: string | undefined,
    retryOf: string | undefined,
  ): Promise<DeliveryRecord> {
    const record: DeliveryRecord = {
      id: `H${newOpaqueId()}`,
      via: 'http',
      kind,
      payload,
      attempt,
      status: 'pending',
      sentAt: this.options.now(),
      ...(retryOf !== undefined ? { retryOf } : {}),
    };
    this.log.set(record.id, record);
    const retry = attempt > 0 ? { retryNum: attempt, retryReason: reason ?? 'http_timeout' } : {};
    let result: HttpDeliveryResult;
    if (kind === 'events_api') result = await http.postEvent(url, payload, retry);
    else if (kind === 'interactive') result = await http.postInteraction(url, payload, retry);
    else result = await http.postSlashCommand(url, Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])), retry);
    record.settledAt = this.options.now();
    record.httpStatus = result.status;
    const body = parseJsonObject(result.body);
    if (body !== undefined) record.ackPayload = body;
    if (result.status >= 200 && result.status < 300) {
      record.status = 'acked';
      return { ...record };
    }
    record.status = 'failed';
    record.error = result.error ?? `HTTP ${result.status}`;
    throw new SlackApiError(`HTTP delivery of ${kind} to the bot failed: ${record.error}`, {
      retryable: true,
      details: { deliveryId: record.id, status: result.status },
    });
  }
}
