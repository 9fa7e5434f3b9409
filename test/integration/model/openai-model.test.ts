import { afterEach, describe, expect, it } from 'vitest';
import { ModelUnavailableError } from '../../../src/shared/errors.ts';
import { OpenAiModel } from '../../../src/model/openai-model.ts';
import type { ModelMessage, ModelToolSpec } from '../../../src/model/port.ts';
import { type FakeOpenAiServerOptions, type FakeOpenAiServer, startFakeOpenAiServer } from '../../../src/model/testing/fake-openai-server.ts';

const API_KEY = 'sk-CANARY-model-test';
const TOOLS: ModelToolSpec[] = [
  {
    name: 'workspace_search',
    description: 'Search the workspace.',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
  },
];

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function setup(options: FakeOpenAiServerOptions, timeoutMs = 5000): Promise<{ model: OpenAiModel; server: FakeOpenAiServer; url: string }> {
  const { server, url, close } = await startFakeOpenAiServer(options);
  closers.push(close);
  return { model: new OpenAiModel({ apiKey: API_KEY, baseUrl: url, model: 'fake-model', timeoutMs }), server, url };
}

/** Asserts the call rejects with a ModelUnavailableError free of the key, and returns it. */
async function failure(promise: Promise<unknown>): Promise<ModelUnavailableError> {
  await expect(promise).rejects.toBeInstanceOf(ModelUnavailableError);
  const error = (await promise.catch((caught: unknown) => caught)) as ModelUnavailableError;
  expect(error.message).not.toContain(API_KEY);
  expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
  return error;
}

describe('OpenAiModel against the fake server (real openai client)', () => {
  it('does a tool call round trip', async () => {
    const { model, server } = await setup({
      script: [
        { toolCalls: [{ id: 'call_abc', name: 'workspace_search', arguments: '{"query":"durable"}' }], usage: { prompt_tokens: 11, completion_tokens: 7 } },
        { content: 'Found it.' },
      ],
    });
    expect(model.name).toBe('openai:fake-model');
    const messages: ModelMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'find durable' },
    ];
    const first = await model.complete({ messages, tools: TOOLS });
    expect(first).toEqual({
      content: null,
      toolCalls: [{ id: 'call_abc', name: 'workspace_search', argumentsJson: '{"query":"durable"}' }],
      usage: { inputTokens: 11, outputTokens: 7 },
    });

    messages.push(
      { role: 'assistant', content: null, toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: 'call_abc', content: '{"matches":[]}' },
    );
    const second = await model.complete({ messages, tools: TOOLS });
    expect(second.content).toBe('Found it.');
    expect(second.toolCalls).toEqual([]);
    expect(second.usage.inputTokens).toBeGreaterThan(0);

    const [req1, req2] = server.chatRequests;
    expect(req1?.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(req1?.body).toMatchObject({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'find durable' },
      ],
      tools: [{ type: 'function', function: { name: 'workspace_search', description: 'Search the workspace.', parameters: TOOLS[0]?.parameters } }],
    });
    expect((req2?.body as { messages: unknown[] }).messages.slice(2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'workspace_search', arguments: '{"query":"durable"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"matches":[]}' },
    ]);
    expect(server.unexpected).toEqual([]);
  });

  it('passes invalid JSON arguments through raw, omits tools when none are offered, and tolerates missing ids and usage', async () => {
    const { model, server } = await setup({
      script: [{ toolCalls: [{ id: null, name: 'workspace_search', arguments: '{"query": "unterminated' }], usage: null }],
    });
    const response = await model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] });
    expect(response.toolCalls).toEqual([{ id: 'call_0_0', name: 'workspace_search', argumentsJson: '{"query": "unterminated' }]);
    expect(response.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(server.chatRequests[0]?.body).not.toHaveProperty('tools');
  });

  it('turns 429 with retry-after into a retryable error with retryAfterMs', async () => {
    const { model } = await setup({
      script: [{ status: 429, retryAfter: 3, body: { error: { message: `Rate limit reached for key ${API_KEY}`, type: 'rate_limit' } } }],
    });
    const error = await failure(model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] }));
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(3000);
    expect(error.code).toBe('model_unavailable');
    expect(error.details).toMatchObject({ status: 429 });
    expect(error.message).toMatch(/429 Rate limit reached for key \[REDACTED\]/);
  });

  it('turns 500 into a retryable error', async () => {
    const { model } = await setup({ script: [{ status: 500 }] });
    const error = await failure(model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] }));
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('turns 401 into a non-retryable error without echoing the key', async () => {
    const { model, server } = await setup({ apiKey: 'sk-the-server-expects-another' });
    const error = await failure(model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] }));
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ status: 401 });
    expect(server.chatRequests).toHaveLength(1);
  });

  it('turns 400 into a non-retryable error', async () => {
    const { model } = await setup({ script: [{ status: 400 }] });
    const error = await failure(model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] }));
    expect(error.retryable).toBe(false);
  });

  it('times out on a hanging server with a retryable error', async () => {
    const { model } = await setup({ script: [{ hang: true }] }, 300);
    const error = await failure(model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] }));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/timed out/);
  });

  it('reports a refused connection as retryable', async () => {
    const { url, close } = await startFakeOpenAiServer();
    await close();
    const model = new OpenAiModel({ apiKey: API_KEY, baseUrl: url, model: 'fake-model', timeoutMs: 2000 });
    const error = await failure(model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [] }));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/cannot connect to the provider/);
  });

  it('stops when the caller aborts, without retrying', async () => {
    const { model } = await setup({ script: [{ hang: true }] });
    const controller = new AbortController();
    const call = model.complete({ messages: [{ role: 'user', content: 'go' }], tools: [], signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await failure(call);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/aborted/);
  });
});
