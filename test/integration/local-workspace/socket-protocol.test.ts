/**
 * The Socket Mode wire protocol seen by a raw `ws` client: single-use tickets, the hello frame,
 * envelope fields, ack bookkeeping and the loud failures for stray frames.
 */
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSlack, type LocalSlack } from '../../../src/local-workspace/server.ts';
import { APP_TOKEN, BOT_TOKEN, SCOPES } from './fixtures.ts';

async function openUrl(server: LocalSlack): Promise<string> {
  const response = await fetch(`${server.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${APP_TOKEN}` } });
  return ((await response.json()) as { url: string }).url;
}

/** Connects and resolves with the socket and its first frame (the hello). */
function connect(url: string): Promise<{ ws: WebSocket; hello: Record<string, unknown>; frames: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame['type'] === 'hello') resolve({ ws, hello: frame, frames });
      else frames.push(frame);
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('local workspace: Socket Mode protocol', () => {
  let server: LocalSlack;
  const sockets: WebSocket[] = [];

  beforeEach(async () => {
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, grantedScopes: SCOPES, ackTimeoutMs: 300 });
  });

  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await server.close();
  });

  it('sends hello with connection info and refuses a reused ticket', async () => {
    const url = await openUrl(server);
    const { ws, hello } = await connect(url);
    sockets.push(ws);

    expect(hello).toMatchObject({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A_LOCAL' } });
    await expect(connect(url)).rejects.toThrow(/upgrade refused: 401/);
  });

  it('sends envelopes with Slack fields and records the ack with its payload', async () => {
    const { ws, frames } = await connect(await openUrl(server));
    sockets.push(ws);
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { envelope_id: string };
      ws.send(JSON.stringify({ envelope_id: frame.envelope_id, payload: { response_action: 'clear' } }));
    });

    const event = await server.socket.deliver('events_api', { type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention' } });
    const interactive = await server.socket.deliver('interactive', { type: 'view_submission' });

    expect(frames[0]).toMatchObject({
      type: 'events_api',
      envelope_id: event.envelopeId,
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: '',
      payload: { event_id: 'Ev1' },
    });
    expect(frames[1]).toMatchObject({ type: 'interactive', accepts_response_payload: true });
    expect(frames[1]).not.toHaveProperty('retry_attempt');
    expect(interactive.payload).toEqual({ response_action: 'clear' });
    expect(server.socket.acks().map((a) => a.kind)).toEqual(['events_api', 'interactive']);
  });

  it('times out a missing ack, keeps a late ack apart, and flags stray and duplicate acks', async () => {
    const { ws } = await connect(await openUrl(server));
    sockets.push(ws);
    const pending = server.socket.send('events_api', { event_id: 'Ev2' });

    await expect(pending.ack).rejects.toThrow(/not acked within 300 ms/);
    ws.send(JSON.stringify({ envelope_id: pending.envelopeId, payload: {} }));
    ws.send(JSON.stringify({ envelope_id: 'never-sent' }));
    ws.send('not json');
    const acked = server.socket.send('events_api', { event_id: 'Ev3' });
    ws.send(JSON.stringify({ envelope_id: acked.envelopeId }));
    await acked.ack;
    ws.send(JSON.stringify({ envelope_id: acked.envelopeId }));

    await expect.poll(() => server.unexpectedCalls.map((f) => f.kind)).toEqual(['unknown_envelope', 'malformed_frame', 'duplicate_ack']);
    expect(server.socket.envelope(pending.envelopeId ?? '')).toMatchObject({ status: 'timeout', lateAck: { envelopeId: pending.envelopeId } });
  });

  it('fails a delivery at once when no client is connected and no HTTP URL is set', async () => {
    await expect(server.deliver('events_api', { event_id: 'Ev4' })).rejects.toThrow(/no bot to deliver to/);
  });
});
