/**
 * The fake for the model seam: a real `node:http` server on 127.0.0.1 (port 0) that speaks enough
 * of the OpenAI API for the real `openai` client — `GET /v1/models` and `POST /v1/chat/completions`
 * (JSON, or SSE when `stream: true`). Replies come from a script; every request is recorded (body
 * and headers) so tests can assert the prompt, the tools and the `Authorization` header. It fails
 * loudly: a call with no script step left, an unknown route or a throwing script answers 500/404
 * with a message saying so, and is listed in {@link FakeOpenAiServer.unexpected}.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tool call the fake model proposes; `arguments` is sent verbatim (it may be invalid JSON). */
export interface FakeToolCall {
  /** Defaults to `call_fake_<n>_<i>`; `null` omits the id (some compatible servers do). */
  id?: string | null;
  name: string;
  arguments: string;
}

/** Token usage the fake reports; `null` omits the `usage` object. */
export type FakeUsage = { prompt_tokens: number; completion_tokens: number } | null;

/** One scripted answer to a chat completion request. `delayMs` may accompany any reply. */
export type FakeChatReply =
  | { content: string | null; toolCalls?: FakeToolCall[]; usage?: FakeUsage; delayMs?: number }
  | { toolCalls: FakeToolCall[]; content?: string | null; usage?: FakeUsage; delayMs?: number }
  | { status: number; retryAfter?: string | number; body?: unknown; delayMs?: number }
  | { delayMs: number }
  | { hang: true };

/** The parsed JSON body of a chat completion request. */
export type ChatRequestBody = Record<string, unknown>;

/** Produces the reply to the `index`-th chat completion call; `undefined` means "no step left". */
export type FakeChatScript = (body: ChatRequestBody, index: number) => FakeChatReply | undefined | Promise<FakeChatReply | undefined>;

/** One HTTP request the fake received. */
export interface RecordedHttpRequest {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON, or `undefined` for an empty body. */
  body: unknown;
}

/** Settings of {@link FakeOpenAiServer}. */
export interface FakeOpenAiServerOptions {
  /** A list consumed in order, or a function. Defaults to no steps (every chat call is unexpected). */
  script?: readonly FakeChatReply[] | FakeChatScript;
  /** Ids listed by `GET /v1/models`. Default `['fake-model']`. */
  models?: readonly string[];
  /** Replaces the models list with an error answer (e.g. `{ status: 503 }`). */
  modelsReply?: { status: number; body?: unknown };
  /** When set, a request without `Authorization: Bearer <apiKey>` is answered 401. */
  apiKey?: string;
}

