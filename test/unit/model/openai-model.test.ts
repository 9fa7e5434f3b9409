import { describe, expect, it } from 'vitest';
import { retryAfterMsFrom, toOpenAiMessages, toOpenAiTools } from '../../../src/model/openai-model.ts';

describe('openai mapping', () => {
  it('maps messages, omitting empty tool_calls and substituting {} for absent arguments', () => {
    expect(
      toOpenAiMessages([
        { role: 'system', content: 's' },
        { role: 'user', content: 'u' },
        { role: 'assistant', content: null, toolCalls: [] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 't', argumentsJson: null }, { id: 'c2', name: 't', argumentsJson: '{bad' }] },
        { role: 'tool', toolCallId: 'c1', content: 'ERROR: no' },
      ]),
    ).toEqual([
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
      { role: 'assistant', content: '' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 't', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 't', arguments: '{bad' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'ERROR: no' },
    ]);
  });

  it('maps tool specs to function tools', () => {
    expect(toOpenAiTools([{ name: 'a', description: 'd', parameters: { type: 'object' } }])).toEqual([
      { type: 'function', function: { name: 'a', description: 'd', parameters: { type: 'object' } } },
    ]);
  });

  it('reads retry-after-ms, retry-after seconds and HTTP dates', () => {
    expect(retryAfterMsFrom(new Headers({ 'retry-after-ms': '250.5' }))).toBe(251);
    expect(retryAfterMsFrom(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMsFrom(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), () => now)).toBe(5000);
    expect(retryAfterMsFrom(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMsFrom(new Headers())).toBeUndefined();
    expect(retryAfterMsFrom(undefined)).toBeUndefined();
  });
});
