import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAiServer } from '../../../src/model/testing/fake-openai-server.ts';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

describe('FakeOpenAiServer', () => {
  it('streams content and tool calls as SSE that the real client assembles', async () => {
    const { server, url, close } = await startFakeOpenAiServer({
      script: (body) => ({ content: `echo ${String((body['messages'] as { content: string }[])[0]?.content)}`, toolCalls: [{ name: 'lookup', arguments: '{"q":1}' }] }),
    });
    closers.push(close);
    const client = new OpenAI({ apiKey: 'sk-fake-stream', baseURL: url, maxRetries: 0, timeout: 5000, logLevel: 'off' });
    const stream = client.chat.completions.stream({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('echo hi');
    expect(final.choices[0]?.message.tool_calls).toMatchObject([
      { id: 'call_fake_0_0', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } },
    ]);
    expect(final.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(server.chatRequests[0]?.body).toMatchObject({ stream: true });
  });

  it('answers loudly when no script step is left, and for unknown routes', async () => {
    const { server, url, close } = await startFakeOpenAiServer({ script: [{ content: 'one' }] });
    closers.push(close);
    const client = new OpenAI({ apiKey: 'sk-fake-loud', baseURL: url, maxRetries: 0, timeout: 5000, logLevel: 'off' });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a' }] })).resolves.toMatchObject({
      choices: [{ message: { content: 'one' } }],
    });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'b' }] })).rejects.toThrow(
      /no script step left/,
    );
    await expect(client.embeddings.create({ model: 'm', input: 'x' })).rejects.toThrow(/unexpected request POST \/v1\/embeddings/);
    expect(server.unexpected).toHaveLength(2);
  });

  it('lists the configured models and delays a reply', async () => {
    const { url, close } = await startFakeOpenAiServer({ models: ['a', 'b'], script: [{ delayMs: 30, content: 'late' }] });
    closers.push(close);
    const client = new OpenAI({ apiKey: 'sk-fake-models', baseURL: url, maxRetries: 0, timeout: 5000, logLevel: 'off' });
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['a', 'b']);
    const reply = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a' }] });
    expect(reply.choices[0]?.message.content).toBe('late');
  });
});