/** A started server. */
export interface FakeOpenAiHandle {
  /** Base URL for the SDK, ending in `/v1`. */
  url: string;
  /** Stops the server, cutting any hanging responses. */
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function errorBody(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The fake OpenAI-compatible server. */
export class FakeOpenAiServer {
  /** Every request, in arrival order. */
  readonly requests: RecordedHttpRequest[] = [];
  /** Loud failures: unexpected calls, unknown routes, script errors. Tests should assert it is empty. */
  readonly unexpected: string[] = [];
  private readonly script: FakeChatScript;
  private readonly options: FakeOpenAiServerOptions;
  private server: Server | undefined;
  private chatCalls = 0;

  constructor(options: FakeOpenAiServerOptions = {}) {
    this.options = options;
    const { script } = options;
    if (typeof script === 'function') this.script = script;
    else {
      const steps = [...(script ?? [])];
      this.script = (_body, index) => steps[index];
    }
  }

  /** The recorded `POST /v1/chat/completions` requests. */
  get chatRequests(): RecordedHttpRequest[] {
    return this.requests.filter((request) => request.path === '/v1/chat/completions');
  }

  /** Listens on 127.0.0.1, port 0. */
  async start(): Promise<FakeOpenAiHandle> {
    if (this.server) throw new Error('FakeOpenAiServer: already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const message = `FakeOpenAiServer: handler failed: ${error instanceof Error ? error.message : String(error)}`;
        this.unexpected.push(message);
        if (!res.headersSent) sendJson(res, 500, errorBody(message, 'server_error'));
        else res.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/v1`,
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.closeAllConnections();
          server.close((error) => (error ? reject(error) : resolve()));
        }),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        this.requests.push({ method: req.method ?? '', path, headers, body: raw });
        sendJson(res, 400, errorBody('FakeOpenAiServer: request body is not JSON', 'invalid_request_error'));
        return;
      }
    }
    this.requests.push({ method: req.method ?? '', path, headers, body });

    if (this.options.apiKey !== undefined && headers['authorization'] !== `Bearer ${this.options.apiKey}`) {
      sendJson(res, 401, errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      this.answerModels(res);
      return;
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      await this.answerChat(req, res, (body ?? {}) as ChatRequestBody);
      return;
    }
    const message = `FakeOpenAiServer: unexpected request ${req.method ?? '?'} ${path}`;
    this.unexpected.push(message);
    sendJson(res, 404, errorBody(message, 'invalid_request_error'));
  }

  private answerModels(res: ServerResponse): void {
    const failure = this.options.modelsReply;
    if (failure) {
      sendJson(res, failure.status, failure.body ?? errorBody(`FakeOpenAiServer: scripted ${failure.status}`, 'server_error'));
      return;
    }
    const ids = this.options.models ?? ['fake-model'];
    sendJson(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })) });
  }

  private async answerChat(req: IncomingMessage, res: ServerResponse, body: ChatRequestBody): Promise<void> {
    const index = this.chatCalls;
    this.chatCalls += 1;
    let reply: FakeChatReply | undefined;
    try {
      reply = await this.script(body, index);
    } catch (error) {
      const message = `FakeOpenAiServer: script failed on chat call #${index}: ${error instanceof Error ? error.message : String(error)}`;
      this.unexpected.push(message);
      sendJson(res, 500, errorBody(message, 'server_error'));
      return;
    }
    if (reply === undefined) {
      const message = `FakeOpenAiServer: unexpected chat completion call #${index}: no script step left`;
      this.unexpected.push(message);
      sendJson(res, 500, errorBody(message, 'server_error'));
      return;
    }
    if ('hang' in reply) return; // Never answer; close() cuts the connection.
    if (reply.delayMs !== undefined && reply.delayMs > 0) {
      const delay = reply.delayMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        req.socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (req.socket.destroyed) return;
    }
    if ('status' in reply) {
      const headers: Record<string, string> = reply.retryAfter === undefined ? {} : { 'retry-after': String(reply.retryAfter) };
      sendJson(res, reply.status, reply.body ?? errorBody(`FakeOpenAiServer: scripted ${reply.status}`, reply.status >= 500 ? 'server_error' : 'invalid_request_error'), headers);
      return;
    }
    const content = 'content' in reply ? (reply.content ?? null) : null;
    const toolCalls = 'toolCalls' in reply ? (reply.toolCalls ?? []) : [];
    const calls = toolCalls.map((call, i) => ({
      ...(call.id === null ? {} : { id: call.id ?? `call_fake_${index}_${i}` }),
      type: 'function' as const,
      function: { name: call.name, arguments: call.arguments },
    }));
    const usage =
      'usage' in reply && reply.usage !== undefined
        ? reply.usage
        : {
            prompt_tokens: tokens(JSON.stringify(body['messages'] ?? [])),
            completion_tokens: tokens((content ?? '') + toolCalls.map((call) => call.name + call.arguments).join('')),
          };
    const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
    const model = typeof body['model'] === 'string' ? body['model'] : 'fake-model';
    const id = `chatcmpl-fake-${index}`;
    const usageObject = usage === null ? undefined : { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };

    if (body['stream'] === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const chunk = (delta: unknown, finish: string | null, extra: Record<string, unknown> = {}): void => {
        const choices = delta === undefined ? [] : [{ index: 0, delta, finish_reason: finish, logprobs: null }];
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model, choices, ...extra })}\n\n`);
      };
      chunk({ role: 'assistant', content: '' }, null);
      if (content) chunk({ content }, null);
      calls.forEach((call, i) => chunk({ tool_calls: [{ index: i, ...call }] }, null));
      chunk({}, finishReason);
      const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
      if (streamOptions?.include_usage === true && usageObject) chunk(undefined, null, { usage: usageObject });
      res.end('data: [DONE]\n\n');
      return;
    }

    const message: Record<string, unknown> = { role: 'assistant', content, refusal: null };
    if (calls.length > 0) message['tool_calls'] = calls;
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: 0,
      model,
      choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
      ...(usageObject ? { usage: usageObject } : {}),
    });
  }
}

/** Starts a {@link FakeOpenAiServer}; returns it with its URL and `close`. */
export async function startFakeOpenAiServer(
  options: FakeOpenAiServerOptions = {},
): Promise<{ server: FakeOpenAiServer; url: string; close: () => Promise<void> }> {
  const server = new FakeOpenAiServer(options);
  const handle = await server.start();
  return { server, url: handle.url, close: handle.close };
}
