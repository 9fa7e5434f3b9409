/**
 * The local workspace's UI routes over real HTTP on 127.0.0.1 (no bot needed): the page and its
 * files with a strict CSP, per-user snapshots, the SSE change feed (live, resumable, filtered per
 * user), refused app calls on the feed, and the guards that keep other web pages out (Host,
 * Origin, JSON-only writes).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSlack, type LocalSlack } from '../../../src/local-workspace/server.ts';
import { mountWorkspaceUi, type WorkspaceUi } from '../../../src/local-workspace/ui/ui-routes.ts';

const BOT_TOKEN = 'xoxb-ui-routes-test';

describe('local workspace UI routes', () => {
  let server: LocalSlack;
  let ui: WorkspaceUi;

  beforeAll(async () => {
    server = await startLocalSlack({ botToken: BOT_TOKEN, appToken: 'xapp-ui-routes-test', grantedScopes: ['chat:write', 'reactions:write'] });
    ui = mountWorkspaceUi(server);
  });

  afterAll(async () => {
    await server.close();
  });

  /** A raw request, so tests control the Host header (fetch does not allow it). */
  function raw(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/ui/api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('serves the page with a strict CSP, its files, and nothing else', async () => {
    const page = await fetch(ui.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    for (const file of ['app.js', 'blocks.js', 'mrkdwn.js', 'style.css', 'favicon.svg']) expect((await fetch(`${server.url}/ui/${file}`)).status).toBe(200);
    for (const path of ['/ui/../server.ts', '/ui/__proto__', '/ui/ui-routes.ts', '/ui/%2e%2e/server.ts']) expect((await fetch(`${server.url}${path}`)).status).toBe(404);
  });

  it('sends browsers opening / to the UI; other clients keep the health JSON', async () => {
    const browser = await fetch(server.url, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/ui/');
    expect(await (await fetch(server.url)).json()).toMatchObject({ ok: true, team_id: 'T_LOCAL' });
  });

  it('refuses a foreign Host (DNS rebinding), a foreign Origin and non-JSON writes', async () => {
    expect((await raw('/ui/', { headers: { host: `evil.example:${server.port}` } })).status).toBe(421);
    expect((await raw('/ui/api/snapshot?user=U_REQUESTER', { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
    const before = server.state.history('C_GENERAL').length;
    const foreign = await post('messages', { user: 'U_REQUESTER', channel: 'C_GENERAL', text: 'hi' }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const form = await fetch(`${server.url}/ui/api/messages`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ user: 'U_REQUESTER', channel: 'C_GENERAL', text: 'hi' }) });
    expect(form.status).toBe(415);
    const extra = await post('messages', { user: 'U_REQUESTER', channel: 'C_GENERAL', text: 'hi', botId: 'B_BOT' });
    expect(extra.status).toBe(400);
    expect(server.state.history('C_GENERAL')).toHaveLength(before);
  });

  it("gives each user their own snapshot: someone else's ephemerals and modals are not in it", async () => {
    server.state.postEphemeral({ channel: 'C_OPS', user: 'U_APPROVER1', text: 'for avery only' });
    const riley = (await (await fetch(`${server.url}/ui/api/snapshot?user=U_REQUESTER`)).json()) as { snapshot: { ephemerals: unknown[]; users: unknown[] } };
    const avery = (await (await fetch(`${server.url}/ui/api/snapshot?user=U_APPROVER1`)).json()) as { snapshot: { ephemerals: { text: string }[] } };
    expect(riley.snapshot.ephemerals).toEqual([]);
    expect(riley.snapshot.users).toHaveLength(6);
    expect(avery.snapshot.ephemerals.map((e) => e.text)).toEqual(['for avery only']);
    expect((await fetch(`${server.url}/ui/api/snapshot?user=U_NOBODY`)).status).toBe(400);
  });

  it('streams changes over SSE, filtered per user, resumable from a sequence number', async () => {
    const controller = new AbortController();
    const since = server.state.lastSeq;
    const res = await fetch(`${server.url}/ui/api/events?user=U_REQUESTER&since=${since}`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp): Promise<void> => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${String(pattern)}:\n${text}`);
        text += value;
      }
    };
    await until(/retry: 1000/);
    expect(ui.streamCount).toBeGreaterThan(0);

    // Posted through the UI API: the message, then the change on the stream.
    const posted = await post('messages', { user: 'U_REQUESTER', channel: 'C_GENERAL', text: 'hello from the page' });
    // No app is connected here: the message is posted all the same, and the page is told.
    expect(await posted.json()).toMatchObject({ ok: true, delivered: false });
    server.state.postEphemeral({ channel: 'C_GENERAL', user: 'U_APPROVER2', text: 'not for riley' });
    server.state.postEphemeral({ channel: 'C_GENERAL', user: 'U_REQUESTER', text: 'for riley' });
    await until(/for riley/);
    expect(text).toContain('"type":"message_posted"');
    expect(text).toContain('hello from the page');
    expect(text).not.toContain('not for riley');
    expect(text).toMatch(/^id: \d+$/m);
    controller.abort();

    // A reconnect from an old position replays what it missed; Last-Event-ID (what EventSource
    // sends) wins over the `since` of the first connection.
    const again = new AbortController();
    const replay = await fetch(`${server.url}/ui/api/events?user=U_REQUESTER&since=0`, { signal: again.signal, headers: { 'last-event-id': String(since) } });
    const replayReader = replay.body!.pipeThrough(new TextDecoderStream()).getReader();
    let replayed = '';
    while (!replayed.includes('for riley')) {
      const { value, done } = await replayReader.read();
      if (done) break;
      replayed += value;
    }
    again.abort();
    expect(replayed).toContain('hello from the page');
    expect(replayed).not.toContain('for avery only');
    expect(replayed).not.toContain('not for riley');
  }, 20_000);

  it('puts app calls refused for their content on the feed as app_error (what the page shows)', async () => {
    const seq = server.state.lastSeq;
    const res = await fetch(`${server.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C_OPS', thread_ts: '1.000001', text: 'x', blocks: [{ type: 'divider', bogus: true }] }),
    });
    expect(await res.json()).toMatchObject({ ok: false, error: 'invalid_blocks' });
    const changes = server.state.changesSince(seq) ?? [];
    expect(changes.map((c) => c.type)).toEqual(['app_error']);
    expect(changes[0]).toMatchObject({ error: { method: 'chat.postMessage', error: 'invalid_blocks', channel: 'C_OPS', threadTs: '1.000001' } });
    expect(server.state.snapshot().appErrors.at(-1)).toMatchObject({ error: 'invalid_blocks' });
    // A call refused for another reason (an unknown channel) is not a content error.
    await fetch(`${server.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C_NOPE', text: 'x' }),
    });
    expect(server.state.changesSince(seq)).toHaveLength(1);
  });
});
