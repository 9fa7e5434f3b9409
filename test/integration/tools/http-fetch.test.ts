/**
 * `http_fetch` against a real node:http server on 127.0.0.1 (port 0): success, errors and their
 * retryability, redirects not followed, the byte cap, and the time limits (tool timeout and the
 * run's AbortSignal).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, ToolError } from '../../../src/shared/errors.ts';
import { createHttpFetchTool } from '../../../src/tools/builtins/http-fetch.ts';
import { ToolRegistry } from '../../../src/tools/registry.ts';
import type { ToolContext } from '../../../src/tools/types.ts';

let server: Server;
let base: string;
const hanging = new Set<ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('hello from the runbook');
        return;
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'green' }));
        return;
      case '/big':
        res.writeHead(200, { 'content-type': 'text/plain' });
        // Several chunks, far over the cap, ending in multi-byte characters.
        for (let i = 0; i < 50; i++) res.write('é'.repeat(1000));
        res.end();
        return;
      case '/image':
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        return;
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not here');
        return;
      case '/busy':
        res.writeHead(503, { 'retry-after': '2' });
        res.end();
        return;
      case '/limited':
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
        return;
      case '/redirect':
        res.writeHead(302, { location: 'http://evil.example.net/steal' });
        res.end();
        return;
      case '/hang':
        hanging.add(res);
        return;
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        hanging.add(res);
        return;
      default:
        res.writeHead(500);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function ctx(signal: AbortSignal = new AbortController().signal): ToolContext {
  return { runId: 'run1', stepId: 's1', idempotencyKey: 'run1:s1', role: 'researcher', signal };
}

function tool(options: Parameters<typeof createHttpFetchTool>[0] = {}) {
  return createHttpFetchTool(options);
}

describe('http_fetch', () => {
  it('returns {url, status, contentType, body} for a 2xx', async () => {
    const result = await tool().handler({ url: `${base}/ok` }, ctx());
    expect(JSON.parse(result.content)).toEqual({
      url: `${base}/ok`,
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: 'hello from the runbook',
      truncated: false,
    });
  });

  it('returns JSON bodies as text', async () => {
    const result = await tool().handler({ url: `${base}/json` }, ctx());
    expect(JSON.parse(result.content)).toMatchObject({ status: 200, body: '{"status":"green"}' });
  });

  it('declares its URL for policy', () => {
    expect(tool().targets?.({ url: `${base}/ok` })).toEqual({ urls: [`${base}/ok`] });
  });

  it('cuts the body at the byte cap without a broken character', async () => {
    const result = await tool().handler({ url: `${base}/big`, maxBytes: 1001 }, ctx());
    const body = JSON.parse(result.content) as { body: string; truncated: boolean };
    expect(body.truncated).toBe(true);
    expect(Buffer.byteLength(body.body)).toBeLessThanOrEqual(1001);
    expect(body.body).toBe('é'.repeat(500));
  });

  it('applies the default cap from the options', async () => {
    const result = await tool({ maxBytes: 100 }).handler({ url: `${base}/big` }, ctx());
    expect(Buffer.byteLength((JSON.parse(result.content) as { body: string }).body)).toBeLessThanOrEqual(100);
  });

  it('does not return non-text bodies', async () => {
    const result = await tool().handler({ url: `${base}/image` }, ctx());
    expect(JSON.parse(result.content)).toMatchObject({ status: 200, body: '', note: expect.stringMatching(/non-text/) });
  });

  it('a 404 is a non-retryable ToolError', async () => {
    await expect(tool().handler({ url: `${base}/missing` }, ctx())).rejects.toMatchObject({
      code: ErrorCode.ToolFailed,
      retryable: false,
      message: expect.stringMatching(/HTTP 404/),
    });
  });

  it('a 503 is retryable and carries Retry-After', async () => {
    await expect(tool().handler({ url: `${base}/busy` }, ctx())).rejects.toMatchObject({
      retryable: true,
      retryAfterMs: 2000,
      message: expect.stringMatching(/HTTP 503/),
    });
  });

  it('a 429 is retryable', async () => {
    await expect(tool().handler({ url: `${base}/limited` }, ctx())).rejects.toMatchObject({ retryable: true, retryAfterMs: 1000 });
  });

  it('does not follow redirects (they could leave the allowed hosts)', async () => {
    await expect(tool().handler({ url: `${base}/redirect` }, ctx())).rejects.toThrow(/redirected \(HTTP 302\) to "http:\/\/evil\.example\.net\/steal"/);
  });

  it('a refused connection is a retryable ToolError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(tool().handler({ url: `http://127.0.0.1:${port}/` }, ctx())).rejects.toMatchObject({
      retryable: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('times out a server that never answers', async () => {
    await expect(tool({ timeoutMs: 150 }).handler({ url: `${base}/hang` }, ctx())).rejects.toMatchObject({
      code: ErrorCode.ToolTimeout,
      retryable: true,
    });
  });

  it('times out a body that never ends', async () => {
    await expect(tool({ timeoutMs: 150 }).handler({ url: `${base}/slow-body` }, ctx())).rejects.toMatchObject({
      code: ErrorCode.ToolTimeout,
    });
  });

  it("stops when the run's signal aborts, rethrowing a BotError reason as is", async () => {
    const controller = new AbortController();
    const reason = new ToolError('tool timed out (runner)', { code: ErrorCode.ToolTimeout, retryable: true });
    const pending = tool().handler({ url: `${base}/hang` }, ctx(controller.signal));
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
  });

  it('a plain abort is a non-retryable cancellation', async () => {
    const controller = new AbortController();
    const pending = tool().handler({ url: `${base}/hang` }, ctx(controller.signal));
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/cancelled/) });
  });

  it('only http(s) URLs pass validation', () => {
    const registry = new ToolRegistry();
    registry.register(tool());
    for (const url of ['file:///etc/passwd', 'ftp://x.example/a', 'javascript:alert(1)', 'not a url']) {
      expect(registry.validateArgs('http_fetch', JSON.stringify({ url }), 4096)).toMatchObject({ ok: false });
    }
    expect(registry.validateArgs('http_fetch', JSON.stringify({ url: `${base}/ok` }), 4096)).toMatchObject({ ok: true });
    expect(registry.validateArgs('http_fetch', JSON.stringify({ url: `${base}/ok`, maxBytes: 2_000_000 }), 4096)).toMatchObject({ ok: false });
  });
});
